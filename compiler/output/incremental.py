"""Stage 4b: incremental compile. A record of the last successful compile of a repository lets
the next one with the same inputs resolve and render nothing, yet report the same warnings,
files and exit code (like dbt's partial parse). Imports no pydantic or jinja2, so a replayed
compile loads none of the stages.

A record is keyed by everything that decides a compile's result: the sha256 of every file under
policies/, templates/ and rendered/ (the locks and committed outputs are inputs too) and of
catalogs listed from elsewhere, the folders of rendered/ (PC305), the clawpolicy version and
build (its files' sizes and times), the Python version, and the environments selected. It is
replayed only when all of that is unchanged: a hand-edited rendered file is an input, so it is
never masked. A missing, corrupt or foreign record means a full compile. `--upgrade` always
resolves.

After a compile that wrote files, the record describes the repository as written. The next
compile reads the new locks, and lock stability keeps every chain they hold, so it resolves to
the same outputs and warnings, but for PC207 (locked choices replaced), which the new locks no
longer cause; the record leaves PC207 out.

Records live outside the repository, in the user's cache folder (`$CLAWPOLICY_CACHE_DIR`, else
`$XDG_CACHE_HOME/clawpolicy`, else `~/.cache/clawpolicy`), one file per repository path, written
atomically: a pull request cannot plant one, and the repository gains no file. They are off when
a CI runner is detected (`CI` set to anything but `false` or `0`, or GitHub Actions, GitLab,
Jenkins, Buildkite, Azure variables: a fresh runner has nothing to reuse, and a folder shared
between runs must not decide a check) or when `CLAWPOLICY_CACHE_DIR` is set but empty.
"""

import functools
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext, suppress
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__
from ..diagnostics import (
    REPLACED,
    WOULD_BE_REPLACED,
    CompileError,
    Diagnostic,
    Severity,
    Span,
    raise_if_errors,
)
from ..load import repofiles
from ..redaction import redact_text
from .writer import OUTPUT_DIR, WriteReport, write_file, write_lock

FORMAT = "clawpolicy-compile-record"
VERSION = 1
SCANNED = ("policies", "templates", OUTPUT_DIR)
FOLDER = "dir"  # the digest recorded for a folder of rendered/ (its name is what counts)
# The libraries whose behaviour shapes a compile's outputs or diagnostics: another version of
# one never trusts a record of the last.
RUNTIME_LIBRARIES = ("pydantic", "pydantic-core", "PyYAML", "Jinja2", "MarkupSafe", "jsonschema")
# Records are off on CI runners: a fresh runner has nothing to reuse, and a folder shared
# between runs must not decide a check.
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "TF_BUILD")
MISSING = "missing"  # the digest recorded for an input that is not there
MAX_RECORD_BYTES = 256 * 1024 * 1024  # a record of 100,000 chains is about 20 MB
MAX_COST = Decimal(10) ** 15  # USD per month; a policy's own bounds are far lower
MAX_INPUT_FILES = 50_000  # files under one of SCANNED (the loader's own limits are lower)
PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class ChainSummary:
    refs: tuple[str, ...]
    cost: Decimal | None  # the primary's estimated monthly cost, when a workload is given


@dataclass(frozen=True, slots=True)
class EnvironmentSummary:
    total_cost: Decimal
    agents: Mapping[str, ChainSummary]  # in the environment's order


@dataclass(frozen=True, slots=True)
class CompileSummary:
    """What compile and validate report about a compiled repository."""

    tiers: int
    agents: int
    environments: Mapping[str, EnvironmentSummary]  # the selected ones, in project order


@dataclass(frozen=True, slots=True)
class Mode:
    """What a compile was asked for, beyond its inputs."""

    envs: tuple[str, ...] = ()
    check: bool = False
    write: bool = True
    strict: bool = False

    @property
    def writes_nothing(self) -> bool:
        return self.check or not self.write


