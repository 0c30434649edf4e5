"""Identical inputs give identical bytes: the example repo compiled by two processes with
different hash seeds (set and dict order, string hashing) writes the same files."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def compile_copy(target: Path, seed: str) -> dict[str, bytes]:
    """Copy the example policies and templates to `target`, compile there and promote staging
    to prod (prod changes only by promotion), return rendered/."""
    for folder in ("policies", "templates"):
        shutil.copytree(REPO / folder, target / folder)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "PYTHONHASHSEED": seed,
        "NO_COLOR": "1",
    }
    for command in (["compile"], ["promote", "staging", "prod"]):
        completed = subprocess.run(
            [sys.executable, "-m", "compiler", *command, "--root", str(target)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
    rendered = target / "rendered"
    return {p.relative_to(target).as_posix(): p.read_bytes() for p in rendered.rglob("*.json")}


def test_two_processes_with_different_hash_seeds_write_identical_bytes(tmp_path: Path) -> None:
    first = compile_copy(tmp_path / "one", "1")
    second = compile_copy(tmp_path / "two", "4242")
    assert len(first) >= 6  # openclaw.json + lock for every environment
    assert sorted(first) == sorted(second)
    different = [path for path in first if first[path] != second[path]]
    assert not different
