"""Read the old side of a diff: `rendered/` as committed at a git REF, or a directory of live
configs (`Baseline`). The only GitPython user.

Committed files are read from the object database (`repo.commit(ref).tree / path`), never by
checking out: the work tree and the index are not touched. The policy repo may be a subdirectory
of the git root, HEAD may be detached, and the clone may be shallow as long as REF was fetched;
when it was not, the error says which `git fetch` to run.
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import git
from git.exc import BadName, BadObject

from ..diagnostics import CompileError, Diagnostic, Span, error
from ..load import repofiles
from ..output.writer import CONFIG_NAME, LOCK_NAME

RENDERED = "rendered"
FILE_NAMES = (CONFIG_NAME, LOCK_NAME)
DEFAULT_BASE = "origin/main"
_SHA_RE = re.compile(r"^[0-9a-f]{7,40}$")


@dataclass(frozen=True, slots=True)
class Baseline:
    """Rendered files of the old side, keyed `<env>/openclaw.json`, `<env>/clawpolicy.lock.json`."""

    label: str  # "origin/main (1a2b3c4)", "live/ (directory)"
    files: Mapping[str, str]
    notes: tuple[str, ...] = field(default=())

    def environments(self) -> tuple[str, ...]:
        return tuple(sorted({key.split("/", 1)[0] for key in self.files}))


def read_rendered(root: Path, ref: str | None = None) -> Baseline:
    """`rendered/<env>/{openclaw.json,clawpolicy.lock.json}` under `root` as committed at `ref`.

    Args:
        root: the policy repo; it may be any folder inside a git work tree.
        ref: any revision git understands; None: the merge-base of HEAD and origin/main when
            origin/main exists, else HEAD.

    Raises:
        CompileError: PC402 when `root` is not in a git repo, PC401 when `ref` is unknown here
            (with the `git fetch` that would bring it), PC403 when a file cannot be read.
    """
    with _open(root) as repo:
        prefix = _prefix(repo, root)
        notes: tuple[str, ...] = ()
        if ref is None:
            commit, name, notes = _default_commit(repo)
        else:
            commit, name = _commit(repo, ref), ref
        files = _committed_files(commit, prefix)
        return Baseline(f"{name} ({commit.hexsha[:7]})", files, notes)


def read_directory(folder: Path) -> Baseline:
    """Live configs pulled from servers: `DIR/<env>/openclaw.json` (and optionally its
    `clawpolicy.lock.json`), or flat `DIR/<env>.json`.

    Raises:
        CompileError: PC003 when `folder` is not a directory or a file cannot be read.
    """
    if not folder.is_dir():
        raise CompileError((error("PC003", f"{folder} is not a directory", Span(str(folder))),))
    files: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        if path.is_dir():
            for name in FILE_NAMES:
                if os.path.lexists(path / name):
                    files[f"{path.name}/{name}"] = _read_text(folder, path / name)
        elif path.suffix == ".json":
            files.setdefault(f"{path.stem}/{FILE_NAMES[0]}", _read_text(folder, path))
    return Baseline(f"{folder} (directory)", files)


def _read_text(folder: Path, path: Path) -> str:
    """A file of the directory, never through a link that leaves it, at most MAX_DATA_BYTES."""
    try:
        return repofiles.read_text(path, repofiles.MAX_DATA_BYTES, folder)
    except (OSError, repofiles.FileProblem) as exc:
        raise CompileError((error("PC003", str(exc), Span(str(path))),)) from None


def _open(root: Path) -> git.Repo:
    """The repo holding `root` (use it as a context manager: it closes git's helper processes)."""
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise CompileError(
            (
                error(
                    "PC402",
                    f"{root} is not inside a git repository",
                    Span(str(root)),
                    "hint: run diff from a clone, or compare with a directory: --against-dir",
                ),
            )
        ) from None


def _prefix(repo: git.Repo, root: Path) -> str:
    """The policy repo's path inside the git work tree, POSIX, "" at the top."""
    top = Path(str(repo.working_tree_dir)).resolve()
    relative = root.resolve().relative_to(top).as_posix()
    return "" if relative == "." else relative


def _find(repo: git.Repo, ref: str) -> git.Commit | None:
    """The commit `ref` names, when its object is in this clone (git itself resolves it, so a
    parent cut off by a shallow clone counts as unknown; `--end-of-options` keeps a ref that
    starts with `-` from being read as an option)."""
    try:
        sha = repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
        return repo.commit(str(sha).strip())
    except (BadName, BadObject, ValueError, git.GitCommandError):
        return None


def _commit(repo: git.Repo, ref: str) -> git.Commit:
    found = _find(repo, ref)
    if found is None:
        raise CompileError((_unknown_ref(repo, ref),))
    return found


def _default_commit(repo: git.Repo) -> tuple[git.Commit, str, tuple[str, ...]]:
    head = _commit(repo, "HEAD")
    base = _find(repo, f"refs/remotes/{DEFAULT_BASE}")
    if base is None:
        notes: tuple[str, ...] = ()
        if _is_shallow(repo):
            notes = (
                f"note: {DEFAULT_BASE} is not in this shallow clone; compared with HEAD",
                f"hint: to compare with the base branch: {_fetch_command(repo, DEFAULT_BASE)}",
            )
        return head, "HEAD", notes
    found = repo.merge_base(head, base)
    if found and isinstance(found[0], git.Commit):
        return found[0], f"merge-base of HEAD and {DEFAULT_BASE}", ()
    note = (
        f"note: HEAD and {DEFAULT_BASE} share no commit in this clone (shallow?); "
        f"compared with {DEFAULT_BASE} itself",
        "hint: fetch more history (git fetch --unshallow, or fetch-depth: 0 in "
        "actions/checkout) for a merge-base",
    )
    return base, DEFAULT_BASE, note


def _is_shallow(repo: git.Repo) -> bool:
    try:
        return str(repo.git.rev_parse("--is-shallow-repository")).strip() == "true"
    except git.GitCommandError:
        return False


def _fetch_command(repo: git.Repo, ref: str) -> str:
    """The `git fetch` that brings `ref` into this clone."""
    remotes = [r.name for r in repo.remotes] or ["origin"]
    depth = "--depth=1 " if _is_shallow(repo) else ""
    remote = next((r for r in remotes if ref.startswith(f"{r}/")), None)
    if remote is not None:
        branch = ref.removeprefix(f"{remote}/")
        return f"git fetch {depth}{remote} +refs/heads/{branch}:refs/remotes/{remote}/{branch}"
    remote = "origin" if "origin" in remotes else remotes[0]
    if _SHA_RE.fullmatch(ref):
        return f"git fetch {depth}{remote} {ref}"
    if any(mark in ref for mark in "~^@:") or ref.startswith("refs/"):
        return "git fetch --unshallow" if depth else "git fetch --all"
    return (
        f"git fetch {depth}{remote} +refs/heads/{ref}:refs/remotes/{remote}/{ref}"
        f"  (then use --against {remote}/{ref})"
    )


def _fetch_hint(repo: git.Repo, ref: str) -> list[str]:
    if not repo.remotes:
        return ["hint: this clone has no remote; pass a ref that exists here (git log --oneline)"]
    return [
        f"hint: fetch it first: {_fetch_command(repo, ref)}",
        "hint: in GitHub Actions, give actions/checkout `fetch-depth: 0`, or fetch the base "
        "branch in a step before the diff",
    ]


def _unknown_ref(repo: git.Repo, ref: str) -> Diagnostic:
    notes = []
    if "origin" in [r.name for r in repo.remotes] and _find(repo, f"origin/{ref}") is not None:
        notes.append(f"hint: did you mean 'origin/{ref}'?")
    if _is_shallow(repo):
        notes.append("note: this is a shallow clone: only the fetched commits can be read")
    return error("PC401", f"unknown git ref '{ref}'", None, *notes, *_fetch_hint(repo, ref))


def _committed_files(commit: git.Commit, prefix: str) -> dict[str, str]:
    """The rendered files at `commit`; a tree or blob missing from the object database (a
    damaged or partial clone) is PC403, never a traceback."""
    folder = str(PurePosixPath(prefix, RENDERED)) if prefix else RENDERED
    try:
        rendered = commit.tree / folder
    except KeyError:
        return {}
    except (ValueError, BadObject, git.GitCommandError) as exc:
        raise _unreadable(folder, commit, exc) from None
    if not isinstance(rendered, git.Tree):
        return {}
    files = {}
    try:
        for env_tree in rendered.trees:
            for blob in env_tree.blobs:
                if blob.name in FILE_NAMES:
                    files[f"{env_tree.name}/{blob.name}"] = _blob_text(blob, commit)
    except (ValueError, BadObject, git.GitCommandError) as exc:
        raise _unreadable(folder, commit, exc) from None
    return files


def _blob_text(blob: git.Blob, commit: git.Commit) -> str:
    if blob.size > repofiles.MAX_DATA_BYTES:
        raise CompileError(
            (
                error(
                    "PC403",
                    f"{blob.path} at {commit.hexsha[:7]} is larger than "
                    f"{repofiles.MAX_DATA_BYTES // repofiles.MIB} MiB",
                    Span(str(blob.path)),
                ),
            )
        )
    try:
        return bytes(blob.data_stream.read()).decode("utf-8")
    except UnicodeDecodeError:
        message = f"{blob.path} at {commit.hexsha[:7]} is not UTF-8 text"
        raise CompileError((error("PC403", message, Span(str(blob.path))),)) from None


def _unreadable(path: str, commit: git.Commit, exc: Exception) -> CompileError:
    missing = "missing" in str(exc) or isinstance(exc, BadObject)
    reason = "an object is missing from the clone" if missing else "git cannot read it"
    return CompileError(
        (
            error(
                "PC403",
                f"cannot read {path} at {commit.hexsha[:7]}: {reason}",
                Span(path),
                "hint: fetch the commit again (git fetch), or check the clone with git fsck",
            ),
        )
    )
