"""The loaded policy repository (the product of stage 1), as immutable values.

Every user-written piece keeps the Span it came from, so later stages can point errors and
provenance back at the YAML without importing the YAML layer.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, Span
from .catalog import Catalog
from .spec import (
    AgentSpec,
    ConstraintSpec,
    EnvAgentSpec,
    EnvironmentFileSpec,
    ProviderSpec,
    TierSpec,
)


@dataclass(frozen=True, slots=True)
class Constraints:
    """One layer of constraints (tier, environment override or agent) with its key spans."""

    origin: str  # "tier fast", "environment prod tier override", "agent support-triage"
    spec: ConstraintSpec
    spans: Mapping[str, Span]  # constraint key -> where its value was written


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    spec: TierSpec
    span: Span
    layer: Constraints


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    team: str
    spec: AgentSpec
    span: Span
    layer: Constraints
    spans: Mapping[str, Span]  # every key of the agent (tier, pin, budget, ...) -> span


@dataclass(frozen=True, slots=True)
class AgentOverride:
    """An environment's `agents.<id>` entry: merged over the agent, in that environment only."""

    agent: str
    spec: EnvAgentSpec
    span: Span
    layer: Constraints
    spans: Mapping[str, Span]  # every key of the entry (pin, budget, enabled, ...) -> span


@dataclass(frozen=True, slots=True)
class Provider:
    id: str
    spec: ProviderSpec
    span: Span


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    path: str
    spec: EnvironmentFileSpec
    span: Span
    spans: Mapping[str, Span]
    providers: tuple[Provider, ...]  # in the file's order: earlier wins ties
    tier_overrides: Mapping[str, Constraints]
    catalog: Catalog
    catalog_paths: tuple[str, ...]
    agent_ids: tuple[str, ...]  # agents this environment deploys, sorted
    agent_overrides: Mapping[str, AgentOverride] = field(default_factory=dict)

    def provider_rank(self, provider: str) -> int:
        for index, item in enumerate(self.providers):
            if item.id == provider:
                return index
        return len(self.providers)


@dataclass(frozen=True, slots=True)
class Project:
    root: str
    tiers: Mapping[str, Tier]
    agents: Mapping[str, Agent]  # sorted by id
    environments: Mapping[str, Environment]  # sorted by name
    input_digests: Mapping[str, str]  # repo-relative path -> sha256 of every input file
    templates: Mapping[str, str] = field(default_factory=dict)  # path under templates/ -> text
    warnings: tuple[Diagnostic, ...] = field(default=())
