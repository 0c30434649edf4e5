"""Stage 1c: checks over the whole loaded project for configs that would compile silently wrong.
Pure; reports Diagnostics, every run (not only when a lock changes).

* a provider account that no listed catalog offers (PC120, an error: every chain would quietly
  move to another account), and a catalog provider the environment does not declare (PC121);
* a `prefer` / `avoid` glob or a `vendors` name that matches no offer (PC122), with examples of
  real ids and a did-you-mean (a missing vendor prefix, the wrong case, a near miss);
* a tier that nothing uses while a close name is used but undefined (PC123), at its
  definition: a tier renamed in tiers.yaml.
"""

import difflib
import fnmatch
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from ..diagnostics import Diagnostic, error, warning
from .catalog import Offer
from .project import Agent, Constraints, Environment, Tier

EXAMPLES = 3
TIER_FIELDS = ("default_tier", "image_tier", "utility_tier", "pdf_tier")


def check_project(
    tiers: Mapping[str, Tier], agents: Mapping[str, Agent], envs: Mapping[str, Environment]
) -> list[Diagnostic]:
    """Every guardrail finding of a loaded project, errors and warnings."""
    found: list[Diagnostic] = []
    for env in envs.values():
        found += provider_findings(env)
    found += glob_findings(tiers, agents, envs)
    found += unused_tiers(tiers, agents, envs)
    return found


# --------------------------------------------------------------------------- providers


def provider_findings(env: Environment) -> list[Diagnostic]:
    """Declared accounts without offers (PC120) and offered providers nobody declared (PC121)."""
    if not env.catalog_paths:
        return []  # no catalogs: already an error (PC102), or a never-resolved promoted env
    offered = Counter(o.provider for o in env.catalog.offers)
    declared = [p.id for p in env.providers]
    undeclared = sorted(set(offered) - set(declared))
    found = []
    for provider in env.providers:
        if offered[provider.id]:
            continue
        notes = [f"note: its catalogs offer: {_counts(offered) or 'no models at all'}"]
        close = difflib.get_close_matches(provider.id, undeclared, n=1, cutoff=0.3)
        if undeclared:
            notes.append(
                f"hint: the catalogs' provider is '{(close or undeclared)[0]}': name the account "
                f"after it, or import the catalog with --provider {provider.id}"
            )
        make = warning if env.spec.promote_from is not None else error
        found.append(
            make(
                "PC120",
                f"provider '{provider.id}' of environment '{env.name}' has no offers in its "
                "catalogs: no model can be chosen on it",
                provider.span,
                *notes,
            )
        )
    for path in sorted({o.source for o in env.catalog.offers if o.provider in undeclared}):
        names = sorted({o.provider for o in env.catalog.offers if o.source == path} - {*declared})
        found.append(
            warning(
                "PC121",
                f"{path} offers models of provider(s) {', '.join(map(repr, names))}, which "
                f"environment '{env.name}' does not declare: they are never candidates",
                env.spans.get("catalogs", env.span),
                "hint: declare the account under providers:, or list a catalog of the "
                "providers you use",
            )
        )
    return found


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} ({count} offers)" for name, count in sorted(counter.items()))


# --------------------------------------------------------------------------- globs and vendors


@dataclass(frozen=True, slots=True)
class _Scope:
    """A layer and the offers its globs are meant for (every environment's, or one's)."""

    layer: Constraints
    offers: tuple[Offer, ...]
    catalog: str = ""  # whose offers: "" every environment's, else one environment's name


def _scopes(
    tiers: Mapping[str, Tier], agents: Mapping[str, Agent], envs: Mapping[str, Environment]
) -> Iterator[_Scope]:
    everywhere = {
        o.ref: o
        for env in envs.values()
        for o in env.catalog.for_providers(p.id for p in env.providers)
    }
    shared = tuple(everywhere.values())
    for tier in tiers.values():
        yield _Scope(tier.layer, shared)
    for agent in agents.values():
        yield _Scope(agent.layer, shared)
    for env in envs.values():
        own = env.catalog.for_providers(p.id for p in env.providers)
        for layer in (
            *env.tier_overrides.values(),
            *(o.layer for o in env.agent_overrides.values()),
        ):
            yield _Scope(layer, own, env.name)


def glob_findings(
    tiers: Mapping[str, Tier], agents: Mapping[str, Agent], envs: Mapping[str, Environment]
) -> list[Diagnostic]:
    """A prefer/avoid glob or a vendors name of any layer that matches no offer it could meet."""
    found = []
    matched: dict[tuple[str, str], bool] = {}  # (scope.catalog, glob): layers share globs
    vendors: dict[str, list[str]] = {}
    for scope in _scopes(tiers, agents, envs):
        if not scope.offers:
            continue  # no offers at all: the provider checks say why
        spec = scope.layer.spec
        for key in ("prefer", "avoid"):
            for pattern in getattr(spec, key) or ():
                seen = (scope.catalog, pattern)
                if seen not in matched:
                    matched[seen] = any(_matches(pattern, o) for o in scope.offers)
                if not matched[seen]:
                    found.append(_glob_warning(scope, key, pattern))
        if spec.vendors and scope.catalog not in vendors:
            vendors[scope.catalog] = sorted({o.vendor for o in scope.offers})
        for name in spec.vendors or ():
            if name not in vendors[scope.catalog]:
                found.append(_vendor_warning(scope, name, vendors[scope.catalog]))
    return found


