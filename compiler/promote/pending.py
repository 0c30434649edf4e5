"""Pending promotion: what the next `promote FROM TO` would change in TO, compared with what TO
runs (its committed lock and openclaw.json). Pure; no IO.

A promoted environment changes only through `promote`, so every policy, catalog or template
change that would reach it waits: per agent the chain it runs -> the chain it would get (and
why the running one no longer fits, if it does not), agents not promoted yet, agents that leave
with the next promotion, settings outside the chains that would change, models it runs that its
catalogs dropped or retire soon, and why the promotion would fail now, if it would. `compile`
reports it as warnings that `--strict` leaves as warnings, `diff` as a section of the report,
`promote --check` as its whole report.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..diagnostics import Diagnostic, Severity, Span, warning
from ..load.project import Environment
from ..output.lockfile import Lock

RETIRE_WARNING_DAYS = 30
SHOWN = 8
# the parts of openclaw.json the chains decide (agent entries are compared per agent);
# everything else is a "setting"
_CHAIN_PATHS = (
    ("models", "providers", "*", "models"),
    ("agents", "entries"),
    ("agents", "defaults", "model"),
    ("agents", "defaults", "imageModel"),
    ("agents", "defaults", "models"),
    ("agents", "defaults", "modelPolicy"),
)


@dataclass(frozen=True, slots=True)
class AgentMove:
    """One agent the next promotion changes."""

    agent: str
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

    @property
    def behind(self) -> bool:
        """The next promotion would change the target's files."""
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
    """Per agent, what it runs against what the promotion writes: chain, cost and the other
    keys of its entry (thinkingDefault, name, ...)."""
    before, after = running.lock.agent_chains(), upcoming.lock.agent_chains()
    old_entries, new_entries = _entries(running.config), _entries(upcoming.config)
    moves = []
    for key in sorted({*before, *after}):
        old, new = before.get(key, ()), after.get(key, ())
        old_cost, new_cost = _cost(running.lock, key), _cost(upcoming.lock, key)
        settings = (
            _entry_settings(old_entries.get(key), new_entries.get(key)) if old and new else ()
        )
        if old == new and old_cost == new_cost and not settings:
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


def alerts(
    env: Environment, lock: Lock, warn_days: int = RETIRE_WARNING_DAYS
) -> list[CatalogAlert]:
    """Models `lock` runs that `env`'s catalogs no longer offer, retired, or retire within
    `warn_days` of the catalogs' date."""
    users: dict[str, list[str]] = {}
    for key, refs in lock.agent_chains().items():
        for ref in refs:
            users.setdefault(ref, []).append(key)
    today = max(env.catalog.dates, default=None)
    found = []
    for ref, agents in sorted(users.items()):
        offer = env.catalog.by_ref.get(ref)
        what = "no longer offered by its catalogs" if offer is None else offer.retired_reason()
        if offer is not None and what is None and today is not None:
            what = _retires_soon(offer.deprecation_date, offer.expiry_date, today, warn_days)
        if what:
            found.append(CatalogAlert(ref, tuple(agents), what))
    return found


def _retires_soon(
    deprecation: date | None, expiry: date | None, today: date, warn_days: int
) -> str | None:
    dates = [d for d in (deprecation, expiry) if d is not None]
    if not dates or (min(dates) - today).days > warn_days:
        return None
    return f"retires on {min(dates).isoformat()} (in {(min(dates) - today).days} days)"


# --------------------------------------------------------------------------- reporting


def _some(names: Iterable[str]) -> str:
    items = list(names)
    more = f" ... and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def _chain_text(refs: tuple[str, ...]) -> str:
    return "[" + ", ".join(refs) + "]" if refs else "(none)"


def move_text(move: AgentMove) -> str:
    """`support-triage: [a, b] -> [a, c] (the running chain no longer fits: ...)`."""
    if move.status == "added":
        text = f"{move.agent}: not promoted yet; gets {_chain_text(move.next)}"
    elif move.status == "removed":
        text = f"{move.agent}: leaves (no longer deployed); runs {_chain_text(move.running)}"
    elif move.running == move.next:
        text = f"{move.agent}: {_chain_text(move.running)} (chain kept)"
    else:
        text = f"{move.agent}: {_chain_text(move.running)} -> {_chain_text(move.next)}"
    text += f"; also {', '.join(move.settings)}" if move.settings else ""
    return text + (f" (running chain no longer fits: {move.misfit})" if move.misfit else "")


def _alert_text(pending: PendingPromotion, alert: CatalogAlert, quote: str = "") -> str:
    be = "" if alert.what.startswith("retires") else "is "
    target = f"{quote}{pending.target}{quote}"
    return f"{target} runs {alert.ref} ({_some(alert.agents)}), which {be}{alert.what}"


