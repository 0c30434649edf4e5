"""Diff reports: the DiffReport value that `differ` computes, and its formats: text (terminals),
markdown (a sticky pull-request comment of at most 65,000 characters) and JSON (the shape in
docs/diff-json.md). Pure; no deepdiff here, so reading a report needs none.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..load.catalog import json_ready
from ..output import lockfile
from ..output.writer import CONFIG_NAME
from ..promote.pending import PendingPromotion
from ..resolve.resolver import DEFAULT_KEY, IMAGE_KEY

MARKDOWN_LIMIT = 65_000
MARKER = "<!-- clawpolicy-diff -->"
MERMAID_CHAINS = 20
LABELS = {DEFAULT_KEY: "(default model)", IMAGE_KEY: "(image model)"}


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


@dataclass(frozen=True, slots=True)
class DiffReport:
    against: str  # "origin/main (1a2b3c4)"
    environments: tuple[EnvDiff, ...]
    notes: tuple[str, ...] = field(default=())
    pending: tuple[PendingPromotion, ...] = ()  # promoted environments that are behind

    @property
    def changed(self) -> bool:
        return any(e.status != "unchanged" for e in self.environments)


def _money(value: Decimal | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def _cost_move(old: Decimal | None, new: Decimal | None, arrow: str = "->") -> str:
    """`12.00 -> 8.00 (-4.00)`; `?` for a side without an estimate.

    Example:
        >>> _cost_move(Decimal("12"), Decimal("8.5")), _cost_move(None, Decimal(3))
        ('12.00 -> 8.50 (-3.50)', '? -> 3.00')
        >>> _cost_move(None, None)
        'n/a'
    """
    if old is None and new is None:
        return "n/a"
    text = f"{_money(old)} {arrow} {_money(new)}"
    if old is not None and new is not None and old != new:
        text += f" ({new - old:+.2f})"
    return text


def _value(value: Any, width: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def _who(env: str, key: str) -> str:
    return f"{env}/{LABELS.get(key, key)}"


def _counts(report: DiffReport) -> str:
    chains = sum(len(e.agents) for e in report.environments)
    fields = sum(len(e.changes) for e in report.environments)
    envs = sum(e.status != "unchanged" for e in report.environments)
    return f"{chains} agent(s) changed in {envs} environment(s), {fields} field change(s)"


def _env_line(env: EnvDiff, against: str) -> str:
    status = {"added": f"new (not at {against})", "removed": "removed"}.get(env.status, env.status)
    parts = [
        f"{env.environment}: {status}",
        f"monthly cost {_cost_move(env.old_cost, env.new_cost)}",
    ]
    if env.providers_added or env.providers_removed:
        parts.append(f"providers {_providers_text(env)}")
    return "; ".join(parts)


def _providers_text(env: EnvDiff) -> str:
    return " ".join(
        [*(f"+{p}" for p in env.providers_added), *(f"-{p}" for p in env.providers_removed)]
    )


def format_text(report: DiffReport) -> str:
    """The terminal report: agent lines first, then environment totals, then field changes."""
    if not report.changed:
        return f"clawpolicy diff against {report.against}: no changes\n"
    lines = [f"clawpolicy diff against {report.against}: {_counts(report)}"]
    sign = {"changed": "~", "added": "+", "removed": "-"}
    for env in report.environments:
        lines += [
            f"{sign[c.status]} {_who(env.environment, c.key)}: [{', '.join(c.old_refs)}] -> "
            f"[{', '.join(c.new_refs)}]; monthly cost {_cost_move(c.old_cost, c.new_cost)}; "
            f"cause: {c.cause}" + (f"; also changed: {', '.join(c.settings)}" if c.settings else "")
            for c in env.agents
        ]
    lines += ["", "environments:"]
    lines += [f"  {_env_line(e, report.against)}" for e in report.environments]
    for env in report.environments:
        if env.changes:
            lines += ["", f"field changes in {env.environment}/{CONFIG_NAME} ({len(env.changes)}):"]
            lines += [
                f"  {sign[c.kind]} {c.pointer or '(whole file)'}: "
                f"{_value(c.old) if c.kind != 'added' else ''}"
                f"{' -> ' if c.kind == 'changed' else ''}"
                f"{_value(c.new) if c.kind != 'removed' else ''}"
                for c in env.changes
            ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _refs_cell(refs: tuple[str, ...]) -> str:
    return ", ".join(f"`{r}`" for r in refs) or "—"


def _fit(rows: Sequence[str], budget: int) -> list[str]:
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


def _agent_rows(report: DiffReport) -> list[str]:
    return [
        f"| {e.environment} | {c.status} | `{LABELS.get(c.key, c.key)}`"
        f"{' (' + ', '.join(c.settings) + ')' if c.settings else ''} | "
        f"{_refs_cell(c.old_refs)} | {_refs_cell(c.new_refs)} | "
        f"{_cost_move(c.old_cost, c.new_cost, '→')} | {c.cause} |"
        for e in report.environments
        for c in e.agents
    ]


def _mermaid(report: DiffReport) -> list[str]:
    """A `graph LR` of the changed chains: before dashed, after solid."""
    chains = [
        (e.environment, c)
        for e in report.environments
        for c in e.agents
        if c.old_refs != c.new_refs
    ]
    if not chains:
        return []
    lines = ["```mermaid", "graph LR"]
    for index, (env, change) in enumerate(chains[:MERMAID_CHAINS]):
        title = _who(env, change.key).replace('"', "#quot;")
        lines.append(f'  a{index}["{title}"]')
        for side, refs, arrow in (
            ("before", change.old_refs, "-.->"),
            ("after", change.new_refs, "-->"),
        ):
            previous = f"a{index}"
            for position, ref in enumerate(refs):
                node = f"a{index}{side[0]}{position}"
                label = ref.replace('"', "#quot;")
                edge = f"{arrow}|{side}|" if position == 0 else arrow
                lines.append(f'  {previous} {edge} {node}["{label}"]')
                previous = node
    lines.append("```")
    if len(chains) > MERMAID_CHAINS:
        lines += ["", f"... and {len(chains) - MERMAID_CHAINS} more"]
    return lines


def _field_rows(report: DiffReport) -> list[str]:
    return [
        f"| {e.environment} | `{_cell(c.pointer or '(whole file)')}` | {c.kind} | "
        f"{'' if c.kind == 'added' else '`' + _cell(_value(c.old, 60)) + '`'} | "
        f"{'' if c.kind == 'removed' else '`' + _cell(_value(c.new, 60)) + '`'} |"
        for e in report.environments
        for c in e.changes
    ]


def format_markdown(report: DiffReport, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment of at most `limit` characters: the hidden marker for sticky
    comments, the changed agents, environment totals, then a Mermaid graph of the changed
    chains and the field changes, each in `<details>`; tables end "... and N more" when cut."""
    head = [MARKER, f"### clawpolicy diff against `{report.against}`", ""]
    if not report.changed:
        return "\n".join([*head, "No changes."]) + "\n"
    head += [f"**{_counts(report)}**", ""]
    totals = ["| environment | status | monthly cost | providers |", "|---|---|---|---|"]
    totals += [
        f"| {e.environment} | {e.status} | {_cost_move(e.old_cost, e.new_cost, '→')} | "
        f"{_providers_text(e)} |"
        for e in report.environments
    ]
    fields_head = [f"<details><summary>Field changes ({len(_field_rows(report))})</summary>", ""]
    fields_head += ["| environment | pointer | change | before | after |", "|---|---|---|---|---|"]
    tail = ["", "</details>", ""]
    reserve = sum(len(x) + 1 for x in (*totals, *fields_head, *tail)) + 200
    text = "\n".join(head) + "\n"
    agents = _agent_rows(report)
    if agents:
        table = [
            "| environment | change | agent | chain before | chain after | monthly cost | cause |"
        ]
        table.append("|---|---|---|---|---|---|---|")
        table += _fit(agents, limit - len(text) - reserve - 300)
        text += "\n".join([*table, ""]) + "\n"
    text += "\n".join([*totals, ""]) + "\n"
    mermaid = _mermaid(report)
    graph = "\n".join(["<details><summary>Changed fallback chains</summary>", "", *mermaid, *tail])
    if mermaid and len(text) + len(graph) + reserve < limit:
        text += graph + "\n"
    rows = _fit(_field_rows(report), limit - len(text) - len("\n".join([*fields_head, *tail])) - 4)
    text += "\n".join([*fields_head, *rows, *tail])
    return text[:limit]


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
                        "before": _chain_json(c.old_refs, c.old_cost),
                        "after": _chain_json(c.new_refs, c.new_cost),
                    }
                    for c in e.agents
                ],
                "providers": {
                    "added": list(e.providers_added),
                    "removed": list(e.providers_removed),
                },
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
    }


def format_json(report: DiffReport) -> str:
    return json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"
