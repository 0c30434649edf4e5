"""The library API: load -> resolve -> render -> check -> write. The only module that knows the
order of the stages. The commands in `compiler.cli` call these functions and print what they
return; the GitOps loop (diff, promote) builds on them in `compiler.gitops.api`.

An environment with `promote_from` is never resolved or rendered here: its committed files are
what it runs (checked by `compiler.promote.state`: a hand edit is PC307), and what the next
promotion would change is computed and reported as pending, never as an error.
"""

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import CompileError, Diagnostic, Severity, Span, error, raise_if_errors, warning
from .load import repofiles
from .load.loader import load_project
from .load.project import Environment, Project
from .output import lockfile, writer
from .output.environment import render_env
from .output.writer import OutputFile, WriteReport, config_path, lock_path
from .promote import pendingreport, promoter, state
from .promote.pending import PendingPromotion, Side
from .promote.running import running_resolution
from .resolve.resolver import REPLACED, WOULD_BE_REPLACED, Resolution


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
    pending: Mapping[str, PendingPromotion] = field(default_factory=dict)  # promoted envs


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


def read_committed(root: Path, relpath: str, code: str = "PC003") -> str | None:
    """A committed output's text as it is on disk (no newline translation), None if absent.

    Raises:
        CompileError: `code` when it cannot be read (a folder, a FIFO, not UTF-8, larger than
            MAX_DATA_BYTES, a symlink that leaves the repository).
    """
    try:
        return repofiles.read_text(root / relpath, repofiles.MAX_DATA_BYTES, root)
    except FileNotFoundError:
        return None
    except repofiles.FileProblem as exc:
        message = f"lock file {exc}" if code == "PC110" else str(exc)
        notes = ("hint: delete it and run clawpolicy compile --upgrade to re-resolve",)
        raise CompileError(
            (error(code, message, Span(relpath), *(notes if code == "PC110" else ())),)
        ) from None


def read_config(root: Path, env: str) -> object:
    """The committed openclaw.json of `env`, parsed; None when absent or not JSON."""
    text = read_committed(root, config_path(env))
    try:
        return None if text is None else json.loads(text)
    except (ValueError, RecursionError):
        return None


def read_lock(root: Path, env: str) -> lockfile.Lock:
    """`rendered/<env>/clawpolicy.lock.json` (the empty lock when there is none).

    Raises:
        CompileError: PC110 when it cannot be read (a folder, not UTF-8, too large, a symlink
            that leaves the repository) or is not a valid lock.
    """
    text = read_committed(root, lock_path(env), "PC110")
    return lockfile.EMPTY if text is None else lockfile.parse(text, lock_path(env), env)


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
    waiting: list[Diagnostic] = []  # pending promotions: warnings even with --strict
    resolutions: dict[str, Resolution] = {}
    files: list[OutputFile] = []
    pending: dict[str, PendingPromotion] = {}
    selected = select_environments(project, options.envs)
    for env in _sources_first(project, selected):
        resolution: Resolution | None
        try:
            if env.spec.promote_from is None:
                resolution, outputs = _compile_env(project, env, options, root)
                found.extend(resolution.warnings if env in selected else ())
            else:
                sources = {name: lockfile.lock_of(r) for name, r in resolutions.items()}
                state = _promoted_env(project, env, root, sources)
                resolution, outputs, pending[env.name] = state
                waiting.extend(pendingreport.diagnostics(pending[env.name]))
                if resolution is not None and env in selected:  # live, not pending
                    found.extend(promoter.over_budget(project, resolution))
        except CompileError as exc:
            found.extend(exc.diagnostics if env in selected else ())
            continue
        if resolution is not None:
            resolutions[env.name] = resolution
        files.extend(outputs if env in selected else ())
    kept = [e.name for e in selected]
    resolutions = {
        n: resolutions[n] for n in project.environments if n in kept and n in resolutions
    }
    pending = {name: pending[name] for name in project.environments if name in pending}
    found.extend(_stale_outputs(project, root))
    found = dedupe(found)
    if options.check or not options.write:
        found = [_as_dry_run(d) for d in found]
    if options.strict:
        found = [_as_error(d) for d in found]
    raise_if_errors(found)
    warnings = tuple(dedupe([d for d in found if d.severity is Severity.WARNING] + waiting))
    writing = options.write and not options.check
    report = writer.write(files, root, options.check, locked=writing) if options.write else None
    return CompileResult(project, resolutions, tuple(files), report, warnings, pending)


def _sources_first(project: Project, envs: Iterable[Environment]) -> list[Environment]:
    """`envs` and the environments they promote from (compiled in memory only, so a pending
    promotion is the same whichever environments are selected), sources first (the loader
    refused promote_from cycles)."""
    wanted: dict[str, int] = {}
    for env in envs:
        chain = [env.name]
        while (source := project.environments[chain[-1]].spec.promote_from) is not None:
            if source in chain or len(chain) > len(project.environments):
                break
            chain.append(source)
        for depth, name in enumerate(reversed(chain)):
            wanted[name] = max(wanted.get(name, 0), depth)
    return [project.environments[n] for n in sorted(wanted, key=lambda n: (wanted[n], n))]


# --------------------------------------------------------------------------- promoted


def _promoted_env(
    project: Project, env: Environment, root: Path, sources: Mapping[str, lockfile.Lock]
) -> tuple[Resolution | None, list[OutputFile], PendingPromotion]:
    """A promoted environment as committed (its files are never written by compile), and
    what its next promotion would change."""
    config_text = read_committed(root, config_path(env.name))
    lock_text = read_committed(root, lock_path(env.name), "PC110")
    lock, config = state.check_committed(env, config_text, lock_text)
    source = str(env.spec.promote_from)
    source_lock = sources.get(source) or read_lock(root, source)
    running = Side(lock, config)
    upcoming = state.next_promotion(
        project, (project.environments[source], source_lock), env, running
    )
    if config_text is None or lock_text is None:
        return None, [], upcoming
    files = [
        OutputFile(config_path(env.name), config_text),
        OutputFile(lock_path(env.name), lock_text),
    ]
    return running_resolution(project, env, lock, config), files, upcoming


def dedupe(items: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(dict.fromkeys(items), key=Diagnostic.sort_key)


def _as_dry_run(diag: Diagnostic) -> Diagnostic:
    """Nothing is written: a replaced locked choice *would be* replaced."""
    if diag.code != "PC207":
        return diag
    return dataclasses.replace(diag, message=diag.message.replace(REPLACED, WOULD_BE_REPLACED))


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