def diagnostics(pending: PendingPromotion) -> list[Diagnostic]:
    """The warnings `compile` prints for one promoted environment (never errors: a promoted
    environment is allowed to wait for its promotion)."""
    source, target = pending.source, pending.target
    hint = f"hint: run clawpolicy promote {source} {target} (review it with --check first)"
    found = []
    if pending.never_promoted:
        message = f"environment '{target}' was never promoted from '{source}'"
        found.append(warning("PC205", message, pending.span, hint))
    elif pending.behind:
        parts = [f"{len(pending.agents)} agent(s)"] if pending.agents else []
        parts += [f"settings {_some(pending.settings)}"] if pending.settings else []
        message = f"environment '{target}' is behind '{source}': the next promotion changes " + (
            " and ".join(parts)
        )
        notes = [f"note: {move_text(m)}" for m in pending.agents[:SHOWN]]
        notes += [f"note: ... and {len(pending.agents) - SHOWN} more"] * (
            len(pending.agents) > SHOWN
        )
        found.append(warning("PC209", message, pending.span, *notes, hint))
    for alert in pending.alerts:
        message = f"environment {_alert_text(pending, alert, quote=chr(39))}"
        moving = f"hint: once '{source}' runs something else, clawpolicy promote {source} {target}"
        found.append(warning("PC210", message, pending.span, moving))
    for failed in pending.failure:
        failing = (*failed.notes, f"note: the next promotion of '{target}' would fail on this")
        found.append(
            Diagnostic(failed.code, Severity.WARNING, failed.message, failed.span, failing)
        )
    return found


def to_json(pending: PendingPromotion) -> dict[str, Any]:
    """The `pending` object of one environment (docs/diff-json.md)."""
    return {
        "from": pending.source,
        "behind": pending.behind,
        "never_promoted": pending.never_promoted,
        "agents": [
            {
                "agent": m.agent,
                "status": m.status,
                "running": list(m.running),
                "next": list(m.next),
                "running_cost": None if m.running_cost is None else float(m.running_cost),
                "next_cost": None if m.next_cost is None else float(m.next_cost),
                "misfit": m.misfit or None,
                "settings": list(m.settings),
            }
            for m in pending.agents
        ],
        "settings": list(pending.settings),
        "alerts": [
            {"ref": a.ref, "agents": list(a.agents), "what": a.what} for a in pending.alerts
        ],
        "failure": [d.message for d in pending.failure],
    }


_SIGN = {"changed": "~", "added": "+", "removed": "-"}


def _money(value: Decimal | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def format_text(pendings: Iterable[PendingPromotion]) -> str:
    """A terminal report: per environment its state, loud alerts, then one line per agent."""
    lines = []
    for pending in pendings:
        if pending.never_promoted:
            state = f"never promoted from {pending.source}"
        elif pending.behind:
            state = f"behind {pending.source}: the next promotion changes {len(pending.agents)} "
            state += "agent(s)" + (" and settings" if pending.settings else "")
        else:
            state = f"up to date with {pending.source}"
        lines.append(f"{pending.target}: {state}")
        lines += [f"  ! {_alert_text(pending, a)}" for a in pending.alerts]
        lines += [f"  {_SIGN[m.status]} {move_text(m)}" for m in pending.agents]
        lines += [f"  settings: {', '.join(pending.settings)}"] if pending.settings else []
        lines += [f"  would fail: {d.message}" for d in pending.failure]
    return "\n".join(lines) + "\n"


def _cell(refs: tuple[str, ...], empty: str) -> str:
    return ", ".join(f"`{ref}`" for ref in refs) or empty


def _also(settings: tuple[str, ...]) -> str:
    return f"also {', '.join(settings)}" if settings else ""


def format_markdown(pendings: Iterable[PendingPromotion], level: str = "###") -> str:
    """A pull-request section per environment: loud alerts first (GitHub alert blocks), then a
    table of what each agent runs now and after the next promotion, and why."""
    parts = []
    for pending in pendings:
        head = f"{level} `{pending.target}`: pending promotion from `{pending.source}`"
        lines = [head, ""]
        for alert in pending.alerts:
            lines += ["> [!WARNING]", f"> **{_alert_text(pending, alert)}.**", ""]
        for failed in pending.failure:
            lines += ["> [!CAUTION]", f"> The promotion would fail now: {failed.message}", ""]
        if pending.never_promoted:
            lines += [f"`{pending.target}` has never been promoted.", ""]
        if pending.agents:
            lines += [
                f"The next `clawpolicy promote {pending.source} {pending.target}` changes "
                f"{len(pending.agents)} agent(s):",
                "",
                "| agent | runs now | after the promotion | est. USD/month (primary) | why |",
                "|---|---|---|---|---|",
            ]
            lines += [
                f"| `{m.agent}` | {_cell(m.running, '— (not promoted yet)')} | "
                f"{_cell(m.next, '— (leaves)')} | {_money(m.running_cost)} → "
                f"{_money(m.next_cost)} | "
                f"{'; '.join(filter(None, [_also(m.settings), m.misfit]))} |"
                for m in pending.agents
            ]
            lines.append("")
        if pending.settings:
            shown = ", ".join(f"`{s}`" for s in pending.settings)
            lines += [f"Settings it also changes: {shown}", ""]
        if not pending.behind and not pending.alerts:
            lines += [f"`{pending.target}` is up to date with `{pending.source}`.", ""]
        parts.append("\n".join(lines))
    return "\n".join(parts)


def format_json(pendings: Iterable[PendingPromotion]) -> str:
    """`{"environments": {TO: <pending object>}}` as 2-space JSON."""
    body = {"environments": {p.target: to_json(p) for p in pendings}}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
