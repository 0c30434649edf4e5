"""Catalog import: native catalogs (OpenRouter, models.dev, LiteLLM, Infron) -> CatalogSpec.

Each importer is a pure function `(parsed JSON, ImportOptions) -> ImportResult`; `IMPORTERS`
maps the `--format` name to it. Shared reading, units and assembly live in `offers`.

Example:
    >>> sorted(IMPORTERS)
    ['infron', 'litellm', 'modelsdev', 'openrouter']
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from .infron import import_infron
from .litellm import import_litellm
from .modelsdev import import_modelsdev
from .offers import ImportOptions, ImportResult
from .openrouter import import_openrouter

Importer = Callable[[Any, ImportOptions], ImportResult]

IMPORTERS: Mapping[str, Importer] = MappingProxyType(
    {
        "openrouter": import_openrouter,
        "modelsdev": import_modelsdev,
        "litellm": import_litellm,
        "infron": import_infron,
    }
)
# Which formats take `--provider NAME` (one provider for every offer) and which take
# `--only-provider ID` (a filter over the providers the source names).
SINGLE_PROVIDER_FORMATS = frozenset({"openrouter", "infron"})
MULTI_PROVIDER_FORMATS = frozenset({"modelsdev", "litellm"})


def guess_format(document: Any) -> str | None:
    """The native format a parsed catalog looks like, for hints; None when it is none of them.

    Example:
        >>> guess_format({"data": [{"id": "a/b", "pricing": {}}]}), guess_format({"x": 1})
        ('openrouter', None)
    """
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        first = document["data"][0] if document["data"] else {}
        is_infron = isinstance(first, dict) and "category_type" in first
        return "infron" if is_infron else "openrouter"
    if not isinstance(document, dict) or not document:
        return None
    values = [v for v in document.values() if isinstance(v, dict)]
    if values and all("models" in v for v in values[:5]):
        return "modelsdev"
    if any("litellm_provider" in v for v in values[:20]):
        return "litellm"
    return None


__all__ = [
    "IMPORTERS",
    "MULTI_PROVIDER_FORMATS",
    "SINGLE_PROVIDER_FORMATS",
    "ImportOptions",
    "ImportResult",
    "Importer",
    "guess_format",
]
