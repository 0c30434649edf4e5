"""Adoption, stage 2: `AdoptedConfig` -> the policy files of a repository that compiles to the
same chains. Pure; no IO.

How an exact chain [P, F1, F2] is said in policy (fallbacks follow rank order, and `prefer`
globs rank first): `pin: P`, `prefer: [F1, F2]` (full refs, glob characters escaped),
`fallbacks: 2`, `diversity: none`, over a tier without constraints. Each alias of the file
becomes a tier of that name whose chain starts at the aliased model (every tier gets the
`/model <tier>` alias of its primary); the default and image chains become the environments'
`default_tier` and `image_tier` (the tier of their primary's alias when there is one).
"""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from ..diagnostics import CompileError, Diagnostic, Span, error, warning
from ..load.catalog import describe_validation_error, serialize_snapshot
from ..load.spec import CatalogSpec
from ..output.writer import OutputFile
from .configreader import AdoptedConfig

TEAM = "adopted"
ENVIRONMENTS = (("dev", None), ("staging", None), ("prod", "staging"))
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


@dataclass(frozen=True, slots=True)
class TierPlan:
    name: str
    prefer: tuple[str, ...]  # exact refs, in chain order
    description: str
    thinking: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyPlan:
    """What the files say: the tiers and which of them the environments and agents use."""

    tiers: tuple[TierPlan, ...]
    default_tier: str | None
    image_tier: str | None
    agent_tier: str
    warnings: tuple[Diagnostic, ...] = ()


def plan_tiers(config: AdoptedConfig, source: str) -> PolicyPlan:
    """Alias tiers, then the default tier, the image tier and the tier agents stand on."""
    tiers = {
        alias: TierPlan(alias, (ref,), f"Alias /model {alias} (adopted)")
        for ref, alias in config.aliases.items()
    }
    default_tier = None
    if config.default_chain:
        default_tier = config.aliases.get(config.default_chain[0]) or _free("default", tiers)
        tiers[default_tier] = TierPlan(
            default_tier,
            config.default_chain,
            "The default model (agents.defaults.model), adopted",
            config.thinking,
        )
    image_tier, warnings = _image_tier(config, tiers, default_tier, source)
    agent_tier = default_tier
    if agent_tier is None:
        agent_tier = _free("adopted", tiers)
        unaliased = [o for o in _refs(config) if o not in config.aliases]
        tiers[agent_tier] = TierPlan(agent_tier, tuple(unaliased[:1]), "The adopted agents' tier")
    ordered = tuple(tiers[name] for name in sorted(tiers))
    return PolicyPlan(ordered, default_tier, image_tier, agent_tier, warnings)


def _image_tier(
    config: AdoptedConfig, tiers: dict[str, TierPlan], default_tier: str | None, source: str
) -> tuple[str | None, tuple[Diagnostic, ...]]:
    chain = config.image_chain
    if not chain:
        return None, ()
    vision = {
        f"{o['provider']}/{o['id']}" for o in config.offers if o["capabilities"].get("vision")
    }
    blind = [ref for ref in chain if ref not in vision]
    if blind:
        message = (
            f"agents.defaults.imageModel: not adopted: {', '.join(blind)} does not take images "
            "(its input has no 'image')"
        )
        return None, (warning("PC603", message, Span(source)),)
    if chain == config.default_chain:
        return default_tier, ()
    alias = config.aliases.get(chain[0])
    if alias is None:
        name = _free("image", tiers)
    elif alias == default_tier:  # sorts after the alias's tier, which keeps the alias
        name = _free(f"{alias}-image", tiers)
    else:
        name = alias
    tiers[name] = TierPlan(name, chain, "The image model (agents.defaults.imageModel), adopted")
    return name, ()


def _free(name: str, taken: Mapping[str, Any]) -> str:
    candidates = [name, f"{name}-model", *(f"{name}-{n}" for n in range(2, 100))]
    return next(c for c in candidates if c not in taken)


def _refs(config: AdoptedConfig) -> list[str]:
    return [f"{o['provider']}/{o['id']}" for o in config.offers]


# --------------------------------------------------------------------------- files


def policy_files(
    config: AdoptedConfig, day: date, source: str
) -> tuple[tuple[OutputFile, ...], tuple[Diagnostic, ...]]:
    """Every file under policies/ of the adopted repository (tiers, team, environments,
    catalog), and warnings about what they cannot say.

    Raises:
        CompileError: PC602 when the models do not make a valid catalog snapshot.
    """
    plan = plan_tiers(config, source)
    catalog = f"catalogs/adopted-{day.isoformat()}.json"
    files = [
        OutputFile(f"policies/{catalog}", _snapshot(config, day, source)),
        OutputFile("policies/tiers.yaml", _tiers_yaml(plan.tiers)),
        OutputFile(f"policies/teams/{TEAM}.yaml", _team_yaml(config, plan.agent_tier)),
    ]
    files += [
        OutputFile(f"policies/environments/{env}.yaml", _env_yaml(config, plan, env, source_env))
        for env, source_env in ENVIRONMENTS
    ]
    files = [OutputFile(f.relpath, f.text.replace("@CATALOG@", catalog)) for f in files]
    found = list(plan.warnings)
    if config.system_agent is not None and _system_agent(config) is None:
        message = f"agents.defaults.systemAgent: '{config.system_agent}' is no agent; not adopted"
        found.append(warning("PC603", message, Span(source)))
    return tuple(files), tuple(found)


