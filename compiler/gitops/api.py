"""The GitOps library API: `diff_project` and `promote_project`, built on `compiler.api`.

Both compile through `compiler.api` (in memory), then compare with the old side read by `gitref`
(`differ`) or move chains between environments (`promoter`) and write through the writer. Only
the GitOps commands import this module, so deepdiff and GitPython load only when they run.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..api import (
    CompileOptions,
    compile_project,
    dedupe,
    env_inputs,
    read_lock,
    render_env,
    select_environments,
)
from ..diagnostics import Diagnostic, Span, warning
from ..load.loader import load_project
from ..load.project import Project
from ..output import lockfile, writer
from ..output.writer import OutputFile, WriteReport, lock_path
from ..resolve.resolver import resolve
from . import differ, gitref, promoter
from .diffreport import DiffReport
from .promoter import Promotion


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
    git ref, or with a directory of live configs.

    Raises:
        CompileError: any compile error; PC401/PC402/PC403 from git; PC003 for a bad directory.
    """
    result = compile_project(CompileOptions(root=options.root, envs=options.envs, write=False))
    if options.against_dir is not None:
        baseline = gitref.read_directory(options.against_dir)
    else:
        baseline = gitref.read_rendered(options.root.resolve(), options.against)
    names = options.envs or tuple(sorted({*result.resolutions, *baseline.environments()}))
    new = _by_env(result.files)
    report = differ.diff_files(
        baseline.label, baseline.files, new, names, _agent_files(result.project)
    )
    return DiffReport(report.against, report.environments, baseline.notes)


@dataclass(frozen=True, slots=True)
class PromoteResult:
    promotion: Promotion
    diff: DiffReport
    report: WriteReport
    warnings: tuple[Diagnostic, ...]


def promote_project(
    root: Path, source: str, target: str, agents: tuple[str, ...] = ()
) -> PromoteResult:
    """Copy `source`'s locked chains into `target`'s lock, re-render `target`, write both files.

    Raises:
        CompileError: every chain that does not fit `target` (PC208), and any compile error of
            `target` with the promoted chains; nothing is written then.
    """
    root = root.resolve()
    project = load_project(root)
    from_env, to_env = (select_environments(project, (name,))[0] for name in (source, target))
    from_lock = read_lock(root, from_env.name)
    fresh = not from_lock.chains and from_env.spec.promote_from is None
    if fresh:  # a new repo: nothing compiled yet; promote what FROM resolves to now
        document = lockfile.build(resolve(project, from_env, {}), env_inputs(project, from_env))
        from_lock = lockfile.parse(lockfile.serialize(document), lock_path(from_env.name))
    plan = promoter.promote(
        project, (from_env, from_lock), (to_env, read_lock(root, to_env.name)), agents
    )
    resolution, files = render_env(project, to_env, plan.chains)
    rendered = root / "rendered"
    before = gitref.read_directory(rendered).files if rendered.is_dir() else {}
    diff = differ.diff_files(
        f"rendered/{to_env.name} before the promotion",
        before,
        _by_env(files),
        (to_env.name,),
        _agent_files(project),
    )
    found = [*project.warnings, *plan.warnings, *resolution.warnings]
    if fresh:
        message = f"rendered/{from_env.name} has no lock yet; promoted a fresh resolution of it"
        hint = f"hint: run clawpolicy compile to write rendered/{from_env.name} too"
        found.append(warning("PC305", message, Span(lock_path(from_env.name)), hint))
    elif from_lock.inputs != env_inputs(project, from_env):
        hint = f"hint: run clawpolicy compile --env {from_env.name} first, then promote"
        message = f"rendered/{from_env.name} is older than its policies; promoted what it holds"
        found.append(warning("PC305", message, Span(lock_path(from_env.name)), hint))
    report = writer.write(files, root)
    return PromoteResult(plan, diff, report, tuple(dedupe(found)))
