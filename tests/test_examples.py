"""The repository's own example policy repo: `rendered/` is committed and up to date, passes the
real OpenClaw validator, and every chain in it satisfies its merged constraints."""

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from compiler import api
from compiler.load.loader import load_project
from compiler.load.project import Constraints, Environment, Project
from compiler.output import conformance
from compiler.resolve.constraints import merge, monthly_cost, problems
from compiler.resolve.resolver import DEFAULT_KEY, IMAGE_KEY, TIER_KEY_PREFIX
from tests.conftest import REPO
from tests.support.openclaw import Validator
from tests.test_cases import failures

ENVS = sorted(p.stem for p in (REPO / "policies" / "environments").glob("*.yaml"))


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(REPO)


def test_every_environment_is_rendered() -> None:
    rendered = sorted(p.parent.name for p in (REPO / "rendered").glob("*/openclaw.json"))
    assert rendered == ENVS
    assert all((REPO / "rendered" / env / "clawpolicy.lock.json").is_file() for env in ENVS)


def test_example_compiles_without_warnings(cli: Callable[..., Any]) -> None:
    """The example moved off the models its catalogs retire within 30 days (avoid globs in
    tiers.yaml, support-triage's pin) and promoted that to prod: nothing warns, not even with
    --strict."""
    result = cli("validate", "--strict", "--root", str(REPO))
    assert result.exit_code == 0, result.stderr
    assert "warning[" not in result.stderr


def test_rendered_is_up_to_date(cli: Callable[..., Any]) -> None:
    result = cli("compile", "--check", "--root", str(REPO))
    assert result.exit_code == 0, result.stdout + result.stderr


@pytest.mark.openclaw
def test_rendered_passes_the_real_openclaw(openclaw_validator: Validator) -> None:
    outputs = [REPO / "rendered" / env / "openclaw.json" for env in ENVS]
    problems_found = failures(openclaw_validator.validate(outputs))
    assert not problems_found, "\n".join(problems_found)


@pytest.mark.parametrize("env", ENVS)
def test_every_ref_resolves(env: str) -> None:
    path = f"rendered/{env}/openclaw.json"
    assert conformance.check((REPO / path).read_text(encoding="utf-8"), path) == []


def _layers(project: Project, env: Environment, key: str) -> tuple[tuple[Constraints, ...], Any]:
    """The constraint layers and the agent (or None) of a lock key."""
    agent = project.agents.get(key)
    if key == DEFAULT_KEY:
        tier = env.spec.default_tier
    elif key == IMAGE_KEY:
        tier = env.spec.image_tier
    elif key.startswith(TIER_KEY_PREFIX):
        tier = key.removeprefix(TIER_KEY_PREFIX)
    else:
        assert agent is not None, f"lock names unknown agent {key}"
        tier = agent.spec.tier or env.spec.default_tier
    assert tier is not None
    override = env.tier_overrides.get(tier)
    layers = (project.tiers[tier].layer, *([override] if override else []))
    return (*layers, *([agent.layer] if agent else [])), agent


def _diversity_key(offer: Any, diversity: str) -> str:
    return {"vendor": offer.vendor, "provider": offer.provider}.get(diversity, offer.ref)


@pytest.mark.parametrize("env_name", ENVS)
def test_every_chain_satisfies_its_merged_constraints(project: Project, env_name: str) -> None:
    env = project.environments[env_name]
    lock = api.read_lock(REPO, env_name)
    providers = {p.id for p in env.providers}
    assert set(lock.chains) >= set(env.agent_ids)
    checked = 0
    for key, refs in lock.chains.items():
        layers, agent = _layers(project, env, key)
        merged = merge(layers, ("vision",) if key == IMAGE_KEY else ())
        offers = [env.catalog.by_ref[ref] for ref in refs]
        assert all(o.provider in providers for o in offers), (key, refs)
        for offer in offers:
            assert problems(offer, merged) == (), (env_name, key, offer.ref)
        groups = [_diversity_key(o, merged.diversity) for o in offers]
        assert len(set(groups)) == len(groups), (env_name, key, refs, merged.diversity)
        if env.spec.promote_from is None:  # no shortfall
            assert len(refs) == merged.fallbacks + 1, (env_name, key, refs)
        else:  # promoted: the source's chain, which may ask for fewer fallbacks
            assert len(refs) <= merged.fallbacks + 1, (env_name, key, refs)
        if agent is not None and agent.spec.pin is not None:
            pin_provider, _, pin_model = agent.spec.pin.partition("/")
            assert offers[0].id == pin_model, (key, refs[0])
            assert pin_provider not in providers or offers[0].provider == pin_provider
        if agent is not None and agent.spec.budget is not None:
            workload = agent.spec.workload
            cost = monthly_cost(offers[0], workload.input_mtok, workload.output_mtok)
            assert cost is not None
            assert cost <= agent.spec.budget, (key, cost)
        checked += 1
    assert checked >= len(env.agent_ids)


@pytest.mark.parametrize("env_name", ENVS)
def test_rendered_chains_match_the_lock(env_name: str) -> None:
    config = json.loads((REPO / "rendered" / env_name / "openclaw.json").read_text())
    lock = json.loads((REPO / "rendered" / env_name / "clawpolicy.lock.json").read_text())
    entries = config["agents"]["entries"]
    assert sorted(entries) == sorted(lock["agents"])
    for agent, chain in lock["agents"].items():
        assert entries[agent]["model"] == {
            "primary": chain["primary"],
            "fallbacks": chain["fallbacks"],
        }


@pytest.mark.parametrize("env_name", ENVS)
def test_environment_budget_holds(project: Project, env_name: str) -> None:
    env = project.environments[env_name]
    lock = json.loads((REPO / "rendered" / env_name / "clawpolicy.lock.json").read_text())
    total = sum(
        (Decimal(str(c["monthly_cost"])) for c in lock["agents"].values() if "monthly_cost" in c),
        Decimal(0),
    )
    if env.spec.budget is not None:
        assert total <= env.spec.budget
