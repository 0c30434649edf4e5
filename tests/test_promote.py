"""`clawpolicy promote FROM TO`: chains copied from FROM's lock into TO's, mapped to TO's provider
accounts, checked against TO (constraints, catalog, budget), nothing written on any misfit; and
the issue's Done-when on a copy of the example repo, validated by the real OpenClaw."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler import api
from tests.conftest import REPO, catalog_text, offer
from tests.support.openclaw import Validator
from tests.test_gitref import TEAM as CORE_TEAM
from tests.test_gitref import TIERS, edit

Cli = Callable[..., Any]
PROVIDERS = {
    name: f"  {name}: {{base_url: https://{name}.example/v1, api: openai-completions, "
    f"api_key: {{env: {name.upper()}_KEY}}}}\n"
    for name in ("p", "q")
}
TEAM = CORE_TEAM + "    budget: 7\n"  # on writer, the last agent


def env_yaml(name: str, providers: str, extra: str = "") -> str:
    return (
        f"version: 1\nenvironment: {name}\ncatalogs: [catalogs/c.json]\nproviders:\n"
        + "".join(PROVIDERS[p] for p in providers)
        + f"default_tier: fast\n{extra}"
    )


def two_env_files(
    prod_extra: str = "promote_from: staging\n", p_mid_input: float = 2
) -> dict[str, str]:
    """staging resolves on provider q; prod has provider p (same model ids) and promotes."""
    offers = [
        offer(provider, model, price=price)
        for provider in ("p", "q")
        for model, price in (
            ("a/cheap", {"input": 1, "output": 2}),
            ("b/mid", {"input": p_mid_input if provider == "p" else 2, "output": 4}),
            ("d/alt", {"input": 1.5, "output": 2.5}),
        )
    ]
    return {
        "policies/tiers.yaml": TIERS,
        "policies/teams/core.yaml": TEAM,
        "policies/catalogs/c.json": catalog_text(offers),
        "policies/environments/staging.yaml": env_yaml("staging", "q"),
        "policies/environments/prod.yaml": env_yaml("prod", "p", prod_extra),
    }


def lock_of(root: Path, env: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (root / f"rendered/{env}/clawpolicy.lock.json").read_text(encoding="utf-8")
    )
    return data


def chain_of(body: dict[str, Any]) -> list[str]:
    return [body["primary"], *body["fallbacks"]]


def chains(lock: dict[str, Any]) -> dict[str, list[str]]:
    return {agent: chain_of(body) for agent, body in lock["agents"].items()}


def promote(cli: Cli, root: Path, *args: str) -> Any:
    return cli("promote", "--root", str(root), *args)


@pytest.fixture
def staged(make_project: Callable[..., Path]) -> Path:
    """The two-environment repo with only staging compiled."""
    root = make_project(two_env_files())
    api.compile_project(api.CompileOptions(root=root, envs=("staging",)))
    return root


def test_promoted_environment_never_resolves_on_its_own(cli: Cli, staged: Path) -> None:
    result = cli("compile", "--root", str(staged), "--env", "prod")
    assert result.exit_code == 0, result.stderr
    assert "warning[PC205]: environment 'prod' was never promoted from 'staging'" in result.stderr
    assert "hint: run clawpolicy promote staging prod" in result.stderr
    assert not (staged / "rendered/prod").exists()


def test_promote_maps_refs_to_the_target_providers(cli: Cli, staged: Path) -> None:
    result = promote(cli, staged, "staging", "prod")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("promoted 4 chain(s) from staging to prod\n")
    assert "  triage: q/b/mid, q/a/cheap -> p/b/mid, p/a/cheap" in result.stdout
    assert "+ prod/triage: [] -> [p/b/mid, p/a/cheap]" in result.stdout
    staging, prod = lock_of(staged, "staging"), lock_of(staged, "prod")
    assert {a: [r.replace("q/", "p/", 1) for r in c] for a, c in chains(staging).items()} == chains(
        prod
    )
    assert prod["defaults"]["model"]["primary"] == "p/b/mid"
    assert set(prod["tiers"]) == set(staging["tiers"])
    assert cli("compile", "--root", str(staged), "--check").exit_code == 0


def test_a_misfit_is_an_error_per_agent_and_nothing_is_written(
    cli: Cli, make_project: Callable[..., Path]
) -> None:
    tighter = "promote_from: staging\ntiers: {fast: {max_price: {output: 3}}}\n"
    root = make_project(two_env_files(prod_extra=tighter))
    api.compile_project(api.CompileOptions(root=root, envs=("staging",)))

    result = promote(cli, root, "staging", "prod")

    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if "error[PC208]" in line]
    assert len(errors) == 3, result.stderr  # triage, writer, the default model
    assert any(
        "promoted p/b/mid for agent 'triage'" in e and "output price 4 > 3" in e for e in errors
    )
    assert not (root / "rendered/prod").exists()


def test_budget_is_checked_on_the_target_prices(
    cli: Cli, make_project: Callable[..., Path]
) -> None:
    root = make_project(two_env_files(p_mid_input=3.5))  # writer: 3.5 + 4 = 7.5 > budget 7 on p
    api.compile_project(api.CompileOptions(root=root, envs=("staging",)))
    result = promote(cli, root, "staging", "prod")
    assert result.exit_code == 2
    assert (
        "error[PC208]: promoted p/b/mid for agent 'writer' does not fit environment 'prod': "
        "estimated 7.50 USD/month > budget 7" in result.stderr
    )


def test_promote_one_agent(cli: Cli, staged: Path) -> None:
    assert promote(cli, staged, "staging", "prod").exit_code == 0
    before = lock_of(staged, "prod")
    edit(
        staged / "policies/teams/core.yaml",
        "  triage:\n    tier: fast",
        "  triage:\n    tier: fast\n    max_price: {output: 3}",
    )
    assert cli("compile", "--root", str(staged), "--env", "staging").exit_code == 0

    result = promote(cli, staged, "staging", "prod", "--agent", "triage")

    assert result.exit_code == 0, result.stderr
    after = lock_of(staged, "prod")
    assert chains(after)["triage"] == ["p/a/cheap", "p/d/alt"]
    assert chains(after)["writer"] == chains(before)["writer"]
    assert after["defaults"] == before["defaults"]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        pytest.param(("dev", "prod"), "PC108", "unknown environment 'dev'", id="unknown-env"),
        pytest.param(("prod", "staging"), "PC205", "environment 'prod' has no lock", id="no-lock"),
        pytest.param(("staging", "staging"), "PC103", "two different environments", id="same"),
        pytest.param(
            ("staging", "prod", "--agent", "ghost"), "PC103", "'ghost' is not deployed", id="agent"
        ),
    ],
)
def test_user_errors(cli: Cli, staged: Path, args: tuple[str, ...], code: str, needle: str) -> None:
    result = promote(cli, staged, *args)
    assert result.exit_code == 2
    assert f"error[{code}]" in result.stderr and needle in result.stderr


def test_target_that_promotes_from_another_environment(
    cli: Cli, make_project: Callable[..., Path]
) -> None:
    files = two_env_files()
    files["policies/environments/dev.yaml"] = env_yaml("dev", "p")
    root = make_project(files)
    api.compile_project(api.CompileOptions(root=root, envs=("staging", "dev")))
    result = promote(cli, root, "dev", "prod")
    assert result.exit_code == 2
    assert "environment 'prod' promotes from 'staging', not 'dev'" in result.stderr
    assert "hint: clawpolicy promote staging prod" in result.stderr


def test_json_format_prints_the_diff_of_the_target(cli: Cli, staged: Path) -> None:
    result = promote(cli, staged, "staging", "prod", "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["environments"]["prod"]["status"] == "added"


@pytest.mark.openclaw
def test_done_when_promote_staging_prod_on_the_example_repo(
    cli: Cli, tmp_path: Path, openclaw_validator: Validator
) -> None:
    root = tmp_path / "example"
    for folder in ("policies", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    assert "promote_from: staging" in (root / "policies/environments/prod.yaml").read_text()
    staging_file = root / "policies/environments/staging.yaml"
    edit(
        staging_file,
        "  reasoning: {fallbacks: 2}\n",
        "  reasoning: {fallbacks: 2}\n  fast: {max_price: {output: 3.0}}\n",
    )
    assert cli("compile", "--root", str(root), "--env", "staging", "--env", "dev").exit_code == 0

    result = promote(cli, root, "staging", "prod")

    assert result.exit_code == 0, result.stderr
    staging, prod = lock_of(root, "staging"), lock_of(root, "prod")
    shared = set(staging["agents"]) & set(prod["agents"])
    assert shared == set(prod["agents"]) and len(shared) == 13
    assert {a: chains(prod)[a] for a in shared} == {a: chains(staging)[a] for a in shared}
    for key in ("model", "imageModel"):
        assert chain_of(prod["defaults"][key]) == chain_of(staging["defaults"][key])
    assert {t: chain_of(b) for t, b in prod["tiers"].items()} == {
        t: chain_of(b) for t, b in staging["tiers"].items()
    }
    [validation] = openclaw_validator.validate([root / "rendered/prod/openclaw.json"])
    assert validation.valid, validation.summary()
    assert cli("compile", "--root", str(root), "--check").exit_code == 0


def test_target_without_promote_from_keeps_the_promoted_chains(
    cli: Cli, make_project: Callable[..., Path]
) -> None:
    root = make_project(two_env_files(prod_extra=""))
    api.compile_project(api.CompileOptions(root=root))
    assert chains(lock_of(root, "prod"))["triage"] == ["p/b/mid", "p/a/cheap"]
    edit(
        root / "policies/environments/staging.yaml",
        "default_tier: fast\n",
        "default_tier: fast\ntiers: {fast: {max_price: {output: 3}}}\n",
    )
    api.compile_project(api.CompileOptions(root=root, envs=("staging",)))

    result = promote(cli, root, "staging", "prod")

    assert result.exit_code == 0, result.stderr
    assert chains(lock_of(root, "prod"))["triage"] == ["p/a/cheap", "p/d/alt"]
    assert cli("compile", "--root", str(root), "--check").exit_code == 0  # kept: they still fit


def test_stale_source_is_promoted_as_committed_with_a_warning(cli: Cli, staged: Path) -> None:
    edit(staged / "policies/teams/core.yaml", "team: core\n", "team: core\n# reviewed\n")
    result = promote(cli, staged, "staging", "prod")
    assert result.exit_code == 0
    assert (
        "warning[PC305]: rendered/staging is older than its policies; promoted what it holds"
        in result.stderr
    )


def test_first_promotion_of_a_new_repo_needs_no_prior_compile(
    make_project: Callable[..., Path], cli: Cli
) -> None:
    """A new repo whose prod promotes from staging: nothing is rendered yet, so `promote`
    resolves staging itself (with a warning) instead of asking for a lock first."""
    root = make_project(two_env_files())
    result = promote(cli, root, "staging", "prod")
    assert result.exit_code == 0, result.stderr
    assert "PC305" in result.stderr and "no lock yet" in result.stderr
    assert not (root / "rendered/staging").exists()  # promote writes only the target
    assert cli("compile", "--root", str(root)).exit_code == 0
    assert cli("compile", "--check", "--root", str(root)).exit_code == 0
    staging, prod = (chains(lock_of(root, env)) for env in ("staging", "prod"))
    assert {a: [r.split("/", 1)[1] for r in c] for a, c in prod.items()} == {
        a: [r.split("/", 1)[1] for r in c] for a, c in staging.items()
    }
