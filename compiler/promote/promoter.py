"""Promotion: copy one environment's resolved chains into another's lock (Lock x Environment ->
Promotion). Pure; no IO. Also checks the chains an environment runs against its policy as it
stands now (what no longer fits is news for the next promotion).

The source is FROM's lock as committed in `rendered/FROM/` (what FROM runs and what was
reviewed), not a fresh resolution. Each ref moves to TO's provider accounts: the same provider
when TO has it and its catalog offers the model, else the same model id on TO's providers in
TO's order. Every promoted chain must then satisfy TO's merged constraints (as of TO's own
catalog, TO's overrides of the agent included), its pin and its budget, and TO's agents together
its environment budget (checked when TO is rendered); any that does not is an error and nothing
is promoted.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ..diagnostics import Diagnostic, Span, error, raise_if_errors, warning
from ..load.catalog import Offer
from ..load.project import Environment, Project
from ..output.lockfile import Lock
from ..resolve.constraints import Merged, diversity_key, merge, monthly_cost, problems
from ..resolve.resolver import (
    DEFAULT_SLOTS,
    SLOTS,
    TIER_KEY_PREFIX,
    Resolution,
    Subject,
    agent_subject,
    default_subject,
)
from ..resolve.subjects import tier_layers


@dataclass(frozen=True, slots=True)
class PromotedChain:
    key: str  # agent id, "@default", "@image" or "@tier:<name>"
    source_key: str  # the key read from FROM's lock (a tier chain when default tiers differ)
    source_refs: tuple[str, ...]
    refs: tuple[str, ...]  # mapped to TO's provider accounts

    @property
    def remapped(self) -> bool:
        return self.source_refs != self.refs


@dataclass(frozen=True, slots=True)
class Promotion:
    source: str
    target: str
    chains: Mapping[str, tuple[str, ...]]  # TO's whole new lock: promoted chains over its own
    promoted: tuple[PromotedChain, ...]
    not_in_source: tuple[str, ...]  # agents TO deploys that FROM's lock lacks (TO's chain kept)
    warnings: tuple[Diagnostic, ...] = ()
    problems: tuple[Diagnostic, ...] = ()  # why the promotion cannot be done (PC208 errors)


def map_ref(ref: str, target: Environment) -> str | None:
    """`ref` on `target`'s provider accounts, or None when none of them offers its model."""
    provider, _, model_id = ref.partition("/")
    providers = [p.id for p in target.providers]
    if provider in providers and ref in target.catalog.by_ref:
        return ref
    for candidate in (f"{p}/{model_id}" for p in providers):
        if candidate in target.catalog.by_ref:
            return candidate
    return ref if provider in providers else None


def _check_environments(source: Environment, target: Environment, lock: Lock) -> None:
    found = []
    if source.name == target.name:
        found.append(error("PC103", "promote needs two different environments"))
    wanted = target.spec.promote_from
    if wanted is not None and wanted != source.name:
        found.append(
            error(
                "PC103",
                f"environment '{target.name}' promotes from '{wanted}', not '{source.name}'",
                target.spans.get("promote_from", target.span),
                f"hint: clawpolicy promote {wanted} {target.name}",
            )
        )
    if not lock.chains:
        found.append(
            error(
                "PC205",
                f"environment '{source.name}' has no lock to promote",
                Span(f"rendered/{source.name}"),
                f"hint: run clawpolicy compile --env {source.name} and commit rendered/ first",
            )
        )
    raise_if_errors(found)


def _keys(project: Project, target: Environment, agents: tuple[str, ...]) -> list[str]:
    if agents:
        return list(dict.fromkeys(agents))
    keys = list(target.agent_ids)
    keys += [slot.key for slot in DEFAULT_SLOTS if getattr(target.spec, slot.tier_field)]
    return keys + [TIER_KEY_PREFIX + name for name in project.tiers]


def _source_key(key: str, source: Environment, target: Environment) -> str:
    """FROM's key for TO's chain: when the default (image, utility, PDF) tiers differ, FROM's
    chain of TO's tier."""
    slot = SLOTS.get(key)
    if slot is not None:
        wanted = getattr(target.spec, slot.tier_field)
        if getattr(source.spec, slot.tier_field) != wanted:
            return TIER_KEY_PREFIX + str(wanted)
    return key


