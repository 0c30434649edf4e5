"""`clawpolicy what-if --without ...`: which agents lose their primary, which fallback serves,
who is left with nothing (exit 1), the cost of the chains re-resolved without the offers or why
that re-resolution fails (not exit 1 on its own), and selectors that match nothing (exit 2).

The repo (tests.test_gitref.policy_files): agents triage (workload 10/1) and writer (1/1), both
tier fast, chain [p/b/mid, p/a/cheap] in environments dev and prod.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler.diagnostics import CompileError
from compiler.gitops import whatif
from tests.conftest import catalog_text, offer
from tests.test_gitref import PROVIDER, policy_files

Cli = Callable[..., Any]


@pytest.fixture
def root(make_project: Callable[..., Path]) -> Path:
    return make_project(policy_files())


def what_if(cli: Cli, root: Path, *args: str) -> Any:
    return cli("what-if", "--root", str(root), "--env", "prod", *args)


def test_primary_lost_and_a_fallback_serves(cli: Cli, root: Path) -> None:
    result = what_if(cli, root, "--without", "vendor:b")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "what-if without vendor:b: 2 agent(s) affected, 0 left with no model"
    assert lines[1] == "prod: monthly cost 30.00 -> 15.00 (-15.00); 0 agent(s) unaffected"
    assert lines[2] == (
        "  ~ triage: loses [p/b/mid]; served by p/a/cheap (fallback 1); "
        "re-resolved: [p/a/cheap, p/d/alt]; cost 24.00 -> 12.00 (-12.00)"
    )


def test_an_agent_left_with_nothing_exits_1(cli: Cli, root: Path) -> None:
    result = what_if(cli, root, "--without", "vendor:a", "--without", "model:*mid")
    assert result.exit_code == 1
    assert "2 left with no model" in result.stdout
    assert "  ! triage: loses [p/b/mid, p/a/cheap]; NO MODEL LEFT; re-resolved: [p/d/alt]" in (
        result.stdout
    )


def test_losing_the_only_provider(cli: Cli, root: Path) -> None:
    result = what_if(cli, root, "--without", "provider:p", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["without"] == ["provider:p"]
    assert document["format"] == "clawpolicy-what-if"
    assert document["stranded_agents"] == [
        {"environment": "prod", "agent": "triage"},
        {"environment": "prod", "agent": "writer"},
    ]
    triage = document["environments"]["prod"]["agents"][0]
    assert triage == {
        "agent": "triage",
        "before": {"primary": "p/b/mid", "fallbacks": ["p/a/cheap"], "monthly_cost": 24},
        "after": None,
        "lost": ["p/b/mid", "p/a/cheap"],
        "primary_lost": True,
        "serving": None,
        "stranded": True,
        "resolution_error": {
            "code": "PC201",
            "message": "no catalog offer satisfies agent 'triage' in environment 'prod'",
        },
    }
    assert document["unresolvable_agents"] == document["stranded_agents"]


@pytest.fixture
def pinned_root(make_project: Callable[..., Path]) -> Path:
    files = policy_files()
    files["policies/teams/core.yaml"] = files["policies/teams/core.yaml"].replace(
        "  triage:\n    tier: fast\n", "  triage:\n    tier: fast\n    pin: p/b/mid\n"
    )
    return make_project(files)


def test_a_fallback_serves_while_re_resolution_fails(cli: Cli, pinned_root: Path) -> None:
    result = what_if(cli, pinned_root, "--without", "vendor:b")
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "what-if without vendor:b: 2 agent(s) affected, 0 left with no model, "
        "1 whose re-resolution fails"
    )
    assert lines[2] == (
        "  ~ triage: loses [p/b/mid]; served by p/a/cheap (fallback 1); "
        "re-resolution fails: pin 'p/b/mid' of agent 'triage' is not offered in environment "
        "'prod'; cost 24.00 -> ?"
    )
    document = json.loads(
        what_if(cli, pinned_root, "--without", "vendor:b", "--format", "json").stdout
    )
    triage = document["environments"]["prod"]["agents"][0]
    assert (triage["stranded"], triage["serving"], triage["resolution_error"]["code"]) == (
        False,
        "p/a/cheap",
        "PC202",
    )
    assert document["stranded_agents"] == []
    assert document["unresolvable_agents"] == [{"environment": "prod", "agent": "triage"}]
    markdown = what_if(cli, pinned_root, "--without", "vendor:b", "--format", "markdown").stdout
    assert (
        "| prod | `triage` | `p/b/mid` | served by p/a/cheap (fallback 1) | **re-resolution "
        "fails**: pin 'p/b/mid' of agent 'triage' is not offered in environment 'prod' | "
        "24.00 → ? |" in markdown
    )


def test_no_model_left_exits_1_even_when_re_resolution_fails(cli: Cli, pinned_root: Path) -> None:
    result = what_if(cli, pinned_root, "--without", "model:p/*")
    assert result.exit_code == 1
    assert "2 left with no model, 2 whose re-resolution fails" in result.stdout.splitlines()[0]
    assert "  ! triage: loses [p/b/mid, p/a/cheap]; NO MODEL LEFT; re-resolution fails: pin" in (
        result.stdout
    )


@pytest.mark.parametrize(
    ("selector", "note"),
    [
        pytest.param("vendor:nobody", "note: known vendors: a, b, c, d", id="unknown-vendor"),
        pytest.param("vendor:bb", "hint: did you mean vendor:b?", id="vendor-typo"),
        pytest.param("provider:nobody", "note: known providers: p", id="unknown-provider"),
        pytest.param("model:*nobody*", "note: known providers: p", id="model-glob-no-match"),
    ],
)
def test_a_selector_matching_no_offer_exits_2(
    cli: Cli, root: Path, selector: str, note: str
) -> None:
    result = cli("what-if", "--root", str(root), "--without", "vendor:b", "--without", selector)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        f"error[PC103]: --without '{selector}' matches no offer in environment(s) dev, prod"
        in result.stderr
    )
    assert note in result.stderr
    assert "vendor:b'" not in result.stderr


def test_a_provider_of_another_environment_matches_nothing_here(
    cli: Cli, make_project: Callable[..., Path]
) -> None:
    files = policy_files()
    files["policies/catalogs/q.json"] = catalog_text([offer("q", "a/cheap")])
    files["policies/environments/dev.yaml"] = (
        files["policies/environments/dev.yaml"]
        .replace("catalogs: [catalogs/c.json]", "catalogs: [catalogs/c.json, catalogs/q.json]")
        .replace(PROVIDER, PROVIDER + PROVIDER.replace("p:", "q:").replace("P_KEY", "Q_KEY"))
    )
    root = make_project(files)
    assert cli("what-if", "--root", str(root), "--without", "provider:q").exit_code == 0
    result = what_if(cli, root, "--without", "provider:q")
    assert result.exit_code == 2
    assert "--without 'provider:q' matches no offer in environment(s) prod" in result.stderr
    assert "note: known providers: p" in result.stderr


def test_markdown_table(cli: Cli, root: Path) -> None:
    result = what_if(cli, root, "--without", "vendor:b", "--format", "markdown")
    assert result.exit_code == 0
    assert (
        "| prod | `triage` | `p/b/mid` | served by p/a/cheap (fallback 1) | `p/a/cheap`, `p/d/alt` "
        "| 24.00 → 12.00 (-12.00) |" in result.stdout
    )


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("--without", "color:red"), id="unknown-kind"),
        pytest.param(("--without", "vendor:"), id="empty-value"),
        pytest.param((), id="without-is-required"),
        pytest.param(("--without", "vendor:a", "--env", "nowhere"), id="unknown-env"),
        pytest.param(("--without", "model:[bad"), id="unclosed-bracket-glob"),
    ],
)
def test_user_errors_exit_2(cli: Cli, root: Path, args: tuple[str, ...]) -> None:
    assert cli("what-if", "--root", str(root), *args).exit_code == 2


def test_parse_removals_reports_every_bad_value() -> None:
    with pytest.raises(CompileError) as caught:
        whatif.parse_removals(["x", "vendor:a", "y:z"])
    assert [d.code for d in caught.value.diagnostics] == ["PC103", "PC103"]


@pytest.mark.parametrize(
    ("glob", "valid"),
    [
        pytest.param("*gpt-5*", True, id="star"),
        pytest.param("p/[ab]/*", True, id="class"),
        pytest.param("[!]x]*", True, id="negated-class-with-bracket"),
        pytest.param("a]b", True, id="stray-closing-bracket"),
        pytest.param("[bad", False, id="unclosed"),
        pytest.param("ok[a]/[b", False, id="second-unclosed"),
        pytest.param("[]", False, id="empty-class-is-unclosed"),
    ],
)
def test_parse_removals_rejects_invalid_globs(glob: str, valid: bool) -> None:
    if valid:
        assert whatif.parse_removals([f"model:{glob}"]) == (whatif.Removal("model", glob),)
        return
    with pytest.raises(CompileError) as caught:
        whatif.parse_removals([f"model:{glob}"])
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "PC103"
    assert "invalid glob" in diagnostic.message
