"""Resolution rules, one table row per rule: (tier, environment override, agent, offers) -> the
agent's chain, or the diagnostic codes and lines. Every row would fail if its rule were removed.

Each case builds a one-tier, one-team, one-environment repo with `make_project`: tier `t` in
`policies/tiers.yaml`, agent `a` (tier `t`) in `policies/teams/team.yaml`, environment `e` with
providers `p` then `q` in `policies/environments/e.yaml` and one catalog,
`policies/catalogs/c.json`.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compiler import api
from compiler.diagnostics import CompileError, Diagnostic, Severity
from tests.conftest import catalog_text, offer

TIERS = "policies/tiers.yaml"
TEAM = "policies/teams/team.yaml"
ENV = "policies/environments/e.yaml"
CATALOG = "policies/catalogs/c.json"
PROVIDERS = {
    "p": "  p: {base_url: https://p.example/v1, api: openai-completions, api_key: {env: P_KEY}}",
    "q": "  q: {base_url: https://q.example/v1, api: openai-completions, api_key: {env: Q_KEY}}",
}


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in text.strip("\n").splitlines())


def repo_files(
    offers: Sequence[dict[str, Any]],
    *,
    tier: str = "",
    agent: str = "",
    env: str = "",
    agents: str | None = None,
    providers: Sequence[str] | None = None,
    date: str = "2026-11-20",
    env_name: str = "e",
) -> dict[str, str]:
    """The files of a small repo; `tier`, `agent` and `env` are YAML lines added to each block.
    The environment declares `providers` (default: p and q, each where an offer is on it: an
    account without offers is an error)."""
    if providers is None:
        offered = {item["provider"] for item in offers}
        providers = [name for name in PROVIDERS if name in offered] or ["p"]
    agents_text = agents if agents is not None else "  a:\n    tier: t\n" + _indent(agent, 4)
    return {
        TIERS: "version: 1\ntiers:\n  t:\n    description: the tier\n" + _indent(tier, 4),
        TEAM: "version: 1\nteam: team\nagents:\n" + agents_text,
        f"policies/environments/{env_name}.yaml": (
            f"version: 1\nenvironment: {env_name}\ncatalogs: [catalogs/c.json]\nproviders:\n"
            + "".join(PROVIDERS[p] + "\n" for p in providers)
            + (_indent(env, 0) if env else "")
        ),
        CATALOG: catalog_text(list(offers), date),
    }


def compile_repo(root: Path, **options: Any) -> tuple[api.CompileResult | None, list[Diagnostic]]:
    """Compile in memory (unless told to write): the result, or None, and every diagnostic."""
    options.setdefault("write", False)
    try:
        result = api.compile_project(api.CompileOptions(root=root, **options))
    except CompileError as exc:
        return None, list(exc.diagnostics)
    return result, list(result.warnings)


def chain(result: api.CompileResult | None, agent: str = "a", env: str = "e") -> tuple[str, ...]:
    assert result is not None, "compile failed"
    return result.resolutions[env].agents[agent].refs


def line_of(files: dict[str, str], relpath: str, needle: str) -> int:
    """1-based line of the first line of `relpath` that contains `needle`."""
    for number, line in enumerate(files[relpath].splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {relpath}")


def where(diags: list[Diagnostic]) -> list[tuple[str, str, int]]:
    """(code, path, line) of each diagnostic, sorted, for comparing with a table row."""
    return sorted(
        (d.code, d.span.path if d.span else "", d.span.line if d.span else 0) for d in diags
    )


@dataclass(frozen=True)
class Expect:
    """A row's expectation: the agent's chain, and/or diagnostics as (code, file, needle)."""

    chain: tuple[str, ...] | None = None
    diags: tuple[tuple[str, str, str], ...] = ()


def case(case_id: str, expect: Expect, **spec: Any) -> Any:
    """One table row: `spec` are the keyword arguments of `repo_files`."""
    return pytest.param(spec, expect, id=case_id)


def o(
    provider: str, model_id: str, price: tuple[float | str, float | str] = (1, 2), **fields: Any
) -> dict[str, Any]:
    """An offer with its (input, output) price; "-" leaves a price out (unknown)."""
    prices = {k: v for k, v in zip(("input", "output"), price, strict=True) if v != "-"}
    return offer(provider, model_id, price=prices, **fields)


RULES = [
    # ---------------------------------------------------------------- merging the three layers
    case(
        "requires-union-of-tier-and-agent",
        Expect(chain=("p/z/both",)),
        tier="requires: [tools]\nfallbacks: 0",
        agent="requires: [vision]",
        offers=[
            o("p", "x/tools-only", price=(1, 1)),
            o("p", "y/vision-only", capabilities={"vision": True}, price=(1, 2)),
            o("p", "z/both", capabilities={"tools": True, "vision": True}, price=(2, 2)),
        ],
    ),
    case(
        "min-context-largest-wins",
        Expect(chain=("p/x/big",)),
        tier="min_context: 100k\nfallbacks: 0",
        agent="min_context: 50k",
        offers=[
            o("p", "x/small", context_window=64000, price=(1, 1)),
            o("p", "x/big", context_window=128000, price=(5, 5)),
        ],
    ),
    case(
        "max-price-per-field-min-agent-tightens-output-tier-keeps-input",
        Expect(chain=("p/x/fits",)),
        tier="max_price: {input: 3, output: 5}\nfallbacks: 0",
        agent="max_price: {output: 2}",
        offers=[
            o("p", "x/out-too-dear", price=(1, 3)),
            o("p", "x/in-too-dear", price=(3.5, 0.5)),
            o("p", "x/fits", price=(2.5, 1.9)),
        ],
    ),
    case(
        "max-price-agent-cannot-loosen-tier",
        Expect(chain=("p/x/fits",)),
        tier="max_price: {output: 2}\nfallbacks: 0",
        agent="max_price: {output: 10}",
        offers=[
            o("p", "x/cheap-in", price=(0.1, 5)),
            o("p", "x/fits", price=(4, 1.5)),
        ],
    ),
    case(
        "env-override-tightens-tier-price",
        Expect(chain=("p/x/out-2",)),
        tier="max_price: {output: 5}\nfallbacks: 0",
        env="tiers:\n  t: {max_price: {output: 2}}",
        offers=[
            o("p", "x/out-4", price=(0.1, 4)),
            o("p", "x/out-2", price=(3, 2)),
        ],
    ),
    case(
        "env-override-raises-min-context",
        Expect(chain=("p/x/big",)),
        tier="fallbacks: 0",
        env="tiers:\n  t: {min_context: 200k}",
        offers=[
            o("p", "x/small", price=(1, 1)),
            o("p", "x/big", context_window=400000, price=(2, 2)),
        ],
    ),
    case(
        "env-override-beats-tier-scalar",
        Expect(chain=("p/x/a", "p/x/b", "p/x/c")),
        tier="fallbacks: 0",
        env="tiers:\n  t: {fallbacks: 2}",
        offers=[o("p", "x/a"), o("p", "x/b"), o("p", "x/c"), o("p", "x/d")],
    ),
    case(
        "agent-beats-env-override-scalar",
        Expect(chain=("p/x/a", "p/x/b")),
        tier="fallbacks: 0",
        env="tiers:\n  t: {fallbacks: 2}",
        agent="fallbacks: 1",
        offers=[o("p", "x/a"), o("p", "x/b"), o("p", "x/c"), o("p", "x/d")],
    ),
    case(
        "avoid-globs-accumulate",
        Expect(chain=("p/x/m-stable",)),
        tier="avoid: ['*preview*']\nfallbacks: 0",
        agent="avoid: ['*beta*']",
        offers=[
            o("p", "x/m-preview", price=(1, 1)),
            o("p", "x/m-beta", price=(1, 2)),
            o("p", "x/m-stable", price=(2, 2)),
        ],
    ),
    case(
        "prefer-concatenates-agent-first",
        Expect(chain=("p/z/m-c", "p/y/m-b", "p/x/m-a")),
        tier="prefer: ['*-b']\nfallbacks: 2",
        agent="prefer: ['*-c']",
        offers=[
            o("p", "x/m-a", price=(1, 1)),
            o("p", "y/m-b", price=(2, 2)),
            o("p", "z/m-c", price=(3, 3)),
        ],
    ),
    case(
        "prefer-order-agent-env-tier",
        Expect(chain=("p/x/m-a", "p/z/m-c", "p/y/m-b")),
        tier="prefer: ['*-b']\nfallbacks: 2",
        env="tiers:\n  t: {prefer: ['*-c']}",
        agent="prefer: ['*-a']",
        offers=[
            o("p", "x/m-a", price=(3, 3)),
            o("p", "y/m-b", price=(2, 2)),
            o("p", "z/m-c", price=(1, 1)),
            o("p", "w/m-d", price=(0.5, 0.5)),
        ],
    ),
    case(
        "sort-most-specific-wins",
        Expect(chain=("p/x/wide",)),
        tier="sort: price\nfallbacks: 0",
        agent="sort: context",
        offers=[
            o("p", "x/cheap", context_window=100000, price=(1, 1)),
            o("p", "x/wide", context_window=1000000, price=(3, 3)),
        ],
    ),
    case(
        "fallbacks-most-specific-wins",
        Expect(chain=("p/x/a",)),
        tier="fallbacks: 3",
        agent="fallbacks: 0",
        offers=[o("p", "x/a"), o("p", "x/b"), o("p", "x/c"), o("p", "x/d")],
    ),
    case(
        "diversity-most-specific-wins",
        Expect(chain=("p/x/a", "p/x/b")),
        tier="fallbacks: 1\ndiversity: vendor",
        agent="diversity: none",
        offers=[
            o("p", "x/a", price=(1, 1)),
            o("p", "x/b", price=(1, 2)),
            o("p", "y/c", price=(2, 2)),
        ],
    ),
    # ---------------------------------------------------------------- defaults
    case(
        "defaults-sort-price-one-fallback-no-diversity",
        Expect(chain=("p/x/cheap", "p/x/mid")),
        offers=[
            o("p", "x/new-big", context_window=900000, release_date="2026-10-01", price=(2, 2)),
            o("p", "x/cheap", release_date="2024-01-01", price=(1, 1)),
            o("p", "x/mid", release_date="2024-01-01", price=(1, 1.5)),
            o("p", "x/dear", price=(3, 3)),
        ],
    ),
    # ---------------------------------------------------------------- globs
    case(
        "glob-matches-full-ref",
        Expect(chain=("q/x/m",)),
        tier="avoid: ['p/*']\nfallbacks: 0",
        offers=[
            o("p", "x/m", price=(1, 1)),
            o("q", "x/m", price=(2, 2)),
        ],
    ),
    case(
        "glob-matches-model-id",
        Expect(chain=("p/y/m",)),
        tier="prefer: ['y/*']\nfallbacks: 0",
        offers=[
            o("p", "x/m", price=(1, 1)),
            o("p", "y/m", price=(2, 2)),
        ],
    ),
    case(
        "glob-is-case-sensitive",
        Expect(chain=("p/X/m",)),
        tier="prefer: ['X/*']\nfallbacks: 0",
        offers=[
            o("p", "x/m", price=(1, 1)),
            o("p", "X/m", vendor="x", price=(2, 2)),
        ],
    ),
    # ---------------------------------------------------------------- offers that never qualify
    case(
        "unknown-capability-never-satisfies",
        Expect(chain=("p/x/known",)),
        tier="requires: [tools]\nfallbacks: 0",
        offers=[
            o("p", "x/unknown", capabilities={}, price=(0.1, 0.1)),
            o("p", "x/known", capabilities={"tools": True}, price=(2, 2)),
        ],
    ),
    case(
        "deprecated-flag-never-chosen",
        Expect(chain=("p/x/ok",)),
        tier="fallbacks: 0",
        offers=[
            o("p", "x/flagged", deprecated=True, price=(0.1, 0.1)),
            o("p", "x/ok", price=(2, 2)),
        ],
    ),
    case(
        "deprecation-date-before-catalog-date-never-chosen",
        Expect(chain=("p/x/ok",)),
        tier="fallbacks: 0",
        date="2030-01-01",
        offers=[
            o("p", "x/sunset", deprecation_date="2029-06-01", price=(0.1, 0.1)),
            o("p", "x/ok", price=(2, 2)),
        ],
    ),
    case(
        "expiry-date-on-catalog-date-never-chosen",
        Expect(chain=("p/x/ok",)),
        tier="fallbacks: 0",
        offers=[
            o("p", "x/expires-today", expiry_date="2026-11-20", price=(0.1, 0.1)),
            o("p", "x/ok", price=(2, 2)),
        ],
    ),
    case(
        "retirement-judged-by-catalog-date-not-wall-clock",
        Expect(chain=("p/x/later",)),
        tier="fallbacks: 0",
        date="2020-01-01",
        offers=[
            o(
                "p",
                "x/later",
                deprecation_date="2021-01-01",
                expiry_date="2021-06-01",
                price=(0.1, 0.1),
            ),
            o("p", "x/ok", price=(2, 2)),
        ],
    ),
    case(
        "variable-price-never-fits-ceiling",
        Expect(chain=("p/x/known",)),
        tier="max_price: {input: 5, output: 5}\nprefer: ['*variable*']\nfallbacks: 0",
        offers=[
            o("p", "x/variable", price=("variable", "variable")),
            o("p", "x/known", price=(4, 4)),
        ],
    ),
    case(
        "unknown-price-never-fits-ceiling",
        Expect(chain=("p/x/known",)),
        tier="max_price: {input: 5}\nprefer: ['*unknown*']\nfallbacks: 0",
        offers=[
            o("p", "x/unknown", price=("-", 0.1)),
            o("p", "x/known", price=(4, 4)),
        ],
    ),
    case(
        "variable-price-allowed-without-ceiling",
        Expect(chain=("p/x/variable",)),
        tier="prefer: ['*variable*']\nfallbacks: 0",
        offers=[
            o("p", "x/variable", price=("variable", "variable")),
            o("p", "x/known", price=(4, 4)),
        ],
    ),
    # ---------------------------------------------------------------- ranking
    case(
        "prefer-beats-sort",
        Expect(chain=("p/x/premium", "p/x/cheap")),
        tier="prefer: ['*premium*']\nfallbacks: 1",
        offers=[
            o("p", "x/cheap", price=(0.1, 0.1)),
            o("p", "x/premium", price=(9, 9)),
        ],
    ),
    case(
        "sort-price-is-input-plus-output",
        Expect(chain=("p/x/balanced", "p/x/cheap-input")),
        tier="fallbacks: 1",
        offers=[
            o("p", "x/cheap-input", price=(1, 10)),
            o("p", "x/balanced", price=(3, 3)),
        ],
    ),
    case(
        "sort-price-weighted-by-workload",
        Expect(chain=("p/x/cheap-input", "p/x/balanced")),
        tier="fallbacks: 1",
        agent="workload: {input_mtok: 10, output_mtok: 0.1}",
        offers=[
            o("p", "x/cheap-input", price=(1, 10)),
            o("p", "x/balanced", price=(3, 3)),
        ],
    ),
    case(
        "sort-context-largest-first",
        Expect(chain=("p/x/large", "p/x/mid", "p/x/small")),
        tier="sort: context\nfallbacks: 2",
        offers=[
            o("p", "x/mid", context_window=200000),
            o("p", "x/small", context_window=100000),
            o("p", "x/large", context_window=1000000),
        ],
    ),
    case(
        "sort-newest-by-release-date-unknown-last",
        Expect(chain=("p/x/new", "p/x/month-only", "p/x/old", "p/x/undated")),
        tier="sort: newest\nfallbacks: 3",
        offers=[
            o("p", "x/undated", price=(0.1, 0.1)),
            o("p", "x/old", release_date="2024-05-01"),
            o("p", "x/new", release_date="2025-11-03"),
            o("p", "x/month-only", release_date="2025-06"),
        ],
    ),
    case(
        "tie-broken-by-environment-provider-order",
        Expect(chain=("q/x/m", "p/x/m")),
        tier="fallbacks: 1",
        providers=("q", "p"),
        offers=[o("p", "x/m"), o("q", "x/m")],
    ),
    case(
        "last-tie-broken-by-ref",
        Expect(chain=("p/x/a", "p/x/b", "p/x/c")),
        tier="fallbacks: 2",
        offers=[o("p", "x/c"), o("p", "x/a"), o("p", "x/b")],
    ),
    # ---------------------------------------------------------------- diversity
    case(
        "diversity-vendor",
        Expect(chain=("p/x/a", "p/y/c", "p/z/e")),
        tier="fallbacks: 2\ndiversity: vendor",
        offers=[
            o("p", "x/a", price=(1, 1)),
            o("q", "x/a", price=(1, 1)),
            o("p", "x/b", price=(1, 2)),
            o("p", "y/c", price=(2, 2)),
            o("p", "y/d", price=(2, 3)),
            o("p", "z/e", price=(3, 3)),
        ],
    ),
    case(
        "diversity-provider",
        Expect(chain=("p/x/a", "q/x/a")),
        tier="fallbacks: 1\ndiversity: provider",
        offers=[
            o("p", "x/a", price=(1, 1)),
            o("p", "y/b", price=(1, 2)),
            o("q", "x/a", price=(2, 2)),
        ],
    ),
    case(
        "diversity-none-only-distinct-refs",
        Expect(chain=("p/x/a", "q/x/a", "p/x/b")),
        tier="fallbacks: 2\ndiversity: none",
        offers=[
            o("p", "x/a", price=(1, 1)),
            o("q", "x/a", price=(1, 1)),
            o("p", "x/b", price=(1, 2)),
            o("p", "y/c", price=(2, 2)),
        ],
    ),
    # ---------------------------------------------------------------- pin
    case(
        "pin-is-the-primary",
        Expect(chain=("p/x/dear", "p/x/cheap")),
        tier="fallbacks: 1",
        agent="pin: p/x/dear",
        offers=[
            o("p", "x/cheap", price=(1, 1)),
            o("p", "x/dear", price=(5, 5)),
        ],
    ),
    case(
        "pin-on-missing-provider-takes-same-model-id",
        Expect(chain=("q/x/dear",)),
        tier="fallbacks: 0",
        agent="pin: infron/x/dear",
        offers=[
            o("p", "x/cheap", price=(1, 1)),
            o("q", "x/dear", price=(5, 5)),
        ],
    ),
    case(
        "pin-must-satisfy-constraints-PC202",
        Expect(diags=(("PC202", TEAM, "pin:"),)),
        tier="max_price: {output: 2}\nfallbacks: 0",
        agent="pin: p/x/dear",
        offers=[
            o("p", "x/cheap", price=(1, 1)),
            o("p", "x/dear", price=(5, 5)),
        ],
    ),
    case(
        "pin-not-offered-PC202",
        Expect(diags=(("PC202", TEAM, "pin:"),)),
        tier="fallbacks: 0",
        agent="pin: p/x/nowhere",
        offers=[o("p", "x/cheap")],
    ),
    case(
        "pin-over-budget-PC202",
        Expect(diags=(("PC202", TEAM, "pin:"),)),
        tier="fallbacks: 0",
        agent="pin: p/x/dear\nworkload: {input_mtok: 10, output_mtok: 10}\nbudget: 50",
        offers=[
            o("p", "x/cheap", price=(1, 1)),
            o("p", "x/dear", price=(5, 5)),
        ],
    ),
    # ---------------------------------------------------------------- budget
    case(
        "budget-skips-primary-that-does-not-fit",
        Expect(chain=("p/x/cheap",)),
        tier="prefer: ['*premium*']\nfallbacks: 0",
        agent="workload: {input_mtok: 10, output_mtok: 1}\nbudget: 50",
        offers=[
            o("p", "x/cheap", price=(1, 10)),  # 20 USD/month
            o("p", "x/premium", price=(5, 1)),  # 51 USD/month
        ],
    ),
    case(
        "budget-nothing-fits-PC201",
        Expect(diags=(("PC201", TEAM, "  a:"),)),
        tier="fallbacks: 0",
        agent="workload: {input_mtok: 10, output_mtok: 1}\nbudget: 19.99",
        offers=[
            o("p", "x/cheap", price=(1, 10)),  # 20 USD/month
            o("p", "x/premium", price=(5, 1)),  # 51 USD/month
        ],
    ),
    case(
        "environment-budget-sums-primaries-PC204",
        Expect(diags=(("PC204", ENV, "budget:"),)),
        tier="fallbacks: 0",
        env="budget: 29",
        agents=(
            "  a:\n    tier: t\n    workload: {input_mtok: 10, output_mtok: 0}\n"
            "  b:\n    tier: t\n    workload: {input_mtok: 0, output_mtok: 10}\n"
        ),
        offers=[o("p", "x/m", price=(1, 2))],  # a: 10, b: 20
    ),
    case(
        "environment-budget-exactly-met",
        Expect(chain=("p/x/m",)),
        tier="fallbacks: 0",
        env="budget: 30",
        agents=(
            "  a:\n    tier: t\n    workload: {input_mtok: 10, output_mtok: 0}\n"
            "  b:\n    tier: t\n    workload: {input_mtok: 0, output_mtok: 10}\n"
        ),
        offers=[o("p", "x/m", price=(1, 2))],
    ),
    # ---------------------------------------------------------------- shortfall, impossibility
    case(
        "shortfall-warns-PC203-and-keeps-short-chain",
        Expect(chain=("p/x/a", "p/y/c"), diags=(("PC203", TEAM, "  a:"),)),
        tier="fallbacks: 0",
        agent="fallbacks: 3\ndiversity: vendor",
        offers=[o("p", "x/a"), o("p", "x/b"), o("p", "y/c")],
    ),
    case(
        "no-candidate-PC201-at-agent",
        Expect(diags=(("PC201", TEAM, "  a:"), ("PC206", TIERS, "  t:"))),
        tier="requires: [reasoning]\nmin_context: 1m",
        offers=[
            o("p", "x/a", capabilities={"reasoning": True}),
            o("p", "x/b", context_window=1000000),
        ],
    ),
]


@pytest.mark.parametrize(("spec", "expect"), RULES)
def test_rule(spec: dict[str, Any], expect: Expect, make_project: Callable[..., Path]) -> None:
    files = repo_files(**spec)
    result, diags = compile_repo(make_project(files))
    expected = sorted(
        (code, path, line_of(files, path, needle)) for code, path, needle in expect.diags
    )
    assert where(diags) == expected, [str(d.span) + " " + d.message for d in diags]
    if expect.chain is not None:
        assert chain(result) == expect.chain


def test_every_chain_member_satisfies_every_constraint(make_project: Callable[..., Path]) -> None:
    """Fallbacks obey the same ceilings as the primary (max_price applies to EVERY model)."""
    files = repo_files(
        tier="max_price: {output: 3}\nrequires: [tools]\nfallbacks: 3",
        offers=[
            o("p", "x/a", price=(1, 1)),
            o("p", "x/b", price=(1, 3)),
            o("p", "x/c", price=(0.1, 3.01)),
            o("p", "x/d", capabilities={"tools": False}, price=(0.1, 0.1)),
        ],
    )
    result, diags = compile_repo(make_project(files))
    assert chain(result) == ("p/x/a", "p/x/b")
    assert [d.code for d in diags] == ["PC203", "PC203"]  # the agent and the tier alias


def test_thinking_most_specific_wins(make_project: Callable[..., Path]) -> None:
    files = repo_files(
        tier="thinking: low",
        env="tiers:\n  t: {thinking: medium}",
        agents="  a:\n    tier: t\n    thinking: high\n  b:\n    tier: t\n",
        offers=[o("p", "x/a"), o("p", "y/b")],
    )
    result, _ = compile_repo(make_project(files))
    assert result is not None
    agents = result.resolutions["e"].agents
    assert (agents["a"].merged.thinking, agents["b"].merged.thinking) == ("high", "medium")


def test_unsatisfiable_notes_list_constraints_and_nearest_misses(
    make_project: Callable[..., Path],
) -> None:
    files = repo_files(
        tier="requires: [vision]\nmax_price: {output: 2}",
        offers=[
            o("p", "x/no-vision", price=(1, 1)),
            o("p", "x/dear", capabilities={"vision": True}, price=(1, 9)),
        ],
    )
    _, diags = compile_repo(make_project(files))
    [pc201] = [d for d in diags if d.code == "PC201"]
    notes = "\n".join(pc201.notes)
    assert "vision" in notes
    assert "p/x/no-vision" in notes
    assert "p/x/dear" in notes
    assert "'e'" in pc201.message
    assert "'a'" in pc201.message


def test_env_override_applies_only_to_its_environment(make_project: Callable[..., Path]) -> None:
    base = repo_files(
        tier="max_price: {output: 5}\nfallbacks: 0",
        offers=[
            o("p", "x/out-4", price=(0.1, 4)),
            o("p", "x/out-2", price=(3, 2)),
        ],
    )
    tight = repo_files(
        [], env="tiers:\n  t: {max_price: {output: 2}}", env_name="f", date="2026-11-20"
    )
    files = {**base, "policies/environments/f.yaml": tight["policies/environments/f.yaml"]}
    result, _ = compile_repo(make_project(files))
    assert chain(result, env="e") == ("p/x/out-4",)
    assert chain(result, env="f") == ("p/x/out-2",)


def test_ranking_shared_by_agents_with_equal_constraints_stays_per_agent(
    make_project: Callable[..., Path],
) -> None:
    """Two agents with equal constraints but different pins/budgets get their own chains."""
    files = repo_files(
        tier="fallbacks: 0",
        agents=("  a:\n    tier: t\n  b:\n    tier: t\n    pin: p/x/dear\n  c:\n    tier: t\n"),
        offers=[
            o("p", "x/cheap", price=(1, 1)),
            o("p", "x/dear", price=(5, 5)),
        ],
    )
    result, _ = compile_repo(make_project(files))
    assert [chain(result, agent) for agent in "abc"] == [
        ("p/x/cheap",),
        ("p/x/dear",),
        ("p/x/cheap",),
    ]


# -------------------------------------------------------------------- lock stability, --upgrade

CHEAPER = o("p", "x/cheaper", price=(0.1, 0.1))


def _lock_repo(make_project: Callable[..., Path]) -> tuple[Path, dict[str, str]]:
    files = repo_files(
        tier="fallbacks: 1",
        agents="  a:\n    tier: t\n  b:\n    tier: t\n",
        offers=[
            o("p", "x/one", price=(1, 1)),
            o("p", "x/two", price=(2, 2)),
        ],
    )
    root = make_project(files)
    result, diags = compile_repo(root, write=True)
    assert result is not None, diags
    assert chain(result) == ("p/x/one", "p/x/two")
    assert (root / "rendered/e/clawpolicy.lock.json").is_file()
    return root, files


def _add_offers(root: Path, files: dict[str, str], *extra: dict[str, Any]) -> None:
    offers = json.loads(files[CATALOG])["offers"]
    (root / CATALOG).write_text(catalog_text([*offers, *extra]))


def test_lock_keeps_choice_when_a_cheaper_offer_appears(make_project: Callable[..., Path]) -> None:
    root, files = _lock_repo(make_project)
    _add_offers(root, files, CHEAPER)
    result, _ = compile_repo(root, write=True)
    assert chain(result, "a") == ("p/x/one", "p/x/two")
    assert chain(result, "b") == ("p/x/one", "p/x/two")
    # without a lock, the cheaper offer wins: the lock is what kept the old choice
    (root / "rendered/e/clawpolicy.lock.json").unlink()
    result, _ = compile_repo(root)
    assert chain(result, "a") == ("p/x/cheaper", "p/x/one")


def test_lock_replaces_choice_that_stops_satisfying(make_project: Callable[..., Path]) -> None:
    root, _ = _lock_repo(make_project)
    offers = [
        o("p", "x/one", price=(1, 1), deprecated=True),
        o("p", "x/two", price=(2, 2)),
        o("p", "x/three", price=(3, 3)),
    ]
    (root / CATALOG).write_text(catalog_text(offers))
    result, _ = compile_repo(root)
    assert chain(result, "a") == ("p/x/two", "p/x/three")


def test_upgrade_re_resolves_every_agent(make_project: Callable[..., Path]) -> None:
    root, files = _lock_repo(make_project)
    _add_offers(root, files, CHEAPER)
    result, _ = compile_repo(root, write=True, upgrade=True)
    assert chain(result, "a") == ("p/x/cheaper", "p/x/one")
    assert chain(result, "b") == ("p/x/cheaper", "p/x/one")


def test_upgrade_one_agent_keeps_the_others(
    make_project: Callable[..., Path], cli: Callable[..., Any]
) -> None:
    root, files = _lock_repo(make_project)
    _add_offers(root, files, CHEAPER)
    outcome = cli("compile", "--root", str(root), "--upgrade", "a")
    assert outcome.exit_code == 0, outcome.stderr
    lock = (root / "rendered/e/clawpolicy.lock.json").read_text()
    agents = json.loads(lock)["agents"]
    assert (agents["a"]["primary"], agents["a"]["fallbacks"]) == ("p/x/cheaper", ["p/x/one"])
    assert (agents["b"]["primary"], agents["b"]["fallbacks"]) == ("p/x/one", ["p/x/two"])


# -------------------------------------------------------------------- promote_from


def _promote_repo(make_project: Callable[..., Path]) -> tuple[Path, dict[str, str]]:
    files = repo_files(
        tier="fallbacks: 0",
        offers=[
            o("p", "x/one", price=(1, 1)),
            o("p", "x/two", price=(2, 2)),
        ],
    )
    files["policies/environments/s.yaml"] = (
        "version: 1\nenvironment: s\ncatalogs: [catalogs/c.json]\nproviders:\n"
        + PROVIDERS["p"]
        + "\npromote_from: e\n"
    )
    return make_project(files), files


def test_promote_from_without_a_promotion_only_warns(make_project: Callable[..., Path]) -> None:
    root, files = _promote_repo(make_project)
    env_file = "policies/environments/s.yaml"
    result, diags = compile_repo(root, envs=("s",))
    assert result is not None and "s" not in result.resolutions
    # never promoted; e is compiled in memory for the pending report, though not selected
    assert where(diags) == [("PC205", env_file, line_of(files, env_file, "promote_from"))]
    assert all(d.severity is Severity.WARNING for d in diags)


def test_promote_from_uses_the_lock_and_never_resolves(make_project: Callable[..., Path]) -> None:
    from compiler.gitops.api import promote_project

    root, _ = _promote_repo(make_project)
    compile_repo(root, envs=("e",), write=True)
    promote_project(root, "e", "s")
    promoted = (root / "rendered/s/openclaw.json").read_bytes()
    # e's choice is no longer the cheapest and --upgrade asks for fresh choices: s keeps the lock
    offers = [
        o("p", "x/one", price=(1, 1)),
        o("p", "x/zero", price=(0.1, 0.1)),
    ]
    (root / CATALOG).write_text(catalog_text(offers))
    result, diags = compile_repo(root, upgrade=True, write=True)
    assert result is not None, [str(d) for d in diags]
    assert chain(result, env="s") == ("p/x/one",)
    assert chain(result, env="e") == ("p/x/zero",)
    assert (root / "rendered/s/openclaw.json").read_bytes() == promoted
    assert [d.code for d in diags if d.code == "PC209"] == ["PC209"]


# -------------------------------------------------------------------- several catalogs


def _two_catalogs(
    make_project: Callable[..., Path], second: list[dict[str, Any]]
) -> tuple[tuple[api.CompileResult | None, list[Diagnostic]], dict[str, str]]:
    files = repo_files([], tier="fallbacks: 1", providers=("p", "q"))
    files[ENV] = files[ENV].replace(
        "catalogs: [catalogs/c.json]", "catalogs:\n  - catalogs/a.json\n  - catalogs/b.json"
    )
    del files[CATALOG]
    files["policies/catalogs/a.json"] = catalog_text([o("p", "x/from-a", price=(2, 2))])
    files["policies/catalogs/b.json"] = catalog_text(second)
    return compile_repo(make_project(files)), files


def test_offers_of_every_catalog_are_candidates(make_project: Callable[..., Path]) -> None:
    (result, _), _ = _two_catalogs(make_project, [o("q", "y/from-b", price=(1, 1))])
    assert chain(result) == ("q/y/from-b", "p/x/from-a")


def test_same_offer_in_two_catalogs_is_PC111_naming_both(make_project: Callable[..., Path]) -> None:
    (result, diags), files = _two_catalogs(make_project, [o("p", "x/from-a")])
    assert result is None
    assert where(diags) == [("PC111", ENV, line_of(files, ENV, "catalogs/b.json"))]
    assert "policies/catalogs/a.json" in diags[0].message
    assert "policies/catalogs/b.json" in diags[0].message
