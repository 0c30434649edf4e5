"""`clawpolicy cost`: estimated monthly cost of every agent's primary, grouped by team, tier,
environment or agent, headroom against budgets, unknown estimates named (never 0), promoted
environments costed from what they run, the Mermaid pie, and the team split of a PR comment."""

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from compiler import costreport
from tests.conftest import catalog_text, offer
from tests.test_gitref import edit

Cli = Callable[..., Any]
PROVIDER = "  p: {base_url: https://p.example/v1, api: openai-completions, api_key: {env: P_KEY}}\n"
TIERS = """\
version: 1
tiers:
  cheap: {sort: price, fallbacks: 0}
  smart: {requires: [reasoning], sort: price, fallbacks: 0}
"""
SUPPORT = """\
version: 1
team: support
agents:
  triage: {tier: cheap, workload: {input_mtok: 10, output_mtok: 2}, budget: 50}
  drafter: {tier: smart, workload: {input_mtok: 4, output_mtok: 1}, budget: 20}
"""
RESEARCH = """\
version: 1
team: research
agents:
  scout: {tier: cheap}
  analyst: {tier: smart, pin: p/v/router, workload: {input_mtok: 1, output_mtok: 1}}
"""


def env_file(name: str, extra: str = "") -> str:
    return (
        f"version: 1\nenvironment: {name}\ncatalogs: [catalogs/c.json]\nproviders:\n{PROVIDER}"
        f"default_tier: cheap\n{extra}"
    )


def files() -> dict[str, str]:
    reasoning = {"tools": True, "reasoning": True}
    return {
        "policies/tiers.yaml": TIERS,
        "policies/teams/support.yaml": SUPPORT,
        "policies/teams/research.yaml": RESEARCH,
        "policies/catalogs/c.json": catalog_text(
            [
                offer("p", "a/small", price={"input": 1, "output": 5}),
                offer("p", "b/think", price={"input": 2, "output": 8}, capabilities=reasoning),
                offer("p", "v/router", price={"input": "variable"}, capabilities=reasoning),
            ]
        ),
        "policies/environments/dev.yaml": env_file("dev", "budget: 100\n"),
        "policies/environments/prod.yaml": env_file("prod", "promote_from: dev\n"),
    }


@pytest.fixture
def root(make_project: Callable[..., Path], cli: Cli) -> Path:
    """dev compiled, prod promoted from it."""
    built = make_project(files())
    assert cli("compile", "--root", str(built), "--env", "dev").exit_code == 0
    assert cli("promote", "dev", "prod", "--root", str(built)).exit_code == 0
    return built


def report(root: Path, by: str, *envs: str) -> costreport.CostReport:
    lines, project = costreport.collect(root, envs)
    return costreport.group(lines, by, project)


def test_cost_per_team_and_environment(root: Path) -> None:
    by_team = report(root, "team")
    # triage: 10 * 1 + 2 * 5 = 20; drafter: 4 * 2 + 1 * 8 = 16; scout: no workload;
    # analyst: a variable price: unknown
    assert [(g.key, g.by_environment, g.monthly_cost) for g in by_team.groups] == [
        ("support", {"dev": Decimal(36), "prod": Decimal(36)}, Decimal(72)),
        ("research", {"dev": None, "prod": None}, None),  # no estimate: unknown, never 0
    ]
    unknown = {(x.environment, x.agent): x.unknown for x in by_team.unknown}
    assert unknown == {
        ("dev", "scout"): "no workload",
        ("prod", "scout"): "no workload",
        ("dev", "analyst"): "price unknown",
        ("prod", "analyst"): "price unknown",
    }
    support = by_team.groups[0]
    assert (support.budget, support.headroom) == (Decimal(140), Decimal(68))  # 2 x (50 + 20)
    [dev, prod] = report(root, "environment").groups
    assert (dev.key, dev.budget, dev.headroom) == ("dev", Decimal(100), Decimal(64))
    assert (prod.key, prod.budget, prod.headroom) == ("prod", None, None)


def test_cost_per_tier_and_agent(root: Path) -> None:
    assert [(g.key, g.monthly_cost) for g in report(root, "tier", "dev").groups] == [
        ("cheap", Decimal(20)),
        ("smart", Decimal(16)),
    ]
    by_agent = report(root, "agent", "dev")
    triage = next(g for g in by_agent.groups if g.key == "triage")
    assert (triage.monthly_cost, triage.budget, triage.headroom) == (20, 50, 30)


