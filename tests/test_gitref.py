"""gitref against real temporary git repos: read rendered/ at a ref without touching the work
tree, the default ref, shallow clones, subdirectories, detached HEAD, and the PC401/PC402 hints.

The helpers at the top (`git`, `policy_files`, `committed_repo`, `shallow_clone`) are shared by
the diff and promote tests.
"""

import os
import shlex
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from compiler import api
from compiler.diagnostics import CompileError
from compiler.gitops import gitref
from tests.conftest import catalog_text, offer

pytestmark = pytest.mark.git

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "clawpolicy tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "clawpolicy tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}

PROVIDER = "  p: {base_url: https://p.example/v1, api: openai-completions, api_key: {env: P_KEY}}\n"
TIERS = """\
version: 1
tiers:
  fast:
    requires: [tools]
    max_price: {output: 5.0}
    prefer: ["b/*"]
    sort: price
    fallbacks: 1
    diversity: vendor
  smart:
    requires: [tools, reasoning]
    prefer: ["c/*"]
    sort: price
    fallbacks: 1
    diversity: vendor
"""
TEAM = """\
version: 1
team: core
agents:
  triage:
    tier: fast
    workload: {input_mtok: 10, output_mtok: 1}
  writer:
    tier: fast
    workload: {input_mtok: 1, output_mtok: 1}
"""


