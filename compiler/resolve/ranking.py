"""Stage 2b: rank the offers of an environment against one merged constraint set. Pure.

Offers that fail a constraint become Rejections (reasons kept for `explain` and error notes);
the rest are ordered by prefer glob, then sort key, then provider order, then ref: a total
order, so the same inputs always rank the same way. The resolver computes one Ranking per
distinct constraint set and shares it between agents.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..load.catalog import Offer
from ..load.project import Environment
from .constraints import Merged, matches, monthly_cost, problems


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


def _sort_value(offer: Offer, merged: Merged) -> tuple[Any, ...]:
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
            _sort_value(offer, merged),
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
