"""Stage 1 (part): an environment's `agents:` overrides -> one constraint layer per agent.

An override is merged over the agent in that environment only: its constraint keys are the most
specific layer (tier <- environment tier override <- agent <- environment agent override), and
`pin` and `budget` replace the agent's. `enabled: false` takes the agent out of the environment.
An override must name an agent of the policy (PC119 error, with a did-you-mean) that the
environment deploys through `teams:` (PC119 warning otherwise: it would do nothing), and a
budget needs a workload to be estimated against (PC102).
"""

import difflib
from collections.abc import Mapping

from ..diagnostics import Diagnostic, Span, error, warning
from .filereader import FileReader, LoadedFile
from .project import Agent, AgentOverride, Constraints
from .spec import ConstraintSpec, EnvAgentSpec

CONSTRAINT_KEYS = tuple(ConstraintSpec.model_fields)


def agent_overrides(
    reader: FileReader,
    loaded: LoadedFile,
    agents: Mapping[str, Agent],
    deployed: tuple[str, ...],
) -> tuple[dict[str, AgentOverride], tuple[str, ...]]:
    """The overrides of the environment in `loaded` that apply, and the agents it deploys
    (`deployed` minus those with `enabled: false`)."""
    env = loaded.spec.environment
    found: dict[str, AgentOverride] = {}
    for agent_id, spec in sorted(loaded.spec.agents.items()):
        override = _override(loaded, env, agent_id, spec)
        if agent_id not in agents:
            if reader.agents_complete:
                reader.problems.append(_unknown(env, agent_id, override.span, agents))
        elif agent_id not in deployed:
            reader.warnings.append(_not_deployed(loaded, env, agents[agent_id], override.span))
        else:
            _check_budget(reader, agents[agent_id], override)
            found[agent_id] = override
    disabled = {agent_id for agent_id, o in found.items() if not o.spec.enabled}
    return found, tuple(a for a in deployed if a not in disabled)


def _override(loaded: LoadedFile, env: str, agent_id: str, spec: EnvAgentSpec) -> AgentOverride:
    where = ("agents", agent_id)
    smap = loaded.source_map
    span = smap.keys.get(where, Span(loaded.path, 1, 1))
    spans = {
        key: found
        for key in type(spec).model_fields
        if (found := smap.values.get((*where, key))) is not None
    }
    layer = Constraints(
        f"environment {env} override of agent {agent_id}",
        spec,
        {key: value for key, value in spans.items() if key in CONSTRAINT_KEYS},
    )
    return AgentOverride(agent_id, spec, span, layer, spans)


def _unknown(env: str, agent_id: str, span: Span, agents: Mapping[str, Agent]) -> Diagnostic:
    close = difflib.get_close_matches(agent_id, list(agents), n=1)
    hint = f"hint: did you mean '{close[0]}'?" if close else "note: no agent of that id in teams/"
    return error("PC119", f"environment '{env}' overrides unknown agent '{agent_id}'", span, hint)


def _not_deployed(loaded: LoadedFile, env: str, agent: Agent, span: Span) -> Diagnostic:
    teams = ", ".join(loaded.spec.teams) or "(none)"
    return warning(
        "PC119",
        f"environment '{env}' overrides agent '{agent.id}', which it does not deploy: "
        "the override does nothing",
        span,
        f"note: its team '{agent.team}' matches none of teams: [{teams}]",
    )


def _check_budget(reader: FileReader, agent: Agent, override: AgentOverride) -> None:
    if override.spec.budget is not None and agent.spec.workload is None:
        reader.problems.append(
            error(
                "PC102",
                f"the override of agent '{agent.id}' sets budget but the agent has no workload",
                override.spans.get("budget", override.span),
                f"hint: add workload: {{input_mtok: N, output_mtok: M}} to the agent at "
                f"{agent.span}",
            )
        )
