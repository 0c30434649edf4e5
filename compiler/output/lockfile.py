"""Lock files: the resolution of one environment, kept for stability and review. Pure.

`rendered/<env>/clawpolicy.lock.json` (format version 2) records, per environment:

* `inputs`: sha256 of every file that decided the output;
* `rendered`: sha256 of the `openclaw.json` written with this lock (a hand edit shows);
* `promotion`: `{"from": ENV}` in an environment written by `clawpolicy promote`;
* `defaults`, `tiers`, `agents`: each chain (`primary`, `fallbacks`), the estimated monthly cost
  of the primary where a workload is given, and `constraints`, the merged values that chose it
  (so a diff can say which constraint moved, old -> new): a tier's in full, an agent's (and
  the default and image model's) only where they differ from its tier's;
* `models`: per ref, what `openclaw.json` does not say: the vendor and a retirement date.

On the next compile each locked choice is kept while it still satisfies the policy;
`compile --upgrade [AGENT]...` drops it. Version 1 locks (no constraints, models, rendered)
are still read. Any other shape is PC110, never a traceback.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from .. import jsontext
from ..diagnostics import CompileError, Span, error
from ..load.catalog import Offer, json_ready
from ..resolve.resolver import DEFAULT_SLOTS, TIER_KEY_PREFIX, ChainResult, Resolution

LOCK_VERSION = 2


@dataclass(frozen=True, slots=True)
class LockedModel:
    vendor: str
    retires: str | None = None  # ISO date: the earlier of deprecation and expiry


@dataclass(frozen=True, slots=True)
class Lock:
    environment: str
    chains: Mapping[str, tuple[str, ...]]  # subject key -> refs, primary first
    costs: Mapping[str, str]  # agent id -> estimated monthly cost of the primary (decimal text)
    inputs: Mapping[str, str]  # repo-relative input path -> sha256
    constraints: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # key -> values
    models: Mapping[str, LockedModel] = field(default_factory=dict)  # ref -> facts
    promoted_from: str | None = None  # set in a lock written by `promote`
    rendered: str | None = None  # sha256 of the openclaw.json written with it
    version: int = LOCK_VERSION

    def agent_chains(self) -> dict[str, tuple[str, ...]]:
        """The agents' chains (no default, image or tier chains)."""
        return {k: v for k, v in self.chains.items() if not k.startswith("@")}


EMPTY = Lock("", {}, {}, {})


def digest(text: str) -> str:
    """sha256 of a text file's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- building


def constraint_values(result: ChainResult) -> dict[str, Any]:
    """The merged values that chose a chain, unset and default ones left out (compact, stable)."""
    merged, subject = result.merged, result.subject
    values: dict[str, Any] = {"tier": subject.layers[0].origin.removeprefix("tier ")}
    values |= {"requires": list(merged.requires)} if merged.requires else {}
    values |= {"min_context": merged.min_context} if merged.min_context else {}
    ceiling = {k: v for k, v in (("input", merged.max_input), ("output", merged.max_output)) if v}
    values |= {"max_price": ceiling} if ceiling else {}
    values |= {"prefer": list(merged.prefer)} if merged.prefer else {}
    values |= {"avoid": list(merged.avoid)} if merged.avoid else {}
    values |= {"vendors": list(merged.vendors)} if merged.vendors is not None else {}
    values |= {"min_age_days": merged.min_age_days} if merged.min_age_days is not None else {}
    values |= {"sort": merged.sort, "fallbacks": merged.fallbacks, "diversity": merged.diversity}
    values |= {"thinking": merged.thinking} if merged.thinking else {}
    values |= {"pin": subject.pin} if subject.pin else {}
    if subject.workload is not None:
        values["workload"] = dict(zip(("input_mtok", "output_mtok"), subject.workload, strict=True))
    values |= {"budget": subject.budget} if subject.budget is not None else {}
    return values


def _chain(result: ChainResult, tiers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A chain's lock entry; `tiers` holds each tier chain's constraints, so a non-tier chain
    records only what differs from its tier's (keys are never unset below a tier)."""
    body: dict[str, Any] = {"primary": result.refs[0], "fallbacks": list(result.refs[1:])}
    if result.cost is not None:
        body["monthly_cost"] = result.cost.quantize(Decimal("0.01"))
    values = constraint_values(result)
    base = tiers.get(values["tier"], {}) if not result.subject.key.startswith("@tier:") else {}
    body["constraints"] = {k: v for k, v in values.items() if k == "tier" or base.get(k) != v}
    return body


def _model(offer: Offer) -> dict[str, Any]:
    dates = [d for d in (offer.deprecation_date, offer.expiry_date) if d is not None]
    body: dict[str, Any] = {"vendor": offer.vendor}
    if dates:
        body["retires"] = min(dates).isoformat()
    return body


