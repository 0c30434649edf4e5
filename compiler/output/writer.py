"""Stage 4: write rendered files atomically, only when their bytes change. The only file writer.

`check=True` writes nothing and reports what would change (`compile --check`). Each file goes
through a temporary file in its own directory and `os.replace`, so a reader never sees half a
file and an interrupted run leaves the old file intact.
"""

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

OUTPUT_DIR = "rendered"
CONFIG_NAME = "openclaw.json"
LOCK_NAME = "clawpolicy.lock.json"


def config_path(env: str) -> str:
    """`rendered/<env>/openclaw.json`, repo-relative."""
    return f"{OUTPUT_DIR}/{env}/{CONFIG_NAME}"


def lock_path(env: str) -> str:
    """`rendered/<env>/clawpolicy.lock.json`, repo-relative."""
    return f"{OUTPUT_DIR}/{env}/{LOCK_NAME}"


@dataclass(frozen=True, slots=True)
class OutputFile:
    relpath: str  # repo-relative POSIX path
    text: str


@dataclass(frozen=True, slots=True)
class WriteReport:
    changed: tuple[str, ...]  # written, or (check mode) that would be written
    unchanged: tuple[str, ...]
    checked_only: bool


def _current(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write(files: Iterable[OutputFile], root: Path, check: bool = False) -> WriteReport:
    """Write every file whose bytes differ from what is on disk (nothing at all in check mode)."""
    changed: list[str] = []
    unchanged: list[str] = []
    pending: list[tuple[Path, bytes]] = []
    for item in sorted(files, key=lambda f: f.relpath):
        data = item.text.encode("utf-8")
        target = root / item.relpath
        if _current(target) == data:
            unchanged.append(item.relpath)
            continue
        changed.append(item.relpath)
        pending.append((target, data))
    if not check:
        for target, data in pending:
            write_atomic(target, data)
    return WriteReport(tuple(changed), tuple(unchanged), check)
