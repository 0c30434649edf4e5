"""The conventions every clawpolicy command follows: shared options (`--root`, `--format`,
`--quiet`, `--no-color`, `--max-errors`), how results and diagnostics are printed (stdout and
stderr, colour only on a terminal, GitHub annotations, the one JSON envelope of every
`--format json` output), and the exit codes, with CompileError as exit 2 and anything
unexpected as exit 3 with the traceback.

Colour, most decisive first: `--no-color`, then `NO_COLOR` (non-empty: off), then
`FORCE_COLOR` (non-empty: on, even off a terminal), then `TERM=dumb` (off), else on exactly
when the stream is a terminal.

Exit codes (every command):
    0  success; no changes (`diff`), outputs up to date (`compile --check`)
    1  changes found (`diff`), outputs would change (`compile --check`)
    2  user error: bad YAML, schema, unsatisfiable policy, template error, unknown ref, bad usage
    3  internal error: "please report", with the traceback

The command modules (`cli.main`, `cli.catalog`, `cli.gitops`) import this one; it imports none of
them, so any of them can be imported first.
"""

import dataclasses
import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import click

from .. import diagnostics, jsontext
from ..diagnostics import CompileError, Diagnostic, Severity
from ..jsontext import chain_json
from ..redaction import printable, redact_text

if TYPE_CHECKING:
    from ..output.incremental import EnvironmentSummary
    from ..resolve.resolver import Resolution

EXIT_OK, EXIT_CHANGES, EXIT_USER, EXIT_INTERNAL = 0, 1, 2, 3
JSON_VERSION = 1  # of the envelope and every payload documented in docs/json.md
ENVELOPE_KEYS = ("format", "version", "ok", "diagnostics")
TOP_GROUP = "clawpolicy"  # the name of the click group every command hangs from


@dataclass(frozen=True, slots=True)
class Output:
    """How to print: format of the report, quiet, colour, error cap. Every text a command
    prints goes through one of these methods, and each runs the redaction pass over it."""

    format: str = "text"
    quiet: bool = False
    color: bool = False  # on stderr (diagnostics)
    max_errors: int = 20
    path_prefix: str = ""  # the policy repo's folder within the git repository (annotations)
    result_color: bool = False  # on stdout (reports such as the diff)

    def diagnostics(self, items: Sequence[Diagnostic]) -> None:
        if not items:
            return
        if self.format == "github":
            text = diagnostics.format_github(items, self.path_prefix, self.max_errors)
        elif self.format == "json":
            return  # json reports carry their diagnostics on stdout
        else:
            text = diagnostics.format_text(items, self.max_errors, self.color)
        self.echo(text, err=True, styled=True, color=self.color)  # bounded() escaped each part

    def result(self, text: str, styled: bool = False) -> None:
        """A report on stdout (`styled`: it carries our colours, its values escaped already)."""
        if not self.quiet or self.format == "json":
            self.echo(text, styled=styled, color=self.result_color)

    def report(self, payload: Mapping[str, Any], found: Sequence[Diagnostic] = ()) -> None:
        """Print a successful `--format json` result: the envelope around `payload`."""
        self.result(json_envelope(payload, found))

    def echo(
        self,
        text: str,
        err: bool = False,
        nl: bool | None = None,
        styled: bool = False,
        color: bool | None = None,
    ) -> None:
        """Print `text` (stdout, or stderr with `err`), redacted, its control characters shown
        as escapes (`styled`: it carries our own colours, its parts were escaped already); by
        default it ends in one newline (`nl=False`: as it is, for progress lines)."""
        shown = redact_text(text if styled else printable(text))
        end = not text.endswith("\n") if nl is None else nl
        click.echo(shown, err=err, nl=end, color=color)


def annotation_prefix(root: Path) -> str:
    """Where the policy repo sits inside the checkout GitHub annotates ("" at its top).

    GitHub resolves annotation paths against GITHUB_WORKSPACE; elsewhere the git top level
    (the nearest folder with a .git) stands in for it.
    """
    root = root.resolve()
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        base = Path(workspace).resolve()
    else:
        base = next((p for p in (root, *root.parents) if (p / ".git").exists()), root)
    if not root.is_relative_to(base) or root == base:
        return ""
    return root.relative_to(base).as_posix() + "/"


def use_color(no_color: bool, stream: TextIO) -> bool:
    """Whether to colour `stream` (the order of precedence is in the module docstring)."""
    if no_color or os.environ.get("NO_COLOR"):  # no-color.org: only a non-empty value counts
        return False
    if os.environ.get("FORCE_COLOR"):  # force-color.org: any non-empty value forces colour
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    return stream.isatty()


def command_name() -> str:
    """The running command as the envelope names it: `compile`, `catalog-diff`, ... (the
    names of the nested click commands, without the top-level `clawpolicy` group)."""
    names = []
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        names.append(ctx.command.name or "")
        ctx = ctx.parent
    if names and names[-1] == TOP_GROUP:
        names.pop()
    return "-".join(reversed(names))


