"""Explain one agent's resolution: merged constraints with provenance, ranked candidates, the
chosen chain and every rejected offer with its reasons. Pure; formats text and the JSON payload.
"""

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import api
from .diagnostics import CompileError, Diagnostic, error, format_text_one
from .jsontext import chain_json
from .load.catalog import Offer
from .load.loader import load_project
from .load.project import Environment, Project
from .resolve.constraints import Source, provenance
from .resolve.modelage import retirement, retires_within
from .resolve.resolver import SubjectReport, agent_subject, resolve_subject


@dataclass(frozen=True, slots=True)
class Explanation:
    agent: str
    team: str
    tier: str | None
    environment: str
    report: SubjectReport | None  # None: the agent has no tier in this environment
    promoted_from: str | None = None  # the environment runs what was promoted from it
    running: tuple[str, ...] = ()  # in a promoted environment: the chain its lock records
    retire_warning_days: int = 30  # the environment's window for "retires soon"


def explain(root: Path, agent_id: str, envs: tuple[str, ...] = ()) -> tuple[Explanation, ...]:
    """Explain `agent_id` in the given environments (default: every one that deploys it).

    Raises:
        CompileError: unknown agent or environment, or an agent no named environment deploys.
    """
    project = load_project(root.resolve())
    agent = project.agents.get(agent_id)
    if agent is None:
        close = difflib.get_close_matches(agent_id, list(project.agents), n=1)
        notes = [f"hint: did you mean '{close[0]}'?"] if close else []
        raise CompileError((error("PC103", f"unknown agent '{agent_id}'", None, *notes),))
    chosen = api.select_environments(project, envs)
    deployed = [env for env in chosen if agent_id in env.agent_ids]
    if not deployed:
        raise CompileError(
            (
                error(
                    "PC103",
                    f"agent '{agent_id}' is not deployed in {', '.join(e.name for e in chosen)}",
                    agent.span,
                    *(_why_not_deployed(env, agent_id, agent.team) for env in chosen),
                ),
            )
        )
    return tuple(_explain_env(project, root.resolve(), agent_id, env.name) for env in deployed)


def _why_not_deployed(env: Environment, agent_id: str, team: str) -> str:
    override = env.agent_overrides.get(agent_id)
    if override is not None and not override.spec.enabled:
        where = override.spans.get("enabled", override.span)
        return f"note: {env.name} turns it off: enabled: false at {where}"
    return f"note: {env.name} deploys teams [{', '.join(env.spec.teams)}], not '{team}'"


def _explain_env(project: Project, root: Path, agent_id: str, env_name: str) -> Explanation:
    env = project.environments[env_name]
    agent = project.agents[agent_id]
    subject = agent_subject(project, env, agent)
    tier = agent.spec.tier or env.spec.default_tier
    source, days = env.spec.promote_from, env.spec.retire_warning_days
    if subject is None:
        return Explanation(agent_id, agent.team, tier, env_name, None, source, (), days)
    lock = api.read_lock(root, env_name)
    report = resolve_subject(
        project, env, subject, api.locked_chains(lock, env, api.CompileOptions())
    )
    running = lock.chains.get(agent_id, ()) if source else ()
    return Explanation(agent_id, agent.team, tier, env_name, report, source, running, days)


def _price(offer: Offer, key: str) -> str:
    value = offer.price.get(key)
    return "?" if value is None else str(value)


def _offer_line(offer: Offer) -> str:
    context = f"{offer.context_window:,}" if offer.context_window else "?"
    retires = retirement(offer)
    return (
        f"{offer.ref}  in {_price(offer, 'input')} out {_price(offer, 'output')} USD/1M, "
        f"context {context}, vendor {offer.vendor}"
        + (f", retires {retires.isoformat()}" if retires else "")
    )


def _constraint_values(report: SubjectReport) -> dict[str, Any]:
    """The merged constraints as typed values (None: not constrained)."""
    merged = report.merged
    return {
        "requires": list(merged.requires),
        "min_context": merged.min_context or None,
        "max_price.input": merged.max_input,
        "max_price.output": merged.max_output,
        "prefer": list(merged.prefer),
        "avoid": list(merged.avoid),
        "sort": merged.sort,
        "fallbacks": merged.fallbacks,
        "diversity": merged.diversity,
        "thinking": merged.thinking,
        "vendors": None if merged.vendors is None else list(merged.vendors),
        "min_age_days": merged.min_age_days,
    }


def _shown(value: Any) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _constraint_rows(report: SubjectReport) -> list[tuple[str, Any, list[Source]]]:
    """(key, typed value, where it came from; empty = the default) per merged constraint."""
    sources_of = provenance(report.subject.layers)
    return [
        (key, value, list(sources_of.get(key, ())))
        for key, value in _constraint_values(report).items()
    ]


def format_text(explanations: tuple[Explanation, ...]) -> str:
    return "\n\n".join(_format_one(e) for e in explanations) + "\n"


