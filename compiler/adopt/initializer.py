"""`clawpolicy init DIR [--from openclaw.json]`: write a policy repository, compile it and make
the first promotion, so that `clawpolicy compile --check` passes in it at once. IO at the edges.

The repository is built and compiled in a staging folder beside DIR and moved into DIR only
when everything succeeded: on any error nothing is left behind. The staging folder is locked
(an flock on a file in it) while its init runs; an init that was killed leaves it behind, and
the next init beside it removes it (its lock is free). DIR must be empty (a `.git`
folder is fine) unless `force` is given, and even then no existing file is ever overwritten:
an optional file DIR has (README.md, .gitignore, editor settings, workflows) is kept and not
written (a warning lists them); a policy, template or rendered file DIR has is an error, and
so is a symlink on the way to any file it writes.
With `--from`, every agent's chain, the default and image chains and the aliases of the
compiled repository are compared with the adopted file; what differs is reported (PC604).
"""

import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .. import api
from ..diagnostics import CompileError, Diagnostic, Span, error, warning
from ..load import repofiles
from ..load.loader import load_project
from ..output.writer import CONFIG_NAME, OutputFile, write_file
from ..resolve.resolver import Resolution
from . import configreader, policywriter, starter, templatewriter

IGNORED_ENTRIES = {".git"}  # a DIR holding only these counts as empty
# what the repository compiles from or to: with --force, an existing one is still an error;
# any other file (README.md, .gitignore, .vscode/settings.json, workflows) is kept as it is
POLICY_FOLDERS = ("policies/", "templates/", "rendered/")
TEMPLATE = "templates/openclaw.json.j2"


@dataclass(frozen=True, slots=True)
class InitOptions:
    root: Path
    adopt_from: Path | None = None  # a hand-written openclaw.json to adopt
    day: date | None = None  # the adopted catalog's date; None: today (UTC)
    force: bool = False  # DIR may hold other files (none is ever overwritten)


@dataclass(frozen=True, slots=True)
class InitResult:
    root: Path
    files: tuple[str, ...]  # every file written, repository-relative, sorted
    resolutions: Mapping[str, Resolution]
    warnings: tuple[Diagnostic, ...] = field(default=())
    kept: tuple[str, ...] = ()  # optional files DIR already had (--force): not written


