"""Stage 2 (part): what a chain is resolved for (Subject), from the Project: an agent as one
environment deploys it (its tier, the environment's override of that tier, the agent, and the
environment's override of the agent), the `agents.defaults` models an environment's tier keys
choose (`DEFAULT_SLOTS`: model, imageModel, utilityModel, pdfModel), and a tier's alias chain.
Pure; no IO. The resolver, promotion and `explain` build subjects the same way through here.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ..diagnostics import Span
from ..load.project import Agent, Constraints, Environment, Project

DEFAULT_KEY = "@default"
IMAGE_KEY = "@image"
UTILITY_KEY = "@utility"
PDF_KEY = "@pdf"
TIER_KEY_PREFIX = "@tier:"


@dataclass(frozen=True, slots=True)
class DefaultSlot:
    """One `agents.defaults` model an environment's tier field chooses."""

    key: str  # "@default", ...: the subject and lock key
    tier_field: str  # the environment key naming the tier
    config_key: str  # under agents.defaults in openclaw.json (and `defaults` in the lock)
    label: str
    requires: tuple[str, ...] = ()  # capabilities added to the tier's
    primary_only: bool = False  # OpenClaw takes a single ref (no fallbacks)


DEFAULT_SLOTS = (
    DefaultSlot(DEFAULT_KEY, "default_tier", "model", "default model"),
    DefaultSlot(IMAGE_KEY, "image_tier", "imageModel", "image model", ("vision",)),
    DefaultSlot(UTILITY_KEY, "utility_tier", "utilityModel", "utility model", (), True),
    DefaultSlot(PDF_KEY, "pdf_tier", "pdfModel", "PDF model", ("pdf",)),
)
SLOTS = {slot.key: slot for slot in DEFAULT_SLOTS}


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
    primary_only: bool = False  # a single ref (agents.defaults.utilityModel): no fallbacks


def tier_layers(project: Project, env: Environment, tier_name: str) -> tuple[Constraints, ...]:
    tier = project.tiers[tier_name]
    override = env.tier_overrides.get(tier_name)
    return (tier.layer,) if override is None else (tier.layer, override)


def agent_subject(project: Project, env: Environment, agent: Agent) -> Subject | None:
    """The agent as `env` deploys it: its tier (with the environment's override of it), the
    agent, and the environment's override of the agent, whose pin and budget win."""
    tier_name = agent.spec.tier or env.spec.default_tier
    if tier_name is None:
        return None
    workload = agent.spec.workload
    override = env.agent_overrides.get(agent.id)
    spans = dict(agent.spans)
    pin, budget = agent.spec.pin, agent.spec.budget
    if override is not None:
        spans |= override.spans
        pin = override.spec.pin if override.spec.pin is not None else pin
        budget = override.spec.budget if override.spec.budget is not None else budget
    return Subject(
        key=agent.id,
        label=f"agent '{agent.id}'",
        span=agent.span,
        layers=(
            *tier_layers(project, env, tier_name),
            agent.layer,
            *((override.layer,) if override is not None else ()),
        ),
        pin=pin,
        pin_span=spans.get("pin"),
        workload=(workload.input_mtok, workload.output_mtok) if workload else None,
        budget=budget,
        key_spans=spans,
    )


def default_subject(project: Project, env: Environment, slot: DefaultSlot) -> Subject | None:
    """The subject of one `agents.defaults` model (None when the environment sets no tier)."""
    tier_name = getattr(env.spec, slot.tier_field)
    if tier_name is None:
        return None
    return Subject(
        slot.key,
        f"{slot.label} (tier '{tier_name}')",
        env.spans.get(slot.tier_field),
        tier_layers(project, env, tier_name),
        slot.requires,
        primary_only=slot.primary_only,
    )


def tier_subject(project: Project, env: Environment, tier_name: str, span: Span) -> Subject:
    return Subject(
        TIER_KEY_PREFIX + tier_name,
        f"tier '{tier_name}'",
        span,
        tier_layers(project, env, tier_name),
    )
