"""Reports of a pending promotion: the warnings `compile` prints, and the text, markdown (a PR
section or body, at most 65,000 characters) and JSON forms. Pure.
"""

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from ..diagnostics import Diagnostic, Severity, warning
from ..resolve.resolver import SLOTS, TIER_KEY_PREFIX
from .pending import AgentMove, CatalogAlert, PendingPromotion

SHOWN = 8
MARKDOWN_LIMIT = 65_000


def label(key: str) -> str:
    """`default model`, `image model`, `tier fast` or the agent id."""
    if key in SLOTS:
        return SLOTS[key].label
    if key.startswith(TIER_KEY_PREFIX):
        return f"tier {key.removeprefix(TIER_KEY_PREFIX)}"
    return key


def _some(names: Iterable[str]) -> str:
    items = [label(name) for name in names]
    more = f" ... and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def _chain_text(refs: tuple[str, ...]) -> str:
    return "[" + ", ".join(refs) + "]" if refs else "(none)"


def move_text(move: AgentMove) -> str:
    """`support-triage: [a, b] -> [a, c] (running chain no longer fits: ...)`."""
    who = label(move.agent)
    if move.status == "added":
        text = f"{who}: not promoted yet; gets {_chain_text(move.next)}"
    elif move.status == "removed":
        text = f"{who}: leaves (no longer deployed); runs {_chain_text(move.running)}"
    elif move.running == move.next:
        text = f"{who}: {_chain_text(move.running)} (chain kept)"
    else:
        text = f"{who}: {_chain_text(move.running)} -> {_chain_text(move.next)}"
    text += f"; also {', '.join(move.settings)}" if move.settings else ""
    return text + (f" (running chain no longer fits: {move.misfit})" if move.misfit else "")


def _alert_text(pending: PendingPromotion, alert: CatalogAlert, quote: str = "") -> str:
    be = "" if alert.what.startswith("retires") else "is "
    target = f"{quote}{pending.target}{quote}"
    return f"{target} runs {alert.ref} ({_some(alert.agents)}), which {be}{alert.what}"


def _vendor_text(pending: PendingPromotion, vendor: str, keys: tuple[str, ...]) -> str:
    return f"the promotion brings vendor {vendor} to {pending.target} ({_some(keys)})"


def state(pending: PendingPromotion, quote: str = "") -> str:
    """`behind staging: the next promotion changes 2 chain(s) and settings gateway.mode`."""
    source = f"{quote}{pending.source}{quote}"
    if pending.never_promoted:
        return f"never promoted from {source}"
    if not pending.behind:
        state = f"up to date with {source}"
    else:
        parts = [f"{len(pending.agents)} chain(s)"] if pending.agents else []
        parts += [f"settings {_some(pending.settings)}"] if pending.settings else []
        state = f"behind {source}: the next promotion changes {' and '.join(parts)}"
    return state + ("; the promotion would fail now" if pending.failure else "")


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
        notes = [f"note: {move_text(m)}" for m in pending.agents[:SHOWN]]
        more = len(pending.agents) - SHOWN
        notes += [f"note: ... and {more} more"] if more > 0 else []
        message = f"environment '{target}' is {state(pending, quote=chr(39))}"
        found.append(warning("PC209", message, pending.span, *notes, hint))
    moving = f"hint: once '{source}' runs something else, clawpolicy promote {source} {target}"
    for alert in pending.alerts:
        message = f"environment {_alert_text(pending, alert, quote=chr(39))}"
        found.append(warning("PC210", message, pending.span, moving))
    for failed in pending.failure:
        failing = (*failed.notes, f"note: the next promotion of '{target}' would fail on this")
        found.append(
            Diagnostic(failed.code, Severity.WARNING, failed.message, failed.span, failing)
        )
    return found


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


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
                "running_cost": _number(m.running_cost),
                "next_cost": _number(m.next_cost),
                "misfit": m.misfit or None,
                "settings": list(m.settings),
            }
            for m in pending.agents
        ],
        "settings": list(pending.settings),
        "alerts": [
            {"ref": a.ref, "agents": list(a.agents), "what": a.what} for a in pending.alerts
        ],
        "vendors_added": [
            {"vendor": vendor, "chains": list(keys)} for vendor, keys in pending.vendors_added
        ],
        "failure": [d.message for d in pending.failure],
    }


