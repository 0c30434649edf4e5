"""Stage 2: resolve every agent of one environment to a chain of offers (Project -> Resolution).

Pure; no IO. Ranking depends only on the merged constraints (`Merged.rank_key`), so it is
computed once per distinct constraint set and shared by every agent that has the same one;
picking a chain then walks the shared ranking and usually stops after a few offers. Nothing is
quadratic in agents or offers.
"""

import difflib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..diagnostics import Diagnostic, error, raise_if_errors, warning
from ..load.catalog import Offer
from ..load.project import Agent, Constraints, Environment, Project
from ..load.spec import ConstraintSpec
from . import modelage
from .constraints import Merged, merge, monthly_cost, problems, provenance
from .fallbacks import needs_second_account, pick_fallbacks, spans_accounts
from .ranking import Ranking, rank
from .subjects import (
    DEFAULT_KEY,
    DEFAULT_SLOTS,
    IMAGE_KEY,
    PDF_KEY,
    SLOTS,
    TIER_KEY_PREFIX,
    UTILITY_KEY,
    DefaultSlot,
    Subject,
    agent_subject,
    default_subject,
    tier_subject,
)

CONSTRAINT_KEYS = tuple(ConstraintSpec.model_fields)
# the subjects' names are part of this module's interface (most stages import them from here)
__all__ = [
    "DEFAULT_KEY",
    "DEFAULT_SLOTS",
    "IMAGE_KEY",
    "PDF_KEY",
    "SLOTS",
    "TIER_KEY_PREFIX",
    "UTILITY_KEY",
    "ChainResult",
    "DefaultSlot",
    "Resolution",
    "Subject",
    "SubjectReport",
    "agent_subject",
    "constraint_notes",
    "default_subject",
    "pin_suggestions",
    "resolve",
    "resolve_subject",
]

MISSES_SHOWN = 5
REPLACED = "no longer fit and were replaced"
WOULD_BE_REPLACED = "no longer fit and would be replaced"


@dataclass(frozen=True, slots=True)
class ChainResult:
    subject: Subject
    merged: Merged
    ranking: Ranking
    chain: tuple[Offer, ...]
    cost: Decimal | None  # estimated monthly cost of the primary, when a workload is given
    kept_from_lock: tuple[str, ...] = ()
    replaced: tuple[tuple[str, str], ...] = ()  # locked refs that stopped fitting, with why
    # derived once: the renderer, the lock and the differ each read it per agent
    refs: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "refs", tuple(o.ref for o in self.chain))


@dataclass(frozen=True, slots=True)
class Resolution:
    environment: Environment
    agents: Mapping[str, ChainResult]
    defaults: Mapping[str, ChainResult]  # DEFAULT_SLOTS key -> chain, in DEFAULT_SLOTS order
    tiers: Mapping[str, ChainResult]
    aliases: Mapping[str, str]  # ref -> tier alias
    total_cost: Decimal
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def default_model(self) -> ChainResult | None:
        return self.defaults.get(DEFAULT_KEY)

    @property
    def image_model(self) -> ChainResult | None:
        return self.defaults.get(IMAGE_KEY)

    def chains(self) -> list[ChainResult]:
        """Every chain, in a fixed order (defaults, tiers, agents)."""
        found = [self.defaults[s.key] for s in DEFAULT_SLOTS if s.key in self.defaults]
        return found + list(self.tiers.values()) + list(self.agents.values())


# --------------------------------------------------------------------------- chains


def _constraint_values(layer: Constraints) -> tuple[Any, ...]:
    spec = layer.spec
    return tuple(getattr(spec, key) for key in CONSTRAINT_KEYS)


