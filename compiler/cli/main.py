"""The `clawpolicy` command group and its core commands (validate, compile, explain, schema):
flags in, `compiler.api` calls, text and an exit code out. The catalog and GitOps commands live
in `cli.catalog` and `cli.gitops`; the shared options, output and exit codes (0 ok, 1 changes,
2 user error, 3 internal error) in `cli.base`.
"""

import json

import click

from .. import __version__, api, diagnostics
from ..load.catalog import json_number
from .base import (
    EXIT_CHANGES,
    EXIT_OK,
    EXIT_USER,
    Common,
    Output,
    SafeGroup,
    common_options,
    user_errors,
)
from .catalog import catalog
from .gitops import COMMANDS

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
    cls=SafeGroup, epilog=MAIN_EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
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
    from .. import explainer

    out = common.out
    with user_errors(out):
        explanations = explainer.explain(common.root, agent, envs)
    text = (
        explainer.to_json(explanations)
        if out.format == "json"
        else explainer.format_text(explanations)
    )
    out.echo(text)
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
    from ..load.schema import policy_schema

    Output().echo(json.dumps(policy_schema(kind), indent=2))


main_group.add_command(catalog)
for _command in COMMANDS:
    main_group.add_command(_command)


def main() -> None:
    main_group(prog_name="clawpolicy")