def build(
    resolution: Resolution,
    inputs: Mapping[str, str],
    rendered: str,
    promoted_from: str | None = None,
) -> dict[str, Any]:
    """The lock document for one environment.

    Args:
        resolution: the environment's chains.
        inputs: repo-relative input path -> sha256.
        rendered: the `openclaw.json` text written beside the lock.
        promoted_from: the source environment, when `promote` writes the lock.
    """
    tier_values = {name: constraint_values(r) for name, r in resolution.tiers.items()}
    defaults = {
        slot.config_key: _chain(resolution.defaults[slot.key], tier_values)
        for slot in DEFAULT_SLOTS
        if slot.key in resolution.defaults
    }
    offers = {o.ref: o for result in resolution.chains() for o in result.chain}
    document: dict[str, Any] = {
        "version": LOCK_VERSION,
        "environment": resolution.environment.name,
    }
    if promoted_from is not None:
        document["promotion"] = {"from": promoted_from}
    document |= {
        "inputs": dict(sorted(inputs.items())),
        "rendered": digest(rendered),
        "defaults": defaults,
        "tiers": {name: _chain(r, tier_values) for name, r in resolution.tiers.items()},
        "agents": {agent_id: _chain(r, tier_values) for agent_id, r in resolution.agents.items()},
        "models": {ref: _model(offers[ref]) for ref in sorted(offers)},
    }
    return document


def lock_of(resolution: Resolution) -> Lock:
    """The chains and costs a fresh resolution's lock file will hold, without writing and
    reading it back (a promotion's source in the same run)."""
    return Lock(
        resolution.environment.name,
        {result.subject.key: result.refs for result in resolution.chains()},
        {
            agent_id: str(result.cost.quantize(Decimal("0.01")))
            for agent_id, result in resolution.agents.items()
            if result.cost is not None
        },
        {},
    )


def serialize(document: Mapping[str, Any]) -> str:
    return jsontext.dumps(json_ready(document))


# --------------------------------------------------------------------------- reading


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Ref = Annotated[StrictStr, Field(min_length=3, max_length=512, pattern=r"^[^/\s]+/\S+$")]
Digest = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]


class _ChainSpec(_Spec):
    primary: Ref
    fallbacks: tuple[Ref, ...] = Field(default=(), max_length=64)
    monthly_cost: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] | None = None
    constraints: dict[StrictStr, Any] = Field(default_factory=dict)


class _DefaultsSpec(_Spec):
    model: _ChainSpec | None = None
    imageModel: _ChainSpec | None = None
    utilityModel: _ChainSpec | None = None
    pdfModel: _ChainSpec | None = None


class _ModelSpec(_Spec):
    vendor: StrictStr
    retires: date | None = None


class _PromotionSpec(_Spec):
    from_: StrictStr = Field(alias="from")


class _LockSpec(_Spec):
    version: Literal[1, 2]
    environment: StrictStr
    promotion: _PromotionSpec | None = None
    inputs: dict[StrictStr, Digest] = Field(default_factory=dict)
    rendered: Digest | None = None
    defaults: _DefaultsSpec = _DefaultsSpec()
    tiers: dict[StrictStr, _ChainSpec] = Field(default_factory=dict)
    agents: dict[StrictStr, _ChainSpec] = Field(default_factory=dict)
    models: dict[Ref, _ModelSpec] = Field(default_factory=dict)


def _invalid(path: str, why: str) -> CompileError:
    return CompileError(
        (
            error(
                "PC110",
                f"lock file is not valid: {why}",
                Span(path),
                "hint: delete it and run clawpolicy compile --upgrade to re-resolve",
            ),
        )
    )


def _first_problem(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']} ({len(exc.errors())} problem(s))"


def parse(text: str, path: str, environment: str | None = None) -> Lock:
    """Read a lock file; `environment`, when given, must be the one the lock names.

    Raises:
        CompileError: PC110 for anything that is not a lock of this environment that this
            version understands (the message never repeats the file's values).
    """
    try:
        raw = json.loads(text, parse_float=Decimal)
        spec = _LockSpec.model_validate(raw)
    except RecursionError:
        raise _invalid(path, "nested too deeply") from None
    except ValueError as exc:  # ValidationError is a ValueError
        why = _first_problem(exc) if isinstance(exc, ValidationError) else "not JSON"
        raise _invalid(path, why) from None
    if environment is not None and spec.environment != environment:
        raise _invalid(path, f"it is the lock of environment '{spec.environment}'")
    return _lock(spec)


def _lock(spec: _LockSpec) -> Lock:
    bodies: dict[str, _ChainSpec] = {}
    for slot in DEFAULT_SLOTS:
        body = getattr(spec.defaults, slot.config_key)
        if body is not None:
            bodies[slot.key] = body
    bodies |= {TIER_KEY_PREFIX + tier: body for tier, body in spec.tiers.items()}
    bodies |= spec.agents
    tiers = {name: body.constraints for name, body in spec.tiers.items()}

    def constraints(key: str, body: _ChainSpec) -> dict[str, Any]:
        if key.startswith(TIER_KEY_PREFIX) or not body.constraints:
            return dict(body.constraints)
        return {**tiers.get(str(body.constraints.get("tier")), {}), **body.constraints}

    return Lock(
        spec.environment,
        {key: (body.primary, *body.fallbacks) for key, body in bodies.items()},
        {
            key: str(body.monthly_cost)
            for key, body in spec.agents.items()
            if body.monthly_cost is not None
        },
        dict(spec.inputs),
        {key: constraints(key, body) for key, body in bodies.items() if body.constraints},
        {
            ref: LockedModel(m.vendor, m.retires.isoformat() if m.retires else None)
            for ref, m in spec.models.items()
        },
        spec.promotion.from_ if spec.promotion else None,
        spec.rendered,
        spec.version,
    )
