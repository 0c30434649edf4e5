"""`clawpolicy diff` end to end: real temporary git repos (init, commit, branch, shallow clones
over file://), the CLI in-process, exit codes 0/1/2, and every report format."""

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.test_gitref import (
    commit_all,
    committed_repo,
    edit,
    git,
    policy_files,
    shallow_clone,
)

pytestmark = pytest.mark.git

Cli = Callable[..., Any]
TRIAGE_BEFORE = "[p/b/mid, p/a/cheap]"


@pytest.fixture
def repo(make_project: Callable[..., Path], tmp_path: Path) -> Path:
    return committed_repo(make_project, tmp_path / "repo")


def diff(cli: Cli, root: Path, *args: str) -> Any:
    return cli("diff", "--root", str(root), *args)


def test_no_change_exits_0(cli: Cli, repo: Path) -> None:
    result = diff(cli, repo)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("clawpolicy diff against HEAD (")
    assert result.stdout.endswith(": no changes\n")
    assert diff(cli, repo, "--format", "markdown").stdout.endswith("No changes.\n")
    assert json.loads(diff(cli, repo, "--format", "json").stdout)["changed"] is False


def test_tightened_max_price_shows_the_agent_line_and_cost_delta(cli: Cli, repo: Path) -> None:
    edit(
        repo / "policies/teams/core.yaml",
        "tier: fast\n",
        "tier: fast\n    max_price: {output: 3}\n",
    )
    result = diff(cli, repo, "--exit-code")
    assert result.exit_code == 1, result.stderr
    lines = result.stdout.splitlines()
    # the same change in dev and prod is shown once, with what moved and why in words
    assert lines[1:7] == [
        f"~ dev, prod/triage: {TRIAGE_BEFORE} -> [p/a/cheap, p/d/alt]; "
        "est. USD/month (primary) 24.00 -> 12.00 (-12.00)",
        "    primary p/b/mid -> p/a/cheap",
        "    p/b/mid left the chain",
        "    fallback p/d/alt added",
        "    why: max_price.output 5 -> 3 (policies/teams/core.yaml:6:16)",
        "    why: locked p/b/mid replaced: output price 4 > 3",
    ]
    assert "! new vendor d in dev, prod (triage)" in lines
    assert "  prod: changed; monthly cost 30.00 -> 18.00 (-12.00)" in lines
    assert '  ~ /agents/entries/triage/model/primary: "p/b/mid" -> "p/a/cheap"' in lines
    assert not any("writer" in line for line in lines)


def test_model_policy_allow_shows_refs_added_and_removed(cli: Cli, repo: Path) -> None:
    edit(repo / "policies/tiers.yaml", "max_price: {output: 5.0}", "max_price: {output: 3.0}")
    result = diff(cli, repo, "--env", "prod", "--format", "json")
    assert result.exit_code == 1, result.stderr
    allow = [
        (c["kind"], c["pointer"], c["old"], c["new"])
        for c in json.loads(result.stdout)["environments"]["prod"]["changes"]
        if "/modelPolicy/allow" in c["pointer"]
    ]
    assert allow == [
        ("removed", "/agents/defaults/modelPolicy/allow/1", "p/b/mid", None),
        ("added", "/agents/defaults/modelPolicy/allow/2", None, "p/d/alt"),
    ]
    assert '  - /agents/defaults/modelPolicy/allow/1: "p/b/mid"' in diff(cli, repo).stdout


