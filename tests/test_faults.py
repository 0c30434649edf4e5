"""Faults while writing: SIGKILL at random instants of a large compile and at every step of the
writer (with and without RENAME_EXCHANGE), a read-only folder, a full disk, a file-size limit,
missing git objects, and two writers at once. After each, every environment is entirely old or
entirely new, and a failed run exits 2 with a clear message and changes nothing.

Real faults where the test can make them (a tmpfs mount or a read-only bind mount needs root;
RLIMIT_FSIZE and SIGKILL need nothing), a patched call otherwise: both paths run the same
writer code.
"""

import contextlib
import errno
import itertools
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from compiler import api
from compiler.output import writer
from tests.conftest import TEMPLATE, catalog_text, offer

ENVS = tuple(f"env{i}" for i in range(6))
AGENTS = 150
KILLS = 50
TIERS = "version: 1\ntiers:\n  fast: {requires: [tools]}\n  smart: {sort: context}\n"
Files = dict[str, dict[str, bytes]]  # environment -> file name -> bytes


def _team(agents: int, fallbacks: int) -> str:
    lines = ["version: 1", "team: big", "agents:"]
    for index in range(agents):
        lines += [f"  agent-{index:04d}:", f"    tier: {'fast' if index % 2 else 'smart'}"]
        lines.append(f"    fallbacks: {fallbacks}")
    return "\n".join(lines) + "\n"


def large_repo(root: Path, fallbacks: int = 1) -> Path:
    """Six environments of 150 agents each; `fallbacks` decides every chain's length."""
    offers = [
        offer(p, f"{v}/m{i}")
        for p in ("p", "q")
        for v in ("acme", "beta", "gamma")
        for i in range(3)
    ]
    files = {
        "policies/tiers.yaml": TIERS,
        "policies/teams/big.yaml": _team(AGENTS, fallbacks),
        "policies/catalogs/c.json": catalog_text(offers),
        "templates/openclaw.json.j2": TEMPLATE,
    }
    for env in ENVS:
        files[f"policies/environments/{env}.yaml"] = (
            f"version: 1\nenvironment: {env}\ncatalogs: [catalogs/c.json]\ndefault_tier: fast\n"
            "providers:\n  p: {base_url: https://p.example/v1, api: openai-completions}\n"
            "  q: {base_url: https://q.example/v1, api: openai-completions}\n"
        )
    for relpath, text in files.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text)
    return root


def outputs(root: Path) -> Files:
    """What rendered/ holds now, by environment (hidden staging folders left out)."""
    found: Files = {}
    rendered = root / "rendered"
    for folder in sorted(rendered.iterdir()) if rendered.is_dir() else ():
        if not folder.name.startswith("."):
            found[folder.name] = {f.name: f.read_bytes() for f in sorted(folder.iterdir())}
    return found


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "rendered").glob(".*"))


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Files, Files]:
    """A compiled large repository whose policies then change every environment: its folder,
    the outputs before (old) and after (new) the change."""
    base = tmp_path_factory.mktemp("large")
    reference = large_repo(base / "reference", fallbacks=2)
    api.compile_project(api.CompileOptions(root=reference))
    new = outputs(reference)
    root = large_repo(base / "repo", fallbacks=1)
    api.compile_project(api.CompileOptions(root=root))
    old = outputs(root)
    (root / "policies/teams/big.yaml").write_text(_team(AGENTS, 2))
    assert set(old) == set(new) == set(ENVS)
    assert all(old[env] != new[env] for env in ENVS)
    return root, old, new


def reset(root: Path, old: Files) -> None:
    shutil.rmtree(root / "rendered")
    for env, files in old.items():
        (root / "rendered" / env).mkdir(parents=True)
        for name, data in files.items():
            (root / "rendered" / env / name).write_bytes(data)


def each_environment_is_old_or_new(root: Path, old: Files, new: Files) -> None:
    now = outputs(root)
    assert set(now) == set(ENVS), sorted(now)
    for env in ENVS:
        assert now[env] in (old[env], new[env]), f"{env} is mixed: {sorted(now[env])}"


