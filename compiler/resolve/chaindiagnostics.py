"""Stage 2 (part): the diagnostics of resolving chains, with their notes and hints (PC201 no
candidate, PC202 pin, PC203 shortfall, PC204 environment budget, PC205 never promoted, PC206
tier without alias, PC207 replaced lock choices, PC208 promoted misfit, PC212 one account).
Pure; no IO. Reasons per offer (`constraints.problems`) are built here, where they are shown.
"""

import difflib
from collections.abc import Iterable
from decimal import Decimal

from ..diagnostics import REPLACED, Diagnostic, Span, error, warning
from ..load.catalog import Offer
from ..load.project import Agent, Environment
from .constraints import Merged, problems, provenance
from .ranking import Ranking
from .subjects import Subject

MISSES_SHOWN = 5


def constraint_notes(subject: Subject, merged: Merged) -> list[str]:
    """One note per filtering constraint: its merged value and every place that set it."""
    sources = provenance(subject.layers)
    notes = []
    for key, text in merged.describe() or [("", "no constraints")]:
        origin = ", ".join(
            f"{s.origin} at {s.span}" if s.span else s.origin for s in sources.get(key, ())
        )
        notes.append(f"note: {text}" + (f" (from {origin})" if origin else ""))
    return notes


def pin_suggestions(pin: str, offers: tuple[Offer, ...]) -> list[str]:
    """Refs a mistyped pin may mean: the ref of a bare model id (no provider, or no vendor
    either: `gpt-5-mini`), else the nearest refs.

    Example:
        >>> from datetime import date
        >>> o = Offer("infron", "openai/gpt-5-mini", "n", "openai", None, None, ("text",), {},
        ...           {}, None, None, None, False, date(2026, 1, 1))
        >>> pin_suggestions("gpt-5-mini", (o,)), pin_suggestions("infron/gpt-5-mini", (o,))
        (['infron/openai/gpt-5-mini'], ['infron/openai/gpt-5-mini'])
    """
    tail = pin.rpartition("/")[2]
    found = [o.ref for o in offers if o.id == pin or o.id.rpartition("/")[2] == tail]
    if found:
        return found[:3]
    return difflib.get_close_matches(pin, [o.ref for o in offers], n=3)


def budget_reason(budget: Decimal | None, cost: Decimal | None) -> str:
    shown = "unknown" if cost is None else f"{cost:.2f}"
    return f"estimated {shown} USD/month > budget {budget}"


def _pin_owner(subject: Subject) -> str:
    return f"agent '{subject.key}'" if not subject.key.startswith("@") else subject.label


def pin_not_offered(subject: Subject, env: Environment, offers: tuple[Offer, ...]) -> Diagnostic:
    assert subject.pin is not None
    close = pin_suggestions(subject.pin, offers)
    notes = [f"hint: did you mean {' or '.join(close)}?"] if close else []
    return error(
        "PC202",
        f"pin '{subject.pin}' of {_pin_owner(subject)} is not offered in environment '{env.name}'",
        subject.pin_span or subject.span,
        f"note: providers of '{env.name}': {', '.join(p.id for p in env.providers)}",
        *notes,
    )


def pin_misfit(
    subject: Subject, env: Environment, merged: Merged, reasons: list[str]
) -> Diagnostic:
    return error(
        "PC202",
        f"pin '{subject.pin}' of {_pin_owner(subject)} does not satisfy its constraints in "
        f"environment '{env.name}': {'; '.join(reasons)}",
        subject.pin_span or subject.span,
        *constraint_notes(subject, merged),
    )


def no_candidate(
    subject: Subject,
    env: Environment,
    merged: Merged,
    ranking: Ranking,
    over_budget: Iterable[tuple[Offer, str]],
) -> Diagnostic:
    """PC201: nothing satisfies the constraints, or (`over_budget`: the best candidates with
    why each misses the budget) nothing of what does fits the budget."""
    notes = constraint_notes(subject, merged)
    misses = [f"{offer.ref} ({reason})" for offer, reason in over_budget]
    if misses:
        message = f"no candidate of {subject.label} fits its budget in environment '{env.name}'"
        hint = "hint: raise budget, lower the workload or loosen the tier"
    else:
        misses = [
            f"{r.offer.ref} ({'; '.join(r.reasons)})" for r in ranking.rejected[:MISSES_SHOWN]
        ]
        message = f"no catalog offer satisfies {subject.label} in environment '{env.name}'"
        hint = "hint: loosen a constraint above, or add a catalog or provider that has a match"
    if not misses:
        misses = ["(the environment's providers offer no models)"]
    more = len(ranking.rejected) - MISSES_SHOWN
    notes.append(
        "note: nearest misses: " + ", ".join(misses) + (f" ... and {more} more" if more > 0 else "")
    )
    notes.append(hint)
    return error("PC201", message, subject.span, *notes)


