"""Staged rollout end to end (issue 7): a policy repo with dev, staging and prod (`promote_from:
staging`), pushed to a bare origin and worked on in shallow clones, the way CI sees a pull
request. Every ordinary PR leaves prod byte-identical with exit 0 from compile and shows prod as
pending in the diff; only `promote` moves prod; `promote --check` says when prod is behind.
"""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import catalog_text, offer, write_tree
from tests.test_gitref import PROVIDER, TEAM, TIERS, commit_all, edit, git
from tests.test_gitref import offers as gitref_offers

pytestmark = pytest.mark.git

Cli = Callable[..., Any]
PROD = "rendered/prod/openclaw.json"
OLD_CATALOG = "catalogs/c-2026-11-20.json"
NEW_CATALOG = "catalogs/c-2026-12-01.json"
HISTORY_TIERS = """\
version: 1
tiers:
  fast:
    requires: [tools]
    sort: price
    fallbacks: 2
    diversity: vendor
"""
TEMPLATE = """{
  "gateway": {"mode": "local"},
  "models": {{ models | tojson }},
  "agents": {{ agents | tojson }}
}
"""


def offers(*, drop: str = "") -> list[dict[str, Any]]:
    return [o for o in gitref_offers() if o["id"] != drop]


def env_file(name: str, extra: str) -> str:
    return f"version: 1\nenvironment: {name}\nproviders:\n{PROVIDER}default_tier: fast\n{extra}"


def files() -> dict[str, str]:
    listing = f"catalogs: [{OLD_CATALOG}]\n"
    return {
        "policies/tiers.yaml": TIERS,
        "policies/teams/core.yaml": TEAM,
        f"policies/{OLD_CATALOG}": catalog_text(offers()),
        "policies/environments/dev.yaml": env_file("dev", listing),
        "policies/environments/staging.yaml": env_file("staging", listing),
        "policies/environments/prod.yaml": env_file("prod", "promote_from: staging\n"),
        "templates/openclaw.json.j2": TEMPLATE,
    }


@pytest.fixture
def clone(cli: Cli, tmp_path: Path) -> Path:
    """A shallow clone of a bare origin whose main holds the compiled and promoted repo."""
    work = write_tree(tmp_path / "work", files())
    assert cli("compile", "--root", str(work)).exit_code == 0
    assert cli("promote", "staging", "prod", "--root", str(work)).exit_code == 0
    git(work, "init", "-q", "-b", "main")
    commit_all(work, "policies, rendered, prod promoted")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(work, "push", "-q", origin.as_uri(), "main")
    target = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", origin.as_uri(), str(target))
    git(target, "checkout", "-q", "-b", "pr")
    return target


def run(cli: Cli, root: Path, *args: str) -> Any:
    return cli(*args, "--root", str(root))


def chains(root: Path, env: str) -> dict[str, list[str]]:
    lock = json.loads((root / f"rendered/{env}/clawpolicy.lock.json").read_text())
    return {a: [b["primary"], *b["fallbacks"]] for a, b in lock["agents"].items()}


def pull_request(cli: Cli, clone: Path, strict_fails_on: str = "") -> dict[str, Any]:
    """What CI checks on a PR whose rendered/ was regenerated: compile exits 0 and leaves prod
    byte-identical, compile --check is clean, validate --strict passes (or fails only with the
    code `strict_fails_on`: a finding about the PR itself, never the pending promotion), diff
    exits 1 and shows prod as pending."""
    before = (clone / PROD).read_bytes()
    compiled = run(cli, clone, "compile")
    assert compiled.exit_code == 0, compiled.stderr
    assert (clone / PROD).read_bytes() == before
    assert run(cli, clone, "compile", "--check").exit_code == 0
    strict = run(cli, clone, "validate", "--strict")
    codes = set(re.findall(r"error\[(PC\d+)\]", strict.stderr))
    assert codes == ({strict_fails_on} if strict_fails_on else set()), strict.stderr
    commit_all(clone, "the pull request")
    diff = run(cli, clone, "diff", "--against", "origin/main", "--format", "json")
    assert diff.exit_code == 1, diff.stderr
    report: dict[str, Any] = json.loads(diff.stdout)
    assert report["environments"]["prod"]["status"] == "unchanged"
    assert report["pending"]["prod"]["behind"] is True
    markdown = run(cli, clone, "diff", "--against", "origin/main", "--format", "markdown")
    assert "### Pending promotions" in markdown.stdout
    return report