@dataclass(frozen=True, slots=True)
class Record:
    """One successful compile, before its mode's finishing (`finish`)."""

    found: tuple[Diagnostic, ...]  # warnings of the compile (no errors: it succeeded)
    waiting: tuple[Diagnostic, ...]  # pending promotions (warnings even with --strict)
    summary: CompileSummary
    outputs: Mapping[str, str]  # repo-relative path of each output -> sha256 of its text
    extra: tuple[str, ...] = ()  # inputs outside the scanned folders (catalogs elsewhere)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What compile and validate print, whether resolved now or replayed from a record."""

    summary: CompileSummary
    report: WriteReport | None
    warnings: tuple[Diagnostic, ...]
    replayed: bool = False


# --------------------------------------------------------------------------- finishing


def dedupe(items: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(dict.fromkeys(items), key=Diagnostic.sort_key)


def _as_dry_run(diag: Diagnostic) -> Diagnostic:
    """Nothing is written: a replaced locked choice *would be* replaced."""
    if diag.code != "PC207":
        return diag
    return Diagnostic(
        diag.code, diag.severity, diag.message.replace(REPLACED, WOULD_BE_REPLACED), diag.span,
        diag.notes,
    )  # fmt: skip


def _as_error(diag: Diagnostic) -> Diagnostic:
    if diag.severity is Severity.ERROR:
        return diag
    notes = (*diag.notes, "note: an error because of --strict")
    return Diagnostic(diag.code, Severity.ERROR, diag.message, diag.span, notes)


def finish(
    found: Iterable[Diagnostic], waiting: Iterable[Diagnostic], mode: Mode
) -> tuple[Diagnostic, ...]:
    """The warnings a compile reports in `mode` (PC207 reworded when nothing is written).

    Raises:
        CompileError: every diagnostic when one is an error (with --strict: any warning).
    """
    items = dedupe(found)
    if mode.writes_nothing:
        items = [_as_dry_run(d) for d in items]
    if mode.strict:
        items = [_as_error(d) for d in items]
    raise_if_errors(items)
    return tuple(dedupe([d for d in items if d.severity is Severity.WARNING] + list(waiting)))


# --------------------------------------------------------------------------- fingerprint


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Unreadable(Exception):
    """An input clawpolicy would refuse to read (outside the repository, not a regular file,
    over a limit): no record describes it, so the compile runs in full and reports it."""


def _file_digest(root: Path, path: Path) -> str:
    """sha256 of one input, read as the loader reads (inside `root`, regular, capped)."""
    try:
        return digest(repofiles.read_bytes(path, repofiles.MAX_DATA_BYTES, root))
    except FileNotFoundError:
        return MISSING
    except repofiles.FileProblem as exc:
        raise _Unreadable(str(exc)) from None


def _walk(root: Path, top: str, found: dict[str, str]) -> None:
    """sha256 of every file below `top`, the target of every symlink on the way (a file moved
    behind a symlink reads the same bytes, yet the loader or writer may refuse it), and the
    folders of rendered/ by name (PC305). Never leaves `root`, never opens a FIFO or device."""
    start = root / top
    if not os.path.lexists(start):
        return
    pending = [(start, 0)]
    visited = 0
    while pending:
        current, depth = pending.pop()
        visited += 1
        if visited > MAX_INPUT_FILES or depth > repofiles.MAX_WALK_DEPTH:
            raise _Unreadable(f"{top} is too large or too deep")
        _note_link(root, current, found)
        try:
            repofiles.confine(root, current)
            with os.scandir(current) as entries:
                names = sorted(entry.name for entry in entries)
        except (repofiles.FileProblem, OSError) as exc:
            raise _Unreadable(str(exc)) from None
        for name in names:
            path = current / name
            relative = path.relative_to(root).as_posix()
            if path.is_dir():
                if current == start and top == OUTPUT_DIR:
                    found[f"{relative}/"] = FOLDER
                pending.append((path, depth + 1))
            else:
                _note_link(root, path, found)
                found[relative] = _file_digest(root, path)
            if len(found) > MAX_INPUT_FILES:
                raise _Unreadable(f"{top} holds more than {MAX_INPUT_FILES} files")


def _note_link(root: Path, path: Path, found: dict[str, str]) -> None:
    if path.is_symlink():
        found[f"{path.relative_to(root).as_posix()}@"] = "link:" + os.readlink(path)


def fingerprint(root: Path, extra: Iterable[str] = ()) -> dict[str, str] | None:
    """Repo-relative path -> sha256 of every file a compile of `root` may read or write; None
    when one cannot be read the way the loader reads (then no record applies)."""
    found: dict[str, str] = {}
    try:
        for top in SCANNED:
            _walk(root, top, found)
        for relpath in extra:
            if relpath not in found:
                _note_link(root, root / relpath, found)
                found[relpath] = _file_digest(root, root / relpath)
    except _Unreadable:
        return None
    return found


def _build() -> str:
    """The clawpolicy that compiles: version, Python, its files and libraries, so an edited
    or reinstalled compiler never trusts another's records."""
    return digest("\n".join([__version__, sys.version, _installed()]).encode("utf-8"))


@functools.cache
def _installed() -> str:
    """Every file of the package (size and time) and the runtime libraries' versions: read
    once per process (a run checks a record, then keeps one)."""
    parts = []
    for folder, dirs, files in os.walk(PACKAGE):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            stat = (Path(folder) / name).stat()
            relative = Path(folder, name).relative_to(PACKAGE).as_posix()
            parts.append(f"{relative}:{stat.st_size}:{stat.st_mtime_ns}")
    libraries = []
    for name in RUNTIME_LIBRARIES:
        try:
            libraries.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            libraries.append(f"{name} missing")
    return "\n".join([*libraries, *sorted(parts)])


def _key(mode: Mode) -> str:
    return digest(json.dumps([_build(), sorted(set(mode.envs))]).encode("utf-8"))


# --------------------------------------------------------------------------- records


def _is_set(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in ("", "0", "false")


def record_path(root: Path) -> Path | None:
    """Where the records of the repository at `root` live (None: records are off)."""
    if any(_is_set(os.environ.get(name)) for name in CI_VARIABLES):
        return None
    configured = os.environ.get("CLAWPOLICY_CACHE_DIR")
    if configured is not None and not configured.strip():
        return None
    if configured:
        base = Path(configured)
    else:
        home = os.environ.get("XDG_CACHE_HOME")
        if not home:
            try:
                home = str(Path.home() / ".cache")
            except RuntimeError:  # no HOME and no passwd entry (an arbitrary-uid container)
                return None
        base = Path(home) / "clawpolicy"
    name = digest(str(root.resolve()).encode("utf-8"))[:32]
    return base / "compile" / f"{name}.json"


def _diagnostic_json(diag: Diagnostic) -> list[Any]:
    span = diag.span
    where = [span.path, span.line, span.column] if span is not None else None
    notes = [redact_text(note) for note in diag.notes]  # the file holds no secret either
    return [diag.code, diag.severity.value, redact_text(diag.message), where, notes]


def _diagnostic(item: Sequence[Any]) -> Diagnostic:
    code, severity, message, where, notes = item
    span = Span(str(where[0]), int(where[1]), int(where[2])) if where is not None else None
    return Diagnostic(str(code), Severity(severity), str(message), span, tuple(map(str, notes)))


def _cost(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _summary_json(summary: CompileSummary) -> dict[str, Any]:
    return {
        "tiers": summary.tiers,
        "agents": summary.agents,
        "environments": {
            name: {
                "cost": str(env.total_cost),
                "agents": [[key, list(c.refs), _cost(c.cost)] for key, c in env.agents.items()],
            }
            for name, env in summary.environments.items()
        },
    }


def _money(text: Any) -> Decimal:
    """A cost read back from a record; anything but a plausible number (finite, within far
    more than the bounds a policy allows) is a corrupt record."""
    value = Decimal(str(text)[:64])
    if not value.is_finite() or abs(value) > MAX_COST:
        raise ValueError(f"not a cost: {text!r}")
    return value


def _summary(data: Mapping[str, Any]) -> CompileSummary:
    environments = {
        str(name): EnvironmentSummary(
            _money(body["cost"]),
            {
                str(key): ChainSummary(
                    tuple(map(str, refs)), None if cost is None else _money(cost)
                )
                for key, refs, cost in body["agents"]
            },
        )
        for name, body in data["environments"].items()
    }
    return CompileSummary(int(data["tiers"]), int(data["agents"]), environments)


def _read(path: Path, mode: Mode) -> tuple[Record, dict[str, str]] | None:
    try:
        data = json.loads(repofiles.read_bytes(path, MAX_RECORD_BYTES))
        if data["format"] != FORMAT or data["version"] != VERSION or data["key"] != _key(mode):
            return None
        record = Record(
            tuple(_diagnostic(item) for item in data["found"]),
            tuple(_diagnostic(item) for item in data["waiting"]),
            _summary(data["summary"]),
            {str(k): str(v) for k, v in data["outputs"].items()},
            tuple(map(str, data["extra"])),
        )
        return record, {str(k): str(v) for k, v in data["inputs"].items()}
    except (
        OSError,
        repofiles.FileProblem,
        ArithmeticError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        RecursionError,
    ):
        return None  # absent, unreadable or not ours: compile in full


def replay(root: Path, mode: Mode) -> Outcome | None:
    """The outcome of compiling `root` in `mode`, from the record of an earlier compile of the
    very same inputs; None when there is none (or when compile would have to write).

    Raises:
        CompileError: as the compile it replays (with --strict, its warnings).
    """
    path = record_path(root)
    found = _read(path, mode) if path is not None else None
    if found is None:
        return None
    record, inputs = found
    # a writing run is refused (PC309) beside another, as in full
    with nullcontext() if mode.writes_nothing else write_lock(root):
        now = fingerprint(root, record.extra)
    if now is None or now != inputs:
        return None
    stale = sorted(p for p, d in record.outputs.items() if now.get(p) != d)
    if stale and not mode.writes_nothing:
        return None  # the outputs must be written: resolve and render them
    warnings = finish(record.found, record.waiting, mode)
    report = None
    if mode.write or mode.check:
        fresh = sorted(p for p in record.outputs if p not in stale)
        report = WriteReport(tuple(stale), tuple(fresh), mode.check)
    return Outcome(record.summary, report, warnings, replayed=True)


def store(
    root: Path,
    mode: Mode,
    record: Record,
    before: Mapping[str, str],
    read: Mapping[str, str] | None = None,
) -> None:
    """Keep `record` of a compile that read the files `before` describes (and `read`: the
    sha256 of each file the loader read, as it read it) and wrote its outputs (when `mode`
    writes). Nothing is kept when an input changed while it ran, even changed and back."""
    path = record_path(root)
    if path is None:
        return
    expected = dict(before)
    for relpath, sha in (read or {}).items():
        if expected.setdefault(relpath, sha) != sha:
            return  # the loader read other bytes than the fingerprint saw
    found = record.found
    if not mode.writes_nothing:
        written = [p for p, d in record.outputs.items() if before.get(p) != d]
        expected.update({p: record.outputs[p] for p in written})
        expected.update({f"{OUTPUT_DIR}/{p.split('/')[1]}/": FOLDER for p in written})
        if written:  # the next compile reads the new locks: nothing is replaced any more
            found = tuple(d for d in found if d.code != "PC207")
    if fingerprint(root, record.extra) != expected:
        return
    document = {
        "format": FORMAT,
        "version": VERSION,
        "key": _key(mode),
        "inputs": expected,
        "extra": list(record.extra),
        "outputs": dict(record.outputs),
        "found": [_diagnostic_json(d) for d in found],
        "waiting": [_diagnostic_json(d) for d in record.waiting],
        "summary": _summary_json(record.summary),
    }
    with suppress(CompileError, OSError):  # a record not kept only costs the next compile time
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)  # records are the user's own: no one else reads them
        write_file(path, json.dumps(document, separators=(",", ":")).encode("utf-8"))
