"""Stage 1b: read the catalog snapshots an environment lists into one Catalog.

Paths are relative to policies/ and must stay inside the repository (a pinned catalog is
committed with the policies). The same (provider, model id) in two snapshots is PC111 naming
both files; a native catalog listed by mistake gets the exact `catalog import` to run.
"""

import json
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..diagnostics import Span, error
from . import catalog as catalog_mod
from . import repofiles
from .catalog import guess_format
from .filereader import FileReader, LoadedFile


def load_catalogs(
    reader: FileReader, root: Path, loaded: LoadedFile, spans: Mapping[str, Span]
) -> tuple[catalog_mod.Catalog, tuple[str, ...]]:
    offers: dict[tuple[str, str], catalog_mod.Offer] = {}
    dates = []
    paths = []
    for index, relative in enumerate(loaded.spec.catalogs):
        span = loaded.source_map.values.get(("catalogs", index), spans.get("catalogs"))
        path = Path(os.path.normpath(root / "policies" / relative))
        if not path.is_relative_to(root) or not repofiles.is_inside(root, path):
            reader.problems.append(
                error(
                    "PC110",
                    f"catalog {relative} is outside the policy repository",
                    span,
                    "note: a pinned catalog is committed with the policies, so every checkout "
                    "compiles the same way; copy it under policies/catalogs/",
                )
            )
            continue
        rel = reader.rel(path)
        if rel in paths:
            reader.problems.append(error("PC111", f"catalog {rel} is listed twice", span))
            continue
        snapshot = _read_snapshot(reader, path, span)
        if snapshot is None:
            continue
        paths.append(rel)
        dates.append(snapshot.date)
        for spec in snapshot.offers:
            offer = catalog_mod.offer_from_spec(spec, snapshot.date, rel)
            key = (offer.provider, offer.id)
            if key in offers:
                other = offers[key].source
                where = "twice in" if other == rel else "in both"
                files = rel if other == rel else f"{other} and {rel}"
                reader.problems.append(
                    error(
                        "PC111",
                        f"offer {offer.ref} appears {where} {files}",
                        span,
                        "hint: keep each (provider, model id) in exactly one catalog",
                    )
                )
                continue
            offers[key] = offer
    if not loaded.spec.catalogs and not loaded.spec.promote_from:
        reader.problems.append(
            error("PC102", "environment lists no catalogs", Span(loaded.path, 1, 1))
        )
    return catalog_mod.Catalog.of(offers.values(), dates), tuple(paths)


def _read_snapshot(reader: FileReader, path: Path, span: Span | None) -> Any:
    shown = reader.rel(path)  # the caller made sure it is inside the repository
    if not os.path.lexists(path):
        notes = ["note: catalog paths are relative to policies/"]
        doubled = reader.root / "policies" / "policies"
        if path.is_relative_to(doubled) and (doubled.parent / path.relative_to(doubled)).is_file():
            notes.append(f"hint: did you mean '{path.relative_to(doubled).as_posix()}'?")
        reader.problems.append(error("PC110", f"catalog {shown} not found", span, *notes))
        return None
    text = reader.read_text(path, span, repofiles.MAX_DATA_BYTES)
    if text is None:
        return None
    try:
        return catalog_mod.parse_snapshot(text)
    except ValidationError as exc:
        raw = json.loads(text, parse_float=Decimal)
        native = guess_format(raw)
        if native is not None:
            reader.problems.append(
                error(
                    "PC110",
                    f"catalog {shown} is a native {native} catalog, not a clawpolicy snapshot",
                    span,
                    f"hint: convert it: clawpolicy catalog import {shown} --format {native} "
                    "--date YYYY-MM-DD -o <snapshot.json>, and list the snapshot instead",
                )
            )
            return None
        notes = [f"note: {line}" for line in catalog_mod.describe_validation_error(exc, raw)]
        more = len(notes) - 10
        reader.problems.append(
            error(
                "PC110",
                f"catalog {shown} is not a valid clawpolicy catalog",
                span,
                *notes[:10],
                *([f"... and {more} more"] if more > 0 else []),
            )
        )
    except ValueError as exc:
        reader.problems.append(error("PC110", f"catalog {shown} is not valid JSON: {exc}", span))
    return None
