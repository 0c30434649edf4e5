"""Stage 2: resolve every agent of one environment to a chain of offers (Project -> Resolution).

Pure; no IO. Ranking depends only on the merged constraints (`Merged.rank_key`), so it is
computed once per distinct constraint set and shared by every agent that has the same one;
picking a chain then walks the shared ranking and usually stops after a few offers. Nothing is
quadratic in agents or offers.
"""

import difflib
import itertools
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..diagnostics import Diagnostic, Span, error, raise_if_errors, warning
from ..load.catalog import Offer
from ..load.project import Agent, Constraints, Environment, Project
from ..load.spec import ConstraintSpec
from .constraints import Merged, merge, monthly_cost, problems, provenance
from .ranking import Ranking, rank

CONSTRAINT_KEYS = tuple(ConstraintSpec.model_fields)

DEFAULT_KEY = "@default"
IMAGE_KEY = "@image"
TIER_KEY_PREFIX = "@tier:"
MISSES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Subject:
    """What one chain is resolved for: an agent, the default model, the image model or a tier."""

    key: str  # agent id, "@default", "@image" or "@tier:<name>"
    label: str  # "agent support-triage", "default model", ...
    span: Span | None
    layers: tuple[Constraints, ...]
    extra_requires: tuple[str, ...] = ()
    pin: str | None = None
    pin_span: Span | None = None
    workload: tuple[Decimal, Decimal] | None = None
    budget: Decimal | None = None
    key_spans: Mapping[str, Span] = field(default_factory=dict)  # agent keys: tier, budget...


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
    default_model: ChainResult | None
    image_model: ChainResult | None
    tiers: Mapping[str, ChainResult]
    aliases: Mapping[str, str]  # ref -> tier alias
    total_cost: Decimal
    warnings: tuple[Diagnostic, ...] = ()

    def chains(self) -> list[ChainResult]:
        """Every chain, in a fixed order (defaults, tiers, agents)."""
        found = [c for c in (self.default_model, self.image_model) if c is not None]
        return found + list(self.tiers.values()) + list(self.agents.values())


# --------------------------------------------------------------------------- chains


def _constraint_values(layer: Constraints) -> tuple[Any, ...]:
    spec = layer.spec
    return tuple(getattr(spec, key) for key in CONSTRAINT_KEYS)


def _diversity_key(offer: Offer, diversity: str) -> str:
    """Two offers with the same key may not share a chain."""
    if diversity == "vendor":
        return offer.vendor
    if diversity == "provider":
        return offer.provider
    return offer.ref


def _fallbacks(
    primary: Offer, merged: Merged, ranking: Ranking, locked: tuple[str, ...]
) -> tuple[Offer, ...]:
    """Up to `merged.fallbacks` offers after the primary, always in rank order.

    Lock stability decides *which* offers: locked fallbacks that still fit are taken first
    (best ranked first, so the result never depends on the lock's order), then the best
    ranked of the rest; every member differs from the others by the diversity key. The
    chosen offers are then put in rank order, so history never decides the order.
    """
    position = ranking.position
    still_valid = sorted(
        (ranking.by_ref[ref] for ref in locked if ref in ranking.by_ref),
        key=lambda offer: position[offer.ref],
    )
    chosen: list[Offer] = []
    refs = {primary.ref}
    groups = {_diversity_key(primary, merged.diversity)}
    for offer in itertools.chain(still_valid, ranking.candidates):
        if len(chosen) >= merged.fallbacks:
            break
        group = _diversity_key(offer, merged.diversity)
        if offer.ref not in refs and group not in groups:
            chosen.append(offer)
            refs.add(offer.ref)
            groups.add(group)
    return tuple(sorted(chosen, key=lambda offer: position[offer.ref]))


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
        fallbacks = _fallbacks(primary, merged, ranking, locked[1:])
        if len(fallbacks) < merged.fallbacks:
            self._shortfall(subject, merged, ranking, len(fallbacks))
        chain = (primary, *fallbacks)
        kept = tuple(o.ref for o in chain if o.ref in locked)
        replaced = self._replaced(subject, merged, locked, kept)
        if replaced:
            self.problems.append(
                warning(
                    "PC207",
                    f"{subject.label} in environment '{self.env.name}': locked choice(s) "
                    "no longer fit and were replaced",
                    subject.span,
                    *(f"note: {ref}: {reason}" for ref, reason in replaced),
                )
            )
        cost = self._cost(subject, primary)
        return ChainResult(subject, merged, ranking, chain, cost, kept, replaced)

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
            close = difflib.get_close_matches(subject.pin, [o.ref for o in self.offers], n=3)
            notes = [f"hint: did you mean {', '.join(close)}?"] if close else []
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


