"""Inputs a reviewer used to break the compiler: each is now refused with exit 2 and a
diagnostic (never a traceback), or handled, and the fix would show if it regressed."""

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler.load.yamlsource import parse
from tests.conftest import offer
from tests.test_resolver import CATALOG, ENV, TEAM, repo_files

Cli = Callable[..., Any]
Build = Callable[..., Path]


def files(**changes: str) -> dict[str, str]:
    return repo_files([offer("p", "x/m"), offer("p", "y/n")], **changes)


def test_deeply_nested_yaml_is_PC001_not_a_traceback(make_project: Build, cli: Cli) -> None:
    project = files()
    project[TEAM] += "".join(f"{'  ' * (i + 2)}k{i}:\n" for i in range(200)) + "  " * 202 + "x\n"
    result = cli("validate", "--root", str(make_project(project)))
    assert result.exit_code == 2 and "PC001" in result.stderr, result.stderr


def test_deeply_nested_catalog_is_PC110_not_a_traceback(make_project: Build, cli: Cli) -> None:
    project = files()
    project[CATALOG] = "[" * 100_000 + "]" * 100_000
    result = cli("validate", "--root", str(make_project(project)))
    assert result.exit_code == 2 and "PC110" in result.stderr, result.stderr


def test_yaml_merge_keys_work_and_explicit_keys_win() -> None:
    doc = parse("d: &d {tier: t, fallbacks: 1}\na:\n  <<: *d\n  fallbacks: 2\n", "x.yaml")
    assert doc.data["a"] == {"fallbacks": 2, "tier": "t"}
    assert doc.source_map.values[("a", "tier")].line == 3  # the `<<` that brought it


def test_duplicate_key_in_a_template_is_PC302(make_project: Build, cli: Cli) -> None:
    project = files()
    project["templates/openclaw.json.j2"] = (
        '{"gateway": {"mode": "local", "mode": "remote"}, '
        '"models": {{ models | tojson }}, "agents": {{ agents | tojson }}}'
    )
    root = make_project(project)
    result = cli("compile", "--root", str(root))
    assert result.exit_code == 2 and "PC302" in result.stderr and "'mode'" in result.stderr
    assert not (root / "rendered").exists()


@pytest.mark.parametrize(
    ("where", "secret"),
    [
        pytest.param("template", "sk-live0123456789abcdefghij", id="key-in-template"),
        pytest.param("base_url", "https://user:hunter2pass@gw.example/v1", id="password-in-url"),
    ],
)
def test_literal_secrets_never_reach_rendered(
    make_project: Build, cli: Cli, where: str, secret: str
) -> None:
    project = files()
    if where == "template":
        project["templates/openclaw.json.j2"] = (
            '{"gateway": {"mode": "local", "auth": {"token": "' + secret + '"}}, '
            '"models": {{ models | tojson }}, "agents": {{ agents | tojson }}}'
        )
    else:
        project[ENV] = project[ENV].replace("https://p.example/v1", secret)
    root = make_project(project)
    result = cli("compile", "--root", str(root))
    assert result.exit_code == 2 and "PC107" in result.stderr
    assert secret not in result.stdout + result.stderr
    assert not (root / "rendered").exists()


