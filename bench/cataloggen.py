"""Benchmark input: a catalog of K offers in OpenRouter's native format (GET /api/v1/models).

    python bench/cataloggen.py 3000 > models.json      # then: clawpolicy catalog import ...
    python bench/cataloggen.py --refresh ../shared/catalogs   # rewrite bench/data/ (below)

The entries are the 382 real chat models of OpenRouter's 2026-06-16 response (plus the models
of 2026-05-15 that June dropped), kept in `bench/data/openrouter-models.json` with the fields
the importer reads (no descriptions), and, past those, variations of them, so the
distributions are the real ones: prices (free, cents, frontier; a few variable-priced routers),
contexts, capabilities (`supported_parameters`), input modalities, vendors, release dates (the
`canonical_slug` date suffix the importer reads) and expiry dates. A variation of a real model:

* gets a new id (`vendor/model-rN`, `:free` kept last) and, for one in four, a new vendor (one
  of about K/30 extra labs, so vendors grow with the catalog as they do across providers);
* has its prices scaled by one log-normal factor (sigma 0.4, three significant digits);
* keeps the template's context for 7 in 10, else takes a common size (32k ... 2m);
* is released up to 240 days before or 120 days after the template (never after the
  catalog's date); one in 25 carries an expiry date, some already past (never chosen);
* flips one capability flag (tools, structured outputs, reasoning) for one in seven.

Moving aliases (`~vendor/...`) and OpenRouter's routers appear once, as in the real catalog;
every entry outputs text, so K entries import as exactly K offers. Seeded: the same K and seed
give the same bytes.
"""

import argparse
import copy
import json
import math
import random
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "openrouter-models.json"
# the full responses DATA is cut from (--refresh), newest first, and what is kept of them
SOURCES = ("openrouter-models-2026-06-16.json", "openrouter-models-2026-05-15.json")
KEPT_PARAMETERS = ("max_tokens", "reasoning", "structured_outputs", "tools")
CATALOG_DATE = date(2026, 6, 16)  # the newest source's date: the snapshot's own date
COMMON_CONTEXTS = (32_768, 65_536, 131_072, 200_000, 262_144, 400_000, 1_000_000, 2_000_000)
FLAGS = ("tools", "structured_outputs", "reasoning")
PRICE_KEYS = ("prompt", "completion", "input_cache_read", "input_cache_write")
MILLION = Decimal(1_000_000)


def templates() -> list[dict[str, Any]]:
    """The real chat entries, sorted by id."""
    return list(json.loads(DATA.read_text(encoding="utf-8"))["data"])


def refresh(folder: Path) -> None:
    """Rewrite DATA from the full OpenRouter responses in `folder` (each id once, newest first;
    chat entries only; the fields the importer reads, one entry a line)."""
    seen: dict[str, dict[str, Any]] = {}
    for name in SOURCES:
        for entry in json.loads((folder / name).read_text(encoding="utf-8"))["data"]:
            if "text" in entry["architecture"]["output_modalities"]:
                seen.setdefault(entry["id"], entry)
    lines = [json.dumps(_kept(seen[key]), separators=(",", ":")) for key in sorted(seen)]
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text('{"data": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def _kept(entry: dict[str, Any]) -> dict[str, Any]:
    architecture, top = entry["architecture"], entry["top_provider"]
    return {
        **{key: entry[key] for key in ("id", "canonical_slug", "name", "created")},
        "context_length": entry["context_length"],
        "architecture": {k: architecture[k] for k in ("input_modalities", "output_modalities")},
        "pricing": {k: v for k, v in entry["pricing"].items() if k in PRICE_KEYS},
        "top_provider": {k: top.get(k) for k in ("context_length", "max_completion_tokens")},
        "supported_parameters": [p for p in entry["supported_parameters"] if p in KEPT_PARAMETERS],
        "expiration_date": entry["expiration_date"],
    }


def generate_catalog(offers: int, seed: int = 9) -> dict[str, Any]:
    """An OpenRouter models response of `offers` chat entries (see the module docstring)."""
    rng = random.Random(seed)
    real = templates()
    rng.shuffle(real)
    entries = real[:offers]
    variable = [e for e in real if not e["id"].startswith(("~", "openrouter/"))]
    ids = {e["id"] for e in entries}
    labs = [f"lab{number:03d}" for number in range(max(1, offers // 30))]
    for index in range(offers - len(entries)):
        template = variable[index % len(variable)]
        rank = index // len(variable) + 1
        entries.append(_variation(template, rank, rng, labs, ids))
    return {"data": entries}


def _variation(
    template: dict[str, Any], rank: int, rng: random.Random, labs: list[str], ids: set[str]
) -> dict[str, Any]:
    entry = copy.deepcopy(template)
    vendor, _, model = template["id"].partition("/")
    suffix = ":free" if model.endswith(":free") else ""
    model = model.removesuffix(":free")
    if rng.random() < 0.25:
        vendor = rng.choice(labs)
    new_id = f"{vendor}/{model}-r{rank}{suffix}"
    while new_id in ids:
        rank += 1000
        new_id = f"{vendor}/{model}-r{rank}{suffix}"
    ids.add(new_id)
    released = _released(template, rng)
    slug = f"{new_id.removesuffix(':free')}-{released:%Y%m%d}"
    entry.update(
        id=new_id,
        canonical_slug=slug,
        name=f"{vendor.title()}: {template['name'].partition(': ')[2] or model} r{rank}",
        created=int(datetime(released.year, released.month, released.day, tzinfo=UTC).timestamp()),
        links={"details": f"/api/v1/models/{slug}/endpoints"},
    )
    _scale_prices(entry["pricing"], math.exp(rng.gauss(0, 0.4)))
    if rng.random() < 0.3:
        context = rng.choice(COMMON_CONTEXTS)
        entry["context_length"] = context
        entry["top_provider"] = {**entry["top_provider"], "context_length": context}
    if rng.random() < 0.04:
        expiry = CATALOG_DATE + timedelta(days=rng.randint(-30, 120))
        entry["expiration_date"] = expiry.isoformat()
    if rng.random() < 1 / 7 and entry["supported_parameters"]:
        flag = rng.choice(FLAGS)
        params = set(entry["supported_parameters"]) ^ {flag}
        entry["supported_parameters"] = sorted(params)
    return entry


def _released(template: dict[str, Any], rng: random.Random) -> date:
    slug = template.get("canonical_slug") or ""
    tail = slug.rsplit("-", 1)[-1]
    try:
        base = datetime.strptime(tail, "%Y%m%d").date()
    except ValueError:
        base = datetime.fromtimestamp(template["created"], UTC).date()
    moved = base + timedelta(days=rng.randint(-240, 120))
    return min(moved, CATALOG_DATE - timedelta(days=1))


def _scale_prices(pricing: dict[str, Any], factor: float) -> None:
    for key in PRICE_KEYS:
        text = pricing.get(key)
        if not text or text in ("0", "-1"):
            continue
        per_million = Decimal(text) * MILLION * Decimal(factor)
        rounded = Decimal(f"{per_million:.3g}")
        pricing[key] = format(rounded / MILLION, "f")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("offers", type=int, nargs="?", help="how many entries (all chat offers)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--refresh", type=Path, metavar="DIR", help="rewrite bench/data/ from DIR")
    args = parser.parse_args()
    if args.refresh:
        refresh(args.refresh)
    elif args.offers is None:
        parser.error("give OFFERS or --refresh DIR")
    else:
        json.dump(generate_catalog(args.offers, args.seed), sys.stdout)


if __name__ == "__main__":
    main()
