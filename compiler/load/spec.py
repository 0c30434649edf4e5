"""Input schemas (pydantic v2) for policy files and catalog snapshots. Pure; no IO.

`*Spec` classes describe what users write. Unknown keys are rejected (`extra="forbid"`), values
are frozen, containers are tuples. Cross-document checks (unknown tier, duplicate agents, ...)
belong to the loader, where they become Diagnostics with spans.
"""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    Tag,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .. import OPENCLAW_VERSION, OPENCLAW_VERSIONS

CAPABILITIES = ("tools", "vision", "reasoning", "json", "audio", "video", "pdf")
MODALITIES = ("text", "image", "video", "audio")
# capability -> the OpenClaw input modality that carries it
MODALITY_OF_CAPABILITY = {"vision": "image", "audio": "audio", "video": "video"}
MODEL_APIS = (
    "openai-completions",
    "openai-responses",
    "openai-chatgpt-responses",
    "anthropic-messages",
    "google-generative-ai",
    "google-vertex",
    "github-copilot",
    "bedrock-converse-stream",
    "ollama",
    "pi-messages",
    "azure-openai-responses",
)
THINKING_LEVELS = ("off", "minimal", "low", "medium", "high", "xhigh", "adaptive", "max", "ultra")
AGENT_ID_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,63}$")
ENV_VAR_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,127}$")
PROVIDER_ID_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")
_ENV_SUBSTITUTION_RE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*\}(/\S*)?$")
_URL_RE = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<netloc>[^/?#]*)[^?#]*(?P<rest>[?#].*)?$"
)
_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?$")
DEFAULT_RETIRE_WARNING_DAYS = 30

Capability = Literal["tools", "vision", "reasoning", "json", "audio", "video", "pdf"]
Modality = Literal["text", "image", "video", "audio"]
SortKey = Literal["price", "context", "newest"]
Diversity = Literal["vendor", "provider", "vendor+provider", "none"]
Thinking = Literal["off", "minimal", "low", "medium", "high", "xhigh", "adaptive", "max", "ultra"]


def parse_token_count(value: Any) -> Any:
    """Accept an integer or a string with a k/m suffix (k = 1,000; m = 1,000,000).

    Example:
        >>> parse_token_count("128k"), parse_token_count("1m"), parse_token_count(32000)
        (128000, 1000000, 32000)
    """
    if isinstance(value, bool):
        return value  # let the int validator reject it
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if not match:
            raise ValueError("expected an integer or a number with a k/m suffix, like 128k or 1m")
        number, suffix = Decimal(match.group(1)), match.group(2).lower()
        scaled = number * {"": 1, "k": 1_000, "m": 1_000_000}[suffix]
        if scaled != scaled.to_integral_value():
            raise ValueError("token counts must be whole numbers")
        return int(scaled)
    return value


def _to_decimal(value: Any) -> Any:
    """Numbers become exact Decimals (via their shortest repr); strings and bools are refused."""
    if isinstance(value, bool | str):
        raise ValueError("expected a number")
    if isinstance(value, float | int):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return value


# Sane bounds (README "Guarantees"): anything outside is a PC103 (policies) or PC110/PC501
# (catalogs) naming the value's place, never an overflow further on.
MAX_TOKENS = 1_000_000_000  # context windows, max output, min_context
MAX_PRICE = Decimal(100_000)  # USD per 1M tokens (the dearest real model: 600)
MAX_BUDGET = Decimal(1_000_000_000)  # USD per month, per agent or environment
MAX_WORKLOAD = Decimal(1_000_000_000)  # millions of tokens per month
MAX_DIGITS = 20  # significant digits of any price, budget or workload


def _money_schema(maximum: Decimal, description: str) -> WithJsonSchema:
    return WithJsonSchema(
        {"type": "number", "minimum": 0, "maximum": int(maximum), "description": description}
    )


def _money_bounds(maximum: Decimal) -> Any:
    return Field(ge=0, le=maximum, allow_inf_nan=False, max_digits=MAX_DIGITS)


TokenCount = Annotated[
    StrictInt,
    BeforeValidator(parse_token_count),
    Field(ge=0, le=MAX_TOKENS),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": MAX_TOKENS},
                {"type": "string", "pattern": _SIZE_RE.pattern},
            ],
            "description": "tokens: an integer or a number with a k/m suffix (128k, 1m)",
        }
    ),
]
PriceCeiling = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    _money_bounds(MAX_PRICE),
    _money_schema(MAX_PRICE, "USD per 1M tokens"),
]
Budget = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    _money_bounds(MAX_BUDGET),
    _money_schema(MAX_BUDGET, "USD per month"),
]
Workload = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    _money_bounds(MAX_WORKLOAD),
    _money_schema(MAX_WORKLOAD, "millions of tokens per month"),
]


def _check_glob(pattern: str) -> str:
    """Reject a glob whose `[` never closes: fnmatch would silently match it literally."""
    depth = 0
    for char in pattern:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
    if depth:
        raise ValueError(f"invalid glob {pattern!r}: '[' is never closed")
    return pattern


