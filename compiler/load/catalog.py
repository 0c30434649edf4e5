"""The normalized catalog: immutable offers keyed on (provider, model id). Pure; no IO.

A snapshot file is JSON of the shape `CatalogSpec` describes (format "clawpolicy-catalog",
version 1). Prices are USD per 1M tokens, parsed as Decimal so 3.75 stays 3.75. Every importer
targets this format through `build_snapshot` + `serialize_snapshot`, and `compile` reads it back
with `parse_snapshot`.
"""

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from pydantic import ValidationError

from .spec import CAPABILITIES, CatalogSpec, OfferSpec

FORMAT = "clawpolicy-catalog"
VERSION = 1
Price = Decimal | Literal["variable"] | None
PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")


@dataclass(frozen=True, slots=True)
class Offer:
    """One model as one provider account serves it."""

    provider: str
    id: str
    name: str
    vendor: str
    context_window: int | None
    max_output: int | None
    input: tuple[str, ...]
    capabilities: Mapping[str, bool | None]
    price: Mapping[str, Price]
    release_date: str | None
    deprecation_date: date | None
    expiry_date: date | None
    deprecated: bool
    as_of: date
    moving_alias: bool = False
    source: str = field(default="", compare=False)

    @property
    def ref(self) -> str:
        """The OpenClaw model ref: `<provider>/<model id>` (OpenClaw splits on the first `/`)."""
        return f"{self.provider}/{self.id}"

    def retired_reason(self) -> str | None:
        """Why this offer may not be chosen as of its catalog's date, or None."""
        if self.deprecated:
            return "deprecated"
        if self.deprecation_date is not None and self.deprecation_date <= self.as_of:
            return f"deprecated since {self.deprecation_date.isoformat()}"
        if self.expiry_date is not None and self.expiry_date <= self.as_of:
            return f"expired on {self.expiry_date.isoformat()}"
        return None


@dataclass(frozen=True, slots=True)
class Catalog:
    """Offers from one or more snapshots, sorted by (provider, id), with a ref index."""

    offers: tuple[Offer, ...]
    dates: tuple[date, ...] = ()
    by_ref: Mapping[str, Offer] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, offers: Iterable[Offer], dates: Iterable[date] = ()) -> "Catalog":
        ordered = tuple(sorted(offers, key=lambda o: (o.provider, o.id)))
        index = MappingProxyType({o.ref: o for o in ordered})
        return cls(ordered, tuple(sorted(set(dates))), index)

    def for_providers(self, providers: Iterable[str]) -> tuple[Offer, ...]:
        wanted = set(providers)
        return tuple(o for o in self.offers if o.provider in wanted)


def offer_from_spec(spec: OfferSpec, as_of: date, source: str = "") -> Offer:
    caps = spec.capabilities
    capabilities = {
        name: getattr(caps, "json_" if name == "json" else name) for name in CAPABILITIES
    }
    price = {name: getattr(spec.price, name) for name in PRICE_FIELDS}
    return Offer(
        provider=spec.provider,
        id=spec.id,
        name=spec.name,
        vendor=spec.vendor,
        context_window=spec.context_window,
        max_output=spec.max_output,
        input=spec.input,
        capabilities=MappingProxyType(capabilities),
        price=MappingProxyType(price),
        release_date=spec.release_date,
        deprecation_date=spec.deprecation_date,
        expiry_date=spec.expiry_date,
        deprecated=spec.deprecated,
        as_of=as_of,
        moving_alias=spec.moving_alias,
        source=source,
    )


def parse_snapshot(text: str) -> CatalogSpec:
    """Parse snapshot JSON with exact decimals.

    Raises:
        ValueError: not JSON.
        pydantic.ValidationError: not a valid snapshot.
    """
    try:
        raw = json.loads(text, parse_float=Decimal)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    return CatalogSpec.model_validate(raw)


def describe_validation_error(exc: ValidationError, raw: Any) -> list[str]:
    """One line per problem, naming the offer (provider/id) when the problem is inside one."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and loc[0] == "offers" and isinstance(loc[1], int):
            try:
                entry = raw["offers"][loc[1]]
                where = f"offer {entry.get('provider')}/{entry.get('id')}: " + ".".join(
                    str(p) for p in loc[2:]
                )
            except (KeyError, IndexError, TypeError, AttributeError):
                pass
        lines.append(f"{where}: {err['msg']}")
    return lines


# --------------------------------------------------------------------------- writing snapshots


def format_decimal(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros.

    Example:
        >>> format_decimal(Decimal("0.000003") * 1000000), format_decimal(Decimal("3.750"))
        ('3', '3.75')
        >>> format_decimal(Decimal("1E+1"))
        '10'
    """
    text = format(value.normalize(), "f")
    return text


def json_number(value: Decimal) -> int | float:
    """A JSON-ready number with the Decimal's exact digits.

    A double's shortest repr round-trips every decimal of up to 15 significant digits, which
    covers any real price, so `float` is exact here (`float(x) * 1e6` arithmetic is not).

    Example:
        >>> json_number(Decimal("3.750")), json_number(Decimal("10.0")), json_number(Decimal("0.1"))
        (3.75, 10, 0.1)
    """
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def json_ready(value: Any, number: Callable[[Decimal], Any] = json_number) -> Any:
    """Replace Decimals (recursively) by JSON numbers with the same digits."""
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, Mapping):
        return {k: json_ready(v, number) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v, number) for v in value]
    return value


# A few source prices carry 16-17 significant digits (LiteLLM `2.9999900000000002e-06`), which
# no double keeps; such a Decimal is written through a marker string, spliced back as digits.
_EXACT_MARK = "\x00exact:"
_EXACT_RE = re.compile(r'"\\u0000exact:(-?[0-9.]+)"')


def _exact_number(value: Decimal) -> Any:
    number = json_number(value)
    if isinstance(number, float) and Decimal(repr(number)) != value:
        return _EXACT_MARK + format_decimal(value)
    return number


def snapshot_document(snapshot: CatalogSpec) -> dict[str, Any]:
    """The JSON-ready dict of a snapshot: offers sorted, unknowns omitted, decimals exact."""
    offers = sorted(snapshot.offers, key=lambda o: (o.provider, o.id))
    return {
        "format": FORMAT,
        "version": VERSION,
        "date": snapshot.date.isoformat(),
        **({"source": snapshot.source} if snapshot.source else {}),
        "offers": [
            o.model_dump(mode="python", by_alias=True, exclude_none=True, exclude_defaults=False)
            for o in offers
        ],
    }


def serialize_snapshot(snapshot: CatalogSpec) -> str:
    """Canonical snapshot text: 2-space JSON, keys in schema order, trailing newline."""
    document = json_ready(_dates_to_text(snapshot_document(snapshot)), _exact_number)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    return _EXACT_RE.sub(r"\1", text) + "\n"


def _dates_to_text(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dates_to_text(v) for v in value]
    return value


def guess_format(document: Any) -> str | None:
    """The native format a parsed catalog looks like, for hints; None when it is none of them.

    Example:
        >>> guess_format({"data": [{"id": "a/b", "pricing": {}}]}), guess_format({"x": 1})
        ('openrouter', None)
    """
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        first = document["data"][0] if document["data"] else {}
        is_infron = isinstance(first, dict) and "category_type" in first
        return "infron" if is_infron else "openrouter"
    if not isinstance(document, dict) or not document:
        return None
    values = [v for v in document.values() if isinstance(v, dict)]
    if values and all("models" in v for v in values[:5]):
        return "modelsdev"
    if any("litellm_provider" in v for v in values[:20]):
        return "litellm"
    return None