def test_a_promoted_environment_is_costed_from_what_it_runs(root: Path) -> None:
    """prod runs the chains it was promoted; a price change of the models it runs costs it
    as much as dev (the estimate compile checks prod's budgets with)."""
    catalog = root / "policies/catalogs/c.json"
    edit(catalog, '"price": {\n        "input": 1,', '"price": {\n        "input": 3,')
    by_env = {g.key: g.monthly_cost for g in report(root, "environment").groups}
    assert by_env == {"dev": Decimal(56), "prod": Decimal(56)}  # triage 30 + 2 x 5


def test_text_names_the_unknown_and_the_budgets(root: Path, cli: Cli) -> None:
    result = cli("cost", "--root", str(root))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Estimated monthly cost by team (USD; dev, prod)"
    assert lines[2].split() == ["team", "dev", "prod", "total", "budget", "headroom", "unknown"]
    assert lines[3].split() == ["support", "36.00", "36.00", "72.00", "140.00", "68.00"]
    assert "4 agent(s) without an estimate (unknown, not 0):" in lines
    assert "  no workload: dev/scout, prod/scout" in lines
    assert "  dev: 36.00 of 100.00 (36%), headroom 64.00" in lines


def test_markdown_carries_a_mermaid_pie(root: Path, cli: Cli) -> None:
    result = cli("cost", "--root", str(root), "--by", "tier", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith("### Estimated monthly cost by tier (USD; dev, prod)\n")
    pie = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert pie.splitlines() == [
        "pie showData title Monthly cost by tier (USD)",
        '    "cheap" : 40.00',
        '    "smart" : 32.00',
    ]
    assert "| cheap | 20.00 | 20.00 | 40.00 |" in text


def test_unknown_environment_is_a_user_error(root: Path, cli: Cli) -> None:
    result = cli("cost", "--root", str(root), "--env", "nowhere", "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["diagnostics"][0]["code"] == "PC108"


def test_the_team_split_section_shows_only_teams_that_moved() -> None:
    old = {"support": Decimal("36"), "research": Decimal("5")}
    assert costreport.format_team_split(old, dict(old)) == ""
    text = costreport.format_team_split(old, {"support": Decimal("40.5"), "research": Decimal(5)})
    assert text.splitlines()[-2:] == [
        "| support | 36.00 | 40.50 | +4.50 |",
        "| **total** | 41.00 | 45.50 | +4.50 |",
    ]


def test_team_split_sums_known_estimates(root: Path) -> None:
    lines, _ = costreport.collect(root, ("dev",))
    assert costreport.team_split(lines) == {"research": Decimal(0), "support": Decimal(36)}


def test_an_environments_budget_for_an_agent_wins(
    make_project: Callable[..., Path], cli: Cli
) -> None:
    given = files()
    given["policies/environments/dev.yaml"] = env_file("dev", "agents:\n  triage: {budget: 25}\n")
    built = make_project(given)
    assert cli("compile", "--root", str(built), "--env", "dev").exit_code == 0
    triage = next(g for g in report(built, "agent", "dev").groups if g.key == "triage")
    assert (triage.monthly_cost, triage.budget, triage.headroom) == (20, 25, 5)


def test_a_promoted_environment_is_costed_with_the_current_workloads(root: Path, cli: Cli) -> None:
    """prod runs what dev had when promoted; a workload raised since is costed as compile
    costs it (PC204 and cost agree)."""
    edit(root / "policies/teams/support.yaml", "input_mtok: 10", "input_mtok: 40")
    triage = {g.key: g for g in report(root, "agent", "prod").groups}["triage"]
    assert triage.monthly_cost == 40 * 1 + 2 * 5


def test_an_environment_over_its_budget_is_still_reported(root: Path, cli: Cli) -> None:
    edit(root / "policies/environments/dev.yaml", "budget: 100", "budget: 10")
    assert cli("validate", "--root", str(root)).exit_code == 2  # PC204: an error for compile
    result = cli("cost", "--root", str(root), "--by", "environment", "--env", "dev")
    assert result.exit_code == 0, result.stderr
    assert "dev: 36.00 of 10.00 (360%), headroom -26.00" in result.stdout
