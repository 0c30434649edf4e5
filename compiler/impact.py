"""What a catalog move would change: the agents whose chain differs when an environment's
catalog OLD is replaced by NEW (`catalog diff OLD NEW --root DIR`). Computed by resolving.

An environment is moved when it lists OLD (the same file, or a file with the same bytes).
Both sides resolve as `compile` would, keeping locked choices that still fit, so the answer
is what the next compile after the switch changes. A chain that NEW cannot satisfy at all is
reported with an empty new chain.
"""

import hashlib
from dataclasses import replace
from pathlib import Path

from . import api
from .catalog import Catalog, offer_from_spec
from .catalogdiff import AffectedAgent
from .loader import load_project
from .project import Environment, Project
from .resolver import agent_subject, resolve_subject
from .spec import CatalogSpec


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _moved_environments(project: Project, old_path: Path) -> list[Environment]:
    """Environments that list OLD, by path or by content."""
    root = Path(project.root)
    wanted = _digest(old_path)
    found = []
    for env in project.environments.values():
        if env.spec.promote_from is not None:
            continue  # promoted environments never resolve on their own
        for relpath in env.catalog_paths:
            listed = root / relpath
            if listed.resolve() == old_path.resolve() or _digest(listed) == wanted:
                found.append(env)
                break
    return found


def _with_catalog(env: Environment, old_path: Path, new: CatalogSpec, root: Path) -> Environment:
    """The environment with OLD's offers swapped for NEW's."""
    wanted = _digest(old_path)
    swapped = {p for p in env.catalog_paths if _digest(root / p) == wanted}
    kept = [o for o in env.catalog.offers if o.source not in swapped]
    added = [offer_from_spec(spec, new.date, str(old_path)) for spec in new.offers]
    dates = {*(d for d in env.catalog.dates), new.date}
    return replace(env, catalog=Catalog.of([*kept, *added], dates))


def affected_agents(root: Path, old_path: Path, new: CatalogSpec) -> tuple[AffectedAgent, ...]:
    """Every (environment, agent) whose chain changes when the environment moves to NEW.

    Raises:
        CompileError: the policy repository does not load.
    """
    project = load_project(root.resolve())
    found: list[AffectedAgent] = []
    for env in _moved_environments(project, old_path):
        moved = _with_catalog(env, old_path, new, Path(project.root))
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
