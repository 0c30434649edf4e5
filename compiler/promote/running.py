"""What a promoted environment runs, read back from its committed lock and openclaw.json
(Lock x config -> Resolution). Pure; no IO.

`compile` never resolves or renders a promoted environment; tools that read resolutions (the
compile summary, `cost`, `what-if`) get the chains it runs from here. A ref that its catalogs
no longer offer is rebuilt from the model entry of the committed openclaw.json, so a dropped
model keeps its name, limits and prices.
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from ..load.catalog import Offer
from ..load.project import Environment, Project
from ..output.lockfile import Lock
from ..resolve.constraints import Merged, merge
from ..resolve.resolver import (
    SLOTS,
    TIER_KEY_PREFIX,
    ChainResult,
    Resolution,
    Subject,
    agent_subject,
)


def config_models(config: Any) -> dict[str, Mapping[str, Any]]:
    """ref -> model entry of a parsed openclaw.json (odd shapes give nothing, never raise)."""
    found: dict[str, Mapping[str, Any]] = {}
    providers = (config.get("models") or {}) if isinstance(config, dict) else {}
    providers = providers.get("providers") if isinstance(providers, dict) else None
    for provider, body in (providers or {}).items() if isinstance(providers, dict) else ():
        models = body.get("models") if isinstance(body, dict) else None
        for entry in models if isinstance(models, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                found[f"{provider}/{entry['id']}"] = entry
    return found


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        return None


def _offer_from_entry(ref: str, entry: Mapping[str, Any], lock: Lock, as_of: date) -> Offer:
    provider, _, model_id = ref.partition("/")
    cost: Mapping[str, Any] = entry["cost"] if isinstance(entry.get("cost"), dict) else {}
    inputs: list[Any] = entry["input"] if isinstance(entry.get("input"), list) else ["text"]
    locked = lock.models.get(ref)
    retires = date.fromisoformat(locked.retires) if locked and locked.retires else None
    context, max_tokens = entry.get("contextWindow"), entry.get("maxTokens")
    return Offer(
        provider=provider,
        id=model_id,
        name=str(entry.get("name", model_id)),
        vendor=locked.vendor if locked else model_id.partition("/")[0],
        context_window=context if isinstance(context, int) else None,
        max_output=max_tokens if isinstance(max_tokens, int) else None,
        input=tuple(str(i) for i in inputs),
        capabilities=MappingProxyType({"reasoning": entry.get("reasoning") is True}),
        price=MappingProxyType(
            {
                "input": _number(cost.get("input")),
                "output": _number(cost.get("output")),
                "cache_read": _number(cost.get("cacheRead")),
                "cache_write": _number(cost.get("cacheWrite")),
            }
        ),
        release_date=None,
        deprecation_date=retires,
        expiry_date=None,
        deprecated=False,
        as_of=as_of,
    )


def _subject(project: Project, env: Environment, key: str, deployed: frozenset[str]) -> Subject:
    agent = project.agents.get(key)
    if agent is not None and key in deployed:
        found = agent_subject(project, env, agent)
        if found is not None:
            return found
    label = f"agent '{key}'" if not key.startswith("@") else key
    return Subject(key, label, None, ())


def dropped_offers(env: Environment, lock: Lock, config: Any) -> dict[str, Offer]:
    """Offers, rebuilt from the committed `config`, of every model `lock` runs that `env`'s
    catalogs no longer have."""
    entries = config_models(config)
    as_of = max(env.catalog.dates, default=date.min)
    return {
        ref: _offer_from_entry(ref, entries.get(ref, {}), lock, as_of)
        for refs in lock.chains.values()
        for ref in refs
        if ref not in env.catalog.by_ref
    }


def running_resolution(project: Project, env: Environment, lock: Lock, config: Any) -> Resolution:
    """The chains `env` runs, as its committed `lock` records them, with offers from its
    catalogs where they still exist and from the committed `config` where they do not."""
    dropped = dropped_offers(env, lock, config)

    def offer(ref: str) -> Offer:
        return env.catalog.by_ref.get(ref) or dropped[ref]

    results: dict[str, ChainResult] = {}
    deployed = frozenset(env.agent_ids)
    for key, refs in lock.chains.items():
        subject = _subject(project, env, key, deployed)
        merged = merge(subject.layers) if subject.layers else Merged()
        cost = Decimal(lock.costs[key]) if key in lock.costs else None
        chain = tuple(offer(ref) for ref in refs)
        results[key] = ChainResult(subject, merged, chain, cost, refs)
    agents = {k: v for k, v in sorted(results.items()) if not k.startswith("@")}
    tiers = {
        k.removeprefix(TIER_KEY_PREFIX): v for k, v in results.items() if k.startswith("@tier:")
    }
    total = sum((r.cost for r in agents.values() if r.cost is not None), Decimal(0))
    defaults = {key: result for key, result in results.items() if key in SLOTS}
    return Resolution(env, agents, defaults, tiers, {}, total)
