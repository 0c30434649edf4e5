"""The redaction pass: what it masks and keeps (one table), that every printed text goes
through it (no module prints around `Output`), and that secrets pasted into the old side of a
diff never reach any report format."""

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler.redaction import MASK, redact_text, redact_url
from tests.conftest import REPO, offer
from tests.test_resolver import ENV, repo_files

Cli = Callable[..., Any]
KEY = "sk-or-v1-" + "4f3c" * 12
PLAIN = "plain-literal-key-9"  # not secret-shaped: masked only because of the field it is in


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        pytest.param(f"error: bad key {KEY}", KEY, id="openrouter-key"),
        pytest.param("sk-ant-api03-" + "Zz9" * 10, "Zz9" * 10, id="anthropic-key"),
        pytest.param("AKIA" + "ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOP", id="aws"),
        pytest.param("token ghp_" + "a1B2" * 9, "a1B2" * 9, id="github"),
        pytest.param("Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl", id="bearer"),
        pytest.param("GET https://u:hunter2@h/x", "hunter2", id="url-password"),
        pytest.param("GET https://h/m?api_key=zzz123&page=2", "zzz123", id="query-name"),
        pytest.param("GET https://h/m?sig=AbCdEfGhIjKlMnOp123456XYZ", "AbCdEf", id="query-sig"),
        pytest.param(f'  ~ /models/providers/p/apiKey: "{PLAIN}" -> "x"', PLAIN, id="pointer"),
        pytest.param(f'  ~ /models/providers/p/apiKey: "a" -> "{PLAIN}"', PLAIN, id="ptr-new"),
        pytest.param(f'| e | `/x/headers/X-Key` | changed | `"{PLAIN}"` |', PLAIN, id="markdown"),
        pytest.param(f'+ (whole file): {{"p": {{"apiKey": "{PLAIN}"}}}}', PLAIN, id="inline"),
        pytest.param(f'{{"headers": {{"X-Custom": "{PLAIN}"}}}}', PLAIN, id="headers"),
        pytest.param(f"password: {PLAIN}", PLAIN, id="yaml-field"),
        pytest.param(f"auth_token={PLAIN}", PLAIN, id="assignment"),
        pytest.param("key AbCdEfGhIjKlMnOpQrStUv0123456789", "AbCdEfGhIjKl", id="random-token"),
        pytest.param(f"shown: {KEY[:14]}...", KEY[9:14], id="cut-by-formatter"),
        pytest.param("pay with rk_live_" + "a1B2" * 6, "a1B2a1B2", id="stripe"),
        pytest.param("hook https://hooks.slack.com/services/T0/B0/XXXX", "T0/B0", id="slack-hook"),
        pytest.param("bot 123456789:AAH" + "b9" * 16, "b9b9b9b9", id="telegram"),
        pytest.param(f"DB_PASS={PLAIN}", PLAIN, id="pass-var"),
        pytest.param(f'"userPwd": "{PLAIN}"', PLAIN, id="pwd"),
        pytest.param(f"webhook: {PLAIN}", PLAIN, id="webhook"),
        pytest.param(f'{{"private_key": "{PLAIN}"}}', PLAIN, id="private-key"),
        pytest.param(f"credentials: {PLAIN}", PLAIN, id="credentials"),
    ],
)
def test_secret_is_masked(text: str, secret: str) -> None:
    masked = redact_text(text)
    assert secret not in masked and MASK in masked, masked


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            '"apiKey": {"source": "env", "provider": "default", "id": "INFRON_API_KEY"}',
            id="secretref",
        ),
        pytest.param("api_key: {env: INFRON_API_KEY}", id="policy-env-ref"),
        pytest.param('"token": "${OPENCLAW_GATEWAY_TOKEN}"', id="var-ref"),
        pytest.param('"maxTokens": 128000, "contextWindow": 400000', id="token-counts"),
        pytest.param("~ prod/triage: [infron/openai/gpt-5-mini] -> [p/x]; cost 1.00", id="chain"),
        pytest.param("clawpolicy diff against " + "0a1b2c3d" * 5 + " (0a1b2c3)", id="sha"),
        pytest.param("anthropic/claude-sonnet-4-5-20250929 Qwen/Qwen2.5-72B-Instruct", id="ids"),
        pytest.param("openai/gpt-5.4-mini, openrouter/openai/gpt-5.4-mini", id="refs"),
        pytest.param("passthrough: true, bypass: on, compass: north", id="pass-words"),
        pytest.param('"webhookUrl": "https://gw.example/hook", "pwdMinLength": 8', id="near-names"),
        pytest.param("at 12:30:45 on 2026-06-16, port 8080:80", id="times"),
    ],
)
def test_references_and_ordinary_text_stay_readable(text: str) -> None:
    assert redact_text(text) == text