def init_repo(options: InitOptions) -> InitResult:
    """Write, compile and promote a new policy repository in `options.root`.

    Raises:
        CompileError: PC601 (DIR not empty, a file exists), PC602 (the file to adopt cannot
            be read or adopted), or any compile error; nothing is written then.
    """
    target = options.root
    _check_target(target, options.force)
    files, expected, found = _files(options)
    kept = _kept(target, files) if options.force else ()
    files = tuple(f for f in files if f.relpath not in kept)
    _check_paths(target, [*(f.relpath for f in files), "rendered"])
    _check_conflicts(target, [*(f.relpath for f in files), "rendered"])
    found += _kept_warning(target, kept)
    home = target.resolve()
    home.parent.mkdir(parents=True, exist_ok=True)
    sweep_stagings(home.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{home.name}{STAGING_MARK}", dir=home.parent))
    try:
        lock = _hold(staging)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        for item in files:
            write_file(staging / item.relpath, item.text.encode("utf-8"))
        resolutions, compiled = _compile_and_promote(staging)
        found += compiled
        if expected is not None:
            found += _verify(expected, staging, str(options.adopt_from))
        written = sorted(
            relpath
            for p in staging.rglob("*")
            if p.is_file() and (relpath := p.relative_to(staging).as_posix()) != LOCK_NAME
        )
        _check_paths(target, written)  # DIR may have changed while compiling
        _check_conflicts(target, [*written, "rendered"])
        _move_into(staging, target, written)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        os.close(lock)  # after the removal: a sweep never takes a folder still in use
    warnings = tuple(api.dedupe(found))
    return InitResult(target, tuple(written), resolutions, warnings, kept)


STAGING_MARK = ".init-"  # a staging folder: .<DIR's name>.init-XXXXXXXX beside DIR
LOCK_NAME = ".clawpolicy-init.lock"  # in a staging folder, flocked while its init runs


def _hold(staging: Path) -> int:
    """Lock `staging` as in use (an flock on LOCK_NAME inside it, held until it is removed).
    The file is locked under another name and renamed, so a sweep never finds it unlocked."""
    fresh = staging / f"{LOCK_NAME}.new"
    handle = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        os.rename(fresh, staging / LOCK_NAME)
    except OSError:
        os.close(handle)
        raise
    return handle


def sweep_stagings(parent: Path) -> None:
    """Remove the staging folders in `parent` left by an init that was killed: those whose
    lock file is no longer locked. A folder without one (not init's) or locked (its init still
    runs) is left alone."""
    for folder in parent.glob(f".*{STAGING_MARK}*"):
        with contextlib.suppress(OSError):  # BlockingIOError: locked; or gone meanwhile
            if folder.is_symlink() or not folder.is_dir():
                continue
            handle = os.open(folder / LOCK_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(folder)
            finally:
                os.close(handle)


def _check_target(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise CompileError((error("PC601", f"{target} exists and is not a directory"),))
    entries = [p.name for p in target.iterdir()] if target.is_dir() else []
    if not force and set(entries) - IGNORED_ENTRIES:
        raise CompileError(
            (
                error(
                    "PC601",
                    f"{target} is not empty",
                    Span(str(target)),
                    "hint: init an empty or new directory, or pass --force to add the "
                    "repository's files to this one (existing files are never overwritten)",
                ),
            )
        )


def _kept(target: Path, files: tuple[OutputFile, ...]) -> tuple[str, ...]:
    """The optional files (not policy, template or output) that DIR already has."""
    return tuple(
        f.relpath
        for f in files
        if not f.relpath.startswith(POLICY_FOLDERS) and os.path.lexists(target / f.relpath)
    )


def _kept_warning(target: Path, kept: tuple[str, ...]) -> list[Diagnostic]:
    if not kept:
        return []
    message = f"kept as they are (exist; not written): {', '.join(kept)}"
    hint = "hint: to see the starter's versions, run clawpolicy init in an empty directory"
    return [warning("PC601", message, Span(str(target)), hint)]


def _check_conflicts(target: Path, relpaths: list[str]) -> None:
    """PC601 for every path init would write that DIR already has (a file, folder or link)."""
    taken = [path for path in relpaths if os.path.lexists(target / path)]
    if taken:
        raise CompileError(
            tuple(
                error("PC601", f"{path} already exists; init never overwrites a file", Span(path))
                for path in taken
            )
        )


def _check_paths(target: Path, relpaths: list[str]) -> None:
    """PC601 when a path init would write, or a folder on the way to it inside DIR, is a
    symlink or leads out of DIR (the file would land elsewhere: never followed), or when a
    folder on the way is not a folder (it could not be created)."""
    home = target.resolve()
    found = sorted({bad for relpath in relpaths if (bad := _obstacle(target, home, relpath))})
    if found:
        raise CompileError(
            tuple(
                error("PC601", f"{path} {problem}", Span(str(target / path)), hint)
                for path, (problem, hint) in found
            )
        )


_LINK = (
    "is a symlink or leads out of {target}; init never writes through one",
    "hint: replace the link with a real folder, or init into another directory",
)
_NOT_A_FOLDER = (
    "is not a folder, and init writes files in it; nothing was written",
    "hint: move it away (or rename it), or init into another directory",
)


def _obstacle(target: Path, home: Path, relpath: str) -> tuple[str, tuple[str, str]] | None:
    """The first part of `relpath` (under `target`) that is a symlink or leaves it, or a
    folder on the way that exists but is not one, with its problem and hint; else None."""
    parts = Path(relpath).parts
    for depth in range(1, len(parts) + 1):
        path = target.joinpath(*parts[:depth])
        shown = Path(*parts[:depth]).as_posix()
        if path.is_symlink() or not path.resolve().is_relative_to(home):
            return shown, (_LINK[0].format(target=target), _LINK[1])
        if not path.exists():
            return None
        if depth < len(parts) and not path.is_dir():
            return shown, _NOT_A_FOLDER
    return None


def _files(
    options: InitOptions,
) -> tuple[tuple[OutputFile, ...], configreader.AdoptedConfig | None, list[Diagnostic]]:
    """The files to write; with --from, the adopted config (to verify) and its warnings."""
    files = {f.relpath: f for f in starter.starter_files()}
    if options.adopt_from is None:
        return tuple(files.values()), None, []
    source = str(options.adopt_from)
    document = read_json(options.adopt_from)
    config = configreader.read_config(document, source)
    day = options.day or datetime.now(UTC).date()
    adopted, planned = policywriter.policy_files(config, day, source)
    files = {path: f for path, f in files.items() if not path.startswith("policies/")}
    files.update({f.relpath: f for f in adopted})
    template, kept = templatewriter.template_text(document, source)
    if template is not None:
        files[TEMPLATE] = OutputFile(TEMPLATE, template)
    ordered = tuple(sorted(files.values(), key=lambda f: f.relpath))
    return ordered, config, [*config.warnings, *planned, *kept]


def read_json(path: Path) -> Any:
    """A strict-JSON openclaw.json.

    Raises:
        CompileError: PC602 when it cannot be read, is not strict JSON or uses `$include`.
    """
    try:  # a regular file of a bounded size: a FIFO or /dev/zero is refused, never read
        text = repofiles.read_text(path, repofiles.MAX_DATA_BYTES)
    except (OSError, repofiles.FileProblem) as exc:
        message = f"cannot read the file: {exc}"
        raise CompileError((error("PC602", message, Span(str(path))),)) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        span = Span(str(path), exc.lineno, exc.colno)
        hint = "hint: JSON5 (comments, trailing commas) is not read: save it as strict JSON"
        raise CompileError((error("PC602", f"not strict JSON: {exc.msg}", span, hint),)) from None
    except ValueError as exc:  # Python's limit on integer digits
        message = f"not strict JSON: {str(exc)[:120]}"
        raise CompileError((error("PC602", message, Span(str(path))),)) from None
    except RecursionError:  # far deeper than MAX_JSON_DEPTH: the parser gave up first
        message = f"nested deeper than {MAX_JSON_DEPTH} levels"
        raise CompileError((error("PC602", message, Span(str(path))),)) from None
    if "$include" in text:
        hint = "hint: inline the included files into one strict-JSON file, then adopt it"
        raise CompileError((error("PC602", "uses $include", Span(str(path)), hint),))
    if (where := too_deep(document)) is not None:
        message = f"{where}: nested deeper than {MAX_JSON_DEPTH} levels"
        note = "note: an openclaw.json needs fewer than ten; adoption walks the file recursively"
        raise CompileError((error("PC602", message, Span(str(path)), note),))
    return document


MAX_JSON_DEPTH = 64  # objects and arrays, the top-level object included (as YAML's MAX_DEPTH)


def too_deep(document: Any, limit: int = MAX_JSON_DEPTH) -> str | None:
    """The JSON path (clipped) of the first value nested deeper than `limit` objects and
    arrays, or None. Iterative, so that it stops at any depth; every walker of adoption
    relies on it.

    Example:
        >>> too_deep({"env": {"vars": [[1]]}}, limit=3), too_deep({"env": [1]}, limit=3)
        ('env.vars[0]', None)
    """
    pending: list[tuple[Any, str, int]] = [(document, "", 1)]
    while pending:
        value, where, depth = pending.pop()
        if isinstance(value, dict | list) and depth > limit:
            return where if len(where) <= 60 else where[:57] + "..."
        if isinstance(value, dict):
            pending += [
                (v, f"{where}.{k}" if where else str(k), depth + 1) for k, v in value.items()
            ]
        elif isinstance(value, list):
            pending += [(v, f"{where}[{n}]", depth + 1) for n, v in enumerate(value)]
    return None


def _compile_and_promote(root: Path) -> tuple[dict[str, Resolution], list[Diagnostic]]:
    """Compile the environments that resolve on their own, promote the others in order, and
    check that the result is what `compile --check` expects."""
    from ..gitops.api import promote_project  # noqa: PLC0415 (GitPython, deepdiff: lazily)

    project = load_project(root)
    own = tuple(n for n, e in project.environments.items() if e.spec.promote_from is None)
    found = list(api.compile_project(api.CompileOptions(root=root, envs=own)).warnings)
    done = set(own)
    pending = [e for e in project.environments.values() if e.spec.promote_from is not None]
    while pending:
        ready = [e for e in pending if e.spec.promote_from in done]
        for env in ready:
            source = env.spec.promote_from
            assert source is not None  # the loader refuses promote_from cycles
            found += promote_project(root, source, env.name).warnings
            done.add(env.name)
        pending = [e for e in pending if e not in ready]
    checked = api.compile_project(api.CompileOptions(root=root, check=True))
    return dict(checked.resolutions), found


def _verify(config: configreader.AdoptedConfig, root: Path, source: str) -> list[Diagnostic]:
    """What the compiled repository's rendered configs say differently from the adopted file."""
    expected = {a.id: a.chain for a in config.agents}
    expected["agents.defaults.model"] = config.default_chain
    expected["agents.defaults.imageModel"] = config.image_chain
    found = []
    for path in sorted(root.glob(f"rendered/*/{CONFIG_NAME}")):
        env = path.parent.name
        agents = json.loads(path.read_text(encoding="utf-8"))["agents"]
        defaults = agents.get("defaults", {})
        rendered = {a: _refs(entry.get("model")) for a, entry in agents["entries"].items()}
        rendered["agents.defaults.model"] = _refs(defaults.get("model"))
        rendered["agents.defaults.imageModel"] = _refs(defaults.get("imageModel"))
        found += [
            warning(
                "PC604",
                f"{env}: {key} renders [{', '.join(rendered.get(key, ()))}], the adopted file "
                f"has [{', '.join(chain)}]",
                Span(source),
            )
            for key, chain in expected.items()
            if rendered.get(key, ()) != chain
        ]
        aliases = {ref: body.get("alias") for ref, body in defaults.get("models", {}).items()}
        found += [
            warning("PC604", f"{env}: alias '{alias}' is not on {ref}", Span(source))
            for ref, alias in sorted(config.aliases.items())
            if aliases.get(ref) != alias
        ]
    return found


def _refs(model: Any) -> tuple[str, ...]:
    if isinstance(model, str):
        return (model,)
    if isinstance(model, dict) and isinstance(model.get("primary"), str):
        return (model["primary"], *model.get("fallbacks", ()))
    return ()


def _move_into(staging: Path, target: Path, files: list[str]) -> None:
    """Move every file of `staging` into `target`, or none: no file is ever overwritten (a
    hard link, or an exclusive create, fails when the path exists), and on any error the files
    and folders made so far are removed again.

    Raises:
        CompileError: PC601 naming the path that could not be written (DIR is as it was).
    """
    made: list[Path] = []  # folders created, parents first
    placed: list[Path] = []
    relpath = "."
    try:
        for relpath in files:
            destination = target / relpath
            _make_folders(target, destination.parent, made)
            _place(staging / relpath, destination)
            placed.append(destination)
    except OSError as exc:
        for path in reversed(placed):
            path.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        reason = exc.strerror or type(exc).__name__
        message = f"{relpath} cannot be written ({reason}); nothing was written"
        raise CompileError((error("PC601", message, Span(str(target / relpath))),)) from None


def _make_folders(target: Path, folder: Path, made: list[Path]) -> None:
    """Create `folder` and the folders on the way to it from `target` (included) that are
    missing; each one created is added to `made`."""
    way = [folder, *folder.parents]
    for path in reversed(way[: way.index(target) + 1]):
        try:
            path.mkdir()
        except FileExistsError:
            if path.is_symlink() or not path.is_dir():  # appeared since the checks
                raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path)) from None
            continue
        made.append(path)


_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


def _place(source: Path, destination: Path) -> None:
    """`source` moved to `destination`, which must not exist: a hard link (atomic, fails when
    the path exists), or an exclusively created copy where links cannot be made."""
    try:
        os.link(source, destination, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        _copy_new(source, destination)
    source.unlink()


def _copy_new(source: Path, destination: Path) -> None:
    mode = stat.S_IMODE(source.stat().st_mode)
    handle = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(source.read_bytes())
            stream.flush()
            os.fsync(stream.fileno())
    except OSError:
        destination.unlink(missing_ok=True)
        raise
