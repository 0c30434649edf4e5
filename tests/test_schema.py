"""`clawpolicy schema` describes the policy files as editors check them (yaml-language-server
uses JSON Schema): the repo's own files are valid, typical mistakes are not."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from compiler.load.schema import policy_schema
from tests.conftest import REPO

POLICY_FILES = sorted((REPO / "policies").rglob("*.yaml"))


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = policy_schema("all")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_repo_policy_files_are_valid(validator: Any, path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [e.message for e in validator.iter_errors(document)] == []


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"version": 1, "tiers": {"t": {"tierr": 1}}}, id="unknown-tier-key"),
        pytest.param({"version": 1, "tiers": {"t": {"min_context": "lots"}}}, id="bad-size"),
        pytest.param({"version": 1, "team": "a", "agents": {"x": {"budget": -1}}},
                     id="negative-budget"),
        pytest.param({"version": 1, "environment": "e", "tiers": {"t": {"nope": 1}}},
                     id="env-override-unknown-key"),
    ],
)  # fmt: skip
def test_mistakes_are_invalid(validator: Any, document: dict[str, Any]) -> None:
    assert list(validator.iter_errors(document))


def test_cli_prints_the_schema(cli: Any) -> None:
    result = cli("schema", "--kind", "team")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "clawpolicy team file"
