"""Stage 2a: merge constraint layers and check offers against them. Pure; no IO.

Layers merge tier <- environment override <- agent <- environment agent override. Bounds merge
so the stricter wins (requires: union, min_context and min_age_days: max, max_price: per-field
min, vendors: intersection); `avoid` globs accumulate;
`prefer` lists concatenate most specific first; `sort`, `fallbacks`, `diversity` and `thinking`
take the most specific value that is set. Every merged value remembers where it came from.
"""

import calendar
import fnmatch
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..diagnostics import Span
from ..load.catalog import Offer
from ..load.project import Constraints
from ..load.spec import ConstraintSpec

DEFAULTS: Mapping[str, Any] = {"sort": "price", "fallbacks": 1, "diversity": "none"}
LAST_WINS = ("sort", "fallbacks", "diversity", "thinking")
CONSTRAINT_FIELDS = frozenset(ConstraintSpec.model_fields)
VENDOR_AND_PROVIDER = "vendor+provider"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a merged value came from."""

    origin: str
    span: Span | None

    def __str__(self) -> str:
        return f"{self.origin} ({self.span})" if self.span else self.origin


@dataclass(frozen=True, slots=True)
class Merged:
    """The constraints one chain must satisfy. Equal Merged values rank offers identically."""

    requires: tuple[str, ...] = ()
    min_context: int = 0
    max_input: Decimal | None = None
    max_output: Decimal | None = None
    prefer: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    sort: str = "price"
    fallbacks: int = 1
    diversity: str = "none"
    thinking: str | None = None
    weights: tuple[Decimal, Decimal] = (Decimal(1), Decimal(1))  # price sort: input, output
    vendors: tuple[str, ...] | None = None  # allowlist; None: any vendor
    min_age_days: int | None = None  # None: unset (0 set explicitly also lets every offer pass)

    def rank_key(self) -> tuple[Any, ...]:
        """Everything that decides which offers pass and in what order."""
        return (
            self.requires,
            self.min_context,
            self.max_input,
            self.max_output,
            self.prefer,
            self.avoid,
            self.sort,
            self.weights,
            self.vendors,
            self.min_age_days or 0,
        )

    def describe(self) -> list[tuple[str, str]]:
        """(provenance key, human-readable text) of each constraint that filters offers."""
        lines = []
        if self.requires:
            lines.append(("requires", f"requires {', '.join(self.requires)}"))
        if self.min_context:
            lines.append(("min_context", f"min_context {self.min_context:,}"))
        if self.max_input is not None:
            lines.append(("max_price.input", f"max_price.input {self.max_input} USD/1M"))
        if self.max_output is not None:
            lines.append(("max_price.output", f"max_price.output {self.max_output} USD/1M"))
        if self.avoid:
            lines.append(("avoid", f"avoid {', '.join(self.avoid)}"))
        if self.vendors is not None:
            lines.append(("vendors", f"vendors {', '.join(self.vendors) or '(none left)'}"))
        if self.min_age_days:
            lines.append(("min_age_days", f"min_age_days {self.min_age_days}"))
        return lines


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _min_bound(layers: Iterable[Constraints], key: str) -> Decimal | None:
    bounds = [
        getattr(layer.spec.max_price, key)
        for layer in layers
        if layer.spec.max_price is not None and getattr(layer.spec.max_price, key) is not None
    ]
    return min(bounds) if bounds else None


def _vendors(layers: Iterable[Constraints]) -> tuple[str, ...] | None:
    """The intersection of every layer's allowlist (None when no layer sets one), in the
    order the first layer that sets it lists them."""
    found: list[str] | None = None
    for layer in layers:
        allowed = layer.spec.vendors
        if allowed is not None:
            found = list(allowed) if found is None else [v for v in found if v in allowed]
    return None if found is None else _unique(found)


def _min_age(layers: Iterable[Constraints]) -> int | None:
    ages = [layer.spec.min_age_days for layer in layers if layer.spec.min_age_days is not None]
    return max(ages) if ages else None


def merge(
    layers: tuple[Constraints, ...],
    extra_requires: tuple[str, ...] = (),
    weights: tuple[Decimal, Decimal] | None = None,
) -> Merged:
    """Merge layers given from least to most specific (tier, environment override, agent).

    Example:
        >>> from compiler.load.spec import ConstraintSpec, PriceCeilingSpec
        >>> tier = Constraints("tier fast", ConstraintSpec(requires=("tools",), min_context=100,
        ...     max_price=PriceCeilingSpec(output=5)), {})
        >>> agent = Constraints("agent a", ConstraintSpec(requires=("vision",),
        ...     max_price=PriceCeilingSpec(output=2), min_context=50), {})
        >>> m = merge((tier, agent))
        >>> m.requires, m.min_context, m.max_output
        (('tools', 'vision'), 100, Decimal('2'))
    """
    requires: set[str] = set(extra_requires)
    min_context = 0
    avoid: list[str] = []
    scalars: dict[str, Any] = {**DEFAULTS, "thinking": None}
    for layer in layers:
        spec = layer.spec
        requires.update(spec.requires or ())
        min_context = max(min_context, spec.min_context or 0)
        avoid.extend(spec.avoid or ())
        for key in LAST_WINS:
            value = getattr(spec, key)
            if value is not None:
                scalars[key] = value
    prefer = [glob for layer in reversed(layers) for glob in layer.spec.prefer or ()]
    return Merged(
        requires=tuple(sorted(requires)),
        min_context=min_context,
        max_input=_min_bound(layers, "input"),
        max_output=_min_bound(layers, "output"),
        prefer=_unique(prefer),
        avoid=_unique(avoid),
        sort=scalars["sort"],
        fallbacks=scalars["fallbacks"],
        diversity=scalars["diversity"],
        thinking=scalars["thinking"],
        weights=weights or (Decimal(1), Decimal(1)),
        vendors=_vendors(layers),
        min_age_days=_min_age(layers),
    )


def provenance(layers: tuple[Constraints, ...]) -> dict[str, tuple[Source, ...]]:
    """Where each merged value came from: every layer that set it (only the last one for the
    keys where the most specific value wins), as `merge` combines them."""
    found: dict[str, list[Source]] = {}
    for layer in layers:
        spec = layer.spec
        for key in type(spec).model_fields:
            value = getattr(spec, key, None)
            if key not in CONSTRAINT_FIELDS or value is None or value == ():
                continue
            source = Source(layer.origin, layer.spans.get(key))
            if key == "max_price":
                for bound in ("input", "output"):
                    if getattr(value, bound) is not None:
                        found.setdefault(f"max_price.{bound}", []).append(source)
            elif key in LAST_WINS:
                found[key] = [source]
            else:
                found.setdefault(key, []).append(source)
    return {key: tuple(sources) for key, sources in sorted(found.items())}


def matches(pattern: str, offer: Offer) -> bool:
    """A glob matches the model id or the full ref (`provider/id`), case-sensitively."""
    return fnmatch.fnmatchcase(offer.id, pattern) or fnmatch.fnmatchcase(offer.ref, pattern)


def _price_problem(offer: Offer, key: str, ceiling: Decimal | None) -> str | None:
    if ceiling is None:
        return None
    price = offer.price.get(key)
    if price is None:
        return f"{key} price unknown (ceiling {ceiling})"
    if price == "variable":
        return f"{key} price is variable (ceiling {ceiling})"
    assert isinstance(price, Decimal)
    if price > ceiling:
        return f"{key} price {price} > {ceiling}"
    return None


def _capability_problems(offer: Offer, required: tuple[str, ...]) -> Iterator[str]:
    for capability in required:
        flag = offer.capabilities.get(capability)
        if flag is None:
            yield f"{capability} unknown"
        elif not flag:
            yield f"lacks {capability}"


def _context_problem(offer: Offer, minimum: int) -> str | None:
    if not minimum:
        return None
    if offer.context_window is None:
        return "context window unknown"
    if offer.context_window < minimum:
        return f"context {offer.context_window:,} < {minimum:,}"
    return None


def released_on(release: str | None) -> date | None:
    """The latest day a `YYYY-MM-DD` or `YYYY-MM` release date can mean (month precision
    counts from the month's last day, so an age is never overstated).

    Example:
        >>> released_on("2026-02"), released_on("2026-11-03"), released_on(None)
        (datetime.date(2026, 2, 28), datetime.date(2026, 11, 3), None)
    """
    if not release:
        return None
    parts = [int(part) for part in release.split("-")]
    if len(parts) == 2:
        parts.append(calendar.monthrange(parts[0], parts[1])[1])
    try:
        return date(*parts)
    except ValueError:
        return None


def age_days(offer: Offer) -> int | None:
    """Days between the offer's release and its catalog's date (None: release unknown)."""
    released = released_on(offer.release_date)
    return None if released is None else (offer.as_of - released).days


def age_text(age: int) -> str:
    """`3 day(s) before the catalog date`, or `after the catalog date` for a negative age."""
    return "after the catalog date" if age < 0 else f"{age} day(s) before the catalog date"


def _age_problem(offer: Offer, minimum: int | None) -> str | None:
    if not minimum:
        return None
    age = age_days(offer)
    if age is None:
        return f"release date unknown (min_age_days {minimum})"
    if age < minimum:
        return f"released {offer.release_date}, {age_text(age)} (min_age_days {minimum})"
    return None


def _vendor_problem(offer: Offer, allowed: tuple[str, ...] | None) -> str | None:
    if allowed is None or offer.vendor in allowed:
        return None
    return f"vendor {offer.vendor} not in vendors [{', '.join(allowed)}]"


def problems(offer: Offer, merged: Merged) -> tuple[str, ...]:
    """Every reason `offer` fails `merged` (empty when it satisfies all of them)."""
    found = [offer.retired_reason()]
    if offer.moving_alias:
        found.append("moving alias: the model behind it changes over time")
    found.append(_vendor_problem(offer, merged.vendors))
    found.append(_age_problem(offer, merged.min_age_days))
    avoided = next((p for p in merged.avoid if matches(p, offer)), None)
    if avoided is not None:
        found.append(f"matches avoid '{avoided}'")
    found.extend(_capability_problems(offer, merged.requires))
    found.append(_context_problem(offer, merged.min_context))
    found.append(_price_problem(offer, "input", merged.max_input))
    found.append(_price_problem(offer, "output", merged.max_output))
    return tuple(reason for reason in found if reason)


def diversity_key(offer: Offer, diversity: str) -> str:
    """Two offers with the same key may not share a chain."""
    if diversity in ("vendor", VENDOR_AND_PROVIDER):
        return offer.vendor
    if diversity == "provider":
        return offer.provider
    return offer.ref


def monthly_cost(offer: Offer, input_mtok: Decimal, output_mtok: Decimal) -> Decimal | None:
    """Estimated USD per month for a workload, or None when a needed price is not known."""
    total = Decimal(0)
    for key, volume in (("input", input_mtok), ("output", output_mtok)):
        if not volume:
            continue
        price = offer.price.get(key)
        if not isinstance(price, Decimal):
            return None
        total += price * volume
    return total