def in_child(work: Callable[[], None], hook: Callable[[], None] | None = None) -> int:
    """Fork; the child runs `hook` then `work` and exits 0 (2 on any exception)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            if hook is not None:
                hook()
            work()
        except BaseException:
            code = 2
        os._exit(code)
    return pid


def compile_work(root: Path) -> Callable[[], None]:
    return lambda: api.compile_project(api.CompileOptions(root=root)) and None


def killed_after(pid: int, seconds: float) -> None:
    time.sleep(seconds)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


# --------------------------------------------------------------------------- kills


def _write_window(root: Path, old: Files) -> tuple[float, float]:
    """(seconds until the writer starts, seconds until the compile ends), measured in a child
    that reports through a pipe."""
    reset(root, old)
    reader, sender = os.pipe()
    started = time.monotonic()

    def mark() -> None:
        real = writer._write_staged

        def timed(*args: object) -> None:
            os.write(sender, b"w")
            real(*args)  # type: ignore[arg-type]

        writer._write_staged = timed  # type: ignore[assignment]

    pid = in_child(compile_work(root), mark)
    os.read(reader, 1)
    writing = time.monotonic() - started
    os.waitpid(pid, 0)
    os.close(reader)
    os.close(sender)
    return writing, time.monotonic() - started


def test_kills_at_random_instants_leave_each_environment_old_or_new(
    states: tuple[Path, Files, Files],
) -> None:
    """Where the kills land depends on the machine's speed (the step-by-step test below
    covers every step of the writer deterministically); every outcome must be old or new."""
    root, old, new = states
    writing, total = _write_window(root, old)
    chance = random.Random(20261120)  # fixed: the same instants on every run
    for kill in range(KILLS):
        reset(root, old)
        # half anywhere in the compile, half from the write phase on, where a kill can do harm
        start = 0.0 if kill % 2 else writing * 0.9
        killed_after(in_child(compile_work(root)), chance.uniform(start, total * 1.5))
        each_environment_is_old_or_new(root, old, new)
    api.compile_project(api.CompileOptions(root=root))  # the next run
    assert outputs(root) == new and leftovers(root) == []


def _kill_at(step: int, no_exchange: bool) -> Callable[[], None]:
    """A child hook: SIGKILL just before (odd) or just after (even) the writer's n-th step
    (creating a file, exchanging or renaming a folder)."""

    def install() -> None:
        counter = itertools.count(1)

        def steps(function: Callable[..., object]) -> Callable[..., object]:
            def around(*args: object) -> object:
                if next(counter) == step:
                    os.kill(os.getpid(), signal.SIGKILL)
                result = function(*args)
                if next(counter) == step:
                    os.kill(os.getpid(), signal.SIGKILL)
                return result

            return around

        writer._create = steps(writer._create)  # type: ignore[assignment]
        writer._exchange = steps(writer._exchange)  # type: ignore[assignment]
        writer.os.rename = steps(os.rename)  # type: ignore[assignment]
        if no_exchange:
            writer._renameat2 = lambda: None  # type: ignore[assignment]

    return install


def _new_files(new: Files) -> list[writer.OutputFile]:
    return [
        writer.OutputFile(f"rendered/{env}/{name}", data.decode())
        for env, files in new.items()
        for name, data in files.items()
    ]


@pytest.mark.parametrize("no_exchange", [False, True], ids=["exchange", "fallback"])
def test_a_kill_at_every_step_of_the_writer_leaves_each_environment_old_or_new(
    states: tuple[Path, Files, Files], no_exchange: bool
) -> None:
    """Without RENAME_EXCHANGE an environment can be moved aside when the kill lands: the
    next run's recovery (under the write lock) moves it back before anything else."""
    root, old, new = states
    files = _new_files(new)
    landed = 0
    for step in range(1, 200):
        reset(root, old)
        pid = in_child(lambda: writer.write(files, root) and None, _kill_at(step, no_exchange))
        _, status = os.waitpid(pid, 0)
        if not os.WIFSIGNALED(status):
            assert os.WEXITSTATUS(status) == 0
            break  # the write finished before the step: every step was tried
        landed += 1
        if no_exchange:
            with writer.write_lock(root):
                writer.recover(root)
        each_environment_is_old_or_new(root, old, new)
    else:
        pytest.fail("the writer never finished")
    assert landed >= 2 * 2 * len(ENVS)  # at least each file of each environment, twice
    assert outputs(root) == new
    writer.write(files, root)
    assert leftovers(root) == []


# --------------------------------------------------------------------------- errors


