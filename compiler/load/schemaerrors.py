"""Translate pydantic ValidationErrors into Diagnostics that point at YAML file:line:col.

Kept apart from the loader because catalog and lock readers need the same translation.
"""

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from ..diagnostics import Diagnostic, error
from ..redaction import looks_secret, shown
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


def _message(
    err: dict[str, Any], model: type[BaseModel], doc_path: tuple[Any, ...]
) -> tuple[str, str, tuple[str, ...]]:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
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
    if kind == "literal_error" and "expected" in ctx:
        message = f"must be one of {ctx['expected']}"
    elif kind == "model_type":
        message = "expected a mapping"
    elif kind == "value_error":
        message = str(ctx.get("error", message))
    where = ".".join(str(p) for p in doc_path)
    code = "PC109" if message.startswith("invalid glob") else "PC103"
    return code, f"{where}: {message}" if where else message, ()


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
