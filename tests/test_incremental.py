"""Incremental compile (compiler.output.incremental): a compile of unchanged inputs replays the
record of the last one, resolving and rendering nothing, and prints exactly what a full compile
prints (warnings, files, summary, JSON, exit code), in every mode: compile, --check, validate,
--strict. Anything that could change the result (a policy, a catalog, a hand-edited output, the
compiler, the environments selected, --upgrade) compiles in full; a corrupt record too.

Each test proves the replay by making the stages explode (`api.compile_project` raises): a
replayed run never calls them. The reference output is a full compile with records turned off.
"""

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import api
from compiler.cli.main import main_group
from compiler.output import incremental
from tests.conftest import TEMPLATE, catalog_text, offer, write_tree
from tests.support.randomorgs import org_files
from tests.test_resolver import CATALOG, repo_files

Run = tuple[int, str, str]
MODES = [
    pytest.param(("compile",), id="compile"),
    pytest.param(("compile", "--check"), id="check"),
    pytest.param(("validate",), id="validate"),
    pytest.param(("compile", "--format", "json"), id="compile-json"),
    pytest.param(("validate", "--format", "json"), id="validate-json"),
    pytest.param(("compile", "--check", "--format", "github"), id="check-github"),
    pytest.param(("compile", "--strict"), id="strict"),
    pytest.param(("compile", "--env", "e"), id="one-env"),
]
OFFERS = [
    offer("p", "x/a", price={"input": 1, "output": 1}),
    offer("p", "x/b", price={"input": 2, "output": 2}),
    offer("p", "y/c", price={"input": 3, "output": 3}),
]


def _files() -> dict[str, str]:
    """Two environments; agent a asks for 2 fallbacks of other vendors and gets 1 (PC203)."""
    files = repo_files(OFFERS, tier="fallbacks: 2\ndiversity: vendor")
    files["policies/environments/f.yaml"] = files["policies/environments/e.yaml"].replace(
        "environment: e", "environment: f"
    )
    return files


def run(root: Path, *args: str) -> Run:
    result = CliRunner().invoke(main_group, [*args, "--root", str(root)], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@contextmanager
def stages_explode() -> Iterator[None]:
    """Within: any compile that resolves fails the test (exit 3); only a replay succeeds."""

    def explode(*_: Any, **__: Any) -> Any:
        raise AssertionError("resolved although the inputs are unchanged")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api, "compile_project", explode)
        yield


@contextmanager
def records_off() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLAWPOLICY_CACHE_DIR", "")
        yield


@pytest.fixture(autouse=True)
def records_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in incremental.CI_VARIABLES:  # records are off in CI, but these tests need them
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def repo(make_project: Callable[..., Path]) -> Path:
    root = make_project(_files())
    assert run(root, "compile")[0] == 0
    return root


def _edit(relpath: str, old: str, new: str) -> Callable[[Path, Any], None]:
    def change(root: Path, _: Any) -> None:
        path = root / relpath
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")

    return change


def _replays_as_full(root: Path, *args: str) -> Run:
    """Run `args` once to keep a record, then replayed; both print what a full run prints."""
    with records_off():
        full = run(root, *args)
    run(root, *args)
    with stages_explode():
        replayed = run(root, *args)
    assert replayed == full
    return replayed


@pytest.mark.parametrize("args", MODES)
def test_unchanged_inputs_replay_what_a_full_compile_prints(
    args: tuple[str, ...], repo: Path
) -> None:
    code, stdout, stderr = _replays_as_full(repo, *args)
    expected = 2 if "--strict" in args else 0  # --strict: the PC203 warning is an error
    assert code == expected
    assert "PC203" in stdout + stderr


def test_compile_then_check_replays_without_resolving(repo: Path) -> None:
    """The record a writing compile keeps describes the repository as written."""
    (repo / "policies/teams/team.yaml").write_text(
        (repo / "policies/teams/team.yaml")
        .read_text()
        .replace("tier: t", "tier: t\n    fallbacks: 1")
    )
    assert run(repo, "compile")[0] == 0  # writes new outputs
    with stages_explode():
        code, stdout, _ = run(repo, "compile", "--check")
    assert code == 0
    assert "0 file(s) out of date, 4 unchanged" in stdout


