"""Stage 4: write outputs. The only file writer: one staged, all-or-nothing write per run.

`write` (compile, promote) compares every file with what is on disk, then, when anything
changed:

1. holds the repository's write lock (`fcntl.flock` on the repository folder itself, so no
   lock file is ever left behind); a second compile or promote is refused (PC309) instead of
   interleaving;
2. stages every changed environment completely in `rendered/.clawpolicy-staging-*/<env>/`
   (new files, plus any other file the environment's folder held), so a failed write (a
   read-only folder, a full disk, a file-size limit) changes nothing (PC308);
3. swaps each staged folder with `rendered/<env>` in one step (`renameat2(RENAME_EXCHANGE)`),
   so after a kill at any instant every environment is entirely old or entirely new;
   where the kernel cannot exchange, a move aside and a move in, which the next run repairs;
4. removes the staging folder, which then holds the old versions.

Leftovers of a killed run are removed (or moved back) by the next run that takes the lock.
`rendered/` and `rendered/<env>` are never symlinks (refused, never written through). Files
are created with mode 0666 and folders 0777, less the umask. `write_file` (catalog import and
fetch `-o`) replaces one file through a temporary file in the same folder.
"""

import contextlib
import ctypes
import errno
import fcntl
import functools
import os
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..diagnostics import CompileError, Span, error
from ..load import repofiles

OUTPUT_DIR = "rendered"
CONFIG_NAME = "openclaw.json"
LOCK_NAME = "clawpolicy.lock.json"
STAGING_PREFIX = ".clawpolicy-staging-"
TEMP_MARK = ".clawpolicy-tmp-"
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def config_path(env: str) -> str:
    """`rendered/<env>/openclaw.json`, repo-relative."""
    return f"{OUTPUT_DIR}/{env}/{CONFIG_NAME}"


def lock_path(env: str) -> str:
    """`rendered/<env>/clawpolicy.lock.json`, repo-relative."""
    return f"{OUTPUT_DIR}/{env}/{LOCK_NAME}"


@dataclass(frozen=True, slots=True)
class OutputFile:
    relpath: str  # repo-relative POSIX path, `rendered/<env>/<name>`
    text: str


@dataclass(frozen=True, slots=True)
class WriteReport:
    changed: tuple[str, ...]  # written, or (check mode) that would be written
    unchanged: tuple[str, ...]
    checked_only: bool


def _fail(relpath: str, exc: OSError | str) -> CompileError:
    reason = exc if isinstance(exc, str) else (exc.strerror or str(exc))
    return CompileError(
        (
            error(
                "PC308",
                f"cannot write {relpath}: {reason}",
                Span(relpath),
                "note: nothing was changed; every environment keeps its previous files",
            ),
        )
    )


# --------------------------------------------------------------------------- the write lock


@contextlib.contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """Hold the repository's write lock (an advisory `flock` on the repository folder).

    Raises:
        CompileError: PC309 when another clawpolicy run holds it.
    """
    try:
        handle = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise _fail(OUTPUT_DIR, exc) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CompileError(
                (
                    error(
                        "PC309",
                        f"another clawpolicy run is writing {root.name}/ (it holds the write "
                        f"lock: an flock on {root})",
                        Span(OUTPUT_DIR),
                        "hint: wait for the other compile or promote to finish, then run again",
                    ),
                )
            ) from None
        yield
    finally:
        os.close(handle)  # closing the descriptor releases the lock


# --------------------------------------------------------------------------- compile outputs


def _current(root: Path, relpath: str) -> bytes | None:
    try:
        return repofiles.read_bytes(root / relpath, repofiles.MAX_DATA_BYTES, root)
    except FileNotFoundError:
        return None
    except repofiles.FileProblem as exc:
        raise _fail(relpath, str(exc)) from None


