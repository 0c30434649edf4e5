"""Random policy repositories for property tests: small catalogs full of ties and edge cases
(equal prices across providers, unknown and variable prices, unknown capabilities, retired and
fresh offers, month-only release dates) and orgs that use every constraint key on every layer.

`org_files(rng)` returns {relpath: text} for `conftest.write_tree`; `locks(rng, ...)` random
locked chains (kept members, stale refs, refs of other providers) to resolve against.
"""

import json
import random
import re
from collections.abc import Sequence
from typing import Any

PROVIDERS = ("p", "q", "r")
VENDORS = ("v1", "v2", "v3", "v4", "v5")
CAPABILITIES = ("tools", "vision", "reasoning", "json", "pdf")
PRICES = ("0", "0.1", "0.25", "0.5", "1", "1.5", "2", "3", "3.75", "5", "8", "15")
CONTEXTS = (None, 8000, 32000, 128000, 200000, 1000000)
GLOBS = ("v1/*", "v2/*", "*m1*", "*m2*", "*:free", "p/*", "q/*", "v3/m*", "*")
WEIGHTS = ("0", "0.5", "1", "2", "3", "10", "0.01", "1e-120")
DATE = "2026-11-20"


def _maybe(rng: random.Random, share: float, value: Any) -> Any:
    return value if rng.random() < share else None


