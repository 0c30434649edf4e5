"""JSON Schema of the policy files and catalog snapshots, from the pydantic specs. Pure.

`clawpolicy schema` prints it for editors (yaml-language-server). The combined schema picks the
file kind by its distinguishing key (`tiers`, `team` or `environment`). Beyond what pydantic
derives, it gives every property a description (`DESCRIPTIONS`), agent ids their pattern
(`propertyNames`), provider ids theirs, and `api_key` only its `{env: NAME}` form: a literal
key, which the loader rejects as PC107, is already an error in the editor.
"""

from typing import Any

from pydantic import BaseModel

from .spec import (
    AGENT_ID_RE,
    ENV_VAR_RE,
    PROVIDER_ID_RE,
    CatalogSpec,
    EnvironmentFileSpec,
    Spec,
    TeamFileSpec,
    TiersFileSpec,
)

KINDS: dict[str, Any] = {
    "tiers": TiersFileSpec,
    "team": TeamFileSpec,
    "environment": EnvironmentFileSpec,
    "catalog": CatalogSpec,
}
SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"

# Every property's description (editors show it on hover), keyed `<Spec class>.<field>` by the
# class that declares the field; a test checks that every property of every kind has one.
DESCRIPTIONS: dict[str, str] = {
    # ----------------------------------------------------------------- shared constraint keys
    "ConstraintSpec.requires": "Capabilities every model of the chain must have (tools, vision, "
    "reasoning, json, audio, video, pdf); layers add up. Unknown never satisfies.",
    "ConstraintSpec.min_context": "Smallest context window, in tokens: an integer or 128k / 1m; "
    "the largest of the layers wins.",
    "ConstraintSpec.max_price": "Price ceilings in USD per 1M tokens for every model of the "
    "chain; per field, the smallest of the layers wins.",
    "ConstraintSpec.prefer": "Ordered globs over model ids or full refs (provider/model id); "
    "the first matching glob ranks an offer first. Lists concatenate, most specific first.",
    "ConstraintSpec.avoid": "Globs over model ids or full refs that are never chosen; "
    "every layer's globs apply.",
    "ConstraintSpec.sort": "Tie-break after prefer: price (cheapest, or cheapest for the "
    "workload), context (largest) or newest (latest release).",
    "ConstraintSpec.fallbacks": "How many fallback models follow the primary (0-16).",
    "ConstraintSpec.diversity": "What fallbacks must differ in from the primary and each "
    "other: vendor, provider (account) or none.",
    "ConstraintSpec.thinking": "OpenClaw thinkingDefault for the agents (off, minimal, low, "
    "medium, high, xhigh, adaptive, max, ultra).",
    "PriceCeilingSpec.input": "Most an input token may cost, USD per 1M tokens.",
    "PriceCeilingSpec.output": "Most an output token may cost, USD per 1M tokens.",
    # ----------------------------------------------------------------- tiers.yaml
    "TiersFileSpec.version": "Always 1: the version of the policy-file format.",
    "TiersFileSpec.tiers": "The org-wide capability tiers by name; each is also a /model "
    "alias in OpenClaw.",
    "TierSpec.description": "What the tier is for, for people.",
    # ----------------------------------------------------------------- teams/<team>.yaml
    "TeamFileSpec.version": "Always 1: the version of the policy-file format.",
    "TeamFileSpec.team": "The team's name; the file should be policies/teams/<team>.yaml.",
    "TeamFileSpec.description": "What the team does, for people.",
    "TeamFileSpec.owners": "Who owns these agents (e.g. GitHub teams such as @org/team).",
    "TeamFileSpec.agents": "The team's agents by OpenClaw agent id (lowercase letters, digits, "
    "_ and -; unique across teams).",
    "AgentSpec.tier": "The tier the agent starts from (default: the environment's "
    "default_tier); the agent's own keys tighten it.",
    "AgentSpec.name": "Display name (OpenClaw agents.entries.<id>.name).",
    "AgentSpec.description": "What the agent does (OpenClaw agents.entries.<id>.description).",
    "AgentSpec.pin": "Exact primary model, <provider>/<model id>; it must satisfy the constraints.",
    "AgentSpec.workload": "Expected millions of tokens per month, for cost estimates and budgets.",
    "AgentSpec.budget": "Most the primary may cost per month for the workload, in USD.",
    "WorkloadSpec.input_mtok": "Input tokens per month, in millions.",
    "WorkloadSpec.output_mtok": "Output tokens per month, in millions.",
    # ----------------------------------------------------------------- environments/<env>.yaml
    "EnvironmentFileSpec.version": "Always 1: the version of the policy-file format.",
    "EnvironmentFileSpec.environment": "The environment's name: rendered/<environment>/ holds "
    "its output.",
    "EnvironmentFileSpec.description": "What the environment is, for people.",
    "EnvironmentFileSpec.catalogs": "Catalog snapshots, relative to policies/ (e.g. "
    "catalogs/openrouter-2026-06-16.json).",
    "EnvironmentFileSpec.template": "The template under templates/ around the model layer.",
    "EnvironmentFileSpec.providers": "Provider accounts by id, as in model refs; the first "
    "wins ties.",
    "EnvironmentFileSpec.teams": "Globs over team names whose agents deploy here.",
    "EnvironmentFileSpec.default_tier": "Tier of agents.defaults.model, and of agents "
    "without a tier.",
    "EnvironmentFileSpec.image_tier": "Tier of agents.defaults.imageModel (vision is required).",
    "EnvironmentFileSpec.system_agent": "The agent OpenClaw runs ambient work on "
    "(agents.defaults.systemAgent; default: the first agent).",
    "EnvironmentFileSpec.tiers": "Per-environment overrides of tiers.yaml, merged over it.",
    "EnvironmentFileSpec.budget": "Most all agents' estimated costs may add up to per month, "
    "in USD.",
    "EnvironmentFileSpec.openclaw_version": "The OpenClaw release this environment runs: "
    "2026.9.6 (default) or 2026.8.1. Every output is checked against that release's own JSON "
    "Schema at compile time.",
    "EnvironmentFileSpec.promote_from": "The environment whose chains this one receives, only "
    "through clawpolicy promote; it never resolves on its own.",
    "ProviderSpec.base_url": "The provider's API base URL (OpenClaw baseUrl).",
    "ProviderSpec.api": "The API OpenClaw speaks to the provider.",
    "ProviderSpec.api_key": "The key as an environment variable of the OpenClaw host: "
    "{env: NAME}. A literal key is an error.",
    "EnvRefSpec.env": "Name of the environment variable holding the secret (A-Z, 0-9, _).",
    # ----------------------------------------------------------------- catalog snapshots
    "CatalogSpec.format": "Always clawpolicy-catalog.",
    "CatalogSpec.version": "Always 1: the version of the snapshot format.",
    "CatalogSpec.date": "The snapshot's date; retirements are judged against it, never the clock.",
    "CatalogSpec.source": "Where the snapshot came from.",
    "CatalogSpec.offers": "One entry per (provider, model id).",
    "OfferSpec.provider": "The provider account id of this offer.",
    "OfferSpec.id": "The model id at the provider (the part after the first / of a ref).",
    "OfferSpec.name": "Display name.",
    "OfferSpec.vendor": "Who makes the model (diversity: vendor compares this).",
    "OfferSpec.context_window": "Context window in tokens; absent: unknown.",
    "OfferSpec.max_output": "Most output tokens per request; absent: unknown.",
    "OfferSpec.input": "Input modalities OpenClaw may send (text, image, video, audio).",
    "OfferSpec.capabilities": "true, false or absent (unknown) per capability.",
    "OfferSpec.price": "USD per 1M tokens; absent: unknown; variable: router pricing.",
    "OfferSpec.release_date": "YYYY-MM or YYYY-MM-DD (sort: newest).",
    "OfferSpec.deprecation_date": "Not chosen on or after this date (as of the catalog's).",
    "OfferSpec.expiry_date": "Not chosen on or after this date (as of the catalog's).",
    "OfferSpec.deprecated": "Retired without a date: never chosen.",
    "OfferSpec.moving_alias": "An id whose model changes over time: listed, never chosen.",
    "OfferPriceSpec.input": "Input tokens, USD per 1M.",
    "OfferPriceSpec.output": "Output tokens, USD per 1M.",
    "OfferPriceSpec.cache_read": "Cached input tokens read, USD per 1M.",
    "OfferPriceSpec.cache_write": "Input tokens written to the cache, USD per 1M.",
    **{
        f"CapabilitiesSpec.{name}": f"Whether the model supports {what}; absent: unknown."
        for name, what in (
            ("tools", "tool calls"),
            ("vision", "image input"),
            ("reasoning", "reasoning (thinking)"),
            ("json_", "JSON-schema structured output"),
            ("audio", "audio input"),
            ("video", "video input"),
            ("pdf", "PDF input"),
        )
    },
}

