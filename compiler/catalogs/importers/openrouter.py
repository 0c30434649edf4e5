"""Catalog import, OpenRouter: a `GET /api/v1/models` response -> CatalogSpec. Pure; no IO.

Every entry becomes an offer of one provider (`--provider`, default "openrouter"). The rules:

* prices are decimal strings in USD per token: `Decimal(text) * 1_000_000`, exact;
  `"-1"` is the variable (router) price, `"0"` is free, `""` is unknown;
* `:free` ids are offers of their own (they share `canonical_slug` with the paid model);
* `~vendor/...-latest` ids move over time, and OpenRouter's own routers (`openrouter/auto`,
  `openrouter/free`, ...) pick a model per request: both are imported with `moving_alias: true`
  (listed, diffed, never chosen); when `alias_target.slug` names a concrete id the catalog
  does not list, that id is imported too;
* context is conservative: `min(context_length, top_provider.context_length)` ignoring
  null and 0; max output is `top_provider.max_completion_tokens`;
* capabilities come from `supported_parameters` (`tools`, `reasoning`, `structured_outputs`
  for `json`); an empty or missing list leaves them unknown. Input modalities are explicit,
  so image/audio/video are true or false, and `file` is the `pdf` capability;
* entries whose output modalities lack text (image or audio generators) are skipped;
* `expiration_date` is the expiry date; the release date is the `canonical_slug`'s
  `-YYYYMMDD` suffix when it has one (`created` is only the listing date).
"""

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from .offers import (
    Collector,
    ImportOptions,
    ImportResult,
    Where,
    assemble,
    capabilities,
    check_provider_id,
    entries_of,
    inputs,
    per_token_text,
    positive,
    prices,
    read,
    read_date,
    read_strings,
    smallest,
    snapshot_date,
    vendor_of,
)

FORMAT_NAME = "openrouter"
ROUTER_PREFIX = "openrouter/"
_SLUG_DATE = re.compile(r"-(\d{4})(\d{2})(\d{2})\Z")


def import_openrouter(document: Any, options: ImportOptions) -> ImportResult:
    """Normalize an OpenRouter models response.

    Args:
        document: the parsed JSON body, `{"data": [model, ...]}` (pages already joined).
        options: `--date`, `--provider` and the input's name.

    Returns:
        The snapshot and the skipped entries counted by reason.

    Raises:
        CompileError: PC501 for a missing date or any entry with a wrong-typed field.
    """
    path = options.path
    provider = check_provider_id(options.provider or FORMAT_NAME, path)
    as_of = snapshot_date(options, None, path)
    entries = entries_of(document, path, "data")
    listed = _concrete_ids(entries)
    collector = Collector(path)
    for index, entry in enumerate(entries):
        with collector.entry():
            _import_entry(entry, index, provider, listed, collector)
    return assemble(collector, as_of, options.source or FORMAT_NAME)


def _concrete_ids(entries: Sequence[Any]) -> frozenset[str]:
    names: set[str] = set()
    for entry in entries:
        if isinstance(entry, dict) and not str(entry.get("id", "~")).startswith("~"):
            names.update(
                v for v in (entry.get("id"), entry.get("canonical_slug")) if isinstance(v, str)
            )
    return frozenset(names)


def _import_entry(
    entry: Any, index: int, provider: str, listed: frozenset[str], collector: Collector
) -> None:
    if not isinstance(entry, dict):
        raise Where(collector.path, f"#{index}").fail("must be an object")
    raw_id = read(entry, "id", "str", Where(collector.path, f"#{index}"))
    if not raw_id:
        raise Where(collector.path, f"#{index}").fail("'id' is missing")
    where = Where(collector.path, raw_id)
    skip = _skip_reason(entry, where)
    if skip is not None:
        collector.skip(skip)
        return
    name = read(entry, "name", "str", where) or raw_id
    if raw_id.startswith(ROUTER_PREFIX):  # auto, free, fusion...: a different model per request
        collector.add({**_offer(entry, where, provider, raw_id, name), "moving_alias": True}, where)
        return
    if not raw_id.startswith("~"):
        collector.add(_offer(entry, where, provider, raw_id, name), where)
        return
    collector.add({**_offer(entry, where, provider, raw_id, name), "moving_alias": True}, where)
    target = _alias_target(entry, where, listed)
    if target is not None:
        target_name = read(entry, "alias_target.name", "str", where) or target
        collector.add(_offer(entry, where, provider, target, target_name), where)


def _skip_reason(entry: Mapping[str, Any], where: Where) -> str | None:
    output = read_strings(entry, "architecture.output_modalities", where)
    if output is not None and "text" not in output:
        return "not chat (no text output)"
    given = read_strings(entry, "architecture.input_modalities", where)
    if given is not None and "text" not in given:
        return "not chat (no text input)"
    return None


def _alias_target(entry: Mapping[str, Any], where: Where, listed: frozenset[str]) -> str | None:
    """The concrete id a moving alias points at, when the catalog does not list it already."""
    target = read(entry, "alias_target.slug", "str", where)
    if not isinstance(target, str) or not target or target.startswith("~") or target in listed:
        return None
    return target


def _offer(
    entry: Mapping[str, Any], where: Where, provider: str, model_id: str, name: str
) -> dict[str, Any]:
    given = read_strings(entry, "architecture.input_modalities", where)
    params = read_strings(entry, "supported_parameters", where) or ()
    flags = capabilities(
        tools=("tools" in params) if params else None,
        reasoning=("reasoning" in params) if params else None,
        json=("structured_outputs" in params) if params else None,
        vision=None if given is None else "image" in given,
        audio=None if given is None else "audio" in given,
        video=None if given is None else "video" in given,
        pdf=None if given is None else "file" in given,
    )
    return {
        "provider": provider,
        "id": model_id,
        "name": name,
        "vendor": vendor_of(model_id, provider),
        "context_window": smallest(
            read(entry, "context_length", "int", where),
            read(entry, "top_provider.context_length", "int", where),
        ),
        "max_output": positive(read(entry, "top_provider.max_completion_tokens", "int", where)),
        "input": inputs(flags),
        "capabilities": flags,
        "price": _prices(entry, where),
        "release_date": _slug_date(read(entry, "canonical_slug", "str", where)),
        "expiry_date": read_date(entry, "expiration_date", where),
    }


def _prices(entry: Mapping[str, Any], where: Where) -> dict[str, Any]:
    def text(key: str) -> Any:
        return per_token_text(read(entry, f"pricing.{key}", "str", where), where, f"pricing.{key}")

    return prices(
        input=text("prompt"),
        output=text("completion"),
        cache_read=text("input_cache_read"),
        cache_write=text("input_cache_write"),
    )


def _slug_date(slug: str | None) -> str | None:
    """`anthropic/claude-4.5-sonnet-20250929` -> `2025-09-29` (None without a real date)."""
    match = _SLUG_DATE.search(slug or "")
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups())).isoformat()
    except ValueError:
        return None
