"""The `clawpolicy` command group and its core commands (validate, compile, explain, schema):
flags in, `compiler.api` calls, text and an exit code out. The catalog and GitOps commands live
in `cli.catalog` and `cli.gitops`; the shared options, output and exit codes (0 ok, 1 changes,
2 user error, 3 internal error) in `cli.base`.
"""

import json
from typing import TYPE_CHECKING, Any

import click

from .. import __version__, diagnostics
from .adopt import init
from .base import (
    EXIT_CHANGES,
    EXIT_OK,
    EXIT_USER,
    TOP_GROUP,
    Common,
    Output,
    SafeGroup,
    common_options,
    environments_json,
    json_envelope,
    user_errors,
)
from .catalog import catalog
from .completion import complete_agents, env_option
from .cost import cost
from .gitops import COMMANDS

if TYPE_CHECKING:
    from pathlib import Path

    from ..output.incremental import Mode, Outcome

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
    TOP_GROUP,
    cls=SafeGroup,
    epilog=MAIN_EPILOG,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="clawpolicy")
def main_group() -> None:
    """Compile YAML model-routing policies into OpenClaw configs (openclaw.json)."""


def _compiled(root: "Path", mode: "Mode", upgrade: tuple[bool, tuple[str, ...]]) -> "Outcome":
    """Replayed from the record of an earlier compile of the same inputs (no stage is even
    imported), else compiled in full and recorded."""
    from ..output import incremental

    if not upgrade[0]:
        replayed = incremental.replay(root.resolve(), mode)
        if replayed is not None:
            return replayed
    from .. import api

    options = api.CompileOptions(
        root=root,
        envs=mode.envs,
        check=mode.check,
        upgrade=upgrade[0],
        upgrade_agents=upgrade[1],
        strict=mode.strict,
        write=mode.write,
        incremental=True,
    )
    return api.compile_project(options).outcome()


def _summary(outcome: "Outcome", check: bool) -> str:
    report = outcome.report
    assert report is not None
    environments = outcome.summary.environments
    verb = "would change" if check else "wrote"
    lines = [f"{verb} {path}" for path in report.changed]
    lines.append(
        f"{len(environments)} environment(s), "
        f"{sum(len(e.agents) for e in environments.values())} agent chain(s); "
        f"{len(report.changed)} file(s) {'out of date' if check else 'changed'}, "
        f"{len(report.unchanged)} unchanged"
    )
    if check and report.changed:
        lines.append("to update them: run clawpolicy compile, then commit rendered/")
    return "\n".join(lines)


def _compile_payload(outcome: "Outcome") -> dict[str, Any]:
    """`changed` and `files` (compile only), then every environment's chains and cost."""
    payload: dict[str, Any] = {}
    report = outcome.report
    if report is not None:
        payload["changed"] = bool(report.changed)
        payload["files"] = [
            *({"path": path, "status": "changed"} for path in report.changed),
            *({"path": path, "status": "unchanged"} for path in report.unchanged),
        ]
    payload["environments"] = environments_json(outcome.summary.environments)
    return payload


COMPILE_EPILOG = """\b
Examples:
  clawpolicy compile                           all environments
  clawpolicy compile --env prod --check        exit 1 if rendered/prod is stale
  clawpolicy compile --upgrade                 re-resolve every chain (ignore locks)
  clawpolicy compile --upgrade support-triage  re-resolve one agent
  clawpolicy compile --check --format github   GitHub annotations
"""


@main_group.command("compile", epilog=COMPILE_EPILOG)
@env_option()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when outputs would change.")
@click.option(
    "--upgrade", is_flag=True, help="Re-resolve locked chains (all, or the AGENTs given)."
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.argument("agents", nargs=-1, metavar="[AGENT]...", shell_complete=complete_agents)
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
    from ..output.incremental import Mode

    out = common.out
    if agents and not upgrade:
        raise click.UsageError("AGENT arguments go with --upgrade")
    mode = Mode(envs=envs, check=check, strict=strict)
    with user_errors(out):
        result = _compiled(common.root, mode, (upgrade, agents))
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
    if out.format == "json":
        out.report(_compile_payload(result), result.warnings)
    else:
        out.result(_summary(result, check))
    raise SystemExit(EXIT_CHANGES if check and result.report.changed else EXIT_OK)


@main_group.command(
    "validate",
    epilog="\b\nExamples:\n  clawpolicy validate\n  clawpolicy validate --strict --format github",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@common_options(("text", "json", "github"))
def validate_command(strict: bool, common: Common) -> None:
    """Check every policy file and resolve every chain; write nothing."""
    from ..output.incremental import Mode

    out = common.out
    with user_errors(out):
        result = _compiled(common.root, Mode(write=False, strict=strict), (False, ()))
    out.diagnostics(result.warnings)
    summary = result.summary
    if out.format == "json":
        out.report(_compile_payload(result), result.warnings)
    else:
        agents = sum(len(e.agents) for e in summary.environments.values())
        out.result(
            f"ok: {summary.tiers} tier(s), {summary.agents} "
            f"agent(s), {len(summary.environments)} environment(s), {agents} chain(s)"
        )
    raise SystemExit(EXIT_OK)


@main_group.command(
    "explain",
    epilog="\b\nExamples:\n  clawpolicy explain support-triage\n"
    "  clawpolicy explain support-triage --env prod --format json",
)
@click.argument("agent", shell_complete=complete_agents)
@env_option("Environment (repeatable; default: every one that deploys the agent).")
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
    resolved = explainer.is_resolved(explanations)
    if out.format == "json":
        payload = explainer.to_payload(explanations)
        out.result(json_envelope(payload, explainer.diagnostics_of(explanations), ok=resolved))
    else:
        out.echo(explainer.format_text(explanations))
    raise SystemExit(EXIT_OK if resolved else EXIT_USER)


@main_group.command(
    "schema",
    epilog="\b\nExamples:\n  clawpolicy schema > clawpolicy.schema.json\n"
    "  clawpolicy schema --kind environment\n\n"
    "\b\nFor editors: save it at the top of the repository and put on the first line of\n"
    "policies/tiers.yaml:\n"
    "  # yaml-language-server: $schema=../clawpolicy.schema.json\n"
    "and of policies/teams/*.yaml and policies/environments/*.yaml:\n"
    "  # yaml-language-server: $schema=../../clawpolicy.schema.json",
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
main_group.add_command(init)
main_group.add_command(cost)
for _command in COMMANDS:
    main_group.add_command(_command)


def main() -> None:
    main_group(prog_name="clawpolicy")