def environments_json(
    resolutions: Mapping[str, "Resolution"] | Mapping[str, "EnvironmentSummary"],
) -> dict[str, Any]:
    """Every compiled environment: its monthly cost and each agent's chain (docs/json.md)."""
    return {
        name: {
            "monthly_cost": resolution.total_cost,
            "agents": [
                {"agent": agent_id, "chain": chain_json(chain.refs, chain.cost)}
                for agent_id, chain in resolution.agents.items()
            ],
        }
        for name, resolution in resolutions.items()
    }


def json_envelope(
    payload: Mapping[str, Any], found: Sequence[Diagnostic] = (), ok: bool | None = None
) -> str:
    """The one shape of every `--format json` output (docs/json.md):
    `{"format": "clawpolicy-<command>", "version": 1, "ok", "diagnostics", ...payload}`.

    `ok` defaults to "no diagnostic is an error". Decimals become JSON numbers.
    """
    clash = set(ENVELOPE_KEYS) & set(payload)
    if clash:
        raise ValueError(f"payload keys {sorted(clash)} are the envelope's")
    from ..load.catalog import json_ready  # not at the top: loading the CLI skips pydantic

    if ok is None:
        ok = not any(d.severity is Severity.ERROR for d in found)
    document = {
        "format": f"clawpolicy-{command_name()}",
        "version": JSON_VERSION,
        "ok": ok,
        "diagnostics": [diagnostics.to_json(d) for d in found],
        **payload,
    }
    return jsontext.dumps(json_ready(document))


@dataclass(frozen=True, slots=True)
class Common:
    """What every command shares: the policy repository and how to print."""

    root: Path
    out: Output


def common_options(formats: Sequence[str]) -> Callable[[Any], Any]:
    """Add --root, --format, --quiet, --no-color and --max-errors; the command gets one
    `common: Common` argument instead of five."""

    def decorate(func: Any) -> Any:
        @functools.wraps(func)
        def command(
            *args: Any,
            root: Path,
            fmt: str,
            quiet: bool,
            no_color: bool,
            max_errors: int,
            **kwargs: Any,
        ) -> Any:
            out = make_output(fmt, quiet, no_color, max_errors)
            if fmt == "github":
                out = dataclasses.replace(out, path_prefix=annotation_prefix(root))
            return func(*args, common=Common(root, out), **kwargs)

        for option in reversed(_common_option_list(formats)):
            command = option(command)
        return command

    return decorate


def output_options(formats: Sequence[str]) -> Callable[[Any], Any]:
    """Add --format, --quiet, --no-color and --max-errors (not --root); the command gets one
    `out: Output` argument (for `init`, whose repository is its DIR argument)."""

    def decorate(func: Any) -> Any:
        @functools.wraps(func)
        def command(
            *args: Any, fmt: str, quiet: bool, no_color: bool, max_errors: int, **kwargs: Any
        ) -> Any:
            return func(*args, out=make_output(fmt, quiet, no_color, max_errors), **kwargs)

        for option in reversed(_common_option_list(formats)[1:]):
            command = option(command)
        return command

    return decorate


def _common_option_list(formats: Sequence[str]) -> list[Callable[[Any], Any]]:
    return [
        click.option(
            "--root",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("."),
            show_default=True,
            help="The policy repository.",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(formats),
            default=formats[0],
            show_default=True,
            help="Output format.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Print only problems."),
        click.option("--no-color", is_flag=True, help="Never colour (also: NO_COLOR)."),
        click.option(
            "--max-errors",
            type=click.IntRange(1),
            default=20,
            show_default=True,
            help="Show at most this many diagnostics.",
        ),
    ]


@contextmanager
def user_errors(out: Output) -> Iterator[None]:
    """A CompileError inside becomes its diagnostics and exit 2."""
    try:
        yield
    except CompileError as exc:
        fail(out, exc)


def make_output(fmt: str, quiet: bool, no_color: bool, max_errors: int) -> Output:
    return Output(
        fmt,
        quiet,
        use_color(no_color, sys.stderr),
        max_errors,
        result_color=use_color(no_color, sys.stdout),
    )


def fail(out: Output, exc: CompileError, payload: Mapping[str, Any] | None = None) -> NoReturn:
    """Print a CompileError's diagnostics (in JSON: the envelope with ok false) and exit 2."""
    if out.format == "json":
        out.result(json_envelope(payload or {}, exc.diagnostics, ok=False))
    out.diagnostics(exc.diagnostics)
    raise SystemExit(EXIT_USER)


class SafeGroup(click.Group):
    """Turns unexpected exceptions into exit 3 with a traceback (CompileError never gets here)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:  # usage errors echo the bad value: redact it
            setattr(exc, "message", redact_text(exc.message))  # noqa: B010 (Final in click's stubs)
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except Exception:
            out = Output()
            out.echo("clawpolicy: internal error, please report it with this traceback:", err=True)
            out.echo(traceback.format_exc(), err=True)
            raise SystemExit(EXIT_INTERNAL) from None
