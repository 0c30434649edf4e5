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

from ...load.catalog import guess_format
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


__all__ = [
    "IMPORTERS",
    "MULTI_PROVIDER_FORMATS",
    "SINGLE_PROVIDER_FORMATS",
    "ImportOptions",
    "ImportResult",
    "Importer",
    "guess_format",
]
