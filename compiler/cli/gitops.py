"""The GitOps commands `diff`, `promote` and `what-if` (registered by `cli.main` from `COMMANDS`).

Each command builds options, calls `compiler.gitops.api` (or `compiler.gitops.whatif`) and
prints; the heavy modules (deepdiff, GitPython) load only when one of these commands runs.
"""

from pathlib import Path

import click

from .base import EXIT_CHANGES, EXIT_OK, Common, common_options, user_errors

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
@click.option("--env", "envs", multiple=True, metavar="ENV", help="Only this environment.")
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
    from ..gitops import diffreport

    del exit_code  # always git-style: 1 when anything differs
    out = common.out
    if against is not None and against_dir is not None:
        raise click.UsageError("--against and --against-dir exclude each other")
    options = gitops_api.DiffOptions(common.root, envs, against, against_dir)
    with user_errors(out):
        report = gitops_api.diff_project(options)
    formatter = {"json": diffreport.format_json, "markdown": diffreport.format_markdown}
    if report.notes:
        out.echo("\n".join(report.notes), err=True)
    out.result(formatter.get(out.format, diffreport.format_text)(report))
    raise SystemExit(EXIT_CHANGES if report.changed else EXIT_OK)


PROMOTE_EPILOG = """\b
Copies FROM's chains as locked in rendered/FROM/clawpolicy.lock.json (what FROM runs) into
TO's lock, mapped to TO's provider accounts, checks each against TO's constraints, pin,
budget and catalog (any misfit is an error and nothing is written), re-renders TO and prints
the diff of TO. Exit 0 when promoted, 2 on errors.

\b
Examples:
  clawpolicy promote staging prod
  clawpolicy promote staging prod --agent support-triage
"""


@click.command("promote", epilog=PROMOTE_EPILOG)
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@click.option("--agent", "agents", multiple=True, metavar="AGENT", help="Only this agent.")
@common_options(FORMATS)
def promote(
    source: str,
    target: str,
    agents: tuple[str, ...],
    common: Common,
) -> None:
    """Copy FROM's resolved chains into TO's lock, re-render TO, show the diff."""
    from ..gitops import api as gitops_api
    from ..gitops import diffreport, promoter

    out = common.out
    with user_errors(out):
        result = gitops_api.promote_project(common.root, source, target, agents)
    out.diagnostics(result.warnings)
    formatter = {"json": diffreport.format_json, "markdown": diffreport.format_markdown}
    out.echo(promoter.format_summary(result.promotion), err=out.format != "text")
    out.result(formatter.get(out.format, diffreport.format_text)(result.diff))
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
@click.option("--env", "envs", multiple=True, metavar="ENV", help="Only this environment.")
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
    formatter = {"json": whatif.format_json, "markdown": whatif.format_markdown}
    out.result(formatter.get(out.format, whatif.format_text)(report))
    raise SystemExit(EXIT_CHANGES if report.stranded else EXIT_OK)


COMMANDS = (diff, promote, what_if)
