"""Property-based tests (hypothesis) over generated catalogs and policies, with an independent
oracle of the resolution rules:

* any generated repository, even one with garbage values, never crashes (exit 0, 1 or 2);
* every emitted chain satisfies its merged constraints (capabilities, context, price ceilings,
  avoid globs, retirement), has distinct members, respects `fallbacks` and `diversity`;
* when some offer satisfies an agent's constraints, that agent is never reported impossible;
* the order of offers, agents, tiers and team files never changes the output.

The profile is fixed and derandomized (the same examples on every run), so CI is reproducible;
EXAMPLES below adds up to the total the suite runs.
"""

import fnmatch
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import api
from compiler.cli.main import main_group
from compiler.diagnostics import CompileError, Diagnostic
from tests.conftest import TEMPLATE

EXAMPLES = {"never_crash": 700, "chains": 550, "satisfiable": 450, "order": 300}
PROFILE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CAPABILITIES = ("tools", "vision", "reasoning")
VENDORS = ("acme", "beta", "gamma")
PROVIDERS = ("p", "q")

# --------------------------------------------------------------------------- strategies

prices = st.one_of(
    st.decimals(min_value=0, max_value=12, places=2, allow_nan=False, allow_infinity=False),
    st.just("variable"),
)
flags = st.sampled_from((True, True, True, False))  # mostly capable: most agents resolve


def _offer(parts: dict[str, Any]) -> dict[str, Any]:
    caps = parts["capabilities"]
    model_id = f"{parts['vendor']}/m{parts['number']}"
    offer = {
        "provider": parts["provider"],
        "id": model_id,
        "name": "m",
        "vendor": parts["vendor"],
        "input": ["text", "image"] if caps.get("vision") else ["text"],
        "capabilities": caps,
        "price": parts["price"],
        "deprecated": parts["deprecated"],
    }
    if parts["context_window"] is not None:
        offer["context_window"] = parts["context_window"]
    return offer


offers = st.fixed_dictionaries(
    {
        "provider": st.sampled_from(PROVIDERS),
        "vendor": st.sampled_from(VENDORS),
        "number": st.integers(0, 4),
        "capabilities": st.fixed_dictionaries({}, optional=dict.fromkeys(CAPABILITIES, flags)),
        "price": st.fixed_dictionaries({"input": prices}, optional={"output": prices}),
        "deprecated": st.sampled_from((False, False, False, True)),
        "context_window": st.sampled_from((8000, 32000, 128000, 200000, None)),
    },
).map(_offer)

constraints = st.fixed_dictionaries(
    {},
    optional={
        "requires": st.lists(st.sampled_from(CAPABILITIES), max_size=1),
        "min_context": st.sampled_from((16000, 32000, 150000)),
        "max_price": st.fixed_dictionaries(
            {},
            optional={
                "input": st.sampled_from((5, 10, 20)),
                "output": st.sampled_from((5, 10, 20)),
            },
        ),
        "avoid": st.lists(st.sampled_from(("*m1", "beta/*", "q/*", "*m4*")), max_size=2),
        "fallbacks": st.integers(0, 3),
        "diversity": st.sampled_from(("vendor", "provider", "none")),
    },
)


@st.composite
def repos(draw: st.DrawFn) -> dict[str, Any]:
    """A repository as data: offers, tiers, agents (by team), providers of the environment."""
    unique_offers = draw(
        st.lists(offers, min_size=3, max_size=9, unique_by=lambda o: (o["provider"], o["id"]))
    )
    tier_names = st.sampled_from(("fast", "smart", "big"))
    tiers = draw(st.dictionaries(tier_names, constraints, min_size=1, max_size=3))
    agent_ids = draw(
        st.lists(st.sampled_from(("a1", "a2", "a3", "a4")), min_size=1, max_size=4, unique=True)
    )
    agents = {
        a: {"tier": draw(st.sampled_from(sorted(tiers))), **draw(constraints)} for a in agent_ids
    }
    teams = {a: draw(st.sampled_from(("t1", "t2"))) for a in agent_ids}
    providers = draw(st.sampled_from((("p", "q"), ("q", "p"), ("p",))))
    return {
        "offers": unique_offers,
        "tiers": tiers,
        "agents": agents,
        "teams": teams,
        "providers": providers,
    }


