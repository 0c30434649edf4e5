"""The staged writer: all-or-nothing across environments, the write lock, symlinked output
folders refused, modes from the umask, recovery of a killed run, and single-file writes.
Kills at every step and real disk-full / read-only / file-size faults are in test_faults.py."""

import errno
import fcntl
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from compiler.output import writer
from compiler.output.writer import OutputFile
from tests.conftest import offer
from tests.test_resolver import repo_files

Cli = Callable[..., Any]
Build = Callable[..., Path]


def two_env_repo(make_project: Build) -> Path:
    files = repo_files([offer("p", "x/m"), offer("p", "y/n")])
    files |= {
        name.replace("/e.yaml", "/f.yaml"): text.replace("environment: e", "environment: f")
        for name, text in files.items()
        if name.startswith("policies/environments/")
    }
    return make_project(files)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under rendered/ with its bytes (and every folder, as b"<dir>")."""
    found = {}
    for path in sorted((root / "rendered").rglob("*")):
        found[path.relative_to(root).as_posix()] = b"<dir>" if path.is_dir() else path.read_bytes()
    return found


def retier(root: Path) -> None:
    """A policy change that moves both environments' outputs."""
    tiers = root / "policies/tiers.yaml"
    tiers.write_text(tiers.read_text() + "    fallbacks: 0\n")


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    previous = os.umask(0o022)
    os.umask(previous)
    yield lambda mask: os.umask(mask) and None
    os.umask(previous)


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o002, 0o664, 0o775)]
)
def test_modes_follow_the_umask(
    make_project: Build,
    cli: Cli,
    umask: Callable[[int], None],
    mask: int,
    file_mode: int,
    dir_mode: int,
) -> None:
    umask(mask)
    root = two_env_repo(make_project)
    assert cli("compile", "--root", str(root)).exit_code == 0
    for name in ("openclaw.json", "clawpolicy.lock.json"):
        assert stat.S_IMODE((root / "rendered/e" / name).stat().st_mode) == file_mode
    assert stat.S_IMODE((root / "rendered/e").stat().st_mode) == dir_mode


def test_a_failed_write_changes_no_environment(
    make_project: Build, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = two_env_repo(make_project)
    assert cli("compile", "--root", str(root)).exit_code == 0
    before = tree(root)
    retier(root)
    real_create = writer._create
    calls: list[Path] = []

    def full_disk_on_the_third_file(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 3:  # the first file of the second environment
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_create(path, data)

    monkeypatch.setattr(writer, "_create", full_disk_on_the_third_file)
    result = cli("compile", "--root", str(root))
    assert result.exit_code == 2
    assert "error[PC308]: cannot write rendered/f/" in result.stderr
    assert "No space left on device" in result.stderr
    assert tree(root) == before  # the first environment was staged, never swapped in


@pytest.mark.parametrize("link", ["rendered", "rendered/e"])
def test_a_symlinked_output_folder_is_refused_never_written_through(
    make_project: Build, cli: Cli, tmp_path: Path, link: str
) -> None:
    root = two_env_repo(make_project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    (root / link).symlink_to(elsewhere, target_is_directory=True)
    result = cli("compile", "--root", str(root))
    assert result.exit_code == 2
    assert f"error[PC308]: cannot write {link}: it is a symlink" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_second_writer_is_refused_naming_the_lock(make_project: Build, cli: Cli) -> None:
    root = two_env_repo(make_project)
    with writer.write_lock(root.resolve()):
        result = cli("compile", "--root", str(root))
        assert result.exit_code == 2
        assert "error[PC309]: another clawpolicy run is writing repo/" in result.stderr
        assert "flock on" in result.stderr
        assert cli("compile", "--check", "--root", str(root)).exit_code == 1  # readers go on
    assert not (root / "rendered").exists()
    assert cli("compile", "--root", str(root)).exit_code == 0


def test_other_files_in_an_environment_folder_are_kept(make_project: Build, cli: Cli) -> None:
    root = two_env_repo(make_project)
    assert cli("compile", "--root", str(root)).exit_code == 0
    (root / "rendered/e/NOTES.md").write_text("kept\n")
    retier(root)
    assert cli("compile", "--root", str(root)).exit_code == 0
    assert (root / "rendered/e/NOTES.md").read_text() == "kept\n"


def test_the_fallback_swap_gives_the_same_outputs(
    make_project: Build, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = two_env_repo(make_project)
    original = (root / "policies/tiers.yaml").read_text()
    assert cli("compile", "--root", str(root)).exit_code == 0
    retier(root)
    assert cli("compile", "--root", str(root)).exit_code == 0
    expected = tree(root)
    (root / "policies/tiers.yaml").write_text(original)
    assert cli("compile", "--root", str(root)).exit_code == 0
    assert tree(root) != expected
    retier(root)
    monkeypatch.setattr(writer, "_renameat2", lambda: None)  # a kernel without RENAME_EXCHANGE
    assert cli("compile", "--root", str(root)).exit_code == 0
    assert tree(root) == expected


def test_recovery_moves_back_an_environment_left_aside_and_removes_staging(
    make_project: Build, cli: Cli
) -> None:
    root = two_env_repo(make_project)
    assert cli("compile", "--root", str(root)).exit_code == 0
    before = tree(root)
    staging = root / "rendered" / f"{writer.STAGING_PREFIX}dead"
    staging.mkdir()
    (root / "rendered/e").rename(staging / "e.old")  # killed between the two fallback renames
    (staging / "f").mkdir()
    (staging / "f/openclaw.json").write_text("half")
    assert cli("compile", "--check", "--root", str(root)).exit_code == 1  # readers never repair
    with writer.write_lock(root):
        writer.recover(root)
    assert tree(root) == before


def test_write_file_replaces_a_symlink_instead_of_writing_through(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep")
    (tmp_path / "out.json").symlink_to(target)
    writer.write_file(tmp_path / "out.json", b"new")
    assert target.read_text() == "keep"
    assert (tmp_path / "out.json").read_text() == "new" and not (tmp_path / "out.json").is_symlink()


def test_write_file_sweeps_temporaries_of_dead_runs_only(tmp_path: Path) -> None:
    dead = tmp_path / f".out.json{writer.TEMP_MARK}dead"
    dead.write_text("half")
    alive = tmp_path / f".out.json{writer.TEMP_MARK}alive"
    alive.write_text("writing")
    with alive.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another writer, still running
        writer.write_file(tmp_path / "out.json", b"{}")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, "out.json"])


def test_write_file_errors_are_PC308_and_leave_nothing(tmp_path: Path) -> None:
    (tmp_path / "out.json").mkdir()
    with pytest.raises(writer.CompileError) as caught:
        writer.write_file(tmp_path / "out.json", b"{}")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "PC308"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_output_paths_must_be_environment_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an output path"):
        writer.write([OutputFile("rendered/../x", "{}")], tmp_path)


def test_recovery_never_moves_a_planted_link_into_rendered(make_project: Build, cli: Cli) -> None:
    root = two_env_repo(make_project)
    assert cli("compile", "--root", str(root)).exit_code == 0
    staging = root / "rendered" / f"{writer.STAGING_PREFIX}planted"
    staging.mkdir()
    (staging / "evil.old").symlink_to(root.parent, target_is_directory=True)
    retier(root)
    assert cli("compile", "--root", str(root)).exit_code == 0
    assert not os.path.lexists(root / "rendered/evil") and not staging.exists()
    assert root.parent.is_dir()
