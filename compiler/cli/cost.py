"""The `clawpolicy cost` command: flags in, `compiler.costreport` called, a report (text,
markdown with a Mermaid pie, or the JSON envelope) and exit 0 out (2 on user errors).
"""

import click

from .base import EXIT_OK, Common, common_options, user_errors
from .completion import env_option

COST_EPILOG = """\b
The estimated monthly cost of each agent's primary model for its workload (USD; environments
that resolve on their own are compiled in memory, promoted ones costed from their lock, i.e.
what they run), summed per group and environment, with the headroom left in the budgets:
an environment's budget (--by environment) or the sum of its agents' budgets (other groups).
An agent without a workload, or whose primary's price is unknown, has no estimate: it is
named and counted as unknown, never as 0.

\b
Examples:
  clawpolicy cost                                   by team, every environment
  clawpolicy cost --env prod --by tier
  clawpolicy cost --by team --format markdown > cost.md
  clawpolicy cost --by agent --format json | jq '.agents[] | select(.unknown)'
"""


@click.command("cost", epilog=COST_EPILOG)
@env_option()
@click.option(
    "--by",
    type=click.Choice(("team", "tier", "environment", "agent")),
    default="team",
    show_default=True,
    help="How to group the agents.",
)
@common_options(("text", "markdown", "json"))
def cost(envs: tuple[str, ...], by: str, common: Common) -> None:
    """Estimated monthly cost per team, tier, environment or agent, against budgets."""
    from .. import costreport

    out = common.out
    with user_errors(out):
        lines, project = costreport.collect(common.root, envs)
    report = costreport.group(lines, by, project)
    if out.format == "json":
        out.report(costreport.to_payload(report))
    else:
        markdown = out.format == "markdown"
        out.result((costreport.format_markdown if markdown else costreport.format_text)(report))
    raise SystemExit(EXIT_OK)
