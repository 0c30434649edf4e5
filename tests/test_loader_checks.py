"""Cross-file checks of the loader that a reviewer found missing: each mistake is reported with
its own code at the line that causes it, and nothing compiles past it."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler.diagnostics import CompileError, Severity
from compiler.load.loader import load_project
from tests.conftest import catalog_text, offer
from tests.test_resolver import CATALOG, ENV, TEAM, TIERS, repo_files

Build = Callable[..., Path]


def codes_at(root: Path) -> list[tuple[str, str, int]]:
    with pytest.raises(CompileError) as caught:
        load_project(root)
    return sorted(
        (d.code, d.span.path if d.span else "", d.span.line if d.span else 0)
        for d in caught.value.diagnostics
        if d.severity is Severity.ERROR
    )


def files(**changes: Any) -> dict[str, str]:
    return repo_files([offer("p", "x/m"), offer("q", "x/m")], **changes)


def test_environment_without_agents_is_PC116(make_project: Build) -> None:
    """OpenClaw rejects an empty agents.entries, so this must not compile with exit 0."""
    root = make_project(files(env="teams: [nobody]"))
    assert codes_at(root) == [("PC116", ENV, 7)]


def test_pin_with_a_provider_typo_is_PC115(make_project: Build) -> None:
    project = repo_files([offer("infron", "x/m")], agent="pin: infrom/x/m", providers=("p",))
    project[ENV] = project[ENV].replace(
        "  p: {base_url: https://p.", "  infron: {base_url: https://i."
    )
    assert codes_at(make_project(project)) == [("PC115", TEAM, 6)]


def test_pin_naming_a_provider_of_another_environment_is_fine(make_project: Build) -> None:
    assert load_project(make_project(files(agent="pin: zz/x/m"))).agents["a"].spec.pin


def test_unclosed_glob_is_PC109(make_project: Build) -> None:
    root = make_project(files(tier='prefer: ["[x/m"]'))
    assert codes_at(root) == [("PC109", TIERS, 5)]


def test_promote_from_cycle_is_PC118(make_project: Build) -> None:
    project = files(env="promote_from: f")
    project["policies/environments/f.yaml"] = (
        project[ENV]
        .replace("environment: e", "environment: f")
        .replace("promote_from: f", "promote_from: e")
    )
    assert [c for c, _, _ in codes_at(make_project(project))] == ["PC118", "PC118"]


def test_catalog_listed_twice_or_outside_the_repo(make_project: Build) -> None:
    project = files()
    project[ENV] = project[ENV].replace(
        "catalogs: [catalogs/c.json]", "catalogs: [catalogs/c.json, catalogs/c.json, /etc/hosts]"
    )
    assert codes_at(make_project(project)) == [("PC110", ENV, 3), ("PC111", ENV, 3)]


def test_negative_catalog_price_is_PC110(make_project: Build) -> None:
    project = files()
    project[CATALOG] = catalog_text([offer("p", "x/m", price={"input": -1, "output": 2})])
    assert codes_at(make_project(project)) == [("PC110", ENV, 3)]


def test_name_differing_from_file_name_warns(make_project: Build) -> None:
    project = files()
    project[TEAM] = project[TEAM].replace("team: team", "team: teem")
    project[ENV] = project[ENV].replace("environment: e", "environment: prod")
    warnings = load_project(make_project(project)).warnings
    assert sorted((w.code, w.span.path if w.span else "") for w in warnings) == [
        ("PC117", ENV),
        ("PC117", TEAM),
    ]


def test_catalog_price_variable_still_allowed(make_project: Build) -> None:
    project = files(providers=("p",))
    project[CATALOG] = json.dumps(
        json.loads(
            catalog_text([offer("p", "x/m", price={"input": "variable", "output": "variable"})])
        )
    )
    assert load_project(make_project(project)).environments["e"].catalog.offers


def test_more_agents_than_the_limit_is_PC103(
    make_project: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compiler.load import loader

    monkeypatch.setattr(loader, "MAX_AGENTS", 2)
    agents = "".join(f"  a{i}:\n    tier: t\n" for i in range(3))
    root = make_project(repo_files([offer("p", "x/m")], agents=agents))
    assert codes_at(root) == [("PC103", "policies/teams", 0)]