def files(
    repo: Mapping[str, Any], shuffle: Callable[[list[Any]], list[Any]] = list
) -> dict[str, str]:
    """The repository's files (JSON is YAML 1.2); `shuffle` reorders every ordered input."""
    team_files: dict[str, dict[str, Any]] = {}
    for agent in shuffle(list(repo["agents"])):
        team = repo["teams"][agent]
        team_files.setdefault(team, {"version": 1, "team": team, "agents": {}})["agents"][agent] = (
            repo["agents"][agent]
        )
    env = {
        "version": 1,
        "environment": "e",
        "catalogs": ["catalogs/c.json"],
        "providers": {
            p: {
                "base_url": f"https://{p}.example/v1",
                "api": "openai-completions",
                "api_key": {"env": "K"},
            }
            for p in repo["providers"]
        },
        "default_tier": sorted(repo["tiers"])[0],
    }
    catalog = {
        "format": "clawpolicy-catalog",
        "version": 1,
        "date": "2026-11-20",
        "offers": shuffle([_as_json(o) for o in repo["offers"]]),
    }
    tiers = {name: repo["tiers"][name] for name in shuffle(list(repo["tiers"]))}
    found = {
        "policies/tiers.yaml": json.dumps({"version": 1, "tiers": tiers}),
        "policies/environments/e.yaml": json.dumps(env),
        "policies/catalogs/c.json": json.dumps(catalog),
        "templates/openclaw.json.j2": TEMPLATE,
    }
    for team, body in team_files.items():
        found[f"policies/teams/{team}.yaml"] = json.dumps(body)
    return found


def _as_json(offer: Mapping[str, Any]) -> dict[str, Any]:
    """The offer as snapshot JSON: Decimal prices as numbers with the same digits."""
    price = {k: v if v == "variable" else float(v) for k, v in offer["price"].items()}
    return {**offer, "price": price}


# Examples write their repository to tmpfs where there is one: the disk is most of the time.
SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else None


@contextmanager
def written(texts: Mapping[str, str]) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="clawpolicy-prop-", dir=SCRATCH))
    try:
        for relpath, text in texts.items():
            (root / relpath).parent.mkdir(parents=True, exist_ok=True)
            (root / relpath).write_text(text, encoding="utf-8")
        yield root
    finally:
        shutil.rmtree(root)


def compiled(root: Path) -> tuple[api.CompileResult | None, tuple[Diagnostic, ...]]:
    try:
        result = api.compile_project(api.CompileOptions(root=root, write=False))
    except CompileError as exc:
        return None, exc.diagnostics
    return result, result.warnings


# --------------------------------------------------------------------------- the oracle


def merged(repo: Mapping[str, Any], agent: str) -> dict[str, Any]:
    """The agent's constraints merged over its tier, as the README states the rules."""
    tier, own = repo["tiers"][repo["agents"][agent]["tier"]], repo["agents"][agent]
    layers = (tier, own)
    ceilings = {
        k: min(
            (Decimal(layer["max_price"][k]) for layer in layers if k in layer.get("max_price", {})),
            default=None,
        )
        for k in ("input", "output")
    }
    last = {
        k: next((layer[k] for layer in reversed(layers) if k in layer), None)
        for k in ("fallbacks", "diversity")
    }
    return {
        "requires": {c for layer in layers for c in layer.get("requires", ())},
        "min_context": max(layer.get("min_context", 0) for layer in layers),
        "ceilings": ceilings,
        "avoid": [g for layer in layers for g in layer.get("avoid", ())],
        "fallbacks": 1 if last["fallbacks"] is None else last["fallbacks"],
        "diversity": last["diversity"] or "none",
    }