def test_catalog_bump_has_cause_catalog(cli: Cli, repo: Path) -> None:
    edit(repo / "policies/catalogs/c.json", '"output": 4', '"output": 6')
    result = diff(cli, repo, "--env", "prod", "--format", "json")
    assert result.exit_code == 1, result.stderr
    prod = json.loads(result.stdout)["environments"]["prod"]
    assert list(json.loads(result.stdout)["environments"]) == ["prod"]
    assert prod["cause"] == "catalog"
    assert {(a["agent"], a["cause"]) for a in prod["agents"]} == {
        ("@default", "catalog"),
        ("triage", "catalog"),
        ("writer", "catalog"),
    }
    # the repricing pushed p/b/mid over the tier's output ceiling (5): the cause says so
    triage = next(a for a in prod["agents"] if a["agent"] == "triage")
    assert triage["causes"] == [
        "locked p/b/mid replaced: output price 6 > 5.0",
        "p/b/mid price out 4 -> 6 USD/1M (left the chain)",
    ]
    assert triage["moves"][:2] == ["primary p/b/mid -> p/a/cheap", "p/b/mid left the chain"]


def test_removed_and_new_environments(cli: Cli, repo: Path) -> None:
    (repo / "policies/environments/dev.yaml").unlink()
    shutil.copy(repo / "policies/environments/prod.yaml", repo / "policies/environments/qa.yaml")
    edit(repo / "policies/environments/qa.yaml", "environment: prod", "environment: qa")
    result = diff(cli, repo, "--format", "json")
    assert result.exit_code == 1, result.stderr
    envs = json.loads(result.stdout)["environments"]
    assert {name: env["status"] for name, env in envs.items()} == {
        "dev": "removed",
        "prod": "unchanged",
        "qa": "added",
    }
    text = diff(cli, repo).stdout
    assert "  dev: removed; monthly cost 30.00 -> ?" in text
    assert "  qa: new (not at HEAD (" in text


def test_ten_thousand_line_change_fits_one_markdown_comment(
    cli: Cli, make_project: Callable[..., Path], tmp_path: Path
) -> None:
    template = (
        '{"gateway": {"mode": "local"}, "env": {"vars": {}}, "models": {{ models | tojson }}, '
        '"agents": {{ agents | tojson }}}\n'
    )
    files = {**policy_files(envs=("prod",)), "templates/openclaw.json.j2": template}
    root = committed_repo(make_project, tmp_path / "repo", files)
    keys = ", ".join(f'"SETTING{i}": "{i}"' for i in range(10_000))
    edit(root / "templates/openclaw.json.j2", '"vars": {}', f'"vars": {{{keys}}}')
    result = diff(cli, root, "--format", "markdown")
    assert result.exit_code == 1, result.stderr
    assert len(result.stdout) <= 65_000
    assert result.stdout.startswith("<!-- clawpolicy-diff -->\n")
    assert "**0 agent(s) changed in 1 environment(s), 10000 field change(s)**" in result.stdout
    assert re.search(r"\n\.\.\. and \d{4} more\n", result.stdout)


def test_shallow_clone_with_ref_fetched_and_not(
    cli: Cli, make_project: Callable[..., Path], tmp_path: Path
) -> None:
    origin = committed_repo(make_project, tmp_path / "origin")
    git(origin, "branch", "release")
    clone = shallow_clone(origin, tmp_path / "clone")
    assert diff(cli, clone, "--against", "origin/main").exit_code == 0

    missing = diff(cli, clone, "--against", "origin/release")
    assert missing.exit_code == 2
    assert "error[PC401]: unknown git ref 'origin/release'" in missing.stderr
    assert (
        "git fetch --depth=1 origin +refs/heads/release:refs/remotes/origin/release"
        in missing.stderr
    )
    assert missing.stdout == ""


def test_subdirectory_repo_and_detached_head(
    cli: Cli, make_project: Callable[..., Path], tmp_path: Path
) -> None:
    root = committed_repo(make_project, tmp_path / "mono", subdir="infra/policy")
    git(root, "checkout", "-q", "--detach")
    assert diff(cli, root).exit_code == 0
    edit(root / "policies/teams/core.yaml", "tier: fast", "tier: smart")
    result = diff(cli, root, "--against", "HEAD")
    assert result.exit_code == 1
    line = result.stdout.splitlines()[1]
    assert line.startswith(f"~ dev, prod/triage: {TRIAGE_BEFORE} -> [p/c/big")


