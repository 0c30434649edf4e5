"""Catalog diff: two snapshots -> CatalogDiff (added, removed, changed offers), and its reports.

Pure; no IO. Offers are matched on (provider, id). A change lists every field that differs
(`price.input`, `capabilities.tools`, `context_window`, ...) with its old and new value, plus
the pseudo-field `retired` when an offer became deprecated or expired as of the new snapshot's
own date (the "newly deprecated" list). Everything is sorted, so reports are deterministic.
Which agents a move to the new catalog would change is computed by resolving, in
`compiler.catalogs.impact` (it needs the policy repository).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..jsontext import chain_json
from ..load.catalog import format_decimal, json_number, offer_from_spec
from ..load.spec import CatalogSpec, OfferSpec

Value = Decimal | str | int | bool | date | tuple[str, ...] | None
MARKDOWN_LIMIT = 65_000
RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one offer: `field` is a dotted name such as `price.input`."""

    field: str
    old: Value
    new: Value


@dataclass(frozen=True, slots=True)
class OfferChange:
    """An offer present in both snapshots whose fields differ."""

    provider: str
    id: str
    fields: tuple[FieldChange, ...]

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.id}"

    @property
    def retirement(self) -> str | None:
        """Why the offer is newly deprecated or expired, or None when it is not."""
        for change in self.fields:
            if change.field == RETIRED and change.old is None and isinstance(change.new, str):
                return change.new
        return None


@dataclass(frozen=True, slots=True)
class AffectedAgent:
    """An agent whose chain changes when its environment moves to the new catalog."""

    environment: str
    agent: str
    old_chain: tuple[str, ...]
    new_chain: tuple[str, ...]
    promoted: str = ""  # in a promoted environment: what it runs that NEW drops or retires


@dataclass(frozen=True, slots=True)
class CatalogDiff:
    """What changed between two snapshots; refs are `<provider>/<model id>`."""

    old_date: date
    new_date: date
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[OfferChange, ...]
    affected_agents: tuple[AffectedAgent, ...] = ()

    @property
    def newly_deprecated(self) -> tuple[OfferChange, ...]:
        return tuple(change for change in self.changed if change.retirement is not None)

    @property
    def has_differences(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.affected_agents)


def diff_catalogs(old: CatalogSpec, new: CatalogSpec) -> CatalogDiff:
    """Compare two snapshots offer by offer.

    Args:
        old: the snapshot in use.
        new: the candidate snapshot.

    Returns:
        Offers added, removed and changed (field by field), each sorted by (provider, id).

    Example:
        >>> empty = CatalogSpec(format="clawpolicy-catalog", version=1, date=date(2026, 1, 1),
        ...                     offers=())
        >>> diff_catalogs(empty, empty).has_differences
        False
    """
    before = {(o.provider, o.id): o for o in old.offers}
    after = {(o.provider, o.id): o for o in new.offers}
    changed = []
    for key in sorted(before.keys() & after.keys()):
        fields = _field_changes(before[key], old.date, after[key], new.date)
        if fields:
            changed.append(OfferChange(key[0], key[1], fields))
    return CatalogDiff(
        old_date=old.date,
        new_date=new.date,
        added=tuple(f"{p}/{i}" for p, i in sorted(after.keys() - before.keys())),
        removed=tuple(f"{p}/{i}" for p, i in sorted(before.keys() - after.keys())),
        changed=tuple(changed),
    )


def _flatten(offer: OfferSpec) -> dict[str, Value]:
    flat: dict[str, Value] = {}
    for name, value in offer.model_dump(by_alias=True, exclude={"provider", "id"}).items():
        if isinstance(value, Mapping):
            flat.update({f"{name}.{key}": inner for key, inner in value.items()})
        else:
            flat[name] = value
    return flat


def _field_changes(
    old: OfferSpec, old_date: date, new: OfferSpec, new_date: date
) -> tuple[FieldChange, ...]:
    before, after = _flatten(old), _flatten(new)
    before[RETIRED] = offer_from_spec(old, old_date).retired_reason()
    after[RETIRED] = offer_from_spec(new, new_date).retired_reason()
    names = [*before, *(name for name in after if name not in before)]
    return tuple(
        FieldChange(name, before.get(name), after.get(name))
        for name in names
        if before.get(name) != after.get(name)
    )


# --------------------------------------------------------------------------- reports


def format_value(value: Value) -> str:
    """A value as the text and markdown reports show it.

    Example:
        >>> format_value(Decimal("3.750")), format_value(None), format_value(("text", "image"))
        ('3.75', 'unknown', 'text+image')
    """
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "+".join(value)
    return str(value)


