"""The command line: exit codes 0/1/2/3 of every core command, the stdout/stderr split, report
formats (text, json, github), nothing written on error, --check, colour and --help."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler import api, explainer
from tests.conftest import REPO, offer
from tests.test_resolver import TEAM, line_of, repo_files

Cli = Callable[..., Any]
ESCAPE = re.compile(r"\x1b\[")
F_ENV = "policies/environments/f.yaml"


def good_files() -> dict[str, str]:
    """Two environments (e, f) over one catalog; every command succeeds on them."""
    files = repo_files(
        [offer("p", "x/a", price={"input": 1, "output": 1}), offer("p", "y/b")],
        tier="fallbacks: 1",
    )
    files[F_ENV] = files["policies/environments/e.yaml"].replace("environment: e", "environment: f")
    return files


def bad_team(files: dict[str, str]) -> dict[str, str]:
    return {**files, TEAM: files[TEAM].replace("tier: t", "tierr: t")}


@pytest.fixture
def good(make_project: Callable[..., Path]) -> Path:
    return make_project(good_files())


@pytest.fixture
def bad(make_project: Callable[..., Path]) -> Path:
    return make_project(bad_team(good_files()))


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime of every file under rendered/."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted((root / "rendered").rglob("*"))
        if p.is_file()
    }


# ------------------------------------------------------------------------ exit codes

SUCCESS = [
    pytest.param(("validate",), id="validate"),
    pytest.param(("compile",), id="compile"),
    pytest.param(("explain", "a"), id="explain"),
    pytest.param(("explain", "a", "--env", "f", "--format", "json"), id="explain-json"),
    pytest.param(("compile", "--env", "e", "--upgrade", "a"), id="compile-upgrade-agent"),
]


@pytest.mark.parametrize("args", SUCCESS)
def test_success_exits_0_with_results_on_stdout(
    args: tuple[str, ...], good: Path, cli: Cli
) -> None:
    result = cli(*args, "--root", str(good))
    assert result.exit_code == 0, result.stderr
    assert result.stdout
    assert result.stderr == ""


USER_ERRORS = [
    pytest.param(("validate",), "bad", id="validate-bad-yaml-key"),
    pytest.param(("compile",), "bad", id="compile-bad-yaml-key"),
    pytest.param(("compile", "--check"), "bad", id="check-bad-yaml-key"),
    pytest.param(("explain", "a"), "bad", id="explain-bad-yaml-key"),
    pytest.param(("explain", "nobody"), "good", id="explain-unknown-agent"),
    pytest.param(("compile", "--env", "nowhere"), "good", id="unknown-environment"),
    pytest.param(("compile", "--upgrade", "nobody"), "good", id="upgrade-unknown-agent"),
    pytest.param(("compile", "a"), "good", id="agent-without-upgrade"),
    pytest.param(("compile", "--bogus"), "good", id="unknown-option"),
    pytest.param(("schema", "--kind", "nope"), "good", id="schema-bad-choice"),
]


@pytest.mark.parametrize(("args", "repo"), USER_ERRORS)
def test_user_error_exits_2_with_diagnostics_on_stderr(
    args: tuple[str, ...], repo: str, request: pytest.FixtureRequest, cli: Cli
) -> None:
    root: Path = request.getfixturevalue(repo)
    extra = () if args[0] == "schema" else ("--root", str(root))
    result = cli(*args, *extra)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr


def test_bad_repo_diagnostic_is_path_line_col_code(bad: Path, cli: Cli) -> None:
    result = cli("validate", "--root", str(bad))
    line = line_of(bad_team(good_files()), TEAM, "tierr")
    assert result.stderr.startswith(f"{TEAM}:{line}:5: error[PC101]: ")
    assert str(bad) not in result.stderr  # paths are repo-relative


def test_unsatisfiable_explain_exits_2_but_still_explains(
    make_project: Callable[..., Path], cli: Cli
) -> None:
    root = make_project(repo_files([offer("p", "x/a")], tier="requires: [vision]"))
    result = cli("explain", "a", "--root", str(root))
    assert result.exit_code == 2
    assert "p/x/a" in result.stdout  # the rejected offer is listed


def test_schema_prints_json_and_exits_0(cli: Cli) -> None:
    result = cli("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    team = json.loads(cli("schema", "--kind", "team").stdout)
    assert "agents" in team["properties"]


@pytest.mark.parametrize(
    ("args", "target"),
    [
        pytest.param(("compile",), (api, "compile_project"), id="compile"),
        pytest.param(("validate",), (api, "compile_project"), id="validate"),
        pytest.param(("explain", "a"), (explainer, "explain"), id="explain"),
    ],
)
def test_internal_error_exits_3_with_traceback(
    args: tuple[str, ...],
    target: tuple[Any, str],
    good: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("boom 42")

    monkeypatch.setattr(*target, explode)
    result = cli(*args, "--root", str(good))
    assert result.exit_code == 3
    assert "internal error" in result.stderr
    assert "please report" in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: boom 42" in result.stderr
    assert result.stdout == ""


# ------------------------------------------------------------------------ --check, writing


def test_check_exits_1_when_stale_and_writes_nothing(good: Path, cli: Cli) -> None:
    result = cli("compile", "--check", "--root", str(good))
    assert result.exit_code == 1
    assert "rendered/e/openclaw.json" in result.stdout
    assert not (good / "rendered").exists()


def test_check_exits_0_when_up_to_date(good: Path, cli: Cli) -> None:
    assert cli("compile", "--root", str(good)).exit_code == 0
    before = snapshot(good)
    result = cli("compile", "--check", "--root", str(good))
    assert result.exit_code == 0, result.stdout
    assert snapshot(good) == before


def test_check_after_a_policy_change_exits_1_and_keeps_old_files(good: Path, cli: Cli) -> None:
    assert cli("compile", "--root", str(good)).exit_code == 0
    before = snapshot(good)
    team = good / TEAM
    team.write_text(team.read_text() + "    thinking: high\n")
    result = cli("compile", "--check", "--root", str(good))
    assert result.exit_code == 1
    assert snapshot(good) == before


def test_compile_rewrites_only_what_changed(good: Path, cli: Cli) -> None:
    assert cli("compile", "--root", str(good)).exit_code == 0
    before = snapshot(good)
    result = cli("compile", "--root", str(good))
    assert result.exit_code == 0
    assert snapshot(good) == before  # same bytes, same mtimes: nothing rewritten


def test_nothing_written_when_one_environment_fails(good: Path, cli: Cli) -> None:
    assert cli("compile", "--root", str(good)).exit_code == 0
    before = snapshot(good)
    # e changes (a new agent) while f becomes unsatisfiable: neither may be written
    team = good / TEAM
    team.write_text(team.read_text() + "  b:\n    tier: t\n")
    env = good / F_ENV
    env.write_text(env.read_text() + "tiers:\n  t: {requires: [audio]}\n")
    result = cli("compile", "--root", str(good))
    assert result.exit_code == 2
    assert "PC201" in result.stderr
    assert snapshot(good) == before
    assert sorted(p.name for p in (good / "rendered/e").iterdir()) == [
        "clawpolicy.lock.json",
        "openclaw.json",
    ]


def test_strict_turns_a_shortfall_warning_into_exit_2(
    make_project: Callable[..., Path], cli: Cli
) -> None:
    root = make_project(repo_files([offer("p", "x/a")], tier="fallbacks: 2"))
    lenient = cli("compile", "--root", str(root), "--check")
    assert lenient.exit_code == 1  # compiles, would write
    assert "warning[PC203]" in lenient.stderr
    strict = cli("compile", "--root", str(root), "--strict")
    assert strict.exit_code == 2
    assert "error[PC203]" in strict.stderr
    assert not (root / "rendered").exists()


# ------------------------------------------------------------------------ formats


def test_compile_json_parses(good: Path, cli: Cli) -> None:
    result = cli("compile", "--root", str(good), "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert (report["format"], report["ok"], report["changed"]) == ("clawpolicy-compile", True, True)
    [agent] = report["environments"]["e"]["agents"]
    assert agent["chain"] == {"primary": "p/x/a", "fallbacks": ["p/y/b"], "monthly_cost": None}
    assert {"path": "rendered/f/openclaw.json", "status": "changed"} in report["files"]


@pytest.mark.parametrize("command", ["validate", "compile"])
def test_json_failure_report_parses(command: str, bad: Path, cli: Cli) -> None:
    result = cli(command, "--root", str(bad), "--format", "json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False
    [diag] = report["diagnostics"]
    line = line_of(bad_team(good_files()), TEAM, "tierr")
    assert (diag["code"], diag["path"], diag["line"]) == ("PC101", TEAM, line)


def test_explain_json_parses(good: Path, cli: Cli) -> None:
    result = cli("explain", "a", "--root", str(good), "--format", "json")
    report = json.loads(result.stdout)
    assert (report["format"], report["agent"]) == ("clawpolicy-explain", "a")
    assert list(report["environments"]) == ["e", "f"]
    assert report["environments"]["e"]["chain"]["fallbacks"] == ["p/y/b"]


@pytest.mark.parametrize("command", ["validate", "compile"])
def test_github_format_annotates_file_and_line(command: str, bad: Path, cli: Cli) -> None:
    result = cli(command, "--root", str(bad), "--format", "github")
    assert result.exit_code == 2
    line = line_of(bad_team(good_files()), TEAM, "tierr")
    assert result.stderr.startswith(f"::error file={TEAM},line={line},")
    assert "PC101" in result.stderr


def test_github_format_annotates_warnings(make_project: Callable[..., Path], cli: Cli) -> None:
    files = repo_files([offer("p", "x/a")], tier="fallbacks: 2")
    result = cli("validate", "--root", str(make_project(files)), "--format", "github")
    assert result.exit_code == 0
    assert f"::warning file={TEAM},line={line_of(files, TEAM, '  a:')}," in result.stderr


def test_max_errors_caps_the_list(make_project: Callable[..., Path], cli: Cli) -> None:
    agents = "".join(f"  a{i}:\n    tierr: t\n" for i in range(5))
    root = make_project(repo_files([offer("p", "x/a")], agents=agents))
    result = cli("validate", "--root", str(root), "--max-errors", "2")
    assert result.exit_code == 2
    assert result.stderr.count("error[PC101]") == 2
    assert "... and 3 more" in result.stderr


def test_quiet_prints_only_problems(good: Path, cli: Cli) -> None:
    result = cli("compile", "--root", str(good), "--quiet")
    assert result.exit_code == 0
    assert (result.stdout, result.stderr) == ("", "")


# ------------------------------------------------------------------------ colour


def _stderr_on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run the CLI with stderr on a pseudo-terminal; return what it wrote there."""
    master, slave = os.openpty()
    try:
        subprocess.run(
            [sys.executable, "-m", "compiler", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=slave,
            env={**env, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO)},
            timeout=60,
            check=False,
        )
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return b"".join(chunks).decode()