def _why_chosen(item: Explanation, report: SubjectReport, index: int, offer: Offer) -> str:
    if item.promoted_from is not None:
        why = f"  [promoted from {item.promoted_from}]"
    elif index == 0 and report.subject.pin is not None:
        why = f"  [pinned at {report.subject.pin_span}]"
    elif report.result is not None and offer.ref in report.result.kept_from_lock:
        why = "  [kept from lock]"
    else:
        why = ""
    soon = retires_within(offer, item.retire_warning_days)
    return why + (f"  [! {soon}]" if soon else "")


def _format_one(item: Explanation) -> str:
    head = (
        f"agent {item.agent} (team {item.team}, tier {item.tier}) in environment {item.environment}"
    )
    report = item.report
    if report is None:
        return f"{head}\n  no tier: set tier on the agent or default_tier on the environment"
    lines = [head, f"  defined at {report.subject.span}"]
    if item.promoted_from is not None:
        lines.append(
            f"  runs what was promoted from {item.promoted_from}; changes only by "
            f"clawpolicy promote {item.promoted_from} {item.environment}"
        )
    lines += ["", "merged constraints:"]
    for key, value, sources in _constraint_rows(report):
        origin = "; ".join(str(s) for s in sources) or "default"
        lines.append(f"  {key:<17} {_shown(value):<30} from {origin}")
    lines += ["", "chosen chain:"]
    if report.result is None and item.running:
        lines += [
            f"  {'primary' if i == 0 else f'fallback {i}':<11} {ref}  [promoted from "
            f"{item.promoted_from}; no longer fits its policy: see diagnostics]"
            for i, ref in enumerate(item.running)
        ]
    elif report.result is None:
        lines.append("  (none)" + ("  [not promoted yet]" if item.promoted_from else ""))
    else:
        for index, offer in enumerate(report.result.chain):
            role = "primary" if index == 0 else f"fallback {index}"
            lines.append(f"  {role:<11} {offer.ref}{_why_chosen(item, report, index, offer)}")
        if report.result.cost is not None:
            lines.append(f"  estimated cost of the primary: {report.result.cost:.2f} USD/month")
        if (budget := report.subject.budget) is not None:
            where = report.subject.key_spans.get("budget")
            lines.append(f"  budget: {budget} USD/month" + (f" (set at {where})" if where else ""))
    lines += ["", f"ranked candidates ({len(report.ranking.candidates)}):"]
    lines += [f"  {i:>3}. {_offer_line(o)}" for i, o in enumerate(report.ranking.candidates, 1)]
    lines += ["", f"rejected offers ({len(report.ranking.rejected)}):"]
    lines += [f"  {r.offer.ref}: {'; '.join(r.reasons)}" for r in report.ranking.rejected]
    if report.diagnostics:
        lines += ["", "diagnostics:"]
        lines += ["  " + format_text_one(d).replace("\n", "\n  ") for d in report.diagnostics]
    return "\n".join(lines)


def _offer_json(offer: Offer) -> dict[str, Any]:
    return {
        "ref": offer.ref,
        "vendor": offer.vendor,
        "context_window": offer.context_window,
        "price": {k: v for k, v in offer.price.items() if v is not None},
    }


def _source_json(source: Source) -> dict[str, Any]:
    span = source.span
    return {
        "origin": source.origin,
        "path": span.path if span else None,
        "line": span.line if span else None,
        "column": span.column if span else None,
    }


def _environment_json(item: Explanation) -> dict[str, Any]:
    body: dict[str, Any] = {"tier": item.tier, "promoted_from": item.promoted_from}
    report = item.report
    if report is None:
        return {**body, "constraints": None, "chain": None, "candidates": [], "rejected": []}
    result = report.result
    body["constraints"] = {
        key: {"value": value, "from": [_source_json(s) for s in sources]}
        for key, value, sources in _constraint_rows(report)
    }
    if result is not None:
        body["chain"] = chain_json(result.refs, result.cost)
        body["retiring"] = {
            o.ref: soon
            for o in result.chain
            if (soon := retires_within(o, item.retire_warning_days))
        }
    else:  # a promoted chain that no longer fits is still what the environment runs
        body["chain"] = chain_json(item.running, None) if item.running else None
    body["candidates"] = [_offer_json(o) for o in report.ranking.candidates]
    body["rejected"] = [
        {**_offer_json(r.offer), "reasons": list(r.reasons)} for r in report.ranking.rejected
    ]
    return body


def to_payload(explanations: tuple[Explanation, ...]) -> dict[str, Any]:
    """The `explain --format json` payload (docs/json.md): the agent, its team, and per
    environment its tier, merged constraints with provenance, chain, candidates and rejections."""
    first = explanations[0]
    return {
        "agent": first.agent,
        "team": first.team,
        "environments": {item.environment: _environment_json(item) for item in explanations},
    }


def diagnostics_of(explanations: tuple[Explanation, ...]) -> tuple[Diagnostic, ...]:
    """What resolving the agent reported, in every explained environment."""
    return tuple(d for e in explanations if e.report is not None for d in e.report.diagnostics)


def is_resolved(explanations: tuple[Explanation, ...]) -> bool:
    """Whether the agent has a chain in every explained environment."""
    return all(e.report is not None and e.report.result is not None for e in explanations)