def _snapshot(config: AdoptedConfig, day: date, source: str) -> str:
    document = {
        "format": "clawpolicy-catalog",
        "version": 1,
        "date": day,
        "source": f"adopted from {source}",
        "offers": list(config.offers),
    }
    try:
        return serialize_snapshot(CatalogSpec.model_validate(document))
    except ValidationError as exc:
        notes = [f"note: {line}" for line in describe_validation_error(exc, document)]
        raise CompileError(
            (error("PC602", "the declared models do not make a catalog", Span(source), *notes),)
        ) from None


def scalar(text: str) -> str:
    """A YAML scalar that reads back as the same string (YAML 1.1 and 1.2 alike).

    Example:
        >>> scalar("infron/openai/gpt-5.2"), scalar("off"), scalar("a: b")
        ('infron/openai/gpt-5.2', '"off"', '"a: b"')
    """
    if _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def glob_literal(ref: str) -> str:
    """A glob that matches exactly `ref` (`*`, `?` and `[` escaped).

    Example:
        >>> glob_literal("p/model[1]*")
        'p/model[[]1][*]'
    """
    return re.sub(r"([*?[])", r"[\1]", ref)


def _flow(items: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(glob_literal(i), ensure_ascii=False) for i in items) + "]"


def _header(schema: str, what: str) -> list[str]:
    return [
        f"# yaml-language-server: $schema={schema}clawpolicy.schema.json",
        f"# {what}, adopted from openclaw.json by `clawpolicy init --from`.",
        "version: 1",
    ]


def _tiers_yaml(tiers: Iterable[TierPlan]) -> str:
    lines = [*_header("../", "Tiers"), "tiers:"]
    for tier in tiers:
        lines += [f"  {scalar(tier.name)}:", f"    description: {scalar(tier.description)}"]
        if tier.prefer:
            lines.append(f"    prefer: {_flow(tier.prefer)}")
        lines += [f"    fallbacks: {max(len(tier.prefer) - 1, 0)}", "    diversity: none"]
        if tier.thinking is not None:
            lines.append(f"    thinking: {scalar(tier.thinking)}")
    return "\n".join(lines) + "\n"


def _team_yaml(config: AdoptedConfig, tier: str) -> str:
    lines = [*_header("../../", "The agents"), f"team: {TEAM}"]
    about = "Each agent keeps its chain: pin (primary), prefer (fallbacks in order), diversity none"
    lines += [f"description: {scalar(about)}", "agents:"]
    for agent in config.agents:
        lines += [f"  {scalar(agent.id)}:", f"    tier: {scalar(tier)}"]
        lines += [
            f"    {key}: {scalar(value)}"
            for key, value in (("name", agent.name), ("description", agent.description))
            if value is not None
        ]
        lines.append(f"    pin: {scalar(agent.chain[0])}")
        if len(agent.chain) > 1:
            lines.append(f"    prefer: {_flow(agent.chain[1:])}")
        lines += [f"    fallbacks: {len(agent.chain) - 1}", "    diversity: none"]
        if agent.thinking is not None:
            lines.append(f"    thinking: {scalar(agent.thinking)}")
    return "\n".join(lines) + "\n"


def _env_yaml(config: AdoptedConfig, plan: PolicyPlan, env: str, source_env: str | None) -> str:
    lines = [*_header("../../", f"Environment {env}"), f"environment: {env}"]
    if source_env is None:
        lines.append("catalogs: [@CATALOG@]")
    else:  # without catalogs of its own, a promoted environment uses its source's
        lines.append(f"promote_from: {source_env}  # changed only by clawpolicy promote")
    lines += ["template: openclaw.json.j2", "providers:"]
    for provider in config.providers:
        lines += [
            f"  {scalar(provider.id)}:",
            f"    base_url: {scalar(provider.base_url)}",
            f"    api: {provider.api}",
        ]
        if provider.api_key_env is not None:
            lines.append(f"    api_key: {{env: {provider.api_key_env}}}")
    lines.append('teams: ["*"]')
    for key, value in (
        ("default_tier", plan.default_tier),
        ("image_tier", plan.image_tier),
        ("system_agent", _system_agent(config)),
    ):
        if value is not None:
            lines.append(f"{key}: {scalar(value)}")
    return "\n".join(lines) + "\n"


def _system_agent(config: AdoptedConfig) -> str | None:
    ids = {agent.id for agent in config.agents}
    return config.system_agent if config.system_agent in ids else None
