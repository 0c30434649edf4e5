"""The bad-input corpus's starting point: a small policy repository (two tiers, two teams, two
environments, one catalog, the gateway template), the edits a case makes to it, the secrets it
plants, and the snapshot that shows what a run changed.

A case runs in a sandbox folder holding `repo/` (the policy repository, compiled and, for git
cases, committed), `outside/` (a folder beside the repository with a planted secret, the target
of hostile symlinks), `live/` (configs for `diff --against-dir`) and `in/` (catalog inputs).
Paths in a case are relative to the sandbox.
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

# The planted secrets: one secret-shaped, one that only its place (a secret field) betrays.
CANARY = "sk-or-v1-" + "c4n4ry" * 8
PLAIN = "hunter2-plain-canary"
ENVIRONMENT = {  # the process environment of every run, as CI's would hold secrets
    "INFRON_API_KEY": CANARY,
    "P_KEY": CANARY,
    "OPENCLAW_GATEWAY_TOKEN": PLAIN,
    "GITHUB_TOKEN": "ghs_" + "c4n4ry" * 6,
    "CLAWPOLICY_CANARY": CANARY,
}

TIERS = "repo/policies/tiers.yaml"
CORE = "repo/policies/teams/core.yaml"
OPS = "repo/policies/teams/ops.yaml"
DEV = "repo/policies/environments/dev.yaml"
PROD = "repo/policies/environments/prod.yaml"
CATALOG = "repo/policies/catalogs/c.json"
TEMPLATE = "repo/templates/openclaw.json.j2"
LOCK = "repo/rendered/prod/clawpolicy.lock.json"
CONFIG = "repo/rendered/prod/openclaw.json"


def _offer(provider: str, model_id: str, price: tuple[float, float], **extra: object) -> dict:
    caps = {"tools": True, "json": True, **extra.pop("capabilities", {})}  # type: ignore[dict-item]
    return {
        "provider": provider,
        "id": model_id,
        "name": model_id,
        "vendor": model_id.split("/", maxsplit=1)[0],
        "context_window": 200000,
        "max_output": 16000,
        "input": ["text"],
        "capabilities": caps,
        "price": {"input": price[0], "output": price[1]},
        **extra,
    }


CATALOG_DOC = {
    "format": "clawpolicy-catalog",
    "version": 1,
    "date": "2026-11-20",
    "offers": [
        _offer("p", "acme/small", (0.2, 1.0)),
        _offer("p", "beta/small", (0.3, 1.2)),
        _offer("p", "acme/large", (2.0, 8.0), capabilities={"reasoning": True}),
        _offer("q", "gamma/large", (2.5, 9.0), capabilities={"reasoning": True}),
        _offer("q", "beta/small", (0.3, 1.1)),
    ],
}

FILES = {
    TIERS: """\
version: 1
tiers:
  fast:
    description: cheap work
    requires: [tools]
    max_price: {input: 1.0, output: 5.0}
    fallbacks: 1
    diversity: vendor
    thinking: low
  smart:
    description: hard work
    requires: [reasoning]
    fallbacks: 1
    sort: price
""",
    CORE: """\
version: 1
team: core
owners: ["@acme/core"]
agents:
  triage:
    tier: fast
    workload: {input_mtok: 10, output_mtok: 2}
    budget: 100
  coder:
    tier: smart
""",
    OPS: """\
version: 1
team: ops
agents:
  pager:
    tier: fast
""",
    DEV: """\
