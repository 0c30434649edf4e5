"""Input specs and the loader's cross-file checks: accepted and rejected documents, each rejection
asserted by code and span (file, line, column), never by prose."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from compiler.diagnostics import CompileError, Diagnostic
from compiler.load.loader import load_project
from compiler.load.schemaerrors import diagnostics_from_validation
from compiler.load.spec import (
    CatalogSpec,
    EnvironmentFileSpec,
    TeamFileSpec,
    TiersFileSpec,
    parse_token_count,
)
from compiler.load.yamlsource import parse
from tests.conftest import catalog_text, offer
from tests.test_resolver import ENV, TEAM, TIERS, line_of, repo_files


def validate(model: type[BaseModel], text: str) -> list[tuple[str, int, int]]:
    """(code, line, column) of every diagnostic of one document validated against `model`."""
    doc = parse(text, "f.yaml")
    try:
        model.model_validate(doc.data)
    except ValidationError as exc:
        found = diagnostics_from_validation(exc, model, doc.source_map)
        return [(d.code, d.span.line, d.span.column) for d in found if d.span]
    return []


DOCUMENTS = [
    # ---------------------------------------------------------------- accepted
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    requires: [tools]\n    min_context: 128k\n"
        "    max_price: {input: 1, output: 2.5}\n    prefer: ['a/*']\n    avoid: ['*:free']\n"
        "    sort: newest\n    fallbacks: 0\n    diversity: provider\n    thinking: xhigh\n",
        [],
        id="tier-every-key",
    ),
    pytest.param(
        TeamFileSpec,
        "version: 1\nteam: t\nowners: ['@o/t']\nagents:\n  a:\n    tier: fast\n"
        "    pin: p/x/y\n    workload: {input_mtok: 1.5, output_mtok: 2}\n    budget: 10\n",
        [],
        id="team-agent-keys",
    ),
    pytest.param(
        EnvironmentFileSpec,
        "version: 1\nenvironment: e\nproviders:\n  p:\n    base_url: https://x\n"
        "    api: anthropic-messages\n    api_key: {env: P_KEY}\npromote_from: dev\n",
        [],
        id="environment-env-ref",
    ),
    # ---------------------------------------------------------------- unknown and missing keys
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    max_price: {input: 1, ouput: 2}\n",
        [("PC101", 4, 27)],
        id="unknown-nested-key-at-the-key",
    ),
    pytest.param(TiersFileSpec, "tiers: {}\n", [("PC102", 1, 1)], id="missing-version"),
    pytest.param(TeamFileSpec, "version: 1\nagents: {}\n", [("PC102", 1, 1)], id="missing-team"),
    pytest.param(
        EnvironmentFileSpec,
        "version: 1\nenvironment: e\nproviders:\n  p:\n    api: ollama\n",
        [("PC102", 5, 5)],
        id="missing-nested-key-at-the-parent",
    ),
    # ---------------------------------------------------------------- wrong types
    pytest.param(TiersFileSpec, "version: 2\ntiers: {}\n", [("PC103", 1, 10)], id="version-2"),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    max_price: {output: '2.0'}\n",
        [("PC103", 4, 25)],
        id="string-for-a-number",
    ),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    fallbacks: yes\n",
        [("PC103", 4, 16)],
        id="yes-for-an-integer",
    ),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    fallbacks: 1.5\n",
        [("PC103", 4, 16)],
        id="float-for-an-integer",
    ),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    requires: tools\n",
        [("PC103", 4, 15)],
        id="string-for-a-list",
    ),
    pytest.param(
        TeamFileSpec, "version: 1\nteam: [a, b]\n", [("PC103", 2, 7)], id="list-for-string"
    ),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    requires: [tools, telepathy]\n",
        [("PC103", 4, 23)],
        id="unknown-capability",
    ),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    sort: cheapest\n",
        [("PC103", 4, 11)],
        id="unknown-sort",
    ),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    fallbacks: -1\n",
        [("PC103", 4, 16)],
        id="negative-fallbacks",
    ),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    max_price: {input: -1}\n",
        [("PC103", 4, 24)],
        id="negative-price",
    ),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    min_context: 12.5\n",
        [("PC103", 4, 18)],
        id="fractional-token-count",
    ),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    min_context: 128kb\n",
        [("PC103", 4, 18)],
        id="bad-token-suffix",
    ),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  fast:\n    min_context: true\n",
        [("PC103", 4, 18)],
        id="bool-for-token-count",
    ),
    pytest.param(
        TeamFileSpec,
        "version: 1\nteam: t\nagents:\n  a:\n    workload: {input_mtok: '1'}\n",
        [("PC103", 5, 28)],
        id="string-for-workload",
    ),
    pytest.param(
        TiersFileSpec,
        "version: 1\ntiers:\n  a:\n    sort: x\n  b:\n    fallbacks: x\n    tierr: 1\n",
        [("PC103", 4, 11), ("PC103", 6, 16), ("PC101", 7, 5)],
        id="every-error-of-a-document",
    ),
]


@pytest.mark.parametrize(("model", "text", "expected"), DOCUMENTS)
def test_document(model: type[BaseModel], text: str, expected: list[tuple[str, int, int]]) -> None:
    assert sorted(validate(model, text)) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("128k", 128_000, id="k"),
        pytest.param("128K", 128_000, id="upper-k"),
        pytest.param("1m", 1_000_000, id="m"),
        pytest.param("1.5m", 1_500_000, id="fractional-m"),
        pytest.param("200000", 200_000, id="integer"),
        pytest.param("0", 0, id="zero"),
    ],
)
def test_min_context_suffixes(text: str, value: int) -> None:
    doc = parse(f"version: 1\ntiers:\n  fast:\n    min_context: {text}\n", "t.yaml")
    assert TiersFileSpec.model_validate(doc.data).tiers["fast"].min_context == value


def test_token_count_passes_non_strings_through() -> None:
    assert parse_token_count(32000) == 32000
    assert parse_token_count(True) is True  # rejected by the integer validator, not turned into 1


def test_unknown_key_hint_names_the_closest_key() -> None:
    doc = parse("version: 1\nteam: t\nagents:\n  a:\n    tierr: fast\n", "t.yaml")
    with pytest.raises(ValidationError) as caught:
        TeamFileSpec.model_validate(doc.data)
    [diag] = diagnostics_from_validation(caught.value, TeamFileSpec, doc.source_map)
    assert diag.code == "PC101"
    assert "hint: did you mean 'tier'?" in diag.notes


def test_catalog_bool_must_be_a_bool() -> None:
    bad = offer("p", "x/m", deprecated="yes")
    with pytest.raises(ValidationError):
        CatalogSpec.model_validate_json(catalog_text([bad]))


# ------------------------------------------------------------------------ loader (cross-file)


def load_errors(root: Path) -> list[Diagnostic]:
    with pytest.raises(CompileError) as caught:
        load_project(root)
    return list(caught.value.diagnostics)


def spans(diags: list[Diagnostic]) -> list[tuple[str, str, int]]:
    return sorted(
        (d.code, d.span.path if d.span else "", d.span.line if d.span else 0) for d in diags
    )


def base(**changes: Any) -> dict[str, str]:
    return repo_files([offer("p", "x/m")], **changes)


LOADER = [
    pytest.param(
        {TEAM: "version: 1\nteam: team\nagents:\n  a:\n    tierr: t\n"},
        [("PC101", TEAM, "tierr")],
        id="unknown-key",
    ),
    pytest.param(
        {TEAM: "version: 1\nteam: team\nagents:\n  a:\n    tier: tt\n"},
        [("PC104", TEAM, "tier: tt"), ("PC123", TIERS, "  t:")],  # t renamed to tt?
        id="unknown-tier",
    ),
    pytest.param(
        {TEAM: "version: 1\nteam: team\nagents:\n  Support_Bot:\n    tier: t\n"},
        [("PC106", TEAM, "Support_Bot")],
        id="invalid-agent-id-uppercase",
    ),
    pytest.param(
        {TEAM: "version: 1\nteam: team\nagents:\n  -bot:\n    tier: t\n"},
        [("PC106", TEAM, "-bot")],
        id="invalid-agent-id-leading-dash",
    ),
    pytest.param(
        {TEAM: f"version: 1\nteam: team\nagents:\n  {'a' * 65}:\n    tier: t\n"},
        [("PC106", TEAM, "aaaa")],
        id="invalid-agent-id-too-long",
    ),
    pytest.param(
        {"policies/teams/zz.yaml": "version: 1\nteam: other\nagents:\n  a:\n    tier: t\n"},
        [("PC105", "policies/teams/zz.yaml", "  a:")],
        id="duplicate-agent-across-teams",
    ),
    pytest.param(
        {
            "policies/teams/aa.yaml": "version: 1\nteam: one\nagents:\n  x:\n    tierr: t\n",
            "policies/teams/zz.yaml": "version: 1\nteam: two\nagents:\n  y:\n    tierr: t\n",
        },
        [
            ("PC101", "policies/teams/aa.yaml", "tierr"),
            ("PC101", "policies/teams/zz.yaml", "tierr"),
        ],
        id="two-bad-files-two-diagnostics",
    ),
    pytest.param(
        {
            TIERS: "version: 1\ntiers:\n  t:\n    sort: cheapest\n",
            TEAM: "version: 1\nteam: team\nagents:\n  a:\n    fallbacks: many\n",
        },
        [("PC103", TIERS, "sort:"), ("PC103", TEAM, "fallbacks:")],
        id="errors-in-tiers-and-team-both-reported",
    ),
    pytest.param(
        {TEAM: "version: 1\nteam: team\nagents:\n  a:\n    tier: t\n    budget: 5\n"},
        [("PC102", TEAM, "budget:")],
        id="budget-without-workload",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), LOADER)
def test_loader_rejects(
    changes: dict[str, str],
    expected: list[tuple[str, str, str]],
    make_project: Callable[..., Path],
) -> None:
    files = {**base(), **changes}
    diags = load_errors(make_project(files))
    assert spans(diags) == sorted((c, p, line_of(files, p, n)) for c, p, n in expected), [
        str(d.span) + " " + d.message for d in diags
    ]


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        pytest.param("default_tier: tt", "default_tier:", id="default-tier"),
        pytest.param("image_tier: tt", "image_tier:", id="image-tier"),
        pytest.param("tiers:\n  tt: {fallbacks: 1}", "  tt:", id="tier-override"),
    ],
)
def test_unknown_tier_in_environment_is_PC104_with_hint(
    env: str, needle: str, make_project: Callable[..., Path]
) -> None:
    files = repo_files(
        [offer("p", "x/m")],
        env=env,
    )
    files[TIERS] = "version: 1\ntiers:\n  t: {}\n  ttt: {}\n"
    found = load_errors(make_project(files))
    [diag] = [d for d in found if d.code == "PC104"]  # (and PC123: tier 'ttt' is never used)
    assert (diag.code, diag.span and diag.span.line) == ("PC104", line_of(files, ENV, needle))
    assert any("did you mean 't'" in note or "did you mean 'ttt'" in note for note in diag.notes)


def test_unknown_tier_hint_names_the_closest_tier(make_project: Callable[..., Path]) -> None:
    files = base()
    files[TIERS] = "version: 1\ntiers:\n  fast: {}\n  standard: {}\n"
    files[TEAM] = "version: 1\nteam: team\nagents:\n  a:\n    tier: fsat\n"
    [diag, renamed] = load_errors(make_project(files))
    assert (diag.code, renamed.code, renamed.message) == (
        "PC104",
        "PC123",
        "tier 'fast' is defined but never used",
    )
    assert "hint: did you mean 'fast'?" in diag.notes


def test_min_context_suffix_reaches_the_project(make_project: Callable[..., Path]) -> None:
    project = load_project(make_project(base(tier="min_context: 128k", agent="min_context: 1m")))
    assert project.tiers["t"].spec.min_context == 128_000
    assert project.agents["a"].spec.min_context == 1_000_000


def test_catalog_with_a_wrong_type_is_PC110(make_project: Callable[..., Path]) -> None:
    files = base()
    files["policies/catalogs/c.json"] = catalog_text([offer("p", "x/m", deprecated="yes")])
    [diag] = load_errors(make_project(files))
    assert (diag.code, diag.span and diag.span.path) == ("PC110", ENV)


@pytest.mark.parametrize(
    ("native", "fmt"),
    [
        pytest.param({"data": [{"id": "a/b", "pricing": {"prompt": "0"}}]}, "openrouter",
                     id="openrouter-response"),
        pytest.param({"gpt-x": {"litellm_provider": "openai", "mode": "chat"}}, "litellm",
                     id="litellm-prices"),
        pytest.param({"openai": {"id": "openai", "models": {}}}, "modelsdev", id="modelsdev-api"),
    ],
)  # fmt: skip
def test_native_catalog_in_place_of_a_snapshot_says_how_to_import_it(
    make_project: Callable[..., Path], native: dict[str, Any], fmt: str
) -> None:
    files = base()
    files["policies/catalogs/c.json"] = json.dumps(native)
    [diag] = load_errors(make_project(files))
    assert (diag.code, diag.span and diag.span.path) == ("PC110", ENV)
    assert f"catalog import policies/catalogs/c.json --format {fmt}" in diag.notes[0]


# ------------------------------------------------------------------------ secrets

SECRET = "sk-live-0123456789abcdef"


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
@pytest.mark.parametrize("command", ["validate", "compile"])
def test_literal_api_key_is_PC107_and_never_printed(
    command: str, fmt: str, make_project: Callable[..., Path], cli: Callable[..., Any]
) -> None:
    files = base()
    files[ENV] = files[ENV].replace("api_key: {env: P_KEY}", f"api_key: {SECRET}")
    root = make_project(files)
    result = cli(command, "--root", str(root), "--format", fmt)
    assert result.exit_code == 2
    output = result.stdout + result.stderr
    assert "PC107" in output
    assert SECRET not in output
    assert SECRET[:8] not in output
    assert not (root / "rendered").exists()


def test_literal_api_key_span_is_the_value(make_project: Callable[..., Path]) -> None:
    files = base()
    files[ENV] = files[ENV].replace("api_key: {env: P_KEY}", f"api_key: '{SECRET}'")
    [diag] = load_errors(make_project(files))
    assert diag.code == "PC107"
    assert diag.span is not None
    line = line_of(files, ENV, SECRET)
    assert (diag.span.line, diag.span.column) == (
        line,
        files[ENV].splitlines()[line - 1].index("'") + 1,
    )
    assert SECRET not in diag.message + "".join(diag.notes)


def test_secret_pasted_into_an_env_ref_is_rejected_without_echoing_it(
    make_project: Callable[..., Path], cli: Callable[..., Any]
) -> None:
    """`api_key: {env: <the key itself>}` is the same mistake as a literal key."""
    files = base()
    files[ENV] = files[ENV].replace("api_key: {env: P_KEY}", f"api_key: {{env: {SECRET}}}")
    result = cli("validate", "--root", str(make_project(files)))
    assert result.exit_code == 2
    assert SECRET not in result.stdout + result.stderr
