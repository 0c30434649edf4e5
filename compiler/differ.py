"""Stage 5: compare rendered outputs, old side (git REF, live directory) against new (a fresh
compile), into a DiffReport; format it as text, markdown or JSON. Pure; the only deepdiff user.

The report leads with one `ChainChange` per agent whose chain or estimated monthly cost moved
(before -> after, with the cause read from the lock files' input digests: policy, catalog or
both), then per-environment totals and providers added/removed, then every field-level change
of `openclaw.json` as an RFC 6901 JSON pointer. Nothing outside this module sees a DeepDiff
object.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import CannotCompare

from . import lockfile
from .catalog import json_ready
from .diagnostics import CompileError, Span, error
from .resolver import DEFAULT_KEY, IMAGE_KEY

CONFIG_NAME, LOCK_NAME = "openclaw.json", "clawpolicy.lock.json"
MARKDOWN_LIMIT = 65_000
MARKER = "<!-- clawpolicy-diff -->"
MERMAID_CHAINS = 20
_KINDS = {"dictionary_item_added": "added", "iterable_item_added": "added"}
_KINDS |= {"dictionary_item_removed": "removed", "iterable_item_removed": "removed"}
_STATUS_ORDER = {"changed": 0, "added": 1, "removed": 2}
_LABELS = {DEFAULT_KEY: "(default model)", IMAGE_KEY: "(image model)"}


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

    @property
    def changed(self) -> bool:
        return any(e.status != "unchanged" for e in self.environments)


# --------------------------------------------------------------------------- field changes


def json_pointer(path: Iterable[str | int]) -> str:
    """An RFC 6901 pointer: `~` becomes `~0` and `/` becomes `~1` in each token.

    Example:
        >>> json_pointer(["agents", "entries", "coder", "model", "fallbacks", 0])
        '/agents/entries/coder/model/fallbacks/0'
        >>> json_pointer(["models", "a/b~c"]), json_pointer([])
        ('/models/a~1b~0c', '')
    """
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _same_model(first: Any, second: Any, level: Any = None) -> bool:
    """Match list items by their `id` (models under a provider); anything else by position."""
    if isinstance(first, dict) and isinstance(second, dict) and "id" in first and "id" in second:
        return bool(first["id"] == second["id"])
    raise CannotCompare() from None


def _paths(level: Any) -> tuple[list[Any], list[Any]]:
    """The old and new path of a DiffLevel, read from each step's own child relationship."""
    node = level
    while node.up is not None:
        node = node.up
    old: list[Any] = []
    new: list[Any] = []
    while node is not level and node.down is not None:
        for path, rel in ((old, node.t1_child_rel), (new, node.t2_child_rel)):
            path.append(rel.param if rel is not None else None)
        node = node.down
    return old, new


def _sort_key(change: Change) -> tuple[tuple[int, int | str], ...]:
    parts = change.pointer.split("/")[1:]
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def _prune(old: Any, new: Any) -> tuple[Any, Any]:
    """Both documents without the mapping keys whose values are equal on both sides, so DeepDiff
    walks only what differs (10x faster on large configs); paths are unchanged, lists are kept
    whole."""
    if not (isinstance(old, Mapping) and isinstance(new, Mapping)):
        return old, new
    kept_old, kept_new = {}, {}
    for key in dict.fromkeys([*old, *new]):
        if key in old and key in new:
            if old[key] == new[key]:
                continue
            kept_old[key], kept_new[key] = _prune(old[key], new[key])
        elif key in old:
            kept_old[key] = old[key]
        else:
            kept_new[key] = new[key]
    return kept_old, kept_new


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[Change, ...]:
    """Every field that differs between two parsed JSON documents, sorted by pointer.

    Lists keep their order (a reordered fallback list changes `/.../fallbacks/0` and `/1`);
    models under a provider are matched by `id`, so adding one does not shift the others.

    Example:
        >>> changes = diff({"a": [1, 2]}, {"a": [2, 1], "b/c": 0})
        >>> [(c.kind, c.pointer, c.old, c.new) for c in changes]
        [('changed', '/a/0', 1, 2), ('changed', '/a/1', 2, 1), ('added', '/b~1c', None, 0)]
    """
    old, new = _prune(old, new)
    found = DeepDiff(
        old,
        new,
        view="tree",
        ignore_order=False,
        threshold_to_diff_deeper=0,
        iterable_compare_func=_same_model,
    )
    changes = []
    for report_type, levels in found.items():
        if report_type == "iterable_item_moved":
            continue  # models matched by id: position under a provider carries no meaning
        kind = _KINDS.get(report_type, "changed")
        for level in levels:
            old_path, new_path = _paths(level)
            pointer = json_pointer(old_path if kind == "removed" else new_path)
            changes.append(
                Change(
                    kind,
                    pointer,
                    None if kind == "added" else level.t1,
                    None if kind == "removed" else level.t2,
                )
            )
    return tuple(sorted(changes, key=_sort_key))


# --------------------------------------------------------------------------- environments


def parse_side(config_text: str | None, lock_text: str | None, where: str) -> Side:
    """Parse one environment's files (either may be absent).

    Raises:
        CompileError: PC403 when `openclaw.json` is not a JSON object; PC110 for a bad lock.
    """
    config = None
    if config_text is not None:
        try:
            config = json.loads(config_text)
        except ValueError:
            config = None
        if not isinstance(config, dict):
            raise CompileError(
                (error("PC403", f"{where}/{CONFIG_NAME} is not a JSON object", Span(where)),)
            )
    lock = None if lock_text is None else lockfile.parse(lock_text, f"{where}/{LOCK_NAME}")
    return Side(config, lock)