def promote_brings_prod_to_staging(cli: Cli, clone: Path) -> None:
    assert run(cli, clone, "promote", "staging", "prod", "--check").exit_code == 1
    promoted = run(cli, clone, "promote", "staging", "prod")
    assert promoted.exit_code == 0, promoted.stderr
    assert chains(clone, "prod") == chains(clone, "staging")
    assert run(cli, clone, "promote", "staging", "prod", "--check").exit_code == 0
    assert run(cli, clone, "compile", "--check").exit_code == 0


def test_a_pr_that_tightens_a_tier(cli: Cli, clone: Path) -> None:
    edit(clone / "policies/tiers.yaml", "max_price: {output: 5.0}", "max_price: {output: 3.0}")
    report = pull_request(cli, clone)
    [triage] = [a for a in report["pending"]["prod"]["agents"] if a["agent"] == "triage"]
    assert triage["running"] == ["p/b/mid", "p/a/cheap"]
    assert triage["next"] == ["p/a/cheap", "p/d/alt"]
    assert "output price 4 > 3" in triage["misfit"]
    [staging_triage] = [
        a for a in report["environments"]["staging"]["agents"] if a["agent"] == "triage"
    ]
    assert "max_price.output 5 -> 3 (policies/tiers.yaml:5:16)" in staging_triage["causes"]
    warned = run(cli, clone, "compile")
    assert "warning[PC209]: environment 'prod' is behind 'staging'" in warned.stderr
    promote_brings_prod_to_staging(cli, clone)


def test_a_pr_that_adds_an_agent(cli: Cli, clone: Path) -> None:
    edit(clone / "policies/teams/core.yaml", "agents:\n", "agents:\n  helper: {tier: fast}\n")
    report = pull_request(cli, clone)
    moves = {a["agent"]: a["status"] for a in report["pending"]["prod"]["agents"]}
    assert moves == {"helper": "added"}
    prod_entries = json.loads((clone / PROD).read_text())["agents"]["entries"]
    assert "helper" not in prod_entries  # not deployed in prod before its promotion
    promote_brings_prod_to_staging(cli, clone)
    assert "helper" in json.loads((clone / PROD).read_text())["agents"]["entries"]


def test_a_deleted_agent_runs_in_prod_until_the_next_promotion(cli: Cli, clone: Path) -> None:
    edit(clone / "policies/teams/core.yaml", "  writer:\n    tier: fast\n", "")
    edit(clone / "policies/teams/core.yaml", "    workload: {input_mtok: 1, output_mtok: 1}\n", "")
    report = pull_request(cli, clone)
    assert report["environments"]["staging"]["agents"][0]["status"] == "removed"
    moves = {a["agent"]: a["status"] for a in report["pending"]["prod"]["agents"]}
    assert moves == {"writer": "removed"}
    assert "writer" in json.loads((clone / PROD).read_text())["agents"]["entries"]
    promote_brings_prod_to_staging(cli, clone)
    assert "writer" not in json.loads((clone / PROD).read_text())["agents"]["entries"]


