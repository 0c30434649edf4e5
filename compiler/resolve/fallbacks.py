"""Stage 2c: pick a chain's fallbacks from a shared ranking, honouring `diversity`. Pure.

`vendor`: every member has another vendor; `provider`: another provider account; `none`:
another ref; `vendor+provider`: another vendor, and the chain spans at least two provider
accounts when the environment has two or more (so losing one account never leaves an agent
with nothing). Lock stability decides *which* offers (locked fallbacks that still fit come
first); the chosen ones are always returned in rank order, so history never decides the order.
"""

from ..load.catalog import Offer
from .constraints import Merged
from .ranking import Ranking

VENDOR_AND_PROVIDER = "vendor+provider"


def diversity_key(offer: Offer, diversity: str) -> str:
    """Two offers with the same key may not share a chain."""
    if diversity in ("vendor", VENDOR_AND_PROVIDER):
        return offer.vendor
    if diversity == "provider":
        return offer.provider
    return offer.ref


def needs_second_account(merged: Merged, accounts: int) -> bool:
    """Whether a chain under `merged` must span two provider accounts."""
    return merged.diversity == VENDOR_AND_PROVIDER and accounts >= 2 and merged.fallbacks > 0


def pick_fallbacks(
    primary: Offer, merged: Merged, ranking: Ranking, locked: tuple[str, ...], accounts: int
) -> tuple[Offer, ...]:
    """Up to `merged.fallbacks` offers after the primary, in rank order.

    Args:
        primary: the chain's first member.
        merged: the chain's constraints (fallbacks, diversity).
        ranking: the candidates, best first.
        locked: the lock's fallbacks; those that still fit are taken first.
        accounts: how many provider accounts the environment declares.
    """
    position = ranking.position
    still_valid = sorted(
        (ranking.by_ref[ref] for ref in locked if ref in ranking.by_ref),
        key=lambda offer: position[offer.ref],
    )
    order = [*still_valid, *ranking.candidates]
    chosen: list[Offer] = []
    refs = {primary.ref}
    groups = {diversity_key(primary, merged.diversity)}
    for offer in order:
        if len(chosen) >= merged.fallbacks:
            break
        group = diversity_key(offer, merged.diversity)
        if offer.ref not in refs and group not in groups:
            chosen.append(offer)
            refs.add(offer.ref)
            groups.add(group)
    if needs_second_account(merged, accounts):
        chosen = _second_account(primary, chosen, order, merged.fallbacks)
    return tuple(sorted(chosen, key=lambda offer: position[offer.ref]))


def _second_account(
    primary: Offer, chosen: list[Offer], order: list[Offer], wanted: int
) -> list[Offer]:
    """`chosen` changed as little as possible so the chain spans two accounts: the best offer of
    another vendor on another account takes the place of the member of its vendor, else of the
    last member (or a free slot). Unchanged when no such offer exists (the resolver warns)."""
    if any(offer.provider != primary.provider for offer in chosen):
        return chosen
    other = next(
        (o for o in order if o.provider != primary.provider and o.vendor != primary.vendor), None
    )
    if other is None:
        return chosen
    same_vendor = [o for o in chosen if o.vendor == other.vendor]
    if same_vendor:
        drop: Offer | None = same_vendor[0]
    else:
        drop = chosen[-1] if len(chosen) >= wanted else None
    return [o for o in chosen if o is not drop] + [other]


def spans_accounts(chain: tuple[Offer, ...]) -> bool:
    """Whether a chain's members sit on at least two provider accounts."""
    return len({offer.provider for offer in chain}) >= 2
