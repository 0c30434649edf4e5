"""The policy keys of SPEC "Additions (v1.1)", one table row per rule, in the shape of
tests/test_resolver.py (tier `t`, agent `a`, environment `e` with the accounts that have offers):
`vendors`, `min_age_days`, `diversity: vendor+provider`, `retire_warning_days` and the
environment's `agents:` overrides; then `utility_tier` and `pdf_tier`, which need more than a
chain. Every row would fail if its rule were removed.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.test_resolver import (
    ENV,
    TEAM,
    TIERS,
    Expect,
    case,
    chain,
    compile_repo,
    line_of,
    o,
    repo_files,
    where,
)

Build = Callable[..., Path]
FRESH = "2026-11-18"  # two days before the catalog date (2026-11-20)
OLD = "2026-09-01"


RULES = [
    # ---------------------------------------------------------------- vendors
    case(
        "vendors-is-an-allowlist",
        Expect(chain=("p/x/pricey",)),
        tier="vendors: [x]\nfallbacks: 0",
        offers=[o("p", "y/cheap", price=(1, 1)), o("p", "x/pricey", price=(5, 5))],
    ),
    case(
        "vendors-of-the-layers-intersect",
        Expect(chain=("p/y/pricey",)),
        tier="vendors: [x, y]\nfallbacks: 0",
        agent="vendors: [y, z]",
        offers=[
            o("p", "x/cheap", price=(1, 1)),
            o("p", "z/cheap", price=(1, 1)),
            o("p", "y/pricey", price=(5, 5)),
        ],
    ),
    case(
        "vendors-with-nothing-in-common-PC201",
        Expect(diags=(("PC201", TEAM, "  a:"),)),
        tier="vendors: [x]\nfallbacks: 0",
        agent="vendors: [y]",
        offers=[o("p", "x/m"), o("p", "y/m")],
    ),
    case(
        "vendors-name-matching-no-offer-PC122",
        Expect(chain=("p/x/m",), diags=(("PC122", TIERS, "vendors:"),)),
        tier="vendors: [x, Y]\nfallbacks: 0",
        offers=[o("p", "x/m", price=(5, 5)), o("p", "y/m", price=(1, 1))],
    ),
    # ---------------------------------------------------------------- min_age_days
    case(
        "min-age-skips-offers-released-too-recently",
        Expect(chain=("p/y/old",)),
        tier="min_age_days: 14\nfallbacks: 0",
        offers=[
            o("p", "x/new", price=(1, 1), release_date="2026-11-10"),
            o("p", "y/old", price=(5, 5), release_date="2026-11-06"),
        ],
    ),
    case(
        "min-age-unknown-release-date-never-satisfies",
        Expect(chain=("p/y/old",)),
        tier="min_age_days: 1\nfallbacks: 0",
        offers=[o("p", "x/undated", price=(1, 1)), o("p", "y/old", price=(5, 5), release_date=OLD)],
    ),
    case(
        "min-age-largest-of-the-layers-wins",
        Expect(chain=("p/y/old",)),
        tier="min_age_days: 30\nfallbacks: 0",
        agent="min_age_days: 7",
        offers=[
            o("p", "x/month", price=(1, 1), release_date="2026-11-01"),
            o("p", "y/old", price=(5, 5), release_date=OLD),
        ],
    ),
    case(
        "min-age-month-precision-counts-from-the-month-end",
        Expect(chain=("p/y/old",)),
        tier="min_age_days: 1\nfallbacks: 0",
        offers=[
            o("p", "x/this-month", price=(1, 1), release_date="2026-11"),
            o("p", "y/old", price=(5, 5), release_date="2026-10"),
        ],
    ),
    case(
        "fresh-model-without-min-age-warns-PC213",
        Expect(chain=("p/x/new",), diags=(("PC213", TEAM, "  a:"),)),
        tier="sort: newest\nfallbacks: 0",
        offers=[o("p", "x/new", release_date=FRESH), o("p", "y/old", release_date=OLD)],
    ),
    case(
        "min-age-zero-accepts-fresh-models-quietly",
        Expect(chain=("p/x/new",)),
        tier="sort: newest\nfallbacks: 0\nmin_age_days: 0",
        offers=[o("p", "x/new", release_date=FRESH), o("p", "y/old", release_date=OLD)],
    ),
    # ---------------------------------------------------------------- diversity
    case(
        "vendor-alone-may-keep-a-chain-on-one-account",
        Expect(chain=("p/x/a", "p/y/b")),
        tier="diversity: vendor\nfallbacks: 1",
        offers=[o("p", "x/a", price=(1, 1)), o("p", "y/b", price=(2, 2)), o("q", "y/b", (3, 3))],
    ),
    case(
        "vendor-provider-spans-a-second-account",
        Expect(chain=("p/x/a", "q/y/b")),
        tier="diversity: vendor+provider\nfallbacks: 1",
        offers=[o("p", "x/a", price=(1, 1)), o("p", "y/b", price=(2, 2)), o("q", "y/b", (3, 3))],
    ),
    case(
        "vendor-provider-replaces-the-last-member-by-another-account",
        Expect(chain=("p/x/a", "p/y/b", "q/w/d")),
        tier="diversity: vendor+provider\nfallbacks: 2",
        offers=[
            o("p", "x/a", price=(1, 1)),
            o("p", "y/b", price=(2, 2)),
            o("p", "z/c", price=(3, 3)),
            o("q", "w/d", price=(4, 4)),
        ],
    ),
    case(
        "provider-alone-may-repeat-a-vendor",
        Expect(chain=("p/x/a", "q/x/b")),
        tier="diversity: provider\nfallbacks: 1",
        offers=[o("p", "x/a", price=(1, 1)), o("q", "x/b", price=(2, 2)), o("q", "y/c", (3, 3))],
    ),
    case(
        "vendor-provider-keeps-vendors-distinct",
        Expect(chain=("p/x/a", "q/y/c")),
        tier="diversity: vendor+provider\nfallbacks: 1",
        offers=[o("p", "x/a", price=(1, 1)), o("q", "x/b", price=(2, 2)), o("q", "y/c", (3, 3))],
    ),
    case(
        "vendor-provider-without-a-second-account-offer-PC212",
        Expect(chain=("p/x/a", "p/y/b"), diags=(("PC212", TEAM, "  a:"),)),
        tier="fallbacks: 0",
        agent="diversity: vendor+provider\nfallbacks: 1",
        offers=[o("p", "x/a", price=(1, 1)), o("p", "y/b", price=(2, 2)), o("q", "x/c", (3, 3))],
    ),
    case(
        "vendor-provider-with-one-account-is-vendor",
        Expect(chain=("p/x/a", "p/y/b")),
        tier="diversity: vendor+provider\nfallbacks: 1",
        offers=[o("p", "x/a", price=(1, 1)), o("p", "y/b", price=(2, 2))],
    ),
    # ---------------------------------------------------------------- retire_warning_days
    case(
        "model-retiring-within-30-days-warns-PC211",
        Expect(chain=("p/x/a",), diags=(("PC211", TEAM, "  a:"),)),
        tier="fallbacks: 0",
        offers=[o("p", "x/a", deprecation_date="2026-12-11")],
    ),
    case(
        "retirement-after-the-window-is-quiet",
        Expect(chain=("p/x/a",)),
        tier="fallbacks: 0",
        offers=[o("p", "x/a", expiry_date="2026-12-21")],
    ),
    case(
        "retire-warning-days-sets-the-window",
        Expect(chain=("p/x/a",), diags=(("PC211", TEAM, "  a:"),)),
        tier="fallbacks: 0",
        env="retire_warning_days: 60",
        offers=[o("p", "x/a", expiry_date="2027-01-10")],
    ),
    case(
        "retire-warning-days-zero-silences",
        Expect(chain=("p/x/a",)),
        tier="fallbacks: 0",
        env="retire_warning_days: 0",
        offers=[o("p", "x/a", deprecation_date="2026-12-11")],
    ),
    case(
        "a-pinned-model-that-retires-soon-warns-too",
        Expect(chain=("p/y/b",), diags=(("PC211", TEAM, "  a:"),)),
        tier="fallbacks: 0",
        agent="pin: p/y/b",
        offers=[o("p", "x/a", price=(1, 1)), o("p", "y/b", (2, 2), expiry_date="2026-11-25")],
    ),
    # ---------------------------------------------------------------- environment agent overrides
    case(
        "env-agent-override-pins-in-this-environment",
        Expect(chain=("p/y/b",)),
        tier="fallbacks: 0",
        env="agents:\n  a: {pin: p/y/b}",
        offers=[o("p", "x/a", price=(1, 1)), o("p", "y/b", price=(2, 2))],
    ),
    case(
        "env-agent-override-is-the-most-specific-layer",
        Expect(chain=("p/y/vision",)),
        tier="fallbacks: 0\nmax_price: {output: 9}",
        agent="max_price: {output: 5}",
        env="agents:\n  a: {requires: [vision], max_price: {output: 3}}",
        offers=[
            o("p", "x/plain", price=(1, 1)),
            o("p", "y/vision", price=(2, 2), capabilities={"tools": True, "vision": True}),
            o("p", "z/vision", price=(4, 4), capabilities={"tools": True, "vision": True}),
        ],
    ),
    case(
        "env-agent-override-budget-wins-over-the-agent",
        Expect(chain=("p/y/cheap",)),
        tier="fallbacks: 0\nprefer: [x/*]",
        agent="workload: {input_mtok: 1, output_mtok: 1}\nbudget: 100",
        env="agents:\n  a: {budget: 5}",
        offers=[o("p", "x/good", price=(10, 10)), o("p", "y/cheap", price=(1, 1))],
    ),
    case(
        "env-agent-override-pin-must-fit-its-budget-PC202",
        Expect(diags=(("PC202", ENV, "  a: {pin"),)),
        tier="fallbacks: 0",
        agent="workload: {input_mtok: 1, output_mtok: 1}",
        env="agents:\n  a: {pin: p/x/good, budget: 5}",
        offers=[o("p", "x/good", price=(10, 10)), o("p", "y/cheap", price=(1, 1))],
    ),
    case(
        "env-agent-override-of-an-unknown-agent-PC119",
        Expect(diags=(("PC119", ENV, "  b:"),)),
        env="agents:\n  b: {enabled: false}",
        offers=[o("p", "x/a")],
    ),
    case(
        "env-agent-override-budget-needs-a-workload-PC102",
        Expect(diags=(("PC102", ENV, "  a: {budget"),)),
        env="agents:\n  a: {budget: 5}",
        offers=[o("p", "x/a")],
    ),
]


@pytest.mark.parametrize(("spec", "expect"), RULES)
def test_rule(spec: dict[str, Any], expect: Expect, make_project: Build) -> None:
    files = repo_files(**spec)
    result, diags = compile_repo(make_project(files))
    expected = sorted(
        (code, path, line_of(files, path, needle)) for code, path, needle in expect.diags
    )
    assert where(diags) == expected, [str(d.span) + " " + d.message for d in diags]
    if expect.chain is not None:
        assert chain(result) == expect.chain


# -------------------------------------------------------------------- enabled: false

TWO_AGENTS = "  a:\n    tier: t\n  b:\n    tier: t\n"


def test_enabled_false_takes_the_agent_out_of_that_environment(make_project: Build) -> None:
    files = repo_files([o("p", "x/a")], agents=TWO_AGENTS, env="agents:\n  b: {enabled: false}")
    other = files[ENV].replace("environment: e", "environment: f").split("agents:")[0]
    files["policies/environments/f.yaml"] = other  # f deploys both
    result, diags = compile_repo(make_project(files), write=True)
    assert result is not None, diags
    assert sorted(result.resolutions["e"].agents) == ["a"]
    assert sorted(result.resolutions["f"].agents) == ["a", "b"]
    rendered = json.loads((Path(result.project.root) / "rendered/e/openclaw.json").read_text())
    assert sorted(rendered["agents"]["entries"]) == ["a"]


def test_explain_says_why_an_agent_is_off_and_shows_its_budget(
    make_project: Build, cli: Callable[..., Any]
) -> None:
    files = repo_files(
        [o("p", "x/a")],
        agents=TWO_AGENTS + "    workload: {input_mtok: 1, output_mtok: 1}\n",
        env="agents:\n  a: {enabled: false}\n  b: {budget: 7}",
    )
    root = make_project(files)
    off = cli("explain", "a", "--root", str(root))
    assert off.exit_code == 2
    line = line_of(files, ENV, "  a: {enabled")
    assert f"note: e turns it off: enabled: false at {ENV}:{line}:" in off.stderr
    on = cli("explain", "b", "--root", str(root))
    assert on.exit_code == 0, on.stderr
    assert f"budget: 7 USD/month (set at {ENV}:{line_of(files, ENV, '  b: {budget')}:" in on.stdout


def test_disabling_every_agent_is_PC116(make_project: Build) -> None:
    files = repo_files([o("p", "x/a")], env="agents:\n  a: {enabled: false}")
    _, diags = compile_repo(make_project(files))
    assert [d.code for d in diags] == ["PC116"]


def test_override_of_an_agent_the_environment_does_not_deploy_warns(make_project: Build) -> None:
    files = repo_files(
        [o("p", "x/a")], tier="fallbacks: 0", env="teams: [team]\nagents:\n  b: {pin: p/x/a}"
    )
    files["policies/teams/other.yaml"] = "version: 1\nteam: other\nagents:\n  b:\n    tier: t\n"
    _, diags = compile_repo(make_project(files))
    assert where(diags) == [("PC119", ENV, line_of(files, ENV, "  b:"))]
    assert diags[0].severity.value == "warning"
    assert "team 'other'" in diags[0].notes[0]


def test_unknown_agent_override_has_a_did_you_mean(make_project: Build) -> None:
    files = repo_files([o("p", "x/a")], agents="  support-bot:\n    tier: t\n")
    files[ENV] += "agents:\n  suport-bot: {budget: 1}\n"
    _, diags = compile_repo(make_project(files))
    assert [d.code for d in diags] == ["PC119"]
    assert "did you mean 'support-bot'?" in diags[0].notes[0]


# -------------------------------------------------------------------- utility and pdf models


def _defaults(root: Path, env: str = "e") -> dict[str, Any]:
    config = json.loads((root / f"rendered/{env}/openclaw.json").read_text())
    defaults: dict[str, Any] = config["agents"]["defaults"]
    return defaults


PDF = {"tools": True, "pdf": True}


def test_utility_tier_renders_utility_model_as_one_ref(make_project: Build) -> None:
    files = repo_files(
        [o("p", "x/a", price=(1, 1)), o("p", "y/b", price=(2, 2))],
        tier="fallbacks: 1",
        env="utility_tier: t",
    )
    root = make_project(files)
    result, diags = compile_repo(root, write=True)
    assert result is not None, diags
    defaults = _defaults(root)
    assert defaults["utilityModel"] == "p/x/a"  # OpenClaw takes one ref here, no fallbacks
    assert "p/x/a" in defaults["modelPolicy"]["allow"]
    lock = json.loads((root / "rendered/e/clawpolicy.lock.json").read_text())
    assert lock["defaults"]["utilityModel"]["primary"] == "p/x/a"
    assert lock["defaults"]["utilityModel"]["fallbacks"] == []


def test_pdf_tier_requires_pdf(make_project: Build) -> None:
    files = repo_files(
        [o("p", "x/plain", price=(1, 1)), o("p", "y/reads-pdf", (2, 2), capabilities=PDF)],
        tier="fallbacks: 0",
        env="pdf_tier: t",
    )
    root = make_project(files)
    result, diags = compile_repo(root, write=True)
    assert result is not None, diags
    assert _defaults(root)["pdfModel"] == {"primary": "p/y/reads-pdf", "fallbacks": []}
    assert chain(result) == ("p/x/plain",)  # the tier itself does not need pdf


def test_pdf_tier_without_a_pdf_model_is_PC201(make_project: Build) -> None:
    files = repo_files([o("p", "x/plain")], tier="fallbacks: 0", env="pdf_tier: t")
    _, diags = compile_repo(make_project(files))
    assert where(diags) == [("PC201", ENV, line_of(files, ENV, "pdf_tier"))]
    assert any("requires pdf" in note for note in diags[0].notes)


@pytest.mark.parametrize("key", ["utility_tier", "pdf_tier"])
def test_unknown_utility_or_pdf_tier_is_PC104(key: str, make_project: Build) -> None:
    files = repo_files([o("p", "x/a")], env=f"{key}: tt")
    _, diags = compile_repo(make_project(files))
    assert where(diags) == [("PC104", ENV, line_of(files, ENV, key))]


def test_without_the_new_keys_nothing_new_is_rendered(make_project: Build) -> None:
    root = make_project(repo_files([o("p", "x/a")], env="default_tier: t"))
    compile_repo(root, write=True)
    assert set(_defaults(root)) == {"model", "models", "modelPolicy", "systemAgent"}


def test_promotion_carries_the_utility_model_onto_the_targets_account(
    cli: Callable[..., Any], make_project: Build
) -> None:
    from tests.test_promote import promote, two_env_files

    files = two_env_files("promote_from: staging\nutility_tier: fast\npdf_tier: fast\n")
    staging = "policies/environments/staging.yaml"
    files[staging] += "utility_tier: fast\npdf_tier: fast\n"
    catalog = json.loads(files["policies/catalogs/c.json"])
    for item in catalog["offers"]:
        item["capabilities"]["pdf"] = True
    files["policies/catalogs/c.json"] = json.dumps(catalog)
    root = make_project(files)
    assert cli("compile", "--root", str(root), "--env", "staging").exit_code == 0
    assert _defaults(root, "staging")["utilityModel"].startswith("q/")
    promoted = promote(cli, root, "staging", "prod")
    assert promoted.exit_code == 0, promoted.stderr
    utility = _defaults(root, "prod")["utilityModel"]
    assert utility == "p/" + _defaults(root, "staging")["utilityModel"].removeprefix("q/")
    lock = json.loads((root / "rendered/prod/clawpolicy.lock.json").read_text())
    assert lock["defaults"]["utilityModel"]["primary"] == utility
    assert _defaults(root, "prod")["pdfModel"]["primary"].startswith("p/")
    # the promoted files are what prod runs: compile reads them back without complaint
    compiled = cli("compile", "--root", str(root), "--check")
    assert compiled.exit_code == 0, compiled.stderr
    assert "PC307" not in compiled.stderr and "behind" not in compiled.stderr


def test_an_undeclared_utility_model_ref_is_caught(make_project: Build) -> None:
    from compiler.output import conformance

    root = make_project(repo_files([o("p", "x/a")], tier="fallbacks: 0", env="utility_tier: t"))
    compile_repo(root, write=True)
    config = json.loads((root / "rendered/e/openclaw.json").read_text())
    config["agents"]["defaults"]["utilityModel"] = "p/x/nope"
    [problem] = conformance.check(json.dumps(config), "rendered/e/openclaw.json")
    assert problem.code == "PC304" and "agents.defaults.utilityModel" in problem.message


def test_explain_names_where_each_new_key_came_from(
    cli: Callable[..., Any], make_project: Build
) -> None:
    files = repo_files(
        [o("p", "x/a", release_date=OLD), o("p", "y/b", release_date=OLD)],
        tier="fallbacks: 0\nvendors: [x, y]\nmin_age_days: 7",
        env="agents:\n  a: {vendors: [x], min_age_days: 30}",
    )
    root = make_project(files)
    result = cli("explain", "a", "--root", str(root), "--format", "json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)["environments"]["e"]
    vendors, age = body["constraints"]["vendors"], body["constraints"]["min_age_days"]
    assert vendors["value"] == ["x"] and age["value"] == 30
    origins = [(s["origin"], s["line"]) for s in vendors["from"]]
    assert origins == [
        ("tier t", line_of(files, TIERS, "vendors")),
        ("environment e override of agent a", line_of(files, ENV, "  a: {vendors")),
    ]
    assert [s["origin"] for s in age["from"]] == ["tier t", "environment e override of agent a"]
    text = cli("explain", "a", "--root", str(root)).stdout
    assert "vendors           x " in text
    assert "from tier t (policies/tiers.yaml:" in text