@pytest.mark.parametrize(
    ("flag", "env", "colored"),
    [
        pytest.param([], {}, True, id="terminal-colours"),
        pytest.param(["--no-color"], {}, False, id="no-color-flag"),
        pytest.param([], {"NO_COLOR": "1"}, False, id="NO_COLOR"),
        # no-color.org: only a NO_COLOR that is present and not empty turns colour off
        pytest.param([], {"NO_COLOR": ""}, True, id="NO_COLOR-empty"),
        pytest.param([], {"TERM": "dumb"}, False, id="TERM-dumb"),
        pytest.param([], {"TERM": "dumb", "FORCE_COLOR": "1"}, True, id="FORCE_COLOR-beats-dumb"),
        pytest.param(["--no-color"], {"FORCE_COLOR": "1"}, False, id="no-color-beats-FORCE"),
        pytest.param([], {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, id="NO_COLOR-beats-FORCE"),
    ],
)
def test_colour_only_on_a_terminal_without_no_color(
    flag: list[str], env: dict[str, str], colored: bool, bad: Path
) -> None:
    text = _stderr_on_a_terminal(["validate", "--root", str(bad), *flag], env)
    assert "PC101" in text
    assert bool(ESCAPE.search(text)) is colored


def test_no_colour_when_not_a_terminal(bad: Path, cli: Cli) -> None:
    result = cli("validate", "--root", str(bad))
    assert not ESCAPE.search(result.stderr)


@pytest.mark.parametrize(
    ("value", "colored"),
    [pytest.param("1", True, id="FORCE_COLOR"), pytest.param("", False, id="FORCE_COLOR-empty")],
)
def test_force_color_colours_off_a_terminal(value: str, colored: bool, bad: Path, cli: Cli) -> None:
    result = cli("validate", "--root", str(bad), env={"FORCE_COLOR": value})
    assert "PC101" in result.stderr
    assert bool(ESCAPE.search(result.stderr)) is colored


# ------------------------------------------------------------------------ help


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="main"),
        pytest.param(("validate",), id="validate"),
        pytest.param(("compile",), id="compile"),
        pytest.param(("explain",), id="explain"),
        pytest.param(("schema",), id="schema"),
    ],
)
def test_help_has_examples(args: tuple[str, ...], cli: Cli) -> None:
    result = cli(*args, "--help")
    assert result.exit_code == 0
    examples = result.stdout.split("Examples:", 1)
    assert len(examples) == 2, result.stdout
    assert "clawpolicy " in examples[1]


def _help_texts(group: Any, prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for name, command in getattr(group, "commands", {}).items():
        found.append((f"{prefix}{name}", command.epilog or ""))
        found += _help_texts(command, f"{prefix}{name} ")
    return found


def test_jq_examples_in_help_name_keys_the_json_has() -> None:
    """`catalog diff ... | jq '.added'` printed nothing: the key is `.offers.added`."""
    from compiler.cli.main import main_group

    examples = [
        (command, match)
        for command, text in _help_texts(main_group)
        for match in re.findall(r"\| jq '(\.[\w.]+)", text)
    ]
    assert examples, "no jq example found"
    for command, path in examples:
        schema = json.loads(
            (REPO / f"docs/json/{command.replace(' ', '-')}.schema.json").read_text()
        )
        for key in path.strip(".").split("."):
            properties = schema.get("properties", {})
            assert key in properties, f"{command}: jq '{path}': no key {key!r}"
            schema = properties[key]
