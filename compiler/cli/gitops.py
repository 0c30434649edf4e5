"""The GitOps commands `diff`, `promote` and `what-if` (registered by `cli.main` from `COMMANDS`).

Each command builds options, calls `compiler.gitops.api` (or `compiler.gitops.whatif`) and
prints; the heavy modules (deepdiff, GitPython) load only when one of these commands runs.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..diagnostics import Diagnostic
from ..redaction import printable
from .base import EXIT_CHANGES, EXIT_OK, Common, Output, common_options, user_errors
from .completion import complete_agents, complete_environments, env_option

if TYPE_CHECKING:
    from ..gitops.diffreport import DiffReport

FORMATS = ("text", "markdown", "json")

DIFF_EPILOG = """\b
Compares a fresh in-memory compile of the working tree with rendered/<env>/ as committed
at REF (read from git objects: no checkout), or with live configs in DIR laid out as
DIR/<env>/openclaw.json (optionally with DIR/<env>/clawpolicy.lock.json) or DIR/<env>.json.
Default REF: the merge-base of HEAD and origin/main when origin/main exists, else HEAD.

\b
Exit codes (git diff --exit-code style, always on): 0 no differences, 1 differences,
2 user error (unknown ref: the message names the git fetch to run).
--exit-code is accepted for scripts written for git diff; it changes nothing.

\b
Examples:
  clawpolicy diff                                 against the merge-base with origin/main
  clawpolicy diff --against origin/main --format markdown > comment.md
  clawpolicy diff --env prod --against-dir live/  drift of the configs pulled from servers
