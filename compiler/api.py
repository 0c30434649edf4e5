"""The library API: load -> resolve -> render -> check -> write. The only module that knows the
order of the stages. The commands in `compiler.cli` call these functions and print what they
return; the GitOps loop (diff, promote) builds on them in `compiler.gitops.api`.

An environment with `promote_from` is never resolved or rendered here: its committed files are
what it runs (a hand edit is PC307), and what the next promotion would change is computed and
reported as pending (`compiler.promote.pending`), never as an error.
"""

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import CompileError, Diagnostic, Severity, Span, error, raise_if_errors, warning
from .load.loader import load_project
from .load.project import Environment, Project
from .output import conformance, lockfile, renderer, schemacheck, writer
from .output.lockfile import Lock
from .output.writer import OutputFile, WriteReport, config_path, lock_path
from .promote import pending as pending_mod
from .promote import promoter
from .promote.pending import PendingPromotion
from .promote.running import running_resolution
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


def _read_committed(root: Path, relpath: str) -> str | None:
    try:
        return (root / relpath).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def read_config(root: Path, env: str) -> object:
    """The committed openclaw.json of `env`, parsed; None when absent or not JSON."""
    text = _read_committed(root, config_path(env))
    try:
        return None if text is None else json.loads(text)
    except ValueError:
        return None


def read_lock(root: Path, env: str) -> lockfile.Lock:
    text = _read_committed(root, lock_path(env))
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
    project: Project,
    env: Environment,
    locked: Mapping[str, tuple[str, ...]],
    promoted_from: str | None = None,
) -> tuple[Resolution, list[OutputFile]]:
    """Resolve `env` over `locked` chains, render and check it: its config and lock texts
    (`promoted_from` marks a lock that `promote` writes)."""
    resolution = resolve(project, env, locked)
    rendered = renderer.render(project, resolution)
    raise_if_errors(
        [
            *conformance.check(rendered.text, rendered.relpath),
            *schemacheck.check(rendered, project, resolution),
        ]
    )
    document = lockfile.build(resolution, env_inputs(project, env), rendered.text, promoted_from)
    lock_text = lockfile.serialize(document)
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
    waiting: list[Diagnostic] = []  # pending promotions: warnings even with --strict
    resolutions: dict[str, Resolution] = {}
    files: list[OutputFile] = []
    pending: dict[str, PendingPromotion] = {}
    for env in _sources_first(project, select_environments(project, options.envs)):
        resolution: Resolution | None
        try:
            if env.spec.promote_from is None:
                resolution, outputs = _compile_env(project, env, options, root)
                found.extend(resolution.warnings)
            else:
                sources = {name: lockfile.lock_of(r) for name, r in resolutions.items()}
                state = _promoted_env(project, env, root, sources)
                resolution, outputs, pending[env.name] = state
                waiting.extend(pending_mod.diagnostics(pending[env.name]))
        except CompileError as exc:
            found.extend(exc.diagnostics)
            continue
        if resolution is not None:
            resolutions[env.name] = resolution
        files.extend(outputs)
    resolutions = {name: resolutions[name] for name in project.environments if name in resolutions}
    found.extend(_stale_outputs(project, root))
    found = dedupe(found)
    if options.strict:
        found = [_as_error(d) for d in found]
    raise_if_errors(found)
    warnings = tuple(dedupe([d for d in found if d.severity is Severity.WARNING] + waiting))
    report = writer.write(files, root, check=options.check) if options.write else None
    return CompileResult(project, resolutions, tuple(files), report, warnings, pending)


def _sources_first(project: Project, envs: Iterable[Environment]) -> list[Environment]:
    """Environments that resolve on their own first, then each promoted one after its source
    (the loader refused promote_from cycles)."""

    def depth(env: Environment) -> int:
        hops, source = 0, env.spec.promote_from
        while source is not None and hops <= len(project.environments):
            hops, source = hops + 1, project.environments[source].spec.promote_from
        return hops

    return sorted(envs, key=lambda env: (depth(env), env.name))


# --------------------------------------------------------------------------- promoted


def _promoted_env(
    project: Project, env: Environment, root: Path, sources: Mapping[str, lockfile.Lock]
) -> tuple[Resolution | None, list[OutputFile], PendingPromotion]:
    """A promoted environment as committed (its files are kept byte for byte), and what its
    next promotion would change."""
    config_text = _read_committed(root, config_path(env.name))
    lock_text = _read_committed(root, lock_path(env.name))
    lock = _check_committed(env, config_text, lock_text)
    config = None if config_text is None else json.loads(config_text)
    source = str(env.spec.promote_from)
    source_lock = sources.get(source) or read_lock(root, source)
    running = pending_mod.Side(lock, config)
    upcoming = next_promotion(project, (project.environments[source], source_lock), env, running)
    if config_text is None or lock_text is None:
        return None, [], upcoming
    files = [
        OutputFile(config_path(env.name), config_text),
        OutputFile(lock_path(env.name), lock_text),
    ]
    return running_resolution(project, env, lock, config), files, upcoming


def _check_committed(env: Environment, config_text: str | None, lock_text: str | None) -> Lock:
    """The committed lock of a promoted environment, checked against its openclaw.json.

    Raises:
        CompileError: PC307 when one of the two files is missing or the config was edited
            after `promote` wrote it; PC110 for a bad lock; PC403 for a config that is not JSON.
    """
    source, name = env.spec.promote_from, env.name
    hint = f"hint: run clawpolicy promote {source} {name} to write both files again"
    if config_text is None and lock_text is None:
        return lockfile.EMPTY
    if config_text is None or lock_text is None:
        missing = config_path(name) if config_text is None else lock_path(name)
        raise CompileError((error("PC307", f"{missing} is missing", Span(missing), hint),))
    lock = lockfile.parse(lock_text, lock_path(name), name)
    if lock.rendered is not None and lock.rendered != lockfile.digest(config_text):
        message = f"{config_path(name)} was edited after clawpolicy promote wrote it"
        note = "note: a promoted environment changes only through promote"
        raise CompileError((error("PC307", message, Span(config_path(name)), note, hint),))
    try:
        json.loads(config_text)
    except ValueError:
        message = f"{config_path(name)} is not JSON"
        raise CompileError((error("PC403", message, Span(config_path(name)), hint),)) from None
    return lock


def next_promotion(
    project: Project,
    source: tuple[Environment, lockfile.Lock],
    target: Environment,
    running: pending_mod.Side,
    agents: tuple[str, ...] = (),
) -> PendingPromotion:
    """What `promote SOURCE TARGET` would change in `target`, which runs `running`."""
    source_env = source[0]
    pending = PendingPromotion(
        source_env.name,
        target.name,
        target.spans.get("promote_from", target.span),
        running.config is None,
        alerts=tuple(pending_mod.alerts(target, running.lock)),
    )
    misfit = promoter.misfits(project, target, running.lock)
    try:
        plan = promoter.plan(project, source, (target, running.lock), agents)
        if plan.problems:
            raise CompileError(plan.problems)
        resolution, files = render_env(project, target, plan.chains, source_env.name)
    except CompileError as exc:
        return dataclasses.replace(pending, failure=exc.diagnostics)
    upcoming = pending_mod.Side(lockfile.lock_of(resolution), json.loads(files[0].text))
    settings = []
    if running.config is not None:
        settings = pending_mod.setting_changes(running.config, upcoming.config)
    moves = pending_mod.agent_moves(running, upcoming, misfit)
    return dataclasses.replace(pending, agents=tuple(moves), settings=tuple(settings))


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
