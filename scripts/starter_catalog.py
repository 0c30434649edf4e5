"""Make the starter catalog that `clawpolicy init` ships (package data), from a native
OpenRouter catalog (GET /api/v1/models saved to a file), through the project's own importer:
a few dozen well-known offers, facts only (the importer's normalized output, unedited).

    python scripts/starter_catalog.py openrouter-models-2026-06-16.json 2026-06-16

writes compiler/adopt/starter/policies/catalogs/openrouter-<date>.json. Change STARTER_IDS and
`init`'s environment files together (they name the file).
"""

import json
import sys
from datetime import date
from pathlib import Path

from compiler.catalogs.importers import IMPORTERS, ImportOptions
from compiler.load.catalog import serialize_snapshot

STARTER_IDS = (
    "anthropic/claude-haiku-4.5",
    "anthropic/claude-opus-4.7",
    "anthropic/claude-opus-4.8",
    "anthropic/claude-sonnet-4.6",
    "deepseek/deepseek-v3.2",
    "deepseek/deepseek-v4-flash",
    "deepseek/deepseek-v4-pro",
    "google/gemini-2.5-flash",
    "google/gemini-2.5-flash-lite",
    "google/gemini-2.5-pro",
    "google/gemini-3.1-flash-lite",
    "google/gemini-3.1-pro-preview",
    "google/gemini-3.5-flash",
    "meta-llama/llama-4-maverick",
    "mistralai/codestral-2508",
    "mistralai/mistral-large-2512",
    "mistralai/mistral-medium-3-5",
    "mistralai/mistral-small-2603",
    "moonshotai/kimi-k2.6",
    "openai/gpt-4.1-mini",
    "openai/gpt-5-mini",
    "openai/gpt-5-nano",
    "openai/gpt-5.4",
    "openai/gpt-5.4-mini",
    "openai/gpt-5.4-nano",
    "openai/gpt-5.5",
    "openai/gpt-oss-120b",
    "openai/gpt-oss-120b:free",
    "qwen/qwen3-coder",
    "qwen/qwen3.6-plus",
    "qwen/qwen3.7-max",
    "x-ai/grok-4.3",
    "x-ai/grok-build-0.1",
    "z-ai/glm-4.7-flash",
    "z-ai/glm-5.1",
)
TARGET = Path(__file__).resolve().parents[1] / "compiler/adopt/starter/policies/catalogs"


def main(native: Path, day: date) -> None:
    document = json.loads(native.read_text(encoding="utf-8"))
    options = ImportOptions(day, "openrouter", (), str(native), f"openrouter:{native.name}")
    snapshot = IMPORTERS["openrouter"](document, options).snapshot
    kept = tuple(o for o in snapshot.offers if o.id in STARTER_IDS)
    missing = sorted(set(STARTER_IDS) - {o.id for o in kept})
    if missing:
        raise SystemExit(f"not in {native}: {', '.join(missing)}")
    out = TARGET / f"openrouter-{day.isoformat()}.json"
    out.write_text(serialize_snapshot(snapshot.model_copy(update={"offers": kept})), "utf-8")
    print(f"wrote {len(kept)} offers to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), date.fromisoformat(sys.argv[2]))