@pytest.mark.parametrize(
    ("fragment", "secret", "kind"),
    [
        pytest.param(
            '"channels": {"slack": {"url": "%s"}}',
            "https://hooks.slack.com/services/T000/B000/XXXX",
            "Slack webhook",
            id="slack-webhook",
        ),
        pytest.param('"tools": {"pay": "%s"}', "rk_live_" + "a1B2" * 6, "Stripe key", id="stripe"),
        pytest.param(
            '"channels": {"tg": {"bot": "%s"}}',
            "123456789:AAH" + "b9" * 16,
            "Telegram bot token",
            id="telegram",
        ),
        pytest.param(
            '"env": {"vars": {"DB_PASS": "%s"}}',
            "Sup3rS3cretValue!",
            "literal value of a secret field",
            id="env-var",
        ),
        pytest.param(
            '"env": {"vars": {"OPENAI_KEY": "%s"}}',
            "0123456789abcdef0123456789abcdef",
            "literal value of a secret field",
            id="env-var-key",
        ),
        pytest.param(
            '"auth": {"password": %s}', "987654321", "literal value of a secret field", id="number"
        ),
        pytest.param(
            '"tools": {"x": "key_%s"}', "sk-or-v1-" + "0a" * 32, "API key", id="glued-to-a-word"
        ),
    ],
)
def test_a_template_cannot_write_a_secret_or_an_env_var_value(
    make_project: Build, cli: Cli, fragment: str, secret: str, kind: str
) -> None:
    project = files()
    project["templates/openclaw.json.j2"] = (
        '{"gateway": {"mode": "local"}, ' + fragment % secret + ", "
        '"models": {{ models | tojson }}, "agents": {{ agents | tojson }}}'
    )
    root = make_project(project)
    result = cli("compile", "--root", str(root))
    assert result.exit_code == 2 and "error[PC107]" in result.stderr, result.stderr
    assert f"({kind})" in result.stderr
    assert secret not in result.stdout + result.stderr
    assert not (root / "rendered").exists()


def test_an_env_reference_in_a_template_is_fine(make_project: Build, cli: Cli) -> None:
    project = files()
    project["templates/openclaw.json.j2"] = (
        '{"gateway": {"mode": "local"}, "env": {"vars": {"DB_PASS": "${DB_PASS}"}}, '
        '"models": {{ models | tojson }}, "agents": {{ agents | tojson }}}'
    )
    result = cli("compile", "--root", str(make_project(project)))
    assert result.exit_code == 0, result.stderr


def _git_repo_with_policies_in(folder: str, make_project: Build, tmp_path: Path) -> Path:
    top = tmp_path / "checkout"
    make_project(files(agent="teir: t"), root=top / folder)
    subprocess.run(["git", "init", "-q", str(top)], check=True)
    return top


