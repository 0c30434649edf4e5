"""Stage 2b: an environment's offers indexed once, so a constraint set is checked without
building a reason per offer (Offers x provider order -> OfferIndex -> StaticGroup). Pure.

A merged constraint set splits in two. Its *static* part (requires, min_context, avoid,
vendors, min_age_days, prefer, sort) is shared by many agents: it is answered once with bitsets
over the offers (one per capability, vendor, glob, context and age bound) and kept as a
`StaticGroup`: the offers that pass it, bucketed by the first `prefer` glob they match. The
*per-agent* part (max_price ceilings, and the workload weights of a price sort) is checked
offer by offer while a chain is picked (`compiler.resolve.candidates`). `passes` agrees with
`constraints.problems` being empty; the reasons themselves are only built where they are shown.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..load.catalog import Offer
from .constraints import Merged, age_days, matches
from .ranking import sort_value

StaticKey = tuple[Any, ...]
Direction = tuple[int, int]  # a price walk's (p, q): offers ordered by p*input + q*output
# (offers read in a direction, their p*input + q*output, the offers whose cost is unknown)
PriceWalk = tuple[tuple[int, ...], tuple[float, ...], tuple[int, ...]]
SAFE_LOW, SAFE_HIGH = 1e-100, 1e100


def static_key(merged: Merged) -> StaticKey:
    """What decides which offers a group holds and how its buckets are ordered, without the
    ceilings and weights each agent adds."""
    return (
        merged.requires,
        merged.min_context,
        merged.avoid,
        merged.vendors,
        merged.min_age_days or 0,
        merged.prefer,
        merged.sort,
    )


def known_price(offer: Offer, key: str) -> Decimal | None:
    """A price a ceiling can be checked against (None: unknown or variable)."""
    price = offer.price.get(key)
    return price if isinstance(price, Decimal) else None


def is_safe(value: float) -> bool:
    """Whether a float stands for a price or weight with full relative precision (no
    overflow, no subnormal), so a bound computed from it errs by less than 1e-15.

    Example:
        >>> is_safe(0.0), is_safe(3.75), is_safe(1e-300)
        (True, True, False)
    """
    return value == 0 or SAFE_LOW <= value <= SAFE_HIGH


def _bits(indexes: Iterable[int]) -> int:
    mask = 0
    for index in indexes:
        mask |= 1 << index
    return mask


def members(mask: int) -> list[int]:
    """The set bits of `mask`, lowest first.

    Example:
        >>> members(0b10110)
        [1, 2, 4]
    """
    return [index for index, bit in enumerate(reversed(bin(mask)[2:])) if bit == "1"]


@dataclass(frozen=True, slots=True)
class StaticGroup:
    """The offers that pass one static constraint part: `mask` over `OfferIndex.offers`, and
    their indexes per prefer bucket (bucket i: first matching glob i; the last: none)."""

    key: StaticKey
    mask: int
    buckets: tuple[tuple[int, ...], ...]
    bucket_of: dict[int, int] = field(compare=False)  # offer index -> bucket
    # diversity mode -> every key the members have (a superset of any agent's candidates)
    keys: dict[str, frozenset[str]] = field(compare=False)
    accounts: frozenset[tuple[str, str]] = field(compare=False)  # (provider, vendor) pairs
    orders: dict[Any, Any] = field(default_factory=dict, compare=False)  # memo: bucket orders


class OfferIndex:
    """Every offer of an environment with what constraints check, computed once.

    Attributes:
        offers: the environment's offers (its providers' offers of its catalogs).
        input_price, output_price: per offer, the price a ceiling compares (None: unknown or
            variable, which no ceiling accepts).
        provider_rank: per offer, its provider's place in the environment (ties go earlier).
    """

    def __init__(self, offers: tuple[Offer, ...], provider_rank: Callable[[str], int]):
        self.offers = offers
        self.position = {offer.ref: index for index, offer in enumerate(offers)}
        self.input_price = [known_price(o, "input") for o in offers]
        self.output_price = [known_price(o, "output") for o in offers]
        self.provider_rank = [provider_rank(o.provider) for o in offers]
        self._input_float = [None if p is None else float(p) for p in self.input_price]
        self._output_float = [None if p is None else float(p) for p in self.output_price]
        self.rank_of_provider = provider_rank
        self._usable = _bits(
            i for i, o in enumerate(offers) if o.retired_reason() is None and not o.moving_alias
        )
        self._ages = [age_days(o) for o in offers]
        self._masks: dict[tuple[str, Any], int] = {}
        self._groups: dict[StaticKey, StaticGroup] = {}

    # ------------------------------------------------------------------ masks, memoized

    def _mask(self, kind: str, value: Any, test: Callable[[Offer, int], bool]) -> int:
        found = self._masks.get((kind, value))
        if found is None:
            found = _bits(i for i, offer in enumerate(self.offers) if test(offer, i))
            self._masks[(kind, value)] = found
        return found

    def _capability(self, name: str) -> int:
        return self._mask("requires", name, lambda o, _: o.capabilities.get(name) is True)

    def _glob(self, pattern: str) -> int:
        return self._mask("glob", pattern, lambda o, _: matches(pattern, o))

    def _context(self, minimum: int) -> int:
        def fits(offer: Offer, _: int) -> bool:
            return offer.context_window is not None and offer.context_window >= minimum

        return self._mask("context", minimum, fits)

    def _age(self, minimum: int) -> int:
        def old_enough(_: Offer, index: int) -> bool:
            age = self._ages[index]
            return age is not None and age >= minimum

        return self._mask("age", minimum, old_enough)

    def _vendors(self, allowed: tuple[str, ...]) -> int:
        wanted = frozenset(allowed)
        return self._mask("vendors", wanted, lambda o, _: o.vendor in wanted)

    def _static_mask(self, merged: Merged) -> int:
        mask = self._usable
        for name in merged.requires:
            mask &= self._capability(name)
        if merged.min_context:
            mask &= self._context(merged.min_context)
        if merged.vendors is not None:
            mask &= self._vendors(merged.vendors)
        if merged.min_age_days:
            mask &= self._age(merged.min_age_days)
        for pattern in merged.avoid:
            mask &= ~self._glob(pattern)
        return mask

    # ------------------------------------------------------------------ groups

    def group(self, merged: Merged) -> StaticGroup:
        """The offers that pass `merged`'s static part, bucketed by prefer glob (memoized)."""
        key = static_key(merged)
        found = self._groups.get(key)
        if found is None:
            found = self._build_group(key, merged)
            self._groups[key] = found
        return found

    def _build_group(self, key: StaticKey, merged: Merged) -> StaticGroup:
        left = self._static_mask(merged)
        mask = left
        buckets = []
        for pattern in merged.prefer:
            taken = left & self._glob(pattern)
            buckets.append(tuple(members(taken)))
            left &= ~taken
        buckets.append(tuple(members(left)))
        bucket_of = {index: number for number, bucket in enumerate(buckets) for index in bucket}
        chosen = [self.offers[index] for index in bucket_of]
        keys = {
            "vendor": frozenset(o.vendor for o in chosen),
            "provider": frozenset(o.provider for o in chosen),
            "none": frozenset(o.ref for o in chosen),
        }
        accounts = frozenset((o.provider, o.vendor) for o in chosen)
        return StaticGroup(key, mask, tuple(buckets), bucket_of, keys, accounts)

    def sorted_bucket(self, group: StaticGroup, number: int, merged: Merged) -> tuple[int, ...]:
        """A bucket in rank order, for the orders no agent changes (context, newest, and price
        without a workload): sort value, then provider order, then ref, as `ranking.rank`."""
        found: tuple[int, ...] | None = group.orders.get(number)
        if found is None:
            found = self.ordered(group.buckets[number], merged)
            group.orders[number] = found
        return found

    def price_walk(self, group: StaticGroup, number: int, way: Direction) -> PriceWalk | None:
        """A bucket read in direction (p, q) (p*input + q*output ascending), with the offers
        whose cost is unknown for it (the price it weighs is unknown or variable) apart in
        provider order, then ref; None when a price is outside the float-safe range."""
        key = (number, way)
        if key in group.orders:
            found: PriceWalk | None = group.orders[key]
            return found
        priced: dict[int, float] = {}
        unpriced = []
        safe = True
        for i in group.buckets[number]:
            weighed = [
                (weight, price)
                for weight, price in zip(
                    way, (self._input_float[i], self._output_float[i]), strict=True
                )
                if weight
            ]
            if any(price is None for _, price in weighed):
                unpriced.append(i)
                continue
            safe = safe and all(is_safe(price or 0.0) for _, price in weighed)
            priced[i] = sum(weight * (price or 0.0) for weight, price in weighed)
        found = None
        if safe:
            order = sorted(priced, key=priced.__getitem__)
            ranks, offers = self.provider_rank, self.offers
            unpriced.sort(key=lambda i: (ranks[i], offers[i].ref))
            found = (tuple(order), tuple(priced[i] for i in order), tuple(unpriced))
        group.orders[key] = found
        return found

    def ordered(self, indexes: Sequence[int], merged: Merged) -> tuple[int, ...]:
        """`indexes` in rank order within one prefer bucket, for any sort (price: by the cost
        of `merged.weights`)."""
        offers, ranks = self.offers, self.provider_rank
        return tuple(
            sorted(
                indexes,
                key=lambda i: (sort_value(offers[i], merged), ranks[i], offers[i].ref),
            )
        )

    # ------------------------------------------------------------------ checks

    def fits_ceilings(self, index: int, merged: Merged) -> bool:
        """The per-agent part: both price ceilings (an unknown or variable price fits none)."""
        ceiling = merged.max_input
        if ceiling is not None:
            price = self.input_price[index]
            if price is None or price > ceiling:
                return False
        ceiling = merged.max_output
        if ceiling is not None:
            price = self.output_price[index]
            if price is None or price > ceiling:
                return False
        return True

    def passes(self, offer: Offer, merged: Merged) -> bool:
        """Whether `offer` (one of the environment's, by ref) satisfies every constraint of
        `merged`: the same answer as `not constraints.problems(offer, merged)`."""
        index = self.position.get(offer.ref)
        if index is None:
            return False
        return bool(self.group(merged).mask >> index & 1) and self.fits_ceilings(index, merged)
