"""The `clawpolicy` command line: flags in, `compiler.api` calls, text and an exit code out.

Exit codes (every command):
    0  success; no changes (`diff`), outputs up to date (`compile --check`)
    1  changes found (`diff`), outputs would change (`compile --check`)
    2  user error: bad YAML, schema, unsatisfiable policy, template error, unknown ref, bad usage
    3  internal error: "please report", with the traceback

Results go to stdout, diagnostics to stderr. Colour only on a terminal, never with NO_COLOR or
--no-color.
"""

import dataclasses
import functools
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__, api, diagnostics
from .catalog import json_number
from .diagnostics import CompileError, Diagnostic

EXIT_OK, EXIT_CHANGES, EXIT_USER, EXIT_INTERNAL = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Output:
    """How to print: format of the report, quiet, colour, error cap."""

    format: str = "text"
    quiet: bool = False
    color: bool = False
    max_errors: int = 20
    path_prefix: str = ""  # the policy repo's folder within the git repository (annotations)

    def diagnostics(self, items: Sequence[Diagnostic]) -> None:
        if not items:
            return
        if self.format == "github":
            text = diagnostics.format_github(items, self.path_prefix)
        elif self.format == "json":
            return  # json reports carry their diagnostics on stdout
        else:
            text = diagnostics.format_text(items, self.max_errors, self.color)
        click.echo(text, err=True)

    def result(self, text: str) -> None:
        if not self.quiet or self.format == "json":
            click.echo(text, nl=not text.endswith("\n"))


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


def _use_color(no_color: bool) -> bool:
    # no-color.org: only a non-empty NO_COLOR turns colour off
    return not no_color and not os.environ.get("NO_COLOR") and sys.stderr.isatty()


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
    return Output(fmt, quiet, _use_color(no_color), max_errors)


def fail(out: Output, exc: CompileError) -> NoReturn:
    """Print a CompileError's diagnostics and exit 2."""
    if out.format == "json":
        click.echo(
            json.dumps(
                {"ok": False, "diagnostics": [diagnostics.to_json(d) for d in exc.diagnostics]},
                indent=2,
            )
        )
    out.diagnostics(exc.diagnostics)
    raise SystemExit(EXIT_USER)


class _Group(click.Group):
    """Turns unexpected exceptions into exit 3 with a traceback (CompileError never gets here)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except Exception:
            click.echo(
                "clawpolicy: internal error, please report it with this traceback:", err=True
            )
            click.echo(traceback.format_exc(), err=True)
            raise SystemExit(EXIT_INTERNAL) from None


MAIN_EPILOG = """\b
Examples:
  clawpolicy validate                  check every policy file, write nothing
  clawpolicy compile                   render rendered/<env>/openclaw.json
  clawpolicy compile --check           exit 1 when rendered/ is stale (CI)
  clawpolicy explain support-triage --env prod
  clawpolicy diff --against origin/main --format markdown
  clawpolicy promote staging prod
  clawpolicy what-if --without vendor:anthropic --env prod
  clawpolicy catalog import models.json --format openrouter --date 2026-11-20 -o new.json
  clawpolicy schema > clawpolicy.schema.json

\b
Exit codes: 0 ok / no changes, 1 changes found, 2 user error, 3 internal error.
"""


@click.group(
    cls=_Group, epilog=MAIN_EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="clawpolicy")
def main_group() -> None:
    """Compile YAML model-routing policies into OpenClaw configs (openclaw.json)."""


def _summary(result: api.CompileResult, check: bool) -> str:
    report = result.report
    assert report is not None
    verb = "would change" if check else "wrote"
    lines = [f"{verb} {path}" for path in report.changed]
    lines.append(
        f"{len(result.resolutions)} environment(s), "
        f"{sum(len(r.agents) for r in result.resolutions.values())} agent chain(s); "
        f"{len(report.changed)} file(s) {'out of date' if check else 'changed'}, "
        f"{len(report.unchanged)} unchanged"
    )
    return "\n".join(lines)


def _compile_json(result: api.CompileResult) -> str:
    report = result.report
    return json.dumps(
        {
            "ok": True,
            "changed": list(report.changed) if report else [],
            "unchanged": list(report.unchanged) if report else [],
            "environments": {
                name: {
                    "agents": {k: list(v.refs) for k, v in res.agents.items()},
                    "monthly_cost": json_number(res.total_cost),
                }
                for name, res in result.resolutions.items()
            },
            "diagnostics": [diagnostics.to_json(d) for d in result.warnings],
        },
        indent=2,
    )


COMPILE_EPILOG = """\b
Examples:
  clawpolicy compile                           all environments
  clawpolicy compile --env prod --check        exit 1 if rendered/prod is stale
  clawpolicy compile --upgrade                 re-resolve every chain (ignore locks)
  clawpolicy compile --upgrade support-triage  re-resolve one agent
  clawpolicy compile --check --format github   GitHub annotations
