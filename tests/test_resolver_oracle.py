"""The fast resolver against the exhaustive one, on random orgs (tests/support/randomorgs).

The exhaustive path ranks every offer for every merged constraint set (`ranking.rank`, with a
reason string per rejected offer), as the resolver did before issue 9; `explain` still reads it.
The fast path indexes offers once and reads candidates lazily (`resolve.candidates`). They must
agree exactly: chains, costs, locked members kept and replaced (with reasons), tier aliases,
warnings and errors, with and without locks, for promoted environments too; and candidate by
candidate for random ceilings and workload weights (zero, tiny and float-unsafe ones included).

`CLAWPOLICY_ORACLE_EXAMPLES=2000 python -m pytest tests/test_resolver_oracle.py` runs more
examples than CI's default.
"""

import os
import random
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.diagnostics import CompileError
from compiler.load.catalog import Offer
from compiler.load.loader import load_project
from compiler.load.project import Environment, Project
from compiler.resolve.candidates import LazyCandidates
from compiler.resolve.constraints import diversity_key, merge, problems
from compiler.resolve.offerindex import OfferIndex
from compiler.resolve.ranking import rank
from compiler.resolve.resolver import Resolution, resolve
from compiler.resolve.subjects import agent_subject
from tests.conftest import TEMPLATE, write_tree
from tests.support.randomorgs import WEIGHTS, locks, org_files

EXAMPLES = int(os.environ.get("CLAWPOLICY_ORACLE_EXAMPLES", "30"))
ORACLE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


@contextmanager
def _random_project(seed: int) -> Iterator[Project | None]:
    """The org of `seed` in a temporary folder, loaded (None: one the loader refuses)."""
    files = {"templates/openclaw.json.j2": TEMPLATE, **org_files(random.Random(seed))}
    with tempfile.TemporaryDirectory() as where:
        try:
            project = load_project(write_tree(Path(where), files))
        except CompileError:
            project = None
        yield project


def _summary(resolution: Resolution) -> dict[str, Any]:
    chains = {
        key: (r.refs, r.cost, r.kept_from_lock, r.replaced)
        for key, r in [
            *resolution.agents.items(),
            *resolution.defaults.items(),
            *(("@tier:" + name, r) for name, r in resolution.tiers.items()),
        ]
    }
    return {
        "chains": chains,
        "aliases": dict(resolution.aliases),
        "total": resolution.total_cost,
        "warnings": resolution.warnings,
    }


def _outcome(project: Project, env: Environment, exhaustive: bool, **given: Any) -> Any:
    try:
        return _summary(resolve(project, env, exhaustive=exhaustive, **given))
    except CompileError as exc:
        return ("errors", exc.diagnostics)


def _agree(project: Project, env: Environment, **given: Any) -> Any:
    fast = _outcome(project, env, False, **given)
    assert fast == _outcome(project, env, True, **given)
    return fast


@ORACLE
@given(seed=st.integers(0, 2**32 - 1))
def test_fast_resolver_returns_what_the_exhaustive_one_does(seed: int) -> None:
    rng = random.Random(seed ^ 0x5EED)
    with _random_project(seed) as project:
        if project is None:
            return
        chains: dict[str, tuple[str, ...]] = {}
        refs = sorted({o.ref for e in project.environments.values() for o in e.catalog.offers})
        for env in project.environments.values():
            if env.spec.promote_from is not None:
                continue
            first = _agree(project, env)
            if isinstance(first, dict):
                chains = {key: value[0] for key, value in first["chains"].items()}
            _agree(project, env, locked=locks(rng, chains, refs))
        for env in project.environments.values():
            if env.spec.promote_from is not None:
                kept = frozenset(k for k in chains if rng.random() < 0.3)
                _agree(project, env, locked=locks(rng, chains, refs), kept=(kept, {}))


def _weights(rng: random.Random) -> tuple[Decimal, Decimal] | None:
    pair = (Decimal(rng.choice(WEIGHTS)), Decimal(rng.choice(WEIGHTS)))
    return pair if any(pair) else None


@ORACLE
@given(seed=st.integers(0, 2**32 - 1))
def test_lazy_candidates_are_the_ranking_in_order(seed: int) -> None:
    rng = random.Random(seed ^ 0xCAFE)
    with _random_project(seed) as project:
        if project is None:
            return
        for env in project.environments.values():
            offers = env.catalog.for_providers(p.id for p in env.providers)
            index = OfferIndex(offers, env.provider_rank)
            for agent in project.agents.values():
                subject = agent_subject(project, env, agent)
                if subject is None:
                    continue
                merged = merge(subject.layers, subject.extra_requires, _weights(rng))
                ranking = rank(offers, merged, env)
                lazy = LazyCandidates(index, merged, lambda ranked=ranking: ranked)
                assert list(lazy) == list(ranking.candidates)
                assert list(lazy) == list(ranking.candidates)  # read again from the best
                assert lazy.count() == len(ranking.candidates)
                for offer in offers:
                    assert index.passes(offer, merged) == (not problems(offer, merged))
                    assert (lazy.find(offer.ref) is not None) == (offer.ref in ranking.by_ref)
                keys = sorted(ranking.candidates, key=lazy.rank_key)
                assert keys == list(ranking.candidates)
                _check_fresh(rng, lazy, ranking.candidates)


def _check_fresh(rng: random.Random, lazy: LazyCandidates, candidates: Sequence[Offer]) -> None:
    """`fresh` reads the candidates whose diversity key is not taken, in rank order."""
    diversity = rng.choice(("none", "vendor", "provider", "vendor+provider"))
    keys = sorted({diversity_key(o, diversity) for o in candidates})
    taken = set(rng.sample(keys, rng.randrange(0, len(keys) + 1)))
    fresh = [o for o in lazy.fresh(diversity, taken) if diversity_key(o, diversity) not in taken]
    assert fresh == [o for o in candidates if diversity_key(o, diversity) not in taken]
