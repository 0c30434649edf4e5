"""The `what-if` report: the impact of losing a vendor, a provider account or models (an outage
or a retirement) on every agent's chain. Reads the policy repo through `api`; otherwise pure.

For each agent: which refs of its deployed chain are lost, whether the primary is among them,
which fallback would serve, and whether nothing is left (every ref of the chain lost: the only
outcome that fails the command); then the chain and cost it would get if resolved again without
those offers (the catalog of each environment filtered, current choices kept where still valid,
as `compile` would), or why that re-resolution fails (a pin gone, nothing satisfies the policy),
reported on its own. A selector that matches no offer of the selected environments is a user
error, so a typo never reads as an all-clear.
"""

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from .. import api
from ..diagnostics import CompileError, Diagnostic, Severity, error
from ..jsontext import chain_json, cost_move
from ..load.catalog import Catalog, Offer
from ..load.project import Environment, Project
from ..resolve.constraints import matches
from ..resolve.resolver import ChainResult, Resolution, agent_subject, resolve, resolve_subject

KINDS = ("vendor", "provider", "model")


@dataclass(frozen=True, slots=True)
class Removal:
    """`vendor:X`, `provider:X` or `model:GLOB` (a glob over the model id or the full ref)."""

    kind: str
    value: str

    def matches(self, offer: Offer) -> bool:
        if self.kind == "vendor":
            return offer.vendor == self.value
        if self.kind == "provider":
            return offer.provider == self.value
        return matches(self.value, offer)

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True, slots=True)
class AgentImpact:
    agent: str
    chain: tuple[str, ...]  # deployed now, primary first
    lost: tuple[str, ...]
    resolved: tuple[str, ...]  # re-resolved without the offers; () when that fails
    old_cost: Decimal | None
    new_cost: Decimal | None
    failure: Diagnostic | None = None  # why the re-resolution fails (PC201, PC202, ...)

    @property
    def primary_lost(self) -> bool:
        return bool(self.chain) and self.chain[0] in self.lost

    @property
    def serving(self) -> str | None:
        """The first ref of the deployed chain that is left: what serves during the outage."""
        return next((ref for ref in self.chain if ref not in self.lost), None)

    @property
    def stranded(self) -> bool:
        """Left with no model: every ref of the deployed chain is lost, no fallback serves."""
        return self.serving is None


@dataclass(frozen=True, slots=True)
class EnvImpact:
    environment: str
    agents: tuple[AgentImpact, ...]  # every agent whose chain or re-resolution changes
    unaffected: int
    old_cost: Decimal
    new_cost: Decimal


@dataclass(frozen=True, slots=True)
class WhatIfReport:
    removals: tuple[Removal, ...]
    environments: tuple[EnvImpact, ...]

    @property
    def stranded(self) -> tuple[tuple[str, str], ...]:
        """(environment, agent) of every agent left with no model."""
        return tuple(
            (e.environment, a.agent) for e in self.environments for a in e.agents if a.stranded
        )

    @property
    def unresolvable(self) -> tuple[tuple[str, str], ...]:
        """(environment, agent) of every agent whose re-resolution without the offers fails."""
        return tuple(
            (e.environment, a.agent)
            for e in self.environments
            for a in e.agents
            if a.failure is not None
        )


def parse_removals(texts: Iterable[str]) -> tuple[Removal, ...]:
    """Parse `--without` values.

    Example:
        >>> parse_removals(["vendor:anthropic", "model:*gpt-5*"])[1]
        Removal(kind='model', value='*gpt-5*')

    Raises:
        CompileError: PC103 for a value that is not `vendor:X`, `provider:X` or `model:GLOB`,
            or whose glob is invalid.
    """
    found, problems = [], []
    for text in texts:
        kind, _, value = text.partition(":")
        if kind in KINDS and value:
            glob = _glob_problem(value) if kind == "model" else None
            if glob is None:
                found.append(Removal(kind, value))
                continue
            problems.append(
                error(
                    "PC103",
                    f"--without '{text}' is an invalid glob: {glob}",
                    None,
                    "hint: write a literal '[' as '[[]'",
                )
            )
        else:
            problems.append(
                error(
                    "PC103",
                    f"--without '{text}' is not vendor:X, provider:X or model:GLOB",
                    None,
                    "hint: e.g. --without vendor:anthropic --without 'model:*preview*'",
                )
            )
    if problems:
        raise CompileError(tuple(problems))
    return tuple(found)