REASONING = {"tools": True, "reasoning": True}


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` with a fixed identity and no user or system config."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def offers(mid_output: float = 4) -> list[dict[str, object]]:
    return [
        offer("p", "a/cheap", price={"input": 1, "output": 2}, capabilities=REASONING),
        offer("p", "b/mid", price={"input": 2, "output": mid_output}),
        offer("p", "c/big", price={"input": 3, "output": 10}, capabilities=REASONING),
        offer("p", "d/alt", price={"input": 1.5, "output": 2.5}),
    ]


def env_file(name: str) -> str:
    return (
        f"version: 1\nenvironment: {name}\ncatalogs: [catalogs/c.json]\n"
        f"providers:\n{PROVIDER}default_tier: fast\n"
    )


def policy_files(envs: tuple[str, ...] = ("dev", "prod")) -> dict[str, str]:
    """A small repo: tiers fast/smart, agents triage and writer (both fast), one provider `p`."""
    files = {
        "policies/tiers.yaml": TIERS,
        "policies/teams/core.yaml": TEAM,
        "policies/catalogs/c.json": catalog_text(offers()),
    }
    files.update({f"policies/environments/{name}.yaml": env_file(name) for name in envs})
    return files


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def committed_repo(
    build: Callable[..., Path],
    git_root: Path,
    files: Mapping[str, str] | None = None,
    subdir: str = "",
) -> Path:
    """A compiled policy repo committed on `main` of a new git repo; returns the policy root."""
    root = git_root / subdir if subdir else git_root
    build(files if files is not None else policy_files(), root)
    api.compile_project(api.CompileOptions(root=root))
    git(git_root, "init", "-q", "-b", "main")
    commit_all(git_root, "policies and rendered outputs")
    return root


def shallow_clone(origin: Path, target: Path, branch: str = "main") -> Path:
    git(
        origin.parent,
        "clone",
        "-q",
        "--depth",
        "1",
        "--branch",
        branch,
        origin.as_uri(),
        str(target),
    )
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --------------------------------------------------------------------------- tests


def test_reads_committed_files_not_the_work_tree(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    root = committed_repo(make_project, tmp_path / "repo")
    first = git(root, "rev-parse", "HEAD")
    committed = (root / "rendered/dev/openclaw.json").read_text(encoding="utf-8")
    (root / "rendered/dev/openclaw.json").write_text("{}\n", encoding="utf-8")
    commit_all(root, "second")
    (root / "rendered/dev/openclaw.json").write_text("not even json", encoding="utf-8")
    status = git(root, "status", "--porcelain")

    at_first = gitref.read_rendered(root, "HEAD~1")
    at_head = gitref.read_rendered(root, "HEAD")

    assert at_first.files["dev/openclaw.json"] == committed
    assert at_first.label == f"HEAD~1 ({first[:7]})"
    assert at_head.files["dev/openclaw.json"] == "{}\n"
    assert at_head.environments() == ("dev", "prod")
    assert sorted(at_head.files) == [
        "dev/clawpolicy.lock.json",
        "dev/openclaw.json",
        "prod/clawpolicy.lock.json",
        "prod/openclaw.json",
    ]
    assert git(root, "status", "--porcelain") == status  # index and work tree untouched


def test_default_ref_is_head_without_origin_main(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    root = committed_repo(make_project, tmp_path / "repo")
    baseline = gitref.read_rendered(root)
    assert baseline.label.startswith("HEAD (")
    assert baseline.notes == ()


def test_default_ref_is_the_merge_base_with_origin_main(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    origin = committed_repo(make_project, tmp_path / "origin")
    base = git(origin, "rev-parse", "HEAD")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", origin.as_uri(), str(clone))
    git(clone, "checkout", "-q", "-b", "feature")
    (clone / "rendered/dev/openclaw.json").write_text("{}\n", encoding="utf-8")
    commit_all(clone, "feature work")
    (origin / "README").write_text("main moved on\n", encoding="utf-8")
    commit_all(origin, "main moves")
    git(clone, "fetch", "-q", "origin")

    baseline = gitref.read_rendered(clone)

    assert baseline.label == f"merge-base of HEAD and origin/main ({base[:7]})"
    assert baseline.files["dev/openclaw.json"] != "{}\n"


def test_shallow_clone_reads_the_fetched_ref_and_names_the_fetch_for_others(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    origin = committed_repo(make_project, tmp_path / "origin")
    git(origin, "branch", "release")
    clone = shallow_clone(origin, tmp_path / "clone")

    assert "dev/openclaw.json" in gitref.read_rendered(clone, "origin/main").files
    with pytest.raises(CompileError) as caught:
        gitref.read_rendered(clone, "origin/release")
    [diag] = caught.value.diagnostics
    assert (diag.code, diag.message) == ("PC401", "unknown git ref 'origin/release'")
    command = "git fetch --depth=1 origin +refs/heads/release:refs/remotes/origin/release"
    assert f"hint: fetch it first: {command}" in diag.notes
    assert any("fetch-depth: 0" in note for note in diag.notes)

    git(clone, *shlex.split(command)[1:])  # the hint is a command that works
    assert "prod/openclaw.json" in gitref.read_rendered(clone, "origin/release").files


def test_shallow_clone_parent_is_unknown_with_an_unshallow_hint(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    origin = committed_repo(make_project, tmp_path / "origin")
    git(origin, "commit", "-q", "--allow-empty", "-m", "second")
    clone = shallow_clone(origin, tmp_path / "clone")
    with pytest.raises(CompileError) as caught:
        gitref.read_rendered(clone, "HEAD~1")
    [diag] = caught.value.diagnostics
    assert diag.code == "PC401"
    assert "hint: fetch it first: git fetch --unshallow" in diag.notes


@pytest.mark.parametrize(
    ("ref", "hint"),
    [
        pytest.param("nope", "did you mean", id="branch-name-without-remote"),
        pytest.param("0123abcd", "git fetch origin 0123abcd", id="commit-sha"),
    ],
)
def test_unknown_ref_in_a_full_clone(
    make_project: Callable[..., Path], tmp_path: Path, ref: str, hint: str
) -> None:
    origin = committed_repo(make_project, tmp_path / "origin")
    git(origin, "branch", "nope")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--single-branch", origin.as_uri(), str(clone))
    git(clone, "update-ref", "refs/remotes/origin/nope", "HEAD")
    with pytest.raises(CompileError) as caught:
        gitref.read_rendered(clone, ref)
    [diag] = caught.value.diagnostics
    assert diag.code == "PC401"
    assert any(hint in note for note in diag.notes), diag.notes


def test_policy_repo_in_a_subdirectory(make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = committed_repo(make_project, tmp_path / "mono", subdir="platform/policy")
    baseline = gitref.read_rendered(root, "HEAD")
    assert baseline.environments() == ("dev", "prod")
    assert baseline.files["prod/openclaw.json"] == (root / "rendered/prod/openclaw.json").read_text(
        encoding="utf-8"
    )


def test_detached_head(make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = committed_repo(make_project, tmp_path / "repo")
    git(root, "checkout", "-q", "--detach")
    assert gitref.read_rendered(root).label.startswith("HEAD (")


def test_ref_without_rendered_folder_is_empty(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    make_project(policy_files(), root)
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "policies only")
    assert gitref.read_rendered(root, "HEAD").files == {}


def test_not_a_git_repository(tmp_path: Path) -> None:
    with pytest.raises(CompileError) as caught:
        gitref.read_rendered(tmp_path)
    assert [d.code for d in caught.value.diagnostics] == ["PC402"]


def test_read_directory_accepts_both_layouts(tmp_path: Path) -> None:
    live = tmp_path / "live"
    (live / "prod").mkdir(parents=True)
    (live / "prod/openclaw.json").write_text('{"a": 1}\n', encoding="utf-8")
    (live / "dev.json").write_text('{"b": 2}\n', encoding="utf-8")
    (live / "notes.txt").write_text("ignored\n", encoding="utf-8")
    baseline = gitref.read_directory(live)
    assert baseline.files == {"dev/openclaw.json": '{"b": 2}\n', "prod/openclaw.json": '{"a": 1}\n'}
    assert baseline.environments() == ("dev", "prod")


def test_read_directory_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(CompileError) as caught:
        gitref.read_directory(tmp_path / "missing")
    assert [d.code for d in caught.value.diagnostics] == ["PC003"]


def test_shallow_feature_clone_without_the_base_branch(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    origin = committed_repo(make_project, tmp_path / "origin")
    git(origin, "checkout", "-q", "-b", "feature")
    git(origin, "commit", "-q", "--allow-empty", "-m", "feature work")
    clone = shallow_clone(origin, tmp_path / "clone", branch="feature")

    alone = gitref.read_rendered(clone)
    assert alone.label.startswith("HEAD (")
    command = "git fetch --depth=1 origin +refs/heads/main:refs/remotes/origin/main"
    assert alone.notes == (
        "note: origin/main is not in this shallow clone; compared with HEAD",
        f"hint: to compare with the base branch: {command}",
    )

    git(clone, *shlex.split(command)[1:])
    fetched = gitref.read_rendered(clone)  # no merge-base in two depth-1 histories
    assert fetched.label.startswith("origin/main (")
    assert fetched.notes[0].startswith("note: HEAD and origin/main share no commit")
