"""The compile-time check against OpenClaw's own JSON Schema (compiler/output/openclawschema.py,
compiler/output/schemacheck.py): the vendored schemas are what the real packages print, every
output is checked against its environment's `openclaw_version`, errors name the JSON path and
whoever wrote the value, and the check agrees with the real validators."""

import gzip
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from compiler import OPENCLAW_VERSION, OPENCLAW_VERSIONS
from compiler.api import CompileOptions, compile_project
from compiler.diagnostics import CODES, CompileError, Diagnostic
from compiler.output import openclawschema
from compiler.output.schemacheck import SchemaProblem, problems
from tests.conftest import REPO, TEMPLATE
from tests.support.openclaw import Validator
from tests.test_openclaw_examples import EXAMPLES
from tests.test_renderer import FILES, TEMPLATE_PATH

ENV_PATH = "policies/environments/e.yaml"


def env_file(*lines: str, api: str = "openai-completions") -> dict[str, str]:
    """The test repo with provider p's `api` replaced and `lines` added to its environment."""
    text = FILES[ENV_PATH].replace("api: openai-completions", f"api: {api}")
    text = text.rstrip(" ") + "".join(f"        {line}\n" for line in lines)
    return {**FILES, ENV_PATH: text}


def compile_errors(root: Path) -> list[Diagnostic]:
    with pytest.raises(CompileError) as caught:
        compile_project(CompileOptions(root=root, write=False))
    return list(caught.value.diagnostics)


def with_template(**replacements: str) -> dict[str, str]:
    template = TEMPLATE
    for old, new in replacements.items():
        assert old in template
        template = template.replace(old, new)
    return {**FILES, TEMPLATE_PATH: template}


def minimal_config(**extra: Any) -> dict[str, Any]:
    return {"gateway": {"mode": "local"}, **extra}


# ----------------------------------------------------------------------- the vendored schemas


def test_every_supported_version_has_a_vendored_schema() -> None:
    vendored = sorted(p.name for p in openclawschema.SCHEMA_DIR.glob("*.schema.json.gz"))
    assert vendored == sorted(f"openclaw-{v}.schema.json.gz" for v in OPENCLAW_VERSIONS)
    assert OPENCLAW_VERSION in OPENCLAW_VERSIONS


@pytest.mark.openclaw
@pytest.mark.parametrize("version", OPENCLAW_VERSIONS)
def test_vendored_schema_is_what_the_real_package_prints(
    version: str, openclaw_validators: Mapping[str, Validator], update_goldens: bool
) -> None:
    printed = openclaw_validators[version].config_schema().encode("utf-8")
    path = openclawschema.schema_path(version)
    if update_goldens:
        path.write_bytes(gzip.compress(printed, compresslevel=9, mtime=0))
    assert json.loads(printed)["title"] == "OpenClawConfig"
    assert gzip.decompress(path.read_bytes()) == printed, (
        f"{path.name} differs from `openclaw config schema` of {version}; "
        "rewrite it with: python -m pytest tests/test_openclawschema.py --update-goldens"
    )


def iter_patterns(schema: Any) -> Any:
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            yield schema["pattern"]
        yield from schema.get("patternProperties", {})
        for value in schema.values():
            yield from iter_patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from iter_patterns(value)


@pytest.mark.parametrize("version", OPENCLAW_VERSIONS)
def test_every_pattern_of_the_repaired_schema_is_a_python_regex(version: str) -> None:
    patterns = set(iter_patterns(openclawschema.load_schema(version)))
    assert len(patterns) > 20
    for pattern in patterns:
        re.compile(pattern)  # raises for an ECMAScript-only class such as \p{Cs}


