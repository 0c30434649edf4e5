"""Stage 3b: check a rendered openclaw.json for what OpenClaw's own validator does not. Pure.

`openclaw config validate` accepts model refs that point nowhere, uppercase agent ids and a
missing `gateway.mode` (the gateway then refuses to start). These checks run on the final,
template-wrapped JSON, so a template cannot undo them.
"""

import json
from collections.abc import Iterator
from typing import Any

from .. import redaction
from ..diagnostics import Diagnostic, Span, error
from ..load.spec import AGENT_ID_RE


def _dict(value: Any) -> dict[str, Any]:
    """`value` when it is an object, else {}: a template may render any shape beside the layer."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _declared_refs(config: dict[str, Any]) -> set[str]:
    refs = set()
    for provider_id, provider in _dict(_dict(config.get("models")).get("providers")).items():
        for model in _list(_dict(provider).get("models")):
            refs.add(f"{provider_id.lower()}/{_dict(model).get('id')}")
    return refs


def _chain_refs(where: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        if "primary" in value:
            yield f"{where}.primary", value["primary"]
        for index, ref in enumerate(_list(value.get("fallbacks"))):
            yield f"{where}.fallbacks[{index}]", ref


def iter_refs(config: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(json path, model ref) for every primary, fallback, image model, alias and allow entry."""
    agents = _dict(config.get("agents"))
    defaults = _dict(agents.get("defaults"))
    for key in ("model", "imageModel", "utilityModel", "pdfModel"):
        if key in defaults:
            yield from _chain_refs(f"agents.defaults.{key}", defaults[key])
    for ref in _dict(defaults.get("models")):
        if not ref.endswith("/*"):
            yield f"agents.defaults.models[{ref!r}]", ref
    for index, ref in enumerate(_list(_dict(defaults.get("modelPolicy")).get("allow"))):
        yield f"agents.defaults.modelPolicy.allow[{index}]", ref
    for agent_id, entry in _dict(agents.get("entries")).items():
        if isinstance(entry, dict) and "model" in entry:
            yield from _chain_refs(f"agents.entries.{agent_id}.model", entry["model"])


# every shape of redaction.SECRET_SHAPES contains one of these literally
_SECRET_MARKERS = (
    *("sk-", "AKIA", "ASIA", "gh", "xox", "AIza", "glpat-", "eyJ", "PRIVATE KEY", "@"),
    *("k_live_", "hooks.slack.com", ":A"),
)


def iter_secrets(
    value: Any, where: str = "", field: str = "", shapes: bool = True
) -> Iterator[tuple[str, str]]:
    """(json path, kind) of every string that looks like a credential, and of every literal
    value of a secret-named field (`token`, `password`, `apiKey`, `DB_PASS`, anything under
    `headers`); SecretRefs and `${VAR}` strings name a secret without holding it. An env var
    of the output's `env` block is checked like any field: `NODE_ENV: production` is fine,
    `DB_PASS: ...` is not (`init --from` leaves every literal env var out, to be safe).

    Example:
        >>> list(iter_secrets({"a": ["https://u:pw@h/x", "sk-" + "x" * 24, "${KEY}"]}))
        [('a[0]', 'password in a URL'), ('a[1]', 'API key')]
        >>> list(iter_secrets({"auth": {"token": "hunter2", "password": "${PW}", "pin": 7}}))
        [('auth.token', 'literal value of a secret field')]
        >>> list(iter_secrets({"auth": {"password": 987654321, "enabled": True}}))
        [('auth.password', 'literal value of a secret field')]
        >>> list(iter_secrets({"env": {"vars": {"REGION": "eu", "DB_PASS": "x", "K": "${K}"}}}))
        [('env.vars.DB_PASS', 'literal value of a secret field')]
    """
    if isinstance(value, dict):
        if redaction.is_reference(value):
            return
        for key, item in value.items():
            kind = redaction.secret_kind(key) if shapes else None
            if kind is not None:  # a secret pasted as a key
                yield f"{where}.<key>" if where else "<key>", kind
            secret = field or (key if redaction.is_secret_field(key) else "")
            if not secret and key == "headers":
                secret = key
            yield from iter_secrets(item, f"{where}.{key}" if where else str(key), secret, shapes)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_secrets(item, f"{where}[{index}]", field, shapes)
    elif isinstance(value, str):
        kind = redaction.secret_kind(value) if shapes else None
        if kind is not None:
            yield where, kind
        elif field and value and not redaction.is_reference(value):
            yield where, "literal value of a secret field"
    elif field and isinstance(value, int | float) and not isinstance(value, bool):
        yield where, "literal value of a secret field"  # a PIN or numeric key is one too


def _secret_error(where: str, kind: str, span: Span) -> Diagnostic:
    hint = "hint: reference secrets through env SecretRefs or ${VAR}, never literally"
    return error(
        "PC107", f"{where} looks like a literal secret ({kind}); it is not shown", span, hint
    )


def check(text: str, path: str) -> list[Diagnostic]:
    """Every problem of one rendered file (an empty list when it is fine)."""
    config = json.loads(text)
    found: list[Diagnostic] = []
    span = Span(path)
    defaults = _dict(_dict(config.get("agents")).get("defaults"))
    aliases = {_dict(entry).get("alias") for entry in _dict(defaults.get("models")).values()}
    declared = _declared_refs(config)
    for where, ref in iter_refs(config):
        if not isinstance(ref, str):
            found.append(error("PC304", f"{where} must be a model ref string", span))
            continue
        provider, _, model = ref.partition("/")
        if f"{provider.lower()}/{model}" not in declared and ref not in aliases:
            found.append(
                error(
                    "PC304",
                    f"{where} refers to '{ref}', which no provider in models.providers declares",
                    span,
                )
            )
    for agent_id in _dict(_dict(config.get("agents")).get("entries")):
        if not AGENT_ID_RE.fullmatch(agent_id):
            found.append(
                error(
                    "PC304",
                    f"agent id '{agent_id}' does not match ^[a-z0-9_][a-z0-9_-]{{0,63}}$",
                    span,
                )
            )
    # cheap substring tests first: the shape regexes run only when one could match
    suspect = any(marker in text for marker in _SECRET_MARKERS)
    secrets = iter_secrets(config, shapes=suspect)
    found.extend(_secret_error(where, kind, span) for where, kind in secrets)
    if not _dict(config.get("gateway")).get("mode"):
        found.append(
            error(
                "PC304",
                "gateway.mode is not set; the OpenClaw gateway refuses to start",
                span,
                'hint: set "gateway": {"mode": "local"} in the template',
            )
        )
    return found
