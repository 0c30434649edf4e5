"""Adoption, the rest of the file: the top-level keys of an adopted openclaw.json other than the
model layer (gateway, channels, tools, ...) become the new repository's template, so that the
compiled config is the adopted one, not just its chains. Pure; no IO.

A key holding anything that looks like a literal secret (a credential's shape, or a string
under a key named like token, secret, password or apiKey that is not a `${VAR}` reference) is
left out whole and named in a warning (PC107; the value is never shown): a template is
committed. Literal text is wrapped in `{% raw %}` so that nothing in it is read as Jinja.
"""

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..diagnostics import Diagnostic, Span, warning
from ..output.conformance import iter_secrets

MODEL_LAYER = ("models", "agents")
_SECRET_NAME = re.compile(r"(token|secret|password|passwd|api_?key|credential)s?$", re.I)
_ENV_REFERENCE = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*\}$")
_PLACEHOLDER = "\x00clawpolicy:{}\x00"
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
        if key == "$schema":
            continue
        if key in MODEL_LAYER:
            kept[key] = _PLACEHOLDER.format(key)
            continue
        secrets = sorted({*(p for p, _ in iter_secrets(value, key)), *_named_secrets(value, key)})
        if secrets:
            found.append(_left_out(key, secrets, source))
            continue
        kept[key] = value
    if set(kept) <= set(MODEL_LAYER):
        return None, found
    found += _gateway_mode(kept, source)
    for key in MODEL_LAYER:
        kept.setdefault(key, _PLACEHOLDER.format(key))
    text = json.dumps(kept, indent=2, ensure_ascii=False)
    if "{% endraw %}" in text:
        message = "not adopted into the template: it contains '{% endraw %}'"
        return None, [*found, warning("PC603", message, Span(source))]
    for key in MODEL_LAYER:
        text = text.replace(
            json.dumps(_PLACEHOLDER.format(key)),
            f"{{% endraw %}}{{{{ {key} | tojson }}}}{{% raw %}}",
        )
    return f"{HEADER}{{% raw %}}{text}{{% endraw %}}\n", found


def _left_out(key: str, secrets: list[str], source: str) -> Diagnostic:
    shown = ", ".join(secrets[:5]) + (f" and {len(secrets) - 5} more" if len(secrets) > 5 else "")
    return warning(
        "PC107",
        f"{key}: not adopted into the template: {shown} look(s) like a literal secret (not shown)",
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
