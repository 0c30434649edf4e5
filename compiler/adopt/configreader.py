"""Adoption, stage 1: a hand-written openclaw.json (parsed) -> `AdoptedConfig`. Pure; no IO.

Reads what the policy language can say: provider accounts (base URL, API, the key as an env
reference), every declared model as a catalog offer (capabilities from `input` and
`reasoning`; what the file does not say stays unknown), every agent's chain (`agents.entries`
or the legacy `agents.list`; a string model is a chain without fallbacks, an agent without a
model runs `agents.defaults.model`), the default and image chains, aliases, thinking defaults
and the system agent. Everything else is named in a warning, never silently dropped. A literal
API key is never copied or shown: the provider gets `{env: <PROVIDER>_API_KEY}` and a warning.
A declared model whose id or name looks like a secret (`looks_secret`) is left out of the
catalog, which is committed (PC107 naming its JSON path, never the value); a chain that uses
it is PC602; so is a provider whose id looks like one, with its models. Leaving them out,
rather than refusing the file, adopts the rest in one step.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..diagnostics import Diagnostic, Span, error, raise_if_errors, warning
from ..load.spec import (
    AGENT_ID_RE,
    ENV_VAR_RE,
    MODALITIES,
    MODEL_APIS,
    PROVIDER_ID_RE,
    check_base_url,
)
from ..redaction import located, looks_secret

THINKING = ("off", "minimal", "low", "medium", "high", "xhigh", "adaptive", "max", "ultra")
_ENV_TEMPLATE = re.compile(r"^\$\{([A-Z_][A-Z0-9_]*)\}$")
_PROVIDER_KEYS = {"baseUrl", "api", "apiKey", "models"}
_MODEL_KEYS = {"id", "name", "input", "reasoning", "cost", "contextWindow", "maxTokens"}
_COST_KEYS = {"input": "input", "output": "output", "cacheRead": "cache_read"}
_COST_KEYS["cacheWrite"] = "cache_write"
_DEFAULTS_KEYS = {"model", "imageModel", "models", "thinkingDefault", "systemAgent", "modelPolicy"}
_URL_HINT = "hint: keep only the endpoint in baseUrl and the key in apiKey, then adopt again"
_ENTRY_KEYS = {"id", "name", "description", "model", "thinkingDefault"}


@dataclass(frozen=True, slots=True)
class AdoptedProvider:
    id: str
    base_url: str
    api: str
    api_key_env: str | None  # the env var holding the key; None: the file gives none


@dataclass(frozen=True, slots=True)
class AdoptedAgent:
    id: str
    chain: tuple[str, ...]  # refs, primary first
    name: str | None = None
    description: str | None = None
    thinking: str | None = None


@dataclass(frozen=True, slots=True)
class AdoptedConfig:
    providers: tuple[AdoptedProvider, ...]  # in the file's order
    offers: tuple[dict[str, Any], ...]  # catalog offers (snapshot entries), one per model
    agents: tuple[AdoptedAgent, ...]  # in the file's order
    default_chain: tuple[str, ...] = ()
    image_chain: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)  # ref -> alias
    thinking: str | None = None  # agents.defaults.thinkingDefault
    system_agent: str | None = None
    warnings: tuple[Diagnostic, ...] = ()


class _Reader:
    """Collects the problems and warnings of one file; every message names a JSON path."""

    def __init__(self, source: str) -> None:
        self.span = Span(source)
        self.problems: list[Diagnostic] = []
        self.env_names: set[str] = set()  # env vars the providers' keys use (no two share one)
        self.left_out: dict[str, str] = {}  # ref -> JSON path of a model left out as secret

    def error(self, where: str, message: str, *notes: str) -> None:
        self.problems.append(error("PC602", located(where, message), self.span, *notes))

    def warn(self, where: str, message: str, *notes: str, code: str = "PC603") -> None:
        self.problems.append(warning(code, located(where, message), self.span, *notes))

    def ignored(self, where: str, keys: Iterable[str], hint: str) -> None:
        """Warn about keys the policy language cannot say (names only, never values)."""
        names = sorted(keys)
        if names:
            self.warn(where, f"not adopted: {', '.join(names)}", f"hint: {hint}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(where, f"expected an object, got {type(value).__name__}")
            return {}
        return value


def read_config(config: Any, source: str) -> AdoptedConfig:
    """Everything of a parsed openclaw.json that a policy repository can say.

    Raises:
        CompileError: PC602 for every part that cannot be adopted (a provider without baseUrl
            or api, a ref to an undeclared model, an agent id OpenClaw's schema rejects, ...).
    """
    reader = _Reader(source)
    if not isinstance(config, dict):
        reader.error("(top level)", "an openclaw.json is a JSON object")
        raise_if_errors(reader.problems)
    models = reader.mapping(config.get("models"), "models")
    if models.get("mode") == "replace":
        reader.warn("models.mode", "'replace' is not adopted: clawpolicy renders 'merge'")
    providers, offers = _providers(reader, reader.mapping(models.get("providers"), "models"))
    declared = {f"{o['provider']}/{o['id']}" for o in offers}
    adopted = _agents(reader, reader.mapping(config.get("agents"), "agents"), declared)
    _check_refs(reader, adopted, declared)
    if not adopted.agents:
        reader.error("agents", "no agent to adopt (agents.entries or agents.list)")
    raise_if_errors(reader.problems)
    return AdoptedConfig(
        providers=providers,
        offers=offers,
        agents=adopted.agents,
        default_chain=adopted.default_chain,
        image_chain=adopted.image_chain,
        aliases=adopted.aliases,
        thinking=adopted.thinking,
        system_agent=adopted.system_agent,
        warnings=tuple(reader.problems),
    )


# --------------------------------------------------------------------------- providers


def _providers(
    reader: _Reader, declared: Mapping[str, Any]
) -> tuple[tuple[AdoptedProvider, ...], tuple[dict[str, Any], ...]]:
    providers, offers = [], []
    references = (_env_reference(b.get("apiKey")) for b in declared.values() if isinstance(b, dict))
    reader.env_names.update(name for name in references if name is not None)
    seen: dict[str, str] = {}  # lowercased id -> the JSON path that declared it first
    for number, (raw_id, body) in enumerate(declared.items(), 1):
        provider_id = str(raw_id).lower()  # OpenClaw lowercases provider ids
        if looks_secret(provider_id):
            _leave_out_provider(reader, f"models.providers.<key {number}>", provider_id, body)
            continue
        where = f"models.providers.{raw_id}"
        spec = reader.mapping(body, where)
        if not PROVIDER_ID_RE.fullmatch(provider_id):
            reader.error(where, "provider ids must match ^[a-z][a-z0-9_-]{0,63}$")
            continue
        if provider_id in seen:
            reader.error(
                where,
                f"is provider '{provider_id}' again, as {seen[provider_id]} is "
                "(OpenClaw lowercases provider ids)",
                "hint: merge the two providers, or rename one",
            )
            continue
        seen[provider_id] = where
        reader.ignored(where, set(spec) - _PROVIDER_KEYS, "put them in templates/openclaw.json.j2")
        provider = _provider(reader, where, provider_id, spec)
        models = _offers(reader, where, provider_id, spec.get("models"))
        if provider is not None and models:
            providers.append(provider)
            offers.extend(models)
        elif provider is not None:
            reader.warn(where, "declares no models; not adopted")
    return tuple(providers), tuple(offers)


def _leave_out_provider(reader: _Reader, where: str, provider_id: str, body: Any) -> None:
    """A provider whose id looks like a secret is left out with its models (its id would be
    written to the catalog and the environments): PC107 naming its place, never the id."""
    models = body.get("models") if isinstance(body, dict) else None
    for model in models if isinstance(models, list) else ():
        if isinstance(model, dict) and isinstance(model.get("id"), str):
            reader.left_out.setdefault(f"{provider_id}/{model['id']}", where)
    reader.warn(
        where,
        "the provider id looks like a secret; the provider and its models are left out "
        "(the value is not shown)",
        "hint: if it is a key, remove it from the file and rotate it; else rename the provider",
        code="PC107",
    )


def _provider(
    reader: _Reader, where: str, provider_id: str, spec: Mapping[str, Any]
) -> AdoptedProvider | None:
    base_url, api = spec.get("baseUrl"), spec.get("api")
    if not isinstance(base_url, str) or not base_url:
        reader.error(where, "has no baseUrl", "hint: add the provider's baseUrl to the file")
    if api not in MODEL_APIS:
        reader.error(where, f"api must be one of {', '.join(MODEL_APIS)}")
    if not isinstance(base_url, str) or api not in MODEL_APIS:
        return None
    if not _base_url_ok(reader, f"{where}.baseUrl", base_url):
        return None
    return AdoptedProvider(provider_id, base_url, str(api), _api_key_env(reader, where, spec))


def _base_url_ok(reader: _Reader, where: str, url: str) -> bool:
    """The checks a provider's base_url gets in policy (PC103, PC107), made on the file."""
    try:
        check_base_url(url)
    except ValueError as exc:
        reason = str(exc).split(";", 1)[0]
        reader.error(where, f"{reason} (the value is not shown)", _URL_HINT)
        return False
    if looks_secret(url):
        reader.error(where, "carries a secret-looking value (not shown)", _URL_HINT)
        return False
    return True


def _env_reference(key: Any) -> str | None:
    """The env var an `apiKey` names (an env SecretRef or `"${NAME}"`), else None."""
    if (
        isinstance(key, dict)
        and key.get("source") == "env"
        and ENV_VAR_RE.fullmatch(str(key.get("id")))
    ):
        return str(key["id"])
    match = _ENV_TEMPLATE.match(key) if isinstance(key, str) else None
    return match.group(1) if match else None


def _api_key_env(reader: _Reader, where: str, spec: Mapping[str, Any]) -> str | None:
    """The env var of the provider's key; a literal key becomes a placeholder (never shown),
    one no other provider uses (`ACME_A_API_KEY`, then `ACME_A_API_KEY_2`, ...)."""
    key = spec.get("apiKey")
    if key is None or (name := _env_reference(key)) is not None:
        return None if key is None else name
    base = re.sub(r"[^A-Z0-9]+", "_", where.rsplit(".", 1)[-1].upper()) + "_API_KEY"
    placeholder = next(
        name
        for n in range(1, 1000)
        if (name := base if n == 1 else f"{base}_{n}") not in reader.env_names
    )
    reader.env_names.add(placeholder)
    kind = "a literal key" if isinstance(key, str) else "a SecretRef that is not an env reference"
    reader.warn(
        f"{where}.apiKey",
        f"holds {kind}; not copied (the value is not shown): wrote api_key: {{env: {placeholder}}}",
        f"hint: set {placeholder} where OpenClaw runs; rotate the key if the file was shared",
        code="PC107",
    )
    return placeholder


def _offers(reader: _Reader, where: str, provider_id: str, models: Any) -> list[dict[str, Any]]:
    if not isinstance(models, list):
        return []
    offers: dict[str, dict[str, Any]] = {}
    for index, model in enumerate(models):
        at = f"{where}.models[{index}]"
        if not isinstance(model, dict) or not isinstance(model.get("id"), str) or not model["id"]:
            reader.error(at, "a model needs a string id")
            continue
        if _secret_fields(model):
            _leave_out(reader, at, f"{provider_id}/{model['id']}", _secret_fields(model))
            continue
        if model["id"] in offers:
            reader.warn(at, f"model '{model['id']}' is declared twice; the first is adopted")
            continue
        reader.ignored(at, set(model) - _MODEL_KEYS, "set them in templates/openclaw.json.j2")
        offers[model["id"]] = _offer(reader, at, provider_id, model)
    return list(offers.values())


def _secret_fields(model: Mapping[str, Any]) -> list[str]:
    """The fields of a model that would carry a secret into the committed catalog."""
    return [k for k in ("id", "name") if isinstance(model.get(k), str) and looks_secret(model[k])]


def _leave_out(reader: _Reader, where: str, ref: str, fields: list[str]) -> None:
    """A model whose id or name looks like a secret is no offer (the catalog is committed): a
    PC107 warning naming its JSON path, never the value; a chain that uses it is PC602."""
    reader.left_out.setdefault(ref, where)
    reader.warn(
        where,
        f"{' and '.join(fields)} look(s) like a secret; the model is left out of the catalog "
        "(the value is not shown)",
        "hint: if it is a key, remove it from the file and rotate it; if it is a real model, "
        "adopt it under another name and add it back by hand",
        code="PC107",
    )


def _offer(
    reader: _Reader, where: str, provider_id: str, model: Mapping[str, Any]
) -> dict[str, Any]:
    model_id: str = model["id"]
    offer: dict[str, Any] = {
        "provider": provider_id,
        "id": model_id,
        "name": model["name"] if isinstance(model.get("name"), str) else model_id,
        "vendor": model_id.split("/", 1)[0] if "/" in model_id else provider_id,
    }
    for source, target in (("contextWindow", "context_window"), ("maxTokens", "max_output")):
        value = model.get(source)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
            offer[target] = int(value)
    capabilities: dict[str, bool] = {}
    if isinstance(model.get("input"), list):
        inputs = [m for m in MODALITIES if m in model["input"] or m == "text"]
        offer["input"] = inputs
        for capability, modality in (("vision", "image"), ("audio", "audio"), ("video", "video")):
            capabilities[capability] = modality in inputs
    if isinstance(model.get("reasoning"), bool):
        capabilities["reasoning"] = model["reasoning"]
    offer["capabilities"] = capabilities
    offer["price"] = _price(reader, where, model.get("cost"))
    return offer


def _price(reader: _Reader, where: str, cost: Any) -> dict[str, Decimal]:
    if not isinstance(cost, dict):
        return {}
    reader.ignored(f"{where}.cost", set(cost) - set(_COST_KEYS), "tiered prices are not modelled")
    price = {}
    for source, target in _COST_KEYS.items():
        value = cost.get(source)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            price[target] = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return price


# --------------------------------------------------------------------------- agents


@dataclass(slots=True)
class _Agents:
    agents: tuple[AdoptedAgent, ...] = ()
    default_chain: tuple[str, ...] = ()
    image_chain: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    thinking: str | None = None
    system_agent: str | None = None


def _agents(reader: _Reader, doc: Mapping[str, Any], declared: set[str]) -> _Agents:
    reader.ignored("agents", set(doc) - {"ownership", "defaults", "entries", "list"}, "")
    defaults = reader.mapping(doc.get("defaults"), "agents.defaults")
    where = "agents.defaults"
    reader.ignored(where, set(defaults) - _DEFAULTS_KEYS, "set them in templates/openclaw.json.j2")
    result = _Agents(aliases=_aliases(reader, defaults.get("models"), declared))
    names = {alias: ref for ref, alias in result.aliases.items()}
    result.default_chain = _chain(reader, defaults.get("model"), f"{where}.model", names)
    result.image_chain = _chain(reader, defaults.get("imageModel"), f"{where}.imageModel", names)
    result.thinking = _thinking(reader, defaults.get("thinkingDefault"), f"{where}")
    system = defaults.get("systemAgent")
    if isinstance(system, dict) and isinstance(system.get("agentId"), str):
        result.system_agent = system["agentId"]
    result.agents = tuple(
        _agent(reader, agent_id, body, where_, names, result.default_chain)
        for agent_id, body, where_ in _entries(reader, doc)
    )
    _check_model_policy(reader, defaults.get("modelPolicy"), result)
    return result


def _entries(reader: _Reader, doc: Mapping[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(id, body, JSON path) of every agent, from `entries` or the legacy `list`."""
    found = [
        (
            str(agent_id),
            reader.mapping(body, f"agents.entries.{agent_id}"),
            f"agents.entries.{agent_id}",
        )
        for agent_id, body in reader.mapping(doc.get("entries"), "agents.entries").items()
    ]
    listed = doc.get("list")
    for index, body in enumerate(listed if isinstance(listed, list) else []):
        where = f"agents.list[{index}]"
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            found.append((body["id"], body, where))
        else:
            reader.error(where, "an agent needs a string id")
    _check_agent_ids(reader, found)
    return found


def _check_agent_ids(reader: _Reader, found: list[tuple[str, dict[str, Any], str]]) -> None:
    """Each id once (entries and the legacy list together), and one OpenClaw accepts."""
    first: dict[str, str] = {}
    for agent_id, _, where in found:
        if agent_id in first:
            reader.error(
                where,
                f"agent '{agent_id}' is also {first[agent_id]}; an agent id is declared once",
                "hint: keep one of the two (agents.entries, or the legacy agents.list)",
            )
        first.setdefault(agent_id, where)
        if not AGENT_ID_RE.fullmatch(agent_id):
            reader.error(
                where,
                f"agent id '{agent_id}' must match {AGENT_ID_RE.pattern}",
                "hint: OpenClaw's schema rejects it too: rename the agent in lowercase",
            )


def _agent(
    reader: _Reader,
    agent_id: str,
    body: Mapping[str, Any],
    where: str,
    names: Mapping[str, str],
    default_chain: tuple[str, ...],
) -> AdoptedAgent:
    reader.ignored(where, set(body) - _ENTRY_KEYS, "set them in templates/openclaw.json.j2")
    chain = _chain(reader, body.get("model"), f"{where}.model", names) or default_chain
    if not chain:
        reader.error(where, "has no model and agents.defaults.model is not set")
    return AdoptedAgent(
        agent_id,
        chain,
        body["name"] if isinstance(body.get("name"), str) else None,
        body["description"] if isinstance(body.get("description"), str) else None,
        _thinking(reader, body.get("thinkingDefault"), where),
    )


def _aliases(reader: _Reader, models: Any, declared: set[str]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for ref, body in models.items() if isinstance(models, dict) else ():
        where = f"agents.defaults.models.{ref}"
        if not isinstance(body, dict):
            continue
        reader.ignored(where, set(body) - {"alias"}, "set them in templates/openclaw.json.j2")
        alias = body.get("alias")
        if not isinstance(alias, str) or not alias:
            continue
        if alias in aliases.values() or _normal_ref(ref) not in declared:
            why = "a duplicate" if alias in aliases.values() else "not a declared model"
            reader.warn(where, f"alias '{alias}' is not adopted ({why})")
            continue
        aliases[_normal_ref(ref)] = alias
    return aliases


def _chain(reader: _Reader, model: Any, where: str, names: Mapping[str, str]) -> tuple[str, ...]:
    """A model setting as refs, primary first: a string, or {primary, fallbacks}."""
    if model is None:
        return ()
    if isinstance(model, str):
        refs: list[Any] = [model]
    elif isinstance(model, dict) and isinstance(model.get("primary"), str):
        fallbacks = model.get("fallbacks") or []
        refs = [model["primary"], *(fallbacks if isinstance(fallbacks, list) else [None])]
    else:
        reader.error(where, "expected a model ref or {primary, fallbacks}")
        return ()
    if not all(isinstance(ref, str) for ref in refs):
        reader.error(where, "fallbacks must be a list of model refs")
        return ()
    chain = tuple(_normal_ref(names.get(ref, ref)) for ref in refs)
    if len(set(chain)) != len(chain):
        reader.error(where, "names a model twice; a chain holds each model once")
    return chain


def _normal_ref(ref: str) -> str:
    """OpenClaw splits a ref on its first `/` and lowercases the provider part."""
    provider, slash, model_id = ref.partition("/")
    return f"{provider.lower()}{slash}{model_id}"


def _thinking(reader: _Reader, value: Any, where: str) -> str | None:
    if value is None:
        return None
    if value not in THINKING:
        reader.warn(f"{where}.thinkingDefault", f"'{value}' is not a thinking level; not adopted")
        return None
    return str(value)


def _check_model_policy(reader: _Reader, policy: Any, adopted: _Agents) -> None:
    """clawpolicy allows exactly the refs of the chains; say so when the file allowed more."""
    allow = policy.get("allow") if isinstance(policy, dict) else None
    if not isinstance(allow, list):
        return
    used = {ref for agent in adopted.agents for ref in agent.chain}
    used |= {*adopted.default_chain, *adopted.image_chain, *adopted.aliases}
    extra = sorted(str(ref) for ref in allow if _normal_ref(str(ref)) not in used)
    if extra:
        reader.warn(
            "agents.defaults.modelPolicy.allow",
            f"{len(extra)} allowed ref(s) no chain uses are not adopted: {', '.join(extra[:5])}",
            "note: clawpolicy allows exactly the models of the compiled chains",
        )


def _check_refs(reader: _Reader, adopted: _Agents, declared: set[str]) -> None:
    """Every ref of every chain must be a declared model: the catalog knows only those."""
    chains = [(f"agent '{a.id}'", a.chain) for a in adopted.agents]
    chains += [("agents.defaults.model", adopted.default_chain)]
    chains += [("agents.defaults.imageModel", adopted.image_chain)]
    for who, chain in chains:
        for ref in chain:
            if ref in reader.left_out:
                reader.error(
                    who,
                    f"uses the model of {reader.left_out[ref]}, which is left out: its id or "
                    "name looks like a secret (not shown)",
                    "hint: remove the key from the file (and rotate it), or rename the model",
                )
            elif ref not in declared:
                reader.error(
                    who,
                    f"uses '{ref}', which models.providers does not declare",
                    "note: clawpolicy routes only to declared models (it needs their "
                    "capabilities and prices)",
                    "hint: declare the provider (baseUrl, api, models) in the file, then adopt",
                )
