"""Stage 3c: check a rendered openclaw.json against OpenClaw's own JSON Schema for the
environment's `openclaw_version` (the vendored schemas of `openclawschema`). No Node needed.

The check catches at compile time what OpenClaw would refuse to start with (`"gateway": {"mode":
"lokal"}`), and names the JSON path and who wrote the value: the template (on the line that
writes it, when one line does), or the environment file the compiler built it from. Errors are
PC306. `format` is not checked (OpenClaw's `uri`, `email` and `date-time` stay with OpenClaw),
nor the rules only `openclaw config validate` enforces, which the compiler meets by
construction (a custom provider declares `baseUrl` and `models`, a roster its `ownership`).
"""

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import jsonschema.exceptions
from jsonschema.protocols import Validator

from .. import redaction
from ..diagnostics import Diagnostic, Span, error
from ..load.project import Environment, Project
from ..redaction import located
from ..resolve.resolver import Resolution
from . import openclawschema
from .openclawschema import ENTRIES
from .renderer import RenderedFile, model_layer

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_$-]+$")

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One place where a config breaks the schema: its JSON path and what is wrong there."""

    path: JsonPath
    message: str
    notes: tuple[str, ...] = ()


def problems(config: Any, version: str) -> list[SchemaProblem]:
    """Everything in `config` that OpenClaw `version`'s schema rejects, sorted by path.

    `agents.entries` grows with the number of agents, and most agents share their entry (the
    chains of a tier): each distinct entry is validated once and its problems are reported at
    every agent that has it, which is exact for a plain map (every key against `propertyNames`,
    every value against `additionalProperties`), the shape both versions give it.
    """
    checkers = openclawschema.validators(version)
    value, key = checkers.entry_value, checkers.entry_key
    entries = _value_at(config, ENTRIES)
    found: set[SchemaProblem] = set()
    if value is not None and key is not None and isinstance(entries, dict):
        found.update(_entry_problems(entries, value, key))
        config = {**config, "agents": {**config["agents"], "entries": {}}}
    found.update(p for err in checkers.config.iter_errors(config) for p in _explain(err))
    return sorted(found, key=lambda p: (tuple(str(part) for part in p.path), p.message))


def _entry_problems(
    entries: Mapping[str, Any], entry_value: Validator, entry_key: Validator
) -> Iterator[SchemaProblem]:
    sharing: dict[str, list[str]] = {}
    for agent_id, value in entries.items():
        sharing.setdefault(json.dumps(value), []).append(agent_id)
        for err in entry_key.iter_errors(agent_id):
            yield from _explain(err, (*ENTRIES, agent_id))
    for agent_ids in sharing.values():
        errors = list(entry_value.iter_errors(entries[agent_ids[0]]))
        for agent_id in agent_ids:
            for err in errors:
                yield from _explain(err, (*ENTRIES, agent_id))


def _explain(
    err: jsonschema.exceptions.ValidationError, prefix: JsonPath = ()
) -> Iterator[SchemaProblem]:
    """Our wording for one jsonschema error (at `prefix` + its path); an unknown-keys error
    yields one problem per key."""
    path: JsonPath = (*prefix, *err.absolute_path)
    instance: Any = err.instance
    hidden = redaction.is_secret_path(path)
    shown: Any = _Hidden() if hidden else instance  # what a message may quote
    rule, value = err.validator, cast(Any, err.validator_value)
    schema = err.schema if isinstance(err.schema, Mapping) else {}
    if rule == "additionalProperties" and isinstance(instance, dict):
        yield from _unknown_keys(path, instance, schema)
    elif rule in ("anyOf", "oneOf") and _choices(value) is None and err.context:
        yield from _explain_union(err, prefix)
    elif rule in ("anyOf", "oneOf", "enum"):
        allowed = _listed(value) if rule == "enum" else _choices(value)
        yield SchemaProblem(path, f"must be one of {allowed}; got {_short(shown)}")
    elif rule == "const":
        yield SchemaProblem(path, f"must be {_short(value)}; got {_short(shown)}")
    elif rule == "type":
        wanted = " or ".join(value) if isinstance(value, list) else value
        yield SchemaProblem(path, f"expected {wanted}, got {_json_type(shown)}")
    elif rule == "pattern" and "propertyNames" in err.relative_schema_path:
        yield SchemaProblem((*path, instance), f"key does not match {value}")
    elif rule == "pattern":
        yield SchemaProblem(path, f"{_short(shown)} does not match {value}")
    elif rule == "required" and isinstance(instance, dict):
        missing = [key for key in value if key not in instance]
        yield from (SchemaProblem((*path, key), "missing required key") for key in missing)
    elif hidden:  # jsonschema's own message quotes the value
        yield SchemaProblem(path, f"breaks the schema's {rule} rule ({_short(shown)})")
    else:
        yield SchemaProblem(path, _clip(err.message, 200))


def _explain_union(
    err: jsonschema.exceptions.ValidationError, prefix: JsonPath
) -> Iterator[SchemaProblem]:
    """A union of shapes (a string, or `{primary, fallbacks}`): when exactly one branch has the
    instance's type, what is wrong inside that branch; else the types it may have."""
    branches: dict[Any, list[jsonschema.exceptions.ValidationError]] = {}
    for sub in err.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    typed = [
        errors
        for errors in branches.values()
        if not any(sub.validator == "type" and not sub.relative_path for sub in errors)
    ]
    if len(typed) == 1:
        for sub in typed[0]:
            yield from _explain(sub, prefix)
        return
    if typed:
        yield from _explain(jsonschema.exceptions.best_match(err.context), prefix)
        return
    wanted: dict[str, None] = {}
    for sub in err.context:
        if sub.validator == "type" and not sub.relative_path:
            kinds = cast(Any, sub.validator_value)
            wanted.update(dict.fromkeys(kinds if isinstance(kinds, list) else [kinds]))
    path: JsonPath = (*prefix, *err.absolute_path)
    instance = _Hidden() if redaction.is_secret_path(path) else err.instance
    yield SchemaProblem(path, f"expected {' or '.join(wanted)}, got {_json_type(instance)}")


