"""The JSON Schema editors use (`clawpolicy schema`): a description on every property of every
kind, agent ids and provider ids with their patterns, `api_key` only as `{env: NAME}`; the
example repository's files fit it; and the README's modelines point at it from every folder."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from compiler.load.schema import KINDS, policy_schema
from tests.conftest import REPO


def object_schemas(schema: dict[str, Any], where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema that has properties, with a path to name it."""
    if "properties" in schema:
        yield where or "(root)", schema
    for name, definition in schema.get("$defs", {}).items():
        yield from object_schemas(definition, f"$defs/{name}")


@pytest.mark.parametrize("kind", ["all", *KINDS])
def test_every_property_has_a_description(kind: str) -> None:
    missing = [
        f"{where}.{name}"
        for where, schema in object_schemas(policy_schema(kind))
        for name, prop in schema["properties"].items()
        if not prop.get("description")
    ]
    assert not missing


def validator(kind: str = "all") -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(policy_schema(kind))


TEAM = {"version": 1, "team": "t", "agents": {"support-triage": {"tier": "fast"}}}
ENV = {
    "version": 1,
    "environment": "prod",
    "providers": {"infron": {"base_url": "https://x", "api": "openai-completions"}},
}


@pytest.mark.parametrize(
    ("document", "valid"),
    [
        pytest.param(TEAM, True, id="agent-id"),
        pytest.param({**TEAM, "agents": {"Support": {}}}, False, id="uppercase-agent-id"),
        pytest.param({**TEAM, "agents": {"a b": {}}}, False, id="agent-id-with-space"),
        pytest.param(ENV, True, id="no-api-key"),
        pytest.param(
            {**ENV, "providers": {"infron": {**ENV["providers"]["infron"], "api_key": "sk-x"}}},
            False,
            id="literal-api-key",
        ),
        pytest.param(
            {
                **ENV,
                "providers": {"infron": {**ENV["providers"]["infron"], "api_key": {"env": "K"}}},
            },
            True,
            id="env-api-key",
        ),
        pytest.param(
            {
                **ENV,
                "providers": {"infron": {**ENV["providers"]["infron"], "api_key": {"env": "k"}}},
            },
            False,
            id="lowercase-env-var",
        ),
        pytest.param(
            {**ENV, "providers": {"In Fron": ENV["providers"]["infron"]}}, False, id="pid"
        ),
        pytest.param({**ENV, "system_agent": "Ops"}, False, id="uppercase-system-agent"),
    ],
)
def test_what_the_editor_accepts(document: dict[str, Any], valid: bool) -> None:
    assert validator().is_valid(document) is valid
    kind = "team" if "team" in document else "environment"
    assert validator(kind).is_valid(document) is valid


def policy_files() -> list[Path]:
    return sorted((REPO / "policies").rglob("*.yaml"))


@pytest.mark.parametrize("path", policy_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_the_example_repository_fits_the_schema(path: Path) -> None:
    problems = [e.message for e in validator().iter_errors(yaml.safe_load(path.read_text()))]
    assert not problems


def readme_modelines() -> dict[str, str]:
    """The README's table: policy file (pattern) -> the modeline for it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| `(policies/[^`]+)` \| `# yaml-language-server: \$schema=([^`]+)` \|$", text, re.M
    )
    return dict(rows)


def test_the_readme_modelines_reach_the_schema_from_every_folder(tmp_path: Path) -> None:
    rows = readme_modelines()
    assert set(rows) == {
        "policies/tiers.yaml",
        "policies/teams/<team>.yaml",
        "policies/environments/<env>.yaml",
    }
    schema_file = tmp_path / "clawpolicy.schema.json"
    schema_file.write_text(json.dumps(policy_schema()))
    for documented, relative in rows.items():
        folder = (tmp_path / documented).parent
        assert (folder / relative).resolve() == schema_file.resolve(), documented