def _model_refs(model: Any) -> tuple[str, ...]:
    if isinstance(model, str):
        return (model,)
    if isinstance(model, dict):
        fallbacks = model.get("fallbacks") or []
        return tuple(str(r) for r in (model.get("primary"), *fallbacks) if r is not None)
    return ()


def _entries(config: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """Agent entries by id, plus `@default` / `@image` holding the default models."""
    agents = (config or {}).get("agents") or {}
    defaults = agents.get("defaults") or {}
    found: dict[str, Mapping[str, Any]] = {
        key: {"model": defaults[name]}
        for name, key in (("model", DEFAULT_KEY), ("imageModel", IMAGE_KEY))
        if name in defaults
    }
    for agent_id, entry in (agents.get("entries") or {}).items():
        if isinstance(entry, dict):
            found[str(agent_id)] = entry
    return found


def _providers(config: Mapping[str, Any] | None) -> set[str]:
    return set(((config or {}).get("models") or {}).get("providers") or {})


def _costs(lock: lockfile.Lock | None) -> dict[str, Decimal]:
    return {key: Decimal(value) for key, value in (lock.costs if lock else {}).items()}


def _is_catalog(path: str) -> bool:
    return path.startswith("policies/") and path.endswith(".json")


def _cause(old: Side, new: Side, own_file: str | None) -> str:
    """What moved a chain, from the input digests in the two locks."""
    if old.lock is None or new.lock is None:
        return "unknown"
    before, after = old.lock.inputs, new.lock.inputs
    moved = {p for p in {*before, *after} if before.get(p) != after.get(p)}
    catalog = any(_is_catalog(p) for p in moved)
    policy = any(
        not _is_catalog(p)
        and (own_file is None or p == own_file or not p.startswith("policies/teams/"))
        for p in moved
    )
    return {(True, True): "both", (True, False): "policy", (False, True): "catalog"}.get(
        (policy, catalog), "re-resolved"
    )


def _chain_changes(old: Side, new: Side, sources: Mapping[str, str]) -> list[ChainChange]:
    """Agents whose entry, chain or estimated cost differs (costs only when both sides have a
    lock: live configs have no estimate)."""
    before, after = _entries(old.config), _entries(new.config)
    old_costs, new_costs = _costs(old.lock), _costs(new.lock)
    compare_costs = old.lock is not None and new.lock is not None
    found = []
    for key in {*before, *after}:
        old_entry, new_entry = before.get(key, {}), after.get(key, {})
        old_cost, new_cost = old_costs.get(key), new_costs.get(key)
        same = old_entry == new_entry and (not compare_costs or old_cost == new_cost)
        if key in before and key in after and same:
            continue
        status = "changed" if key in before and key in after else "removed"
        status = "added" if key not in before else status
        settings = {*old_entry, *new_entry} - {"model"}
        change = ChainChange(
            key,
            status,
            _model_refs(old_entry.get("model")),
            _model_refs(new_entry.get("model")),
            old_cost,
            new_cost,
            _cause(old, new, sources.get(key)) if old.exists and new.exists else "policy",
            tuple(sorted(k for k in settings if old_entry.get(k) != new_entry.get(k))),
        )
        found.append(change)
    return sorted(found, key=lambda c: (_STATUS_ORDER[c.status], c.key.startswith("@"), c.key))


def _total(side: Side) -> Decimal | None:
    return None if side.lock is None else sum(_costs(side.lock).values(), Decimal(0))


def diff_environment(name: str, old: Side, new: Side, sources: Mapping[str, str]) -> EnvDiff:
    """Compare one environment's two sides; `sources` maps agent ids to their team file."""
    if not old.exists and not new.exists:
        return EnvDiff(name, "unchanged", (), (), (), None, None, (), "")
    changes: tuple[Change, ...] = ()
    if old.config is not None and new.config is not None:
        changes = diff(old.config, new.config)
    elif old.config is not None or new.config is not None:
        kind = "removed" if new.config is None else "added"
        changes = (Change(kind, "", old.config, new.config),)
    agents = tuple(_chain_changes(old, new, sources))
    old_providers, new_providers = _providers(old.config), _providers(new.config)
    status = "added" if not old.exists else "removed" if not new.exists else "unchanged"
    if status == "unchanged" and (changes or agents):
        status = "changed"
    cause = _cause(old, new, None) if status == "changed" else ""
    return EnvDiff(
        name,
        status,
        agents,
        tuple(sorted(new_providers - old_providers)),
        tuple(sorted(old_providers - new_providers)),
        _total(old),
        _total(new),
        changes,
        cause,
    )


def diff_files(
    against: str,
    old_files: Mapping[str, str],
    new_files: Mapping[str, str],
    envs: Sequence[str],
    sources: Mapping[str, str],
) -> DiffReport:
    """Compare rendered files keyed `<env>/openclaw.json` and `<env>/clawpolicy.lock.json`.

    Args:
        against: what the old side is, for the report's title.
        old_files: the old side's texts (from gitref).
        new_files: the new side's texts (a fresh compile).
        envs: environments to compare, in report order.
        sources: agent id -> the policy file that declares it (narrows the cause).
    """
    found = []
    for name in envs:
        sides = [
            parse_side(files.get(f"{name}/{CONFIG_NAME}"), files.get(f"{name}/{LOCK_NAME}"), where)
            for files, where in ((old_files, f"{against}:{name}"), (new_files, f"rendered/{name}"))
        ]
        found.append(diff_environment(name, sides[0], sides[1], sources))
    return DiffReport(against, tuple(found))


# --------------------------------------------------------------------------- formatting


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
    return f"{env}/{_LABELS.get(key, key)}"


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
        f"| {e.environment} | {c.status} | `{_LABELS.get(c.key, c.key)}`"
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