def test_done_when_tier_change_in_a_shallow_clone(
    cli: Cli, make_project: Callable[..., Path], tmp_path: Path
) -> None:
    origin = committed_repo(make_project, tmp_path / "origin")
    clone = shallow_clone(origin, tmp_path / "clone")
    git(clone, "checkout", "-q", "-b", "change-writer-tier")
    team = clone / "policies/teams/core.yaml"
    before = team.read_text(encoding="utf-8")
    edit(team, "  writer:\n    tier: fast", "  writer:\n    tier: smart")
    commit_all(clone, "writer moves to smart")

    result = diff(cli, clone, "--against", "origin/main", "--format", "markdown")

    assert result.exit_code == 1, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| dev")]
    assert rows[0] == (
        "| dev, prod | `writer` | primary `p/b/mid` → `p/c/big`; `p/b/mid` left the chain "
        "| `p/b/mid`, `p/a/cheap` "
        "| `p/c/big`, `p/a/cheap` | 6.00 → 13.00 (+7.00) | max_price.output 5 → (unset); "
        "prefer [b/*] → [c/*] (policies/tiers.yaml:12:13); "
        "requires [tools] → [reasoning, tools] (policies/tiers.yaml:11:15); "
        "tier fast → smart (policies/teams/core.yaml:8:11); "
        "locked `p/b/mid` replaced: reasoning unknown |"
    )
    agent_lines = result.stdout[: result.stdout.index("| environment | status")]
    assert "triage" not in agent_lines

    team.write_text(before, encoding="utf-8")
    reverted = diff(cli, clone, "--against", "origin/main", "--format", "markdown")
    assert reverted.exit_code == 0, reverted.stdout


def test_against_dir_reports_drift_of_live_configs(cli: Cli, repo: Path, tmp_path: Path) -> None:
    live = tmp_path / "live"
    (live / "prod").mkdir(parents=True)
    deployed = json.loads((repo / "rendered/prod/openclaw.json").read_text(encoding="utf-8"))
    deployed["agents"]["entries"]["triage"]["model"]["fallbacks"] = []
    (live / "prod/openclaw.json").write_text(json.dumps(deployed), encoding="utf-8")
    shutil.copy(repo / "rendered/dev/openclaw.json", live / "dev.json")

    result = diff(cli, repo, "--against-dir", str(live))

    assert result.exit_code == 1, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines[1]
        == f"~ prod/triage: [p/b/mid] -> {TRIAGE_BEFORE}; est. USD/month (primary) ? -> 24.00"
    )
    assert lines[2:4] == ["    fallback p/a/cheap added", "    why: unknown (a side has no lock)"]
    assert '  + /agents/entries/triage/model/fallbacks/0: "p/a/cheap"' in lines
    assert diff(cli, repo, "--against-dir", str(live), "--env", "dev").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("--against", "HEAD", "--against-dir", "."), id="both-old-sides"),
        pytest.param(("--env", "nowhere"), id="unknown-environment"),
        pytest.param(("--format", "yaml"), id="unknown-format"),
    ],
)
def test_user_errors_exit_2(cli: Cli, repo: Path, args: tuple[str, ...]) -> None:
    assert diff(cli, repo, *args).exit_code == 2