def _env_of(relpath: str) -> str:
    parts = relpath.split("/")
    if len(parts) != 3 or parts[0] != OUTPUT_DIR or parts[1] in ("", ".", ".."):
        raise ValueError(f"not an output path: {relpath}")
    return parts[1]


def write(
    files: Iterable[OutputFile], root: Path, check: bool = False, locked: bool = False
) -> WriteReport:
    """Write every environment whose files differ from what is on disk, all or nothing (in
    check mode: nothing at all, only the report).

    Args:
        files: `rendered/<env>/<name>` files; an environment's files are written together.
        root: the repository.
        check: report only.
        locked: the caller already holds `write_lock(root)`.

    Raises:
        CompileError: PC308 when anything cannot be written (nothing changed then), PC309 when
            another run holds the write lock.
    """
    ordered = sorted(files, key=lambda f: f.relpath)
    _check_folders(root, {_env_of(f.relpath) for f in ordered})
    changed = [f for f in ordered if _current(root, f.relpath) != f.text.encode("utf-8")]
    report = WriteReport(
        tuple(f.relpath for f in changed),
        tuple(f.relpath for f in ordered if f not in changed),
        check,
    )
    if check or not changed:
        return report
    with contextlib.nullcontext() if locked else write_lock(root):
        recover(root)
        _check_folders(root, {_env_of(f.relpath) for f in ordered})
        _write_staged(root, [f for f in ordered if _env_of(f.relpath) in _envs(changed)])
    return report


def _envs(files: Iterable[OutputFile]) -> set[str]:
    return {_env_of(f.relpath) for f in files}


def _check_folders(root: Path, envs: Iterable[str]) -> None:
    """`rendered/` and `rendered/<env>` are real folders (or absent), never symlinks."""
    for relpath in (OUTPUT_DIR, *(f"{OUTPUT_DIR}/{env}" for env in sorted(envs))):
        path = root / relpath
        if path.is_symlink():
            raise _fail(relpath, "it is a symlink; clawpolicy never writes through one")
        if path.exists() and not path.is_dir():
            raise _fail(relpath, "it is not a folder")


def _write_staged(root: Path, files: list[OutputFile]) -> None:
    rendered = root / OUTPUT_DIR
    try:
        rendered.mkdir(mode=0o777, exist_ok=True)
    except OSError as exc:
        raise _fail(OUTPUT_DIR, exc) from None
    staging = rendered / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
    try:
        staging.mkdir(mode=0o700)
        for env in sorted(_envs(files)):
            own = [f for f in files if _env_of(f.relpath) == env]
            _stage_env(staging / env, rendered / env, own)
        _swap_all(staging, rendered, sorted(_envs(files)))
    except OSError as exc:
        _remove(staging)
        raise _fail(_failed_path(root, exc), exc) from None
    _remove(staging)


def _failed_path(root: Path, exc: OSError) -> str:
    """The output path an OSError is about, shown as it will be once swapped in."""
    name = exc.filename if isinstance(exc.filename, str) else ""
    path = Path(name)
    for index, part in enumerate(path.parts):
        if part.startswith(STAGING_PREFIX):
            return Path(OUTPUT_DIR, *path.parts[index + 1 :]).as_posix()
    return repofiles.shown(root, path) if name else OUTPUT_DIR


def _stage_env(target: Path, current: Path, files: list[OutputFile]) -> None:
    """The environment's complete new folder: its new files, and every other entry the current
    folder holds (linked or copied), so the swap replaces nothing else."""
    target.mkdir(mode=0o777)
    written = {Path(f.relpath).name for f in files}
    for item in files:
        _create(target / Path(item.relpath).name, item.text.encode("utf-8"))
    if not current.is_dir():
        return
    for entry in sorted(current.iterdir()):
        if entry.name not in written:
            _carry(entry, target / entry.name)