def _unknown_keys(
    path: JsonPath, instance: Mapping[str, Any], schema: Mapping[str, Any]
) -> Iterator[SchemaProblem]:
    known = sorted(schema.get("properties", {}))
    for key in _unexpected_keys(instance, schema):
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = (f"hint: did you mean '{close[0]}'?",) if close else ()
        yield SchemaProblem((*path, key), "unknown key", hint)


def _unexpected_keys(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    known = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    return [
        key for key in instance if key not in known and not any(p.search(key) for p in patterns)
    ]


def _choices(branches: Any) -> str | None:
    """The allowed values when every branch of an anyOf/oneOf is a constant or an enum."""
    values: list[Any] = []
    for branch in branches:
        if "const" in branch:
            values.append(branch["const"])
        elif "enum" in branch:
            values.extend(branch["enum"])
        else:
            return None
    return _listed(values)


def _listed(values: Any) -> str:
    return ", ".join(json.dumps(v) for v in values)


class _Hidden:
    """The value at a secret-named path (`env.vars.DB_PASS`): never quoted in a message."""


def _short(value: Any) -> str:
    """A JSON value for a message, cut to 60 characters."""
    if isinstance(value, _Hidden):
        return "a value (not shown: a secret field)"
    return _clip(json.dumps(value), 60)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_type(value: Any) -> str:
    """The JSON type of `value`, with the value itself for scalars (`string "x"`)."""
    if isinstance(value, _Hidden):
        return "a value (not shown: a secret field)"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    kind = "string" if isinstance(value, str) else "number"
    return f"{kind} {_short(value)}"


def dotted(path: JsonPath) -> str:
    """A JSON path as OpenClaw prints it: dots, `[i]` for items, `["k"]` for odd keys.

    Example:
        >>> dotted(("agents", "defaults", "models", "infron/x", "alias"))
        'agents.defaults.models["infron/x"].alias'
        >>> dotted(("models", "providers", "p", "models", 0, "maxTokens"))
        'models.providers.p.models[0].maxTokens'
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def is_owned_by(layer: Mapping[str, Any], path: JsonPath) -> bool:
    """Tell whether `path` leads to a value of the compiler's model layer.

    Example:
        >>> layer = {"agents": {"entries": {"a": {"model": {"fallbacks": ["p/m"]}}}}}
        >>> is_owned_by(layer, ("agents", "entries", "a", "model", "fallbacks", 0))
        True
        >>> is_owned_by(layer, ("agents", "defaults", "heartbeat"))
        False
    """
    node: Any = layer
    for part in path:
        in_object = isinstance(node, dict) and part in node
        in_array = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_object or in_array):
            return False
        node = node[part]
    return True


def check(rendered: RenderedFile, project: Project, resolution: Resolution) -> list[Diagnostic]:
    """Every value of one rendered file that its target OpenClaw's schema rejects.

    A value of the compiler's model layer is reported at the environment file it was built
    from (or its provider); any other value at the template, on the line that names its key
    when exactly one line does.
    """
    env = resolution.environment
    version = env.spec.openclaw_version
    config = json.loads(rendered.text)
    found = problems(config, version)
    if not found:
        return []
    layer = model_layer(project, resolution)  # rebuilt only to say who wrote a bad value
    template = project.templates.get(env.spec.template, "")
    why = f"note: OpenClaw {version} rejects it (its JSON Schema, `openclaw config schema`)"
    diagnostics = []
    for problem in found:
        notes: tuple[str, ...] = (why,)
        if is_owned_by(layer, problem.path):
            span = _layer_span(env, problem.path)
            notes += (f"note: the compiler built this value from {env.path}",)
        else:
            line = _template_line(template, problem.path, config)
            span = Span(f"templates/{env.spec.template}", line, 1 if line else 0)
        message = located(dotted(problem.path), problem.message)
        diagnostics.append(error("PC306", message, span, *notes, *problem.notes))
    return diagnostics


def _layer_span(env: Environment, path: JsonPath) -> Span:
    """Where a model-layer value comes from: its provider's block, else the environment."""
    if path[:2] == ("models", "providers") and len(path) > 2:
        for provider in env.providers:
            if provider.id == path[2]:
                return provider.span
    return env.span


def _template_line(template: str, path: JsonPath, config: Any) -> int:
    """The line of `template` that writes the last key of `path` (with its value, when
    several lines name that key), when exactly one line does; else 0."""
    keys = [part for part in path if isinstance(part, str)]
    if not keys:
        return 0
    needle = json.dumps(keys[-1])
    lines = [(n, text) for n, text in enumerate(template.splitlines(), start=1) if needle in text]
    value = _value_at(config, path)
    if len(lines) > 1 and isinstance(value, (str, int, float)):
        lines = [(n, text) for n, text in lines if json.dumps(value) in text]
    return lines[0][0] if len(lines) == 1 else 0


def _value_at(config: Any, path: JsonPath) -> Any:
    for part in path:
        try:
            config = config[part]
        except (KeyError, IndexError, TypeError):
            return None
    return config
