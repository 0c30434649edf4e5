"""The library API: load -> resolve -> render -> check -> write. The only module that knows the
order of the stages. Commands in `cli.py` call these functions and print what they return.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import conformance, lockfile, renderer, writer
from .diagnostics import CompileError, Diagnostic, Severity, Span, error, raise_if_errors, warning
from .diffreport import DiffReport
from .loader import load_project
from .project import Environment, Project
from .resolver import Resolution, resolve
from .writer import OutputFile, WriteReport, lock_path

if TYPE_CHECKING:  # diff and promote import deepdiff and git lazily (STYLE 8.5)
    from .promoter import Promotion


@dataclass(frozen=True, slots=True)
class CompileOptions:
    root: Path = Path(".")
    envs: tuple[str, ...] = ()  # empty: every environment
    check: bool = False
    upgrade: bool = False  # True with no agents: re-resolve everything
    upgrade_agents: tuple[str, ...] = ()
    strict: bool = False  # warnings are errors
    write: bool = True  # False: compile in memory only (validate, diff, explain)


@dataclass(frozen=True, slots=True)
class CompileResult:
    project: Project
    resolutions: Mapping[str, Resolution]
    files: tuple[OutputFile, ...]
    report: WriteReport | None
    warnings: tuple[Diagnostic, ...] = field(default=())


def select_environments(project: Project, names: Iterable[str]) -> tuple[Environment, ...]:
    """The named environments (all when none are named).

    Raises:
        CompileError: PC108 for a name that is not an environment.
    """
    wanted = tuple(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in project.environments]
    if unknown:
        known = ", ".join(project.environments)
        raise CompileError(
            tuple(
                error(
                    "PC108", f"unknown environment '{name}'", None, f"note: environments: {known}"
                )
                for name in unknown
            )
        )
    return tuple(project.environments[n] for n in (wanted or project.environments))


def read_lock(root: Path, env: str) -> lockfile.Lock:
    path = root / lock_path(env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return lockfile.EMPTY
    return lockfile.parse(text, lock_path(env))


def locked_chains(
    lock: lockfile.Lock, env: Environment, options: CompileOptions
) -> dict[str, tuple[str, ...]]:
    """The lock's chains minus what `--upgrade` asks to re-resolve."""
    if env.spec.promote_from is not None:
        return dict(lock.chains)  # promoted environments never resolve on their own
    if options.upgrade and not options.upgrade_agents:
        return {}
    dropped = set(options.upgrade_agents)
    return {key: refs for key, refs in lock.chains.items() if key not in dropped}


def env_inputs(project: Project, env: Environment) -> dict[str, str]:
    """Digests of the files that decide this environment's output."""
    wanted = {"policies/tiers.yaml", env.path, *env.catalog_paths}
    return {
        path: digest
        for path, digest in project.input_digests.items()
        if path in wanted or path.startswith(("policies/teams/", "templates/"))
    }


def _check_upgrade_agents(project: Project, options: CompileOptions) -> None:
    unknown = [a for a in options.upgrade_agents if a not in project.agents]
    if unknown:
        raise CompileError(
            tuple(error("PC103", f"--upgrade names unknown agent '{a}'") for a in unknown)
        )


def _compile_env(
    project: Project, env: Environment, options: CompileOptions, root: Path
) -> tuple[Resolution, list[OutputFile]]:
    lock = read_lock(root, env.name)
    return render_env(project, env, locked_chains(lock, env, options))


def render_env(
    project: Project, env: Environment, locked: Mapping[str, tuple[str, ...]]
) -> tuple[Resolution, list[OutputFile]]:
    """Resolve `env` over `locked` chains, render and check it: its config and lock texts."""
    resolution = resolve(project, env, locked)
    rendered = renderer.render(project, resolution)
    raise_if_errors(conformance.check(rendered.text, rendered.relpath))
    lock_text = lockfile.serialize(lockfile.build(resolution, env_inputs(project, env)))
    return resolution, [
        OutputFile(rendered.relpath, rendered.text),
        OutputFile(lock_path(env.name), lock_text),
    ]


def _stale_outputs(project: Project, root: Path) -> list[Diagnostic]:
    rendered = root / "rendered"
    if not rendered.is_dir():
        return []
    return [
        warning(
            "PC305",
            f"rendered/{d.name}/ belongs to no environment",
            Span(f"rendered/{d.name}"),
            "hint: delete it, or add policies/environments/<env>.yaml back",
        )
        for d in sorted(rendered.iterdir())
        if d.is_dir() and d.name not in project.environments
    ]


def compile_project(options: CompileOptions) -> CompileResult:
    """Compile the policy repo at `options.root`; write outputs unless checking or in memory.

    Raises:
        CompileError: every error of the first failing stage; nothing is written.
    """
    root = options.root.resolve()
    project = load_project(root)
    _check_upgrade_agents(project, options)
    found: list[Diagnostic] = list(project.warnings)
    resolutions: dict[str, Resolution] = {}
    files: list[OutputFile] = []
    for env in select_environments(project, options.envs):
        try:
            resolution, outputs = _compile_env(project, env, options, root)
        except CompileError as exc:
            found.extend(exc.diagnostics)
            continue
        resolutions[env.name] = resolution
        files.extend(outputs)
        found.extend(resolution.warnings)
    found.extend(_stale_outputs(project, root))
    found = _dedupe(found)
    if options.strict:
        found = [_as_error(d) for d in found]
    raise_if_errors(found)
    warnings = tuple(d for d in found if d.severity is Severity.WARNING)
    report = writer.write(files, root, check=options.check) if options.write else None
    return CompileResult(project, resolutions, tuple(files), report, warnings)


def _dedupe(items: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(dict.fromkeys(items), key=Diagnostic.sort_key)


def _as_error(diag: Diagnostic) -> Diagnostic:
    if diag.severity is Severity.ERROR:
        return diag
    return Diagnostic(
        diag.code,
        Severity.ERROR,
        diag.message,
        diag.span,
        (*diag.notes, "note: an error because of --strict"),
    )


def validate_project(root: Path, strict: bool = False) -> CompileResult:
    """Load and resolve everything, write nothing."""
    return compile_project(CompileOptions(root=root, strict=strict, write=False))


# --------------------------------------------------------------------------- diff and promote


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


def diff_project(options: DiffOptions) -> "DiffReport":
    """Compare a fresh in-memory compile of the working tree with `rendered/` as committed at a
    git ref, or with a directory of live configs.

    Raises:
        CompileError: any compile error; PC401/PC402/PC403 from git; PC003 for a bad directory.
    """
    from . import differ, gitref  # noqa: PLC0415 (lazy: deepdiff and git, STYLE 8.5)

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
    promotion: "Promotion"
    diff: "DiffReport"
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
    from . import differ, gitref, promoter  # noqa: PLC0415 (lazy, as in diff_project)

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
    return PromoteResult(plan, diff, report, tuple(_dedupe(found)))