def test_a_replaced_locked_choice_is_reported_once_then_the_record_is_the_new_lock(
    repo: Path,
) -> None:
    (repo / CATALOG).write_text(catalog_text([{**OFFERS[0], "deprecated": True}, *OFFERS[1:]]))
    code, _, stderr = run(repo, "compile")
    assert code == 0
    assert "PC207" in stderr  # x/a was locked and is retired: replaced
    with records_off():
        full = run(repo, "compile")
    assert "PC207" not in full[2]  # the new lock holds the replacement
    with stages_explode():
        assert run(repo, "compile") == full


def test_a_hand_edited_output_is_never_masked(repo: Path) -> None:
    config = repo / "rendered/e/openclaw.json"
    written = config.read_text()
    config.write_text(written.replace('"gateway"', '"gateway-edited"'))
    code, stdout, _ = run(repo, "compile", "--check")
    assert code == 1
    assert "rendered/e/openclaw.json" in stdout
    assert run(repo, "compile")[0] == 0
    assert config.read_text() == written


CHANGES = [
    pytest.param(_edit("policies/tiers.yaml", "fallbacks: 2", "fallbacks: 1"), id="policy"),
    pytest.param(_edit(CATALOG, '"output": 2', '"output": 2.5'), id="catalog"),
    pytest.param(_edit("templates/openclaw.json.j2", "local", "remote"), id="template"),
    pytest.param(lambda root, _: (root / "rendered/e/clawpolicy.lock.json").unlink(), id="lock"),
    pytest.param(lambda root, _: (root / "rendered/old").mkdir(), id="stale-output-folder"),
    pytest.param(
        lambda _, patch: patch.setattr(incremental, "__version__", "0.0.0-other"),
        id="compiler-version",
    ),
]


@pytest.mark.parametrize("change", CHANGES)
def test_any_change_resolves_again(
    change: Callable[[Path, pytest.MonkeyPatch], None],
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(repo, "compile")  # a record of the repository as it is
    with stages_explode():
        assert run(repo, "compile", "--check")[0] == 0  # replayed
    change(repo, monkeypatch)
    with stages_explode():
        code, _, stderr = run(repo, "compile", "--check")
    assert code == 3
    assert "resolved although the inputs are unchanged" in stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("compile", "--upgrade"), id="upgrade"),
        pytest.param(("compile", "--env", "f"), id="other-selection"),
    ],
)
def test_upgrade_and_another_selection_resolve(args: tuple[str, ...], repo: Path) -> None:
    run(repo, "compile")
    with stages_explode():
        assert run(repo, *args)[0] == 3


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b'{"format": "clawpolicy-compile-record"}', b"[1, 2]"]
)
def test_a_corrupt_record_means_a_full_compile(content: bytes, repo: Path) -> None:
    path = incremental.record_path(repo)
    assert path is not None and path.is_file()
    path.write_bytes(content)
    with records_off():
        full = run(repo, "compile", "--check")
    assert run(repo, "compile", "--check") == full
    with stages_explode():
        assert run(repo, "compile", "--check") == full  # and the record is good again


def test_records_are_off_in_ci_and_when_the_folder_is_empty(
    repo: Path, monkeypatch: pytest.MonkeyPatch, compile_records: Path
) -> None:
    assert incremental.record_path(repo) is not None
    assert list(compile_records.rglob("*.json"))  # the fixture's compile kept one
    monkeypatch.setenv("CI", "true")
    assert incremental.record_path(repo) is None
    monkeypatch.delenv("CI")
    monkeypatch.setenv("CLAWPOLICY_CACHE_DIR", " ")
    assert incremental.record_path(repo) is None


