"""OpenClaw's own JSON Schemas, vendored, and validators over them (used by `schemacheck`).

Each supported release's schema is what `openclaw config schema` prints, stored gzip-compressed
in `compiler/output/schemas/` (`tests/test_openclawschema.py` regenerates it from the installed
package and fails on any difference). Reading that package data is the only IO; a version's
validators are built on first use and kept for the process (`functools.cache`): the schema is
2.4 MB of JSON and a run checks several environments. Two exact repairs make the exported schema
usable by a Python validator:

* the ECMAScript classes `\\p{Cs}` and `\\p{Cc}` in patterns become explicit ranges (Python's
  `re` has no `\\p{...}`);
* an embedded schema with its own `$defs` (a plugin's config) gets an `$id`, so its
  `#/$defs/...` refs resolve inside it, as OpenClaw means them; read as plain draft-07 they
  would point at the root, which has no `$defs`.
"""

import functools
import gzip
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
ENTRIES = ("agents", "entries")
# Python spellings of the ECMAScript Unicode classes the exported patterns use.
_UNICODE_CLASSES = {r"\p{Cs}": r"\ud800-\udfff", r"\p{Cc}": r"\x00-\x1f\x7f-\x9f"}
# the keywords of a schema that validates an object as a map: each key and each value alone
_PLAIN_MAP_KEYWORDS = {"type", "propertyNames", "additionalProperties", "title", "description"}


def schema_path(version: str) -> Path:
    """The vendored schema of OpenClaw `version` (gzip-compressed JSON)."""
    return SCHEMA_DIR / f"openclaw-{version}.schema.json.gz"


def schema_text(version: str) -> str:
    """The vendored schema of OpenClaw `version`, exactly as `openclaw config schema` printed it."""
    return gzip.decompress(schema_path(version).read_bytes()).decode("utf-8")


def load_schema(version: str) -> dict[str, Any]:
    """OpenClaw `version`'s schema, with the repairs of the module docstring."""
    embedded = itertools.count()

    def repair(node: dict[str, Any]) -> dict[str, Any]:  # called for every object, innermost first
        pattern = node.get("pattern")
        if isinstance(pattern, str) and r"\p{" in pattern:
            for ecma, python in _UNICODE_CLASSES.items():
                pattern = pattern.replace(ecma, python)
            node["pattern"] = pattern
        if "$defs" in node and "$id" not in node:
            node["$id"] = f"urn:clawpolicy:openclaw-schema:embedded-{next(embedded)}"
        return node

    schema: dict[str, Any] = json.loads(schema_text(version), object_hook=repair)
    return schema


@dataclass(frozen=True, slots=True)
class Validators:
    """One version's validators: whole configs, and one `agents.entries` member (its value and
    its key, the agent id) when `agents.entries` is a plain map, as in both supported versions:
    then each distinct entry can be checked alone, once."""

    config: Validator
    entry_value: Validator | None
    entry_key: Validator | None


@functools.cache
def validators(version: str) -> Validators:
    """The validators of OpenClaw `version`, built on first use and kept for the process."""
    config = jsonschema.Draft7Validator(load_schema(version))
    entries: Any = config.schema
    for key in ENTRIES:
        entries = entries.get("properties", {}).get(key, {})
    if not set(entries) <= _PLAIN_MAP_KEYWORDS or "additionalProperties" not in entries:
        return Validators(config, None, None)
    return Validators(
        config,
        config.evolve(schema=entries["additionalProperties"]),
        config.evolve(schema=entries.get("propertyNames", {})),
    )
