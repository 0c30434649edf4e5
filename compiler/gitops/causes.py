"""Why an agent's chain changed, in words a reviewer can act on (old and new side -> causes).
Pure; no deepdiff, no git.

For one agent of one environment, from the two sides' lock files and configs and, on the new
side, the fresh resolution (where each constraint was written, which locked choices stopped
fitting): a promotion from ENV; each merged constraint that moved, old -> new, with the file
and line that sets it now; each locked choice replaced and why; each chain member's catalog
change (dropped, retires on DATE, price X -> Y). And the chain's own move in words: primary
a -> b, a fallback swapped, added, removed or reordered, so a swap reads as a change even when
the estimated cost stays the same.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..load.catalog import Offer
from ..output.lockfile import Lock
from ..promote.pending import PendingPromotion
from ..resolve.resolver import ChainResult, Resolution

AGENT_KEYS = ("tier", "pin", "workload", "budget")  # set on the agent, not merged from layers


@dataclass(frozen=True, slots=True)
class NewSide:
    """What the fresh compile knows about one environment beyond its files."""

    chains: Mapping[str, ChainResult] = field(default_factory=dict)  # subject key -> result
    offers: Mapping[str, Offer] | None = None  # the environment's catalog by ref
    # in a promoted environment: the chains that differ from what promoting its source now
    # gives (a promoted chain that is in this set was not written by that promotion)
    pending: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, resolution: Resolution | None, pending: PendingPromotion | None = None
    ) -> "NewSide":
        waiting = frozenset(m.agent for m in pending.agents) if pending else frozenset()
        if resolution is None:
            return cls(pending=waiting)
        chains = {r.subject.key: r for r in resolution.chains()}
        return cls(chains, resolution.environment.catalog.by_ref, waiting)


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"max_price": {"output": 3}}` -> `{"max_price.output": 3}`.

    Example:
        >>> flatten({"tier": "fast", "max_price": {"input": 1, "output": 3}})
        {'tier': 'fast', 'max_price.input': 1, 'max_price.output': 3}
    """
    found: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            found |= flatten(value, f"{prefix}{key}.")
        else:
            found[f"{prefix}{key}"] = value
    return found


def _shown(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, Decimal | float):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def _layer_value(spec: Any, key: str) -> Any:
    head, _, bound = key.partition(".")
    value = getattr(spec, head, None)
    return getattr(value, bound, None) if bound and value is not None else value


def _where(result: ChainResult | None, key: str) -> str:
    """The file:line that decides a merged constraint now: for a bound (`max_price.*`,
    `min_context`) the layer whose value wins, for a list the layers that add to it (the last
    one shown), else the most specific layer that sets it."""
    if result is None:
        return ""
    head = key.split(".", maxsplit=1)[0]
    if head in AGENT_KEYS:
        span = result.subject.key_spans.get(head)
        return f" ({span})" if span and span.line else ""
    setting = [
        (layer, value)
        for layer in result.subject.layers
        if (value := _layer_value(layer.spec, key)) not in (None, ())
    ]
    if head in ("max_price", "min_context") and setting:
        best = (min if head == "max_price" else max)(value for _, value in setting)
        setting = [(layer, value) for layer, value in setting if value == best]
    spans = [layer.spans.get(head) for layer, _ in setting]
    spans = [s for s in spans if s is not None and s.line]
    return f" ({spans[-1]})" if spans else ""


def constraint_causes(key: str, old: Lock, new: Lock, result: ChainResult | None) -> list[str]:
    """Each merged constraint that moved: `max_price.output 5 -> 3 (policies/tiers.yaml:9:5)`."""
    before, after = old.constraints.get(key), new.constraints.get(key)
    if before is None or after is None:
        return []
    flat_before, flat_after = flatten(before), flatten(after)
    return [
        f"{name} {_shown(flat_before.get(name))} -> {_shown(flat_after.get(name))}"
        + _where(result, name)
        for name in sorted({*flat_before, *flat_after})
        if flat_before.get(name) != flat_after.get(name)
    ]


def _prices(config: Any, ref: str) -> tuple[Any, Any] | None:
    provider, _, model_id = ref.partition("/")
    try:
        models = config["models"]["providers"][provider]["models"]
        entry = next(m for m in models if isinstance(m, dict) and m.get("id") == model_id)
        cost = entry["cost"]
        return cost.get("input"), cost.get("output")
    except (KeyError, TypeError, StopIteration, AttributeError):
        return None


def _offer_prices(offer: Offer) -> tuple[Any, Any]:
    """The offer's input and output prices, as the rendered config's `cost` carries them."""
    return offer.price.get("input"), offer.price.get("output")