"""


@click.command("diff", epilog=DIFF_EPILOG)
@env_option()
@click.option("--against", metavar="REF", help="Git revision holding the old rendered/.")
@click.option(
    "--against-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of live configs: DIR/<env>/openclaw.json or DIR/<env>.json.",
)
@click.option("--exit-code", is_flag=True, help="Accepted for git compatibility; always on.")
@common_options(FORMATS)
def diff(
    envs: tuple[str, ...],
    against: str | None,
    against_dir: Path | None,
    exit_code: bool,
    common: Common,
) -> None:
    """Show what the working tree changes in rendered configs: agents first, then fields."""
    from ..gitops import api as gitops_api

    del exit_code  # always git-style: 1 when anything differs
    out = common.out
    if against is not None and against_dir is not None:
        raise click.UsageError("--against and --against-dir exclude each other")
    options = gitops_api.DiffOptions(common.root, envs, against, against_dir)
    with user_errors(out):
        report = gitops_api.diff_project(options)
    if report.notes:
        out.echo("\n".join(report.notes), err=True)
    _print_diff(out, report)
    raise SystemExit(EXIT_CHANGES if report.changed else EXIT_OK)


def _print_diff(
    out: Output,
    report: "DiffReport",
    head: Mapping[str, Any] | None = None,
    found: Sequence[Diagnostic] = (),
) -> None:
    """A diff report in the chosen format (JSON: `head` keys first, then the diff's); text is
    coloured like `git diff` where colour is on."""
    from ..gitops import diffmarkdown, diffreport

    if out.format == "json":
        out.report({**(head or {}), **diffreport.to_json(report)}, found)
    elif out.format == "markdown":
        out.result(diffmarkdown.format_markdown(report))
    else:
        text = diffreport.format_text(report)
        if out.result_color:  # values escaped before our own colours go in
            out.result(paint_diff(printable(text)), styled=True)
        else:
            out.result(text)


_PAINT = {"+": "green", "-": "red", "~": "yellow"}


def paint_diff(text: str) -> str:
    """Colour the lines of a text diff: `+` added green, `-` removed red, `~` changed yellow."""
    lines = []
    for line in text.splitlines(keepends=True):
        mark = line.lstrip(" ")[:2]
        colour = _PAINT.get(mark[:1]) if mark[1:2] == " " else None
        lines.append(click.style(line.rstrip("\n"), fg=colour) + "\n" if colour else line)
    return "".join(lines)


PROMOTE_EPILOG = """\b
Copies FROM's chains as locked in rendered/FROM/clawpolicy.lock.json (what FROM runs) into
TO's lock, mapped to TO's provider accounts, checks each against TO's constraints, pin,
budget and catalog (any misfit is an error and nothing is written), re-renders TO and prints
the diff of TO. This is the only way an environment with promote_from changes.

\b
--check writes nothing and reports what the promotion would change (per agent: the chain TO
runs now and the one it would get, agents not promoted yet, agents leaving, settings, and
models TO runs that its catalogs dropped or retire soon).

\b
Exit codes: 0 promoted (--check: TO is up to date), 1 (--check only) TO is behind FROM,
2 user error (a chain does not fit TO: nothing is written).

\b
Examples:
  clawpolicy promote staging prod --check
  clawpolicy promote staging prod --check --format markdown > pr-body.md
  clawpolicy promote staging prod
  clawpolicy promote staging prod --agent support-triage
"""


@click.command("promote", epilog=PROMOTE_EPILOG)
@click.argument("source", metavar="FROM", shell_complete=complete_environments)
@click.argument("target", metavar="TO", shell_complete=complete_environments)
@click.option(
    "--agent",
    "agents",
    multiple=True,
    metavar="AGENT",
    help="Only this agent.",
    shell_complete=complete_agents,
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when TO is behind FROM.")
@common_options(FORMATS)
def promote(
    source: str,
    target: str,
    agents: tuple[str, ...],
    check: bool,
    common: Common,
) -> None:
    """Copy FROM's resolved chains into TO's lock, re-render TO, show the diff."""
    from ..gitops import api as gitops_api
    from ..promote import pendingreport, promoter

    out = common.out
    if check:
        with user_errors(out):
            checked = gitops_api.check_promotion(common.root, source, target, agents)
        out.diagnostics(checked.warnings)
        behind = checked.pending
        if out.format == "json":
            payload = {"from": source, "to": target, "changed": behind.behind}
            payload["pending"] = {target: pendingreport.to_json(behind)}
            out.report(payload, checked.warnings)
        else:
            text = pendingreport.format_markdown if out.format == "markdown" else None
            out.result((text or pendingreport.format_text)([behind]))
        raise SystemExit(EXIT_CHANGES if behind.behind else EXIT_OK)
    with user_errors(out):
        result = gitops_api.promote_project(common.root, source, target, agents)
    out.diagnostics(result.warnings)
    if out.format != "json":
        out.echo(promoter.format_summary(result.promotion), err=out.format != "text")
    _print_diff(out, result.diff, {"from": source, "to": target}, result.warnings)
    raise SystemExit(EXIT_OK)


WHAT_IF_EPILOG = """\b
For each agent: whether an outage or retirement loses its primary, which fallback would
serve, which agents are left with no model at all, and the cost if the chains were
re-resolved without those offers. Exit 1 when any agent would be left with nothing.

\b
Examples:
  clawpolicy what-if --without vendor:anthropic
  clawpolicy what-if --without provider:openrouter --env prod
  clawpolicy what-if --without 'model:*gpt-5*' --format markdown
"""


@click.command("what-if", epilog=WHAT_IF_EPILOG)
@click.option(
    "--without",
    "removals",
    multiple=True,
    required=True,
    metavar="vendor:X|provider:X|model:GLOB",
    help="Offers to take away (repeatable).",
)
@env_option()
@common_options(FORMATS)
def what_if(
    removals: tuple[str, ...],
    envs: tuple[str, ...],
    common: Common,
) -> None:
    """Impact of losing a vendor, a provider or models: who falls back, who is left with none."""
    from ..gitops import whatif

    out = common.out
    with user_errors(out):
        report = whatif.what_if(common.root, whatif.parse_removals(removals), envs)
    if out.format == "json":
        out.report(whatif.to_payload(report))
    else:
        formatter = whatif.format_markdown if out.format == "markdown" else whatif.format_text
        out.result(formatter(report))
    raise SystemExit(EXIT_CHANGES if report.stranded else EXIT_OK)


COMMANDS = (diff, promote, what_if)