version: 1
environment: dev
catalogs: [catalogs/c.json]
providers:
  p: {base_url: https://p.example/v1, api: openai-completions, api_key: {env: P_KEY}}
default_tier: fast
""",
    PROD: """\
version: 1
environment: prod
catalogs: [catalogs/c.json]
providers:
  p: {base_url: https://p.example/v1, api: openai-completions, api_key: {env: P_KEY}}
  q: {base_url: https://q.example/v1, api: openai-completions, api_key: {env: Q_KEY}}
default_tier: fast
budget: 1000
""",
    CATALOG: json.dumps(CATALOG_DOC, indent=2) + "\n",
    TEMPLATE: """\
{
  "gateway": {
    "mode": "local",
    "auth": {
      "mode": "token",
      "token": {"source": "env", "provider": "default", "id": "OPENCLAW_GATEWAY_TOKEN"}
    }
  },
  "models": {{ models | tojson }},
  "agents": {{ agents | tojson }}
}
""",
    "outside/secret.txt": f"TOKEN={CANARY}\n",
    "outside/catalog.json": json.dumps(CATALOG_DOC) + "\n",
}


def lines(relpath: str) -> int:
    """How many lines a base file has (a case appending a line points at the next one)."""
    return FILES[relpath].count("\n")


# --------------------------------------------------------------------------- edits


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Raw:
    data: bytes


@dataclass(frozen=True)
class Patch:
    """Replace `old` (which must occur) by `new` in the current text."""

    old: str
    new: str


@dataclass(frozen=True)
class Append:
    text: str


@dataclass(frozen=True)
class Link:
    target: str  # absolute, or relative to the sandbox when it starts with "@/"


@dataclass(frozen=True)
class Fifo:
    pass


@dataclass(frozen=True)
class Folder:
    pass


@dataclass(frozen=True)
class Gone:
    pass


@dataclass(frozen=True)
class Many:
    """`count` files named `pattern.format(i)` under the path (a folder), each `text`."""

    count: int
    pattern: str
    text: str


Edit = Text | Raw | Patch | Append | Link | Fifo | Folder | Gone | Many


def apply(sandbox: Path, edits: Mapping[str, Edit]) -> None:
    for relpath, edit in edits.items():
        path = sandbox / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        _APPLY[type(edit)](path, edit, sandbox)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def _link(path: Path, edit: Link, sandbox: Path) -> None:
    _remove(path)
    target = edit.target
    path.symlink_to(sandbox / target[2:] if target.startswith("@/") else target)


def _many(path: Path, edit: Many, sandbox: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for index in range(edit.count):
        (path / edit.pattern.format(index)).write_text(edit.text)


def _fifo(path: Path, edit: Fifo, sandbox: Path) -> None:
    _remove(path)
    os.mkfifo(path)


def _folder(path: Path, edit: Folder, sandbox: Path) -> None:
    _remove(path)
    path.mkdir()


def _write(path: Path, data: bytes) -> None:
    _remove(path)
    path.write_bytes(data)


_APPLY: dict[type, Callable[[Path, object, Path], None]] = {
    Text: lambda path, edit, _: _write(path, edit.text.encode()),  # type: ignore[attr-defined]
    Raw: lambda path, edit, _: _write(path, edit.data),  # type: ignore[attr-defined]
    Patch: lambda path, edit, _: _patch(path, edit),  # type: ignore[arg-type]
    Append: lambda path, edit, _: path.write_text(path.read_text() + edit.text),  # type: ignore[attr-defined]
    Link: _link,  # type: ignore[dict-item]
    Fifo: _fifo,  # type: ignore[dict-item]
    Folder: _folder,  # type: ignore[dict-item]
    Gone: lambda path, edit, _: _remove(path),
    Many: _many,  # type: ignore[dict-item]
}


def _patch(path: Path, edit: Patch) -> None:
    text = path.read_text()
    assert edit.old in text, f"{path}: {edit.old!r} not found"
    path.write_text(text.replace(edit.old, edit.new, 1))


# --------------------------------------------------------------------------- sandboxes


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        },
    ).stdout


def drop_git_object(repo: Path, spec: str) -> None:
    """Delete the loose object `spec` names (`HEAD:rendered/prod`): a damaged clone."""
    sha = git(repo, "rev-parse", spec).strip()
    (repo / ".git/objects" / sha[:2] / sha[2:]).unlink()


def build(folder: Path, compile_repo: Callable[[Path], None], committed: bool) -> Path:
    """A fresh sandbox in `folder`: the base files, compiled, committed when asked."""
    for relpath, text in FILES.items():
        path = folder / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (folder / "live").mkdir()
    (folder / "in").mkdir()
    compile_repo(folder / "repo")
    if committed:
        git(folder / "repo", "init", "-q", "-b", "main")
        git(folder / "repo", "add", "-A")
        git(folder / "repo", "commit", "-q", "-m", "base")
    return folder


# --------------------------------------------------------------------------- snapshots

Entry = tuple[str, int, str]  # kind, mode, content digest or link target


def snapshot(root: Path) -> dict[str, Entry]:
    """Every entry under `root` (never following links, never opening FIFOs)."""
    found: dict[str, Entry] = {}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder, name)
            info = path.lstat()
            mode = stat.S_IMODE(info.st_mode)
            relpath = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                found[relpath] = ("link", mode, os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                found[relpath] = ("file", mode, hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                found[relpath] = ("dir" if stat.S_ISDIR(info.st_mode) else "special", mode, "")
    return found


def changed(before: Mapping[str, Entry], after: Mapping[str, Entry]) -> list[str]:
    return sorted(p for p in {*before, *after} if before.get(p) != after.get(p))
