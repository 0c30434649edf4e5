"""The `clawpolicy catalog` commands: import, fetch and diff catalog snapshots. No logic here.

Each command parses its options, calls the importers, the fetcher or the catalog differ, and
prints: results on stdout, the summary, progress and diagnostics on stderr. Exit codes as in
`compiler.cli.base`: 0 ok, 1 `diff` found differences, 2 user error (`path: error[PC5xx]: ...`),
3 internal error. A snapshot is written atomically and only when nothing failed.
"""

import dataclasses
import functools
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..diagnostics import CompileError, Span, error
from .base import EXIT_CHANGES, EXIT_OK, Output, SafeGroup, user_errors

if TYPE_CHECKING:
    from ..catalogs.importers import ImportOptions, ImportResult

# The importers' names (a test holds them equal to IMPORTERS), written out so that loading the
# command line (shell completion, --help) does not import the importers and pydantic.
FORMATS = ("infron", "litellm", "modelsdev", "openrouter")

IMPORT_EPILOG = """\b
Examples:
  clawpolicy catalog import models.json --format openrouter --date 2026-06-16 \\
      -o policies/catalogs/openrouter-2026-06-16.json
  clawpolicy catalog import api.json --format modelsdev --only-provider anthropic \\
      --only-provider openai --date 2026-07-01 -o policies/catalogs/direct.json
  clawpolicy catalog import prices.json --format litellm --date 2026-11-20 -o litellm.json
"""
FETCH_EPILOG = """\b
Examples:
  clawpolicy catalog fetch --format openrouter -o policies/catalogs/openrouter.json
  clawpolicy catalog fetch --format infron --provider infron -o policies/catalogs/infron.json
  clawpolicy catalog fetch --format openrouter --url http://127.0.0.1:8000/models -o x.json
"""
DIFF_EPILOG = """\b
Examples:
  clawpolicy catalog diff policies/catalogs/old.json new.json
  clawpolicy catalog diff old.json new.json --format markdown > comment.md
  clawpolicy catalog diff old.json new.json --format json | jq '.offers.added'
"""


@click.group("catalog", cls=SafeGroup)
def catalog() -> None:
    """Import, fetch and compare model-catalog snapshots."""


@dataclass(frozen=True, slots=True)
class Source:
    """The options `import` and `fetch` share: what the native catalog is and where it goes."""

    fmt: str
    provider: str | None
    only: tuple[str, ...]
    as_of: datetime | None
    report: str  # text | json: how to report what was written
    out: Path