@contextlib.contextmanager
def mounted(target: Path, *options: str) -> Iterator[bool]:
    """Mount over `target` when the test may (root); yields whether it did."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        yield False
        return
    done = subprocess.run(["mount", *options, str(target)], capture_output=True, check=False)
    try:
        yield done.returncode == 0
    finally:
        if done.returncode == 0:
            subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


def refuse(code: int) -> Callable[..., None]:
    def fail(path: Path, data: bytes) -> None:
        raise OSError(code, os.strerror(code), str(path))

    return fail


def compile_cli(root: Path, cli: Callable[..., object]) -> object:
    return cli("compile", "--root", str(root))


def test_a_read_only_output_folder_is_exit_2_and_changes_nothing(
    states: tuple[Path, Files, Files], cli: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, old, _ = states
    reset(root, old)
    rendered = root / "rendered"
    if os.geteuid() != 0:  # a normal user: a folder without write permission
        rendered.chmod(0o555)
        read_only: contextlib.AbstractContextManager[bool] = contextlib.nullcontext(True)
    else:  # root ignores permissions: a read-only bind mount
        read_only = mounted(rendered, "--bind", "-o", "ro", str(rendered))
    try:
        with read_only as done:
            if not done:  # root without mount: the error a read-only folder gives
                monkeypatch.setattr(writer, "_create", refuse(errno.EROFS))
            result = compile_cli(root, cli)
    finally:
        rendered.chmod(0o755)
    assert result.exit_code == 2, result.stderr  # type: ignore[attr-defined]
    assert "error[PC308]: cannot write rendered" in result.stderr  # type: ignore[attr-defined]
    assert "nothing was changed" in result.stderr  # type: ignore[attr-defined]
    assert outputs(root) == old and leftovers(root) == []


def test_a_full_disk_is_exit_2_and_changes_nothing(
    tmp_path: Path, cli: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted(disk, "-t", "tmpfs", "-o", "size=4m", "tmpfs") as done:
        root = large_repo(disk / "repo", fallbacks=0)
        assert compile_cli(root, cli).exit_code == 0  # type: ignore[attr-defined]
        old = outputs(root)
        (root / "policies/teams/big.yaml").write_text(_team(AGENTS, 3))
        if done:  # fill the disk but for 16 KiB: less than one environment's files
            free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
            (disk / "filler").write_bytes(b"x" * max(free - 16 * 1024, 0))
        else:
            monkeypatch.setattr(writer, "_create", refuse(errno.ENOSPC))
        result = compile_cli(root, cli)
        assert result.exit_code == 2, result.stderr  # type: ignore[attr-defined]
        assert "No space left on device" in result.stderr  # type: ignore[attr-defined]
        assert outputs(root) == old and leftovers(root) == []


def test_a_file_size_limit_is_exit_2_and_changes_nothing(states: tuple[Path, Files, Files]) -> None:
    """RLIMIT_FSIZE in a child process with SIGXFSZ ignored: writes past it fail with EFBIG."""
    root, old, _ = states
    reset(root, old)

    def limit() -> None:  # pragma: no cover - runs in the child
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    done = subprocess.run(
        [sys.executable, "-m", "compiler", "compile", "--root", str(root)],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert "error[PC308]: cannot write rendered/" in done.stderr
    assert "File too large" in done.stderr
    assert "Traceback" not in done.stderr
    assert outputs(root) == old and leftovers(root) == []


def _git(folder: Path, *args: str) -> str:
    names = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e"}
    names |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    done = subprocess.run(
        ["git", "-C", str(folder), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **names},
    )
    return done.stdout.strip()


def test_a_missing_commit_object_is_exit_2_and_changes_nothing(
    states: tuple[Path, Files, Files], tmp_path: Path, cli: Callable[..., object]
) -> None:
    """Missing trees and blobs are corpus cases; here the commit object itself is gone."""
    root, old, _ = states
    reset(root, old)
    clone = tmp_path / "clone"
    shutil.copytree(root, clone)
    _git(clone, "init", "-q")
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", "a")
    _git(clone, "commit", "-q", "--allow-empty", "-m", "b")
    sha = _git(clone, "rev-parse", "HEAD~1")
    (clone / ".git/objects" / sha[:2] / sha[2:]).unlink()
    before = {p: p.stat().st_mtime_ns for p in clone.rglob("*") if p.is_file()}
    result = cli("diff", "--root", str(clone), "--against", sha)
    assert result.exit_code == 2, result.stderr  # type: ignore[attr-defined]
    assert "error[PC401]: unknown git ref" in result.stderr  # type: ignore[attr-defined]
    assert {p: p.stat().st_mtime_ns for p in clone.rglob("*") if p.is_file()} == before


# --------------------------------------------------------------------------- concurrency


def test_two_writers_at_once_never_mix(states: tuple[Path, Files, Files]) -> None:
    """Two processes write different outputs into the same repository at the same moment,
    twenty times: each environment always ends entirely one writer's, a refused writer exits
    with PC309, and at least one of the two always succeeds."""
    root, old, new = states
    first, second = _new_files(old), _new_files(new)
    reset(root, {env: {"openclaw.json": b"{}\n", "clawpolicy.lock.json": b"{}\n"} for env in ENVS})
    blank = outputs(root)
    for _ in range(20):
        reset(root, blank)
        pids = [
            in_child(lambda files=files: writer.write(files, root) and None)
            for files in (first, second)
        ]
        codes = [os.WEXITSTATUS(os.waitpid(pid, 0)[1]) for pid in pids]
        assert 0 in codes and set(codes) <= {0, 2}, codes  # 2: refused by the write lock
        now = outputs(root)
        for env in ENVS:
            assert now[env] in (old[env], new[env]), f"{env} mixes the two writers"
    assert leftovers(root) == []


def test_compile_is_refused_while_another_holds_the_write_lock(
    states: tuple[Path, Files, Files], cli: Callable[..., object]
) -> None:
    root, old, _ = states
    reset(root, old)
    with writer.write_lock(root.resolve()):
        result = compile_cli(root, cli)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "error[PC309]: another clawpolicy run is writing" in result.stderr  # type: ignore[attr-defined]
    assert outputs(root) == old
