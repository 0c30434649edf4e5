"""Where every file is read: the one place paths are confined to a root and reads are capped.

Every path the compiler reads under a policy repository (policy files, catalogs, templates,
lock files, rendered outputs) and the folders it writes (`rendered/`) are resolved here:

* a path must stay inside its root once every symlink is followed; a symlink that leaves is
  an error naming the file (a template linked to `/proc/self/environ` is never read);
* only regular files are read: a FIFO, a socket or a device (`/dev/zero`) is refused, and it
  is opened non-blocking so that checking it cannot hang;
* every read is capped in bytes (the file is refused, not truncated), and a folder walk
  (`templates/`) is capped in file count and total bytes.

Files named on the command line (`catalog import FILE`, `catalog diff OLD NEW`) get the same
regular-file and size checks (the operator chose them, so they may live anywhere); the files of
an `--against-dir DIR` are confined to DIR.
"""

import errno
import os
import stat
from pathlib import Path

MIB = 1024 * 1024
MAX_POLICY_BYTES = 8 * MIB  # one YAML policy file
MAX_DATA_BYTES = 64 * MIB  # one catalog, lock, rendered config or native catalog
MAX_TEMPLATE_FILES = 1000  # files under templates/
MAX_TEMPLATE_BYTES = 16 * MIB  # all of templates/ together
MAX_WALK_DEPTH = 32  # folders under templates/
MAX_FOLDER_FILES = 10_000  # files in one policy folder (policies/teams/, environments/)


class FileProblem(Exception):
    """Why a file cannot be read; the message names the file as the user wrote it."""


def shown(root: Path | None, path: Path) -> str:
    """`path` as the user knows it: repo-relative POSIX inside `root`, else as given."""
    if root is not None and path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    return str(path)


def is_inside(root: Path, path: Path) -> bool:
    """True when `path`, with every symlink followed, is `root` or below it."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


def confine(root: Path, path: Path) -> Path:
    """`path` with every symlink followed.

    Raises:
        FileProblem: it leads outside `root`.
    """
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(root)):
        raise FileProblem(f"{shown(root, path)} is a symlink that leads outside {root.name}/")
    return real


def read_bytes(path: Path, limit: int, root: Path | None = None) -> bytes:
    """The bytes of one regular file of at most `limit` bytes, inside `root` when given.

    Raises:
        FileNotFoundError: there is no such file (callers decide whether that is an error).
        FileProblem: outside `root`, not a regular file, larger than `limit`, unreadable.
    """
    name = shown(root, path)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "no such file", str(path))
    real = confine(root, path) if root is not None else path
    try:
        handle = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise FileProblem(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(f"{name} is not a regular file")
        if info.st_size > limit:
            raise FileProblem(f"{name} is larger than {_size(limit)}")
        data = _read_up_to(handle, limit + 1, name)
    finally:
        os.close(handle)
    if len(data) > limit:
        raise FileProblem(f"{name} is larger than {_size(limit)}")
    return data


def read_text(path: Path, limit: int, root: Path | None = None) -> str:
    """`read_bytes` decoded as UTF-8.

    Raises:
        FileNotFoundError: there is no such file.
        FileProblem: as `read_bytes`, or not UTF-8 text.
    """
    data = read_bytes(path, limit, root)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FileProblem(f"{shown(root, path)} is not UTF-8 text") from None


def _read_up_to(handle: int, size: int, name: str) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        try:
            chunk = os.read(handle, min(left, MIB))
        except OSError as exc:
            raise FileProblem(f"cannot read {name}: {exc.strerror or exc}") from None
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit >= MIB else f"{limit} bytes"


def walk(root: Path, folder: Path, max_files: int, max_depth: int = MAX_WALK_DEPTH) -> list[Path]:
    """Every non-folder entry below `folder`, sorted, never leaving `root` (a symlinked folder
    that leads outside is an error, never followed). Stops reading a folder as soon as the
    count passes `max_files`, so a huge tree costs nothing.

    Raises:
        FileProblem: a folder leads outside `root`, or a limit is passed.
    """
    found: list[Path] = []
    pending = [(folder, 0)]
    visited = 0  # folders, counted as files: symlinked folders cannot fan out without end
    while pending:
        current, depth = pending.pop()
        visited += 1
        if visited > max_files:
            raise FileProblem(f"{shown(root, folder)} holds more than {max_files} folders")
        if depth > max_depth:
            raise FileProblem(f"{shown(root, current)} is nested deeper than {max_depth} folders")
        confine(root, current)
        with os.scandir(current) as entries:
            for entry in entries:
                path = current / entry.name
                if entry.is_dir():
                    pending.append((path, depth + 1))
                    continue
                found.append(path)
                if len(found) > max_files:
                    raise FileProblem(f"{shown(root, folder)} holds more than {max_files} files")
    return sorted(found)


def listing(root: Path, folder: Path, max_files: int = MAX_FOLDER_FILES) -> list[Path]:
    """The entries of one folder, sorted, after checking it stays inside `root`; stops reading
    as soon as there are more than `max_files`.

    Raises:
        FileProblem: the folder leads outside `root`, or holds more than `max_files` entries.
    """
    confine(root, folder)
    found: list[Path] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            found.append(folder / entry.name)
            if len(found) > max_files:
                raise FileProblem(f"{shown(root, folder)} holds more than {max_files} files")
    return sorted(found)
