"""Shared fixtures: a project builder over tmp_path, the golden-update switch, the CLI runner,
and the real OpenClaw validator (tests.support.openclaw_fixture)."""

import json
import os
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest_plugins = ["tests.support.openclaw_fixture"]

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/cases/*/expected from the actual output",
    )


@pytest.fixture(autouse=True)
def compile_records(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test keeps its compile records (compiler.output.incremental) in a folder of its
    own, never in the user's cache."""
    folder = tmp_path_factory.mktemp("records")
    monkeypatch.setenv("CLAWPOLICY_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def offer(provider: str, model_id: str, **fields: Any) -> dict[str, Any]:
    """A catalog offer dict for tests; vision/audio/video capabilities set `input` to match."""
    caps = dict(fields.pop("capabilities", {"tools": True}))
    inputs = ["text"] + [
        m
        for c, m in (("vision", "image"), ("audio", "audio"), ("video", "video"))
        if caps.get(c) is True
    ]
    body = {
        "provider": provider,
        "id": model_id,
        "name": fields.pop("name", model_id),
        "vendor": fields.pop("vendor", model_id.split("/", maxsplit=1)[0]),
        "context_window": fields.pop("context_window", 128000),
        "max_output": fields.pop("max_output", 16000),
        "input": inputs,
        "capabilities": caps,
        "price": fields.pop("price", {"input": 1, "output": 2}),
    }
    body.update(fields)
    return body


def catalog_text(offers: list[dict[str, Any]], date: str = "2026-11-20") -> str:
    return (
        json.dumps(
            {"format": "clawpolicy-catalog", "version": 1, "date": date, "offers": offers}, indent=2
        )
        + "\n"
    )


TEMPLATE = """{
  "gateway": {"mode": "local"},
  "models": {{ models | tojson }},
  "agents": {{ agents | tojson }}
}
"""


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            textwrap.dedent(text) if relpath.endswith((".yaml", ".yml")) else text, encoding="utf-8"
        )
    return root


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Build a policy repo in tmp_path from {relpath: text}; adds a template unless given."""

    def build(files: Mapping[str, str], root: Path | None = None) -> Path:
        target = root or tmp_path / "repo"
        merged = {"templates/openclaw.json.j2": TEMPLATE, **files}
        return write_tree(target, merged)

    return build


@pytest.fixture
def cli() -> Callable[..., Any]:
    """Run the CLI in-process: cli(args...) -> click Result (stdout and stderr kept apart)."""
    from compiler.cli.main import main_group

    runner = CliRunner()

    def run(*args: str, env: Mapping[str, str] | None = None) -> Any:
        return runner.invoke(main_group, list(args), env=dict(env or {}), catch_exceptions=False)

    return run


def in_ci() -> bool:
    return os.environ.get("CI") == "true"
