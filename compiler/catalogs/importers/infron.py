"""Catalog import, Infron (OneRouter): a `GET /v1/models` response -> CatalogSpec. Pure; no IO.

Every entry becomes an offer of one provider (`--provider`, default "infron"). The shape is
OpenRouter-inspired but not the same (see reference/catalog-formats.md §7). The rules:

* only `category_type` "LLM" (any casing) entries that are not `is_display_only` are kept;
* `min_prompt_price` / `min_completion_price` are numbers in USD per 1M tokens, the minimum
  across Infron's upstream providers; no cache prices are published (unknown);
* context is conservative: `min(context_length, max_input_tokens)` ignoring null and 0;
* `max_output_tokens` is an output cap only when it is smaller than that context: Infron
  publishes the context window there for many models, and a `maxTokens` as large as the window
  would have OpenClaw ask for more tokens than any prompt leaves room for, so it is unknown
  (OpenClaw then sends no `max_tokens`);
* `supports_function_calling` is `tools`; `supports_vision` (or "image" among the
  lowercased `input_modalities`) is `vision`; `file`/`pdf` inputs are the `pdf` capability;
  reasoning is never published, so it stays unknown. `supports_json_mode` is plain JSON
  mode, weaker than the `json` capability (a JSON schema): false means false, true stays
  unknown;
* `deprecated: true` marks the offer deprecated (no date is published).
"""

from collections.abc import Mapping
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
    per_million,
    positive,
    prices,
    read,
    read_strings,
    smallest,
    snapshot_date,
    vendor_of,
)

FORMAT_NAME = "infron"


def import_infron(document: Any, options: ImportOptions) -> ImportResult:
    """Normalize an Infron models response.

    Args:
        document: the parsed JSON body, `{"data": [model, ...]}`.
        options: `--date`, `--provider` and the input's name.

    Returns:
        The snapshot and the skipped entries counted by reason.

    Raises:
        CompileError: PC501 for a missing date or any entry with a wrong-typed field.
    """
    path = options.path
    provider = check_provider_id(options.provider or FORMAT_NAME, path)
    as_of = snapshot_date(options, None, path)
    collector = Collector(path)
    for index, entry in enumerate(entries_of(document, path, "data")):
        with collector.entry():
            _import_entry(entry, index, provider, collector)
    return assemble(collector, as_of, options.source or FORMAT_NAME)


def _import_entry(entry: Any, index: int, provider: str, collector: Collector) -> None:
    if not isinstance(entry, dict):
        raise Where(collector.path, f"#{index}").fail("must be an object")
    model_id = read(entry, "id", "str", Where(collector.path, f"#{index}"))
    if not model_id:
        raise Where(collector.path, f"#{index}").fail("'id' is missing")
    where = Where(collector.path, model_id)
    reason = _skip_reason(entry, where)
    if reason is not None:
        collector.skip(reason)
        return
    collector.add(_offer(entry, where, provider, model_id), where)


def _skip_reason(entry: Mapping[str, Any], where: Where) -> str | None:
    category = read(entry, "category_type", "str", where)
    if category is None or category.upper() != "LLM":
        return f"not chat (category {category.lower() if category else 'missing'})"
    if read(entry, "is_display_only", "bool", where):
        return "display only"
    output = _lowered(read_strings(entry, "output_modalities", where))
    if output is not None and "text" not in output:
        return "not chat (no text output)"
    return None


def _lowered(values: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(v.lower() for v in values)


def _offer(entry: Mapping[str, Any], where: Where, provider: str, model_id: str) -> dict[str, Any]:
    given = _lowered(read_strings(entry, "input_modalities", where))
    vision = read(entry, "supports_vision", "bool", where)
    json_mode = read(entry, "supports_json_mode", "bool", where)
    context = smallest(
        read(entry, "context_length", "int", where),
        read(entry, "max_input_tokens", "int", where),
    )
    flags = capabilities(
        tools=read(entry, "supports_function_calling", "bool", where),
        json=False if json_mode is False else None,
        vision=vision if vision is not None or given is None else "image" in given,
        audio=None if given is None else "audio" in given,
        video=None if given is None else "video" in given,
        pdf=None if given is None else ("file" in given or "pdf" in given),
    )
    return {
        "provider": provider,
        "id": model_id,
        "name": read(entry, "display_name", "str", where) or model_id,
        "vendor": vendor_of(model_id, provider),
        "context_window": context,
        "max_output": _output_cap(read(entry, "max_output_tokens", "int", where), context),
        "input": inputs(flags),
        "capabilities": flags,
        "price": prices(
            input=per_million(
                read(entry, "min_prompt_price", "number", where), where, "min_prompt_price"
            ),
            output=per_million(
                read(entry, "min_completion_price", "number", where), where, "min_completion_price"
            ),
        ),
        "deprecated": bool(read(entry, "deprecated", "bool", where)),
    }


def _output_cap(max_output: int | None, context: int | None) -> int | None:
    """`max_output_tokens`, unless it is no real cap (0, missing, or the context window itself).

    Example:
        >>> _output_cap(65536, 1000000), _output_cap(262144, 262144), _output_cap(8192, None)
        (65536, None, 8192)
    """
    cap = positive(max_output)
    if cap is None or (context is not None and cap >= context):
        return None
    return cap