def test_no_record_is_kept_when_an_input_changes_while_compiling(repo: Path) -> None:
    path = incremental.record_path(repo)
    assert path is not None
    record = incremental.Record((), (), incremental.CompileSummary(0, 0, {}), {})
    path.unlink()
    incremental.store(repo, incremental.Mode(), record, incremental.fingerprint(repo))
    assert path.is_file()  # inputs unchanged: kept
    path.unlink()
    before = incremental.fingerprint(repo)
    (repo / "policies/tiers.yaml").write_text("# edited while compiling\n", encoding="utf-8")
    incremental.store(repo, incremental.Mode(), record, before)
    assert not path.exists()


def test_a_replayed_compile_loads_no_stage(repo: Path) -> None:
    """The replay imports neither pydantic nor jinja2 (the whole pipeline behind them)."""
    script = (
        "import sys\n"
        "from compiler.cli.main import main\n"
        f"sys.argv = ['clawpolicy', 'compile', '--check', '--root', {str(repo)!r}]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\n"
        "print(code, 'pydantic' in sys.modules, 'jinja2' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split()[-3:] == ["0", "False", "False"]


# --------------------------------------------------------------------------- random orgs

EXAMPLES = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def _retire_some(root: Path, rng: random.Random) -> None:
    """Retire a third of every catalog's offers: locked choices stop fitting (PC207)."""
    for path in (root / "policies/catalogs").glob("*.json"):
        document = json.loads(path.read_text())
        for item in document["offers"]:
            if rng.random() < 0.33:
                item["deprecated"] = True
        path.write_text(json.dumps(document))


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1))
def test_after_a_writing_compile_the_record_matches_a_full_compile(seed: int) -> None:
    """On random orgs: compile, retire offers, compile again (locks replaced), then every mode
    replays exactly what a full compile of the repository as written prints."""
    rng = random.Random(seed)
    with pytest.MonkeyPatch.context() as patch, _tmp() as where:
        patch.setenv("CLAWPOLICY_CACHE_DIR", str(where / "records"))
        patch.delenv("CI", raising=False)
        root = write_tree(
            where / "repo", {"templates/openclaw.json.j2": TEMPLATE, **org_files(rng)}
        )
        if run(root, "compile")[0] != 0:
            return  # a random org that does not compile: nothing to replay
        _retire_some(root, rng)
        if run(root, "compile")[0] != 0:
            return  # retired too much: no record of a failed compile
        for args in (("compile", "--check"), ("validate", "--format", "json"), ("compile",)):
            with records_off():
                full = run(root, *args)
            with stages_explode():
                assert run(root, *args) == full, args


@contextmanager
def _tmp() -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory() as where:
        yield Path(where)


@pytest.mark.parametrize("relpath", ["templates/all", "policies/teams/all", "rendered/e/all"])
@pytest.mark.parametrize("kind", ["link-to-root", "fifo"])
def test_an_input_the_loader_would_refuse_is_never_read_and_keeps_no_record(
    relpath: str, kind: str, repo: Path
) -> None:
    """A symlink to / or a FIFO is never followed or opened for a fingerprint (the walk would
    hang): no record applies, and the run prints what a full run prints."""
    path = incremental.record_path(repo)
    assert path is not None
    path.unlink()
    if kind == "fifo":
        os.mkfifo(repo / relpath)
    else:
        (repo / relpath).symlink_to("/")
    assert incremental.fingerprint(repo) is None
    with records_off():
        full = run(repo, "validate")
    assert run(repo, "validate") == full
    assert not path.exists()


def _replays(root: Path, *args: str) -> bool:
    """True when `args` on `root` is answered from the record (the stages are not called)."""
    calls = []
    real = api.compile_project

    def counted(*given: Any, **named: Any) -> Any:
        calls.append(given)
        return real(*given, **named)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api, "compile_project", counted)
        run(root, *args)
    return not calls


