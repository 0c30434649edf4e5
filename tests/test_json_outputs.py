"""Every `--format json` output is the one envelope and validates against the JSON Schema that
docs/json.md documents for its command (docs/json/<command>.schema.json), on success and on a
user error (exit 2); docs/json.md has a section per schema."""

import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

from tests.conftest import REPO, catalog_text, offer
from tests.test_gitref import committed_repo, edit, policy_files
from tests.test_promote import two_env_files

Cli = Callable[..., Any]
SCHEMAS = REPO / "docs" / "json"


def registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def check(command: str, result: Any, exit_code: int) -> dict[str, Any]:
    """The output parses, is the envelope of `command` and fits its documented schema."""
    assert result.exit_code == exit_code, result.stdout + result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    assert list(document)[:4] == ["format", "version", "ok", "diagnostics"]
    assert (document["format"], document["version"]) == (f"clawpolicy-{command}", 1)
    schema = json.loads((SCHEMAS / f"{command}.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, registry=registry())
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not problems, "\n".join(problems)
    return document


@pytest.fixture
def repo(make_project: Callable[..., Path], tmp_path: Path) -> Path:
    """A compiled two-environment repo (dev, prod), committed to git."""
    return committed_repo(make_project, tmp_path / "repo")


@pytest.fixture
def broken(make_project: Callable[..., Path], tmp_path: Path) -> Path:
    files = policy_files()
    files["policies/teams/core.yaml"] = files["policies/teams/core.yaml"].replace(
        "tier: fast", "tierr: fast", 1
    )
    return make_project(files, tmp_path / "broken")


# ------------------------------------------------------------------ the core commands


@pytest.mark.parametrize(
    ("command", "args"),
    [
        pytest.param("validate", ("validate",), id="validate"),
        pytest.param("compile", ("compile",), id="compile"),
        pytest.param("compile", ("compile", "--check"), id="compile-check"),
        pytest.param("explain", ("explain", "triage"), id="explain"),
        pytest.param("what-if", ("what-if", "--without", "vendor:b"), id="what-if"),
    ],
)
def test_core_commands(command: str, args: tuple[str, ...], repo: Path, cli: Cli) -> None:
    document = check(command, cli(*args, "--root", str(repo), "--format", "json"), 0)
    assert document["ok"] is True


@pytest.mark.parametrize(
    ("command", "args"),
    [
        pytest.param("validate", ("validate",), id="validate"),
        pytest.param("compile", ("compile",), id="compile"),
        pytest.param("explain", ("explain", "triage"), id="explain"),
        pytest.param("diff", ("diff",), id="diff"),
        pytest.param("promote", ("promote", "dev", "prod"), id="promote"),
        pytest.param("what-if", ("what-if", "--without", "vendor:b"), id="what-if"),
    ],
)
def test_user_errors_are_the_envelope_with_ok_false(
    command: str, args: tuple[str, ...], broken: Path, cli: Cli
) -> None:
    document = check(command, cli(*args, "--root", str(broken), "--format", "json"), 2)
    assert document["ok"] is False
    assert [d["code"] for d in document["diagnostics"]] == ["PC101"]


def test_compile_reports_changed_files_and_chains(repo: Path, cli: Cli) -> None:
    edit(repo / "policies/tiers.yaml", "max_price: {output: 5.0}", "max_price: {output: 3.0}")
    document = check("compile", cli("compile", "--root", str(repo), "--format", "json"), 0)
    assert document["changed"] is True
    changed = [f["path"] for f in document["files"] if f["status"] == "changed"]
    assert changed[0] == "rendered/dev/clawpolicy.lock.json"
    triage = document["environments"]["dev"]["agents"][0]
    assert triage == {
        "agent": "triage",
        "chain": {"primary": "p/a/cheap", "fallbacks": ["p/d/alt"], "monthly_cost": 12},
    }


def test_unsatisfiable_explain_keeps_its_payload_with_ok_false(
    make_project: Callable[..., Path], cli: Cli
) -> None:
    files = policy_files()
    files["policies/tiers.yaml"] = files["policies/tiers.yaml"].replace(
        "requires: [tools]", "requires: [tools, audio]", 1
    )
    root = make_project(files)
    result = cli("explain", "triage", "--root", str(root), "--format", "json")
    document = check("explain", result, 2)
    assert document["ok"] is False
    assert document["environments"]["dev"]["chain"] is None
    assert "PC201" in {d["code"] for d in document["diagnostics"]}


# ------------------------------------------------------------------ diff and promote


@pytest.mark.git
def test_diff(repo: Path, cli: Cli) -> None:
    unchanged = check("diff", cli("diff", "--root", str(repo), "--format", "json"), 0)
    assert unchanged["changed"] is False
    edit(repo / "policies/tiers.yaml", "max_price: {output: 5.0}", "max_price: {output: 3.0}")
    document = check("diff", cli("diff", "--root", str(repo), "--format", "json"), 1)
    assert document["changed"] is True
    [triage] = [a for a in document["environments"]["dev"]["agents"] if a["agent"] == "triage"]
    assert triage["after"]["monthly_cost"] == 12


def test_promote(make_project: Callable[..., Path], cli: Cli) -> None:
    root = make_project(two_env_files())
    args = ("promote", "staging", "prod", "--root", str(root), "--format", "json")
    behind = check("promote", cli(*args, "--check"), 1)
    assert (behind["changed"], list(behind["pending"])) == (True, ["prod"])
    assert behind["pending"]["prod"]["never_promoted"] is True
    document = check("promote", cli(*args), 0)
    assert (document["from"], document["to"], document["changed"]) == ("staging", "prod", True)
    assert "prod" in document["environments"]
    assert check("promote", cli(*args, "--check"), 0)["changed"] is False


# ------------------------------------------------------------------ catalog commands


def test_catalog_diff(tmp_path: Path, cli: Cli) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(catalog_text([offer("p", "a/x"), offer("p", "b/y")]), encoding="utf-8")
    new.write_text(catalog_text([offer("p", "a/x", price={"input": 3, "output": 4})]), "utf-8")
    result = cli("catalog", "diff", str(old), str(new), "--format", "json")
    document = check("catalog-diff", result, 1)
    assert document["offers"]["removed"] == ["p/b/y"]
    [updated] = document["offers"]["updated"]
    assert updated["fields"]["price.input"] == {"old": 1, "new": 3}
    missing = cli("catalog", "diff", str(old), str(tmp_path / "nope.json"), "--format", "json")
    assert check("catalog-diff", missing, 2)["diagnostics"][0]["code"] == "PC501"


OPENROUTER = {
    "data": [
        {
            "id": "openai/gpt-5-mini",
            "name": "OpenAI: GPT-5 Mini",
            "context_length": 400000,
            "architecture": {"input_modalities": ["text", "image"]},
            "pricing": {"prompt": "0.00000025", "completion": "0.000002"},
            "supported_parameters": ["tools"],
        },
        {"id": "x/embed", "name": "An embedding model", "architecture": {"output_modalities": []}},
    ]
}


def test_catalog_import(tmp_path: Path, cli: Cli) -> None:
    native = tmp_path / "models.json"
    native.write_text(json.dumps(OPENROUTER), encoding="utf-8")
    out = tmp_path / "snapshot.json"
    args = ("catalog", "import", str(native), "--format", "openrouter", "--date", "2026-06-16")
    document = check("catalog-import", cli(*args, "-o", str(out), "--report-format", "json"), 0)
    assert (document["date"], document["offers_written"]) == ("2026-06-16", 1)
    assert document["output"] == str(out) and out.is_file()
    native.write_text("{", encoding="utf-8")
    failed = cli(*args, "-o", str(out), "--report-format", "json")
    assert check("catalog-import", failed, 2)["diagnostics"][0]["code"] == "PC501"


class _Catalog(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps(OPENROUTER).encode() if self.path == "/models" else b"{}"
        self.send_response(200 if self.path == "/models" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def catalog_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Catalog)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.mark.network
def test_catalog_fetch(catalog_url: str, tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "fetched.json"
    args = ("catalog", "fetch", "--format", "openrouter", "--date", "2026-06-16")
    result = cli(*args, "--url", f"{catalog_url}/models", "-o", str(out), "--report-format", "json")
    assert check("catalog-fetch", result, 0)["offers_written"] == 1
    failed = cli(*args, "--url", f"{catalog_url}/gone", "-o", str(out), "--report-format", "json")
    assert check("catalog-fetch", failed, 2)["diagnostics"][0]["code"] == "PC502"


# ------------------------------------------------------------------ the documentation


def test_every_schema_has_a_section_in_docs_json_md() -> None:
    text = (REPO / "docs" / "json.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## `clawpolicy ([a-z -]+?)`", text, re.M)
    linked = set(re.findall(r"\(json/([a-z-]+)\.schema\.json\)", text))
    commands = {p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")}
    commands.discard("envelope")
    assert {s.replace(" ", "-") for s in sections} == commands
    assert linked == commands | {"envelope"}


def test_the_schemas_reject_an_undocumented_key(repo: Path, cli: Cli) -> None:
    """The schemas are closed: a key nobody documented fails the tests above."""
    document = json.loads(cli("validate", "--root", str(repo), "--format", "json").stdout)
    document["surprise"] = 1
    schema = json.loads((SCHEMAS / "validate.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, registry=registry())
    assert not validator.is_valid(document)


# ------------------------------------------------------------------ init


def test_init(tmp_path: Path, cli: Cli) -> None:
    root = tmp_path / "new"
    document = check("init", cli("init", str(root), "--format", "json"), 0)
    assert {"path": "rendered/prod/openclaw.json", "status": "created"} in document["files"]
    assert sorted(document["environments"]) == ["dev", "prod", "staging"]
    again = check("init", cli("init", str(root), "--format", "json"), 2)
    assert again["diagnostics"][0]["code"] == "PC601"


@pytest.mark.parametrize("by", ["team", "tier", "environment", "agent"])
def test_cost(by: str, repo: Path, cli: Cli) -> None:
    result = cli("cost", "--root", str(repo), "--by", by, "--format", "json")
    document = check("cost", result, 0)
    assert document["by"] == by and document["groups"]
    assert check("cost", cli("cost", "--root", str(repo), "--env", "x", "--format", "json"), 2)
