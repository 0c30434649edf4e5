"""Benchmark: import native catalogs and print time and counts per format.

    python bench/bench_import.py DIR          # the full native files in DIR, best of 3 runs
    python bench/bench_import.py --runs 1     # the small excerpts in tests/data/catalogs

DIR holds the full catalogs the excerpts were cut from (file names and sources:
tests/data/catalogs/README.md); only they give figures worth comparing.

Each run reads the file, parses the JSON, normalizes it and serializes the snapshot: what
`clawpolicy catalog import` does minus the write. The Infron row uses a generated response of
300 entries in the documented shape (no public dump exists). Prints figures; asserts nothing
(timing belongs here, not in tests). The budget is under 2 s per import.
"""

import argparse
import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from compiler.catalogs.importers import IMPORTERS, ImportOptions, ImportResult
from compiler.load.catalog import serialize_snapshot

EXCERPTS = Path(__file__).resolve().parents[1] / "tests" / "data" / "catalogs"
FILES = (
    ("openrouter", "openrouter-models-2026-05-15.json", date(2026, 5, 15)),
    ("openrouter", "openrouter-models-2026-06-16.json", date(2026, 6, 16)),
    ("modelsdev", "modelsdev-api-2026-07-01.json", date(2026, 7, 1)),
    ("litellm", "litellm-model-prices-2026-11-20.json", date(2026, 11, 20)),
)


def infron_response(entries: int) -> dict[str, Any]:
    kinds = ("LLM", "llm", "Embeddings", "LLM", "image_generation")
    return {
        "data": [
            {
                "id": f"vendor{i % 17}/model-{i}",
                "display_name": f"Model {i}",
                "category_type": kinds[i % len(kinds)],
                "is_display_only": i % 31 == 0,
                "input_modalities": ["text", "image"] if i % 2 else ["text"],
                "output_modalities": ["text"],
                "supports_function_calling": i % 3 != 0,
                "supports_vision": bool(i % 2),
                "context_length": 128_000 + i,
                "max_output_tokens": 16_384,
                "min_prompt_price": 0.1 + i / 1000,
                "min_completion_price": 0.4 + i / 1000,
            }
            for i in range(entries)
        ]
    }


def best_of(runs: int, work: Callable[[], ImportResult]) -> tuple[float, ImportResult]:
    timings, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        timings.append(time.perf_counter() - started)
    assert result is not None
    return min(timings), result


def import_file(fmt: str, path: Path, as_of: date) -> ImportResult:
    document = json.loads(path.read_text(encoding="utf-8"))
    result = IMPORTERS[fmt](document, ImportOptions(date=as_of, path=path.name))
    serialize_snapshot(result.snapshot)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per file (the best is shown)")
    parser.add_argument(
        "directory", nargs="?", type=Path, default=EXCERPTS, help="folder of the native files"
    )
    args = parser.parse_args()
    runs = args.runs
    print(f"catalogs from {args.directory}")
    print(f"{'format':<11}{'file':<40}{'entries':>8}{'offers':>8}{'skipped':>9}{'seconds':>9}")
    for fmt, name, as_of in FILES:
        path = args.directory / name
        if not path.is_file():
            print(f"{fmt:<11}{name:<40}  (missing: {path})")
            continue
        seconds, result = best_of(runs, lambda f=fmt, p=path, d=as_of: import_file(f, p, d))
        _row(fmt, name, result, seconds)
    document = infron_response(300)
    seconds, result = best_of(
        runs, lambda: IMPORTERS["infron"](document, ImportOptions(date=date(2026, 11, 20)))
    )
    _row("infron", "(generated, 300 entries)", result, seconds)


def _row(fmt: str, name: str, result: ImportResult, seconds: float) -> None:
    offers, skipped = len(result.snapshot.offers), sum(result.skipped.values())
    print(f"{fmt:<11}{name:<40}{offers + skipped:>8}{offers:>8}{skipped:>9}{seconds:>9.3f}")
    for reason, count in result.skipped.items():
        print(f"{'':<19}skipped {count:>5}  {reason}")


if __name__ == "__main__":
    main()
