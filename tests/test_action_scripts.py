"""The scripts shipped with the action (scripts/): re-pointing catalogs for the refresh workflow,
and fitting pull-request bodies. Run as the workflows run them, on real policy repositories in
temporary directories, compiled with the real compiler."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import catalog_text, offer
from tests.test_resolver import PROVIDERS, TEAM, TIERS

REPO = Path(__file__).resolve().parents[1]
REPOINT = REPO / "scripts" / "repoint_catalogs.py"
PR_BODY = REPO / "scripts" / "pr_body.py"
OLD, NEW = "catalogs/openrouter-2026-11-20.json", "catalogs/openrouter-2026-12-07.json"
INFRON = "catalogs/infron-2026-11-20.json"

DEV = f"""\
version: 1
environment: dev
# The weekly refresh moves {OLD} forward; this comment names it and must stay as it is.
catalogs:
  - {OLD}   # the main catalog
  - "{INFRON}"
providers:
{PROVIDERS["p"]}
"""
STAGING = f"""\
version: 1
environment: staging
catalogs: ['{OLD}', {INFRON}]  # flow style, quoted
providers:
{PROVIDERS["p"]}
"""
PROD = f"""\
version: 1
environment: prod
promote_from: staging  # changes only by `clawpolicy promote staging prod`
catalogs:
  - {OLD}