# ----------------------------------------------------------------------- what the check finds


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param(minimal_config(), [], id="valid"),
        pytest.param(
            {"gateway": {"mode": "lokal"}},
            [SchemaProblem(("gateway", "mode"), 'must be one of "local", "remote"; got "lokal"')],
            id="enum-as-anyOf-of-consts",
        ),
        pytest.param(
            minimal_config(gatewy={}),
            [SchemaProblem(("gatewy",), "unknown key", ("hint: did you mean 'gateway'?",))],
            id="unknown-key-with-did-you-mean",
        ),
        pytest.param(
            minimal_config(agents={"defaults": {"thinkingDefault": "extreme"}}),
            [
                SchemaProblem(
                    ("agents", "defaults", "thinkingDefault"),
                    'must be one of "off", "minimal", "low", "medium", "high", "xhigh", '
                    '"adaptive", "max", "ultra"; got "extreme"',
                )
            ],
            id="enum",
        ),
        pytest.param(
            minimal_config(agents={"defaults": {"model": {"primary": 5}}}),
            [
                SchemaProblem(
                    ("agents", "defaults", "model", "primary"), "expected string, got number 5"
                )
            ],
            id="union-reports-the-branch-that-got-furthest",
        ),
        pytest.param(
            minimal_config(
                plugins={"entries": {"webhooks": {"config": {"routes": {"r": {"secret": "s"}}}}}}
            ),
            [
                SchemaProblem(
                    ("plugins", "entries", "webhooks", "config", "routes", "r", "sessionKey"),
                    "missing required key",
                )
            ],
            id="embedded-defs-resolve-inside-their-schema",
        ),
        pytest.param(
            minimal_config(channels={"feishu": {"stickerSets": {" lead": {"happy": ["a"]}}}}),
            [
                SchemaProblem(
                    ("channels", "feishu", "stickerSets", " lead"),
                    r"key does not match ^(?!\s)(?![\s\S]*\s$)[^\ud800-\udfff]{1,128}$",
                )
            ],
            id="ecmascript-unicode-class-pattern",
        ),
    ],
)
def test_problems(config: dict[str, Any], expected: list[SchemaProblem]) -> None:
    assert problems(config, OPENCLAW_VERSION) == expected


def test_secret_refs_inside_embedded_defs_are_checked_too() -> None:
    route = {"sessionKey": "k", "secret": {"source": "vault", "provider": "default", "id": "X"}}
    config = minimal_config(plugins={"entries": {"webhooks": {"config": {"routes": {"r": route}}}}})
    [problem] = problems(config, OPENCLAW_VERSION)
    assert problem.path[-2:] == ("secret", "source")
    route["secret"] = {"source": "env", "provider": "default", "id": "X"}
    assert problems(config, OPENCLAW_VERSION) == []


def test_pi_messages_api_is_new_in_2026_9_6() -> None:
    config = minimal_config(
        models={"providers": {"p": {"baseUrl": "https://x", "api": "pi-messages", "models": []}}}
    )
    assert problems(config, "2026.9.6") == []
    [problem] = problems(config, "2026.8.1")
    assert problem.path == ("models", "providers", "p", "api")


def test_each_distinct_agent_entry_is_checked_once_but_reported_at_every_agent() -> None:
    bad = {"model": {"primary": "p/m", "fallbacks": "p/n"}}
    entries = {"a": bad, "b": dict(bad), "Upper": {"model": "p/m"}, "ok": {"model": "p/m"}}
    config = minimal_config(agents={"entries": entries})
    found = problems(config, OPENCLAW_VERSION)
    assert [p.path for p in found] == [
        ("agents", "entries", "Upper"),
        ("agents", "entries", "a", "model", "fallbacks"),
        ("agents", "entries", "b", "model", "fallbacks"),
    ]
    # the same verdict as plain jsonschema over the whole schema and document
    whole = jsonschema.Draft7Validator(openclawschema.load_schema(OPENCLAW_VERSION))
    assert sorted(str(list(e.absolute_path)[:3]) for e in whole.iter_errors(config)) == [
        "['agents', 'entries', 'a']",
        "['agents', 'entries', 'b']",
        "['agents', 'entries']",  # jsonschema reports a bad key at its object
    ]


def test_validators_are_built_once_per_version() -> None:
    assert openclawschema.validators("2026.8.1") is openclawschema.validators("2026.8.1")
    assert openclawschema.validators("2026.8.1") is not openclawschema.validators("2026.9.6")


# ----------------------------------------------------------------------- in a compile


