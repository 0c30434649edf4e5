"""Diff reports: the DiffReport value that `differ` computes, and its formats: text (terminals),
markdown (a sticky pull-request comment of at most 65,000 characters) and JSON (the shape in
docs/diff-json.md). Pure; no deepdiff here, so reading a report needs none.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..load.catalog import json_ready
from ..output import lockfile
from ..output.writer import CONFIG_NAME
from ..promote.pending import PendingPromotion
from ..promote.pendingreport import format_text as pending_text
from ..promote.pendingreport import to_json as pending_json
from ..redaction import redact_text, redact_value
from ..resolve.resolver import DEFAULT_SLOTS

MARKDOWN_LIMIT = 65_000
MARKER = "<!-- clawpolicy-diff -->"
MERMAID_CHAINS = 20
LABELS = {slot.key: f"({slot.label})" for slot in DEFAULT_SLOTS}


@dataclass(frozen=True, slots=True)
class Change:
    """One field of `openclaw.json`: kind is "added", "removed" or "changed"."""

    kind: str
    pointer: str  # RFC 6901, into the new document (the old one for "removed")
    old: Any = None
    new: Any = None


@dataclass(frozen=True, slots=True)
class Side:
    """One environment's rendered files on one side of the diff; None where a file is absent."""

    config: Mapping[str, Any] | None
    lock: lockfile.Lock | None

    @property
    def exists(self) -> bool:
        return self.config is not None or self.lock is not None


@dataclass(frozen=True, slots=True)
class ChainChange:
    """An agent (or the default/image model) whose entry, chain or estimated cost differs."""

    key: str  # agent id, "@default" or "@image"
    status: str  # "changed", "added", "removed"
    old_refs: tuple[str, ...]
    new_refs: tuple[str, ...]
    old_cost: Decimal | None
    new_cost: Decimal | None
    cause: str  # "policy", "catalog", "both", "re-resolved" (no input changed), "unknown"
    settings: tuple[str, ...] = ()  # other keys of the agent's entry that differ (thinkingDefault)
    causes: tuple[str, ...] = ()  # why, in words (compiler.gitops.causes)
    moves: tuple[str, ...] = ()  # the chain's change in words: primary a -> b, fallback swap...


@dataclass(frozen=True, slots=True)
class EnvDiff:
    environment: str
    status: str  # "changed", "unchanged", "added" (not on the old side), "removed"
    agents: tuple[ChainChange, ...]
    providers_added: tuple[str, ...]
    providers_removed: tuple[str, ...]
    old_cost: Decimal | None  # sum of the lock's agent estimates; None without a lock
    new_cost: Decimal | None
    changes: tuple[Change, ...]
    cause: str
    vendors_added: tuple[tuple[str, tuple[str, ...]], ...] = ()  # vendor, agents using it


@dataclass(frozen=True, slots=True)
class DiffReport:
    against: str  # "origin/main (1a2b3c4)"
    environments: tuple[EnvDiff, ...]
    notes: tuple[str, ...] = field(default=())
    pending: tuple[PendingPromotion, ...] = ()  # promoted environments that are behind

    @property
    def changed(self) -> bool:
        """Anything differs from the old side (the exit code is 1 exactly then); pending
        promotions are the state of the new side, not a change."""
        return any(e.status != "unchanged" for e in self.environments)


