"""Adoption, the rest of the file: the top-level keys of an adopted openclaw.json other than the
model layer (gateway, channels, tools, ...) become the new repository's template, so that the
compiled config is the adopted one, not just its chains. Pure; no IO.

A key holding anything that looks like a literal secret (a credential's shape, or a string
under a key named like token, secret, password or apiKey that is not a `${VAR}` reference) is
left out whole and named in a warning (PC107; the value is never shown): a template is
committed. Every literal string under `env` (OpenClaw's env vars) is left out the same way, one
by one (PC107 naming its JSON path): the gateway reads them from its own environment. Every
start of a Jinja delimiter in the adopted text is escaped (`{{ '{%' }}`), so that nothing in it
is read as Jinja and the template renders the adopted text byte for byte.

The walkers here recurse: their input is bounded by `initializer.read_json`, which refuses a
file nested deeper than MAX_JSON_DEPTH (64) levels (PC602).
"""

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..diagnostics import Diagnostic, Span, warning
from ..output.conformance import iter_secrets
from ..redaction import secret_kind

MODEL_LAYER = ("models", "agents")
_SECRET_NAME = re.compile(r"(token|secret|password|passwd|api_?key|credential)s?$", re.I)
_ENV_REFERENCE = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*\}$")
_PLACEHOLDER = "\x00clawpolicy:{}\x00"
_JINJA_START = re.compile(r"\{[{%#]")
_DROPPED = object()
HEADER = """\
{#- Adopted from openclaw.json by `clawpolicy init --from`: everything but the model layer, which
    clawpolicy fills (`models`, `agents`; `environment` is the environment's name). The output
    must be strict JSON; keep secrets as SecretRefs ({"source": "env", ...}), never literal. -#}
"""


def _named_secrets(value: Any, where: str) -> Iterator[str]:
    """Paths of strings under secret-sounding keys that are not `${VAR}` references."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}"
            if isinstance(item, str) and _SECRET_NAME.search(str(key)):
                if not _ENV_REFERENCE.match(item):
                    yield path
            else:
                yield from _named_secrets(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _named_secrets(item, f"{where}[{index}]")


def template_text(config: Mapping[str, Any], source: str) -> tuple[str | None, list[Diagnostic]]:
    """The adopted template (None: nothing to keep, use the starter's) and its warnings."""
    found: list[Diagnostic] = []
    kept: dict[str, Any] = {}
    for key, value in config.items():
        if key in MODEL_LAYER:
            kept[key] = _PLACEHOLDER.format(key)
        elif key != "$schema":
            adopted, problems = _adopt(key, value, source)
            found += problems
            if adopted is not _DROPPED:
                kept[key] = adopted
    if set(kept) <= set(MODEL_LAYER):
        return None, found
    found += _gateway_mode(kept, source)
    for key in MODEL_LAYER:
        kept.setdefault(key, _PLACEHOLDER.format(key))
    text = escape_jinja(json.dumps(kept, indent=2, ensure_ascii=False))
    for key in MODEL_LAYER:
        text = text.replace(json.dumps(_PLACEHOLDER.format(key)), f"{{{{ {key} | tojson }}}}")
    return f"{HEADER}{text}\n", found


def escape_jinja(text: str) -> str:
    """`text` as a template that renders exactly `text`: every start of a Jinja delimiter
    (`{{`, `{%`, `{#`) becomes an expression printing it, so no adopted string can open a
    block, an expression or a comment (a `{% raw %}` block could be closed from inside).

    Example:
        >>> print(escape_jinja('"{%endraw%}{{ 7*7 }}"'))
        "{{ '{%' }}endraw%}{{ '{{' }} 7*7 }}"
    """
    return _JINJA_START.sub(lambda match: f"{{{{ '{match.group(0)}' }}}}", text)


ENV_BLOCK = "env"  # OpenClaw's env vars: every literal is left out on adoption, to be safe


def _adopt(key: str, value: Any, source: str) -> tuple[Any, list[Diagnostic]]:
    """One top-level key's value for the template (_DROPPED: left out) and its warnings."""
    found = []
    if key == ENV_BLOCK and isinstance(value, dict):
        value, dropped = _without_literals(value, key)
        found += [_env_left_out(path, source) for path in dropped]
    secrets = sorted({*(p for p, _ in iter_secrets({key: value})), *_named_secrets(value, key)})
    if secrets:
        return _DROPPED, [*found, _left_out(key, secrets, source)]
    return value, found


def _without_literals(value: Any, where: str) -> tuple[Any, list[str]]:
    """`value` without its literal strings (and secret-shaped keys), and the JSON paths of
    what was taken out; a value taken out whole is _DROPPED."""
    if isinstance(value, str):
        return (value, []) if _ENV_REFERENCE.match(value) else (_DROPPED, [where])
    if isinstance(value, dict):
        pairs = [
            (key, _without_literals(item, f"{where}.{key}"))
            if secret_kind(str(key)) is None
            else (key, (_DROPPED, [f"{where}.<key>"]))
            for key, item in value.items()
        ]
        kept = {key: item for key, (item, _) in pairs if item is not _DROPPED}
        return kept, [path for _, (_, paths) in pairs for path in paths]
    if isinstance(value, list):
        items = [_without_literals(item, f"{where}[{n}]") for n, item in enumerate(value)]
        kept_items = [item for item, _ in items if item is not _DROPPED]
        return kept_items, [path for _, paths in items for path in paths]
    return value, []


def _env_left_out(path: str, source: str) -> Diagnostic:
    name = path.rsplit(".", 1)[-1]
    return warning(
        "PC107",
        f"{path} holds a literal value; it is not adopted into the template (the value is "
        "not shown): env vars are where secrets are kept",
        Span(source),
        f"hint: set {name} in the gateway's own environment (OpenClaw reads it from there); "
        "rotate it if the file was shared",
    )


def _left_out(key: str, secrets: list[str], source: str) -> Diagnostic:
    shown = ", ".join(secrets[:5]) + (f" and {len(secrets) - 5} more" if len(secrets) > 5 else "")
    return warning(
        "PC107",
        f"{key} is left out of the template: {shown} look(s) like a literal secret (not shown)",
        Span(source),
        "hint: add it to templates/openclaw.json.j2 by hand with the secret as a SecretRef "
        '({"source": "env", "provider": "default", "id": "NAME"})',
    )


def _gateway_mode(kept: dict[str, Any], source: str) -> list[Diagnostic]:
    """OpenClaw's gateway refuses to start without gateway.mode; the template sets it."""
    gateway = kept.get("gateway")
    if isinstance(gateway, dict) and gateway.get("mode"):
        return []
    kept["gateway"] = {**(gateway if isinstance(gateway, dict) else {}), "mode": "local"}
    message = "gateway.mode is not set (the gateway refuses to start): the template sets local"
    return [warning("PC603", message, Span(source))]