def _tier_layers(project: Project, env: Environment, tier_name: str) -> tuple[Constraints, ...]:
    tier = project.tiers[tier_name]
    override = env.tier_overrides.get(tier_name)
    return (tier.layer,) if override is None else (tier.layer, override)


def agent_subject(project: Project, env: Environment, agent: Agent) -> Subject | None:
    tier_name = agent.spec.tier or env.spec.default_tier
    if tier_name is None:
        return None
    workload = agent.spec.workload
    return Subject(
        key=agent.id,
        label=f"agent '{agent.id}'",
        span=agent.span,
        layers=(*_tier_layers(project, env, tier_name), agent.layer),
        pin=agent.spec.pin,
        pin_span=agent.spans.get("pin"),
        workload=(workload.input_mtok, workload.output_mtok) if workload else None,
        budget=agent.spec.budget,
        key_spans=agent.spans,
    )


def _tier_subject(
    project: Project, env: Environment, key: str, tier_name: str, label: str, span: Span | None
) -> Subject:
    extra = ("vision",) if key == IMAGE_KEY else ()
    return Subject(key, label, span, _tier_layers(project, env, tier_name), extra)


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
    default_model, image_model = (
        _resolve_default(project, env, resolver, key) for key in (DEFAULT_KEY, IMAGE_KEY)
    )
    tiers = _resolve_tiers(project, env, resolver, agents)
    total = sum((r.cost for r in agents.values() if r.cost is not None), Decimal(0))
    _check_environment_budget(env, agents, total, resolver.problems)
    raise_if_errors(resolver.problems)
    return Resolution(
        env,
        agents,
        default_model,
        image_model,
        tiers,
        _aliases(tiers),
        total,
        tuple(sorted(resolver.problems, key=Diagnostic.sort_key)),
    )


def _not_promoted(env: Environment, agent: Agent) -> Diagnostic:
    """In a promotion, an agent the source's lock lacks is not deployed in the target."""
    source = env.spec.promote_from
    return warning(
        "PC205",
        f"agent '{agent.id}' was never promoted into environment '{env.name}': not deployed there",
        agent.span,
        f"note: environment '{source}' has no chain for it (does '{source}' deploy its team?)",
    )


def _resolve_default(
    project: Project, env: Environment, resolver: _EnvResolver, key: str
) -> ChainResult | None:
    field_name = "default_tier" if key == DEFAULT_KEY else "image_tier"
    tier_name = getattr(env.spec, field_name)
    if tier_name is None:
        return None
    label = "default model" if key == DEFAULT_KEY else "image model"
    subject = _tier_subject(
        project, env, key, tier_name, f"{label} (tier '{tier_name}')", env.spans.get(field_name)
    )
    return resolver.resolve(subject)


def _resolve_tiers(
    project: Project, env: Environment, resolver: _EnvResolver, agents: Mapping[str, ChainResult]
) -> dict[str, ChainResult]:
    """One chain per tier, for the `/model <tier>` aliases; a tier nobody can use only warns."""
    tiers: dict[str, ChainResult] = {}
    for name, tier in project.tiers.items():
        subject = _tier_subject(
            project, env, TIER_KEY_PREFIX + name, name, f"tier '{name}'", tier.span
        )
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