providers:
{PROVIDERS["p"]}
"""


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=False
    )


def snapshot(model: str, date: str) -> str:
    return catalog_text([offer("p", "x/a"), offer("p", model)], date)


@pytest.fixture
def repo(make_project: Callable[..., Path]) -> Path:
    """dev and staging resolve on their own; prod is promoted from staging."""
    return make_project(
        {
            TIERS: "version: 1\ntiers:\n  t:\n    description: the tier\n",
            TEAM: "version: 1\nteam: team\nagents:\n  a:\n    tier: t\n",
            "policies/environments/dev.yaml": DEV,
            "policies/environments/staging.yaml": STAGING,
            "policies/environments/prod.yaml": PROD,
            f"policies/{OLD}": snapshot("y/old", "2026-11-20"),
            f"policies/{INFRON}": catalog_text([offer("p", "z/c")], "2026-11-20"),
            f"policies/{NEW}": snapshot("y/new", "2026-12-07"),
        }
    )


def texts(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted((root / "policies").rglob("*"))
        if p.is_file()
    }


def repoint(root: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    summary = root.parent / "summary.json"
    proc = run(REPOINT, "repoint", "openrouter", "2026-12-07", "--root", str(root),
               "--summary", str(summary), *extra)  # fmt: skip
    return proc, json.loads(summary.read_text()) if summary.exists() else None


def test_repoint_changes_only_the_entries_of_environments_without_promote_from(
    repo: Path,
) -> None:
    before = texts(repo)
    proc, summary = repoint(repo)
    assert proc.returncode == 0, proc.stderr
    after = texts(repo)
    changed = {path for path in after if after[path] != before[path]}
    assert changed == {"policies/environments/dev.yaml", "policies/environments/staging.yaml"}
    # exactly the entry's characters: comments, quotes, flow style and order stay
    assert after["policies/environments/dev.yaml"] == DEV.replace(
        f"  - {OLD}   # the main catalog", f"  - {NEW}   # the main catalog"
    )
    assert f"# The weekly refresh moves {OLD} forward" in after["policies/environments/dev.yaml"]
    assert after["policies/environments/staging.yaml"] == STAGING.replace(f"'{OLD}'", f"'{NEW}'")
    assert summary == {
        "format": "openrouter",
        "new": NEW,
        "old": [OLD],
        "repointed": ["dev", "staging"],
        "promoted": [
            {"environment": "prod", "from": "staging", "file": "policies/environments/prod.yaml"}
        ],
    }
    assert "prod.yaml: left alone (promoted from staging)" in proc.stdout


def test_dry_run_writes_nothing_and_says_the_same(repo: Path) -> None:
    before = texts(repo)
    proc, planned = repoint(repo, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert texts(repo) == before
    _, done = repoint(repo)
    assert planned == done


def test_refresh_compiles_and_prune_keeps_what_a_promoted_environment_lists(
    repo: Path, cli: Callable[..., Any]
) -> None:
    """The refresh sequence on a real repo: repoint, compile --upgrade, prune."""
    assert cli("compile", "--env", "dev", "--env", "staging", "--root", str(repo)).exit_code == 0
    assert repoint(repo)[0].returncode == 0
    result = cli("compile", "--upgrade", "--env", "dev", "--env", "staging", "--root", str(repo))
    assert result.exit_code == 0, result.stderr
    lock = json.loads((repo / "rendered" / "dev" / "clawpolicy.lock.json").read_text())
    assert f"policies/{NEW}" in lock["inputs"] and f"policies/{OLD}" not in lock["inputs"]
    proc = run(REPOINT, "prune", "openrouter", "--keep", "2026-12-07", "--root", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert (repo / "policies" / OLD).exists()  # prod.yaml still lists it
    # once prod no longer lists it and no lock records it, it goes; the new one always stays
    prod = repo / "policies" / "environments" / "prod.yaml"
    prod.write_text(PROD.replace(f"catalogs:\n  - {OLD}\n", f"catalogs:\n  - {NEW}\n"))
    proc = run(REPOINT, "prune", "openrouter", "--keep", "2026-12-07", "--root", str(repo))
    assert proc.stdout == f"policies/{OLD}: removed (no environment lists it, no lock records it)\n"
    assert not (repo / "policies" / OLD).exists()
    assert (repo / "policies" / NEW).exists() and (repo / "policies" / INFRON).exists()
    check = cli("compile", "--check", "--env", "dev", "--env", "staging", "--root", str(repo))
    assert check.exit_code == 0, check.stderr


def test_prune_keeps_a_snapshot_a_lock_still_records(repo: Path) -> None:
    (repo / "policies" / "environments" / "prod.yaml").write_text(PROD.replace(OLD, NEW))
    assert repoint(repo)[0].returncode == 0
    lock = repo / "rendered" / "prod" / "clawpolicy.lock.json"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"version": 1, "inputs": {f"policies/{OLD}": "0" * 64}}))
    proc = run(REPOINT, "prune", "openrouter", "--keep", "2026-12-07", "--root", str(repo))
    assert proc.returncode == 0 and proc.stdout == ""
    assert (repo / "policies" / OLD).exists()


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        pytest.param(
            lambda root: (root / "policies" / NEW).unlink(),
            ("repoint", "openrouter", "2026-12-07"),
            "the new snapshot does not exist",
            id="new-snapshot-missing",
        ),
        pytest.param(
            lambda root: (root / "policies/environments/dev.yaml").write_text("a: [\n"),
            ("repoint", "openrouter", "2026-12-07"),
            "dev.yaml: not valid YAML",
            id="bad-yaml",
        ),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    repo: Path, setup: Callable[[Path], Any], args: tuple[str, ...], message: str
) -> None:
    setup(repo)
    before = texts(repo)
    proc = run(REPOINT, *args, "--root", str(repo))
    assert proc.returncode == 2 and message in proc.stderr
    assert texts(repo) == before


@pytest.mark.parametrize(
    "args",
    [("repoint", "Open Router", "2026-12-07"), ("repoint", "openrouter", "12/07/2026")],
    ids=["bad-format", "bad-date"],
)
def test_bad_arguments_are_usage_errors(repo: Path, args: tuple[str, ...]) -> None:
    proc = run(REPOINT, *args, "--root", str(repo))
    assert proc.returncode == 2 and "error:" in proc.stderr


def test_no_environment_on_the_format_is_a_warning(repo: Path) -> None:
    proc = run(REPOINT, "repoint", "infron", "2026-11-20", "--root", str(repo))
    assert proc.returncode == 0
    assert "warning: no environment without promote_from lists a infron snapshot" in proc.stderr


# --------------------------------------------------------------------------- pr_body.py


def write_parts(tmp_path: Path, **parts: str) -> list[str]:
    paths = []
    for name, text in parts.items():
        path = tmp_path / f"{name}.md"
        path.write_text(text)
        paths.append(str(path))
    return paths


def test_pr_body_joins_parts_in_order_and_drops_empty_ones(tmp_path: Path) -> None:
    parts = write_parts(tmp_path, errors="", header="Refresh.\n", promote="## prod\n\nx\n")
    proc = run(PR_BODY, *parts)
    assert proc.returncode == 0
    assert proc.stdout == "Refresh.\n\n## prod\n\nx\n"


def test_pr_body_cuts_the_end_and_keeps_the_first_parts(tmp_path: Path) -> None:
    errors = "> [!CAUTION]\n> compile failed\n"
    diff = "```diff\n" + "".join(f"- line {i}\n" for i in range(20_000))
    parts = write_parts(tmp_path, errors=errors, diff=diff)
    proc = run(PR_BODY, "--limit", "65000", *parts)
    body = proc.stdout
    assert len(body) <= 65_000 and body.startswith(errors)
    assert body.endswith(
        "\n... (truncated: the full report is on the workflow run's summary page)\n"
    )
    assert body.count("```") % 2 == 0  # the cut code fence is closed before the note


def test_pr_body_missing_part_exits_2(tmp_path: Path) -> None:
    proc = run(PR_BODY, str(tmp_path / "absent.md"))
    assert proc.returncode == 2 and "absent.md" in proc.stderr