def _money(value: Decimal | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def cost_move(old: Decimal | None, new: Decimal | None, arrow: str = "->") -> str:
    """`12.00 -> 8.00 (-4.00)`; `?` for a side without an estimate.

    Example:
        >>> cost_move(Decimal("12"), Decimal("8.5")), cost_move(None, Decimal(3))
        ('12.00 -> 8.50 (-3.50)', '? -> 3.00')
        >>> cost_move(None, None)
        '? -> ?'
    """
    text = f"{_money(old)} {arrow} {_money(new)}"
    if old is not None and new is not None and old != new:
        text += f" ({new - old:+.2f})"
    return text


def value_text(value: Any, width: int = 80, pointer: str = "") -> str:
    """One side of a field change as JSON, cut to `width`: redacted *before* it is cut (a cut
    can split a secret so that its shape no longer matches), as a value at `pointer`.

    Example:
        >>> value_text({"url": "postgres://app:" + "x" * 40 + "@db/app"}, 40)
        '{"url": "postgres://***@db/app"}'
        >>> value_text("0123456789abcdef" * 2, 20, "/env/vars/OPENAI_KEY")
        '"***"'
    """
    shown = redact_value({"pointer": pointer, "old": value})["old"] if pointer else value
    text = redact_text(json.dumps(redact_value(shown), ensure_ascii=False))
    return text if len(text) <= width else text[: width - 3] + "..."


def _who(env: str, key: str) -> str:
    return f"{env}/{LABELS.get(key, key)}"


def counts(report: DiffReport) -> str:
    chains = sum(len(e.agents) for e in report.environments)
    fields = sum(len(e.changes) for e in report.environments)
    envs = sum(e.status != "unchanged" for e in report.environments)
    return f"{chains} agent(s) changed in {envs} environment(s), {fields} field change(s)"


def _env_line(env: EnvDiff, against: str) -> str:
    status = {"added": f"new (not at {against})", "removed": "removed"}.get(env.status, env.status)
    parts = [
        f"{env.environment}: {status}",
        f"monthly cost {cost_move(env.old_cost, env.new_cost)}",
    ]
    if env.providers_added or env.providers_removed:
        parts.append(f"providers {providers_text(env)}")
    return "; ".join(parts)


def providers_text(env: EnvDiff) -> str:
    return " ".join(
        [*(f"+{p}" for p in env.providers_added), *(f"-{p}" for p in env.providers_removed)]
    )


@dataclass(frozen=True, slots=True)
class ChangeGroup:
    """One agent change, identical in every environment listed."""

    environments: tuple[str, ...]
    change: ChainChange


def grouped(report: DiffReport) -> list[ChangeGroup]:
    """Agent changes with identical chains, costs, causes and moves in several environments,
    shown once with the environments listed (report order otherwise kept)."""
    groups: dict[ChainChange, list[str]] = {}
    for env in report.environments:
        for change in env.agents:
            groups.setdefault(change, []).append(env.environment)
    return [ChangeGroup(tuple(envs), change) for change, envs in groups.items()]


def label(key: str) -> str:
    return LABELS.get(key, key)


def vendor_alerts(report: DiffReport) -> list[str]:
    """`new vendor deepseek in dev, prod (code-assistant, copywriter)`: one line per vendor
    and set of agents, with every environment it is new to."""
    where: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for env in report.environments:
        for vendor, agents in env.vendors_added:
            where.setdefault((vendor, agents), []).append(env.environment)
    return [
        f"new vendor {vendor} in {', '.join(envs)} ({', '.join(label(a) for a in agents)})"
        for (vendor, agents), envs in where.items()
    ]


def format_text(report: DiffReport) -> str:
    """The terminal report: agent changes first (each once, with its environments, what moved
    and why), new vendors, environment totals, pending promotions, then field changes."""
    if not report.changed and not report.pending:
        return f"clawpolicy diff against {report.against}: no changes\n"
    lines = [f"clawpolicy diff against {report.against}: {counts(report)}"]
    sign = {"changed": "~", "added": "+", "removed": "-"}
    for group in grouped(report):
        c = group.change
        lines.append(
            f"{sign[c.status]} {', '.join(group.environments)}/{label(c.key)}: "
            f"[{', '.join(c.old_refs)}] -> [{', '.join(c.new_refs)}]; "
            f"est. USD/month (primary) {cost_move(c.old_cost, c.new_cost)}"
            + (f"; also changed: {', '.join(c.settings)}" if c.settings else "")
        )
        lines += [f"    {move}" for move in c.moves]
        lines += [f"    why: {cause}" for cause in c.causes]
    lines += [f"! {alert}" for alert in vendor_alerts(report)]
    lines += ["", "environments (est. USD/month, sum of the primaries):"]
    lines += [f"  {_env_line(e, report.against)}" for e in report.environments]
    if report.pending:
        lines += ["", "pending promotions:", pending_text(report.pending).rstrip("\n")]
    for env in report.environments:
        if env.changes:
            lines += ["", f"field changes in {env.environment}/{CONFIG_NAME} ({len(env.changes)}):"]
            lines += [
                f"  {sign[c.kind]} {c.pointer or '(whole file)'}: "
                f"{value_text(c.old, pointer=c.pointer) if c.kind != 'added' else ''}"
                f"{' -> ' if c.kind == 'changed' else ''}"
                f"{value_text(c.new, pointer=c.pointer) if c.kind != 'removed' else ''}"
                for c in env.changes
            ]
    return "\n".join(lines) + "\n"


def _number(value: Decimal | None) -> Any:
    return None if value is None else json_ready(value.quantize(Decimal("0.01")))


def _chain_json(refs: tuple[str, ...], cost: Decimal | None) -> Any:
    if not refs:
        return None
    return {"primary": refs[0], "fallbacks": list(refs[1:]), "monthly_cost": _number(cost)}


def to_json(report: DiffReport) -> dict[str, Any]:
    """The documented JSON shape (docs/diff-json.md)."""
    return {
        "against": report.against,
        "changed": report.changed,
        "environments": {
            e.environment: {
                "status": e.status,
                "cause": e.cause or None,
                "agents": [
                    {
                        "agent": c.key,
                        "status": c.status,
                        "cause": c.cause,
                        "settings": list(c.settings),
                        "causes": list(c.causes),
                        "moves": list(c.moves),
                        "before": _chain_json(c.old_refs, c.old_cost),
                        "after": _chain_json(c.new_refs, c.new_cost),
                    }
                    for c in e.agents
                ],
                "providers": {
                    "added": list(e.providers_added),
                    "removed": list(e.providers_removed),
                },
                "vendors_added": [
                    {"vendor": vendor, "agents": list(agents)} for vendor, agents in e.vendors_added
                ],
                "cost": {
                    "before": _number(e.old_cost),
                    "after": _number(e.new_cost),
                    "delta": _number(e.new_cost - e.old_cost)
                    if e.old_cost is not None and e.new_cost is not None
                    else None,
                },
                "changes": [
                    {"pointer": c.pointer, "kind": c.kind, "old": c.old, "new": c.new}
                    for c in e.changes
                ],
            }
            for e in report.environments
        },
        "pending": {p.target: pending_json(p) for p in report.pending},
    }


def format_json(report: DiffReport) -> str:
    return json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"
