"""Stage 5: compare rendered outputs, old side (git REF, live directory) against new (a fresh
compile), into a DiffReport (formatted by `diffreport`). Pure; the only deepdiff user.

The report leads with one `ChainChange` per agent whose chain or estimated monthly cost moved
(before -> after, with the cause read from the lock files' input digests: policy, catalog or
both), then per-environment totals and providers added/removed, then every field-level change
of `openclaw.json` as an RFC 6901 JSON pointer. Lists are compared by position, except models
(matched by `id`) and set-like string lists such as `modelPolicy.allow` (items added/removed).
Nothing outside this module sees a DeepDiff object.
"""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import pairwise
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import CannotCompare

from ..diagnostics import CompileError, Span, error
from ..output import lockfile
from ..output.writer import CONFIG_NAME, LOCK_NAME
from ..resolve.resolver import DEFAULT_SLOTS
from . import causes
from .causes import NewSide
from .diffreport import (
    ChainChange,
    Change,
    DiffReport,
    EnvDiff,
    Side,
)

_KINDS = {"dictionary_item_added": "added", "iterable_item_added": "added"}
_KINDS |= {"dictionary_item_removed": "removed", "iterable_item_removed": "removed"}
_STATUS_ORDER = {"changed": 0, "added": 1, "removed": 2}
_KIND_ORDER = {"changed": 0, "removed": 1, "added": 2}
ORDERED_LISTS = frozenset({"fallbacks"})  # position is priority even when sorted


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


def is_set_like(items: Any) -> bool:
    """A list of distinct strings in sorted order: its positions carry no meaning.

    Example:
        >>> is_set_like(["p/a", "p/b"]), is_set_like([]), is_set_like(["p/b", "p/a"])
        (True, True, False)
        >>> is_set_like(["x", "x"]), is_set_like([1, 2])
        (False, False)
    """
    return (
        isinstance(items, list)
        and all(isinstance(item, str) for item in items)
        and all(a < b for a, b in pairwise(items))
    )


def _matcher() -> Callable[[Any, Any, Any], bool]:
    """DeepDiff's `iterable_compare_func` for one diff: models under a provider match by `id`;
    strings of a list that is set-like on both sides (and not a `fallbacks` list) match by
    value, so removing one allowed ref does not shift the others; anything else by position."""
    set_like: dict[tuple[int, int], bool] = {}  # by the ids of the two lists (alive all diff)

    def same(first: Any, second: Any, level: Any = None) -> bool:
        if (
            isinstance(first, dict)
            and isinstance(second, dict)
            and "id" in first
            and "id" in second
        ):
            return bool(first["id"] == second["id"])
        if isinstance(first, str) and isinstance(second, str) and level is not None:
            key = (id(level.t1), id(level.t2))
            if key not in set_like:
                path = level.path(output_format="list")
                set_like[key] = (
                    not (path and path[-1] in ORDERED_LISTS)
                    and is_set_like(level.t1)
                    and is_set_like(level.t2)
                )
            if set_like[key]:
                return first == second
        raise CannotCompare() from None

    return same


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


