"""Stage 2: resolve every agent of one environment to a chain of offers (Project -> Resolution).

Pure; no IO. Offers are indexed once per environment (`offerindex`); each distinct merged
constraint set gets its candidates lazily in exact rank order (`candidates`), and picking a
chain reads them only until the chain is complete: the primary (the locked one while it still
fits, else the best that fits the budget), then the fallbacks (`fallbacks`). Reasons why an
offer fails are built only where a diagnostic or `explain` shows them. `exhaustive=True` ranks
every offer for every constraint set instead (`ranking.rank`): what `explain` reads, and the
reference the fast path is tested against.
"""

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from ..diagnostics import Diagnostic, raise_if_errors
from ..load.catalog import Offer
from ..load.project import Constraints, Environment, Project
from ..load.spec import ConstraintSpec
from . import chaindiagnostics as diagnose
from . import modelage
from .candidates import LazyCandidates
from .chaindiagnostics import (
    MISSES_SHOWN,
    budget_reason,
    constraint_notes,
    pin_suggestions,
)
from .constraints import Merged, merge, monthly_cost, problems
from .fallbacks import needs_second_account, pick_fallbacks, spans_accounts
from .offerindex import OfferIndex
from .ranking import Candidates, RankedCandidates, Ranking, rank
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


@dataclass(frozen=True, slots=True)
class ChainResult:
    subject: Subject
    merged: Merged
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
    """Resolves subjects of one environment, sharing candidates between equal constraint sets."""

    def __init__(
        self,
        project: Project,
        env: Environment,
        locked: Mapping[str, tuple[str, ...]],
        kept: tuple[Collection[str], Mapping[str, Offer]] | None = None,
        exhaustive: bool = False,
    ):
        self.project = project
        self.env = env
        self.locked = locked
        # in a promotion: chains the target keeps as it runs them (not checked), and the
        # offers of models its catalogs no longer have
        self.kept_keys, self.known_offers = kept or ((), {})
        self.offers = env.catalog.for_providers(p.id for p in env.providers)
        self.offer_by_ref = {o.ref: o for o in self.offers}
        self.exhaustive = exhaustive
        self.index: OfferIndex | None = None
        self.rankings: dict[tuple[Any, ...], Ranking] = {}
        self.candidates: dict[tuple[Any, ...], Candidates] = {}
        self.merged: dict[tuple[Any, ...], Merged] = {}
        self.problems: list[Diagnostic] = []

    def ranking_for(self, merged: Merged) -> Ranking:
        key = merged.rank_key()
        found = self.rankings.get(key)
        if found is None:
            found = rank(self.offers, merged, self.env)
            self.rankings[key] = found
        return found

    def candidates_for(self, merged: Merged) -> Candidates:
        """The candidates of `merged`, shared by every subject with the same constraints."""
        key = merged.rank_key()
        found = self.candidates.get(key)
        if found is None:
            if self.exhaustive:
                found = RankedCandidates(self.ranking_for(merged))
            else:
                if self.index is None:
                    self.index = OfferIndex(self.offers, self.env.provider_rank)
                full = partial(rank, self.offers, merged, self.env)  # no cycle through self
                found = LazyCandidates(self.index, merged, full)
            self.candidates[key] = found
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
        candidates = self.candidates_for(merged)
        locked = self.locked.get(subject.key, ())
        if self.env.spec.promote_from is not None:
            return self._from_lock(subject, merged, candidates, locked)
        primary = self._primary(subject, merged, candidates, locked)
        if primary is None:
            return None
        chain = (primary, *self._fallbacks(subject, merged, candidates, primary, locked))
        kept = tuple(o.ref for o in chain if o.ref in locked)
        replaced = self._replaced(subject, merged, locked, kept)
        if replaced:
            self.problems.append(diagnose.replaced(subject, self.env, replaced))
        cost = self._cost(subject, primary)
        return ChainResult(subject, merged, chain, cost, kept, replaced)

    def _fallbacks(
        self,
        subject: Subject,
        merged: Merged,
        candidates: Candidates,
        primary: Offer,
        locked: tuple[str, ...],
    ) -> tuple[Offer, ...]:
        if subject.primary_only:
            return ()
        accounts = len(self.env.providers)
        fallbacks = pick_fallbacks(primary, merged, candidates, locked[1:], accounts)
        if len(fallbacks) < merged.fallbacks:
            count = candidates.count()
            self.problems.append(
                diagnose.shortfall(subject, self.env, merged, len(fallbacks), count)
            )
        if needs_second_account(merged, accounts) and not spans_accounts((primary, *fallbacks)):
            self.problems.append(diagnose.one_account(subject, self.env, primary))
        return fallbacks

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

    def _budget_reason(self, subject: Subject, offer: Offer) -> str:
        return budget_reason(subject.budget, self._cost(subject, offer))

    def _primary(
        self, subject: Subject, merged: Merged, candidates: Candidates, locked: tuple[str, ...]
    ) -> Offer | None:
        if subject.pin is not None:
            return self._pinned(subject, merged)
        seed = candidates.find(locked[0]) if locked else None
        if seed is not None and self._fits_budget(subject, seed):
            return seed
        for offer in candidates:
            if self._fits_budget(subject, offer):
                return offer
        ranking = candidates.ranking()
        over_budget = []
        if ranking.candidates and subject.budget is not None:
            over_budget = [
                (o, self._budget_reason(subject, o)) for o in ranking.candidates[:MISSES_SHOWN]
            ]
        self.problems.append(diagnose.no_candidate(subject, self.env, merged, ranking, over_budget))
        return None

    def _pinned(self, subject: Subject, merged: Merged) -> Offer | None:
        assert subject.pin is not None
        offer = self._find_pin(subject.pin)
        if offer is None:
            self.problems.append(diagnose.pin_not_offered(subject, self.env, self.offers))
            return None
        reasons = list(problems(offer, merged))
        if not self._fits_budget(subject, offer):
            reasons.append(self._budget_reason(subject, offer))
        if reasons:
            self.problems.append(diagnose.pin_misfit(subject, self.env, merged, reasons))
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

    def _from_lock(
        self, subject: Subject, merged: Merged, candidates: Candidates, locked: tuple[str, ...]
    ) -> ChainResult | None:
        if not locked:
            self.problems.append(diagnose.never_promoted(subject, self.env))
            return None
        chain = []
        kept = subject.key in self.kept_keys
        for ref in locked:
            offer = candidates.find(ref)
            if offer is None and kept:  # as the target runs it; the pending report says why
                offer = self.env.catalog.by_ref.get(ref) or self.known_offers.get(ref)
            if offer is None:
                self.problems.append(diagnose.lock_misfit(subject, self.env, merged, ref))
                return None
            chain.append(offer)
        cost = self._cost(subject, chain[0])
        return ChainResult(subject, merged, tuple(chain), cost, tuple(locked))


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
    exhaustive: bool = False,
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
        exhaustive: rank every offer for every constraint set (the reference path; the
            result is the same).

    Raises:
        CompileError: every unsatisfiable agent, pin or budget of the environment.
    """
    resolver = _EnvResolver(project, env, locked or {}, kept, exhaustive)
    agents: dict[str, ChainResult] = {}
    for agent_id in env.agent_ids:
        agent = project.agents[agent_id]
        subject = agent_subject(project, env, agent)
        if subject is None:
            resolver.problems.append(diagnose.no_agent_tier(env, agent))
            continue
        if env.spec.promote_from is not None and agent_id not in resolver.locked:
            resolver.problems.append(diagnose.not_promoted(env, agent))
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
    tiers = _resolve_tiers(project, env, resolver)
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


def _resolve_tiers(
    project: Project, env: Environment, resolver: _EnvResolver
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
        resolver.problems.append(diagnose.tier_without_alias(env, name, tier.span))
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
    top = [(r.subject.key, r.cost or Decimal(0), r.chain[0].ref) for r in spenders[:5]]
    found.append(diagnose.over_environment_budget(env, total, top))


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
    """Resolve one subject without raising (on the exhaustive path: `explain` shows every
    offer); failures come back as diagnostics."""
    resolver = _EnvResolver(project, env, locked or {}, exhaustive=True)
    merged = resolver.merged_for(subject)
    ranking = resolver.ranking_for(merged)
    result = resolver.resolve(subject)
    return SubjectReport(subject, merged, ranking, result, tuple(resolver.problems))
