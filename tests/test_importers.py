"""Catalog import: excerpts of real native catalogs (tests/data/catalogs), exact prices and
limits, every sentinel case."""

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler import api
from compiler.catalogs.importers import IMPORTERS, ImportOptions
from compiler.cli.catalog import catalog
from compiler.diagnostics import CompileError
from compiler.load.catalog import parse_snapshot, serialize_snapshot
from tests.support.catalog_fixtures import (
    catalog_file,
    environment_yaml,
    example_repo,
    imported,
    infron_response,
    native,
    offer_map,
)

D = Decimal


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize(
    ("key", "entries", "offers", "skipped"),
    [
        pytest.param(
            "openrouter-may", 16, 16, {},
            id="openrouter-2026-05-15",
        ),
        pytest.param(
            "openrouter-june", 37, 37, {},
            id="openrouter-2026-06-16",
        ),
        pytest.param(
            "modelsdev", 32, 24,
            {
                "not chat (embedding or rerank)": 2,
                "not chat (no text input)": 2,
                "not chat (no text output)": 1,
                "provider id not valid for OpenClaw": 3,
            },
            id="modelsdev-2026-07-01",
        ),
    ],
)  # fmt: skip
def test_counts(key: str, entries: int, offers: int, skipped: dict[str, int]) -> None:
    result = imported(key)
    assert len(result.snapshot.offers) == offers
    assert dict(result.skipped) == skipped
    assert offers + sum(skipped.values()) == entries


def test_litellm_counts_are_the_chat_entries_minus_duplicates() -> None:
    raw = native("litellm-model-prices-2026-11-20.json")
    chat = sum(1 for value in raw.values() if value.get("mode") == "chat")
    result = imported("litellm")
    assert (len(raw), chat, len(result.snapshot.offers)) == (32, 25, 24)
    assert result.skipped["duplicate (provider, id)"] == 1
    assert result.skipped["alias entry (alias_of)"] == 2
    assert result.skipped["documentation entry (sample_spec)"] == 1
    assert result.skipped["not chat (mode embedding)"] == 1
    assert result.skipped["not chat (mode responses)"] == 2
    assert result.skipped["not chat (mode audio_transcription)"] == 1
    assert len(result.snapshot.offers) + sum(result.skipped.values()) == len(raw)


def test_modelsdev_metadata_file_is_refused_with_a_hint() -> None:
    document = native("modelsdev-models-2026-07-01.json")
    with pytest.raises(CompileError) as caught:
        IMPORTERS["modelsdev"](document, ImportOptions(date=date(2026, 7, 1), path="m.json"))
    (diag,) = caught.value.diagnostics
    assert diag.code == "PC501"
    assert "not a models.dev api.json" in diag.message


# --------------------------------------------------------------------------- well-known models

