"""Fixtures for the catalog tests: excerpts of real native catalogs and a small Infron response.

The excerpts live in `tests/data/catalogs/` (what they were cut from, and when: the README
there); `tests.support.excerpt_catalogs` cuts them from the full files.
"""

import functools
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from compiler.catalogs.importers import IMPORTERS, ImportOptions, ImportResult

REPO = Path(__file__).resolve().parents[2]
CATALOGS = REPO / "tests" / "data" / "catalogs"
FILES = {
    "openrouter-may": ("openrouter", "openrouter-models-2026-05-15.json", date(2026, 5, 15)),
    "openrouter-june": ("openrouter", "openrouter-models-2026-06-16.json", date(2026, 6, 16)),
    "modelsdev": ("modelsdev", "modelsdev-api-2026-07-01.json", date(2026, 7, 1)),
    "litellm": ("litellm", "litellm-model-prices-2026-11-20.json", date(2026, 11, 20)),
}


def catalog_file(name: str) -> Path:
    """A committed catalog excerpt (a missing one is a broken checkout: the test fails)."""
    path = CATALOGS / name
    assert path.is_file(), f"catalog excerpt {path} is missing"
    return path


@functools.cache
def native(name: str) -> Any:
    """The parsed native JSON of an excerpt (parsed once per test session)."""
    return json.loads(catalog_file(name).read_text(encoding="utf-8"))


@functools.cache
def imported(key: str) -> ImportResult:
    """The import of one excerpt (see FILES), done once per test session."""
    fmt, name, as_of = FILES[key]
    return IMPORTERS[fmt](native(name), ImportOptions(date=as_of, path=name))


def offer_map(result: ImportResult) -> dict[tuple[str, str], Any]:
    return {(o.provider, o.id): o for o in result.snapshot.offers}


def infron_response() -> dict[str, Any]:
    """An Infron `GET /v1/models` body in the documented shape (no public dump exists)."""
    return {
        "data": [
            {
                "id": "deepseek/deepseek-v4-flash",
                "display_name": "DeepSeek V4 Flash",
                "description": "fast",
                "category_type": "LLM",
                "is_display_only": False,
                "supported_endpoint_types": ["chat"],
                "input_modalities": ["Text"],
                "output_modalities": ["TEXT"],
                "supports_streaming": True,
                "supports_function_calling": True,
                "supports_vision": False,
                "supports_json_mode": True,
                "deprecated": False,
                "context_length": 1048576,
                "max_input_tokens": 1000000,
                "max_output_tokens": 65536,
                "min_prompt_price": 0.14,
                "min_completion_price": 0.28,
                "providers": [{"provider_slug": "deepseek", "prompt_price": 0.14}],
                "some_future_field": {"ignored": True},
            },
            {
                "id": "google/gemini-3.1-flash-lite",
                "display_name": "Gemini 3.1 Flash Lite",
                "category_type": "llm",
                "is_display_only": False,
                "input_modalities": ["text", "image", "File", "audio"],
                "output_modalities": ["text"],
                "supports_function_calling": True,
                "supports_vision": True,
                "supports_json_mode": False,
                "deprecated": True,
                "context_length": 1048576,
                "max_input_tokens": None,
                "max_output_tokens": 0,
                "min_prompt_price": 0.125,
                "min_completion_price": 0.75,
            },
            {
                "id": "qwen/qwen3-coder:free",
                "category_type": "LLM",
                "input_modalities": ["text"],
                "min_prompt_price": 0,
                "min_completion_price": 0,
                "context_length": 262144,
            },
            {"id": "openai/text-embedding-3-small", "category_type": "Embeddings"},
            {"id": "bfl/flux-2", "category_type": "image_generation"},
            {"id": "anthropic/placeholder", "category_type": "LLM", "is_display_only": True},
            {"id": "qwen/qwen3-coder:free", "category_type": "LLM", "min_prompt_price": 0},
        ]
    }


def example_repo(root: Path) -> None:
    """The repo's example policies (pins removed: they name offers of other catalogs)."""
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "policies" / "teams").mkdir(parents=True)
    shutil.copy(REPO / "policies" / "tiers.yaml", root / "policies" / "tiers.yaml")
    for team in sorted((REPO / "policies" / "teams").glob("*.yaml")):
        kept = [line for line in team.read_text().splitlines(True) if "pin:" not in line]
        (root / "policies" / "teams" / team.name).write_text("".join(kept))


def environment_yaml(name: str, snapshots: dict[str, Any]) -> str:
    """An environment file using these catalogs, with one provider account per offer provider."""
    lines = ["version: 1", f"environment: {name}", "catalogs:"]
    lines += [f"  - catalogs/{key}.json" for key in snapshots]
    lines += ["providers:"]
    for provider in sorted({o.provider for s in snapshots.values() for o in s.offers}):
        lines += [
            f"  {provider}:",
            "    base_url: https://llm.example.invalid/v1",
            "    api: openai-completions",
            f"    api_key: {{env: {provider.upper().replace('-', '_')}_API_KEY}}",
        ]
    return "\n".join([*lines, "default_tier: standard", "image_tier: vision", ""])