def _counts(diff: CatalogDiff) -> str:
    return (
        f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed, "
        f"{len(diff.newly_deprecated)} newly deprecated"
    )


def format_text(diff: CatalogDiff) -> str:
    """The terminal report: counts, then one line per offer and one per changed field."""
    span = f"{diff.old_date.isoformat()} -> {diff.new_date.isoformat()}"
    if not diff.has_differences:
        return f"catalog diff {span}: no differences\n"
    lines = [f"catalog diff {span}: {_counts(diff)}"]
    lines += _section("added", [f"  + {ref}" for ref in diff.added])
    lines += _section("removed", [f"  - {ref}" for ref in diff.removed])
    changed = []
    for change in diff.changed:
        changed.append(f"  ~ {change.ref}")
        changed += [
            f"      {f.field}: {format_value(f.old)} -> {format_value(f.new)}"
            for f in change.fields
        ]
    lines += _section("changed", changed, len(diff.changed))
    lines += _section(
        "newly deprecated", [f"  ! {c.ref}: {c.retirement}" for c in diff.newly_deprecated]
    )
    lines += _section("affected agents", [f"  * {line}" for line in _agent_lines(diff)])
    return "\n".join(lines) + "\n"


def _section(title: str, lines: list[str], count: int | None = None) -> list[str]:
    return [f"{title} ({len(lines) if count is None else count}):", *lines] if lines else []


def _agent_lines(diff: CatalogDiff) -> list[str]:
    return [
        f"{a.environment}/{a.agent} (promoted): runs {a.promoted}; changes only by promotion"
        if a.promoted
        else f"{a.environment}/{a.agent}: {', '.join(a.old_chain) or '-'} -> "
        f"{', '.join(a.new_chain) or '-'}"
        for a in diff.affected_agents
    ]


def format_markdown(diff: CatalogDiff, limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment: at most `limit` characters, ending "... and N more" when cut."""
    head = [f"### Catalog diff {diff.old_date.isoformat()} → {diff.new_date.isoformat()}", ""]
    if not diff.has_differences:
        return "\n".join([*head, "No differences."]) + "\n"
    rows = [f"| added | `{ref}` | | | |" for ref in diff.added]
    rows += [f"| removed | `{ref}` | | | |" for ref in diff.removed]
    rows += [
        f"| {'deprecated' if f.field == RETIRED else 'changed'} | `{c.ref}` | {f.field} | "
        f"{_cell(f.old)} | {_cell(f.new)} |"
        for c in diff.changed
        for f in c.fields
    ]
    rows += [f"| agent | `{line}` | | | |" for line in _agent_lines(diff)]
    table = ["| change | offer | field | old | new |", "|---|---|---|---|---|"]
    return _truncate([*head, f"**{_counts(diff)}**", "", *table], rows, limit)


def _cell(value: Value) -> str:
    return format_value(value).replace("|", "\\|")


def _truncate(head: list[str], rows: list[str], limit: int) -> str:
    text = "\n".join(head) + "\n"
    reserve = 40  # room for the "... and N more" line
    for index, row in enumerate(rows):
        if len(text) + len(row) + 1 + reserve > limit:
            return text + f"\n... and {len(rows) - index} more\n"
        text += row + "\n"
    return text


def to_payload(diff: CatalogDiff) -> dict[str, Any]:
    """The `catalog diff --format json` payload (docs/json.md): `changed` (exit 1 exactly
    then), the two dates, `offers` added / removed / updated (field by field) / retiring, and
    with `--root` the `environments` whose agents' chains move (in a promoted environment:
    `promoted` says what it runs that NEW drops or retires; its chain moves only by
    promotion)."""
    environments: dict[str, dict[str, Any]] = {}
    for agent in diff.affected_agents:
        entry = environments.setdefault(agent.environment, {"agents": []})
        entry["agents"].append(
            {
                "agent": agent.agent,
                "before": chain_json(agent.old_chain, None),
                "after": chain_json(agent.new_chain, None),
                "promoted": agent.promoted or None,
            }
        )
    return {
        "changed": diff.has_differences,
        "old_date": diff.old_date.isoformat(),
        "new_date": diff.new_date.isoformat(),
        "offers": {
            "added": list(diff.added),
            "removed": list(diff.removed),
            "updated": [
                {
                    "ref": c.ref,
                    "provider": c.provider,
                    "id": c.id,
                    "fields": {
                        f.field: {"old": _json(f.old), "new": _json(f.new)} for f in c.fields
                    },
                }
                for c in diff.changed
            ],
            "retiring": [{"ref": c.ref, "reason": c.retirement} for c in diff.newly_deprecated],
        },
        "environments": environments,
    }


def _json(value: Value) -> Any:
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value