def _glob_problem(pattern: str) -> str | None:
    """Why `pattern` is not a well-formed glob: fnmatch would silently take an unclosed `[`
    literally, so a typo would match nothing instead of failing.

    Example:
        >>> _glob_problem("*gpt-[45]*"), _glob_problem("[!]x]"), _glob_problem("[bad")
        (None, None, "'[' at position 1 is never closed")
    """
    index = 0
    while index < len(pattern):
        if pattern[index] == "[":
            end = index + 1
            end += pattern.startswith("!", end)
            end += pattern.startswith("]", end)
            end = pattern.find("]", end)
            if end < 0:
                return f"'[' at position {index + 1} is never closed"
            index = end
        index += 1
    return None


def _unmatched(removals: tuple[Removal, ...], envs: tuple[Environment, ...]) -> list[Diagnostic]:
    """PC103 for every removal that matches no offer of `envs`, naming what is known."""
    offers = [o for env in envs for o in env.catalog.offers]
    known = {
        "vendor": sorted({o.vendor for o in offers}),
        "provider": sorted({o.provider for o in offers}),
    }
    where = ", ".join(env.name for env in envs)
    problems = []
    for removal in removals:
        if any(removal.matches(o) for o in offers):
            continue
        notes = [
            f"note: known {kind}s: {', '.join(names) or '(none)'}"
            for kind, names in known.items()
            if removal.kind in (kind, "model")
        ]
        close = difflib.get_close_matches(removal.value, known.get(removal.kind, []), n=3)
        if close:
            notes.append(f"hint: did you mean {', '.join(f'{removal.kind}:{c}' for c in close)}?")
        elif removal.kind == "model":
            notes.append("hint: the glob matches the model id or the full ref (provider/id)")
        problems.append(
            error(
                "PC103",
                f"--without '{removal}' matches no offer in environment(s) {where}",
                None,
                *notes,
            )
        )
    return problems


def _without(env: Environment, removals: tuple[Removal, ...]) -> Environment:
    """`env` with the removed offers gone from its catalog, resolving on its own."""
    kept = [o for o in env.catalog.offers if not any(r.matches(o) for r in removals)]
    spec = env.spec.model_copy(update={"promote_from": None})
    return replace(env, catalog=Catalog.of(kept, env.catalog.dates), spec=spec)


def _resolve_each(
    project: Project, env: Environment, locked: Mapping[str, tuple[str, ...]]
) -> tuple[dict[str, ChainResult], dict[str, Diagnostic]]:
    """Every agent that still resolves, and why each other one does not; one at a time only
    when resolving them together fails."""
    try:
        return dict(resolve(project, env, locked).agents), {}
    except CompileError:
        pass
    found, failures = {}, {}
    for agent_id in env.agent_ids:
        agent = project.agents[agent_id]
        subject = agent_subject(project, env, agent)
        if subject is None:
            failures[agent_id] = error("PC102", f"agent '{agent_id}' has no tier", agent.span)
            continue
        report = resolve_subject(project, env, subject, locked)
        if report.result is not None:
            found[agent_id] = report.result
            continue
        errors = [d for d in report.diagnostics if d.severity is Severity.ERROR]
        failures[agent_id] = (
            errors[0] if errors else error("PC201", f"nothing satisfies agent '{agent_id}'")
        )
    return found, failures


def _impact(project: Project, resolution: Resolution, removals: tuple[Removal, ...]) -> EnvImpact:
    env = resolution.environment
    removed = {o.ref for o in env.catalog.offers if any(r.matches(o) for r in removals)}
    locked = {key: result.refs for key, result in resolution.agents.items()}
    again, failures = _resolve_each(project, _without(env, removals), locked)
    agents = []
    for agent_id, result in resolution.agents.items():
        after = again.get(agent_id)
        impact = AgentImpact(
            agent_id,
            result.refs,
            tuple(ref for ref in result.refs if ref in removed),
            after.refs if after else (),
            result.cost,
            after.cost if after else None,
            failures.get(agent_id),
        )
        if impact.lost or impact.resolved != impact.chain:
            agents.append(impact)
    new_cost = sum((r.cost for r in again.values() if r.cost is not None), Decimal(0))
    return EnvImpact(
        env.name,
        tuple(agents),
        len(resolution.agents) - len(agents),
        resolution.total_cost,
        new_cost,
    )


def what_if(root: Path, removals: tuple[Removal, ...], envs: tuple[str, ...] = ()) -> WhatIfReport:
    """The impact of `removals` on every agent of `envs` (default: all environments).

    Raises:
        CompileError: the policy repo does not compile as it is; PC103 for a removal that
            matches no offer of the selected environments (a typo must not read as no impact).
    """
    result = api.compile_project(api.CompileOptions(root=root, envs=envs, write=False))
    selected = tuple(res.environment for res in result.resolutions.values())
    unmatched = _unmatched(removals, selected)
    if unmatched:
        raise CompileError(tuple(unmatched))
    return WhatIfReport(
        removals,
        tuple(_impact(result.project, res, removals) for res in result.resolutions.values()),
    )