def _sort_key(change: Change) -> tuple[tuple[tuple[int, int | str], ...], int]:
    parts = change.pointer.split("/")[1:]
    pointer = tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)
    return pointer, _KIND_ORDER[change.kind]


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
    models under a provider are matched by `id`, so adding one does not shift the others; a
    list of distinct strings sorted on both sides (`modelPolicy.allow`) is a set: each item
    added or removed, at its index in the new or old list. `fallbacks` lists are always
    compared by position.

    Example:
        >>> changes = diff({"a": [1, 2]}, {"a": [2, 1], "b/c": 0})
        >>> [(c.kind, c.pointer, c.old, c.new) for c in changes]
        [('changed', '/a/0', 1, 2), ('changed', '/a/1', 2, 1), ('added', '/b~1c', None, 0)]
        >>> [(c.kind, c.pointer, c.old, c.new) for c in diff({"s": ["a", "b"]}, {"s": ["b"]})]
        [('removed', '/s/0', 'a', None)]
    """
    old, new = _prune(old, new)
    found = DeepDiff(
        old,
        new,
        view="tree",
        ignore_order=False,
        threshold_to_diff_deeper=0,
        iterable_compare_func=_matcher(),
        report_repetition=True,  # else an item removed and one added at one index merge
    )
    changes = []
    for report_type, levels in found.items():
        if report_type == "iterable_item_moved":
            continue  # matched by id or value: position carries no meaning in those lists
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
        except (ValueError, RecursionError):
            config = None
        problem = "is not a JSON object" if not isinstance(config, dict) else _shape_problem(config)
        if problem:
            raise CompileError((error("PC403", f"{where}/{CONFIG_NAME} {problem}", Span(where)),))
    lock = None if lock_text is None else lockfile.parse(lock_text, f"{where}/{LOCK_NAME}")
    return Side(config, lock)


def _shape_problem(config: Mapping[str, Any]) -> str | None:
    """What in an old-side config has a shape the comparison cannot read, or None."""
    agents, models = _object(config, "agents"), _object(config, "models")
    for name, value in (("agents", agents), ("models", models)):
        if not isinstance(value, dict):
            return f"has {name} that is not an object"
    parts = (("defaults", agents), ("entries", agents), ("providers", models))
    for name, parent in parts:
        if not isinstance(_object(parent, name), dict):
            return f"has {'agents' if parent is agents else 'models'}.{name} that is not an object"
    for key, entry in _entries(config).items():
        problem = _model_problem(entry.get("model"))
        if problem:
            return f"has a model of {key} that {problem}"
    return None


def _object(parent: Mapping[str, Any], key: str) -> Any:
    """`parent[key]`, with null or absent read as an empty object (as the readers below do)."""
    value = parent.get(key)
    return {} if value is None else value


def _model_problem(model: Any) -> str | None:
    if model is None or isinstance(model, str):
        return None
    if not isinstance(model, dict):
        return "is neither a ref nor an object"
    fallbacks = model.get("fallbacks")
    fallbacks = [] if fallbacks is None else fallbacks
    if not isinstance(fallbacks, list) or not all(isinstance(f, str) for f in fallbacks):
        return "has fallbacks that are not a list of refs"
    if not isinstance(model.get("primary", ""), str | None):
        return "has a primary that is not a ref"
    return None


def _model_refs(model: Any) -> tuple[str, ...]:
    if isinstance(model, str):
        return (model,)
    if isinstance(model, dict):
        fallbacks = model.get("fallbacks") or []
        return tuple(str(r) for r in (model.get("primary"), *fallbacks) if r is not None)
    return ()


def _entries(config: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """Agent entries by id, plus `@default`, `@image`, ... holding the default models."""
    agents = (config or {}).get("agents") or {}
    defaults = agents.get("defaults") or {}
    found: dict[str, Mapping[str, Any]] = {
        slot.key: {"model": defaults[slot.config_key]}
        for slot in DEFAULT_SLOTS
        if slot.config_key in defaults
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


def _moved_inputs(old: Side, new: Side) -> frozenset[str] | None:
    """The inputs whose digests differ between the two locks (None: a side has no lock)."""
    if old.lock is None or new.lock is None:
        return None
    before, after = old.lock.inputs, new.lock.inputs
    return frozenset(p for p in {*before, *after} if before.get(p) != after.get(p))


def _cause(moved: frozenset[str] | None, own_file: str | None) -> str:
    """What moved a chain, from the inputs that moved (`_moved_inputs`)."""
    if moved is None:
        return "unknown"
    catalog = any(_is_catalog(p) for p in moved)
    policy = any(
        not _is_catalog(p)
        and (own_file is None or p == own_file or not p.startswith("policies/teams/"))
        for p in moved
    )
    return {(True, True): "both", (True, False): "policy", (False, True): "catalog"}.get(
        (policy, catalog), "re-resolved"
    )


_COARSE = {
    "policy": "policy change",
    "catalog": "catalog change",
    "both": "policy and catalog change",
    "re-resolved": "re-resolved (no input changed: compile --upgrade)",
    "unknown": "unknown (a side has no lock)",
}


def _change(
    key: str,
    sides: tuple[Side, Side],
    entries: tuple[Mapping[str, Any], Mapping[str, Any]],
    coarse: str,
    new_side: NewSide,
    costs: tuple[Decimal | None, Decimal | None],
) -> ChainChange:
    """One agent's ChainChange with its causes and moves in words."""
    (old, new), (old_entry, new_entry) = sides, entries
    status = "changed" if old_entry and new_entry else "removed" if old_entry else "added"
    refs = (_model_refs(old_entry.get("model")), _model_refs(new_entry.get("model")))
    if status == "changed":
        why = causes.causes(key, (old.lock, new.lock), (old.config, new.config), refs, new_side)
        why = why or (_COARSE.get(coarse, coarse),)
    else:
        why = ("new in this environment",) if status == "added" else ("no longer deployed",)
    settings = {*old_entry, *new_entry} - {"model"} if status == "changed" else set()
    return ChainChange(
        key,
        status,
        refs[0],
        refs[1],
        *costs,
        coarse,
        tuple(sorted(k for k in settings if old_entry.get(k) != new_entry.get(k))),
        why,
        causes.chain_moves(*refs),
    )