@pytest.mark.parametrize(
    "move",
    [
        pytest.param(("policies/teams/team.yaml", "elsewhere/team.yaml"), id="policy-file"),
        pytest.param(("rendered/e", "elsewhere/e"), id="rendered-folder"),
    ],
)
def test_a_file_moved_behind_a_symlink_is_a_change(move: tuple[str, str], repo: Path) -> None:
    """Same bytes, but a symlink on the way (the writer refuses rendered/<env> as one)."""
    source, target = (repo / part for part in move)
    assert _replays(repo, "compile")
    target.parent.mkdir()
    source.rename(target)
    source.symlink_to(os.path.relpath(target, source.parent))
    assert not _replays(repo, "compile", "--check")
    with records_off():
        full = run(repo, "compile", "--check")
    assert run(repo, "compile", "--check") == full


def test_a_catalog_outside_the_scanned_folders_is_recorded(
    make_project: Callable[..., Path],
) -> None:
    files = _files()
    catalog = files.pop("policies/catalogs/c.json")
    files["data/c.json"] = catalog
    for name in ("e", "f"):
        key = f"policies/environments/{name}.yaml"
        files[key] = files[key].replace("catalogs/c.json", "../data/c.json")
    root = make_project(files)
    assert run(root, "compile")[0] == 0
    assert _replays(root, "compile", "--check")
    (root / "data/c.json").write_text(catalog.replace('"2026-11-20"', '"2026-11-21"'))
    assert not _replays(root, "compile", "--check")


def test_no_home_folder_means_no_record(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def homeless() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("CLAWPOLICY_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", homeless)
    assert incremental.record_path(repo) is None
    assert run(repo, "validate")[0] == 0


def test_a_record_with_a_broken_number_means_a_full_compile(repo: Path) -> None:
    path = incremental.record_path(repo)
    assert path is not None
    data = json.loads(path.read_bytes())
    for env in data["summary"]["environments"].values():
        env["cost"] = "x"
    path.write_text(json.dumps(data))
    with records_off():
        full = run(repo, "validate")
    assert run(repo, "validate") == full


def test_a_replayed_writing_compile_is_refused_beside_another_writer(repo: Path) -> None:
    from compiler.output.writer import write_lock

    assert _replays(repo, "compile")
    with write_lock(repo):
        code, _, err = run(repo, "compile")
        assert code == 2 and "PC309" in err
        assert run(repo, "compile", "--check")[0] == 0  # readers take no lock


@pytest.mark.parametrize(
    ("name", "value", "off"),
    [("CI", "1", True), ("CI", "True", True), ("CI", "false", False), ("CI", "", False),
     ("JENKINS_URL", "http://ci", True), ("GITHUB_ACTIONS", "true", True)],
)  # fmt: skip
def test_records_are_off_on_any_ci_runner(
    name: str, value: str, off: bool, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    assert (incremental.record_path(repo) is None) is off


@pytest.mark.parametrize("cost", ["NaN", "sNaN", "Infinity", "1e99999999"])
def test_a_record_with_a_cost_that_is_no_number_means_a_full_compile(cost: str, repo: Path) -> None:
    path = incremental.record_path(repo)
    assert path is not None
    data = json.loads(path.read_bytes())
    for env in data["summary"]["environments"].values():
        env["cost"] = cost
    path.write_text(json.dumps(data))
    with records_off():
        full = run(repo, "compile", "--format", "json")
    assert run(repo, "compile", "--format", "json") == full


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_record_that_is_no_regular_file_is_never_read(kind: str, repo: Path) -> None:
    path = incremental.record_path(repo)
    assert path is not None
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    with records_off():
        full = run(repo, "validate")
    assert run(repo, "validate") == full  # at once: no hang, no memory blow-up


def test_a_record_holds_no_secret_and_only_its_owner_reads_it(
    make_project: Callable[..., Path],
) -> None:
    secret = "sk-or-v1-" + "0a" * 32
    files = _files()
    files["policies/environments/e.yaml"] += f'teams: [team, "{secret}*"]\n'
    root = make_project(files)
    code, _, err = run(root, "validate")
    assert code == 0 and "PC113" in err and secret not in err
    path = incremental.record_path(root)
    assert path is not None and path.is_file()
    assert secret not in path.read_text(encoding="utf-8")
    assert path.parent.stat().st_mode & 0o077 == 0
