"""Canonical JSON text: the one way every output file is written, and the chain object every
JSON report shares. Pure.

2-space indent, key order kept, non-ASCII kept, trailing newline: byte for byte what
`json.dumps(value, indent=2, ensure_ascii=False) + "\\n"` gives (a property test holds it to
that), about twice as fast, because the standard library's pretty printer is a pure-Python
generator while this builds one list of strings.
"""

import json
import math
from collections.abc import Sequence
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

CENT = Decimal("0.01")


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float.__repr__(value)
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: Any) -> str:
    """Keys as json.dumps writes them: strings as they are, other scalars as their JSON text."""
    return encode_basestring(key if isinstance(key, str) else _scalar(key))


def _emit(value: Any, out: list[str], pad: str) -> None:
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = pad + "  "
        separator = "{\n" + inner
        for key, item in value.items():
            out.append(separator)
            out.append(_key(key))
            out.append(": ")
            _emit(item, out, inner)
            separator = ",\n" + inner
        out.append("\n" + pad + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = pad + "  "
        separator = "[\n" + inner
        for item in value:
            out.append(separator)
            _emit(item, out, inner)
            separator = ",\n" + inner
        out.append("\n" + pad + "]")
    else:
        out.append(_scalar(value))


def dumps(value: Any) -> str:
    """The canonical text of a JSON value, ending in a newline.

    Example:
        >>> print(dumps({"b": [1, 2.5, None], "a": {"é": True, "e": {}}}), end="")
        {
          "b": [
            1,
            2.5,
            null
          ],
          "a": {
            "é": true,
            "e": {}
          }
        }
    """
    out: list[str] = []
    _emit(value, out, "")
    out.append("\n")
    return "".join(out)


def reference_dumps(value: Any) -> str:
    """What `dumps` must equal: the standard library's pretty printer."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def cents(value: Decimal | None) -> Decimal | None:
    """A USD amount as reports show it: to the cent (None stays None)."""
    return None if value is None else value.quantize(CENT)


def cost_move(old: Decimal | None, new: Decimal | None) -> dict[str, Decimal | None]:
    """`{before, after, delta}`: a monthly cost before and after a change, to the cent; null
    where a side is unknown.

    Example:
        >>> cost_move(Decimal("10"), Decimal("7.5"))["delta"]
        Decimal('-2.50')
    """
    delta = new - old if old is not None and new is not None else None
    return {"before": cents(old), "after": cents(new), "delta": cents(delta)}


def chain_json(refs: Sequence[str], monthly_cost: Decimal | None) -> dict[str, Any] | None:
    """The chain object every JSON report uses (docs/json.md); None for no chain.

    `monthly_cost` (the primary's estimated USD per month) is kept to the cent.

    Example:
        >>> chain_json(("p/a", "p/b"), Decimal("12.346"))
        {'primary': 'p/a', 'fallbacks': ['p/b'], 'monthly_cost': Decimal('12.35')}
        >>> chain_json((), None) is None
        True
    """
    if not refs:
        return None
    return {"primary": refs[0], "fallbacks": list(refs[1:]), "monthly_cost": cents(monthly_cost)}