OPENROUTER_MODELS = [
    pytest.param(
        "anthropic/claude-sonnet-4.5",
        {"input": D(3), "output": D(15), "cache_read": D("0.3"), "cache_write": D("3.75")},
        1_000_000, 64_000, id="claude-sonnet-4.5",
    ),
    pytest.param(
        "google/gemini-2.5-flash",
        {"input": D("0.3"), "output": D("2.5"), "cache_read": D("0.03"),
         "cache_write": D("0.08333333333333334")},
        1_048_576, 65_535, id="gemini-2.5-flash",
    ),
    pytest.param(
        "nvidia/nemotron-3-ultra-550b-a55b",  # headline 1,000,000; top provider 262,144
        None, 262_144, 16_384, id="conservative-context",
    ),
    pytest.param(
        "openrouter/fusion",  # top_provider.context_length is null
        {"input": "variable", "output": "variable"}, 1_000_000, None, id="null-top-provider",
    ),
    pytest.param(
        "openrouter/free", {"input": D(0), "output": D(0)}, 200_000, None, id="free-router",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("model_id", "price", "context", "max_output"), OPENROUTER_MODELS)
def test_openrouter_june_models(
    model_id: str, price: dict[str, Any] | None, context: int, max_output: int | None
) -> None:
    offer = offer_map(imported("openrouter-june"))[("openrouter", model_id)]
    if price is not None:
        assert offer.price.model_dump(exclude_none=True) == price
    assert (offer.context_window, offer.max_output) == (context, max_output)


def test_openrouter_sonnet_capabilities_and_dates() -> None:
    offer = offer_map(imported("openrouter-june"))[("openrouter", "anthropic/claude-sonnet-4.5")]
    caps = offer.capabilities
    assert (caps.tools, caps.vision, caps.reasoning, caps.json_) == (True, True, True, True)
    assert (caps.pdf, caps.audio, caps.video) == (True, False, False)  # "file" input -> pdf
    assert offer.input == ("text", "image")  # pdf is never an OpenClaw input
    assert (offer.vendor, offer.release_date) == ("anthropic", "2025-09-29")  # slug suffix


def test_openrouter_sentinels() -> None:
    offers = offer_map(imported("openrouter-june"))
    ids = {model_id for _, model_id in offers}
    raw = native("openrouter-models-2026-06-16.json")["data"]
    moving = {i for (_, i), o in offers.items() if o.moving_alias}
    assert moving == {i for i in ids if i.startswith(("~", "openrouter/"))}
    assert len({i for i in moving if i.startswith("~")}) == 4
    assert {"openrouter/auto", "openrouter/free"} <= moving  # routers pick a model per request
    free = {m["id"] for m in raw if m["id"].endswith(":free")}
    assert len(free) == 1 and free <= ids  # kept as offers of their own
    assert {"nvidia/nemotron-3-ultra-550b-a55b", "nvidia/nemotron-3-ultra-550b-a55b:free"} <= ids
    variable = sorted(i for (_, i), o in offers.items() if o.price.input == "variable")
    assert variable == [
        "openrouter/auto",
        "openrouter/bodybuilder",
        "openrouter/fusion",
        "openrouter/pareto-code",
    ]
    # supported_parameters == []: tools/reasoning/json unknown, never false
    fusion = offers[("openrouter", "openrouter/fusion")].capabilities
    assert (fusion.tools, fusion.reasoning, fusion.json_) == (None, None, None)
    # hugging_face_id "" and null are ignored; expiry dates are kept
    assert offers[("openrouter", "z-ai/glm-4.5")].expiry_date == date(2026, 6, 19)
    assert offers[("openrouter", "z-ai/glm-5.2")].expiry_date == date(2098, 12, 31)


def test_openrouter_newer_api_sentinels() -> None:
    """Fields seen in Aug-Sep 2026 responses: 0 limits, "" prices, decisions, overrides."""
    entries = [
        {"id": "respan/span", "context_length": 0, "pricing": {"prompt": "", "completion": "0"},
         "top_provider": {"context_length": 0, "max_completion_tokens": 0},
         "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
         "supported_parameters": ["tools"]},
        {"id": "acme/judge", "architecture": {"output_modalities": ["decisions"]}},
        {"id": "acme/tiered", "pricing": {"prompt": "0.000002", "completion": "0.00001",
         "overrides": [{"min_prompt_tokens": 200000, "prompt": "0.000004"}]},
         "reasoning": {"mandatory": True}, "benchmarks": {"x": 1}},
    ]  # fmt: skip
    result = IMPORTERS["openrouter"]({"data": entries}, ImportOptions(date=date(2026, 9, 1)))
    offers = offer_map(result)
    span = offers[("openrouter", "respan/span")]
    assert (span.context_window, span.max_output) == (None, None)  # 0 = not stated
    assert (span.price.input, span.price.output) == (None, D(0))  # "" unknown, "0" free
    assert (span.capabilities.tools, span.capabilities.reasoning) == (True, False)
    assert dict(result.skipped) == {"not chat (no text output)": 1}
    tiered = offers[("openrouter", "acme/tiered")]
    assert (tiered.price.input, tiered.capabilities.vision) == (D(2), None)  # base price only


def test_openrouter_may_expired_models_are_retired_as_of_the_snapshot_date() -> None:
    from compiler.load.catalog import offer_from_spec

    result = imported("openrouter-may")
    offers = offer_map(result)
    grok = offer_from_spec(offers[("openrouter", "x-ai/grok-4")], result.snapshot.date)
    flash_spec = offers[("openrouter", "google/gemini-2.0-flash-001")]
    flash = offer_from_spec(flash_spec, result.snapshot.date)
    assert grok.retired_reason() == "expired on 2026-05-15"
    assert flash.retired_reason() is None  # expires 2026-06-01, after the snapshot date


MODELSDEV_MODELS = [
    pytest.param(
        ("anthropic", "claude-sonnet-4-5"),
        {"input": D(3), "output": D(15), "cache_read": D("0.3"), "cache_write": D("3.75")},
        200_000, 64_000, id="anthropic-claude-sonnet-4-5",
    ),
    pytest.param(
        ("openrouter", "anthropic/claude-sonnet-4.5"),
        {"input": D(3), "output": D(15), "cache_read": D("0.3"), "cache_write": D("3.75")},
        1_000_000, 64_000, id="openrouter-claude-sonnet-4.5",
    ),
    pytest.param(
        ("openai", "gpt-5"),  # limit.context 400,000 but limit.input 272,000
        {"input": D("1.25"), "output": D(10), "cache_read": D("0.125")},
        272_000, 128_000, id="openai-gpt-5-input-cap",
    ),
    pytest.param(("anyapi", "anthropic/claude-haiku-4-5"), {}, None, None, id="no-cost-unknown"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "price", "context", "max_output"), MODELSDEV_MODELS)
def test_modelsdev_models(
    key: tuple[str, str], price: dict[str, Any], context: int | None, max_output: int | None
) -> None:
    offer = offer_map(imported("modelsdev"))[key]
    assert offer.price.model_dump(exclude_none=True) == price
    if context is not None:
        assert (offer.context_window, offer.max_output) == (context, max_output)


def test_modelsdev_flags_status_and_providers() -> None:
    result = imported("modelsdev")
    offers = offer_map(result)
    sonnet = offers[("anthropic", "claude-sonnet-4-5")]
    assert sonnet.capabilities.json_ is None  # structured_output absent -> unknown
    assert (sonnet.capabilities.pdf, sonnet.input) == (True, ("text", "image"))
    assert offers[("anthropic", "claude-3-opus-20240229")].deprecated is True
    assert offers[("abacus", "kimi-k2.5")].release_date == "2026-01"  # YYYY-MM kept
    providers = {o.provider for o in result.snapshot.offers}
    assert "302ai" not in providers and "wafer.ai" not in providers
    assert offers[("amazon-bedrock", "amazon.nova-lite-v1:0")].vendor == "amazon"
    assert offers[("openai", "gpt-5")].vendor == "openai"


def test_modelsdev_only_provider() -> None:
    document = native("modelsdev-api-2026-07-01.json")
    options = ImportOptions(date=date(2026, 7, 1), only_providers=("anthropic", "openai"))
    result = IMPORTERS["modelsdev"](document, options)
    assert {o.provider for o in result.snapshot.offers} == {"anthropic", "openai"}
    assert result.skipped["provider not selected (--only-provider)"] == 32 - 16


@pytest.mark.parametrize(
    ("only", "message"),
    [
        pytest.param("antropic", "is not in the file", id="unknown-with-hint"),
        pytest.param("302ai", "not a valid provider id", id="invalid-id"),
    ],
)
def test_modelsdev_only_provider_errors(only: str, message: str) -> None:
    document = native("modelsdev-api-2026-07-01.json")
    options = ImportOptions(date=date(2026, 7, 1), only_providers=(only,))
    with pytest.raises(CompileError) as caught:
        IMPORTERS["modelsdev"](document, options)
    assert message in caught.value.diagnostics[0].message


LITELLM_MODELS = [
    pytest.param(
        ("anthropic", "claude-sonnet-4-5"),
        {"input": D(3), "output": D(15), "cache_read": D("0.3"), "cache_write": D("3.75")},
        200_000, date(2026, 11, 30), id="claude-sonnet-4-5",
    ),
    pytest.param(
        ("openai", "gpt-5"),  # max_input_tokens is an input cap: 272,000 of 400,000
        {"input": D("1.25"), "output": D(10), "cache_read": D("0.125")},
        272_000, date(2026, 12, 11), id="gpt-5-input-cap",
    ),
    pytest.param(
        ("gemini", "gemini-2.5-pro"),  # key "gemini/gemini-2.5-pro": route prefix dropped
        {"input": D("1.25"), "output": D(10), "cache_read": D("0.125")},
        1_048_576, date(2026, 12, 1), id="gemini-route-prefix",
    ),
    pytest.param(
        ("bedrock", "ai21.jamba-1-5-mini-v1:0"),  # 2e-07 * 1e6 == 0.19999999999999998
        {"input": D("0.2"), "output": D("0.4")}, 256_000, date(2026, 11, 26),
        id="float-repr-exact",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("key", "price", "context", "deprecation"), LITELLM_MODELS)
def test_litellm_models(
    key: tuple[str, str], price: dict[str, Any], context: int, deprecation: date | None
) -> None:
    offer = offer_map(imported("litellm"))[key]
    assert offer.price.model_dump(exclude_none=True) == price
    assert (offer.context_window, offer.deprecation_date) == (context, deprecation)


def test_litellm_flags_and_duplicates() -> None:
    offers = offer_map(imported("litellm"))
    sonnet = offers[("anthropic", "claude-sonnet-4-5")].capabilities
    assert (sonnet.tools, sonnet.json_, sonnet.pdf) == (True, True, True)
    assert (sonnet.audio, sonnet.video) == (None, None)  # absent supports_* -> unknown
    assert offers[("ai21", "jamba-1.5")].capabilities.tools is None
    assert ("deepseek", "deepseek/deepseek-chat") not in offers  # duplicate of the bare key
    assert offers[("vertex_ai-anthropic_models", "claude-sonnet-4-5")].vendor == "anthropic"
    assert not any(i.startswith("sample_spec") for _, i in offers)


# --------------------------------------------------------------------------- infron


def test_infron_import() -> None:
    result = IMPORTERS["infron"](infron_response(), ImportOptions(date=date(2026, 11, 20)))
    offers = offer_map(result)
    assert sorted(i for _, i in offers) == [
        "deepseek/deepseek-v4-flash",
        "google/gemini-3.1-flash-lite",
        "qwen/qwen3-coder:free",
    ]
    assert dict(result.skipped) == {
        "display only": 1,
        "duplicate (provider, id)": 1,
        "not chat (category embeddings)": 1,
        "not chat (category image_generation)": 1,
    }
    flash = offers[("infron", "deepseek/deepseek-v4-flash")]
    assert flash.price.model_dump(exclude_none=True) == {"input": D("0.14"), "output": D("0.28")}
    assert (flash.context_window, flash.max_output, flash.vendor) == (1_000_000, 65_536, "deepseek")
    caps = flash.capabilities
    assert (caps.tools, caps.vision, caps.reasoning, caps.json_) == (True, False, None, None)
    lite = offers[("infron", "google/gemini-3.1-flash-lite")]
    assert (lite.capabilities.pdf, lite.capabilities.json_, lite.deprecated) == (True, False, True)
    assert (lite.input, lite.max_output) == (("text", "image", "audio"), None)
    assert offers[("infron", "qwen/qwen3-coder:free")].price.input == D(0)


@pytest.mark.parametrize(
    ("model", "max_output", "expected"),
    [
        pytest.param("qwen/qwen3-coder:free", 262144, None, id="equal-to-context-length"),
        pytest.param("deepseek/deepseek-v4-flash", 1_000_000, None, id="equal-to-max-input"),
        pytest.param("deepseek/deepseek-v4-flash", 2_000_000, None, id="above-the-window"),
        pytest.param("deepseek/deepseek-v4-flash", 999_999, 999_999, id="below-is-a-cap"),
        pytest.param("qwen/qwen3-coder:free", 32768, 32768, id="real-cap-kept"),
    ],
)
def test_infron_output_cap_as_large_as_the_context_is_unknown(
    model: str, max_output: int, expected: int | None
) -> None:
    document = infron_response()
    next(e for e in document["data"] if e["id"] == model)["max_output_tokens"] = max_output
    result = IMPORTERS["infron"](document, ImportOptions(date=date(2026, 11, 20)))
    assert offer_map(result)[("infron", model)].max_output == expected


def test_provider_option_names_every_offer() -> None:
    options = ImportOptions(date=date(2026, 11, 20), provider="onerouter")
    result = IMPORTERS["infron"](infron_response(), options)
    assert {o.provider for o in result.snapshot.offers} == {"onerouter"}


# --------------------------------------------------------------------------- errors


def _bad(document: Any, path: list[Any], value: Any) -> Any:
    broken = copy.deepcopy(document)
    target = broken
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return broken


def _openrouter_entry(data: list[dict[str, Any]], model_id: str) -> int:
    return next(i for i, m in enumerate(data) if m["id"] == model_id)


def test_wrong_types_name_file_and_entry() -> None:
    raw = native("openrouter-models-2026-06-16.json")
    index = _openrouter_entry(raw["data"], "anthropic/claude-sonnet-4.5")
    broken = _bad(raw, ["data", index, "pricing", "prompt"], 0.000003)
    broken = _bad(broken, ["data", index + 1, "context_length"], "128k")
    with pytest.raises(CompileError) as caught:
        IMPORTERS["openrouter"](broken, ImportOptions(date=date(2026, 6, 16), path="or.json"))
    diags = caught.value.diagnostics
    assert len(diags) == 2  # every bad entry is reported, not just the first
    assert {d.code for d in diags} == {"PC501"}
    assert {d.span.path for d in diags if d.span} == {"or.json"}
    messages = "\n".join(d.message for d in diags)
    assert "entry 'anthropic/claude-sonnet-4.5': 'pricing.prompt' must be a string" in messages
    assert "'context_length' must be an integer, got string '128k'" in messages


@pytest.mark.parametrize(
    ("fmt", "document", "needle"),
    [
        pytest.param(
            "litellm",
            {"gpt-x": {"mode": "chat", "litellm_provider": "openai", "input_cost_per_token": "1"}},
            "entry 'gpt-x': 'input_cost_per_token' must be a number",
            id="litellm-price-string",
        ),
        pytest.param(
            "litellm",
            {"gpt-x": {"mode": "chat", "litellm_provider": "openai", "deprecation_date": "soon"}},
            "entry 'gpt-x': 'deprecation_date' must be a date YYYY-MM-DD",
            id="litellm-bad-date",
        ),
        pytest.param(
            "modelsdev",
            {"acme": {"models": {"m1": {"tool_call": "yes", "modalities": {"input": ["text"]}}}}},
            "entry 'acme/m1': 'tool_call' must be true or false",
            id="modelsdev-flag-string",
        ),
        pytest.param(
            "infron",
            {"data": [{"id": "a/b", "category_type": "LLM", "min_prompt_price": "$1.00"}]},
            "entry 'a/b': 'min_prompt_price' must be a number",
            id="infron-price-string",
        ),
        pytest.param(
            "openrouter",
            {"data": [{"id": "a/b", "pricing": {"prompt": "-2"}}]},
            "'pricing.prompt' must not be negative",
            id="openrouter-negative-price",
        ),
        *(
            pytest.param(fmt, document, needle, id=f"{fmt}-{label}")
            for fmt, place in (
                (
                    "infron",
                    lambda v: {
                        "data": [{"id": "a/b", "category_type": "LLM", "min_prompt_price": v}]
                    },
                ),
                (
                    "litellm",
                    lambda v: {
                        "m": {"mode": "chat", "litellm_provider": "x", "input_cost_per_token": v}
                    },
                ),
                ("modelsdev", lambda v: {"x": {"models": {"m": {"cost": {"input": v}}}}}),
            )
            for label, document, needle in (
                ("infinite", place(float("inf")), "must be a finite number"),
                ("nan", place(float("nan")), "must be a finite number"),
                ("huge", place(1e30), "is more than 100000 USD per 1M tokens"),
            )
        ),
        *(
            pytest.param("openrouter", {"data": [{"id": "a/b", "pricing": {"prompt": v}}]}, n, id=i)
            for v, n, i in (
                ("Infinity", "must be a finite number", "openrouter-infinity-text"),
                ("1e400", "is more than 100000", "openrouter-1e400-text"),
                ("0." + "1" * 5000, "more than 20 significant digits", "openrouter-5000-digits"),
                ("9" * 5000, "more than 20 significant digits", "openrouter-5000-digit-int"),
            )
        ),
        pytest.param(
            "openrouter",
            [1, 2],
            "expected a JSON object with a 'data' list",
            id="openrouter-not-a-response",
        ),
    ],
)
def test_wrong_values_are_pc501(fmt: str, document: Any, needle: str) -> None:
    with pytest.raises(CompileError) as caught:
        IMPORTERS[fmt](document, ImportOptions(date=date(2026, 1, 1), path="in.json"))
    assert any(d.code == "PC501" and needle in d.message for d in caught.value.diagnostics)


def test_missing_date_asks_for_date() -> None:
    with pytest.raises(CompileError) as caught:
        IMPORTERS["infron"](infron_response(), ImportOptions())
    (diag,) = caught.value.diagnostics
    assert diag.code == "PC501" and "--date" in diag.notes[0]


def test_unknown_fields_are_ignored() -> None:
    document = infron_response()
    document["data"][0]["pricing_v2"] = {"anything": [1, "x"]}
    result = IMPORTERS["infron"](document, ImportOptions(date=date(2026, 11, 20)))
    assert len(result.snapshot.offers) == 3


def test_alias_with_a_concrete_target_is_resolved() -> None:
    raw = native("openrouter-models-2026-06-16.json")
    data = copy.deepcopy(raw["data"])
    sonnet = _openrouter_entry(data, "~anthropic/claude-sonnet-latest")
    fable = _openrouter_entry(data, "~anthropic/claude-fable-latest")
    data[sonnet]["alias_target"] = {"name": "Sonnet", "slug": "anthropic/claude-sonnet-4.5"}
    data[fable]["alias_target"] = {"name": "Claude Fable 9", "slug": "anthropic/claude-fable-9"}
    result = IMPORTERS["openrouter"]({"data": data}, ImportOptions(date=date(2026, 6, 16)))
    offers = offer_map(result)
    assert offers[("openrouter", "anthropic/claude-fable-9")].name == "Claude Fable 9"
    assert not offers[("openrouter", "anthropic/claude-fable-9")].moving_alias
    assert offers[("openrouter", "~anthropic/claude-fable-latest")].moving_alias
    # sonnet's target is listed already: only the alias itself is added
    assert len(offers) == 37 + 1


# --------------------------------------------------------------------------- output


def test_snapshot_round_trips_exactly() -> None:
    """LiteLLM has the hard cases: 17-digit prices no double keeps (2.9999900000000002e-06)."""
    snapshot = imported("litellm").snapshot
    text = serialize_snapshot(snapshot)
    assert parse_snapshot(text) == snapshot
    offers = offer_map(imported("litellm"))
    databricks = offers[("databricks", "databricks-claude-sonnet-4-1")]
    assert databricks.price.input == D("2.9999900000000002")
    assert '"input": 2.9999900000000002,' in text


def test_reordered_source_gives_the_same_bytes() -> None:
    raw = native("openrouter-models-2026-06-16.json")
    again = IMPORTERS["openrouter"](
        {"data": list(reversed(raw["data"]))},
        ImportOptions(date=date(2026, 6, 16), path="openrouter-models-2026-06-16.json"),
    )
    text = serialize_snapshot(imported("openrouter-june").snapshot)
    assert serialize_snapshot(again.snapshot) == text


def test_litellm_bare_key_wins_whatever_the_order() -> None:
    entry = {"mode": "chat", "litellm_provider": "deepseek", "input_cost_per_token": 2.8e-07}
    prefixed = dict(entry, input_cost_per_token=9e-07)
    for document in (
        {"deepseek/deepseek-chat": prefixed, "deepseek-chat": entry},
        {"deepseek-chat": entry, "deepseek/deepseek-chat": prefixed},
    ):
        result = IMPORTERS["litellm"](document, ImportOptions(date=date(2026, 11, 20)))
        (offer,) = result.snapshot.offers
        assert (offer.id, offer.price.input) == ("deepseek-chat", D("0.28"))
        assert dict(result.skipped) == {"duplicate (provider, id)": 1}


def test_sonnet_prices_in_the_written_snapshot() -> None:
    text = serialize_snapshot(imported("openrouter-june").snapshot)
    offers = json.loads(text)["offers"]
    sonnet = next(o for o in offers if o["id"] == "anthropic/claude-sonnet-4.5")
    assert sonnet["price"] == {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75}
    assert '"cache_write": 3.75' in text


# --------------------------------------------------------------------------- CLI


def test_cli_import_writes_snapshot_and_summary(tmp_path: Path) -> None:
    source = catalog_file("openrouter-models-2026-06-16.json")
    out = tmp_path / "catalogs" / "or.json"
    result = CliRunner().invoke(
        catalog, ["import", str(source), "--format", "openrouter", "--date", "2026-06-16",
                  "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "wrote 37 offers" in result.stderr and "skipped" not in result.stderr
    written = parse_snapshot(out.read_text())
    assert written.offers == imported("openrouter-june").snapshot.offers
    assert written.source == "openrouter:openrouter-models-2026-06-16.json"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        pytest.param(["--format", "openrouter"], "pass --date", id="no-date"),
        pytest.param(
            ["--format", "modelsdev", "--date", "2026-07-01"],
            "looks like the openrouter format, not modelsdev",
            id="wrong-format",
        ),
        pytest.param(
            ["--format", "openrouter", "--date", "2026-07-01", "--only-provider", "x"],
            "--only-provider does not apply",
            id="wrong-option",
        ),
        pytest.param(
            ["--format", "openrouter", "--date", "2026-07-01", "--provider", "Bad!"],
            "provider id 'Bad!' is not valid",
            id="bad-provider",
        ),
    ],
)
def test_cli_import_errors_write_nothing(tmp_path: Path, args: list[str], needle: str) -> None:
    source = catalog_file("openrouter-models-2026-06-16.json")
    out = tmp_path / "out.json"
    result = CliRunner().invoke(catalog, ["import", str(source), *args, "-o", str(out)])
    assert result.exit_code == 2
    assert "error[PC501]" in result.stderr and needle in result.stderr
    assert not out.exists()


def test_cli_import_bad_json_points_at_line(tmp_path: Path) -> None:
    source = tmp_path / "broken.json"
    source.write_text('{"data": [\n  {"id": }\n]}\n')
    result = CliRunner().invoke(
        catalog, ["import", str(source), "--format", "openrouter", "--date", "2026-01-01",
                  "-o", str(tmp_path / "o.json")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"{source}:2:" in result.stderr and "error[PC501]: not valid JSON" in result.stderr


# --------------------------------------------------------------------------- compile + OpenClaw

COMPILED = {  # environment -> the imported catalogs it uses (one file each)
    "openrouter": ("openrouter-june", "infron"),  # Infron has no json-capable offer alone
    "modelsdev": ("modelsdev",),
    "litellm": ("litellm",),
}


@pytest.mark.openclaw
def test_example_policies_compile_against_each_imported_catalog(
    tmp_path: Path, openclaw_validator: Any
) -> None:
    modelsdev = ImportOptions(
        date=date(2026, 7, 1), only_providers=("anthropic", "google", "openai")
    )
    litellm = ImportOptions(
        date=date(2026, 11, 20), only_providers=("anthropic", "gemini", "openai")
    )
    infron = ImportOptions(date=date(2026, 11, 20))
    snapshots = {
        "openrouter-june": imported("openrouter-june").snapshot,
        "infron": IMPORTERS["infron"](infron_response(), infron).snapshot,
        "modelsdev": IMPORTERS["modelsdev"](
            native("modelsdev-api-2026-07-01.json"), modelsdev
        ).snapshot,
        "litellm": IMPORTERS["litellm"](
            native("litellm-model-prices-2026-11-20.json"), litellm
        ).snapshot,
    }
    example_repo(tmp_path)
    for key, snapshot in snapshots.items():
        path = tmp_path / "policies" / "catalogs" / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(serialize_snapshot(snapshot))
    for env, keys in COMPILED.items():
        text = environment_yaml(env, {key: snapshots[key] for key in keys})
        path = tmp_path / "policies" / "environments" / f"{env}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    result = api.compile_project(api.CompileOptions(root=tmp_path))
    assert sorted(result.resolutions) == sorted(COMPILED)
    outputs = [tmp_path / "rendered" / env / "openclaw.json" for env in COMPILED]
    for validation in openclaw_validator.validate(outputs):
        assert validation.valid, validation.summary()