def _price(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.12:
        return "variable"
    if roll < 0.14:  # beyond the float-safe range of the price walk
        return rng.choice((1e-150, 2e150))
    return float(rng.choice(PRICES))


def _offer(rng: random.Random, provider: str, model_id: str, vendor: str) -> dict[str, Any]:
    caps = {c: rng.choice((True, True, True, True, False, None)) for c in CAPABILITIES}
    caps = {c: flag for c, flag in caps.items() if flag is not None}
    media = (("vision", "image"),)
    body: dict[str, Any] = {
        "provider": provider,
        "id": model_id,
        "name": model_id,
        "vendor": vendor,
        "input": ["text"] + [m for c, m in media if caps.get(c) is True],
        "capabilities": caps,
        "price": {k: v for k in ("input", "output") if (v := _price(rng)) is not None},
    }
    context = rng.choice(CONTEXTS)
    if context is not None:
        body["context_window"] = context
    release = rng.choice((None, "2026-11-18", "2026-11", "2026-10-01", "2026-06-30", "2025-01"))
    if release is not None:
        body["release_date"] = release
    roll = rng.random()
    if roll < 0.05:
        body["deprecated"] = True
    elif roll < 0.10:
        body["deprecation_date"] = rng.choice(("2026-11-01", "2026-12-01"))
    elif roll < 0.13:
        body["expiry_date"] = rng.choice(("2026-11-20", "2027-01-01"))
    elif roll < 0.15:
        body["moving_alias"] = True
    return body


def catalog(rng: random.Random, providers: Sequence[str]) -> list[dict[str, Any]]:
    """Offers on `providers`; a model is often served by several of them at the same price."""
    offers = []
    for number in range(rng.randrange(10, 50)):
        vendor = rng.choice(VENDORS)
        model_id = f"{vendor}/m{number}" + (":free" if rng.random() < 0.1 else "")
        first = _offer(rng, providers[0], model_id, vendor)
        for provider in rng.sample(list(providers), rng.randrange(1, len(providers) + 1)):
            same = {**first, "provider": provider} if rng.random() < 0.6 else None
            offers.append(same or _offer(rng, provider, model_id, vendor))
    for provider in providers:  # every account offers something (PC120 otherwise)
        offers.append(_offer(rng, provider, f"v1/base-{provider}", "v1"))
    unique = {(o["provider"], o["id"]): o for o in offers}
    return list(unique.values())


def _flow(mapping: dict[str, Any]) -> str:
    """One line of YAML (JSON, with exponents written `1.0e-120`, which YAML reads as floats)."""
    return re.sub(r"(?<=[\s\[])(\d+)e([+-]\d+)", r"\1.0e\2", json.dumps(mapping))


def constraints(rng: random.Random, strictness: float) -> dict[str, Any]:
    """Random constraint keys; `strictness` is how likely each key is set."""
    found: dict[str, Any] = {}
    if rng.random() < strictness:
        found["requires"] = rng.sample(CAPABILITIES, rng.randrange(0, 2))
    if rng.random() < strictness / 3:
        found["requires"] = ["tools", "json"]
    if rng.random() < strictness / 2:
        found["min_context"] = rng.choice((0, 16000, 100000, 150000))
    if rng.random() < strictness:
        ceiling = {"input": float(rng.choice(PRICES[4:])), "output": float(rng.choice(PRICES[4:]))}
        found["max_price"] = {k: v for k, v in ceiling.items() if rng.random() < 0.7}
    if rng.random() < strictness:
        found["prefer"] = rng.sample(GLOBS, rng.randrange(1, 3))
    if rng.random() < strictness / 2:
        found["avoid"] = rng.sample(GLOBS[:-1], 1)
    if rng.random() < strictness:
        found["sort"] = rng.choice(("price", "context", "newest"))
    if rng.random() < strictness:
        found["fallbacks"] = rng.randrange(0, 4)
    if rng.random() < strictness:
        found["diversity"] = rng.choice(("none", "vendor", "provider", "vendor+provider"))
    if rng.random() < strictness / 4:
        found["vendors"] = rng.sample(VENDORS, rng.randrange(2, 5))
    if rng.random() < strictness / 3:
        found["min_age_days"] = rng.choice((0, 1, 14, 60))
    return found


def _agent(rng: random.Random, tiers: Sequence[str], refs: Sequence[str]) -> dict[str, Any]:
    body = {"tier": rng.choice(tiers), **constraints(rng, 0.2)}
    if rng.random() < 0.5:
        body["workload"] = {
            "input_mtok": float(rng.choice(WEIGHTS)),
            "output_mtok": float(rng.choice(WEIGHTS)),
        }
        if rng.random() < 0.4:
            body["budget"] = float(rng.choice(("2", "10", "40", "1000", "100000")))
    if rng.random() < 0.02:
        body["pin"] = rng.choice([*refs, "p/v9/nothing", refs[0].split("/", 1)[1]])
    return body


def org_files(rng: random.Random) -> dict[str, str]:
    """A repository: 1-3 tiers, 4-20 agents, environments `a` (and `b`) resolving, maybe `z`
    promoting from `a`; one catalog per environment."""
    tiers = [f"t{n}" for n in range(rng.randrange(1, 4))]
    files = {
        "policies/tiers.yaml": "version: 1\ntiers:\n"
        + "".join(f"  {t}: {_flow(constraints(rng, 0.5))}\n" for t in tiers),
    }
    envs = ["a", "b"][: rng.randrange(1, 3)]
    refs: list[str] = []
    for env in envs:
        providers = rng.sample(PROVIDERS, rng.randrange(1, 4))
        offers = catalog(rng, providers)
        refs += [f"{o['provider']}/{o['id']}" for o in offers]
        files[f"policies/catalogs/{env}.json"] = json.dumps(
            {"format": "clawpolicy-catalog", "version": 1, "date": DATE, "offers": offers}
        )
        files[f"policies/environments/{env}.yaml"] = _environment(rng, env, providers, tiers)
    agents = {f"agent{n}": _agent(rng, tiers, refs) for n in range(rng.randrange(4, 20))}
    for env in envs:
        overrides = {
            agent: {**constraints(rng, 0.2), **_override_extras(rng, refs, agents[agent])}
            for agent in rng.sample(sorted(agents), rng.randrange(0, 3))
        }
        if overrides:
            files[f"policies/environments/{env}.yaml"] += f"agents: {_flow(overrides)}\n"
    files["policies/teams/team.yaml"] = "version: 1\nteam: team\nagents:\n" + "".join(
        f"  {name}: {_flow(body)}\n" for name, body in agents.items()
    )
    if rng.random() < 0.4:
        providers = sorted({ref.split("/", 1)[0] for ref in refs})
        files["policies/environments/z.yaml"] = (
            "version: 1\nenvironment: z\npromote_from: a\nproviders:\n" + _accounts(providers)
        )
    return files


def _override_extras(
    rng: random.Random, refs: Sequence[str], agent: dict[str, Any]
) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if rng.random() < 0.05:
        extras["pin"] = rng.choice(refs)
    if "workload" in agent and rng.random() < 0.2:
        extras["budget"] = float(rng.choice(("1", "100")))
    return extras


def _accounts(providers: Sequence[str]) -> str:
    return "".join(
        f"  {p}: {{base_url: 'https://{p}.example/v1', api: openai-completions, "
        f"api_key: {{env: {p.upper()}_KEY}}}}\n"
        for p in providers
    )


def _environment(
    rng: random.Random, name: str, providers: Sequence[str], tiers: Sequence[str]
) -> str:
    lines = [
        "version: 1",
        f"environment: {name}",
        f"catalogs: [catalogs/{name}.json]",
        f"default_tier: {tiers[0]}",
        "providers:",
    ]
    text = "\n".join(lines) + "\n" + _accounts(providers)
    if rng.random() < 0.5:
        text += f"image_tier: {rng.choice(tiers)}\n"
    if rng.random() < 0.3:
        text += f"utility_tier: {rng.choice(tiers)}\npdf_tier: {rng.choice(tiers)}\n"
    if rng.random() < 0.5:
        text += f"tiers: {_flow({rng.choice(tiers): constraints(rng, 0.3)})}\n"
    return text


def locks(
    rng: random.Random, chains: dict[str, tuple[str, ...]], refs: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """Locked chains: each chain's members, some dropped, shuffled or replaced by random refs
    (refs that no longer fit, or that no environment offers)."""
    found = {}
    for key, chain in chains.items():
        if rng.random() < 0.2:
            continue
        members = [ref for ref in chain if rng.random() < 0.7]
        members += rng.sample(list(refs), min(len(refs), rng.randrange(0, 3)))
        if rng.random() < 0.1:
            members.append("p/v9/gone")
        rng.shuffle(members)
        if members:
            found[key] = tuple(dict.fromkeys(members))
    return found
