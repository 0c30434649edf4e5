"""Stage 3a: the model layer of openclaw.json as plain data (Resolution -> `models`, `agents`).
Pure; the renderer hands it to the template and merges it into what the template renders.
"""

from decimal import Decimal
from typing import Any

from ..load.catalog import Offer, Price
from ..load.project import Project
from ..resolve.resolver import DEFAULT_SLOTS, ChainResult, Resolution


def _cost(price: Price) -> Decimal:
    """OpenClaw wants numbers: unknown and variable prices render as 0 (no estimate)."""
    return price if isinstance(price, Decimal) else Decimal(0)


def model_entry(offer: Offer) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": offer.id,
        "name": offer.name,
        "input": list(offer.input),
    }
    if offer.context_window is not None:
        entry["contextWindow"] = offer.context_window
    if offer.max_output is not None:
        entry["maxTokens"] = offer.max_output
    entry["reasoning"] = offer.capabilities.get("reasoning") is True
    entry["cost"] = {
        "input": _cost(offer.price["input"]),
        "output": _cost(offer.price["output"]),
        "cacheRead": _cost(offer.price["cache_read"]),
        "cacheWrite": _cost(offer.price["cache_write"]),
    }
    return entry


def _model_ref(result: ChainResult) -> dict[str, Any]:
    refs = result.refs
    return {"primary": refs[0], "fallbacks": list(refs[1:])}


def build_models(resolution: Resolution) -> dict[str, Any]:
    """`models`: merge mode, and each used provider with only the models referenced."""
    used: dict[str, Offer] = {}
    for result in resolution.chains():
        for offer in result.chain:
            used[offer.ref] = offer
    providers: dict[str, Any] = {}
    for provider in resolution.environment.providers:
        offers = sorted((o for o in used.values() if o.provider == provider.id), key=lambda o: o.id)
        if not offers:
            continue
        spec = provider.spec
        body: dict[str, Any] = {"baseUrl": spec.base_url, "api": spec.api}
        if spec.api_key is not None and not isinstance(spec.api_key, str):
            body["apiKey"] = {"source": "env", "provider": "default", "id": spec.api_key.env}
        body["models"] = [model_entry(o) for o in offers]
        providers[provider.id] = body
    return {"mode": "merge", "providers": providers}


def build_agents(project: Project, resolution: Resolution) -> dict[str, Any]:
    """`agents`: explicit ownership, defaults (model, image model, aliases, allowlist), entries."""
    env = resolution.environment
    defaults: dict[str, Any] = {}
    for slot in DEFAULT_SLOTS:
        chosen = resolution.defaults.get(slot.key)
        if chosen is not None:
            defaults[slot.config_key] = chosen.refs[0] if slot.primary_only else _model_ref(chosen)
    if resolution.aliases:
        defaults["models"] = {ref: {"alias": alias} for ref, alias in resolution.aliases.items()}
    allowed = sorted({ref for result in resolution.chains() for ref in result.refs})
    if allowed:
        defaults["modelPolicy"] = {"allow": allowed}
    if resolution.default_model is not None and resolution.default_model.merged.thinking:
        defaults["thinkingDefault"] = resolution.default_model.merged.thinking
    system_agent = env.spec.system_agent or next(iter(resolution.agents), None)
    if system_agent is not None:
        defaults["systemAgent"] = {"agentId": system_agent}
    entries = {}
    for agent_id, result in resolution.agents.items():
        spec = project.agents[agent_id].spec
        entry: dict[str, Any] = {}
        if spec.name is not None:
            entry["name"] = spec.name
        if spec.description is not None:
            entry["description"] = spec.description
        entry["model"] = _model_ref(result)
        if result.merged.thinking is not None:
            entry["thinkingDefault"] = result.merged.thinking
        entries[agent_id] = entry
    return {"ownership": "explicit", "defaults": defaults, "entries": entries}
