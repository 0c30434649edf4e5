"""Catalog import, models.dev: `api.json` (provider -> models) -> CatalogSpec. Pure; no IO.

Each models.dev provider becomes an offer provider of the same id (`--only-provider` keeps
some). The rules:

* model ids are unique only inside a provider, so offers are keyed on (provider, id);
* provider ids that OpenClaw cannot use (`^[a-z][a-z0-9_-]{0,63}$`, e.g. `302ai`,
  `wafer.ai`) are skipped and counted, never renamed;
* `cost` is already USD per 1M tokens (JSON numbers, taken through their shortest repr);
  no `cost` means unknown prices, `0` means free; tiers are not part of the snapshot;
* context is conservative: `min(limit.context, limit.input)`; 0 means unknown;
* `tool_call`, `reasoning` and `structured_output` (`json`) are the flags; a missing
  `structured_output` is unknown. Input modalities are explicit: image/audio/video/pdf are
  true or false (`pdf` is a capability, never an OpenClaw input);
* `status: deprecated` marks the offer deprecated (models.dev gives no date);
* entries without text in or out (speech, transcription, image or video generation) and
  embedding or rerank models are skipped;
* vendor: the id's `vendor/` prefix, else the lab its family or name points to, else the
  provider id.
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
    per_million,
    positive,
    prices,
    read,
    read_strings,
    smallest,
    snapshot_date,
    vendor_of,
)

FORMAT_NAME = "modelsdev"
_NOT_CHAT_WORDS = ("embed", "rerank")


def import_modelsdev(document: Any, options: ImportOptions) -> ImportResult:
    """Normalize a models.dev `api.json`.

    Args:
        document: the parsed JSON object `{provider_id: {..., "models": {...}}}`.
        options: `--date`, `--only-provider` and the input's name.

    Returns:
        The snapshot and the skipped entries counted by reason.

    Raises:
        CompileError: PC501 for a missing date, an unknown or invalid `--only-provider`, or
            any entry with a wrong-typed field.
    """
    path = options.path
    as_of = snapshot_date(options, None, path)
    providers = dict(entries_of(document, path, "root"))
    wanted = _selected(providers, options.only_providers, path)
    collector = Collector(path)
    for provider_id in sorted(providers):
        models = _models_of(providers[provider_id], provider_id, path)
        reason = _provider_skip(provider_id, wanted)
        for model_id in sorted(models):
            if reason is not None:
                collector.skip(reason)
                continue
            with collector.entry():
                _import_entry(models[model_id], provider_id, model_id, collector)
    return assemble(collector, as_of, options.source or FORMAT_NAME)


def _selected(providers: Mapping[str, Any], only: tuple[str, ...], path: str) -> frozenset[str]:
    for provider_id in only:
        if provider_id not in providers:
            close = difflib.get_close_matches(provider_id, sorted(providers), n=3)
            hint = f"hint: did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise import_error(
                path,
                f"--only-provider '{provider_id}' is not in the file",
                *((hint,) if hint else ()),
            )
        if not PROVIDER_ID_RE.fullmatch(provider_id):
            raise import_error(
                path,
                f"--only-provider '{provider_id}' is not a valid provider id",
                f"note: provider ids must match {PROVIDER_ID_RE.pattern}",
            )
    return frozenset(only)


def _provider_skip(provider_id: str, wanted: frozenset[str]) -> str | None:
    if wanted and provider_id not in wanted:
        return "provider not selected (--only-provider)"
    if not PROVIDER_ID_RE.fullmatch(provider_id):
        return "provider id not valid for OpenClaw"
    return None


def _models_of(provider: Any, provider_id: str, path: str) -> Mapping[str, Any]:
    models = provider.get("models") if isinstance(provider, dict) else None
    if not isinstance(models, dict):
        raise import_error(
            path,
            f"'{provider_id}' has no 'models' object: this is not a models.dev api.json",
            "hint: models.dev models.json holds model metadata without prices; import api.json",
        )
    checked: Mapping[str, Any] = models
    return checked


def _import_entry(entry: Any, provider_id: str, model_id: str, collector: Collector) -> None:
    where = Where(collector.path, f"{provider_id}/{model_id}")
    if not isinstance(entry, dict):
        raise where.fail("must be an object")
    given = read_strings(entry, "modalities.input", where)
    output = read_strings(entry, "modalities.output", where)
    family = read(entry, "family", "str", where) or ""
    if output is not None and "text" not in output:
        collector.skip("not chat (no text output)")
    elif given is not None and "text" not in given:
        collector.skip("not chat (no text input)")
    elif any(word in f"{family} {model_id}".lower() for word in _NOT_CHAT_WORDS):
        collector.skip("not chat (embedding or rerank)")
    else:
        collector.add(_offer(entry, where, provider_id, model_id, family), where)


def _offer(
    entry: Mapping[str, Any], where: Where, provider_id: str, model_id: str, family: str
) -> dict[str, Any]:
    given = read_strings(entry, "modalities.input", where)
    flags = capabilities(
        tools=read(entry, "tool_call", "bool", where),
        reasoning=read(entry, "reasoning", "bool", where),
        json=read(entry, "structured_output", "bool", where),
        vision=None if given is None else "image" in given,
        audio=None if given is None else "audio" in given,
        video=None if given is None else "video" in given,
        pdf=None if given is None else "pdf" in given,
    )
    lab = lab_of(family) or lab_of(model_id) or provider_id
    offer = {
        "provider": provider_id,
        "id": model_id,
        "name": read(entry, "name", "str", where) or model_id,
        "vendor": vendor_of(model_id, lab),
        "context_window": smallest(
            read(entry, "limit.context", "int", where), read(entry, "limit.input", "int", where)
        ),
        "max_output": positive(read(entry, "limit.output", "int", where)),
        "input": inputs(flags),
        "capabilities": flags,
        "price": _prices(entry, where),
        "release_date": read(entry, "release_date", "str", where) or None,
        "deprecated": read(entry, "status", "str", where) == "deprecated",
    }
    return offer


def _prices(entry: Mapping[str, Any], where: Where) -> dict[str, Any]:
    def number(key: str) -> Any:
        return per_million(read(entry, f"cost.{key}", "number", where), where, f"cost.{key}")

    return prices(
        input=number("input"),
        output=number("output"),
        cache_read=number("cache_read"),
        cache_write=number("cache_write"),
    )