# Which file a document is: environments may carry `tiers:` overrides, so a tiers file is one
# with `tiers` and without `environment`.
_KIND_TEST: dict[str, Any] = {
    "environment": {"required": ["environment"]},
    "team": {"required": ["team"]},
    "tiers": {"required": ["tiers"], "not": {"required": ["environment"]}},
}


def policy_schema(kind: str = "all") -> dict[str, Any]:
    """The schema of one kind of file, or of any policy file (`all`).

    Example:
        >>> policy_schema("team")["title"]
        'clawpolicy team file'
        >>> sorted(policy_schema()["$defs"])[:2]
        ['AgentSpec', 'ConstraintSpec']
    """
    if kind != "all":
        schema = KINDS[kind].model_json_schema(by_alias=True)
        _refine(schema, KINDS[kind])
        for name, definition in schema.get("$defs", {}).items():
            _refine(definition, _spec_classes()[name])
        return {"$schema": SCHEMA_URI, **schema, "title": f"clawpolicy {kind} file"}
    defs: dict[str, Any] = {}
    branches = []
    for name in ("tiers", "team", "environment"):
        schema = KINDS[name].model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[KINDS[name].__name__] = schema
        branches.append(
            {
                "if": _KIND_TEST[name],
                "then": {"$ref": f"#/$defs/{KINDS[name].__name__}"},
            }
        )
    for name, definition in defs.items():
        _refine(definition, _spec_classes()[name])
    return {
        "$schema": SCHEMA_URI,
        "title": "clawpolicy policy file",
        "type": "object",
        "required": ["version"],
        "allOf": branches,
        "$defs": dict(sorted(defs.items())),
    }


