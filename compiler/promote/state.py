"""A promoted environment at compile time: what it runs (its committed openclaw.json and lock,
checked against each other) and what its next promotion would change (-> PendingPromotion).
Pure; the caller reads the files.

The committed files are the only source of what a promoted environment runs, so they must be
the files `promote` wrote: both present, the lock's sha256 of the config matching, every chain
of the lock the one the config runs, and the config passing the output checks. Anything else
is PC307 (or the output checks' own codes): a PR that edits them by hand fails.
"""

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from ..diagnostics import CompileError, Diagnostic, Span, error
from ..load.project import Environment, Project
from ..output import conformance, lockfile
from ..output.environment import render_env
from ..output.lockfile import Lock
from ..output.writer import config_path, lock_path
from ..resolve.resolver import DEFAULT_SLOTS, SLOTS
from . import pending as pending_mod
from . import promoter, running
from .pending import PendingPromotion, Side


def _edited(env: Environment, message: str, where: str, *notes: str) -> CompileError:
    hint = f"hint: run clawpolicy promote {env.spec.promote_from} {env.name} to write both again"
    note = "note: a promoted environment changes only through promote"
    return CompileError((error("PC307", message, Span(where), *notes, note, hint),))


def _model(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):  # a single ref (agents.defaults.utilityModel)
        return (value,)
    if not isinstance(value, dict):
        return None
    fallbacks = value.get("fallbacks", [])
    refs = (value.get("primary"), *(fallbacks if isinstance(fallbacks, list) else [None]))
    return tuple(refs) if all(isinstance(r, str) for r in refs) else None


def config_chains(config: Any) -> dict[str, tuple[str, ...] | None]:
    """Chain key -> the refs a parsed openclaw.json runs (None where the shape is wrong)."""
    agents: dict[str, Any] = {}
    if isinstance(config, dict) and isinstance(config.get("agents"), dict):
        agents = config["agents"]
    defaults = agents["defaults"] if isinstance(agents.get("defaults"), dict) else {}
    entries = agents["entries"] if isinstance(agents.get("entries"), dict) else {}
    found = {
        slot.key: _model(defaults[slot.config_key])
        for slot in DEFAULT_SLOTS
        if slot.config_key in defaults
    }
    found |= {
        str(agent): _model(entry.get("model") if isinstance(entry, dict) else None)
        for agent, entry in entries.items()
    }
    return found


def check_committed(
    env: Environment, config_text: str | None, lock_text: str | None
) -> tuple[Lock, Any]:
    """The committed lock and parsed config of a promoted environment, checked (see the module
    docstring); `(EMPTY, None)` when it was never promoted.

    Raises:
        CompileError: PC307 for files that are not what promote wrote, PC110 for a bad lock,
            PC403 for a config that is not JSON, the output checks' codes (PC304...).
    """
    config_at, lock_at = config_path(env.name), lock_path(env.name)
    if config_text is None and lock_text is None:
        return lockfile.EMPTY, None
    if config_text is None or lock_text is None:
        missing = config_at if config_text is None else lock_at
        raise _edited(env, f"{missing} is missing", missing)
    lock = lockfile.parse(lock_text, lock_at, env.name)
    # a checkout with CRLF line ends (git autocrlf) is still the file promote wrote
    if lock.version >= 2 and lock.rendered != lockfile.digest(config_text.replace("\r\n", "\n")):
        raise _edited(env, f"{config_at} was edited after clawpolicy promote wrote it", config_at)
    try:
        config = json.loads(config_text)
    except (ValueError, RecursionError):
        message = f"{config_at} is not JSON"
        raise CompileError((error("PC403", message, Span(config_at)),)) from None
    problems: list[Diagnostic] = list(conformance.check(config_text, config_at))
    runs = config_chains(config)
    locked = {k: v for k, v in lock.chains.items() if not k.startswith("@tier:")}
    for key in sorted({*runs, *locked}):
        if runs.get(key) != locked.get(key):
            problems.append(
                _edited(env, f"{lock_at} and {config_at} disagree on {key}", config_at).diagnostics[
                    0
                ]
            )
    if problems:
        raise CompileError(tuple(problems))
    return lock, config


def _moves_without_render(
    running_side: Side, plan: promoter.Promotion, target: Environment, misfit: Mapping[str, str]
) -> list[pending_mod.AgentMove]:
    """The chain moves of a promotion that cannot be rendered now: costs are unknown but for
    the chains it keeps as they run (those are no move at all)."""
    deployed = {*target.agent_ids, *SLOTS}
    chains = {k: v for k, v in plan.chains.items() if k in deployed or k.startswith("@tier:")}
    running_lock = running_side.lock
    costs = {
        k: c for k, c in running_lock.costs.items() if running_lock.chains.get(k) == chains.get(k)
    }
    upcoming = Side(Lock(target.name, chains, costs, {}), running_side.config)
    return pending_mod.agent_moves(running_side, upcoming, misfit)


def next_promotion(
    project: Project,
    source: tuple[Environment, Lock],
    target: Environment,
    running_side: Side,
    agents: tuple[str, ...] = (),
) -> PendingPromotion:
    """What `promote SOURCE TARGET` would change in `target`, which runs `running_side`."""
    source_env = source[0]
    pending = PendingPromotion(
        source_env.name,
        target.name,
        target.spans.get("promote_from", target.span),
        running_side.config is None,
        alerts=tuple(pending_mod.alerts(target, running_side.lock)),
    )
    misfit = promoter.misfits(project, target, running_side.lock)
    try:
        plan = promoter.plan(project, source, (target, running_side.lock), agents)
    except CompileError as exc:
        return dataclasses.replace(pending, failure=exc.diagnostics)
    moves = _moves_without_render(running_side, plan, target, misfit)
    if plan.problems:
        return dataclasses.replace(pending, agents=tuple(moves), failure=plan.problems)
    kept = kept_chains(target, running_side, plan)
    try:
        resolution, files = render_env(project, target, plan.chains, source_env.name, kept)
    except CompileError as exc:
        return dataclasses.replace(pending, agents=tuple(moves), failure=exc.diagnostics)
    upcoming = Side(lockfile.lock_of(resolution), json.loads(files[0].text))
    settings = []
    if running_side.config is not None:
        settings = pending_mod.setting_changes(running_side.config, upcoming.config)
    return dataclasses.replace(
        pending,
        agents=tuple(pending_mod.agent_moves(running_side, upcoming, misfit)),
        settings=tuple(settings),
        vendors_added=tuple(pending_mod.new_vendors(running_side.lock, resolution)),
    )


def kept_chains(
    target: Environment, running_side: Side, plan: promoter.Promotion
) -> tuple[frozenset[str], Mapping[str, Any]]:
    """What a promotion keeps as the target runs it: the chains it does not promote (not
    checked again: `--agent` promotes only what it names) and the offers of models the
    target's catalogs no longer have."""
    promoted = {p.key for p in plan.promoted}
    keys = frozenset(k for k in plan.chains if k not in promoted)
    return keys, running.dropped_offers(target, running_side.lock, running_side.config)