# --------------------------------------------------------------------------- formatting


def _cost(old: Decimal | None, new: Decimal | None) -> str:
    """Monthly cost before -> after.

    Example:
        >>> _cost(Decimal(12), Decimal("8.5")), _cost(None, None)
        ('12.00 -> 8.50 (-3.50)', 'n/a (no workload)')
    """
    if old is None and new is None:
        return "n/a (no workload)"
    shown = f"{'?' if old is None else f'{old:.2f}'} -> {'?' if new is None else f'{new:.2f}'}"
    if old is None or new is None or old == new:
        return shown
    return f"{shown} ({new - old:+.2f})"


def _serving(impact: AgentImpact) -> str:
    if impact.serving is None:
        return "NO MODEL LEFT"
    if not impact.primary_lost:
        return f"primary {impact.serving} unaffected"
    return f"served by {impact.serving} (fallback {impact.chain.index(impact.serving)})"


def _resolved(impact: AgentImpact) -> str:
    if impact.failure is not None:
        return f"re-resolution fails: {impact.failure.message}"
    return f"re-resolved: [{', '.join(impact.resolved)}]"


def _summary(report: WhatIfReport) -> str:
    affected = sum(len(e.agents) for e in report.environments)
    what = ", ".join(str(r) for r in report.removals)
    stranded = len(report.stranded)
    text = f"what-if without {what}: {affected} agent(s) affected, {stranded} left with no model"
    if report.unresolvable:
        text += f", {len(report.unresolvable)} whose re-resolution fails"
    return text


def format_text(report: WhatIfReport) -> str:
    lines = [_summary(report)]
    for env in report.environments:
        lines.append(
            f"{env.environment}: monthly cost {_cost(env.old_cost, env.new_cost)}; "
            f"{env.unaffected} agent(s) unaffected"
        )
        lines += [
            f"  {'!' if a.stranded else '~'} {a.agent}: loses [{', '.join(a.lost)}]; "
            f"{_serving(a)}; {_resolved(a)}; cost {_cost(a.old_cost, a.new_cost)}"
            for a in env.agents
        ]
    return "\n".join(lines) + "\n"


def format_markdown(report: WhatIfReport) -> str:
    lines = [
        f"### {_summary(report)}",
        "",
        "| environment | agent | lost | during the outage | re-resolved chain | monthly cost |",
        "|---|---|---|---|---|---|",
    ]
    for env in report.environments:
        lines += [
            f"| {env.environment} | `{a.agent}` | {', '.join(f'`{r}`' for r in a.lost) or '—'} | "
            f"{'**no model left**' if a.serving is None else _serving(a)} | "
            f"{_markdown_resolved(a)} | "
            f"{_cost(a.old_cost, a.new_cost).replace('->', '→')} |"
            for a in env.agents
        ]
    return "\n".join(lines) + "\n"


def _markdown_resolved(impact: AgentImpact) -> str:
    if impact.failure is not None:
        message = impact.failure.message.replace("|", "\\|")
        return f"**re-resolution fails**: {message}"
    return ", ".join(f"`{r}`" for r in impact.resolved)


def _agent_json(impact: AgentImpact) -> dict[str, Any]:
    failure = impact.failure
    return {
        "agent": impact.agent,
        "before": chain_json(impact.chain, impact.old_cost),
        "after": chain_json(impact.resolved, impact.new_cost),
        "lost": list(impact.lost),
        "primary_lost": impact.primary_lost,
        "serving": impact.serving,
        "stranded": impact.stranded,
        "resolution_error": None
        if failure is None
        else {"code": failure.code, "message": failure.message},
    }


def to_payload(report: WhatIfReport) -> dict[str, Any]:
    """The `what-if --format json` payload (docs/json.md)."""
    return {
        "without": [str(r) for r in report.removals],
        "stranded_agents": [{"environment": e, "agent": a} for e, a in report.stranded],
        "unresolvable_agents": [{"environment": e, "agent": a} for e, a in report.unresolvable],
        "environments": {
            env.environment: {
                "cost": cost_move(env.old_cost, env.new_cost),
                "unaffected": env.unaffected,
                "agents": [_agent_json(a) for a in env.agents],
            }
            for env in report.environments
        },
    }
