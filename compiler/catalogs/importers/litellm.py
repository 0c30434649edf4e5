"""Catalog import, LiteLLM: `model_prices_and_context_window.json` -> CatalogSpec. Pure; no IO.

Only `mode: chat` entries become offers; the provider is `litellm_provider` (`--only-provider`
keeps some). The rules:

* the model id is the key without its LiteLLM route prefix (`gemini/gemini-2.5-pro` under
  provider `gemini` is `gemini-2.5-pro`, `vertex_ai/claude-...` under
  `vertex_ai-anthropic_models` is `claude-...`): that is the id the provider's API takes.
  When a prefixed and a bare key give the same (provider, id), the bare key wins and the
  other is counted as a duplicate;
* prices are floats in USD per token: `Decimal(repr(x)) * 10**6`, exact (3.75e-06 -> 3.75);
  tier and service-level variants (`*_above_200k_tokens`, `*_batches`, ...) are ignored;
* `context_window` is `max_input_tokens`, which LiteLLM defines as an input cap (gpt-5:
  272,000 of a 400,000 window). It is the conservative value for a "min context" rule and a
  safe OpenClaw `contextWindow`; `max_output_tokens` is the max output;
* `supports_*` flags map to capabilities (`supports_response_schema` is `json`); an absent
  flag is unknown, never false. `supported_modalities` fills in image/audio/video only when
  the matching flag is absent;
* `deprecation_date` is kept as the deprecation date (the file keeps deprecated models);
* `sample_spec`, `alias_of`-only entries and every other mode are skipped and counted.
"""

import difflib
from collections.abc import Mapping
from typing import Any

from ...load.spec import PROVIDER_ID_RE
from .offers import (
    Collector,
    ImportOptions,
    ImportResult,
    Where,
    assemble,
    capabilities,
    entries_of,
    import_error,
    inputs,
    lab_of,
    per_token_number,
    positive,
    prices,
    read,
    read_date,
    read_strings,
    snapshot_date,
    vendor_of,
)

FORMAT_NAME = "litellm"
_DOC_KEY = "sample_spec"
_MODALITY_FLAGS = (
    ("vision", "supports_vision", "image"),
    ("audio", "supports_audio_input", "audio"),
    ("video", "supports_video_input", "video"),
)
Chat = tuple[str, str, str, Mapping[str, Any]]  # provider, model id, key, entry


def import_litellm(document: Any, options: ImportOptions) -> ImportResult:
    """Normalize LiteLLM's model price map.

    Args:
        document: the parsed JSON object `{route key: {...}}`.
        options: `--date`, `--only-provider` and the input's name.

    Returns:
        The snapshot and the skipped entries counted by reason.

    Raises:
        CompileError: PC501 for a missing date, an unknown `--only-provider`, or any entry
            with a wrong-typed field.
    """
    path = options.path
    as_of = snapshot_date(options, None, path)
    collector = Collector(path)
    chats: list[Chat] = []
    for key, entry in entries_of(document, path, "root"):
        with collector.entry():
            chat = _chat_entry(key, entry, collector)
            if chat is not None:
                chats.append(chat)
    wanted = _selected(chats, options.only_providers, path)
    # A bare key sorts before a prefixed one with the same (provider, id), so it wins.
    ordered = sorted(chats, key=lambda c: (c[0], c[1], c[2] != c[1], c[2]))
    for provider, model_id, key, entry in ordered:
        if wanted and provider not in wanted:
            collector.skip("provider not selected (--only-provider)")
        elif not PROVIDER_ID_RE.fullmatch(provider):
            collector.skip("provider id not valid for OpenClaw")
        else:
            _add(entry, provider, model_id, Where(path, key), collector)
    return assemble(collector, as_of, options.source or FORMAT_NAME)


def _chat_entry(key: str, entry: Any, collector: Collector) -> Chat | None:
    """The (provider, id, key, entry) of a chat entry; None (counted) for anything else."""
    where = Where(collector.path, key)
    if key == _DOC_KEY:
        collector.skip("documentation entry (sample_spec)")
        return None
    if not isinstance(entry, dict):
        raise where.fail("must be an object")
    mode = read(entry, "mode", "str", where)
    if mode != "chat":
        reason = "alias entry (alias_of)" if mode is None and "alias_of" in entry else None
        collector.skip(reason or f"not chat (mode {mode or 'missing'})")
        return None
    provider = read(entry, "litellm_provider", "str", where)
    if not provider:
        raise where.fail("'litellm_provider' is missing")
    return provider, _model_id(key, provider), key, entry


def _model_id(key: str, provider: str) -> str:
    """The key without its route prefix (the provider, or the family the provider belongs to).

    Example:
        >>> _model_id("gemini/gemini-2.5-pro", "gemini"), _model_id("gpt-5", "openai")
        ('gemini-2.5-pro', 'gpt-5')
        >>> _model_id("vertex_ai/claude-sonnet-4-5", "vertex_ai-anthropic_models")
        'claude-sonnet-4-5'
    """
    head, slash, rest = key.partition("/")
    if slash and rest and (provider == head or provider.startswith((f"{head}-", f"{head}_"))):
        return rest
    return key


def _selected(chats: list[Chat], only: tuple[str, ...], path: str) -> frozenset[str]:
    known = sorted({chat[0] for chat in chats})
    for provider in only:
        if provider not in known:
            close = difflib.get_close_matches(provider, known, n=3)
            notes = (f"hint: did you mean {', '.join(repr(c) for c in close)}?",) if close else ()
            raise import_error(
                path, f"--only-provider '{provider}' has no chat model in the file", *notes
            )
    return frozenset(only)


def _add(
    entry: Mapping[str, Any], provider: str, model_id: str, where: Where, collector: Collector
) -> None:
    with collector.entry():
        collector.add(_offer(entry, where, provider, model_id), where)


def _offer(entry: Mapping[str, Any], where: Where, provider: str, model_id: str) -> dict[str, Any]:
    listed = read_strings(entry, "supported_modalities", where)
    flags = capabilities(
        tools=read(entry, "supports_function_calling", "bool", where),
        reasoning=read(entry, "supports_reasoning", "bool", where),
        json=read(entry, "supports_response_schema", "bool", where),
        pdf=read(entry, "supports_pdf_input", "bool", where),
        **_modality_flags(entry, where, listed),
    )
    return {
        "provider": provider,
        "id": model_id,
        "name": model_id,
        "vendor": lab_of(model_id) or vendor_of(model_id, provider),
        "context_window": positive(read(entry, "max_input_tokens", "int", where)),
        "max_output": positive(read(entry, "max_output_tokens", "int", where)),
        "input": inputs(flags),
        "capabilities": flags,
        "price": _prices(entry, where),
        "deprecation_date": read_date(entry, "deprecation_date", where),
    }


def _modality_flags(
    entry: Mapping[str, Any], where: Where, listed: tuple[str, ...] | None
) -> dict[str, bool | None]:
    flags: dict[str, bool | None] = {}
    for capability, key, modality in _MODALITY_FLAGS:
        flag = read(entry, key, "bool", where)
        if flag is None and listed is not None:
            flag = modality in listed
        flags[capability] = flag
    return flags


def _prices(entry: Mapping[str, Any], where: Where) -> dict[str, Any]:
    def number(key: str) -> Any:
        return per_token_number(read(entry, key, "number", where), where, key)

    return prices(
        input=number("input_cost_per_token"),
        output=number("output_cost_per_token"),
        cache_read=number("cache_read_input_token_cost"),
        cache_write=number("cache_creation_input_token_cost"),
    )
