"""The GitOps library API: `diff_project` and `promote_project`, built on `compiler.api`.

Both compile through `compiler.api` (in memory), then compare with the old side read by `gitref`
(`differ`) or move chains between environments (`promoter`) and write through the writer. Only
the GitOps commands import this module, so deepdiff and GitPython load only when they run.
"""

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..api import (
    CompileOptions,
    compile_project,
    dedupe,
    read_committed,
    read_lock,
    select_environments,
)
from ..diagnostics import Diagnostic, Span, raise_if_errors, warning
from ..load.loader import load_project
from ..load.project import Environment, Project
from ..output import lockfile, writer
from ..output.environment import env_inputs, render_env
from ..output.lockfile import Lock
from ..output.writer import OutputFile, WriteReport, config_path, lock_path
from ..promote import promoter
from ..promote.pending import PendingPromotion, Side
from ..promote.promoter import Promotion
from ..promote.state import check_committed, kept_chains, next_promotion
from ..resolve.resolver import resolve
from . import differ, gitref
from .causes import NewSide
from .diffreport import DiffReport


@dataclass(frozen=True, slots=True)
class DiffOptions:
    root: Path = Path(".")
    envs: tuple[str, ...] = ()  # empty: every environment of the working tree or the old side
    against: str | None = None  # git ref; None: merge-base of HEAD and origin/main, else HEAD
    against_dir: Path | None = None  # live configs: DIR/<env>/openclaw.json or DIR/<env>.json


def _agent_files(project: Project) -> dict[str, str]:
    return {agent.id: agent.span.path for agent in project.agents.values()}


def _by_env(files: Iterable[OutputFile]) -> dict[str, str]:
    return {f.relpath.removeprefix("rendered/"): f.text for f in files}


def diff_project(options: DiffOptions) -> DiffReport:
    """Compare a fresh in-memory compile of the working tree with `rendered/` as committed at a
    git ref, or with a directory of live configs; promoted environments bring their pending
    promotion along.

    Raises:
        CompileError: any compile error; PC401/PC402/PC403 from git; PC003 for a bad directory.
    """
    result = compile_project(CompileOptions(root=options.root, envs=options.envs, write=False))
    if options.against_dir is not None:
        baseline = gitref.read_directory(options.against_dir)
    else:
        baseline = gitref.read_rendered(options.root.resolve(), options.against)
    found = {*result.resolutions, *result.pending, *baseline.environments()}
    names = options.envs or tuple(sorted(found))
    new = _by_env(result.files)
    sides = {
        name: NewSide.of(result.resolutions.get(name), result.pending.get(name))
        for name in {*result.resolutions, *result.pending}
    }
    report = differ.diff_files(
        baseline.label, baseline.files, new, names, _agent_files(result.project), sides
    )
    pending = tuple(result.pending[name] for name in names if name in result.pending)
    # a promoted environment new in the working tree and not promoted yet has no files on
    # either side: it is still an environment this change adds
    environments = tuple(
        dataclasses.replace(e, status="added")
        if e.status == "unchanged"
        and e.environment not in baseline.environments()
        and e.environment in result.pending
        and result.pending[e.environment].never_promoted
        else e
        for e in report.environments
    )
    return DiffReport(report.against, environments, baseline.notes, pending)


@dataclass(frozen=True, slots=True)
class PromoteResult:
    promotion: Promotion
    diff: DiffReport
    report: WriteReport
    warnings: tuple[Diagnostic, ...]


def _source_lock(project: Project, root: Path, env: Environment) -> tuple[Lock, list[Diagnostic]]:
    """FROM's lock as committed (what FROM runs and what was reviewed), with a warning when it
    is older than FROM's policies; a fresh resolution when FROM has never been compiled."""
    lock = read_lock(root, env.name)
    if not lock.chains and env.spec.promote_from is None:  # a new repo: nothing compiled yet
        message = f"rendered/{env.name} has no lock yet; promoted a fresh resolution of it"
        hint = f"hint: run clawpolicy compile to write rendered/{env.name} too"
        fresh = lockfile.lock_of(resolve(project, env, {}))
        return fresh, [warning("PC305", message, Span(lock_path(env.name)), hint)]
    if lock.inputs and lock.inputs != env_inputs(project, env):
        hint = f"hint: run clawpolicy compile --env {env.name} first, then promote"
        message = f"rendered/{env.name} is older than its policies; promoted what it holds"
        return lock, [warning("PC305", message, Span(lock_path(env.name)), hint)]
    return lock, []


def _environments(project: Project, source: str, target: str) -> tuple[Environment, Environment]:
    found = select_environments(project, (source, target))
    return (found[0], found[-1])


def _target_state(root: Path, env: Environment) -> Side:
    """What TO runs now, from its committed files (checked as compile checks them)."""
    config_text = read_committed(root, config_path(env.name))
    lock_text = read_committed(root, lock_path(env.name), "PC110")
    if env.spec.promote_from is None:  # not a promoted environment: its lock is enough
        return Side(read_lock(root, env.name), None)
    lock, config = check_committed(env, config_text, lock_text)
    return Side(lock, config)


def promote_project(
    root: Path, source: str, target: str, agents: tuple[str, ...] = ()
) -> PromoteResult:
    """Copy `source`'s locked chains into `target`'s lock, re-render `target`, write both files.
    Chains TO keeps (not promoted now: `agents` names others, or FROM lacks them) are kept as
    TO runs them, without being checked again.

    Raises:
        CompileError: every promoted chain that does not fit `target` (PC208), and any compile
            error of `target` with the promoted chains; nothing is written then.
    """
    root = root.resolve()
    project = load_project(root)
    from_env, to_env = _environments(project, source, target)
    from_lock, found = _source_lock(project, root, from_env)
    running = _target_state(root, to_env)
    plan = promoter.promote(project, (from_env, from_lock), (to_env, running.lock), agents)
    # only an environment that promotes from FROM keeps the mark: any other resolves again
    marked = from_env.name if to_env.spec.promote_from == from_env.name else None
    kept = kept_chains(to_env, running, plan)
    resolution, files = render_env(project, to_env, plan.chains, marked, kept)
    rendered = root / "rendered"
    before = gitref.read_directory(rendered).files if rendered.is_dir() else {}
    diff = differ.diff_files(
        f"rendered/{to_env.name} before the promotion",
        before,
        _by_env(files),
        (to_env.name,),
        _agent_files(project),
        {to_env.name: NewSide.of(resolution)},
    )
    found = [*project.warnings, *found, *plan.warnings, *resolution.warnings]
    report = writer.write(files, root)
    return PromoteResult(plan, diff, report, tuple(dedupe(found)))


@dataclass(frozen=True, slots=True)
class PromoteCheck:
    pending: PendingPromotion
    warnings: tuple[Diagnostic, ...]


def check_promotion(
    root: Path, source: str, target: str, agents: tuple[str, ...] = ()
) -> PromoteCheck:
    """What `promote source target` would change in `target`; writes nothing.

    Raises:
        CompileError: the promotion cannot be done (the errors `promote` would give).
    """
    root = root.resolve()
    project = load_project(root)
    from_env, to_env = _environments(project, source, target)
    from_lock, found = _source_lock(project, root, from_env)
    running = _target_state(root, to_env)
    pending = next_promotion(project, (from_env, from_lock), to_env, running, agents)
    raise_if_errors(pending.failure)
    return PromoteCheck(pending, tuple(dedupe([*project.warnings, *found])))
