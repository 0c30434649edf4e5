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

from collections.abc import Collection, Sequence

from ..promote import pending as pending_mod
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
        f"{'' if c.kind == 'added' else '`' + _cell(value_text(c.old, 60)) + '`'} | "
        f"{'' if c.kind == 'removed' else '`' + _cell(value_text(c.new, 60)) + '`'} |"
        for e in report.environments
        for c in e.changes
    ]


def _section(title: str, lines: list[str], budget: int) -> str:
    """A section's text, its lines cut to `budget` characters."""
    body = fit(lines, max(budget - len(title) - 2, 200))
    return "\n".join([title, "", *body, ""]) + "\n"


AGENT_HEAD = [
    "| environments | agent | what changed | chain before | chain after "
    "| est. USD/month (primary) | why |",
    "|---|---|---|---|---|---|---|",
]
ENV_HEAD = [
    "| environment | status | est. USD/month (sum of primaries) | providers | new vendors |",
    "|---|---|---|---|---|",
]


def format_markdown(report: DiffReport, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment of at most `limit` characters (see the module docstring)."""
    text = "\n".join([MARKER, f"### clawpolicy diff against `{report.against}`", ""]) + "\n"
    if not report.changed and not report.pending:
        return text + "No changes.\n"
    text += f"**{counts(report)}**\n\n"
    for alert in vendor_alerts(report):
        text += f"> [!WARNING]\n> **{alert[0].upper() + alert[1:]}**\n\n"
    fields = _field_rows(report)
    tail = len("\n</details>\n") + 400
    agents = _agent_rows(report)
    if agents:
        text += "\n".join(AGENT_HEAD[:1]) + "\n"
        body = fit(agents, limit - len(text) - 2_000 - tail)
        text += "\n".join([AGENT_HEAD[1], *body, ""]) + "\n"
    text += "\n".join([*ENV_HEAD, *_env_rows(report), ""]) + "\n"
    if report.pending:
        lines = pending_mod.format_markdown(report.pending, "####").splitlines()
        budget = max(limit - len(text) - tail - 1_000, 0)
        text += _section("### Pending promotions", lines, budget)
    graph = "\n".join(
        ["<details><summary>Changed fallback chains</summary>", "", *_mermaid(report)]
    )
    if _mermaid(report) and len(text) + len(graph) + tail + 200 < limit:
        text += graph + "\n\n</details>\n\n"
    head = [f"<details><summary>Field changes ({len(fields)})</summary>", ""]
    head += ["| environment | pointer | change | before | after |", "|---|---|---|---|---|"]
    rows = fit(fields, limit - len(text) - len("\n".join(head)) - len("\n\n</details>\n") - 4)
    text += "\n".join([*head, *rows, "", "</details>", ""])
    return text[:limit]
