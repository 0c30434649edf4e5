"""Cut the real native catalogs down to the excerpts committed in tests/data/catalogs/.

    python -m tests.support.excerpt_catalogs SOURCE_DIR

SOURCE_DIR holds the full files (their sources and dates: tests/data/catalogs/README.md). An
excerpt keeps the file's native shape and, for every entry it keeps, every field and the entry's
place in the file; it only drops entries. `KEEP` below names the kept entries: those the tests
name, the models the example policies resolve to, and one or two of each kind an importer skips.
Run it again after changing `KEEP`, then update the counts the tests assert.
"""

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "catalogs"

OPENROUTER_COMMON = (
    "anthropic/claude-sonnet-4.5",
    "deepseek/deepseek-v4-flash",
    "google/gemini-2.5-flash",
    "mistralai/devstral-2512",
    "openai/gpt-4o-mini",
    "openai/gpt-5.4",
    "openrouter/auto",
    "openrouter/free",
    "z-ai/glm-4.5",
    "~anthropic/claude-sonnet-latest",
    "~google/gemini-flash-latest",
    "~moonshotai/kimi-latest",
)

OPENROUTER_JUNE = (
    *OPENROUTER_COMMON,
    # the example policies resolve to these (test_importers compiles them)
    "anthropic/claude-opus-4.8",
    "anthropic/claude-sonnet-4.6",
    "deepseek/deepseek-v4-pro",
    "google/gemini-2.5-flash-lite",
    "google/gemini-3.1-flash-lite",
    "google/gemini-3.1-pro-preview",
    "google/gemini-3.5-flash",
    "inclusionai/ling-2.6-flash",
    "mistralai/ministral-8b-2512",
    "moonshotai/kimi-k2.5",
    "openai/gpt-4.1-mini",
    "openai/gpt-5.1-codex-mini",
    "openai/gpt-5.4-mini",
    "openai/gpt-5.5",
    "qwen/qwen3-coder-next",
    "x-ai/grok-4.20",
    # sentinels: limits, routers, free variants, expiry dates, aliases
    "nvidia/nemotron-3-ultra-550b-a55b",
    "nvidia/nemotron-3-ultra-550b-a55b:free",
    "openrouter/bodybuilder",
    "openrouter/fusion",
    "openrouter/pareto-code",
    "z-ai/glm-5.2",
    "~anthropic/claude-fable-latest",
    # new in June
    "anthropic/claude-fable-5",
    "qwen/qwen3.7-max",
)

OPENROUTER_MAY = (
    *OPENROUTER_COMMON,
    # gone by June; grok-4 expired on the snapshot date, gemini-2.0-flash-001 expires after it
    "google/gemini-2.0-flash-001",
    "mistralai/devstral-small",
    "x-ai/grok-3",
    "x-ai/grok-4",
)

MODELSDEV_API = {
    "anthropic": (
        "claude-3-opus-20240229",
        "claude-haiku-4-5",
        "claude-opus-4-8",
        "claude-sonnet-4-5",
        "claude-sonnet-4-6",
    ),
    "openai": (
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4o-mini",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "gpt-5.1-codex-mini",
        "gpt-5.4",
        "gpt-5.4-mini",
        "gpt-5.5",
        "text-embedding-3-small",
    ),
    "google": (
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
        "gemini-3.1-flash-lite",
        "gemini-3.1-pro-preview",
        "gemini-3.5-flash",
    ),
    "openrouter": ("anthropic/claude-sonnet-4.5",),
    "anyapi": ("anthropic/claude-haiku-4-5",),
    "abacus": ("kimi-k2.5",),
    "amazon-bedrock": ("amazon.nova-lite-v1:0",),
    "groq": ("whisper-large-v3",),
    "vercel": ("cohere/rerank-v3.5", "openai/tts-1", "openai/whisper-1"),
    "302ai": ("MiniMax-M2", "qwen-flash"),
    "wafer.ai": ("GLM-5.1",),
}

MODELSDEV_MODELS = ("anthropic/claude-haiku-4-5", "alibaba/qwen-flash", "openai/gpt-5")

LITELLM = (
    # the tests name these
    "ai21.jamba-1-5-mini-v1:0",
    "claude-sonnet-4-5",
    "databricks/databricks-claude-sonnet-4-1",
    "deepseek-chat",
    "deepseek/deepseek-chat",
    "gemini/gemini-2.5-pro",
    "gpt-5",
    "jamba-1.5",
    "sample_spec",
    "vertex_ai/claude-sonnet-4-5",
    # the example policies resolve to these
    "claude-haiku-4-5",
    "claude-haiku-5-5",
    "claude-opus-4-5",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
    "claude-sonnet-5",
    "ft:gpt-4.1-mini-2025-04-14",
    "gemini/gemini-2.5-flash",
    "gemini/gemini-exp-1114",
    "gpt-4.1-mini",
    "gpt-4o-mini",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5.4",
    "gpt-5.4-mini",
    "gpt-5.5",
    # skipped kinds: aliases and modes other than chat
    "claude-opus-latest",
    "gpt-mini-latest",
    "mistral/mistral-embed",
    "perplexity/preset/fast-search",
    "chatgpt/gpt-rosalind-discovery",
    "groq/whisper-large-v3",
)


@dataclass(frozen=True)
class Excerpt:
    """One file: how to cut it and how the source writes JSON."""

    cut: Callable[[Any], Any]
    indent: int | None
    final_newline: bool


def keep_openrouter(ids: tuple[str, ...]) -> Callable[[Any], Any]:
    return lambda document: {
        **document,
        "data": [entry for entry in document["data"] if entry["id"] in ids],
    }


def keep_modelsdev(kept: Mapping[str, tuple[str, ...]]) -> Callable[[Any], Any]:
    def cut(document: Any) -> Any:
        return {
            provider_id: {
                **provider,
                "models": {
                    model_id: model
                    for model_id, model in provider["models"].items()
                    if model_id in kept[provider_id]
                },
            }
            for provider_id, provider in document.items()
            if provider_id in kept
        }

    return cut


def keep_keys(keys: tuple[str, ...]) -> Callable[[Any], Any]:
    return lambda document: {key: value for key, value in document.items() if key in keys}


EXCERPTS = {
    "openrouter-models-2026-05-15.json": Excerpt(keep_openrouter(OPENROUTER_MAY), None, False),
    "openrouter-models-2026-06-16.json": Excerpt(keep_openrouter(OPENROUTER_JUNE), 2, True),
    "modelsdev-api-2026-07-01.json": Excerpt(keep_modelsdev(MODELSDEV_API), None, False),
    "modelsdev-models-2026-07-01.json": Excerpt(keep_keys(MODELSDEV_MODELS), None, False),
    "litellm-model-prices-2026-11-20.json": Excerpt(keep_keys(LITELLM), 4, True),
}


def write_excerpt(source: Path, target: Path, excerpt: Excerpt) -> int:
    """Cut source into target; returns the bytes written."""
    document = json.loads(source.read_text(encoding="utf-8"))
    separators = (",", ":") if excerpt.indent is None else (",", ": ")
    text = json.dumps(
        excerpt.cut(document), indent=excerpt.indent, separators=separators, ensure_ascii=False
    )
    data = (text + ("\n" if excerpt.final_newline else "")).encode("utf-8")
    target.write_bytes(data)
    return len(data)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    source_dir = Path(argv[0])
    DATA.mkdir(parents=True, exist_ok=True)
    for name, excerpt in EXCERPTS.items():
        size = write_excerpt(source_dir / name, DATA / name, excerpt)
        print(f"{DATA / name}: {size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