def _matches(pattern: str, offer: Offer) -> bool:
    return fnmatch.fnmatchcase(offer.id, pattern) or fnmatch.fnmatchcase(offer.ref, pattern)


def glob_suggestions(pattern: str, offers: Iterable[Offer]) -> list[str]:
    """Globs close to `pattern` that do match: a vendor prefix added, the case fixed, or the
    nearest ids when the text itself is off.

    Example:
        >>> from compiler.load.catalog import Offer
        >>> from datetime import date
        >>> o = Offer("p", "openai/gpt-5-mini", "n", "openai", None, None, ("text",), {}, {},
        ...           None, None, None, False, date(2026, 1, 1))
        >>> glob_suggestions("gpt-5*-mini", [o]), glob_suggestions("OpenAI/*", [o])
        (['openai/gpt-5*-mini'], ['openai/*'])
    """
    items = list(offers)
    tries = [pattern.lower()]
    if "/" not in pattern:
        tries += [f"{vendor}/{pattern}" for vendor in sorted({o.vendor for o in items})]
        tries += [f"{vendor}/{pattern.lower()}" for vendor in sorted({o.vendor for o in items})]
    fixed = [t for t in dict.fromkeys(tries) if t != pattern and any(_matches(t, o) for o in items)]
    if fixed:
        return fixed[:EXAMPLES]
    ids = sorted({o.id for o in items})
    return difflib.get_close_matches(pattern, ids, n=EXAMPLES, cutoff=0.5)


def _examples(pattern: str, offers: tuple[Offer, ...]) -> str:
    ids = sorted({o.id for o in offers})
    close = difflib.get_close_matches(pattern.replace("*", ""), ids, n=EXAMPLES, cutoff=0.0)
    return ", ".join(close or ids[:EXAMPLES])


def _glob_warning(scope: _Scope, key: str, pattern: str) -> Diagnostic:
    notes = [
        "note: globs match the model id (vendor/model) or the full ref (provider/vendor/model), "
        "case-sensitively",
        f"note: ids look like: {_examples(pattern, scope.offers)}",
    ]
    suggestions = glob_suggestions(pattern, scope.offers)
    if suggestions:
        notes.append(f"hint: did you mean {' or '.join(repr(s) for s in suggestions)}?")
    return warning(
        "PC122",
        f"{key} glob '{pattern}' of {scope.layer.origin} matches no offer",
        scope.layer.spans.get(key),
        *notes,
    )


def _vendor_warning(scope: _Scope, name: str, vendors: list[str]) -> Diagnostic:
    close = [v for v in vendors if v.lower() == name.lower()]
    close = close or difflib.get_close_matches(name, vendors, n=1, cutoff=0.5)
    notes = [f"note: vendors offered: {', '.join(vendors)}"]
    if close:
        notes.append(f"hint: did you mean '{close[0]}'?")
    return warning(
        "PC122",
        f"vendors name '{name}' of {scope.layer.origin} matches no offer's vendor",
        scope.layer.spans.get("vendors"),
        *notes,
    )


# --------------------------------------------------------------------------- tiers


def _used_tiers(agents: Mapping[str, Agent], envs: Mapping[str, Environment]) -> set[str]:
    used = {a.spec.tier for a in agents.values() if a.spec.tier}
    for env in envs.values():
        used.update(getattr(env.spec, name) for name in TIER_FIELDS if getattr(env.spec, name))
    return used


def unused_tiers(
    tiers: Mapping[str, Tier], agents: Mapping[str, Agent], envs: Mapping[str, Environment]
) -> list[Diagnostic]:
    """A tier nothing names while a name close to it is used but undefined: the tier was most
    likely renamed in tiers.yaml (the references get PC104; this points at the definition). A
    tier that is merely unused is fine: it still gives chat users a `/model <tier>` alias."""
    used = _used_tiers(agents, envs)
    unknown = sorted(used - set(tiers))
    found = []
    for name, tier in tiers.items():
        close = difflib.get_close_matches(name, unknown, n=1)
        if name in used or not close:
            continue
        users = sum(1 for a in agents.values() if a.spec.tier == close[0])
        found.append(
            warning(
                "PC123",
                f"tier '{name}' is defined but never used",
                tier.span,
                f"note: '{close[0]}' is used ({users} agent(s)) but not defined: was the tier "
                "renamed here?",
                f"hint: rename it back to '{close[0]}', or rename every use",
            )
        )
    return found