def _source_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the shared options; the command gets one `source: Source` argument."""

    @functools.wraps(func)
    def command(
        *args: Any,
        fmt: str,
        provider: str | None,
        only: tuple[str, ...],
        as_of: datetime | None,
        report: str,
        out: Path,
        **kwargs: Any,
    ) -> Any:
        source = Source(fmt, provider, only, as_of, report, out)
        return func(*args, source=source, **kwargs)

    options = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            required=True,
            help="The native catalog format.",
        ),
        click.option(
            "--provider",
            default=None,
            metavar="NAME",
            help="openrouter/infron: provider id of every offer.",
        ),
        click.option(
            "--only-provider",
            "only",
            multiple=True,
            metavar="ID",
            help="modelsdev/litellm: keep this provider (repeatable).",
        ),
        click.option(
            "--date",
            "as_of",
            type=click.DateTime(["%Y-%m-%d"]),
            default=None,
            metavar="YYYY-MM-DD",
            help="Snapshot date YYYY-MM-DD (default: what the source states).",
        ),
        click.option(
            "-o",
            "--output",
            "out",
            type=click.Path(dir_okay=False, path_type=Path),
            required=True,
            help="Where to write the snapshot.",
        ),
        click.option(
            "--report-format",
            "report",
            type=click.Choice(("text", "json")),
            default="text",
            show_default=True,
            help="What was written: a text summary on stderr, or JSON on stdout "
            "(--format names the native catalog format here).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@catalog.command("import", epilog=IMPORT_EPILOG)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_source_options
def import_command(file: Path, source: Source) -> None:
    """Normalize a native catalog FILE into a clawpolicy snapshot."""
    from ..catalogs.importers import IMPORTERS
    from ..load.catalog import serialize_snapshot

    printer = Output(source.report)
    with user_errors(printer):
        started = time.perf_counter()
        document = _read_json(file)
        _check_format(document, source.fmt, file)
        options = _options(source, source.as_of, str(file), f"{source.fmt}:{file.name}")
        result = IMPORTERS[source.fmt](document, options)
        _write(source.out, serialize_snapshot(result.snapshot))
        _report(printer, result, source.out, time.perf_counter() - started)


@catalog.command("fetch", epilog=FETCH_EPILOG)
@click.option("--url", default=None, help="Where to download from (default: the format's API).")
@_source_options
def fetch_command(url: str | None, source: Source) -> None:
    """Download a native catalog (following pages) and write its snapshot."""
    from ..catalogs.fetcher import DEFAULT_URLS, fetch_catalog
    from ..catalogs.importers import IMPORTERS
    from ..load.catalog import serialize_snapshot
    from ..redaction import redact_url

    printer = Output(source.report)
    with user_errors(printer):
        started = time.perf_counter()
        target = url or DEFAULT_URLS[source.fmt]
        progress = _progress_writer()
        fetched = fetch_catalog(target, progress=progress)
        if progress:
            printer.echo("", err=True)
        day = source.as_of or _as_datetime(fetched.server_date)
        shown = redact_url(target)
        options = _options(source, day, shown, f"{source.fmt}:{shown}")
        result = IMPORTERS[source.fmt](fetched.document, options)
        _write(source.out, serialize_snapshot(result.snapshot))
        _report(printer, result, source.out, time.perf_counter() - started)


@catalog.command("diff", epilog=DIFF_EPILOG)
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "markdown", "json")),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Policy repository: also list the agents whose chain changes when an environment "
    "that uses OLD moves to NEW (computed by resolving).",
)
def diff_command(old: Path, new: Path, fmt: str, root: Path | None) -> None:
    """Offers added, removed, repriced or newly deprecated between two snapshots OLD and NEW."""
    from ..catalogs.catalogdiff import diff_catalogs, format_markdown, format_text, to_payload

    printer = Output(fmt)
    with user_errors(printer):
        new_snapshot = _read_snapshot(new)
        report = diff_catalogs(_read_snapshot(old), new_snapshot)
        if root is not None:
            from ..catalogs.impact import affected_agents

            moved = affected_agents(root, old, new_snapshot)
            report = dataclasses.replace(report, affected_agents=moved)
    if fmt == "json":
        printer.report(to_payload(report))
    else:
        printer.echo((format_markdown if fmt == "markdown" else format_text)(report))
    raise SystemExit(EXIT_CHANGES if report.has_differences else EXIT_OK)


# --------------------------------------------------------------------------- helpers


def _options(source: Source, as_of: datetime | None, path: str, label: str) -> "ImportOptions":
    from ..catalogs.importers import MULTI_PROVIDER_FORMATS, ImportOptions

    fmt = source.fmt
    if source.provider is not None and fmt in MULTI_PROVIDER_FORMATS:
        raise _usage(path, f"--provider does not apply to --format {fmt}; use --only-provider")
    if source.only and fmt not in MULTI_PROVIDER_FORMATS:
        raise _usage(path, f"--only-provider does not apply to --format {fmt}; use --provider")
    day = as_of.date() if as_of else None
    return ImportOptions(day, source.provider, tuple(dict.fromkeys(source.only)), path, label)


def _usage(path: str, message: str) -> CompileError:
    return CompileError((error("PC501", message, Span(path)),))


def _as_datetime(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day) if day else None


def _read_file(path: Path, code: str) -> str:
    """A file named on the command line: a regular file of at most MAX_DATA_BYTES, UTF-8."""
    from ..load.repofiles import MAX_DATA_BYTES, FileProblem, read_text

    try:
        return read_text(path, MAX_DATA_BYTES)
    except FileProblem as exc:
        raise CompileError((error(code, str(exc), Span(str(path))),)) from None
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
        raise CompileError((error(code, message, Span(str(path))),)) from None


def _read_json(path: Path) -> Any:
    text = _read_file(path, "PC501")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        span = Span(str(path), exc.lineno, exc.colno)
        raise CompileError((error("PC501", f"not valid JSON: {exc.msg}", span),)) from None
    except ValueError as exc:  # Python's limit on integer digits
        raise _usage(str(path), f"not valid JSON: {exc}") from None
    except RecursionError:
        raise CompileError((error("PC501", "JSON nested too deeply", Span(str(path))),)) from None


def _check_format(document: Any, fmt: str, path: Path) -> None:
    """A file that clearly is another native format is named as such, before anything else."""
    from ..catalogs.importers import guess_format

    guessed = guess_format(document)
    same_shape = {guessed, fmt} <= {"openrouter", "infron"}  # both are `{"data": [...]}`
    if guessed is not None and guessed != fmt and not same_shape:
        raise CompileError(
            (
                error(
                    "PC501",
                    f"the file looks like the {guessed} format, not {fmt}",
                    Span(str(path)),
                    f"hint: --format {guessed}",
                ),
            )
        )


def _read_snapshot(path: Path) -> Any:
    from pydantic import ValidationError

    from ..catalogs.importers import guess_format
    from ..load.catalog import describe_validation_error, parse_snapshot

    text = _read_file(path, "PC501")
    try:
        return parse_snapshot(text)
    except ValidationError as exc:
        raw = json.loads(text)
        native = guess_format(raw)
        if native is not None:
            hint = f"hint: convert it first: clawpolicy catalog import {path} --format {native}"
            raise CompileError(
                (
                    error(
                        "PC110", f"a native {native} catalog, not a snapshot", Span(str(path)), hint
                    ),
                )
            ) from None
        lines = describe_validation_error(exc, raw)
        notes = tuple(f"note: {line}" for line in lines)
        raise CompileError(
            (error("PC110", "not a valid catalog snapshot", Span(str(path)), *notes),)
        ) from None
    except ValueError as exc:
        raise _usage(str(path), f"not valid JSON: {exc}") from None


def _write(out: Path, text: str) -> None:
    from ..output.writer import write_file

    write_file(out, text.encode("utf-8"))


def _report(printer: Output, result: "ImportResult", out: Path, seconds: float) -> None:
    """The text summary on stderr, or the JSON envelope on stdout (no timing: it is not
    reproducible)."""
    if printer.format != "json":
        printer.echo(_summary(result, out, seconds), err=True)
        return
    payload = {
        "output": str(out),
        "date": result.snapshot.date.isoformat(),
        "offers_written": len(result.snapshot.offers),
        "skipped": dict(result.skipped),
    }
    printer.report(payload)


def _summary(result: "ImportResult", out: Path, seconds: float) -> str:
    skipped: Mapping[str, int] = result.skipped
    lines = [
        f"wrote {len(result.snapshot.offers)} offers to {out} "
        f"(snapshot date {result.snapshot.date.isoformat()}) in {seconds:.2f} s"
    ]
    if skipped:
        lines.append(f"skipped {sum(skipped.values())} entries:")
        lines += [f"  {count:6d}  {reason}" for reason, count in skipped.items()]
    return "\n".join(lines)


def _progress_writer() -> Callable[[str], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(line: str) -> None:
        Output().echo(f"\r{line}\x1b[K", err=True, nl=False, styled=True)  # counts only

    return show