def _create(path: Path, data: bytes) -> None:
    """A new file with `data`, mode 0666 less the umask, flushed to disk."""
    handle = os.open(path, _NEW_FILE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
        os.fsync(handle)
    except OSError as exc:  # os.write names no file: name it for the diagnostic
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        os.close(handle)


def _carry(source: Path, target: Path) -> None:
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    elif source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    else:
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


@functools.cache
def _renameat2() -> Any:
    return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)


def _exchange(first: Path, second: Path) -> None:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE).

    Raises:
        OSError: ENOSYS / EINVAL where the kernel, libc or filesystem cannot exchange.
    """
    rename = _renameat2()
    if rename is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    done = rename(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if done != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(first))


_NO_EXCHANGE = (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP)


def _swap_all(staging: Path, rendered: Path, envs: list[str]) -> None:
    """Put every staged environment in place; on a failure, put back those already swapped."""
    swapped: list[tuple[str, bool]] = []
    try:
        for env in envs:
            is_new = not os.path.lexists(rendered / env)
            if is_new:
                os.rename(staging / env, rendered / env)  # nothing to keep: a new environment
            else:
                _swap(staging / env, rendered / env)
            swapped.append((env, is_new))
    except OSError:
        for env, is_new in reversed(swapped):
            with contextlib.suppress(OSError):
                if is_new:
                    os.rename(rendered / env, staging / env)
                else:
                    _swap(staging / env, rendered / env)
        raise


def _swap(staged: Path, target: Path) -> None:
    try:
        _exchange(staged, target)
    except OSError as exc:
        if exc.errno not in _NO_EXCHANGE:
            raise
        aside = staged.with_name(staged.name + ".old")
        os.rename(target, aside)  # a kill here leaves `.old`, which `recover` moves back
        os.rename(staged, target)
        os.rename(aside, staged)


def recover(root: Path) -> None:
    """Finish what a killed run left: move back an environment a fallback swap moved aside,
    then remove every staging folder. Call only while holding `write_lock(root)`."""
    rendered = root / OUTPUT_DIR
    if not rendered.is_dir() or rendered.is_symlink():
        return
    for staging in sorted(rendered.glob(STAGING_PREFIX + "*")):
        if not staging.is_dir() or staging.is_symlink():
            continue
        for aside in sorted(staging.glob("*.old")):
            home = rendered / aside.name.removesuffix(".old")
            # only a real folder, as the writer moved it: never a link planted in a repository
            if aside.is_dir() and not aside.is_symlink() and not os.path.lexists(home):
                os.rename(aside, home)
        _remove(staging)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(path)


# --------------------------------------------------------------------------- single files


def write_file(path: Path, data: bytes) -> None:
    """Replace one file atomically (catalog import/fetch `-o`): a temporary file beside it,
    locked while it is written, renamed over the target. Temporary files of killed runs (no
    longer locked) are removed first; a symlink at `path` is replaced, never written through.

    Raises:
        CompileError: PC308 when the file cannot be written (nothing changed then).
    """
    folder = path.parent
    try:
        folder.mkdir(mode=0o777, parents=True, exist_ok=True)
        _sweep_temporaries(folder)
        handle, temp = _temporary(folder, path.name)
    except OSError as exc:
        raise _fail(str(path), exc) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
            os.replace(temp, path)  # while the flock is held: no sweeper removes it
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise _fail(str(path), exc) from None


def _temporary(folder: Path, name: str) -> tuple[int, Path]:
    temp = folder / f".{name}{TEMP_MARK}{secrets.token_hex(6)}"
    handle = os.open(temp, _NEW_FILE, 0o666)
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle, temp


def _sweep_temporaries(folder: Path) -> None:
    """Remove temporary files whose writer is gone (their flock is free)."""
    for temp in folder.glob(f".*{TEMP_MARK}*"):
        with contextlib.suppress(OSError):
            if not stat.S_ISREG(temp.lstat().st_mode):
                continue
            handle = os.open(temp, os.O_RDONLY | os.O_NONBLOCK)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                temp.unlink()
            finally:
                os.close(handle)