def test_not_a_git_repo_exits_2(
    cli: Cli, make_project: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_project(policy_files(), tmp_path / "plain")
    result = diff(cli, root)
    assert result.exit_code == 2
    assert "error[PC402]" in result.stderr


def test_done_when_on_the_example_repo(cli: Cli, tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    for folder in ("policies", "templates", "rendered"):
        shutil.copytree(REPO / folder, origin / folder)
    assert cli("compile", "--check", "--root", str(origin)).exit_code == 0
    git(origin, "init", "-q", "-b", "main")
    commit_all(origin, "the example policy repo")
    clone = shallow_clone(origin, tmp_path / "clone")
    team = clone / "policies/teams/engineering.yaml"
    before = team.read_text(encoding="utf-8")
    edit(team, "  code-assistant:\n    tier: standard", "  code-assistant:\n    tier: fast")

    result = diff(cli, clone, "--against", "origin/main", "--format", "markdown")

    assert result.exit_code == 1, result.stderr
    first = next(line for line in result.stdout.splitlines() if line.startswith("| dev"))
    assert first.startswith("| dev | `code-assistant` | ")
    cells = [cell.strip() for cell in first.split("|")[1:-1]]
    assert cells[2].endswith("(also thinkingDefault)")
    assert cells[3].startswith("`") and cells[4].startswith("`")  # chains before and after
    assert re.fullmatch(r"\d+\.\d\d → \d+\.\d\d( \([+-]\d+\.\d\d\))?", cells[5]), cells[5]
    assert "tier standard → fast (policies/teams/engineering.yaml:" in cells[6]
    assert "thinking medium → low (policies/tiers.yaml:" in cells[6]
    # prod promotes from staging: untouched, and shown as pending instead
    assert "### Pending promotions" in result.stdout
    assert "| `code-assistant` |" in result.stdout.split("### Pending promotions")[1]
    team.write_text(before, encoding="utf-8")
    assert diff(cli, clone, "--against", "origin/main", "--format", "markdown").exit_code == 0


def test_text_is_coloured_like_git_diff_where_colour_is_on(cli: Cli, repo: Path) -> None:
    edit(repo / "policies/tiers.yaml", "max_price: {output: 5.0}", "max_price: {output: 3.0}")
    plain = diff(cli, repo).stdout
    assert "\x1b[" not in plain  # not a terminal
    coloured = cli("diff", "--root", str(repo), env={"FORCE_COLOR": "1"}).stdout
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain
    lines = coloured.splitlines()
    yellow, green, red = "\x1b[33m", "\x1b[32m", "\x1b[31m"
    assert lines[0].startswith("clawpolicy diff against")  # headings stay plain
    assert lines[1].startswith(yellow + "~ dev, prod/triage:")
    end = "\x1b[0m"
    assert green + '  + /agents/defaults/modelPolicy/allow/2: "p/d/alt"' + end in lines
    assert red + '  - /agents/defaults/modelPolicy/allow/1: "p/b/mid"' + end in lines
    forced = {"FORCE_COLOR": "1"}
    assert "\x1b[" not in cli("diff", "--root", str(repo), "--no-color", env=forced).stdout


def test_a_secret_in_an_old_committed_config_never_reaches_the_comment(
    cli: Cli, repo: Path
) -> None:
    """Values are redacted before the report cuts them: a cut would split a secret so that its
    shape no longer matches (a URL password without its @, a token shorter than 24)."""
    password, token, hexkey = (
        "Xy7pQ2mN9vR4kLz8Wq3TgH5jBn6",
        "aB3dE5gH7jK9mN1pQ3sT5vX7zA9c",
        "0a1b" * 8,
    )
    config = repo / "rendered/dev/openclaw.json"
    clean = config.read_text(encoding="utf-8")
    planted = json.loads(clean)
    planted["env"] = {
        "vars": {
            "DATABASE_URL": f"postgres://app:{password}@db.internal:5432/app",
            "OPENAI_KEY": hexkey,
        }
    }
    planted["gateway"]["tls"] = {"sessionSeed": token}
    planted["models"]["providers"]["p"]["defaultHeaders"] = {"X-Custom-Auth": "hunter2header"}
    config.write_text(json.dumps(planted, indent=2), encoding="utf-8")
    commit_all(repo, "a config with secrets, as someone once committed it")
    config.write_text(clean, encoding="utf-8")
    for fmt in ("markdown", "text", "json"):
        result = diff(cli, repo, "--format", fmt)
        assert result.exit_code == 1, result.stderr
        shown = result.stdout + result.stderr
        for secret in (password, token, hexkey, "hunter2header"):
            assert secret[:6] not in shown, (fmt, secret)
