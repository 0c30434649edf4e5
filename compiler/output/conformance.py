"""Stage 3b: check a rendered openclaw.json for what OpenClaw's own validator does not. Pure.

`openclaw config validate` accepts model refs that point nowhere, uppercase agent ids and a
missing `gateway.mode` (the gateway then refuses to start). These checks run on the final,
template-wrapped JSON, so a template cannot undo them.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

from ..diagnostics import Diagnostic, Span, error
from ..load.spec import AGENT_ID_RE


def _declared_refs(config: dict[str, Any]) -> set[str]:
    refs = set()
    providers = (config.get("models") or {}).get("providers") or {}
    for provider_id, provider in providers.items():
        for model in provider.get("models") or []:
            refs.add(f"{provider_id.lower()}/{model.get('id')}")
    return refs


def _chain_refs(where: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        if "primary" in value:
            yield f"{where}.primary", value["primary"]
        for index, ref in enumerate(value.get("fallbacks") or []):
            yield f"{where}.fallbacks[{index}]", ref


def iter_refs(config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(json path, model ref) for every primary, fallback, image model, alias and allow entry."""
    agents = config.get("agents") or {}
    defaults = agents.get("defaults") or {}
    for key in ("model", "imageModel", "utilityModel", "pdfModel"):
        if key in defaults:
            yield from _chain_refs(f"agents.defaults.{key}", defaults[key])
    for ref in defaults.get("models") or {}:
        if not ref.endswith("/*"):
            yield f"agents.defaults.models[{ref!r}]", ref
    for index, ref in enumerate((defaults.get("modelPolicy") or {}).get("allow") or []):
        yield f"agents.defaults.modelPolicy.allow[{index}]", ref
    for agent_id, entry in (agents.get("entries") or {}).items():
        if isinstance(entry, dict) and "model" in entry:
            yield from _chain_refs(f"agents.entries.{agent_id}.model", entry["model"])


# Shapes of real credentials; a rendered config is committed, so none may end up in it.
SECRET_SHAPES = (
    ("API key", re.compile(r"\bsk-(?:or-v1-|ant-|proj-)?[A-Za-z0-9_-]{20,}")),
    ("AWS access key", re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("password in a URL", re.compile(r"://[^/\s:@]+:[^/\s@]+@")),
)


# every SECRET_SHAPES pattern contains one of these literally
_SECRET_MARKERS = ("sk-", "AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox", "@")
_ANY_SECRET = re.compile("|".join(shape.pattern for _, shape in SECRET_SHAPES))


def iter_secrets(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(json path, kind) of every string that looks like a credential.

    Example:
        >>> list(iter_secrets({"a": ["https://u:pw@h/x", "sk-" + "x" * 24, "${KEY}"]}))
        [('a[0]', 'password in a URL'), ('a[1]', 'API key')]
    """
    if isinstance(value, dict):
        for key, item in value.items():
            yield from iter_secrets(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_secrets(item, f"{where}[{index}]")
    elif isinstance(value, str) and _ANY_SECRET.search(value):
        yield where, next(name for name, shape in SECRET_SHAPES if shape.search(value))


def check(text: str, path: str) -> list[Diagnostic]:
    """Every problem of one rendered file (an empty list when it is fine)."""
    config = json.loads(text)
    found: list[Diagnostic] = []
    span = Span(path)
    aliases = {
        entry.get("alias")
        for entry in ((config.get("agents") or {}).get("defaults") or {}).get("models", {}).values()
        if isinstance(entry, dict)
    }
    declared = _declared_refs(config)
    for where, ref in iter_refs(config):
        provider, _, model = ref.partition("/")
        if f"{provider.lower()}/{model}" not in declared and ref not in aliases:
            found.append(
                error(
                    "PC304",
                    f"{where} refers to '{ref}', which no provider in models.providers declares",
                    span,
                )
            )
    for agent_id in (config.get("agents") or {}).get("entries") or {}:
        if not AGENT_ID_RE.match(agent_id):
            found.append(
                error(
                    "PC304",
                    f"agent id '{agent_id}' does not match ^[a-z0-9_][a-z0-9_-]{{0,63}}$",
                    span,
                )
            )
    # cheap substring tests first: the walk that names paths runs only when one could match
    suspect = any(marker in text for marker in _SECRET_MARKERS)
    secrets = iter_secrets(config) if suspect else iter(())
    found.extend(
        error(
            "PC107",
            f"{where} looks like a literal secret ({kind}); it is not shown",
            span,
            "hint: reference secrets through env SecretRefs or ${VAR}, never literally",
        )
        for where, kind in secrets
    )
    if not (config.get("gateway") or {}).get("mode"):
        found.append(
            error(
                "PC304",
                "gateway.mode is not set; the OpenClaw gateway refuses to start",
                span,
                'hint: set "gateway": {"mode": "local"} in the template',
            )
        )
    return found
