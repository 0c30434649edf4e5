"""Stage 2b: an environment's offers indexed once, so a constraint set is checked without
building a reason per offer (Offers x provider order -> OfferIndex -> StaticGroup). Pure.

A merged constraint set splits in two. Its *static* part (requires, min_context, avoid,
vendors, min_age_days, prefer, sort) is shared by many agents: it is answered once with bitsets
over the offers (one per capability, vendor, glob, context and age bound) and kept as a
`StaticGroup`: the offers that pass it, bucketed by the first `prefer` glob they match, each
bucket ordered once (from one order of all offers per sort, computed once). The *per-agent*
part (max_price ceilings, and the workload weights of a price sort) is checked offer by offer
while a chain is picked (`compiler.resolve.candidates`). `passes` agrees with
`constraints.problems` being empty; the reasons themselves are only built where shown.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..load.catalog import Offer
from .constraints import Merged, age_days, diversity_key, matches
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
    accounts: frozenset[tuple[str, str]] = field(compare=False)  # (provider, vendor) pairs
    memo: dict[Any, Any] = field(default_factory=dict, compare=False)  # orders, key sets


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
        self._usable = _bits(
            i for i, o in enumerate(offers) if o.retired_reason() is None and not o.moving_alias
        )
        self._ages = [age_days(o) for o in offers]
        self._memo: dict[tuple[str, Any], Any] = {}
        self._groups: dict[StaticKey, StaticGroup] = {}

    def _memoized(self, key: tuple[str, Any], build: Callable[[], Any]) -> Any:
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = build()
        return found

    # ------------------------------------------------------------------ masks

    def _mask(self, kind: str, value: Any, test: Callable[[Offer, int], bool]) -> int:
        def build() -> int:
            return _bits(i for i, offer in enumerate(self.offers) if test(offer, i))

        found: int = self._memoized((kind, value), build)
        return found

    def _static_mask(self, merged: Merged) -> int:
        mask = self._usable
        for name in merged.requires:
            mask &= self._capability(name)
        if merged.min_context:
            least = merged.min_context
            mask &= self._mask("context", least, lambda o, _: (o.context_window or 0) >= least > 0)
        if merged.vendors is not None:
            allowed = frozenset(merged.vendors)
            mask &= self._mask("vendors", allowed, lambda o, _: o.vendor in allowed)
        if merged.min_age_days:
            days = merged.min_age_days
            ages = self._ages
            mask &= self._mask("age", days, lambda _, i: (ages[i] or 0) >= days > 0)
        for pattern in merged.avoid:
            mask &= ~self._glob(pattern)
        return mask

    def _capability(self, name: str) -> int:
        return self._mask("requires", name, lambda o, _: o.capabilities.get(name) is True)

    def _glob(self, pattern: str) -> int:
        return self._mask("glob", pattern, lambda o, _: matches(pattern, o))

    # ------------------------------------------------------------------ groups

    def group(self, merged: Merged) -> StaticGroup:
        """The offers that pass `merged`'s static part, bucketed by prefer glob (memoized)."""
        key = static_key(merged)
        found = self._groups.get(key)
        if found is None:
            found = self._groups[key] = self._build_group(key, merged)
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
        offers = self.offers
        accounts = frozenset((offers[i].provider, offers[i].vendor) for i in bucket_of)
        return StaticGroup(key, mask, tuple(buckets), bucket_of, accounts)

    def keys_of(self, diversity: str) -> list[str]:
        """Per offer, its diversity key (`constraints.diversity_key`)."""
        found: list[str] = self._memoized(
            ("keys", diversity), lambda: [diversity_key(o, diversity) for o in self.offers]
        )
        return found

    def bucket_keys(self, group: StaticGroup, number: int | None, diversity: str) -> frozenset[str]:
        """Every diversity key of one bucket's offers (all buckets: `number` None)."""
        memo_key = ("keys", number, diversity)
        found: frozenset[str] | None = group.memo.get(memo_key)
        if found is None:
            keys = self.keys_of(diversity)
            indexes = group.bucket_of if number is None else group.buckets[number]
            found = group.memo[memo_key] = frozenset(keys[i] for i in indexes)
        return found

    # ------------------------------------------------------------------ orders

    def _positions(self, merged: Merged) -> list[int]:
        """Per offer, its place among all offers in rank order within a bucket (sort value,
        provider order, ref) for `merged`'s sort and weights: sorted once per index."""

        def build() -> list[int]:
            offers, ranks = self.offers, self.provider_rank
            order = sorted(
                range(len(offers)),
                key=lambda i: (sort_value(offers[i], merged), ranks[i], offers[i].ref),
            )
            places = [0] * len(order)
            for place, index in enumerate(order):
                places[index] = place
            return places

        weights = merged.weights if merged.sort == "price" else None
        found: list[int] = self._memoized(("order", (merged.sort, weights)), build)
        return found

    def sorted_bucket(self, group: StaticGroup, number: int, merged: Merged) -> list[int]:
        """One bucket in rank order, for the orders no agent changes (context, newest, and
        price without a workload)."""
        found: list[int] | None = group.memo.get(("order", number))
        if found is None:
            places = self._positions(merged)
            found = group.memo[("order", number)] = sorted(
                group.buckets[number], key=places.__getitem__
            )
        return found

    def run_ends(
        self, group: StaticGroup, number: int, merged: Merged, diversity: str
    ) -> list[int]:
        """For each place j of `sorted_bucket`, the first later place whose offer has another
        diversity key: a reader that has taken a key skips its whole run at once."""
        memo_key = ("runs", number, diversity)
        found: list[int] | None = group.memo.get(memo_key)
        if found is None:
            order, keys = self.sorted_bucket(group, number, merged), self.keys_of(diversity)
            found = [len(order)] * len(order)
            for place in range(len(order) - 2, -1, -1):
                same = keys[order[place]] == keys[order[place + 1]]
                found[place] = found[place + 1] if same else place + 1
            group.memo[memo_key] = found
        return found

    def _values(self, way: Direction) -> tuple[list[float | None], bool]:
        """Per offer, p*input + q*output as a float (None: a price it weighs is unknown or
        variable), and whether every such price is in the float-safe range."""

        def build() -> tuple[list[float | None], bool]:
            values: list[float | None] = []
            safe = True
            for given, made in zip(self.input_price, self.output_price, strict=True):
                weighed = [(w, price) for w, price in zip(way, (given, made), strict=True) if w]
                if any(price is None for _, price in weighed):
                    values.append(None)
                    continue
                floats = [(w, float(price or 0)) for w, price in weighed]
                safe = safe and all(is_safe(f) for _, f in floats)
                values.append(sum(w * f for w, f in floats))
            return values, safe

        found: tuple[list[float | None], bool] = self._memoized(("values", way), build)
        return found

    def price_walk(self, group: StaticGroup, number: int, way: Direction) -> PriceWalk | None:
        """A bucket read in direction (p, q) (p*input + q*output ascending), with the offers
        whose cost is unknown for it apart, in provider order then ref; None when a price of
        the catalog is outside the float-safe range."""
        memo_key = ("walk", number, way)
        if memo_key in group.memo:
            walk: PriceWalk | None = group.memo[memo_key]
            return walk
        values, safe = self._values(way)
        walk = None
        if safe:
            bucket = group.buckets[number]
            priced = sorted(
                (i for i in bucket if values[i] is not None), key=lambda i: values[i] or 0.0
            )
            ranks, offers = self.provider_rank, self.offers
            unpriced = sorted(
                (i for i in bucket if values[i] is None), key=lambda i: (ranks[i], offers[i].ref)
            )
            walk = (tuple(priced), tuple(values[i] or 0.0 for i in priced), tuple(unpriced))
        group.memo[memo_key] = walk
        return walk

    def ordered(self, indexes: Sequence[int], merged: Merged) -> list[int]:
        """`indexes` in rank order within one prefer bucket, for any sort and weights."""
        offers, ranks = self.offers, self.provider_rank
        return sorted(
            indexes, key=lambda i: (sort_value(offers[i], merged), ranks[i], offers[i].ref)
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
