"""Stage 2b: one chain's candidates, produced in exact rank order only as far as they are read
(OfferIndex x Merged -> LazyCandidates). Pure.

The order is `ranking.rank`'s: prefer bucket, sort value, provider order, ref. Within a bucket,
`context` and `newest` (and `price` without a workload) do not depend on the agent: the bucket
is sorted once per static group and walked, skipping offers over the agent's ceilings. A price
sort with workload weights (a, b) orders by the cost a*input + b*output, which differs per
agent; the bucket is walked in the order of a fixed direction (p, q) near a:b, and since
a*in + b*out >= min(a/p, b/q) * (p*in + q*out), an offer is released from a small heap (exact
Decimal costs, then provider order, then ref) only once no offer not yet read can cost as
little. The bound is taken in floats with a 1e-9 relative margin (float error is below 1e-15
for prices and weights between 1e-100 and 1e100, the Decimal costs' rounding below 1e-27); a
bucket or weight outside that range is sorted exactly instead.
"""

import heapq
import math
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..load.catalog import Offer
from .constraints import Merged, monthly_cost
from .offerindex import Direction, OfferIndex, StaticGroup, is_safe
from .ranking import Ranking, sort_value

UNIFORM = (Decimal(1), Decimal(1))
MARGIN = 1 - 1e-9
STEEPEST = 6  # directions 2^-6 .. 2^6 (and the two axes)


def direction(a: float, b: float) -> Direction:
    """The walking direction (p, q) nearest the weights a:b (powers of two).

    Example:
        >>> direction(5.0, 0.6), direction(1.0, 3.0), direction(2.0, 0.0), direction(1e9, 1.0)
        ((8, 1), (1, 4), (1, 0), (64, 1))
    """
    if not b:
        return (1, 0)
    if not a:
        return (0, 1)
    step = max(-STEEPEST, min(STEEPEST, round(math.log2(a / b))))
    return (2**step, 1) if step >= 0 else (1, 2**-step)


@dataclass(frozen=True, slots=True)
class _Reading:
    """What walking one constraint set's candidates needs (no back reference to the reader:
    a walk held by its LazyCandidates makes no reference cycle)."""

    index: OfferIndex
    group: StaticGroup
    merged: Merged

    @property
    def by_weights(self) -> bool:
        return self.merged.sort == "price" and self.merged.weights != UNIFORM

    def offers(self) -> Iterator[Offer]:
        """Every candidate, best first."""
        for number, bucket in enumerate(self.group.buckets):
            if bucket:
                yield from self.bucket(number, "none", frozenset())

    def bucket(self, number: int, diversity: str, taken: AbstractSet[str]) -> Iterator[Offer]:
        """One bucket's candidates in rank order, passing over those whose diversity key is
        in `taken` (a run of one taken key at once, where the order is static)."""
        if self.by_weights:
            keys = self.index.keys_of(diversity)
            yield from self._by_cost(number, lambda i: keys[i] in taken)
            return
        index, merged = self.index, self.merged
        order = index.sorted_bucket(self.group, number, merged)
        if not taken:
            for i in order:
                if index.fits_ceilings(i, merged):
                    yield index.offers[i]
            return
        keys, runs = index.keys_of(diversity), index.run_ends(self.group, number, merged, diversity)
        place = 0
        while place < len(order):
            i = order[place]
            if keys[i] in taken:
                place = runs[place]
                continue
            if index.fits_ceilings(i, merged):
                yield index.offers[i]
            place += 1

    def _by_cost(self, number: int, skip: Callable[[int], bool]) -> Iterator[Offer]:
        """One bucket of a price sort with workload weights, in exact cost order (offers for
        which `skip` holds when they are read are left out)."""
        a, b = (float(weight) for weight in self.merged.weights)
        index, merged = self.index, self.merged
        walk = None
        if is_safe(a) and is_safe(b):
            way = direction(a, b)
            walk = index.price_walk(self.group, number, way)
        if walk is None:  # extreme prices or weights: sort the bucket for this agent
            for i in index.ordered(self.group.buckets[number], merged):
                if not skip(i) and index.fits_ceilings(i, merged):
                    yield index.offers[i]
            return
        order, values, unpriced = walk
        p, q = way
        scale = min(a / p if p else math.inf, b / q if q else math.inf) * MARGIN
        heap: list[tuple[Decimal, int, str, float, int]] = []
        for i, value in zip(order, values, strict=True):
            bound = scale * value
            while heap and heap[0][3] < bound:
                yield index.offers[heapq.heappop(heap)[4]]
            if not skip(i) and index.fits_ceilings(i, merged):
                offer = index.offers[i]
                cost = monthly_cost(offer, *merged.weights)
                assert cost is not None  # the walk holds offers whose weighted prices are known
                entry = (cost, index.provider_rank[i], offer.ref, float(cost), i)
                heapq.heappush(heap, entry)
        while heap:
            yield index.offers[heapq.heappop(heap)[4]]
        for i in unpriced:
            if not skip(i) and index.fits_ceilings(i, merged):
                yield index.offers[i]


