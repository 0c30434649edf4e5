"""Pending promotion: what the next `promote FROM TO` would change in TO, compared with what TO
runs (its committed lock and openclaw.json). Pure; no IO. The reports are in `pendingreport`.

A promoted environment changes only through `promote`, so every policy, catalog or template
change that would reach it waits: per agent the chain it runs -> the chain it would get (and
why the running one no longer fits, if it does not), agents not promoted yet, agents that leave
with the next promotion, settings outside the chains that would change, models it runs that its
catalogs dropped or retire soon, and why the promotion would fail now, if it would. `compile`
reports it as warnings that `--strict` leaves as warnings, `diff` as a section of the report,
`promote --check` as its whole report.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..diagnostics import Diagnostic, Span
from ..load.project import Environment
from ..output.lockfile import Lock
from ..resolve.modelage import retires_within
from ..resolve.resolver import Resolution

SHOWN = 8
# the parts of openclaw.json the chains decide (agent entries are compared per agent);
# everything else is a "setting"
_CHAIN_PATHS = (
    ("models", "providers", "*", "models"),
    ("agents", "entries"),
    ("agents", "defaults", "model"),
    ("agents", "defaults", "imageModel"),
    ("agents", "defaults", "utilityModel"),
    ("agents", "defaults", "pdfModel"),
    ("agents", "defaults", "models"),
    ("agents", "defaults", "modelPolicy"),
)


@dataclass(frozen=True, slots=True)
class AgentMove:
    """One agent the next promotion changes."""

    agent: str  # agent id, "@default", "@image" or "@tier:<name>" (a tier's alias chain)
    status: str  # "changed", "added" (not promoted yet), "removed" (leaves with the promotion)
    running: tuple[str, ...]
    next: tuple[str, ...]
    running_cost: Decimal | None = None
    next_cost: Decimal | None = None
    misfit: str = ""  # why the running chain no longer fits the policy as it stands
    settings: tuple[str, ...] = ()  # other keys of the agent's entry that change


@dataclass(frozen=True, slots=True)
class CatalogAlert:
    """A model the environment runs that its catalogs dropped, retired or retire soon."""

    ref: str
    agents: tuple[str, ...]
    what: str  # "no longer offered by its catalogs", "retires on 2026-12-11 (in 9 days)"


@dataclass(frozen=True, slots=True)
class PendingPromotion:
    source: str
    target: str
    span: Span | None  # the target's promote_from
    never_promoted: bool
    agents: tuple[AgentMove, ...] = ()
    settings: tuple[str, ...] = ()  # dotted paths outside the chains that would change
    alerts: tuple[CatalogAlert, ...] = ()
    failure: tuple[Diagnostic, ...] = ()  # why the promotion would fail now
    vendors_added: tuple[tuple[str, tuple[str, ...]], ...] = ()  # vendor, keys that bring it

    @property
    def behind(self) -> bool:
        """The next promotion would change the target's files (or would, if it could)."""
        return self.never_promoted or bool(self.agents or self.settings)


@dataclass(frozen=True, slots=True)
class Side:
    """One state of the target: a lock (EMPTY when absent) and the parsed openclaw.json."""

    lock: Lock
    config: Any = None


# --------------------------------------------------------------------------- computing


def _cost(lock: Lock, key: str) -> Decimal | None:
    value = lock.costs.get(key)
    return None if value is None else Decimal(value)


def _entries(config: Any) -> Mapping[str, Any]:
    agents = config.get("agents") if isinstance(config, dict) else None
    entries = agents.get("entries") if isinstance(agents, dict) else None
    return entries if isinstance(entries, dict) else {}


def _entry_settings(old: Any, new: Any) -> tuple[str, ...]:
    """Keys of one agent entry, other than its model, that differ."""
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    return tuple(sorted(k for k in {*old, *new} - {"model"} if old.get(k) != new.get(k)))


def agent_moves(running: Side, upcoming: Side, misfit: Mapping[str, str]) -> list[AgentMove]:
    """Per chain (agents, the default and image models, the tiers' alias chains), what the
    target runs against what the promotion writes: chain, cost and, for an agent, the other
    keys of its entry (thinkingDefault, name, ...)."""
    before, after = dict(running.lock.chains), dict(upcoming.lock.chains)
    old_entries, new_entries = _entries(running.config), _entries(upcoming.config)
    moves = []
    for key in sorted({*before, *after}, key=lambda k: (k.startswith("@"), k)):
        old, new = before.get(key, ()), after.get(key, ())
        old_cost, new_cost = _cost(running.lock, key), _cost(upcoming.lock, key)
        settings = (
            _entry_settings(old_entries.get(key), new_entries.get(key)) if old and new else ()
        )
        if old == new and old_cost == new_cost and not settings and key not in misfit:
            continue
        status = "added" if not old else "removed" if not new else "changed"
        moves.append(
            AgentMove(key, status, old, new, old_cost, new_cost, misfit.get(key, ""), settings)
        )
    return moves


def _owned_by_chains(path: tuple[str, ...]) -> bool:
    return any(
        len(path) >= len(owned) and all(o in ("*", p) for o, p in zip(owned, path, strict=False))
        for owned in _CHAIN_PATHS
    )


def setting_changes(old: Any, new: Any, path: tuple[str, ...] = (), depth: int = 5) -> list[str]:
    """Dotted paths outside what the chains decide where two configs differ (at most `depth`
    deep).

    Example:
        >>> old = {"gateway": {"mode": "local"}, "models": {"providers": {"p": {"models": [1]}}}}
        >>> new = {"gateway": {"mode": "remote"}, "models": {"providers": {"p": {"models": [2]}}}}
        >>> setting_changes(old, new)
        ['gateway.mode']
    """
    if old == new or _owned_by_chains(path):
        return []
    if not (isinstance(old, dict) and isinstance(new, dict)) or depth == 0:
        return [".".join(path) or "(whole file)"]
    found = []
    for key in sorted({*old, *new}, key=str):
        found += setting_changes(old.get(key), new.get(key), (*path, str(key)), depth - 1)
    return found


def alerts(env: Environment, lock: Lock) -> list[CatalogAlert]:
    """Models `lock` runs that `env`'s catalogs no longer offer, retired, or retire within
    the environment's `retire_warning_days` of the catalogs' date."""
    users: dict[str, list[str]] = {}
    for key, refs in lock.chains.items():
        for ref in refs:
            users.setdefault(ref, []).append(key)
    today = max(env.catalog.dates, default=None)
    found = []
    for ref, agents in sorted(users.items()):
        offer = env.catalog.by_ref.get(ref)
        what = "no longer offered by its catalogs" if offer is None else offer.retired_reason()
        if offer is not None and what is None and today is not None:
            what = retires_within(offer, env.spec.retire_warning_days, today)
        if what:
            keys = sorted(agents, key=lambda k: (k.startswith("@"), k))  # agents first
            found.append(CatalogAlert(ref, tuple(keys), what))
    return found


def new_vendors(running: Lock, upcoming: Resolution) -> list[tuple[str, tuple[str, ...]]]:
    """Vendors the promotion brings that the target does not run yet, with the chains."""
    seen = {
        running.models[r].vendor if r in running.models else r.split("/")[1]
        for refs in running.chains.values()
        for r in refs
        if "/" in r
    }
    brought: dict[str, list[str]] = {}
    for result in upcoming.chains():
        for vendor in dict.fromkeys(o.vendor for o in result.chain):
            if vendor not in seen:
                brought.setdefault(vendor, []).append(result.subject.key)
    return [(vendor, tuple(keys)) for vendor, keys in sorted(brought.items())]