def test_a_catalog_refresh_that_drops_a_model_prod_runs(cli: Cli, clone: Path) -> None:
    old = clone / "policies" / OLD_CATALOG
    new = clone / "policies" / NEW_CATALOG
    new.write_text(catalog_text(offers(drop="b/mid"), date="2026-12-01"))
    moved = run(cli, clone, "catalog", "diff", str(old), str(new), "--format", "json")
    affected = {
        (env, a["agent"]): a
        for env, body in json.loads(moved.stdout)["environments"].items()
        for a in body["agents"]
    }
    assert affected[("prod", "triage")]["promoted"] == "p/b/mid, which the new catalog drops"
    after = affected[("staging", "triage")]["after"]
    assert [after["primary"], *after["fallbacks"]] == ["p/a/cheap", "p/d/alt"]
    text = run(cli, clone, "catalog", "diff", str(old), str(new)).stdout
    assert "prod/triage (promoted): runs p/b/mid, which the new catalog drops" in text
    # the refresh re-points the environments that resolve on their own; prod follows staging
    for env in ("dev", "staging"):
        edit(clone / f"policies/environments/{env}.yaml", OLD_CATALOG, NEW_CATALOG)
    old.unlink()
    upgraded = run(cli, clone, "compile", "--upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert (
        "warning[PC210]: environment 'prod' runs p/b/mid (triage, writer, default model, "
        "tier fast), which is no longer" in (upgraded.stderr)
    )
    # the refresh dropped the only b/ model: tier fast's prefer 'b/*' now matches nothing
    report = pull_request(cli, clone, strict_fails_on="PC122")
    assert [a["ref"] for a in report["pending"]["prod"]["alerts"]] == ["p/b/mid"]
    [triage] = [a for a in report["environments"]["staging"]["agents"] if a["agent"] == "triage"]
    assert triage["causes"] == ["p/b/mid dropped from the catalog"]
    assert triage["moves"] == [
        "primary p/b/mid -> p/a/cheap",
        "p/b/mid left the chain",
        "fallback p/d/alt added",
    ]
    markdown = run(cli, clone, "promote", "staging", "prod", "--check", "--format", "markdown")
    assert markdown.exit_code == 1
    assert (
        "> [!WARNING]\n> **prod runs p/b/mid (triage, writer, default model, tier fast), which"
        in (markdown.stdout)
    )
    promote_brings_prod_to_staging(cli, clone)
    assert "p/b/mid" not in (clone / PROD).read_text()


def test_a_hand_edit_of_prod_is_refused(cli: Cli, clone: Path) -> None:
    edit(clone / PROD, '"primary": "p/b/mid"', '"primary": "p/a/cheap"')
    result = run(cli, clone, "compile", "--check")
    assert result.exit_code == 2
    assert "error[PC307]: rendered/prod/openclaw.json was edited after clawpolicy promote" in (
        result.stderr
    )


def test_chain_order_does_not_depend_on_history(cli: Cli, tmp_path: Path) -> None:
    """Two clones reach the same policy and catalog along different histories: one had a lock
    whose fallback was later retired and replaced, the other compiles the final state fresh.
    Fallbacks are in rank order either way, so the bytes are the same."""
    three = {
        **files(),
        "policies/tiers.yaml": HISTORY_TIERS,
    }
    three[f"policies/{OLD_CATALOG}"] = catalog_text(
        [
            offer("p", "a/one", price={"input": 1, "output": 1}),
            offer("p", "b/two", price={"input": 2, "output": 2}),
            offer("p", "c/three", price={"input": 4, "output": 4}),
        ]
    )
    final = catalog_text(
        [
            offer("p", "a/one", price={"input": 1, "output": 1}),
            offer("p", "b/two", price={"input": 2, "output": 2}, deprecated=True),
            offer("p", "c/three", price={"input": 4, "output": 4}),
            offer("p", "d/four", price={"input": 3, "output": 3}),
        ]
    )
    with_history = write_tree(tmp_path / "history", three)
    assert run(cli, with_history, "compile").exit_code == 0
    assert chains(with_history, "dev")["triage"] == ["p/a/one", "p/b/two", "p/c/three"]
    (with_history / f"policies/{OLD_CATALOG}").write_text(final)
    assert run(cli, with_history, "compile").exit_code == 0

    fresh = write_tree(tmp_path / "fresh", {**three, f"policies/{OLD_CATALOG}": final})
    assert run(cli, fresh, "compile").exit_code == 0

    assert chains(with_history, "dev")["triage"] == ["p/a/one", "p/d/four", "p/c/three"]
    for env in ("dev", "staging"):
        for name in ("openclaw.json", "clawpolicy.lock.json"):
            relpath = f"rendered/{env}/{name}"
            assert (with_history / relpath).read_bytes() == (fresh / relpath).read_bytes()