class LazyCandidates:
    """The candidates of one merged constraint set, best first, computed as they are read.

    Args:
        index: the environment's offers.
        merged: the constraint set.
        full: computes the full ranking (only error notes read it).
    """

    def __init__(self, index: OfferIndex, merged: Merged, full: Callable[[], Ranking]):
        self._reading = _Reading(index, index.group(merged), merged)
        self._full = full
        self._read: list[Offer] = []
        self._walk: Iterator[Offer] | None = None
        self._count: int | None = None

    def __iter__(self) -> Iterator[Offer]:
        """Every candidate in rank order; each iteration starts again from the best."""
        position = 0
        while True:
            if position == len(self._read):
                if self._walk is None:
                    self._walk = self._reading.offers()
                offer = next(self._walk, None)
                if offer is None:
                    return
                self._read.append(offer)
            yield self._read[position]
            position += 1

    def find(self, ref: str) -> Offer | None:
        """The offer of `ref` when it is a candidate."""
        index, group = self._reading.index, self._reading.group
        at = index.position.get(ref)
        if at is None or not group.mask >> at & 1:
            return None
        return index.offers[at] if index.fits_ceilings(at, self._reading.merged) else None

    def rank_key(self, offer: Offer) -> Any:
        """Orders candidates as iteration does (prefer bucket, sort value, provider, ref)."""
        index, group = self._reading.index, self._reading.group
        at = index.position[offer.ref]
        merged = self._reading.merged
        return (group.bucket_of[at], sort_value(offer, merged), index.provider_rank[at], offer.ref)

    def count(self) -> int:
        if self._count is None:
            index, merged = self._reading.index, self._reading.merged
            fits = index.fits_ceilings
            self._count = sum(1 for i in self._reading.group.bucket_of if fits(i, merged))
        return self._count

    def keys(self, diversity: str) -> frozenset[str]:
        """Every diversity key the candidates may have (those of the static group)."""
        return self._reading.index.bucket_keys(self._reading.group, None, diversity)

    def accounts(self) -> frozenset[tuple[str, str]]:
        """Every (provider, vendor) the candidates may have."""
        return self._reading.group.accounts

    def ranking(self) -> Ranking:
        """The full ranking, rejections with their reasons included (error notes, explain)."""
        return self._full()

    def fresh(self, diversity: str, taken: AbstractSet[str]) -> Iterator[Offer]:
        """The candidates in rank order, passing over (mostly without reading them) those
        whose diversity key is in `taken`, which the reader may grow while reading: a bucket
        whose keys are all taken is skipped, and so is a run of one taken key."""
        reading = self._reading
        for number, bucket in enumerate(reading.group.buckets):
            if bucket and not reading.index.bucket_keys(reading.group, number, diversity) <= taken:
                yield from reading.bucket(number, diversity, taken)