class _EnvResolver:
    """Resolves subjects of one environment, sharing rankings between equal constraint sets."""

    def __init__(
        self,
        project: Project,
        env: Environment,
        locked: Mapping[str, tuple[str, ...]],
        kept: tuple[Collection[str], Mapping[str, Offer]] | None = None,
    ):
        self.project = project
        self.env = env
        self.locked = locked
        # in a promotion: chains the target keeps as it runs them (not checked), and the
        # offers of models its catalogs no longer have
        self.kept_keys, self.known_offers = kept or ((), {})
        self.offers = env.catalog.for_providers(p.id for p in env.providers)
        self.offer_by_ref = {o.ref: o for o in self.offers}
        self.rankings: dict[tuple[Any, ...], Ranking] = {}
        self.merged: dict[tuple[Any, ...], Merged] = {}
        self.problems: list[Diagnostic] = []

    def ranking_for(self, merged: Merged) -> Ranking:
        key = merged.rank_key()
        found = self.rankings.get(key)
        if found is None:
            found = rank(self.offers, merged, self.env)
            self.rankings[key] = found
        return found

    def merged_for(self, subject: Subject) -> Merged:
        """Merged constraints, shared by every subject whose layers say the same thing."""
        weights = subject.workload if subject.workload and any(subject.workload) else None
        key = (
            tuple(_constraint_values(layer) for layer in subject.layers),
            subject.extra_requires,
            weights,
        )
        found = self.merged.get(key)
        if found is None:
            found = merge(subject.layers, subject.extra_requires, weights)
            self.merged[key] = found
        return found

    def resolve(self, subject: Subject) -> ChainResult | None:
        merged = self.merged_for(subject)
        ranking = self.ranking_for(merged)
        locked = self.locked.get(subject.key, ())
        if self.env.spec.promote_from is not None:
            return self._from_lock(subject, merged, ranking, locked)
        primary = self._primary(subject, merged, ranking, locked)
        if primary is None:
            return None
        chain = (primary, *self._fallbacks(subject, merged, ranking, primary, locked))
        kept = tuple(o.ref for o in chain if o.ref in locked)
        replaced = self._replaced(subject, merged, locked, kept)
        if replaced:
            self.problems.append(
                warning(
                    "PC207",
                    f"{subject.label} in environment '{self.env.name}': locked choice(s) "
                    + REPLACED,
                    subject.span,
                    *(f"note: {ref}: {reason}" for ref, reason in replaced),
                )
            )
        cost = self._cost(subject, primary)
        return ChainResult(subject, merged, ranking, chain, cost, kept, replaced)

    def _fallbacks(
        self,
        subject: Subject,
        merged: Merged,
        ranking: Ranking,
        primary: Offer,
        locked: tuple[str, ...],
    ) -> tuple[Offer, ...]:
        if subject.primary_only:
            return ()
        accounts = len(self.env.providers)
        fallbacks = pick_fallbacks(primary, merged, ranking, locked[1:], accounts)
        if len(fallbacks) < merged.fallbacks:
            self._shortfall(subject, merged, ranking, len(fallbacks))
        if needs_second_account(merged, accounts) and not spans_accounts((primary, *fallbacks)):
            self.problems.append(self._one_account(subject, primary))
        return fallbacks

    def _one_account(self, subject: Subject, primary: Offer) -> Diagnostic:
        others = [p.id for p in self.env.providers if p.id != primary.provider]
        return warning(
            "PC212",
            f"{subject.label} in environment '{self.env.name}' stays on provider account "
            f"'{primary.provider}': diversity vendor+provider asks for a second account",
            subject.span,
            f"note: no candidate of another vendor than {primary.vendor} on "
            f"{', '.join(others)} satisfies the constraints",
            "hint: loosen the constraints, or list a catalog with offers of the other account",
        )

    def _replaced(
        self, subject: Subject, merged: Merged, locked: tuple[str, ...], kept: tuple[str, ...]
    ) -> tuple[tuple[str, str], ...]:
        """Locked choices dropped because they stopped fitting (not because the policy now
        asks for fewer or other models), each with why: news for whoever reviews the change."""
        found = []
        for ref in locked:
            offer = self.offer_by_ref.get(ref)
            if ref in kept:
                continue
            if offer is None:
                found.append((ref, "no longer offered by the environment's catalogs"))
            elif reasons := problems(offer, merged):
                found.append((ref, "; ".join(reasons)))
            elif ref == locked[0] and not self._fits_budget(subject, offer):
                found.append((ref, self._budget_reason(subject, offer)))
        return tuple(found)

    def _cost(self, subject: Subject, offer: Offer) -> Decimal | None:
        if not subject.workload:
            return None
        return monthly_cost(offer, *subject.workload)

    def _fits_budget(self, subject: Subject, offer: Offer) -> bool:
        if subject.budget is None:
            return True
        cost = self._cost(subject, offer)
        return cost is not None and cost <= subject.budget

    def _primary(
        self, subject: Subject, merged: Merged, ranking: Ranking, locked: tuple[str, ...]
    ) -> Offer | None:
        if subject.pin is not None:
            return self._pinned(subject, merged, ranking)
        seeds = [ranking.by_ref[r] for r in locked[:1] if r in ranking.by_ref]
        for offer in seeds + list(ranking.candidates):
            if self._fits_budget(subject, offer):
                return offer
        self.problems.append(self._no_candidate(subject, merged, ranking))
        return None

    def _pinned(self, subject: Subject, merged: Merged, ranking: Ranking) -> Offer | None:
        assert subject.pin is not None
        offer = self._find_pin(subject.pin)
        where = f"agent '{subject.key}'" if not subject.key.startswith("@") else subject.label
        env = self.env.name
        if offer is None:
            close = pin_suggestions(subject.pin, self.offers)
            notes = [f"hint: did you mean {' or '.join(close)}?"] if close else []
            self.problems.append(
                error(
                    "PC202",
                    f"pin '{subject.pin}' of {where} is not offered in environment '{env}'",
                    subject.pin_span or subject.span,
                    f"note: providers of '{env}': {', '.join(p.id for p in self.env.providers)}",
                    *notes,
                )
            )
            return None
        reasons = list(problems(offer, merged))
        if not self._fits_budget(subject, offer):
            reasons.append(self._budget_reason(subject, offer))
        if reasons:
            self.problems.append(
                error(
                    "PC202",
                    f"pin '{subject.pin}' of {where} does not satisfy its constraints in "
                    f"environment '{env}': {'; '.join(reasons)}",
                    subject.pin_span or subject.span,
                    *constraint_notes(subject, merged),
                )
            )
            return None
        return offer

    def _find_pin(self, pin: str) -> Offer | None:
        """A pin is `<provider>/<model id>`; where this environment lacks that provider, the
        same model id on the environment's providers (in provider order) is taken."""
        by_ref = self.offer_by_ref
        if pin in by_ref:
            return by_ref[pin]
        head, _, rest = pin.partition("/")
        model_ids = [rest, pin] if head not in {p.id for p in self.env.providers} else []
        for provider in self.env.providers:
            for model_id in model_ids:
                found = by_ref.get(f"{provider.id}/{model_id}")
                if found is not None:
                    return found
        return None

    def _budget_reason(self, subject: Subject, offer: Offer) -> str:
        cost = self._cost(subject, offer)
        shown = "unknown" if cost is None else f"{cost:.2f}"
        return f"estimated {shown} USD/month > budget {subject.budget}"

    def _no_candidate(self, subject: Subject, merged: Merged, ranking: Ranking) -> Diagnostic:
        env = self.env.name
        notes = constraint_notes(subject, merged)
        if ranking.candidates and subject.budget is not None:
            misses = [
                f"{o.ref} ({self._budget_reason(subject, o)})"
                for o in ranking.candidates[:MISSES_SHOWN]
            ]
            message = f"no candidate of {subject.label} fits its budget in environment '{env}'"
            hint = "hint: raise budget, lower the workload or loosen the tier"
        else:
            misses = [
                f"{r.offer.ref} ({'; '.join(r.reasons)})" for r in ranking.rejected[:MISSES_SHOWN]
            ]
            message = f"no catalog offer satisfies {subject.label} in environment '{env}'"
            hint = "hint: loosen a constraint above, or add a catalog or provider that has a match"
        if not misses:
            misses = ["(the environment's providers offer no models)"]
        more = len(ranking.rejected) - MISSES_SHOWN
        notes.append(
            "note: nearest misses: "
            + ", ".join(misses)
            + (f" ... and {more} more" if more > 0 else "")
        )
        notes.append(hint)
        return error("PC201", message, subject.span, *notes)

    def _shortfall(self, subject: Subject, merged: Merged, ranking: Ranking, got: int) -> None:
        self.problems.append(
            warning(
                "PC203",
                f"{subject.label} in environment '{self.env.name}' gets {got} fallback(s) "
                f"of {merged.fallbacks} asked for",
                subject.span,
                f"note: {len(ranking.candidates)} candidate(s) satisfy the constraints, diversity "
                f"'{merged.diversity}'",
                "hint: lower fallbacks, relax diversity or loosen the constraints",
            )
        )

    def _from_lock(
        self, subject: Subject, merged: Merged, ranking: Ranking, locked: tuple[str, ...]
    ) -> ChainResult | None:
        env = self.env.name
        if not locked:
            self.problems.append(
                error(
                    "PC205",
                    f"{subject.label} was never promoted into environment '{env}'",
                    subject.span,
                    f"hint: run clawpolicy promote {self.env.spec.promote_from} {env}",
                )
            )
            return None
        chain = []
        kept = subject.key in self.kept_keys
        for ref in locked:
            offer = ranking.by_ref.get(ref)
            if offer is None and kept:  # as the target runs it; the pending report says why
                offer = self.env.catalog.by_ref.get(ref) or self.known_offers.get(ref)
            if offer is None:
                self.problems.append(self._lock_misfit(subject, merged, ref))
                return None
            chain.append(offer)
        return ChainResult(
            subject, merged, ranking, tuple(chain), self._cost(subject, chain[0]), tuple(locked)
        )

    def _lock_misfit(self, subject: Subject, merged: Merged, ref: str) -> Diagnostic:
        offer = self.env.catalog.by_ref.get(ref)
        known = {p.id for p in self.env.providers}
        if offer is None or offer.provider not in known:
            reason = "not offered by the environment's providers and catalogs"
        else:
            reason = "; ".join(problems(offer, merged))
        return error(
            "PC208",
            f"promoted {ref} for {subject.label} does not fit environment "
            f"'{self.env.name}': {reason}",
            subject.span,
            *constraint_notes(subject, merged),
        )


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