_SIGN = {"changed": "~", "added": "+", "removed": "-"}


def _money(value: Decimal | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def format_text(pendings: Iterable[PendingPromotion]) -> str:
    """A terminal report: per environment its state, loud alerts, then one line per chain."""
    lines = []
    for pending in pendings:
        lines.append(f"{pending.target}: {state(pending)}")
        lines += [f"  ! {_alert_text(pending, a)}" for a in pending.alerts]
        lines += [f"  ! {_vendor_text(pending, v, k)}" for v, k in pending.vendors_added]
        lines += [f"  {_SIGN[m.status]} {move_text(m)}" for m in pending.agents]
        lines += [f"  settings: {', '.join(pending.settings)}"] if pending.settings else []
        lines += [f"  would fail: {d.message}" for d in pending.failure]
    return "\n".join(lines) + "\n"


def _cell(refs: tuple[str, ...], empty: str) -> str:
    return ", ".join(f"`{ref}`" for ref in refs) or empty


def alert_lines(pending: PendingPromotion) -> list[str]:
    """The loud part of one environment's pending state, as GitHub alert blocks."""
    lines = []
    for alert in pending.alerts:
        lines += ["> [!WARNING]", f"> **{_alert_text(pending, alert)}.**", ""]
    for vendor, keys in pending.vendors_added:
        text = _vendor_text(pending, vendor, keys)
        lines += ["> [!WARNING]", f"> **{text[0].upper()}{text[1:]}.**", ""]
    for failed in pending.failure:
        lines += ["> [!CAUTION]", f"> The promotion would fail now: {failed.message}", ""]
    return lines


def _why(move: AgentMove) -> str:
    also = f"also {', '.join(move.settings)}" if move.settings else ""
    return "; ".join(part for part in (also, move.misfit) if part)


def table_lines(pending: PendingPromotion) -> list[str]:
    """What each chain runs now and after the next promotion, and why, as a table."""
    if not pending.agents:
        return []
    return [
        f"The next `clawpolicy promote {pending.source} {pending.target}` changes "
        f"{len(pending.agents)} chain(s):",
        "",
        "| chain | runs now | after the promotion | est. USD/month (primary) | why |",
        "|---|---|---|---|---|",
        *(
            f"| `{label(m.agent)}` | {_cell(m.running, '— (not promoted yet)')} | "
            f"{_cell(m.next, '— (leaves)')} | {_money(m.running_cost)} → "
            f"{_money(m.next_cost)} | {_why(m)} |"
            for m in pending.agents
        ),
        "",
    ]


def fit(rows: Sequence[str], budget: int) -> list[str]:
    """As many rows as fit in `budget` characters, then a "... and N more" line."""
    kept: list[str] = []
    used = 0
    for index, row in enumerate(rows):
        more = f"\n... and {len(rows) - index} more"
        if used + len(row) + 1 + len(more) + 1 > budget:
            return [*kept, more]
        kept.append(row)
        used += len(row) + 1
    return kept


def format_markdown(
    pendings: Iterable[PendingPromotion], level: str = "###", limit: int = MARKDOWN_LIMIT
) -> str:
    """One section per environment, loud alerts first (GitHub alert blocks), then the table of
    what each chain runs now and after the promotion; at most `limit` characters, the alerts
    of every environment kept before any table is cut."""
    items = list(pendings)
    heads = {p.target: [f"{level} `{p.target}`: {state(p)}", "", *alert_lines(p)] for p in items}
    budget = limit - sum(len("\n".join(h)) + 2 for h in heads.values())
    parts = []
    for index, pending in enumerate(items):
        body = table_lines(pending)
        if pending.settings:
            body += [f"Settings it also changes: {', '.join(f'`{s}`' for s in pending.settings)}"]
        share = max(budget // (len(items) - index), 0)
        body = fit(body, share) if body else []
        budget -= len("\n".join(body)) + 1
        parts.append("\n".join([*heads[pending.target], *body]))
    return ("\n\n".join(parts) + "\n")[:limit]


def format_json(pendings: Iterable[PendingPromotion]) -> str:
    """`{"environments": {TO: <pending object>}}` as 2-space JSON."""
    body = {"environments": {p.target: to_json(p) for p in pendings}}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