def test_json_documents_are_redacted_by_structure() -> None:
    report = {
        "changes": [
            {"pointer": "/models/providers/p/apiKey", "old": PLAIN, "new": {"env": "K"}},
            {"pointer": "/models/providers/p/baseUrl", "old": "https://a", "new": "https://b"},
        ],
        "schema": {"api_key": {"anyOf": [{"type": "string"}], "title": "Api Key"}},
    }
    masked = json.loads(redact_text(json.dumps(report, indent=2)))
    assert masked["changes"][0] == {
        "pointer": "/models/providers/p/apiKey",
        "old": MASK,
        "new": {"env": "K"},
    }
    assert masked["changes"][1] == report["changes"][1]
    assert masked["schema"] == report["schema"]  # a schema describing the field is not a secret


def test_redact_url_masks_token_path_segments_and_user_info() -> None:
    shown = redact_url(f"https://bot:{PLAIN}@h.example/v1/AbCdEf0123456789xyzUVW/models?key=1")
    assert shown == "https://h.example/v1/***/models?key=***"


def _printing_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in {
                "print",
                "click.echo",
                "click.secho",
                "sys.stdout.write",
                "sys.stderr.write",
            }:
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}")
    return found


def test_nothing_prints_around_the_output_object() -> None:
    """Every text reaches the terminal through cli.base.Output, which redacts it."""
    strays = [
        call
        for path in sorted((REPO / "compiler").rglob("*.py"))
        for call in _printing_calls(path)
        if not call.startswith("compiler/cli/base.py:")
    ]
    assert not strays
    assert _printing_calls(REPO / "compiler/cli/base.py") == [
        next(c for c in _printing_calls(REPO / "compiler/cli/base.py"))
    ]  # exactly one: Output.echo


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_a_literal_key_in_a_live_config_never_reaches_the_diff(
    make_project: Callable[..., Path], cli: Cli, tmp_path: Path, fmt: str
) -> None:
    root = make_project(repo_files([offer("p", "x/m"), offer("p", "y/n")]))
    assert cli("compile", "--root", str(root)).exit_code == 0
    live = json.loads((root / "rendered/e/openclaw.json").read_text())
    provider = live["models"]["providers"]["p"]
    provider["apiKey"] = PLAIN
    provider["headers"] = {"X-Api-Key": KEY, "X-Team": PLAIN + "-team"}
    (tmp_path / "live").mkdir()
    (tmp_path / "live/e.json").write_text(json.dumps(live))
    result = cli(
        "diff", "--root", str(root), "--against-dir", str(tmp_path / "live"), "--format", fmt
    )
    assert result.exit_code == 1, result.stderr
    output = result.stdout + result.stderr
    assert "apiKey" in output and "headers" in output
    assert PLAIN not in output and KEY not in output
    assert "P_KEY" in output  # the env SecretRef on the new side stays readable


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(f"https://p.example/v1?api_key={PLAIN}", id="query"),
        pytest.param(f"https://p.example/{KEY}/v1", id="key-in-path"),
    ],
)
def test_a_key_in_a_base_url_is_PC107_and_never_shown(
    make_project: Callable[..., Path], cli: Cli, url: str
) -> None:
    files = repo_files([offer("p", "x/m")])
    files[ENV] = files[ENV].replace("https://p.example/v1", url)
    root = make_project(files)
    result = cli("compile", "--root", str(root))
    assert result.exit_code == 2
    assert "error[PC107]" in result.stderr and "base_url" in result.stderr
    assert PLAIN not in result.stdout + result.stderr and KEY not in result.stdout + result.stderr
    assert not (root / "rendered").exists()


def test_a_message_about_a_secret_field_is_not_masked_itself(
    make_project: Callable[..., Path], cli: Cli
) -> None:
    """`providers.p.api_key: expected ...` would read as a field and its value: the path and the
    message are joined without a colon, so the message stays readable."""
    files = repo_files([offer("p", "x/m")])
    files[ENV] = files[ENV].replace("api_key: {env: P_KEY}", "api_key: 5")
    result = cli("validate", "--root", str(make_project(files)))
    assert result.exit_code == 2
    assert "providers.p.api_key expected a mapping" in result.stderr, result.stderr
    assert MASK not in result.stderr


def test_an_unknown_key_that_looks_like_a_secret_is_not_echoed(
    make_project: Callable[..., Path], cli: Cli
) -> None:
    root = make_project(repo_files([offer("p", "x/m")], agent=f"{KEY}: 1"))
    result = cli("validate", "--root", str(root), "--format", "github")
    assert result.exit_code == 2
    assert "unknown key (a secret-looking key, not shown)" in result.stderr
    assert KEY not in result.stdout + result.stderr