"""


@main_group.command("compile", epilog=COMPILE_EPILOG)
@click.option(
    "--env", "envs", multiple=True, metavar="ENV", help="Only this environment (repeatable)."
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when outputs would change.")
@click.option(
    "--upgrade", is_flag=True, help="Re-resolve locked chains (all, or the AGENTs given)."
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.argument("agents", nargs=-1, metavar="[AGENT]...")
@common_options(("text", "json", "github"))
def compile_command(
    envs: tuple[str, ...],
    check: bool,
    upgrade: bool,
    strict: bool,
    agents: tuple[str, ...],
    common: Common,
) -> None:
    """Render rendered/<env>/openclaw.json and its lock for each environment."""
    out = common.out
    if agents and not upgrade:
        raise click.UsageError("AGENT arguments go with --upgrade")
    options = api.CompileOptions(
        root=common.root,
        envs=envs,
        check=check,
        upgrade=upgrade,
        upgrade_agents=agents,
        strict=strict,
    )
    with user_errors(out):
        result = api.compile_project(options)
    assert result.report is not None
    stale = [
        diagnostics.error(
            "PC305",
            f"{path} is out of date",
            diagnostics.Span(path),
            "hint: run clawpolicy compile and commit rendered/",
        )
        for path in (result.report.changed if check else ())
    ]
    out.diagnostics([*result.warnings, *(stale if out.format == "github" else ())])
    out.result(_compile_json(result) if out.format == "json" else _summary(result, check))
    raise SystemExit(EXIT_CHANGES if check and result.report.changed else EXIT_OK)


@main_group.command(
    "validate",
    epilog="\b\nExamples:\n  clawpolicy validate\n  clawpolicy validate --strict --format github",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@common_options(("text", "json", "github"))
def validate_command(strict: bool, common: Common) -> None:
    """Check every policy file and resolve every chain; write nothing."""
    out = common.out
    with user_errors(out):
        result = api.validate_project(common.root, strict=strict)
    out.diagnostics(result.warnings)
    if out.format == "json":
        out.result(_compile_json(result))
    else:
        agents = sum(len(r.agents) for r in result.resolutions.values())
        out.result(
            f"ok: {len(result.project.tiers)} tier(s), {len(result.project.agents)} "
            f"agent(s), {len(result.resolutions)} environment(s), {agents} chain(s)"
        )
    raise SystemExit(EXIT_OK)


@main_group.command(
    "explain",
    epilog="\b\nExamples:\n  clawpolicy explain support-triage\n"
    "  clawpolicy explain support-triage --env prod --format json",
)
@click.argument("agent")
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="ENV",
    help="Environment (repeatable; default: every one that deploys the agent).",
)
@common_options(("text", "json"))
def explain_command(
    agent: str,
    envs: tuple[str, ...],
    common: Common,
) -> None:
    """Show an agent's merged constraints, ranked candidates, chain and every rejection."""
    from . import explainer

    out = common.out
    with user_errors(out):
        explanations = explainer.explain(common.root, agent, envs)
    text = (
        explainer.to_json(explanations)
        if out.format == "json"
        else explainer.format_text(explanations)
    )
    click.echo(text, nl=False)
    failed = any(e.report is None or e.report.result is None for e in explanations)
    raise SystemExit(EXIT_USER if failed else EXIT_OK)


@main_group.command(
    "schema",
    epilog="\b\nExamples:\n  clawpolicy schema > clawpolicy.schema.json\n"
    "  clawpolicy schema --kind environment\n\n"
    "For editors, add to a YAML file:\n"
    "  # yaml-language-server: $schema=./clawpolicy.schema.json",
)
@click.option(
    "--kind",
    type=click.Choice(["all", "tiers", "team", "environment", "catalog"]),
    default="all",
    show_default=True,
    help="Which file's schema.",
)
def schema_command(kind: str) -> None:
    """Print the JSON Schema of the policy files (for yaml-language-server)."""
    from .schema import policy_schema

    click.echo(json.dumps(policy_schema(kind), indent=2))


# The command modules use this module's helpers, so they are imported once it is complete.
from .cli_catalog import catalog  # noqa: E402
from .cli_gitops import COMMANDS  # noqa: E402

main_group.add_command(catalog)
for _command in COMMANDS:
    main_group.add_command(_command)


def main() -> None:
    main_group(prog_name="clawpolicy")