class _Checker:
    """Maps promoted chains to TO and checks them: catalog, constraints, pin and budget."""

    def __init__(self, project: Project, target: Environment) -> None:
        self.project = project
        self.target = target
        self.providers = {p.id for p in target.providers}
        self.problems: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.reasons: dict[str, list[str]] = {}  # key -> "ref: why" for each misfit

    def check(self, key: str, source_refs: tuple[str, ...], remap: bool = True) -> tuple[str, ...]:
        """TO's refs for a chain of FROM (as they are when not `remap`: a chain TO runs);
        every misfit is recorded in `problems`."""
        span, merged, subject = self._constraints(key)
        refs = []
        for ref in source_refs:
            mapped = map_ref(ref, self.target) if remap else ref
            if mapped is None:
                self.misfit(key, ref, "no provider of the environment offers its model", span)
            else:
                refs.append(mapped)
        offers = self._offers(key, tuple(refs), merged, span) if merged else []
        if merged is not None and len(offers) == len(source_refs):
            self._diversity(key, offers, merged, span)
        if subject is not None and offers and len(offers) == len(source_refs):
            self._pin_and_budget(subject, refs[0], offers[0])
        return tuple(refs)

    def _diversity(self, key: str, offers: list[Offer], merged: Merged, span: Span | None) -> None:
        """Mapping onto fewer provider accounts can make two members one offer, or break the
        chain's diversity: the chain would not be what the policy asks for."""
        seen: dict[str, str] = {}
        for offer in offers:
            group = diversity_key(offer, merged.diversity)
            if offer.ref in seen.values() or group in seen:
                other = seen.get(group, offer.ref)
                why = (
                    f"it would be in the chain twice (as {other})"
                    if offer.ref == other
                    else f"diversity '{merged.diversity}': same "
                    f"{merged.diversity.partition('+')[0]} as {other}"
                )
                self.misfit(key, offer.ref, why, span)
            seen.setdefault(group, offer.ref)

    def _constraints(self, key: str) -> tuple[Span | None, Merged | None, Subject | None]:
        """Where the chain's policy is written, its merged constraints, and the agent's
        subject (with TO's override of the agent) for its pin and budget."""
        if not key.startswith("@"):
            agent = self.project.agents[key]
            subject = agent_subject(self.project, self.target, agent)
            if subject is None:
                return agent.span, None, None  # no tier here: compiling TO reports PC102
            weights = subject.workload if subject.workload and any(subject.workload) else None
            return agent.span, merge(subject.layers, subject.extra_requires, weights), subject
        slot = SLOTS.get(key)
        if slot is not None:
            found = default_subject(self.project, self.target, slot)
            assert found is not None  # _keys only lists the slots TO sets
            tier = str(getattr(self.target.spec, slot.tier_field))
            return self.project.tiers[tier].span, merge(found.layers, found.extra_requires), None
        tier = key.removeprefix(TIER_KEY_PREFIX)
        layers = tier_layers(self.project, self.target, tier)
        return self.project.tiers[tier].span, merge(layers), None

    def _offers(
        self, key: str, refs: tuple[str, ...], merged: Merged, span: Span | None
    ) -> list[Offer]:
        offers = []
        for ref in refs:
            offer = self.target.catalog.by_ref.get(ref)
            if offer is None or offer.provider not in self.providers:
                self.misfit(key, ref, "not offered by the environment's catalogs", span)
                continue
            reasons = problems(offer, merged)
            if reasons:
                self.misfit(key, ref, "; ".join(reasons), span, merged)
            offers.append(offer)
        return offers

    def _pin_and_budget(self, subject: Subject, primary: str, offer: Offer) -> None:
        """The agent's pin and budget as TO sets them (its override of the agent wins)."""
        pin, budget, workload = subject.pin, subject.budget, subject.workload
        if pin is not None and map_ref(pin, self.target) != primary:
            self.misfit(subject.key, primary, f"the agent pins {pin}", subject.pin_span)
        if budget is None:
            return
        cost = monthly_cost(offer, *workload) if workload else None
        if cost is None or cost > budget:
            shown = "unknown" if cost is None else f"{cost:.2f}"
            reason = f"estimated {shown} USD/month > budget {budget}"
            self.misfit(subject.key, primary, reason, subject.key_spans.get("budget"))

    def misfit(
        self, key: str, ref: str, reason: str, span: Span | None, merged: Merged | None = None
    ) -> None:
        notes = [f"note: {text}" for _, text in merged.describe()] if merged else []
        self.reasons.setdefault(key, []).append(f"{ref}: {reason}")
        message = (
            f"promoted {ref} for {_label(key)} does not fit environment "
            f"'{self.target.name}': {reason}"
        )
        if key.startswith(TIER_KEY_PREFIX):  # as in compile: a tier without an alias only warns
            notes.append("note: the tier gets no alias in this environment (PC206)")
            self.warnings.append(warning("PC208", message, span, *notes))
        else:
            self.problems.append(error("PC208", message, span, *notes))


def _label(key: str) -> str:
    if key in SLOTS:
        return f"the {SLOTS[key].label}"
    if key.startswith(TIER_KEY_PREFIX):
        return f"tier '{key.removeprefix(TIER_KEY_PREFIX)}'"
    return f"agent '{key}'"


def _check_agents(
    project: Project, target: Environment, source_lock: Lock, agents: Iterable[str]
) -> None:
    found = []
    for agent_id in agents:
        if agent_id not in target.agent_ids:
            found.append(error("PC103", f"agent '{agent_id}' is not deployed in '{target.name}'"))
        elif agent_id not in source_lock.chains:
            found.append(error("PC205", f"agent '{agent_id}' has no chain in the source lock"))
    raise_if_errors(found)