def _spec_classes() -> dict[str, type[BaseModel]]:
    """Every spec class by name (the names pydantic gives their `$defs`)."""
    found: dict[str, type[BaseModel]] = {}
    stack: list[type[BaseModel]] = [Spec]
    while stack:
        for sub in stack.pop().__subclasses__():
            found[sub.__name__] = sub
            stack.append(sub)
    return found


def _declared_by(cls: type[BaseModel], field: str) -> str:
    owner = next(k for k in cls.__mro__ if field in getattr(k, "__annotations__", {}))
    return f"{owner.__name__}.{field}"


def _refine(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """Descriptions, id patterns and the env-only api_key, in place, for one object schema."""
    properties = schema.get("properties", {})
    for field, info in cls.model_fields.items():
        prop = properties.get(info.alias or field)
        if prop is None:
            continue
        prop.pop("title", None)
        description = DESCRIPTIONS.get(_declared_by(cls, field))
        if description is not None:
            prop["description"] = description
    if "agents" in properties:
        properties["agents"]["propertyNames"] = {"pattern": AGENT_ID_RE.pattern}
    if cls is EnvironmentFileSpec:
        properties["providers"]["propertyNames"] = {"pattern": PROVIDER_ID_RE.pattern}
        _string_pattern(properties["system_agent"], AGENT_ID_RE.pattern)
    if "api_key" in properties:
        properties["api_key"]["anyOf"] = [{"$ref": "#/$defs/EnvRefSpec"}, {"type": "null"}]
    if "env" in properties:
        _string_pattern(properties["env"], ENV_VAR_RE.pattern)


def _string_pattern(prop: dict[str, Any], pattern: str) -> None:
    """Add `pattern` to the string form of a property (itself, or its string branch)."""
    for branch in (prop, *prop.get("anyOf", ())):
        if branch.get("type") == "string":
            branch["pattern"] = pattern