def test_github_annotations_are_relative_to_the_repository(
    make_project: Build, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = _git_repo_with_policies_in("ops/policy", make_project, tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    result = cli("validate", "--root", str(top / "ops/policy"), "--format", "github")
    assert result.exit_code == 2
    assert "::error file=ops/policy/policies/teams/team.yaml,line=6" in result.stderr


def test_stale_outputs_are_annotated(make_project: Build, cli: Cli) -> None:
    root = make_project(files())
    assert cli("compile", "--root", str(root)).exit_code == 0
    (root / "policies/tiers.yaml").write_text(
        (root / "policies/tiers.yaml").read_text() + "    fallbacks: 0\n"
    )
    result = cli("compile", "--check", "--root", str(root), "--format", "github")
    assert result.exit_code == 1
    assert "::error file=rendered/e/openclaw.json,title=PC305::" in result.stderr
    assert json.loads((root / "rendered/e/clawpolicy.lock.json").read_text())["agents"]


def test_explain_json_is_typed_for_tools(make_project: Build, cli: Cli) -> None:
    root = make_project(files(tier="min_context: 8k\nmax_price: {output: 2.5}\nrequires: [tools]"))
    result = cli("explain", "a", "--root", str(root), "--format", "json")
    assert result.exit_code == 0, result.stderr
    [item] = json.loads(result.stdout)["environments"].values()
    constraints = item["constraints"]
    assert constraints["min_context"]["value"] == 8000
    assert constraints["max_price.output"]["value"] == 2.5
    assert constraints["requires"]["value"] == ["tools"]
    assert constraints["sort"] == {"value": "price", "from": []}  # the default
    [source] = constraints["min_context"]["from"]
    assert (source["path"], source["line"]) == ("policies/tiers.yaml", 5)


def test_replaced_locked_choice_is_reported_PC207(make_project: Build, cli: Cli) -> None:
    cheap = {"input": 1, "output": 1}
    project = repo_files(
        [offer("p", "x/m", price=cheap), offer("p", "y/n", price={"input": 2, "output": 2})],
        tier="max_price: {output: 3}\nfallbacks: 0",
    )
    root = make_project(project)
    assert cli("compile", "--root", str(root)).exit_code == 0
    (root / CATALOG).write_text(
        (root / CATALOG).read_text().replace('"output": 1', '"output": 9'), encoding="utf-8"
    )
    result = cli("compile", "--root", str(root))
    assert result.exit_code == 0, result.stderr
    assert "warning[PC207]" in result.stderr and "p/x/m: output price 9 > 3" in result.stderr
    lock = json.loads((root / "rendered/e/clawpolicy.lock.json").read_text())
    assert lock["agents"]["a"]["primary"] == "p/y/n"


def test_numeric_yaml_key_is_reported_at_the_key(make_project: Build, cli: Cli) -> None:
    root = make_project(files(agents="  123:\n    tier: t\n"))
    result = cli("validate", "--root", str(root))
    assert result.exit_code == 2
    assert "policies/teams/team.yaml:4:3: error[PC103]: key 123 must be a string" in result.stderr


def test_catalog_import_names_the_format_a_file_really_has(cli: Cli, tmp_path: Path) -> None:
    native = tmp_path / "prices.json"
    native.write_text(json.dumps({"gpt-x": {"litellm_provider": "openai", "mode": "chat"}}))
    result = cli(
        "catalog", "import", str(native), "--format", "openrouter", "-o", str(tmp_path / "out.json")
    )
    assert result.exit_code == 2
    assert "looks like the litellm format" in result.stderr and "--format litellm" in result.stderr
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    "sample",
    [
        "sk-" + "a" * 24,
        "sk-or-v1-" + "0" * 24,
        "AKIA" + "A" * 16,
        "ghp_" + "x" * 36,
        "xoxb-" + "1" * 12,
        "https://user:pass@host/v1",
    ],
)
def test_every_secret_shape_is_caught_by_the_fast_prefilter(sample: str) -> None:
    """The substring prefilter must never hide a secret the full scan would find."""
    from compiler.output import conformance

    assert list(conformance.iter_secrets({"k": sample}))
    assert conformance.check(json.dumps({"gateway": {"mode": "local"}, "k": sample}), "x")


def test_a_schema_error_at_a_secret_field_never_quotes_the_value(
    make_project: Build, cli: Cli
) -> None:
    project = files()
    project["templates/openclaw.json.j2"] = (
        '{"gateway": {"mode": "local"}, "env": {"vars": {"DB_PASS": 12345678}}, '
        '"models": {{ models | tojson }}, "agents": {{ agents | tojson }}}'
    )
    result = cli("compile", "--root", str(make_project(project)))
    assert result.exit_code == 2
    assert "error[PC306]: env.vars.DB_PASS expected string, got a value (not shown" in result.stderr
    assert "12345678" not in result.stdout + result.stderr


def test_schema_errors_under_a_secret_field_keep_their_shape_but_never_the_value() -> None:
    """Structural errors (unknown or missing keys) at a secret field are explained as anywhere
    else; a rule whose jsonschema message quotes the value is reworded without it."""
    import jsonschema

    from compiler.output.schemacheck import _explain

    schema = {
        "type": "object",
        "properties": {
            "apiKey": {"type": "string", "maxLength": 3},
            "token": {"type": "object", "additionalProperties": False, "required": ["id"]},
        },
    }
    config = {"apiKey": "hunter2secret", "token": {"extra": 1}}
    errors = jsonschema.Draft202012Validator(schema).iter_errors(config)
    problems = [p for err in errors for p in _explain(err)]
    text = " ".join(f"{p.path} {p.message}" for p in problems)
    assert "hunter2secret" not in text
    assert "breaks the schema's maxLength rule (a value (not shown" in text
    assert any(p.path == ("token", "id") and p.message == "missing required key" for p in problems)
    assert any(p.path[:2] == ("token", "extra") for p in problems), text