# --------------------------------------------------------------------------- subjects


def _aliases(tiers: Mapping[str, ChainResult]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for name, result in tiers.items():
        free = next((ref for ref in result.refs if ref not in aliases), None)
        if free is not None:
            aliases[free] = name
    return dict(sorted(aliases.items()))


def resolve(
    project: Project,
    env: Environment,
    locked: Mapping[str, tuple[str, ...]] | None = None,
    kept: tuple[Collection[str], Mapping[str, Offer]] | None = None,
) -> Resolution:
    """Resolve every chain of `env`.

    Args:
        project: the loaded policy repo.
        env: one of `project.environments`.
        locked: chains from the lock file, keyed like `ChainResult.subject.key`; each locked
            choice is kept while it still satisfies the policy (pass {} to re-resolve all).
        kept: in a promoted environment, the keys whose locked chains are kept as they run
            (not checked against the policy: they were not promoted now) and offers for
            models its catalogs no longer have.

    Raises:
        CompileError: every unsatisfiable agent, pin or budget of the environment.
    """
    resolver = _EnvResolver(project, env, locked or {}, kept)
    agents: dict[str, ChainResult] = {}
    for agent_id in env.agent_ids:
        agent = project.agents[agent_id]
        subject = agent_subject(project, env, agent)
        if subject is None:
            resolver.problems.append(
                error(
                    "PC102",
                    f"agent '{agent_id}' has no tier and environment '{env.name}' has no "
                    "default_tier",
                    agent.span,
                    "hint: add tier: <name> to the agent",
                )
            )
            continue
        if env.spec.promote_from is not None and agent_id not in resolver.locked:
            resolver.problems.append(_not_promoted(env, agent))
            continue
        result = resolver.resolve(subject)
        if result is not None:
            agents[agent_id] = result
    defaults = {}
    for slot in DEFAULT_SLOTS:
        subject = default_subject(project, env, slot)
        result = resolver.resolve(subject) if subject is not None else None
        if result is not None:
            defaults[slot.key] = result
    tiers = _resolve_tiers(project, env, resolver, agents)
    total = sum((r.cost for r in agents.values() if r.cost is not None), Decimal(0))
    _check_environment_budget(env, agents, total, resolver.problems)
    resolution = Resolution(env, agents, defaults, tiers, _aliases(tiers), total)
    resolver.problems += modelage.notices(
        env.name,
        env.spec.retire_warning_days,
        _members(resolution),
        env.spans.get("retire_warning_days"),
    )
    raise_if_errors(resolver.problems)
    warnings = tuple(sorted(resolver.problems, key=Diagnostic.sort_key))
    return Resolution(env, agents, defaults, tiers, resolution.aliases, total, warnings)


def _members(resolution: Resolution) -> Iterator[tuple[Offer, modelage.User]]:
    """(offer, the chain that uses it) for every member, agents first (their spans are the
    most useful place to point at)."""
    chains = list(resolution.agents.values()) + [
        c for c in resolution.chains() if c.subject.key.startswith("@")
    ]
    for result in chains:
        aged = result.merged.min_age_days is not None
        slot = SLOTS.get(result.subject.key)
        key = f"agents.defaults.{slot.config_key}" if slot else result.subject.key
        user = modelage.User(key, result.subject.span, aged)
        for offer in result.chain:
            yield offer, user


def _not_promoted(env: Environment, agent: Agent) -> Diagnostic:
    """In a promotion, an agent the source's lock lacks is not deployed in the target."""
    source = env.spec.promote_from
    return warning(
        "PC205",
        f"agent '{agent.id}' was never promoted into environment '{env.name}': not deployed there",
        agent.span,
        f"note: environment '{source}' has no chain for it (does '{source}' deploy its team?)",
    )


def _resolve_tiers(
    project: Project, env: Environment, resolver: _EnvResolver, agents: Mapping[str, ChainResult]
) -> dict[str, ChainResult]:
    """One chain per tier, for the `/model <tier>` aliases; a tier nobody can use only warns."""
    tiers: dict[str, ChainResult] = {}
    for name, tier in project.tiers.items():
        subject = tier_subject(project, env, name, tier.span)
        before = len(resolver.problems)
        result = resolver.resolve(subject)
        if result is not None:
            tiers[name] = result
            continue
        del resolver.problems[before:]
        if env.spec.promote_from is not None:
            why = f"it was not promoted from '{env.spec.promote_from}'"
            note = f"hint: run clawpolicy promote {env.spec.promote_from} {env.name}"
        else:
            why = "no offer satisfies it"
            note = "note: run clawpolicy explain with an agent of this tier for details"
        resolver.problems.append(
            warning(
                "PC206",
                f"tier '{name}' has no alias in environment '{env.name}': {why}",
                tier.span,
                note,
            )
        )
    return tiers


def _check_environment_budget(
    env: Environment, agents: Mapping[str, ChainResult], total: Decimal, found: list[Diagnostic]
) -> None:
    budget = env.spec.budget
    if budget is None or total <= budget:
        return
    spenders = sorted(
        (r for r in agents.values() if r.cost), key=lambda r: (-(r.cost or 0), r.subject.key)
    )
    top = ", ".join(f"{r.subject.key} {r.cost:.2f} ({r.chain[0].ref})" for r in spenders[:5])
    found.append(
        error(
            "PC204",
            f"environment '{env.name}' is estimated at {total:.2f} USD/month, over its "
            f"budget of {budget}",
            env.spans.get("budget", env.span),
            f"note: largest: {top}",
            "hint: raise budget, lower workloads or tighten max_price",
        )
    )


@dataclass(frozen=True, slots=True)
class SubjectReport:
    """One chain resolved on its own, with everything `explain` shows."""

    subject: Subject
    merged: Merged
    ranking: Ranking
    result: ChainResult | None
    diagnostics: tuple[Diagnostic, ...]


def resolve_subject(
    project: Project,
    env: Environment,
    subject: Subject,
    locked: Mapping[str, tuple[str, ...]] | None = None,
) -> SubjectReport:
    """Resolve one subject without raising: failures come back as diagnostics."""
    resolver = _EnvResolver(project, env, locked or {})
    merged = resolver.merged_for(subject)
    ranking = resolver.ranking_for(merged)
    result = resolver.resolve(subject)
    return SubjectReport(subject, merged, ranking, result, tuple(resolver.problems))
