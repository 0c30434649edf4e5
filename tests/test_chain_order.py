"""Chain order: fallbacks after the primary are always in the current rank order. The lock keeps
*which* models are chosen while they fit, never an order the policy would not give, so two
histories that end with the same policy, catalog and chosen models render the same bytes."""

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import catalog_text
from tests.test_resolver import CATALOG, chain, compile_repo, o, repo_files

LOCK = "rendered/e/clawpolicy.lock.json"
CONFIG = "rendered/e/openclaw.json"
# price order is rank order (sort: price): one < two < four < three
ONE, TWO, THREE, FOUR = (
    o("p", "v1/one", price=(1, 1)),
    o("p", "v2/two", price=(2, 2)),
    o("p", "v3/three", price=(4, 4)),
    o("p", "v4/four", price=(3, 3)),
)


def _repo(make_project: Callable[..., Path]) -> Path:
    root = make_project(repo_files([ONE, TWO, THREE], tier="fallbacks: 2\ndiversity: vendor"))
    result, diags = compile_repo(root, write=True)
    assert chain(result) == ("p/v1/one", "p/v2/two", "p/v3/three"), diags
    return root


def _retire_two_add_four(root: Path) -> None:
    retired = {**TWO, "deprecated": True}
    (root / CATALOG).write_text(catalog_text([ONE, retired, THREE, FOUR]))


def test_replacement_of_a_locked_fallback_takes_its_rank_not_the_end(
    make_project: Callable[..., Path],
) -> None:
    root = _repo(make_project)
    _retire_two_add_four(root)
    result, diags = compile_repo(root, write=True)
    # three is kept (it still fits) and four replaces two: four ranks above three
    assert chain(result) == ("p/v1/one", "p/v4/four", "p/v3/three")
    assert result is not None
    replaced = result.resolutions["e"].agents["a"].replaced
    assert replaced == (("p/v2/two", "deprecated"),)
    assert [d.code for d in diags if "agent 'a'" in d.message] == ["PC207"]


def test_same_chosen_models_in_any_lock_order_render_the_same_bytes(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    first = _repo(make_project)
    _retire_two_add_four(first)
    compile_repo(first, write=True)
    # a second history: the lock lists the same models in another order (as an older clawpolicy
    # that appended replacements wrote it)
    second = make_project({}, root=tmp_path / "second")
    for relpath in (CATALOG, "policies/tiers.yaml", "policies/teams/team.yaml"):
        (second / relpath).parent.mkdir(parents=True, exist_ok=True)
        (second / relpath).write_bytes((first / relpath).read_bytes())
    env_file = "policies/environments/e.yaml"
    (second / env_file).parent.mkdir(parents=True, exist_ok=True)
    (second / env_file).write_bytes((first / env_file).read_bytes())
    lock = json.loads((first / LOCK).read_text())
    lock["agents"]["a"]["fallbacks"].reverse()
    (second / LOCK).parent.mkdir(parents=True)
    (second / LOCK).write_text(json.dumps(lock, indent=2) + "\n")
    compile_repo(second, write=True)
    assert (second / CONFIG).read_bytes() == (first / CONFIG).read_bytes()
    assert (second / LOCK).read_bytes() == (first / LOCK).read_bytes()


def test_stability_keeps_which_models_even_when_a_better_one_appears(
    make_project: Callable[..., Path],
) -> None:
    root = _repo(make_project)
    cheaper = o("p", "v5/cheaper", price=(1.5, 1.5))  # would rank second without the lock
    (root / CATALOG).write_text(catalog_text([ONE, TWO, THREE, cheaper]))
    result, _ = compile_repo(root)
    assert chain(result) == ("p/v1/one", "p/v2/two", "p/v3/three")


def test_kept_fallbacks_are_chosen_best_ranked_first_when_fewer_are_asked_for(
    make_project: Callable[..., Path],
) -> None:
    root = _repo(make_project)
    tiers = root / "policies/tiers.yaml"
    tiers.write_text(tiers.read_text().replace("fallbacks: 2", "fallbacks: 1"))
    lock = json.loads((root / LOCK).read_text())
    lock["agents"]["a"]["fallbacks"] = ["p/v3/three", "p/v2/two"]  # worse one listed first
    (root / LOCK).write_text(json.dumps(lock, indent=2) + "\n")
    result, _ = compile_repo(root)
    assert chain(result) == ("p/v1/one", "p/v2/two")
