"""Lock files: the resolution of one environment, kept for pip-tools-like stability. Pure.

`rendered/<env>/clawpolicy.lock.json` records the chosen chain of every agent, the default and
image models and each tier alias, plus a sha256 of every input. On the next compile each locked
choice is kept while it still satisfies the policy; `compile --upgrade [AGENT]...` drops it.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import jsontext
from ..diagnostics import CompileError, Span, error
from ..load.catalog import json_ready
from ..resolve.resolver import DEFAULT_KEY, IMAGE_KEY, TIER_KEY_PREFIX, ChainResult, Resolution

LOCK_VERSION = 1


@dataclass(frozen=True, slots=True)
class Lock:
    environment: str
    chains: Mapping[str, tuple[str, ...]]  # subject key -> refs, primary first
    costs: Mapping[str, str]  # agent id -> estimated monthly cost of the primary (decimal text)
    inputs: Mapping[str, str]  # repo-relative input path -> sha256


EMPTY = Lock("", {}, {}, {})


def _chain(result: ChainResult) -> dict[str, Any]:
    body: dict[str, Any] = {"primary": result.refs[0], "fallbacks": list(result.refs[1:])}
    if result.cost is not None:
        body["monthly_cost"] = result.cost.quantize(result.cost.__class__("0.01"))
    return body


def build(resolution: Resolution, inputs: Mapping[str, str]) -> dict[str, Any]:
    """The lock document for one environment."""
    defaults = {}
    if resolution.default_model is not None:
        defaults["model"] = _chain(resolution.default_model)
    if resolution.image_model is not None:
        defaults["imageModel"] = _chain(resolution.image_model)
    return {
        "version": LOCK_VERSION,
        "environment": resolution.environment.name,
        "inputs": dict(sorted(inputs.items())),
        "defaults": defaults,
        "tiers": {name: _chain(result) for name, result in resolution.tiers.items()},
        "agents": {agent_id: _chain(result) for agent_id, result in resolution.agents.items()},
    }


def serialize(document: Mapping[str, Any]) -> str:
    return jsontext.dumps(json_ready(document))


def _refs(body: Any) -> tuple[str, ...]:
    primary = body["primary"]
    fallbacks = body.get("fallbacks", [])
    if not isinstance(primary, str) or not all(isinstance(f, str) for f in fallbacks):
        raise TypeError("refs must be strings")
    return (primary, *fallbacks)


def parse(text: str, path: str) -> Lock:
    """Read a lock file.

    Raises:
        CompileError: PC110 when the file is not a lock this version understands.
    """
    try:
        doc = json.loads(text)
        if doc.get("version") != LOCK_VERSION:
            raise ValueError(f"unsupported lock version {doc.get('version')!r}")
        chains: dict[str, tuple[str, ...]] = {}
        costs: dict[str, str] = {}
        for key, name in (("model", DEFAULT_KEY), ("imageModel", IMAGE_KEY)):
            if key in doc.get("defaults", {}):
                chains[name] = _refs(doc["defaults"][key])
        for tier, body in doc.get("tiers", {}).items():
            chains[TIER_KEY_PREFIX + tier] = _refs(body)
        for agent_id, body in doc.get("agents", {}).items():
            chains[agent_id] = _refs(body)
            if "monthly_cost" in body:
                costs[agent_id] = str(body["monthly_cost"])
        inputs = {str(k): str(v) for k, v in doc.get("inputs", {}).items()}
        return Lock(str(doc.get("environment", "")), chains, costs, inputs)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise CompileError(
            (
                error(
                    "PC110",
                    f"lock file is not valid: {exc}",
                    Span(path),
                    "hint: delete it and run clawpolicy compile --upgrade to re-resolve",
                ),
            )
        ) from None
