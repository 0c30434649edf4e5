"""The library API: load -> resolve -> render -> check -> write. The only module that knows the
order of the stages. The commands in `compiler.cli` call these functions and print what they
return; the GitOps loop (diff, promote) builds on them in `compiler.gitops.api`.

An environment with `promote_from` is never resolved or rendered here: its committed files are
what it runs (checked by `compiler.promote.state`: a hand edit is PC307), and what the next
promotion would change is computed and reported as pending, never as an error.
"""

import gc
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from .diagnostics import CompileError, Diagnostic, Severity, Span, error, warning
from .load import repofiles
from .load.loader import load_project
from .load.project import Environment, Project
from .output import incremental, lockfile, writer
from .output.environment import render_env
from .output.incremental import (
    ChainSummary,
    CompileSummary,
    EnvironmentSummary,
    Mode,
    Outcome,
    Record,
    dedupe,
)
from .output.writer import OutputFile, WriteReport, config_path, lock_path
from .promote import pendingreport, promoter, state
from .promote.pending import PendingPromotion, Side
from .promote.running import running_resolution
from .resolve.resolver import Resolution

__all__ = ["CompileOptions", "CompileResult", "compile_project", "dedupe", "validate_project"]
# A compile allocates millions of long-lived objects and little cyclic garbage: with CPython's
# default thresholds (700, 10, 10) the collector re-scans the whole heap dozens of times, about
# 60 % of the CPU time at 10,000 agents. mypy raises them for the same reason.
COLLECTOR_THRESHOLDS = (50_000, 50, 50)


@dataclass(frozen=True, slots=True)
class CompileOptions:
    root: Path = Path(".")
    envs: tuple[str, ...] = ()  # empty: every environment
    check: bool = False
    upgrade: bool = False  # True with no agents: re-resolve everything
    upgrade_agents: tuple[str, ...] = ()
    strict: bool = False  # warnings are errors
    write: bool = True  # False: compile in memory only (validate, diff, explain)
    incremental: bool = False  # keep a record of this compile for the next (compile, validate)

    @property
    def mode(self) -> Mode:
        return Mode(self.envs, self.check, self.write, self.strict)


@dataclass(frozen=True, slots=True)
class CompileResult:
    project: Project
    resolutions: Mapping[str, Resolution]
    files: tuple[OutputFile, ...]
    report: WriteReport | None
    warnings: tuple[Diagnostic, ...] = field(default=())
    pending: Mapping[str, PendingPromotion] = field(default_factory=dict)  # promoted envs
    summary: CompileSummary = field(default=CompileSummary(0, 0, {}))

    def outcome(self) -> Outcome:
        return Outcome(self.summary, self.report, self.warnings)


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


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """The cyclic garbage collector at COLLECTOR_THRESHOLDS while compiling, then as it was."""
    before = gc.get_threshold()
    gc.set_threshold(
        *(max(mine, theirs) for mine, theirs in zip(COLLECTOR_THRESHOLDS, before, strict=True))
    )
    try:
        yield
    finally:
        gc.set_threshold(*before)


def compile_project(options: CompileOptions) -> CompileResult:
    """Compile the policy repo at `options.root`; write outputs unless checking or in memory.
    With `options.incremental`, keep a record of it (`replay` reads it back).

    A writing compile holds the repository's write lock from before it reads the lock files
    until its outputs are in place, so a concurrent compile or promote is refused (PC309).

    Raises:
        CompileError: every error of the first failing stage; nothing is written.
    """
    root = options.root.resolve()
    with _fewer_collections():
        if options.mode.writes_nothing or not root.is_dir():
            return _compile_and_record(options, root)
        with writer.write_lock(root):
            return _compile_and_record(options, root)


def _compile_and_record(options: CompileOptions, root: Path) -> CompileResult:
    record = options.incremental and not options.upgrade and incremental.record_path(root)
    before = incremental.fingerprint(root) if record else None  # None: no record is kept
    result, found, waiting = _compile(options, root)
    kept = _record(result, found, waiting) if before is not None else None
    try:
        warnings = incremental.finish(found, waiting, options.mode)
    except CompileError:
        if (
            kept is not None
            and before is not None
            and not any(d.severity is Severity.ERROR for d in found)
        ):
            read = result.project.input_digests
            incremental.store(root, replace(options.mode, check=True), kept, before, read)
        raise
    report = None
    if options.write:
        writing = not options.check
        report = writer.write(result.files, root, options.check, locked=writing)
    if kept is not None and before is not None:
        incremental.store(root, options.mode, kept, before, result.project.input_digests)
    return replace(result, report=report, warnings=warnings)


def _record(result: CompileResult, found: list[Diagnostic], waiting: list[Diagnostic]) -> Record:
    """What `incremental.store` keeps of a compile (built only when a record is kept)."""
    return Record(
        tuple(found),
        tuple(waiting),
        result.summary,
        {f.relpath: incremental.digest(f.text.encode("utf-8")) for f in result.files},
        _outside_scanned(result.project),
    )


def _outside_scanned(project: Project) -> tuple[str, ...]:
    return tuple(p for p in project.input_digests if p.split("/")[0] not in incremental.SCANNED)


def _compile(
    options: CompileOptions, root: Path
) -> tuple[CompileResult, list[Diagnostic], list[Diagnostic]]:
    """Every stage but the last (warnings for the mode, writing): the result and its raw
    diagnostics and pending-promotion warnings."""
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
    summary = summarize(project, resolutions)
    result = CompileResult(project, resolutions, tuple(files), None, (), pending, summary)
    return result, found, waiting


def summarize(project: Project, resolutions: Mapping[str, Resolution]) -> CompileSummary:
    """What compile and validate report: counts, and every environment's agent chains."""
    return CompileSummary(
        len(project.tiers),
        len(project.agents),
        {
            name: EnvironmentSummary(
                resolution.total_cost,
                {key: ChainSummary(r.refs, r.cost) for key, r in resolution.agents.items()},
            )
            for name, resolution in resolutions.items()
        },
    )


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


def validate_project(root: Path, strict: bool = False) -> CompileResult:
    """Load and resolve everything, write nothing."""
    return compile_project(CompileOptions(root=root, strict=strict, write=False))