Glob = Annotated[StrictStr, Field(min_length=1), AfterValidator(_check_glob)]
Days = Annotated[StrictInt, Field(ge=0, le=3650)]
VendorList = Annotated[tuple[Annotated[StrictStr, Field(min_length=1)], ...], Field(min_length=1)]


def check_base_url(url: str) -> str:
    """A provider endpoint: http(s) with a host (or an OpenClaw `${VAR}` substitution), and no
    place a credential could hide (user info, a query string, a fragment). The value is never
    repeated in the message: it may hold a pasted key.

    Example:
        >>> check_base_url("https://llm.onerouter.pro/v1")
        'https://llm.onerouter.pro/v1'
        >>> check_base_url("llm.onerouter.pro/v1")
        Traceback (most recent call last):
        ...
        ValueError: must start with https:// or http:// (like https://llm.example.com/v1)
    """
    if _ENV_SUBSTITUTION_RE.fullmatch(url):
        return url
    if any(char.isspace() for char in url):
        raise ValueError("contains white space")
    parts = _URL_RE.fullmatch(url)
    if parts is None or parts["scheme"].lower() not in ("http", "https"):
        raise ValueError("must start with https:// or http:// (like https://llm.example.com/v1)")
    if "@" in parts["netloc"]:
        raise PydanticCustomError(
            "literal_secret",
            "carries user info (user:password@), which would be rendered and committed; "
            "the value is not shown; put the key in api_key: {env: NAME}",
        )
    if parts["rest"]:
        raise PydanticCustomError(
            "literal_secret",
            "has a query string or fragment, which would be rendered and committed (a key in "
            "a URL leaks); the value is not shown; put the key in api_key: {env: NAME}",
        )
    if not _HOST_RE.fullmatch(parts["netloc"]):
        raise ValueError("has no valid host[:port] (like https://llm.example.com/v1)")
    return url


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- policy files


class PriceCeilingSpec(Spec):
    """USD per 1M tokens; applies to every model in the chain."""

    input: PriceCeiling | None = None
    output: PriceCeiling | None = None


class WorkloadSpec(Spec):
    """Expected millions of tokens per month."""

    input_mtok: Workload = Decimal(0)
    output_mtok: Workload = Decimal(0)


class ConstraintSpec(Spec):
    """The keys a tier, an environment's tier override and an agent share. Unset means inherit."""

    requires: tuple[Capability, ...] | None = None
    min_context: TokenCount | None = None
    max_price: PriceCeilingSpec | None = None
    prefer: tuple[Glob, ...] | None = None
    avoid: tuple[Glob, ...] | None = None
    sort: SortKey | None = None
    fallbacks: Annotated[StrictInt, Field(ge=0, le=16)] | None = None
    diversity: Diversity | None = None
    thinking: Thinking | None = None
    vendors: VendorList | None = Field(
        default=None,
        description="Allowlist of vendors (the catalog's vendor field, like anthropic); every "
        "layer that sets it narrows the set (intersection).",
    )
    min_age_days: Days | None = Field(
        default=None,
        description="Skip offers released fewer than N days before the catalog's date; an "
        "unknown release date never satisfies it. The largest of the layers wins.",
    )


class TierSpec(ConstraintSpec):
    description: StrictStr | None = None


class TiersFileSpec(Spec):
    version: Literal[1]
    tiers: dict[StrictStr, TierSpec]


class AgentSpec(ConstraintSpec):
    tier: StrictStr | None = None
    name: StrictStr | None = None
    description: StrictStr | None = None
    pin: StrictStr | None = None
    workload: WorkloadSpec | None = None
    budget: Budget | None = None


class TeamFileSpec(Spec):
    version: Literal[1]
    team: StrictStr
    description: StrictStr | None = None
    owners: tuple[StrictStr, ...] = ()
    agents: dict[StrictStr, AgentSpec] = Field(default_factory=dict)


class EnvAgentSpec(ConstraintSpec):
    """An environment's override of one agent, merged over the agent (the most specific layer)."""

    pin: StrictStr | None = Field(
        default=None, description="Exact primary in this environment: <provider>/<model id>."
    )
    budget: Budget | None = Field(
        default=None, description="Most the primary may cost per month here, in USD."
    )
    enabled: StrictBool = Field(
        default=True, description="false: the agent is not deployed in this environment."
    )


class EnvRefSpec(Spec):
    env: StrictStr


def _api_key_kind(value: Any) -> str:
    return "literal" if isinstance(value, str) else "ref"


# Discriminated, so a mistake inside `{env: ...}` reports only that, not a string error too.
ApiKey = Annotated[
    Annotated[EnvRefSpec, Tag("ref")] | Annotated[StrictStr, Tag("literal")],
    Discriminator(_api_key_kind),
]


