"""Diagnostics shared by every stage: Span, Diagnostic, CompileError and the error-code table.

Every user-facing problem is a `Diagnostic` with a stable code (tests assert codes, not prose).
Formatting for terminals, JSON and GitHub annotations lives here too, so every command prints
problems the same way.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from .redaction import printable


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Span(NamedTuple):
    """A place in a source file: repo-relative POSIX path, 1-based line and column.

    A NamedTuple rather than a frozen dataclass: the YAML loader makes one per node, and a tuple
    is several times cheaper to create.
    """

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span | None = None
    notes: tuple[str, ...] = ()

    def sort_key(self) -> tuple[str, int, int, str, str]:
        span = self.span or Span("")
        return (span.path, span.line, span.column, self.code, self.message)


def error(code: str, message: str, span: Span | None = None, *notes: str) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, tuple(notes))


def warning(code: str, message: str, span: Span | None = None, *notes: str) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, tuple(notes))


@dataclass(slots=True)
class CompileError(Exception):
    """The only exception the CLI treats as a user error (exit 2)."""

    diagnostics: tuple[Diagnostic, ...] = field(default=())

    def __str__(self) -> str:
        return "\n".join(format_text_one(d) for d in self.diagnostics)


def raise_if_errors(diagnostics: Iterable[Diagnostic]) -> None:
    """Raise one CompileError holding every diagnostic when any of them is an error."""
    items = tuple(diagnostics)
    if any(d.severity is Severity.ERROR for d in items):
        raise CompileError(tuple(sorted(items, key=Diagnostic.sort_key)))


# code -> short title. Ranges: PC0xx YAML, PC1xx schema and references, PC2xx resolution,
# PC3xx rendering and output checks, PC4xx git and diff, PC5xx catalogs, PC9xx internal.
CODES: dict[str, str] = {
    "PC001": "YAML syntax error",
    "PC002": "duplicate key",
    "PC003": "file cannot be read",
    "PC101": "unknown key",
    "PC102": "missing key",
    "PC103": "invalid value",
    "PC104": "unknown tier",
    "PC105": "duplicate agent id",
    "PC106": "invalid agent id",
    "PC107": "literal secret",
    "PC108": "unknown environment",
    "PC109": "invalid glob or reference",
    "PC110": "catalog file invalid",
    "PC111": "duplicate offer across catalogs",
    "PC112": "no policies found",
    "PC113": "team matches nothing",
    "PC114": "template not found",
    "PC115": "unknown provider",
    "PC116": "environment deploys no agents",
    "PC117": "name differs from its file name",
    "PC118": "promote_from cycle",
    "PC201": "no candidate satisfies the constraints",
    "PC202": "pinned model does not satisfy the constraints",
    "PC203": "fewer candidates than the chain asks for",
    "PC204": "environment budget exceeded",
    "PC205": "agent was never promoted",
    "PC206": "tier alias not emitted",
    "PC207": "locked choice replaced",
    "PC208": "promoted chain does not fit the target environment",
    "PC301": "template syntax error",
    "PC302": "rendered template is not valid JSON",
    "PC303": "template render error",
    "PC304": "output check failed",
    "PC305": "rendered output is stale",
    "PC308": "output cannot be written",
    "PC309": "another clawpolicy run is writing",
    "PC401": "unknown git ref",
    "PC402": "not a git repository",
    "PC403": "cannot read committed file",
    "PC501": "catalog import error",
    "PC502": "catalog fetch error",
    "PC901": "internal error",
}


# Caps on what one run prints, so no input can flood a terminal or a CI log: each message and
# note is clipped, a diagnostic keeps its first notes, and the whole text stops at a size.
MAX_MESSAGE_CHARS = 2000
MAX_NOTE_CHARS = 1000
MAX_NOTES = 30
MAX_OUTPUT_CHARS = 256 * 1024


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 30]}... ({len(text)} characters)"


def bounded(diag: Diagnostic) -> Diagnostic:
    """The diagnostic with its message and notes clipped to the caps above.

    Example:
        >>> d = bounded(error("PC101", "x" * 5000, None, *["note"] * 40))
        >>> len(d.message) < 2000, len(d.notes), d.notes[-1]
        (True, 31, '... and 10 more notes')
    """
    notes = [printable(_clip(note, MAX_NOTE_CHARS)) for note in diag.notes[:MAX_NOTES]]
    if len(diag.notes) > MAX_NOTES:
        notes.append(f"... and {len(diag.notes) - MAX_NOTES} more notes")
    message = printable(_clip(diag.message, MAX_MESSAGE_CHARS))
    span = diag.span and Span(printable(diag.span.path), diag.span.line, diag.span.column)
    return Diagnostic(diag.code, diag.severity, message, span, tuple(notes))


def format_text_one(diag: Diagnostic, color: bool = False) -> str:
    """Render one diagnostic as `path:line:col: severity[CODE]: message` plus note lines.

    Example:
        >>> d = error("PC101", "unknown key 'tierr'", Span("policies/a.yaml", 3, 5),
        ...           "hint: did you mean 'tier'?")
        >>> print(format_text_one(d))
        policies/a.yaml:3:5: error[PC101]: unknown key 'tierr'
          hint: did you mean 'tier'?
    """
    diag = bounded(diag)
    head = f"{diag.severity.value}[{diag.code}]"
    if color:
        tint = "\x1b[31;1m" if diag.severity is Severity.ERROR else "\x1b[33;1m"
        head = f"{tint}{head}\x1b[0m"
    where = f"{diag.span}: " if diag.span else ""
    lines = [f"{where}{head}: {diag.message}"]
    lines.extend(f"  {note}" for note in diag.notes)
    return "\n".join(lines)


def format_text(
    diagnostics: Iterable[Diagnostic], max_errors: int = 20, color: bool = False
) -> str:
    items = list(diagnostics)
    shown: list[str] = []
    size = 0
    for index, diag in enumerate(items[:max_errors]):
        text = format_text_one(diag, color)
        size += len(text) + 1
        if size > MAX_OUTPUT_CHARS:
            shown.append(f"... output cut at {MAX_OUTPUT_CHARS // 1024} KiB")
            shown.append(f"... and {len(items) - index} more")
            return "\n".join(shown)
        shown.append(text)
    if len(items) > max_errors:
        shown.append(f"... and {len(items) - max_errors} more")
    return "\n".join(shown)


def _github_escape(text: str, is_property: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if is_property:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(
    diagnostics: Iterable[Diagnostic], prefix: str = "", max_errors: int = 1000
) -> str:
    """GitHub Actions workflow commands, one annotation per diagnostic; `prefix` turns
    policy-repo paths into repository paths (a policy repo may live in a subfolder).

    Example:
        >>> print(format_github([warning("PC203", "short chain", Span("p.yaml", 2, 3))], "ops/"))
        ::warning file=ops/p.yaml,line=2,col=3,title=PC203::short chain
    """
    lines = []
    items = list(diagnostics)
    for diag in map(bounded, items[:max_errors]):
        props = []
        if diag.span:
            props.append(f"file={_github_escape(prefix + diag.span.path, True)}")
            if diag.span.line > 0:
                props.append(f"line={diag.span.line},col={diag.span.column}")
        props.append(f"title={diag.code}")
        body = "\n".join((diag.message, *diag.notes))
        lines.append(f"::{diag.severity.value} {','.join(props)}::{_github_escape(body)}")
    if len(items) > max_errors:
        lines.append(f"::notice title=clawpolicy::... and {len(items) - max_errors} more")
    return "\n".join(lines)


def to_json(diag: Diagnostic) -> dict[str, object]:
    diag = bounded(diag)
    span = diag.span
    return {
        "code": diag.code,
        "severity": diag.severity.value,
        "message": diag.message,
        "path": span.path if span else None,
        "line": span.line if span else None,
        "column": span.column if span else None,
        "notes": list(diag.notes),
    }


def format_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([to_json(d) for d in diagnostics], indent=2)
