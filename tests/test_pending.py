"""Pending promotions at their edges: every chain a promotion moves (the default and image
models, the tiers' alias chains), hand-edited promoted files, partial promotions, a promotion
that would fail, where a cause points, and the size of the reports."""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler.diagnostics import CompileError
from compiler.output import lockfile
from tests.conftest import catalog_text, offer, write_tree
from tests.test_gitref import commit_all, edit, git
from tests.test_staged_rollout import OLD_CATALOG, PROD, files, offers

Cli = Callable[..., Any]
LOCK = "rendered/prod/clawpolicy.lock.json"


@pytest.fixture
def repo(cli: Cli, tmp_path: Path) -> Path:
    """dev, staging and prod (promoted from staging), compiled and promoted once."""
    root = write_tree(tmp_path / "repo", files())
    assert cli("compile", "--root", str(root)).exit_code == 0
    assert cli("promote", "staging", "prod", "--root", str(root)).exit_code == 0
    return root


def run(cli: Cli, root: Path, *args: str) -> Any:
    return cli(*args, "--root", str(root))


def check(cli: Cli, root: Path) -> dict[str, Any]:
    result = run(cli, root, "promote", "staging", "prod", "--check", "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return {"exit": result.exit_code, **document["pending"]["prod"]}


def test_a_default_model_that_moves_is_pending(cli: Cli, repo: Path) -> None:
    edit(repo / "policies/environments/staging.yaml", "default_tier: fast", "default_tier: smart")
    edit(repo / "policies/environments/prod.yaml", "default_tier: fast", "default_tier: smart")
    assert run(cli, repo, "compile").exit_code == 0
    pending = check(cli, repo)
    assert pending["exit"] == 1 and pending["behind"] is True
    assert [m["agent"] for m in pending["agents"]] == ["@default"]


def test_alerts_cover_the_default_model(cli: Cli, repo: Path) -> None:
    (repo / f"policies/{OLD_CATALOG}").write_text(catalog_text(offers(drop="b/mid")))
    result = run(cli, repo, "compile")
    assert "runs p/b/mid (triage, writer, default model, tier fast), which is no longer" in (
        result.stderr
    )


def _rewrite(path: Path, change: Callable[[Any], None]) -> str:
    document = json.loads(path.read_text())
    change(document)
    text = json.dumps(document, indent=2) + "\n"
    path.write_text(text)
    return text


def test_a_hand_edit_that_fixes_the_digest_is_still_refused(cli: Cli, repo: Path) -> None:
    def swap(config: Any) -> None:
        config["agents"]["entries"]["triage"]["model"]["primary"] = "p/a/cheap"

    text = _rewrite(repo / PROD, swap)
    _rewrite(repo / LOCK, lambda lock: lock.update(rendered=lockfile.digest(text)))
    result = run(cli, repo, "compile", "--check")
    assert result.exit_code == 2
    assert "error[PC307]: rendered/prod/clawpolicy.lock.json and rendered/prod/openclaw.json " in (
        result.stderr
    )
    assert "disagree on triage" in result.stderr


def test_a_hand_edit_that_breaks_the_config_is_refused(cli: Cli, repo: Path) -> None:
    def undeclared(config: Any) -> None:
        config["agents"]["defaults"]["modelPolicy"]["allow"].append("p/nowhere")

    text = _rewrite(repo / PROD, undeclared)
    _rewrite(repo / LOCK, lambda lock: lock.update(rendered=lockfile.digest(text)))
    result = run(cli, repo, "compile", "--check")
    assert result.exit_code == 2 and "p/nowhere" in result.stderr


def test_a_lock_without_its_config_digest_is_refused(cli: Cli, repo: Path) -> None:
    _rewrite(repo / LOCK, lambda lock: lock.pop("rendered"))
    result = run(cli, repo, "compile", "--check")
    assert result.exit_code == 2 and "error[PC307]" in result.stderr


def test_crlf_line_ends_of_a_promoted_config_are_left_alone(cli: Cli, repo: Path) -> None:
    crlf = (repo / PROD).read_bytes().replace(b"\n", b"\r\n")
    (repo / PROD).write_bytes(crlf)
    assert run(cli, repo, "compile").exit_code == 0
    assert (repo / PROD).read_bytes() == crlf


@pytest.mark.parametrize(
    ("config", "code"),
    [
        pytest.param("[" * 5000 + "]" * 5000, "PC403", id="nested-too-deeply"),
        pytest.param("{not json", "PC403", id="not-json"),
    ],
)
def test_a_broken_promoted_config_is_a_diagnostic(
    cli: Cli, repo: Path, config: str, code: str
) -> None:
    (repo / PROD).write_text(config)
    _rewrite(repo / LOCK, lambda lock: lock.update(rendered=lockfile.digest(config)))
    result = run(cli, repo, "compile", "--check")
    assert result.exit_code == 2 and f"error[{code}]" in result.stderr


def test_a_retirement_date_that_is_no_date_is_pc110() -> None:
    text = json.dumps(
        {
            "version": 2,
            "environment": "prod",
            "models": {"p/a/b": {"vendor": "a", "retires": "2026-13-45"}},
        }
    )
    with pytest.raises(CompileError) as caught:
        lockfile.parse(text, LOCK, "prod")
    assert [d.code for d in caught.value.diagnostics] == ["PC110"]


def test_a_partial_promotion_is_not_blocked_by_chains_it_does_not_promote(
    cli: Cli, repo: Path
) -> None:
    # prod's own override makes the writer's running chain a misfit; promoting triage alone
    # must still work and keep the writer as prod runs it
    edit(
        repo / "policies/environments/prod.yaml",
        "promote_from: staging\n",
        "promote_from: staging\ntiers: {fast: {max_price: {output: 3.0}}}\n",
    )
    writer_before = json.loads((repo / LOCK).read_text())["agents"]["writer"]
    edit(repo / "policies/tiers.yaml", "max_price: {output: 5.0}", "max_price: {output: 3.0}")
    assert run(cli, repo, "compile").exit_code == 0
    result = run(cli, repo, "promote", "staging", "prod", "--agent", "triage")
    assert result.exit_code == 0, result.stderr
    after = json.loads((repo / LOCK).read_text())["agents"]
    assert after["triage"]["primary"] == "p/a/cheap"
    assert after["writer"]["primary"] == writer_before["primary"]


def test_a_promotion_that_would_fail_still_lists_its_moves(cli: Cli, repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "base")
    edit(repo / "policies/tiers.yaml", "max_price: {output: 5.0}", "max_price: {output: 3.0}")
    prod_file = repo / "policies/environments/prod.yaml"
    edit(prod_file, "promote_from: staging\n", "promote_from: staging\nbudget: 1\n")
    result = run(cli, repo, "diff", "--against", "HEAD", "--format", "json")
    pending = json.loads(result.stdout)["pending"]["prod"]
    assert pending["behind"] is True
    assert [m["agent"] for m in pending["agents"]][:1] == ["triage"]
    assert any("over its budget" in f for f in pending["failure"]), pending["failure"]
    assert run(cli, repo, "compile").exit_code == 0  # staging moves; prod waits
    refused = run(cli, repo, "promote", "staging", "prod", "--check")
    assert refused.exit_code == 2 and "error[PC204]" in refused.stderr


def test_mapping_onto_fewer_providers_never_puts_a_model_twice(cli: Cli, tmp_path: Path) -> None:
    both = "  q: {base_url: https://q.example/v1, api: openai-completions, api_key: {env: Q_KEY}}\n"
    layout = files()
    layout["policies/tiers.yaml"] = layout["policies/tiers.yaml"].replace(
        "diversity: vendor", "diversity: provider", 1
    )
    layout["policies/environments/staging.yaml"] = layout[
        "policies/environments/staging.yaml"
    ].replace("default_tier:", both.rstrip("\n") + "\ndefault_tier:", 1)
    layout[f"policies/{OLD_CATALOG}"] = catalog_text(
        [*offers(), *(offer("q", o["id"], price=o["price"]) for o in offers())]
    )
    root = write_tree(tmp_path / "repo", layout)
    assert run(cli, root, "compile").exit_code == 0, run(cli, root, "compile").stderr
    result = run(cli, root, "promote", "staging", "prod")
    assert result.exit_code == 2
    assert "would be in the chain twice" in result.stderr or "same provider" in result.stderr


def test_pc208_notes_are_text(cli: Cli, repo: Path) -> None:
    edit(
        repo / "policies/environments/prod.yaml",
        "promote_from: staging\n",
        "promote_from: staging\ntiers: {fast: {max_price: {output: 1.0}}}\n",
    )
    result = run(cli, repo, "promote", "staging", "prod")
    assert result.exit_code == 2
    assert "note: max_price.output 1.0 USD/1M" in result.stderr
    assert "note: ('" not in result.stderr


def test_a_cause_points_at_the_layer_whose_bound_wins(cli: Cli, repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "base")
    # the agent sets a looser ceiling than the tier's new one: the tier's line decides
    team = repo / "policies/teams/core.yaml"
    edit(
        team,
        "  writer:\n    tier: fast\n",
        "  writer:\n    tier: fast\n    max_price: {output: 4.5}\n",
    )
    commit_all(repo, "writer ceiling")
    assert run(cli, repo, "compile").exit_code == 0
    commit_all(repo, "compiled")
    edit(repo / "policies/tiers.yaml", "max_price: {output: 5.0}", "max_price: {output: 3.0}")
    assert run(cli, repo, "compile").exit_code == 0
    result = run(cli, repo, "diff", "--against", "HEAD", "--env", "staging", "--format", "json")
    agents = json.loads(result.stdout)["environments"]["staging"]["agents"]
    [writer] = [a for a in agents if a["agent"] == "writer"]
    assert "max_price.output 4.5 -> 3 (policies/tiers.yaml:5:16)" in writer["causes"]


def test_reports_stay_under_the_pull_request_limit(cli: Cli, tmp_path: Path) -> None:
    layout = files()
    many = "".join(f"  bulk-agent-with-a-long-name-{i:04d}: {{tier: fast}}\n" for i in range(1500))
    layout["policies/teams/core.yaml"] += many
    root = write_tree(tmp_path / "repo", layout)
    assert run(cli, root, "compile").exit_code == 0
    assert run(cli, root, "promote", "staging", "prod").exit_code == 0
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "base")
    (root / f"policies/{OLD_CATALOG}").write_text(catalog_text(offers(drop="b/mid")))
    assert run(cli, root, "compile", "--upgrade").exit_code == 0
    check_md = run(cli, root, "promote", "staging", "prod", "--check", "--format", "markdown")
    assert check_md.exit_code == 1 and len(check_md.stdout) <= 65_000
    assert check_md.stdout.startswith("### `prod`: behind staging")
    assert "> **prod runs p/b/mid (bulk-agent-with-a-long-name-0000, " in check_md.stdout
    diff_md = run(cli, root, "diff", "--against", "HEAD", "--format", "markdown").stdout
    assert len(diff_md) <= 65_000
    assert "> **prod runs p/b/mid (bulk-agent-with-a-long-name-0000, " in diff_md
    assert re.search(r"\n\.\.\. and \d+ more\n", diff_md)


def test_a_new_environment_not_promoted_yet_is_an_added_environment(cli: Cli, repo: Path) -> None:
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "base")
    qa = (repo / "policies/environments/prod.yaml").read_text().replace("prod", "qa")
    (repo / "policies/environments/qa.yaml").write_text(qa)
    result = run(cli, repo, "diff", "--against", "HEAD", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["environments"]["qa"]["status"] == "added"
    assert report["pending"]["qa"]["never_promoted"] is True