def shortfall(
    subject: Subject, env: Environment, merged: Merged, got: int, count: int
) -> Diagnostic:
    return warning(
        "PC203",
        f"{subject.label} in environment '{env.name}' gets {got} fallback(s) "
        f"of {merged.fallbacks} asked for",
        subject.span,
        f"note: {count} candidate(s) satisfy the constraints, diversity '{merged.diversity}'",
        "hint: lower fallbacks, relax diversity or loosen the constraints",
    )


def one_account(subject: Subject, env: Environment, primary: Offer) -> Diagnostic:
    others = [p.id for p in env.providers if p.id != primary.provider]
    return warning(
        "PC212",
        f"{subject.label} in environment '{env.name}' stays on provider account "
        f"'{primary.provider}': diversity vendor+provider asks for a second account",
        subject.span,
        f"note: no candidate of another vendor than {primary.vendor} on "
        f"{', '.join(others)} satisfies the constraints",
        "hint: loosen the constraints, or list a catalog with offers of the other account",
    )


def replaced(subject: Subject, env: Environment, found: Iterable[tuple[str, str]]) -> Diagnostic:
    return warning(
        "PC207",
        f"{subject.label} in environment '{env.name}': locked choice(s) " + REPLACED,
        subject.span,
        *(f"note: {ref}: {reason}" for ref, reason in found),
    )


def never_promoted(subject: Subject, env: Environment) -> Diagnostic:
    return error(
        "PC205",
        f"{subject.label} was never promoted into environment '{env.name}'",
        subject.span,
        f"hint: run clawpolicy promote {env.spec.promote_from} {env.name}",
    )


def not_promoted(env: Environment, agent: Agent) -> Diagnostic:
    """In a promotion, an agent the source's lock lacks is not deployed in the target."""
    source = env.spec.promote_from
    return warning(
        "PC205",
        f"agent '{agent.id}' was never promoted into environment '{env.name}': not deployed there",
        agent.span,
        f"note: environment '{source}' has no chain for it (does '{source}' deploy its team?)",
    )


def lock_misfit(subject: Subject, env: Environment, merged: Merged, ref: str) -> Diagnostic:
    offer = env.catalog.by_ref.get(ref)
    known = {p.id for p in env.providers}
    if offer is None or offer.provider not in known:
        reason = "not offered by the environment's providers and catalogs"
    else:
        reason = "; ".join(problems(offer, merged))
    return error(
        "PC208",
        f"promoted {ref} for {subject.label} does not fit environment '{env.name}': {reason}",
        subject.span,
        *constraint_notes(subject, merged),
    )


def no_agent_tier(env: Environment, agent: Agent) -> Diagnostic:
    return error(
        "PC102",
        f"agent '{agent.id}' has no tier and environment '{env.name}' has no default_tier",
        agent.span,
        "hint: add tier: <name> to the agent",
    )


def tier_without_alias(env: Environment, name: str, span: Span) -> Diagnostic:
    """PC206: a tier nobody in the environment can use (only a warning)."""
    if env.spec.promote_from is not None:
        why = f"it was not promoted from '{env.spec.promote_from}'"
        note = f"hint: run clawpolicy promote {env.spec.promote_from} {env.name}"
    else:
        why = "no offer satisfies it"
        note = "note: run clawpolicy explain with an agent of this tier for details"
    return warning(
        "PC206", f"tier '{name}' has no alias in environment '{env.name}': {why}", span, note
    )


def over_environment_budget(
    env: Environment, total: Decimal, spenders: Iterable[tuple[str, Decimal, str]]
) -> Diagnostic:
    """PC204 with the largest spenders: (agent, cost, primary ref), largest first."""
    top = ", ".join(f"{key} {cost:.2f} ({ref})" for key, cost, ref in spenders)
    return error(
        "PC204",
        f"environment '{env.name}' is estimated at {total:.2f} USD/month, over its "
        f"budget of {env.spec.budget}",
        env.spans.get("budget", env.span),
        f"note: largest: {top}",
        "hint: raise budget, lower workloads or tighten max_price",
    )
