"""`clawpolicy what-if --without ...`: which agents lose their primary, which fallback serves,
who is left with nothing (exit 1), and the cost of the chains re-resolved without the offers.

The repo (tests.test_gitref.policy_files): agents triage (workload 10/1) and writer (1/1), both
tier fast, chain [p/b/mid, p/a/cheap] in environments dev and prod.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler import whatif
from compiler.diagnostics import CompileError
from tests.test_gitref import policy_files

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
    assert document["stranded"] == [
        {"environment": "prod", "agent": "triage"},
        {"environment": "prod", "agent": "writer"},
    ]
    triage = document["environments"]["prod"]["agents"][0]
    assert triage == {
        "agent": "triage",
        "chain": ["p/b/mid", "p/a/cheap"],
        "lost": ["p/b/mid", "p/a/cheap"],
        "primary_lost": True,
        "serving": None,
        "resolved": [],
        "stranded": True,
        "cost": {"before": 24, "after": None},
    }


def test_nothing_matches_means_no_impact(cli: Cli, root: Path) -> None:
    result = cli("what-if", "--root", str(root), "--without", "vendor:nobody")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "what-if without vendor:nobody: 0 agent(s) affected, 0 left with no model",
        "dev: monthly cost 30.00 -> 30.00; 2 agent(s) unaffected",
        "prod: monthly cost 30.00 -> 30.00; 2 agent(s) unaffected",
    ]


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
    ],
)
def test_user_errors_exit_2(cli: Cli, root: Path, args: tuple[str, ...]) -> None:
    assert cli("what-if", "--root", str(root), *args).exit_code == 2


def test_parse_removals_reports_every_bad_value() -> None:
    with pytest.raises(CompileError) as caught:
        whatif.parse_removals(["x", "vendor:a", "y:z"])
    assert [d.code for d in caught.value.diagnostics] == ["PC103", "PC103"]
