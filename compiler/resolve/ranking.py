"""Stage 2b: rank every offer of an environment against one merged constraint set. Pure.

Offers that fail a constraint become Rejections (reasons kept for `explain` and error notes);
the rest are ordered by prefer glob, then sort key, then provider order, then ref: a total
order, so the same inputs always rank the same way. This is the exhaustive path: `explain`
and error notes read it, and it is the reference `compiler.resolve.candidates` (what compile
reads, computed only as far as a chain needs) is tested against. Both offer `Candidates`.
"""

from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from ..load.catalog import Offer
from ..load.project import Environment
from .constraints import Merged, diversity_key, matches, monthly_cost, problems


@dataclass(frozen=True, slots=True)
class Rejection:
    offer: Offer
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ranking:
    """Offers that satisfy one merged constraint set, best first, and those that do not."""

    candidates: tuple[Offer, ...]
    rejected: tuple[Rejection, ...]  # nearest misses (fewest reasons) first
    by_ref: Mapping[str, Offer] = field(compare=False)
    position: Mapping[str, int] = field(compare=False)  # ref -> index in `candidates`


def _date_key(release: str | None) -> tuple[int, ...]:
    if not release:
        return (1,)
    return (0, *(-int(part) for part in release.split("-")))


def sort_value(offer: Offer, merged: Merged) -> tuple[Any, ...]:
    """The `sort` part of an offer's rank key (price: the cost of `merged.weights`, unknown
    costs last)."""
    if merged.sort == "context":
        return (-(offer.context_window or 0),)
    if merged.sort == "newest":
        return _date_key(offer.release_date)
    cost = monthly_cost(offer, *merged.weights)
    return (1, Decimal(0)) if cost is None else (0, cost)


def rank(offers: tuple[Offer, ...], merged: Merged, env: Environment) -> Ranking:
    """Filter and order offers: prefer glob index, then sort, then provider order, then ref."""
    passing: list[Offer] = []
    rejected: list[Rejection] = []
    for offer in offers:
        reasons = problems(offer, merged)
        if reasons:
            rejected.append(Rejection(offer, reasons))
        else:
            passing.append(offer)

    def order(offer: Offer) -> tuple[Any, ...]:
        preference = next(
            (i for i, pattern in enumerate(merged.prefer) if matches(pattern, offer)),
            len(merged.prefer),
        )
        return (
            preference,
            sort_value(offer, merged),
            env.provider_rank(offer.provider),
            offer.ref,
        )

    passing.sort(key=order)
    rejected.sort(key=lambda r: (len(r.reasons), order(r.offer)))
    return Ranking(
        tuple(passing),
        tuple(rejected),
        {o.ref: o for o in passing},
        {o.ref: index for index, o in enumerate(passing)},
    )


class Candidates(Protocol):
    """What picking a chain reads: the offers that satisfy one merged constraint set."""

    def __iter__(self) -> Iterator[Offer]:
        """The candidates, best first (every iteration starts from the best)."""
        ...

    def find(self, ref: str) -> Offer | None:
        """The offer of `ref` when it is a candidate."""
        ...

    def rank_key(self, offer: Offer) -> Any:
        """A key that orders candidates as iteration does."""
        ...

    def count(self) -> int: ...

    def keys(self, diversity: str) -> frozenset[str]:
        """Every diversity key a candidate may have (at least those candidates have)."""
        ...

    def accounts(self) -> frozenset[tuple[str, str]]:
        """Every (provider, vendor) a candidate may have (at least those candidates have)."""
        ...

    def ranking(self) -> Ranking:
        """Every offer ranked or rejected with its reasons."""
        ...

    def fresh(self, diversity: str, taken: AbstractSet[str]) -> Iterator[Offer]:
        """The candidates in rank order, passing over those whose diversity key is in
        `taken` (which the reader may grow while reading); some of those may still come."""
        ...


class RankedCandidates:
    """`Candidates` read from a full Ranking (the exhaustive path)."""

    def __init__(self, ranking: Ranking):
        self._ranking = ranking

    def __iter__(self) -> Iterator[Offer]:
        return iter(self._ranking.candidates)

    def find(self, ref: str) -> Offer | None:
        return self._ranking.by_ref.get(ref)

    def rank_key(self, offer: Offer) -> Any:
        return self._ranking.position[offer.ref]

    def count(self) -> int:
        return len(self._ranking.candidates)

    def keys(self, diversity: str) -> frozenset[str]:
        return frozenset(diversity_key(o, diversity) for o in self._ranking.candidates)

    def accounts(self) -> frozenset[tuple[str, str]]:
        return frozenset((o.provider, o.vendor) for o in self._ranking.candidates)

    def ranking(self) -> Ranking:
        return self._ranking

    def fresh(self, diversity: str, taken: AbstractSet[str]) -> Iterator[Offer]:
        return (o for o in self._ranking.candidates if diversity_key(o, diversity) not in taken)
