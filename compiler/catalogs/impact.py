"""What a catalog move would change: the agents whose chain differs when an environment's
catalog OLD is replaced by NEW (`catalog diff OLD NEW --root DIR`). Computed by resolving.

An environment is moved when it lists a file with OLD's bytes (OLD itself, or a copy; a
promoted environment without catalogs of its own lists its source's). Both sides resolve as
`compile` would, keeping locked choices that still fit, so the answer is what the next compile
after the switch changes. A chain that NEW cannot satisfy at all is reported with an empty new
chain. A promoted environment never resolves: each of its agents that runs a model NEW drops
or retires is reported, marked as promoted (it changes only by its next promotion).
"""

import hashlib
from dataclasses import replace
from pathlib import Path

from .. import api
from ..load.catalog import Catalog, offer_from_spec
from ..load.loader import load_project
from ..load.project import Environment, Project
from ..load.repofiles import MAX_DATA_BYTES, read_bytes
from ..load.spec import CatalogSpec
from ..output.lockfile import Lock
from ..promote import pending
from ..resolve.resolver import agent_subject, resolve_subject
from .catalogdiff import AffectedAgent


def _listing_old(project: Project, env: Environment, old_digest: str) -> set[str]:
    """The environment's catalog files with OLD's bytes (the loader hashed every one already)."""
    return {p for p in env.catalog_paths if project.input_digests.get(p) == old_digest}


def _with_catalog(
    env: Environment, swapped: set[str], new: CatalogSpec, source: str
) -> Environment:
    """The environment with the offers of the `swapped` files replaced by NEW's."""
    kept = [o for o in env.catalog.offers if o.source not in swapped]
    added = [offer_from_spec(spec, new.date, source) for spec in new.offers]
    dates = {*(d for d in env.catalog.dates), new.date}
    return replace(env, catalog=Catalog.of([*kept, *added], dates))


def affected_agents(root: Path, old_path: Path, new: CatalogSpec) -> tuple[AffectedAgent, ...]:
    """Every (environment, agent) whose chain changes when the environment moves to NEW.

    Raises:
        CompileError: the policy repository does not load.
    """
    project = load_project(root.resolve())
    old_digest = hashlib.sha256(read_bytes(old_path, MAX_DATA_BYTES)).hexdigest()
    found: list[AffectedAgent] = []
    for env in project.environments.values():
        swapped = _listing_old(project, env, old_digest)
        if not swapped:
            continue  # does not use OLD
        moved = _with_catalog(env, swapped, new, str(old_path))
        if env.spec.promote_from is not None:
            found += _promoted(moved, api.read_lock(Path(project.root), env.name))
            continue
        locked = api.locked_chains(
            api.read_lock(Path(project.root), env.name), env, api.CompileOptions()
        )
        for agent_id in env.agent_ids:
            subject = agent_subject(project, env, project.agents[agent_id])
            if subject is None:
                continue
            before = resolve_subject(project, env, subject, locked).result
            after = resolve_subject(project, moved, subject, locked).result
            old_chain = before.refs if before else ()
            new_chain = after.refs if after else ()
            if old_chain != new_chain:
                found.append(AffectedAgent(env.name, agent_id, old_chain, new_chain))
    return tuple(sorted(found, key=lambda a: (a.environment, a.agent)))


def _promoted(moved: Environment, lock: Lock) -> list[AffectedAgent]:
    """Agents of a promoted environment that run a model the moved catalog drops or retires."""
    alerts = pending.alerts(moved, lock)
    found = []
    for agent, refs in lock.agent_chains().items():
        news = [f"{a.ref}, which {_verb(a.what)}" for a in alerts if agent in a.agents]
        if news:
            found.append(AffectedAgent(moved.name, agent, refs, refs, "; ".join(news)))
    return found


def _verb(what: str) -> str:
    if what.startswith("no longer offered"):
        return "the new catalog drops"
    return what if what.startswith("retires") else f"is {what}"