def plan(
    project: Project,
    source: tuple[Environment, Lock],
    target: tuple[Environment, Lock],
    agents: tuple[str, ...] = (),
) -> Promotion:
    """What `promote` would write: FROM's locked chains mapped onto TO, for every agent TO
    deploys (or only `agents`), plus the default, image and tier alias chains when no agent is
    named; chains that do not fit TO are listed in `problems` instead of raised.

    Args:
        project: the loaded policy repo.
        source: FROM and its lock.
        target: TO and its current lock (chains not promoted are kept).
        agents: promote only these agents.

    Raises:
        CompileError: PC205 (FROM has no lock, an agent without a chain there), PC103 for bad
            environments or agents.
    """
    (from_env, from_lock), (to_env, to_lock) = source, target
    _check_environments(from_env, to_env, from_lock)
    _check_agents(project, to_env, from_lock, agents)
    checker = _Checker(project, to_env)
    promoted: list[PromotedChain] = []
    missing: list[str] = []
    for key in _keys(project, to_env, agents):
        source_key = _source_key(key, from_env, to_env)
        source_refs = from_lock.chains.get(source_key)
        if source_refs is None:
            missing += [] if key.startswith("@") else [key]
            continue
        refs = checker.check(key, source_refs)
        promoted.append(PromotedChain(key, source_key, source_refs, refs))
    chains = {**to_lock.chains, **{p.key: p.refs for p in promoted}}
    return Promotion(
        from_env.name,
        to_env.name,
        chains,
        tuple(promoted),
        tuple(missing),
        tuple(checker.warnings),
        tuple(checker.problems),
    )


def promote(
    project: Project,
    source: tuple[Environment, Lock],
    target: tuple[Environment, Lock],
    agents: tuple[str, ...] = (),
) -> Promotion:
    """`plan`, refusing a promotion with any chain that does not fit TO.

    Raises:
        CompileError: as `plan`, and PC208 for every chain that does not fit TO.
    """
    promotion = plan(project, source, target, agents)
    raise_if_errors(promotion.problems)
    return promotion


def misfits(project: Project, target: Environment, lock: Lock) -> dict[str, str]:
    """Agent id -> why the chain it runs no longer fits its policy as it stands now (catalog,
    constraints, pin, budget), for every agent of `lock` that `target` still deploys."""
    checker = _Checker(project, target)
    deployed = frozenset(target.agent_ids)
    for key, refs in lock.agent_chains().items():
        if key in deployed:
            checker.check(key, refs, remap=False)
    return {key: "; ".join(reasons) for key, reasons in sorted(checker.reasons.items())}


def over_budget(project: Project, running: Resolution) -> list[Diagnostic]:
    """What a promoted environment runs, against its budgets as they stand now: each agent's
    (the environment's override of it included) and the environment's. Warnings that, unlike
    pending ones, `--strict` turns into errors: the overrun is live, not waiting."""
    env = running.environment
    found, total = [], Decimal(0)
    deployed = frozenset(env.agent_ids)
    for key, result in running.agents.items():
        agent = project.agents.get(key)
        subject = agent_subject(project, env, agent) if agent and key in deployed else None
        if subject is None or not subject.workload:
            continue
        cost = monthly_cost(result.chain[0], *subject.workload)
        total += cost or Decimal(0)
        if subject.budget is not None and (cost is None or cost > subject.budget):
            shown = "unknown" if cost is None else f"{cost:.2f}"
            found.append(
                warning(
                    "PC208",
                    f"agent '{key}' runs {result.refs[0]} in environment '{env.name}' at an "
                    f"estimated {shown} USD/month, over its budget of {subject.budget}",
                    subject.key_spans.get("budget", subject.span),
                    f"note: it changes only by clawpolicy promote {env.spec.promote_from} "
                    f"{env.name}",
                )
            )
    if env.spec.budget is not None and total > env.spec.budget:
        found.append(
            warning(
                "PC204",
                f"environment '{env.name}' runs an estimated {total:.2f} USD/month, over its "
                f"budget of {env.spec.budget}",
                env.spans.get("budget", env.span),
                "hint: raise budget, or promote cheaper chains",
            )
        )
    return found


def format_summary(promotion: Promotion) -> str:
    """What was promoted: a count, each chain moved to another provider account, and the agents
    FROM's lock lacks."""
    source, target = promotion.source, promotion.target
    lines = [f"promoted {len(promotion.promoted)} chain(s) from {source} to {target}"]
    lines += [
        f"  {p.key}: {', '.join(p.source_refs)} -> {', '.join(p.refs)}"
        for p in promotion.promoted
        if p.remapped
    ]
    lines += [
        f"  {key}: not in {source}'s lock; {target} keeps its own chain"
        for key in promotion.not_in_source
    ]
    return "\n".join(lines)