def satisfies(offer: Mapping[str, Any], rules: Mapping[str, Any]) -> bool:
    ref = f"{offer['provider']}/{offer['id']}"
    if offer["deprecated"] or any(
        fnmatch.fnmatchcase(offer["id"], g) or fnmatch.fnmatchcase(ref, g) for g in rules["avoid"]
    ):
        return False
    if any(offer["capabilities"].get(c) is not True for c in rules["requires"]):
        return False
    if rules["min_context"] and offer.get("context_window", 0) < rules["min_context"]:
        return False
    for key, ceiling in rules["ceilings"].items():
        price = offer["price"].get(key)
        if ceiling is not None and (price in (None, "variable") or Decimal(price) > ceiling):
            return False
    return True


def _member(repo: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    return next(o for o in repo["offers"] if f"{o['provider']}/{o['id']}" == ref)


# --------------------------------------------------------------------------- properties


@settings(PROFILE, max_examples=EXAMPLES["never_crash"])
@given(repos(), st.data())
def test_generated_repositories_never_crash(repo: dict[str, Any], data: st.DataObject) -> None:
    texts = files(repo)
    if data.draw(st.booleans(), label="corrupt"):  # garbage where a value belongs
        name = data.draw(st.sampled_from(sorted(texts)), label="file")
        text = texts[name]
        garbage = data.draw(
            st.one_of(
                st.text(max_size=20),
                st.sampled_from(
                    ("NaN", "1e400", "-1", "[", "{}", "null", "!!int x", "9" * 5000, ".inf")
                ),
            ),
            label="garbage",
        )
        cut = data.draw(st.integers(0, len(text)), label="at")
        texts[name] = text[:cut] + garbage + text[cut:]
    with written(texts) as root:
        result = CliRunner().invoke(main_group, ["compile", "--check", "--root", str(root)])
    assert result.exit_code in (0, 1, 2), result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@settings(PROFILE, max_examples=EXAMPLES["chains"])
@given(repos())
def test_every_emitted_chain_satisfies_its_constraints(repo: dict[str, Any]) -> None:
    with written(files(repo)) as root:
        result, _ = compiled(root)
    if result is None:
        return
    for agent, chain in result.resolutions["e"].agents.items():
        rules = merged(repo, agent)
        refs = chain.refs
        members = [_member(repo, ref) for ref in refs]
        assert len(set(refs)) == len(refs), refs
        assert 1 <= len(refs) <= 1 + rules["fallbacks"], (refs, rules)
        assert all(o["provider"] in repo["providers"] for o in members), refs
        assert all(satisfies(o, rules) for o in members), (agent, refs, rules)
        if rules["diversity"] in ("vendor", "provider"):
            keys = [o["vendor" if rules["diversity"] == "vendor" else "provider"] for o in members]
            assert len(set(keys)) == len(keys), (agent, refs, rules["diversity"])


@settings(PROFILE, max_examples=EXAMPLES["satisfiable"])
@given(repos())
def test_an_agent_with_a_satisfying_offer_is_never_reported_impossible(
    repo: dict[str, Any],
) -> None:
    with written(files(repo)) as root:
        _, found = compiled(root)
    impossible = {d.message for d in found if d.code == "PC201"}
    for agent in repo["agents"]:
        rules = merged(repo, agent)
        offered = [o for o in repo["offers"] if o["provider"] in repo["providers"]]
        if any(satisfies(o, rules) for o in offered):
            assert not any(f"agent '{agent}'" in message for message in impossible), (agent, rules)


@settings(PROFILE, max_examples=EXAMPLES["order"])
@given(repos(), st.randoms(use_true_random=False))
def test_input_order_never_changes_the_output(repo: dict[str, Any], random: Any) -> None:
    def shuffled(items: list[Any]) -> list[Any]:
        random.shuffle(items)
        return items

    outputs = []
    for shuffle in (list, shuffled):
        with written(files(repo, shuffle)) as root:
            result, found = compiled(root)
        if result is None:
            outputs.append(sorted((d.code, d.message) for d in found))
            continue
        texts = {f.relpath: f.text for f in result.files}
        lock = json.loads(texts.pop("rendered/e/clawpolicy.lock.json"))
        lock.pop("inputs")  # the digests of the (reordered) files, not the resolution
        outputs.append([texts, lock])
    assert outputs[0] == outputs[1]


def test_the_profile_adds_up_to_two_thousand_examples() -> None:
    assert sum(EXAMPLES.values()) >= 2000
