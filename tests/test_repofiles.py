"""The one place files are read: confinement to the root, regular files only, byte caps, and a
capped walk. End-to-end cases (every command, every input kind) are in the bad-input corpus."""

import os
from pathlib import Path

import pytest

from compiler.load import repofiles
from compiler.load.repofiles import FileProblem


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "repo/templates").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("secret")
    return tmp_path / "repo"


def test_a_symlink_that_leaves_the_root_is_refused_by_name(root: Path) -> None:
    (root / "templates/x.j2").symlink_to(root.parent / "outside.txt")
    with pytest.raises(FileProblem, match=r"^templates/x.j2 is a symlink that leads outside"):
        repofiles.read_bytes(root / "templates/x.j2", 100, root)


def test_a_symlink_inside_the_root_is_followed(root: Path) -> None:
    (root / "a.txt").write_text("inside")
    (root / "templates/x.j2").symlink_to(root / "a.txt")
    assert repofiles.read_bytes(root / "templates/x.j2", 100, root) == b"inside"


def test_a_fifo_is_refused_without_blocking(root: Path) -> None:
    os.mkfifo(root / "templates/pipe.j2")
    with pytest.raises(FileProblem, match="is not a regular file"):
        repofiles.read_bytes(root / "templates/pipe.j2", 100, root)


def test_a_device_is_refused() -> None:
    with pytest.raises(FileProblem, match="is not a regular file"):
        repofiles.read_bytes(Path("/dev/zero"), 100)


def test_reads_are_capped(root: Path) -> None:
    (root / "big").write_bytes(b"x" * 101)
    with pytest.raises(FileProblem, match="is larger than 100 bytes"):
        repofiles.read_bytes(root / "big", 100, root)
    assert repofiles.read_bytes(root / "big", 101, root) == b"x" * 101


def test_not_utf8_is_a_problem_not_an_exception(root: Path) -> None:
    (root / "bin").write_bytes(b"\xff\xfe")
    with pytest.raises(FileProblem, match="is not UTF-8 text"):
        repofiles.read_text(root / "bin", 100, root)


def test_the_walk_stops_at_the_file_cap(root: Path) -> None:
    for index in range(6):
        (root / f"templates/{index}.j2").write_text("x")
    assert len(repofiles.walk(root, root / "templates", 6)) == 6
    with pytest.raises(FileProblem, match="holds more than 5 files"):
        repofiles.walk(root, root / "templates", 5)


def test_the_walk_never_enters_a_folder_that_leaves(root: Path) -> None:
    (root / "templates/partials").symlink_to(root.parent, target_is_directory=True)
    with pytest.raises(FileProblem, match="partials is a symlink that leads outside"):
        repofiles.walk(root, root / "templates", 100)


def test_the_walk_is_sorted_and_nested(root: Path) -> None:
    (root / "templates/b").mkdir()
    for name in ("z.j2", "b/a.j2", "a.j2"):
        (root / "templates" / name).write_text("x")
    found = [p.relative_to(root).as_posix() for p in repofiles.walk(root, root / "templates", 9)]
    assert found == ["templates/a.j2", "templates/b/a.j2", "templates/z.j2"]


def test_a_listing_stops_at_the_file_cap(root: Path) -> None:
    for index in range(4):
        (root / "templates" / f"{index}.yaml").write_text("x")
    assert len(repofiles.listing(root, root / "templates", 4)) == 4
    with pytest.raises(FileProblem, match="holds more than 3 files"):
        repofiles.listing(root, root / "templates", 3)