def test_template_value_openclaw_rejects_is_an_error_at_the_template_line(
    make_project: Callable[..., Path],
) -> None:
    root = make_project(with_template(**{'"mode": "local"': '"mode": "lokal"'}))
    [diag] = compile_errors(root)
    assert diag.code == "PC306"
    assert (diag.span.path, diag.span.line) == (TEMPLATE_PATH, 2)
    assert diag.message == 'gateway.mode: must be one of "local", "remote"; got "lokal"'
    assert f"OpenClaw {OPENCLAW_VERSION} rejects it" in diag.notes[0]


def test_template_error_exits_2_and_writes_nothing(
    make_project: Callable[..., Path], cli: Callable[..., Any]
) -> None:
    root = make_project(with_template(**{'"mode": "local"': '"mode": "lokal"'}))
    result = cli("compile", "--root", str(root), env={"NO_COLOR": "1"})
    assert result.exit_code == 2
    assert "error[PC306]: gateway.mode:" in result.stderr
    assert not (root / "rendered").exists()


def test_model_layer_value_is_reported_at_the_provider_that_set_it(
    make_project: Callable[..., Path],
) -> None:
    root = make_project(env_file("openclaw_version: 2026.8.1", api="pi-messages"))
    [diag] = compile_errors(root)
    assert diag.code == "PC306"
    assert diag.message.startswith("models.providers.p.api: must be one of")
    lines = (root / ENV_PATH).read_text().splitlines()
    provider_line = next(n for n, text in enumerate(lines, 1) if text.startswith("  p:"))
    assert (diag.span.path, diag.span.line) == (ENV_PATH, provider_line)
    assert f"note: the compiler built this value from {ENV_PATH}" in diag.notes


def test_the_same_repo_targets_the_newer_version_without_error(
    make_project: Callable[..., Path],
) -> None:
    root = make_project(env_file("openclaw_version: 2026.9.6", api="pi-messages"))
    assert compile_project(CompileOptions(root=root, write=False)).files


@pytest.mark.parametrize(
    ("value", "line"),
    [
        pytest.param("2026.7.35", "openclaw_version: 2026.7.35", id="older"),
        pytest.param("2026.9", "openclaw_version: '2026.9'", id="partial"),
    ],
)
def test_unsupported_openclaw_version_lists_both(
    make_project: Callable[..., Path], value: str, line: str
) -> None:
    [diag] = compile_errors(make_project(env_file(line)))
    assert (diag.code, diag.span.path) == ("PC103", ENV_PATH)
    assert diag.message == f"openclaw_version '{value}' is not supported"
    assert diag.notes == ("note: supported versions: 2026.8.1, 2026.9.6 (default 2026.9.6)",)


def test_pc306_is_in_the_code_table() -> None:
    assert "PC306" in CODES


def test_example_repo_outputs_pass_the_schema() -> None:
    for path in sorted((REPO / "rendered").glob("*/openclaw.json")):
        assert problems(json.loads(path.read_text()), OPENCLAW_VERSION) == [], path


# ----------------------------------------------------------------------- against the real thing

# The committed reference examples (each Node run costs most of a second): valid, rejected for
# types and enums, and one of each kind of file where the exported JSON Schema and `openclaw
# config validate` disagree by design (reference/openclaw.md §3.5): a rule only the CLI enforces
# (a roster's ownership), and a legacy form the schema rejects but the CLI migrates (agents.list).
AGREED = ("good-entries.json", "bad-combined.json")
CLI_ONLY_REJECTS = ("bad-multiagent-no-ownership.json",)
SCHEMA_ONLY_REJECTS = ("good-list.json",)


@pytest.mark.openclaw
@pytest.mark.parametrize("version", OPENCLAW_VERSIONS)
def test_the_check_agrees_with_the_real_validator_on_the_reference_examples(
    version: str, openclaw_validators: Mapping[str, Validator]
) -> None:
    files = [EXAMPLES / name for name in (*AGREED, *CLI_ONLY_REJECTS, *SCHEMA_ONLY_REJECTS)]
    real = {r.path.name: r.valid for r in openclaw_validators[version].validate(files)}
    ours = {f.name: not problems(json.loads(f.read_text()), version) for f in files}
    assert [real[name] for name in AGREED] == [True, False]
    assert {name for name in real if real[name] != ours[name]} == {
        *CLI_ONLY_REJECTS,
        *SCHEMA_ONLY_REJECTS,
    }
    assert all(ours[name] for name in CLI_ONLY_REJECTS)
