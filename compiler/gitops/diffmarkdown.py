"""The pull-request comment of `clawpolicy diff --format markdown` (DiffReport -> markdown of
at most 65,000 characters). Pure.

What a reviewer needs first comes first: loud alerts (vendors new to an environment), one row
per agent change (the same change in several environments once, with the environments
listed): what moved in words (primary a -> b, a fallback swapped even when the cost stays the
same), the chains before and after, the estimated USD/month of the primary, and why (the
constraint that changed with its file:line, a catalog change, a promotion, a replaced lock
choice); then per-environment totals with the delta, the pending promotions of promoted
environments, and in `<details>` a Mermaid graph of the moved chains and every field change.
Every table is cut with "... and N more" to stay within the limit.
"""

from collections.abc import Collection

from ..promote import pendingreport
from ..promote.pendingreport import fit
from .diffreport import (
    MARKDOWN_LIMIT,
    MARKER,
    MERMAID_CHAINS,
    DiffReport,
    cost_move,
    counts,
    grouped,
    label,
    providers_text,
    value_text,
    vendor_alerts,
)

ARROW = "→"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _refs_cell(refs: tuple[str, ...]) -> str:
    return ", ".join(f"`{r}`" for r in refs) or "—"


def _ticked(text: str, refs: Collection[str]) -> str:
    """The refs in a sentence get code ticks (`infron/a/b` stands out); arrows become one
    character."""
    words = (f"`{w}`" if w in refs else ARROW if w == "->" else w for w in text.split(" "))
    return " ".join(words)


def _agent_rows(report: DiffReport) -> list[str]:
    rows = []
    for group in grouped(report):
        c = group.change
        refs = {*c.old_refs, *c.new_refs}
        what = "; ".join(_ticked(m, refs) for m in c.moves) or c.status
        if c.settings:
            what += f" (also {', '.join(c.settings)})"
        why = "; ".join(_ticked(cause, refs) for cause in c.causes)
        rows.append(
            f"| {', '.join(group.environments)} | `{label(c.key)}` | {_cell(what)} | "
            f"{_refs_cell(c.old_refs)} | {_refs_cell(c.new_refs)} | "
            f"{cost_move(c.old_cost, c.new_cost, ARROW)} | {_cell(why)} |"
        )
    return rows


def _env_rows(report: DiffReport) -> list[str]:
    rows = []
    for e in report.environments:
        vendors = ", ".join(f"**{vendor}**" for vendor, _ in e.vendors_added)
        rows.append(
            f"| {e.environment} | {e.status} | {cost_move(e.old_cost, e.new_cost, ARROW)} | "
            f"{providers_text(e)} | {vendors} |"
        )
    return rows


def _mermaid(report: DiffReport) -> list[str]:
    """A `graph LR` of the changed chains: before dashed, after solid."""
    chains = [g for g in grouped(report) if g.change.old_refs != g.change.new_refs]
    if not chains:
        return []
    lines = ["```mermaid", "graph LR"]
    for index, group in enumerate(chains[:MERMAID_CHAINS]):
        change = group.change
        title = f"{', '.join(group.environments)}/{label(change.key)}".replace('"', "#quot;")
        lines.append(f'  a{index}["{title}"]')
        for side, refs, arrow in (
            ("before", change.old_refs, "-.->"),
            ("after", change.new_refs, "-->"),
        ):
            previous = f"a{index}"
            for position, ref in enumerate(refs):
                node = f"a{index}{side[0]}{position}"
                edge = f"{arrow}|{side}|" if position == 0 else arrow
                lines.append(f'  {previous} {edge} {node}["{ref.replace(chr(34), "#quot;")}"]')
                previous = node
    lines.append("```")
    if len(chains) > MERMAID_CHAINS:
        lines += ["", f"... and {len(chains) - MERMAID_CHAINS} more"]
    return lines


def _field_rows(report: DiffReport) -> list[str]:
    return [
        f"| {e.environment} | `{_cell(c.pointer or '(whole file)')}` | {c.kind} | "
        f"{'' if c.kind == 'added' else '`' + _cell(value_text(c.old, 60, c.pointer)) + '`'} | "
        f"{'' if c.kind == 'removed' else '`' + _cell(value_text(c.new, 60, c.pointer)) + '`'} |"
        for e in report.environments
        for c in e.changes
    ]


AGENT_HEAD = [
    "| environments | agent | what changed | chain before | chain after "
    "| est. USD/month (primary) | why |",
    "|---|---|---|---|---|---|---|",
]
ENV_HEAD = [
    "| environment | status | est. USD/month (sum of primaries) | providers | new vendors |",
    "|---|---|---|---|---|",
]


def _pending_alerts(report: DiffReport, budget: int) -> str:
    """The loud part of every pending promotion, first thing after the counts."""
    lines = []
    for pending in report.pending:
        loud = pendingreport.alert_lines(pending)
        if loud:
            lines += [f"**`{pending.target}` (promoted from `{pending.source}`):**", "", *loud]
    return "\n".join(fit(lines, budget)) + "\n" if lines else ""


def _pending_tables(report: DiffReport, budget: int) -> str:
    """What each promoted environment's next promotion changes, environment by environment."""
    lines = ["### Pending promotions", ""]
    for pending in report.pending:
        lines += [f"#### `{pending.target}`: {pendingreport.state(pending)}", ""]
        lines += pendingreport.table_lines(pending)
        if pending.settings:
            shown = ", ".join(f"`{s}`" for s in pending.settings)
            lines += [f"Settings it also changes: {shown}", ""]
    return "\n".join(fit(lines, budget)) + "\n"


def format_markdown(report: DiffReport, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment of at most `limit` characters (see the module docstring): loud
    alerts first (new vendors, what promoted environments run that retires), then the agent
    table and the pending tables, which share what is left; details last."""
    text = "\n".join([MARKER, f"### clawpolicy diff against `{report.against}`", ""]) + "\n"
    if not report.changed and not report.pending:
        return text + "No changes.\n"
    text += f"**{counts(report)}**\n\n"
    for alert in vendor_alerts(report):
        text += f"> [!WARNING]\n> **{alert[0].upper() + alert[1:]}**\n\n"
    tail = len("\n</details>\n") + 600
    text += _pending_alerts(report, (limit - len(text)) // 4)
    env_table = "\n".join([*ENV_HEAD, *_env_rows(report), ""]) + "\n"
    share = (limit - len(text) - len(env_table) - tail) // (2 if report.pending else 1)
    agents = _agent_rows(report)
    if agents:
        body = fit(agents, share - 200)
        text += "\n".join([*AGENT_HEAD, *body, ""]) + "\n"
    text += env_table
    if report.pending:
        text += _pending_tables(report, limit - len(text) - tail)
    mermaid = _mermaid(report)
    graph = "\n".join(["<details><summary>Changed fallback chains</summary>", "", *mermaid])
    if mermaid and len(text) + len(graph) + tail + 200 < limit:
        text += graph + "\n\n</details>\n\n"
    fields = _field_rows(report)
    head = [f"<details><summary>Field changes ({len(fields)})</summary>", ""]
    head += ["| environment | pointer | change | before | after |", "|---|---|---|---|---|"]
    rows = fit(fields, limit - len(text) - len("\n".join(head)) - len("\n\n</details>\n") - 4)
    text += "\n".join([*head, *rows, "", "</details>", ""])
    return text[:limit]