class ProviderSpec(Spec):
    base_url: Annotated[StrictStr, AfterValidator(check_base_url)]
    api: Literal[MODEL_APIS]  # type: ignore[valid-type]
    # A literal string is accepted by the schema only so the loader can reject it as PC107
    # without echoing the secret back in a pydantic message.
    api_key: ApiKey | None = None


class EnvironmentFileSpec(Spec):
    version: Literal[1]
    environment: Annotated[StrictStr, Field(pattern=NAME_RE)]  # also a folder under rendered/
    description: StrictStr | None = None
    catalogs: tuple[StrictStr, ...] = ()
    template: StrictStr = "openclaw.json.j2"
    providers: dict[StrictStr, ProviderSpec] = Field(default_factory=dict)
    teams: tuple[StrictStr, ...] = ("*",)
    default_tier: StrictStr | None = None
    image_tier: StrictStr | None = None
    utility_tier: StrictStr | None = Field(
        default=None,
        description="Tier of agents.defaults.utilityModel: the model OpenClaw runs titles, "
        "recaps and narration on (its primary only).",
    )
    pdf_tier: StrictStr | None = Field(
        default=None,
        description="Tier of agents.defaults.pdfModel (the pdf capability is required).",
    )
    system_agent: StrictStr | None = None
    tiers: dict[StrictStr, ConstraintSpec] = Field(default_factory=dict)
    budget: Budget | None = None
    promote_from: StrictStr | None = None
    retire_warning_days: Days = Field(
        default=DEFAULT_RETIRE_WARNING_DAYS,
        description="Warn when a chosen model retires within N days of the catalog's date "
        "(default 30); --strict makes it an error.",
    )
    agents: dict[StrictStr, EnvAgentSpec] = Field(
        default_factory=dict,
        description="Per-environment agent overrides (pin, budget, constraint keys, "
        "enabled: false), merged over the agent.",
    )
    # checked by the loader against OPENCLAW_VERSIONS (a diagnostic listing them)
    openclaw_version: Annotated[
        StrictStr, Field(json_schema_extra={"enum": list(OPENCLAW_VERSIONS)})
    ] = OPENCLAW_VERSION


POLICY_FILE_SPECS: dict[str, type[Spec]] = {
    "tiers": TiersFileSpec,
    "team": TeamFileSpec,
    "environment": EnvironmentFileSpec,
}


# --------------------------------------------------------------------------- catalog snapshots

Price = (
    Annotated[Decimal, Field(ge=0, le=MAX_PRICE, allow_inf_nan=False, max_digits=MAX_DIGITS)]
    | Literal["variable"]
)


class OfferPriceSpec(Spec):
    """USD per 1M tokens. Absent = unknown; "variable" = router pricing (never fits a ceiling)."""

    input: Price | None = None
    output: Price | None = None
    cache_read: Price | None = None
    cache_write: Price | None = None


class CapabilitiesSpec(Spec):
    """true / false / absent (unknown). Unknown never satisfies a requirement."""

    tools: StrictBool | None = None
    vision: StrictBool | None = None
    reasoning: StrictBool | None = None
    json_: StrictBool | None = Field(default=None, alias="json")
    audio: StrictBool | None = None
    video: StrictBool | None = None
    pdf: StrictBool | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class OfferSpec(Spec):
    provider: Annotated[StrictStr, Field(pattern=PROVIDER_ID_RE.pattern)]
    id: Annotated[StrictStr, Field(min_length=1)]
    name: StrictStr
    vendor: StrictStr
    context_window: Annotated[StrictInt, Field(gt=0, le=MAX_TOKENS)] | None = None
    max_output: Annotated[StrictInt, Field(gt=0, le=MAX_TOKENS)] | None = None
    input: tuple[Modality, ...] = ("text",)
    capabilities: CapabilitiesSpec = CapabilitiesSpec()
    price: OfferPriceSpec = OfferPriceSpec()
    release_date: Annotated[StrictStr, Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")] | None = None
    deprecation_date: date | None = None
    expiry_date: date | None = None
    deprecated: StrictBool = False
    # a moving alias (OpenRouter `~vendor/...-latest`) serves different models over time, so a
    # compiler that promises reproducible output never chooses it
    moving_alias: StrictBool = False

    @model_validator(mode="after")
    def _modalities_match_capabilities(self) -> "OfferSpec":
        for capability, modality in MODALITY_OF_CAPABILITY.items():
            flag = getattr(self.capabilities, capability)
            if (modality in self.input) != (flag is True):
                raise ValueError(
                    f"input {list(self.input)} and capabilities.{capability}={flag} disagree: "
                    f"'{modality}' is in input exactly when {capability} is true"
                )
        if "text" not in self.input:
            raise ValueError("input must include 'text'")
        return self


class CatalogSpec(Spec):
    format: Literal["clawpolicy-catalog"]
    version: Literal[1]
    date: date
    source: StrictStr | None = None
    offers: tuple[OfferSpec, ...]