def _price_move(before: tuple[Any, Any] | None, after: tuple[Any, Any] | None) -> str | None:
    """`price out 4.5 -> 5.4 USD/1M` (the sides that moved), or None when unknown or equal."""
    if not before or not after:
        return None
    moved = [
        f"{side} {_shown(old)} -> {_shown(new)}"
        for side, old, new in zip(("in", "out"), before, after, strict=True)
        if _number(old) != _number(new)
    ]
    return f"price {', '.join(moved)} USD/1M" if moved else None


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).normalize()
    except (ArithmeticError, ValueError):
        return None


def catalog_causes(
    refs: tuple[tuple[str, ...], tuple[str, ...]],
    configs: tuple[Any, Any],
    new: Lock,
    offers: Mapping[str, Offer] | None,
) -> list[str]:
    """Catalog changes of the chain's members: members that left the chain because the
    environment's catalog dropped or retired them, prices that moved (members on both sides)
    and the retirement date of members new to the chain."""
    old_refs, new_refs = refs
    found = []
    for ref in (r for r in old_refs if r not in new_refs and offers is not None):
        offer = (offers or {}).get(ref)
        if offer is None:
            found.append(f"{ref} dropped from the catalog")
        elif (retired := offer.retired_reason()) is not None:
            found.append(f"{ref} retired: {retired}")
        elif (moved := _price_move(_prices(configs[0], ref), _offer_prices(offer))) is not None:
            found.append(f"{ref} {moved} (left the chain)")
    for ref in (r for r in new_refs if r in old_refs):
        moved = _price_move(_prices(configs[0], ref), _prices(configs[1], ref))
        if moved is not None:
            found.append(f"{ref} {moved}")
    for ref in (r for r in new_refs if r not in old_refs):
        model = new.models.get(ref)
        if model is not None and model.retires:
            found.append(f"{ref} (new in the chain) retires on {model.retires}")
    return found


def replaced_causes(result: ChainResult) -> list[str]:
    """Locked choices that stopped fitting: dropped or retired by the catalog, or a bound."""
    found = []
    for ref, why in result.replaced:
        if why.startswith("no longer offered"):
            found.append(f"{ref} dropped from the catalog (locked choice replaced)")
        elif why.startswith(("deprecated", "expired")):
            found.append(f"{ref} retired: {why} (locked choice replaced)")
        else:
            found.append(f"locked {ref} replaced: {why}")
    return found


def causes(
    key: str,
    locks: tuple[Lock | None, Lock | None],
    configs: tuple[Any, Any],
    refs: tuple[tuple[str, ...], tuple[str, ...]],
    new_side: NewSide,
) -> tuple[str, ...]:
    """Every cause of one agent's change, most telling first."""
    old, new = locks
    result, offers = new_side.chains.get(key), new_side.offers
    found: list[str] = []
    if new is not None and new.promoted_from and refs[0] != refs[1]:
        if key in new_side.pending:
            found.append(
                f"changed outside promote: not what promoting {new.promoted_from} gives now"
            )
        else:
            found.append(f"promoted from {new.promoted_from}")
    if old is not None and new is not None:
        found += constraint_causes(key, old, new, result)
    if result is not None:
        found += replaced_causes(result)
    if new is not None:
        found += catalog_causes(refs, configs, new, offers)
    return tuple(dict.fromkeys(found))


def chain_moves(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    """The chain's change in words: the primary, then fallbacks swapped, added, removed or
    reordered (a fallback that became the primary, or the other way round, is said once).

    Example:
        >>> chain_moves(("a", "b", "c"), ("a", "d", "c"))
        ('fallback b -> d',)
        >>> chain_moves(("a", "b", "c"), ("x", "c", "b"))
        ('primary a -> x', 'a left the chain', 'fallbacks reordered: b, c -> c, b')
        >>> chain_moves(("a", "b"), ("b", "c"))
        ('primary a -> b', 'a left the chain', 'fallback c added')
        >>> chain_moves(("a", "b"), ("a", "b", "e")), chain_moves((), ("a",))
        (('fallback e added',), ())
    """
    if not old or not new or old == new:
        return ()
    moves = []
    if old[0] != new[0]:
        moves.append(f"primary {old[0]} -> {new[0]}")
        if old[0] not in new:
            moves.append(f"{old[0]} left the chain")
    before = [r for r in old[1:] if r != new[0]]
    after = [r for r in new[1:] if r != old[0]]
    gone = [r for r in before if r not in after]
    came = [r for r in after if r not in before]
    for removed, added in zip(gone, came, strict=False):
        moves.append(f"fallback {removed} -> {added}")
    moves += [f"fallback {r} removed" for r in gone[len(came) :]]
    moves += [f"fallback {r} added" for r in came[len(gone) :]]
    kept_before = [r for r in before if r in after]
    kept_after = [r for r in after if r in before]
    if kept_before != kept_after:
        moves.append(f"fallbacks reordered: {', '.join(kept_before)} -> {', '.join(kept_after)}")
    return tuple(moves)
