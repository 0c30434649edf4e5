"""The library API: load -> resolve -> render -> check -> write. The only module that knows the
order of the stages. The commands in `compiler.cli` call these functions and print what they
return; the GitOps loop (diff, promote) builds on them in `compiler.gitops.api`.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import CompileError, Diagnostic, Severity, Span, error, raise_if_errors, warning
from .load import repofiles
from .load.loader import load_project
from .load.project import Environment, Project
from .output import conformance, lockfile, renderer, writer
from .output.writer import OutputFile, WriteReport, lock_path
from .resolve.resolver import Resolution, resolve


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
    """`rendered/<env>/clawpolicy.lock.json` (the empty lock when there is none).

    Raises:
        CompileError: PC110 when it cannot be read (a folder, not UTF-8, too large, a symlink
            that leaves the repository) or is not a valid lock.
    """
    try:
        text = repofiles.read_text(root / lock_path(env), repofiles.MAX_DATA_BYTES, root)
    except FileNotFoundError:
        return lockfile.EMPTY
    except repofiles.FileProblem as exc:
        hint = "hint: delete it and run clawpolicy compile --upgrade to re-resolve"
        raise CompileError(
            (error("PC110", f"lock file {exc}", Span(lock_path(env)), hint),)
        ) from None
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
        if d.is_dir() and d.name not in project.environments and not d.name.startswith(".")
    ]


def compile_project(options: CompileOptions) -> CompileResult:
    """Compile the policy repo at `options.root`; write outputs unless checking or in memory.

    A writing compile holds the repository's write lock from before it reads the lock files
    until its outputs are in place, so a concurrent compile or promote is refused (PC309).

    Raises:
        CompileError: every error of the first failing stage; nothing is written.
    """
    root = options.root.resolve()
    if not options.write or options.check or not root.is_dir():
        return _compile(options, root)
    with writer.write_lock(root):
        return _compile(options, root)


def _compile(options: CompileOptions, root: Path) -> CompileResult:
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
    found = dedupe(found)
    if options.strict:
        found = [_as_error(d) for d in found]
    raise_if_errors(found)
    warnings = tuple(d for d in found if d.severity is Severity.WARNING)
    writing = options.write and not options.check
    report = writer.write(files, root, options.check, locked=writing) if options.write else None
    return CompileResult(project, resolutions, tuple(files), report, warnings)


def dedupe(items: list[Diagnostic]) -> list[Diagnostic]:
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
