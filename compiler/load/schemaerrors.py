"""Translate pydantic ValidationErrors into Diagnostics that point at YAML file:line:col.

Kept apart from the loader because catalog and lock readers need the same translation. The
words are ours, not pydantic's ("expected a list, like [vision]", not "Input should be a valid
tuple"), and a block indented one level too deep (a provider under another's `api_key`) is
named as such.
"""

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from ..diagnostics import Diagnostic, error
from ..redaction import located, looks_secret, shown
from .yamlsource import SourceMap


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Follow `loc` through nested pydantic models to the model that owns its last part."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            # a dict key (e.g. a tier name) or a union tag: stay on the same model
            continue
        current = _first_model(field.annotation)
    return current


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    return None


# an example value for a list-valued key, shown in "expected a list, like ..."
LIST_EXAMPLES = {
    "requires": "[vision]",
    "prefer": '["openai/gpt-5*"]',
    "avoid": '["*:free"]',
    "vendors": "[anthropic, openai]",
    "teams": '["*"]',
    "catalogs": "[catalogs/openrouter-2026-11-20.json]",
    "owners": '["@acme/support-eng"]',
}
_KIND_OF_INPUT = {str: "text", bool: "true/false", int: "a number", float: "a number"}
# what a mapping is when it has these keys, and the key of the mapping it belongs directly under
BLOCKS = (
    ("a provider account", frozenset({"base_url", "api"}), "providers"),
    ("an agent", frozenset({"tier", "pin", "workload", "budget"}), "agents"),
)


def _got(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return _KIND_OF_INPUT.get(type(value), type(value).__name__)


def _expected(kind: str, ctx: dict[str, Any], key: str) -> str | None:
    """Our words for pydantic's common type and bound errors (None: keep pydantic's)."""
    words = {
        "tuple_type": f"expected a list, like {LIST_EXAMPLES.get(key, '[a, b]')}",
        "list_type": f"expected a list, like {LIST_EXAMPLES.get(key, '[a, b]')}",
        "dict_type": "expected a mapping (key: value lines)",
        "model_type": "expected a mapping (key: value lines)",
        "model_attributes_type": "expected a mapping (key: value lines)",
        "string_type": "expected text (quote it: '...')",
        "int_type": "expected a whole number",
        "int_parsing": "expected a whole number",
        "int_from_float": "expected a whole number",
        "bool_type": "expected true or false",
        "bool_parsing": "expected true or false",
        "float_type": "expected a number",
        "float_parsing": "expected a number",
        "decimal_type": "expected a number",
        "decimal_parsing": "expected a number",
    }
    if kind in words:
        return words[kind]
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "less_than_equal": ("at most", "le"),
        "greater_than": ("more than", "gt"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        text, name = bounds[kind]
        return f"must be {text} {ctx.get(name)}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "string_too_short":
        return "must not be empty"
    return None


def _misplaced_block(key: str, value: Any, doc_path: tuple[Any, ...]) -> tuple[str, str] | None:
    """(message, hint) when an unknown key's value is a block that belongs elsewhere."""
    if not isinstance(value, dict):
        return None
    for what, marks, home in BLOCKS:
        if not marks & set(value):
            continue
        parent = ".".join(str(p) for p in doc_path[:-1])
        if home in doc_path[:-2]:
            sibling = doc_path[doc_path.index(home) + 1]
            hint = f"hint: indent it like '{sibling}', directly under {home}:"
        else:
            hint = f"hint: move it under {home}:"
        where = f"under {parent}" if parent else "at the top of the file"
        return f"'{key}' looks like {what} but is indented {where}", hint
    return None


def _message(
    err: dict[str, Any], model: type[BaseModel], doc_path: tuple[Any, ...]
) -> tuple[str, str, tuple[str, ...]]:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        misplaced = _misplaced_block(str(loc[-1]), err.get("input"), doc_path)
        if misplaced is not None:
            return "PC101", misplaced[0], (misplaced[1],)
        owner = _model_at(model, loc)
        key = str(loc[-1])
        notes: tuple[str, ...] = ()
        if owner is not None:
            known = [f.alias or name for name, f in owner.model_fields.items()]
            close = difflib.get_close_matches(key[:100], known, n=1, cutoff=0.6)
            if close:
                notes = (f"hint: did you mean '{close[0]}'?",)
            else:
                notes = (f"note: allowed keys: {', '.join(sorted(known))}",)
        return "PC101", f"unknown key {shown(key, 'key')}", notes
    if kind == "missing":
        return "PC102", f"missing required key '{loc[-1]}'", ()
    message = str(err["msg"])
    ctx = err.get("ctx") or {}
    if loc and loc[-1] == "[key]":
        if looks_secret(str(loc[-2])):
            return "PC103", f"key {shown(str(loc[-2]), 'key')} must be a string: quote it", ()
        return "PC103", f"key {loc[-2]!r} must be a string: quote it ('{loc[-2]}')", ()
    ours = _expected(kind, ctx, str(doc_path[-1]) if doc_path else "")
    if kind == "literal_error" and "expected" in ctx:
        message = f"must be one of {ctx['expected']}"
    elif ours is not None:
        message = ours + (f", got {_got(err.get('input'))}" if kind.endswith("_type") else "")
    elif kind == "value_error":
        message = str(ctx.get("error", message))
    where = ".".join(str(p) for p in doc_path)
    code = "PC109" if message.startswith("invalid glob") else "PC103"
    code = "PC107" if kind == "literal_secret" else code
    return code, located(where, message) if where else message, ()


def diagnostics_from_validation(
    exc: ValidationError, model: type[BaseModel], source_map: SourceMap
) -> list[Diagnostic]:
    """One Diagnostic per pydantic error, located through the source map.

    Errors that are really the same (a union whose members both failed) are reported once.
    """
    seen: set[tuple[str, str]] = set()
    found: list[Diagnostic] = []
    for err in exc.errors(include_url=False):
        doc_path = source_map.known_path(err["loc"])
        code, message, notes = _message(dict(err), model, doc_path)
        is_key = code == "PC101" or tuple(err["loc"])[-1:] == ("[key]",)
        span = source_map.locate(err["loc"], prefer_key=is_key)
        key = (str(span), code)
        if key in seen and code == "PC103":
            continue
        seen.add(key)
        found.append(error(code, message, span, *notes))
    return found
