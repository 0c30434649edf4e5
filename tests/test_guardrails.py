"""Issue 10's silent cases, each as a user meets it through the CLI: every one now exits 2, or
warns on every run so that `--strict` fails. Then the weak error messages of the same trial,
each with the words and the line it now gives.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import catalog_text, offer
from tests.test_promote import promote, two_env_files
from tests.test_resolver import ENV, TEAM, TIERS, line_of, o, repo_files

Cli = Callable[..., Any]
Build = Callable[..., Path]


def run(cli: Cli, root: Path, *args: str) -> Any:
    return cli(*args, "--root", str(root), env={"NO_COLOR": "1"})


def at(files: dict[str, str], path: str, needle: str) -> str:
    """`path:line:` of the first line of `path` holding `needle`, as diagnostics print it."""
    return f"{path}:{line_of(files, path, needle)}:"


# -------------------------------------------------------------------- provider accounts


def test_provider_account_without_offers_is_an_error(cli: Cli, make_project: Build) -> None:
    """Named `onerouter` while the catalog's offers are `infron`'s: every chain used to move to
    the second account with exit 0."""
    files = repo_files([o("infron", "x/a"), o("q", "y/b")], providers=("p", "q"))
    files[ENV] = files[ENV].replace("  p: {", "  onerouter: {")
    result = run(cli, make_project(files), "compile")
    assert result.exit_code == 2
    assert f"{at(files, ENV, 'onerouter')}3: error[PC120]: provider 'onerouter'" in result.stderr
    assert "hint: the catalogs' provider is 'infron'" in result.stderr
    assert not (make_project(files) / "rendered").exists()


def test_a_forgotten_provider_block_warns_on_every_run(cli: Cli, make_project: Build) -> None:
    files = repo_files([o("p", "x/a"), o("q", "y/b")], tier="fallbacks: 0", providers=("q",))
    root = make_project(files)
    for _ in range(2):  # also once the lock exists
        result = run(cli, root, "compile")
        assert result.exit_code == 0, result.stderr
        assert "warning[PC121]: policies/catalogs/c.json offers models of provider(s) 'p'" in (
            result.stderr
        )
    assert run(cli, root, "validate", "--strict").exit_code == 2


# -------------------------------------------------------------------- globs and vendors


GLOBS = 'prefer: ["gpt-5*-mini"]\navoid: ["Anthropic/*"]\nfallbacks: 0'
OPENAI = [o("p", "openai/gpt-5-mini", price=(5, 5)), o("p", "anthropic/claude", price=(1, 1))]


def test_globs_that_match_nothing_warn_with_a_did_you_mean(cli: Cli, make_project: Build) -> None:
    files = repo_files(OPENAI, tier=GLOBS)
    root = make_project(files)
    for _ in range(2):  # on every run, not only when a lock changes
        result = run(cli, root, "compile")
        assert result.exit_code == 0, result.stderr
        text = result.stderr
        assert f"{at(files, TIERS, 'prefer')}" in text
        assert "warning[PC122]: prefer glob 'gpt-5*-mini' of tier t matches no offer" in text
        assert "hint: did you mean 'openai/gpt-5*-mini'?" in text
        assert "warning[PC122]: avoid glob 'Anthropic/*' of tier t matches no offer" in text
        assert "hint: did you mean 'anthropic/*'?" in text
        assert "note: ids look like: " in text
    assert run(cli, root, "validate", "--strict").exit_code == 2


def test_globs_of_an_environment_override_are_checked_against_its_offers(
    cli: Cli, make_project: Build
) -> None:
    files = repo_files(OPENAI, tier="fallbacks: 0", env='tiers:\n  t: {prefer: ["anthropic"]}')
    result = run(cli, make_project(files), "validate")
    assert "environment e override of tier t matches no offer" in result.stderr
    assert "did you mean 'anthropic/claude'?" in result.stderr


# -------------------------------------------------------------------- catalog import


def test_an_import_that_yields_no_offers_is_an_error(cli: Cli, tmp_path: Path) -> None:
    """`--format infron` on an OpenRouter file (same `data` shape): every entry was skipped and
    an empty catalog was written with exit 0."""
    native = tmp_path / "models.json"
    entries = [{"id": "openai/gpt-5-mini", "name": "GPT-5 Mini", "context_length": 400000}]
    native.write_text(json.dumps({"data": entries}), encoding="utf-8")
    out = tmp_path / "snapshot.json"
    args = ("catalog", "import", str(native), "--format", "infron", "--date", "2026-11-20")
    result = cli(*args, "-o", str(out))
    assert result.exit_code == 2
    assert "error[PC503]: no offers: 1 entry was read" in result.stderr
    assert "note: 1 skipped: " in result.stderr
    assert not out.exists()


# -------------------------------------------------------------------- budgets on promotion


def test_promote_checks_the_environment_budget(cli: Cli, make_project: Build) -> None:
    root = make_project(two_env_files("promote_from: staging\nbudget: 5\n"))
    assert run(cli, root, "compile", "--env", "staging").exit_code == 0
    result = promote(cli, root, "staging", "prod")
    assert result.exit_code == 2
    assert "error[PC204]: environment 'prod' is estimated at" in result.stderr
    assert not (root / "rendered/prod").exists()


def test_promote_checks_the_environments_override_of_an_agent(
    cli: Cli, make_project: Build
) -> None:
    extra = "promote_from: staging\nagents:\n  triage: {budget: 1}\n"
    root = make_project(two_env_files(extra))
    assert run(cli, root, "compile", "--env", "staging").exit_code == 0
    result = promote(cli, root, "staging", "prod")
    assert result.exit_code == 2
    assert "error[PC208]: promoted p/b/mid for agent 'triage' does not fit" in result.stderr
    assert "> budget 1" in result.stderr


def test_a_promoted_environment_over_its_budget_warns_and_strict_fails(
    cli: Cli, make_project: Build
) -> None:
    files = two_env_files()
    root = make_project(files)
    assert run(cli, root, "compile", "--env", "staging").exit_code == 0
    assert promote(cli, root, "staging", "prod").exit_code == 0
    prod = root / "policies/environments/prod.yaml"
    prod.write_text(prod.read_text() + "agents:\n  triage: {budget: 1}\nbudget: 2\n")
    result = run(cli, root, "compile")
    assert result.exit_code == 0, result.stderr
    assert "warning[PC208]: agent 'triage' runs p/b/mid in environment 'prod'" in result.stderr
    assert "warning[PC204]: environment 'prod' runs an estimated" in result.stderr
    # the promotion would fail: pending lists the chain that no longer fits, not every chain
    assert "the next promotion changes 1 chain(s); the promotion would fail now" in result.stderr
    assert "note: writer:" not in result.stderr
    assert run(cli, root, "validate", "--strict").exit_code == 2


# -------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("llm.onerouter.pro/v1", "PC103", "must start with https:// or http://"),
        ("https:///v1", "PC103", "has no valid host"),
        ("ftp://llm.example.com/v1", "PC103", "must start with https:// or http://"),
        ("https://user:pw@llm.example.com/v1", "PC107", "carries user info"),
        ("https://llm.example.com/v1?key=sk-abc", "PC107", "has a query string"),
    ],
)
def test_base_url_is_checked(
    url: str, code: str, words: str, cli: Cli, make_project: Build
) -> None:
    files = repo_files([o("p", "x/a")])
    files[ENV] = files[ENV].replace("https://p.example/v1", url)
    result = run(cli, make_project(files), "validate")
    assert result.exit_code == 2
    assert f"{at(files, ENV, '  p:')}" in result.stderr
    assert f"error[{code}]: providers.p.base_url: {words}" in result.stderr
    assert "sk-abc" not in result.stderr and "pw@" not in result.stderr


def test_base_url_may_be_an_openclaw_substitution(cli: Cli, make_project: Build) -> None:
    files = repo_files([o("p", "x/a")], tier="fallbacks: 0")
    files[ENV] = files[ENV].replace("https://p.example/v1", '"${P_BASE_URL}/v1"')
    assert run(cli, make_project(files), "validate", "--strict").exit_code == 0


# -------------------------------------------------------------------- model age


def test_a_model_that_retires_soon_warns_with_its_date(cli: Cli, make_project: Build) -> None:
    files = repo_files([o("p", "x/a", deprecation_date="2026-12-01")], tier="fallbacks: 0")
    root = make_project(files)
    result = run(cli, root, "compile")
    assert result.exit_code == 0
    assert (
        f"{at(files, TEAM, '  a:')}3: warning[PC211]: environment 'e' chooses p/x/a, which "
        "retires on 2026-12-01 (in 11 days)"
    ) in result.stderr
    explained = run(cli, root, "explain", "a")
    assert "primary     p/x/a  [kept from lock]  [! retires on 2026-12-01 (in 11 days)]" in (
        explained.stdout
    )
    assert run(cli, root, "validate", "--strict").exit_code == 2


def test_newest_picking_a_model_of_the_catalog_day_warns(cli: Cli, make_project: Build) -> None:
    offers = [o("p", "x/new", release_date="2026-11-20"), o("p", "y/old", release_date="2026-01")]
    files = repo_files(offers, tier="sort: newest\nfallbacks: 0")
    root = make_project(files)
    result = run(cli, root, "compile")
    assert "chooses p/x/new, released 2026-11-20: 0 day(s) before the catalog date" in (
        result.stderr
    )
    assert "warning[PC213]" in result.stderr
    assert "hint: set min_age_days" in result.stderr
    assert run(cli, root, "validate", "--strict").exit_code == 2


# -------------------------------------------------------------------- error messages


def test_a_tab_in_the_indentation_is_named_at_its_line(cli: Cli, make_project: Build) -> None:
    files = repo_files([o("p", "x/a")])
    files[TIERS] = files[TIERS].replace("    description:", "\tdescription:")
    result = run(cli, make_project(files), "validate")
    assert f"{at(files, TIERS, 'description')}1: error[PC001]: YAML syntax error: line 4 is " in (
        result.stderr
    )
    assert "indented with a tab; YAML indents with spaces only" in result.stderr


def test_a_misaligned_key_gets_a_hint_at_its_line(cli: Cli, make_project: Build) -> None:
    files = repo_files([o("p", "x/a")], agent="fallbacks: 0")
    files[TEAM] = files[TEAM].replace("    fallbacks: 0", "   fallbacks: 0")
    result = run(cli, make_project(files), "validate")
    assert f"{at(files, TEAM, 'fallbacks')}" in result.stderr
    assert "is indented 3 space(s), unlike the lines above it (4 on line" in result.stderr


def test_pydantic_wording_is_ours(cli: Cli, make_project: Build) -> None:
    files = repo_files([o("p", "x/a")], agent="requires: vision")
    result = run(cli, make_project(files), "validate")
    assert "agents.a.requires: expected a list, like [vision], got text" in result.stderr
    assert "Input should be" not in result.stderr


def test_a_renamed_tier_is_named_at_its_definition(cli: Cli, make_project: Build) -> None:
    files = repo_files([o("p", "x/a")])
    files[TIERS] = files[TIERS].replace("  t:", "  tt:")
    result = run(cli, make_project(files), "validate")
    assert result.exit_code == 2
    assert f"{at(files, TIERS, '  tt:')}3: warning[PC123]: tier 'tt' is defined but never used" in (
        result.stderr
    )
    assert "note: 't' is used (1 agent(s)) but not defined: was the tier renamed here?" in (
        result.stderr
    )
    assert "error[PC104]: unknown tier 't'" in result.stderr


def test_a_provider_indented_into_api_key_says_so(cli: Cli, make_project: Build) -> None:
    files = repo_files([o("p", "x/a")])
    files[ENV] = files[ENV].replace(
        "  p: {base_url: https://p.example/v1, api: openai-completions, api_key: {env: P_KEY}}",
        "  p:\n    base_url: https://p.example/v1\n    api: openai-completions\n    api_key:\n"
        "      env: P_KEY\n      q:\n        base_url: https://q.example/v1\n"
        "        api: openai-completions",
    )
    result = run(cli, make_project(files), "validate")
    assert (
        f"{at(files, ENV, '      q:')}7: error[PC101]: 'q' looks like a provider account but is "
        "indented under providers.p.api_key"
    ) in result.stderr
    assert "hint: indent it like 'p', directly under providers:" in result.stderr


def test_teams_patterns_and_bare_pins_get_did_you_mean(cli: Cli, make_project: Build) -> None:
    files = repo_files([o("p", "openai/o3")], tier="fallbacks: 0", agent="pin: o3")
    files[ENV] += "teams: [team, teem]\n"
    result = run(cli, make_project(files), "validate")
    assert "warning[PC113]: teams pattern 'teem' matches no team" in result.stderr
    assert "hint: did you mean 'team'?" in result.stderr
    assert "error[PC202]: pin 'o3' of agent 'a' is not offered" in result.stderr
    assert "hint: did you mean p/openai/o3?" in result.stderr


def test_validate_says_would_be_replaced(cli: Cli, make_project: Build) -> None:
    files = repo_files([o("p", "x/a", price=(1, 1))], tier="fallbacks: 0")
    root = make_project(files)
    assert run(cli, root, "compile").exit_code == 0
    (root / "policies/catalogs/c.json").write_text(catalog_text([offer("p", "y/b")]))
    validated = run(cli, root, "validate")
    assert "locked choice(s) no longer fit and would be replaced" in validated.stderr
    checked = run(cli, root, "compile", "--check")
    assert "would be replaced" in checked.stderr
    assert "to update them: run clawpolicy compile, then commit rendered/" in checked.stdout
    compiled = run(cli, root, "compile")
    assert "locked choice(s) no longer fit and were replaced" in compiled.stderr


def test_a_source_environment_that_fails_to_load_is_not_called_unknown(
    cli: Cli, make_project: Build
) -> None:
    """staging's own error is the one shown: prod's promote_from 'staging' is not PC108."""
    files = two_env_files()
    staging = "policies/environments/staging.yaml"
    files[staging] += "bogus_key: 1\n"
    result = run(cli, make_project(files), "validate")
    assert result.exit_code == 2
    assert f"{staging}:" in result.stderr
    assert "PC108" not in result.stderr
    files[staging] = files[staging].replace("environment: staging", "environment: stage")
    files[staging] = files[staging].replace("bogus_key: 1\n", "")
    result = run(cli, make_project(files), "validate")  # a real unknown name still is
    assert "error[PC108]: promote_from names unknown environment 'staging'" in result.stderr


def test_a_teams_typo_is_shown_with_the_errors_it_causes(cli: Cli, make_project: Build) -> None:
    files = repo_files([o("p", "x/a")])
    files[ENV] = files[ENV].replace("version: 1\n", "version: 1\nteams: [teem]\n", 1)
    result = run(cli, make_project(files), "validate")
    assert result.exit_code == 2
    assert "warning[PC113]: teams pattern 'teem' matches no team" in result.stderr
    assert "hint: did you mean 'team'?" in result.stderr
