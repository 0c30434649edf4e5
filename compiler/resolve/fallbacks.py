"""Stage 2c: pick a chain's fallbacks from its candidates, honouring `diversity`. Pure.

`vendor`: every member has another vendor; `provider`: another provider account; `none`:
another ref; `vendor+provider`: another vendor, and the chain spans at least two provider
accounts when the environment has two or more (so losing one account never leaves an agent
with nothing). Lock stability decides *which* offers (locked fallbacks that still fit come
first); the chosen ones are always returned in rank order, so history never decides the order.
"""

from collections.abc import Iterable
from itertools import chain

from ..load.catalog import Offer
from .constraints import VENDOR_AND_PROVIDER, Merged, diversity_key
from .ranking import Candidates


def needs_second_account(merged: Merged, accounts: int) -> bool:
    """Whether a chain under `merged` must span two provider accounts."""
    return merged.diversity == VENDOR_AND_PROVIDER and accounts >= 2 and merged.fallbacks > 0


def pick_fallbacks(
    primary: Offer,
    merged: Merged,
    candidates: Candidates,
    locked: tuple[str, ...],
    accounts: int,
) -> tuple[Offer, ...]:
    """Up to `merged.fallbacks` offers after the primary, in rank order. Candidates are read
    only until the chain is complete or no unread one can have a diversity key not yet taken.

    Args:
        primary: the chain's first member.
        merged: the chain's constraints (fallbacks, diversity).
        candidates: the candidates, best first.
        locked: the lock's fallbacks; those that still fit are taken first.
        accounts: how many provider accounts the environment declares.
    """
    still_valid = sorted(
        (offer for ref in locked if (offer := candidates.find(ref)) is not None),
        key=candidates.rank_key,
    )
    chosen: list[Offer] = []
    refs = {primary.ref}
    groups = {diversity_key(primary, merged.diversity)}
    possible = candidates.keys(merged.diversity)
    for offer in chain(still_valid, candidates.fresh(merged.diversity, groups)):
        if len(chosen) >= merged.fallbacks or possible <= groups:
            break
        group = diversity_key(offer, merged.diversity)
        if offer.ref not in refs and group not in groups:
            chosen.append(offer)
            refs.add(offer.ref)
            groups.add(group)
    one_account = all(offer.provider == primary.provider for offer in chosen)
    if needs_second_account(merged, accounts) and one_account:
        other = _other_account(primary, chain(still_valid, candidates), candidates.accounts())
        chosen = _second_account(chosen, other, merged.fallbacks)
    return tuple(sorted(chosen, key=candidates.rank_key))


def _other_account(
    primary: Offer, order: Iterable[Offer], accounts: frozenset[tuple[str, str]]
) -> Offer | None:
    """The best offer of another vendor on another provider account, if there is one."""
    if not any(p != primary.provider and v != primary.vendor for p, v in accounts):
        return None
    return next(
        (o for o in order if o.provider != primary.provider and o.vendor != primary.vendor), None
    )


def _second_account(chosen: list[Offer], other: Offer | None, wanted: int) -> list[Offer]:
    """`chosen` (all on the primary's account) changed as little as possible so the chain spans
    two accounts: `other`, the best offer of another vendor on another account, takes the place
    of the member of its vendor, else of the last member (or a free slot). Unchanged when there
    is no such offer (the resolver warns)."""
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