def _chain_changes(
    old: Side, new: Side, sources: Mapping[str, str], new_side: NewSide
) -> list[ChainChange]:
    """Agents whose entry, chain or estimated cost differs (costs only when both sides have a
    lock: live configs have no estimate)."""
    before, after = _entries(old.config), _entries(new.config)
    old_costs, new_costs = _costs(old.lock), _costs(new.lock)
    compare_costs = old.lock is not None and new.lock is not None
    moved = _moved_inputs(old, new)
    found = []
    for key in {*before, *after}:
        old_entry, new_entry = before.get(key, {}), after.get(key, {})
        same = old_entry == new_entry and (
            not compare_costs or old_costs.get(key) == new_costs.get(key)
        )
        if key in before and key in after and same:
            continue
        coarse = _cause(moved, sources.get(key)) if old.exists and new.exists else "policy"
        costs = (old_costs.get(key), new_costs.get(key))
        found.append(_change(key, (old, new), (old_entry, new_entry), coarse, new_side, costs))
    return sorted(found, key=lambda c: (_STATUS_ORDER[c.status], c.key.startswith("@"), c.key))


def _vendor(ref: str, lock: lockfile.Lock | None) -> str:
    model = lock.models.get(ref) if lock is not None else None
    return model.vendor if model is not None else ref.partition("/")[2].partition("/")[0]


def new_vendors(old: Side, new: Side) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Vendors the new side runs that the old side does not, each with the agents using them."""
    seen = {_vendor(r, old.lock) for e in _entries(old.config).values() for r in _refs(e)}
    users: dict[str, list[str]] = {}
    for key, entry in sorted(_entries(new.config).items()):
        for vendor in dict.fromkeys(_vendor(r, new.lock) for r in _refs(entry)):
            if vendor not in seen:
                users.setdefault(vendor, []).append(key)
    return tuple((vendor, tuple(agents)) for vendor, agents in sorted(users.items()))


def _refs(entry: Mapping[str, Any]) -> tuple[str, ...]:
    return _model_refs(entry.get("model"))


def _total(side: Side) -> Decimal | None:
    return None if side.lock is None else sum(_costs(side.lock).values(), Decimal(0))


def diff_environment(
    name: str, old: Side, new: Side, sources: Mapping[str, str], new_side: NewSide | None = None
) -> EnvDiff:
    """Compare one environment's two sides; `sources` maps agent ids to their team file,
    `new_side` is what the fresh compile knows beyond the files (for the causes)."""
    if not old.exists and not new.exists:
        return EnvDiff(name, "unchanged", (), (), (), None, None, (), "")
    changes: tuple[Change, ...] = ()
    if old.config is not None and new.config is not None:
        changes = diff(old.config, new.config)
    elif old.config is not None or new.config is not None:
        kind = "removed" if new.config is None else "added"
        changes = (Change(kind, "", old.config, new.config),)
    agents = tuple(_chain_changes(old, new, sources, new_side or NewSide()))
    old_providers, new_providers = _providers(old.config), _providers(new.config)
    status = "added" if not old.exists else "removed" if not new.exists else "unchanged"
    if status == "unchanged" and (changes or agents):
        status = "changed"
    cause = _cause(_moved_inputs(old, new), None) if status == "changed" else ""
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
        new_vendors(old, new) if old.exists else (),
    )


def diff_files(
    against: str,
    old_files: Mapping[str, str],
    new_files: Mapping[str, str],
    envs: Sequence[str],
    sources: Mapping[str, str],
    new_sides: Mapping[str, NewSide] | None = None,
) -> DiffReport:
    """Compare rendered files keyed `<env>/openclaw.json` and `<env>/clawpolicy.lock.json`.

    Args:
        against: what the old side is, for the report's title.
        old_files: the old side's texts (from gitref).
        new_files: the new side's texts (a fresh compile).
        envs: environments to compare, in report order.
        sources: agent id -> the policy file that declares it (narrows the cause).
        new_sides: per environment, what the fresh compile knows beyond its files.
    """
    found = []
    for name in envs:
        sides = [
            parse_side(files.get(f"{name}/{CONFIG_NAME}"), files.get(f"{name}/{LOCK_NAME}"), where)
            for files, where in ((old_files, f"{against}:{name}"), (new_files, f"rendered/{name}"))
        ]
        new_side = (new_sides or {}).get(name)
        found.append(diff_environment(name, sides[0], sides[1], sources, new_side))
    return DiffReport(against, tuple(found))
