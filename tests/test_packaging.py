"""Packaging: the wheel that `pip install clawpolicy-compiler` gets, one version source, the floors.

The wheel is built from a copy of the files a source distribution holds (pyproject.toml,
README.md, LICENSE, compiler/), so the build never writes into the checkout.
"""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest

import compiler

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
CONSTRAINTS = REPO / ".ci" / "lowest-constraints.txt"
FLOOR = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)>=(?P<version>[0-9][^,;\s]*)")
PROBE = "compiler/_packaging_probe/probe.json"
PINNED = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)==(?P<version>[^\s#]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "compiler", source / "compiler", ignore=shutil.ignore_patterns("*.pyc"))
    # A data file in a folder without __init__.py, as package data of its own would be.
    (source / PROBE).parent.mkdir()
    (source / PROBE).write_text("{}\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (path,) = out.glob("*.whl")
    return zipfile.ZipFile(path)


def metadata(wheel: zipfile.ZipFile) -> Message:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return Parser().parsestr(wheel.read(name).decode("utf-8"))


def data_files() -> set[str]:
    """Every non-Python file under compiler/ (what package data must ship)."""
    return {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "compiler").rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }


def test_wheel_ships_every_module_and_data_file(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    modules = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "compiler").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert "compiler/py.typed" in data_files()
    assert (data_files() | {PROBE}) - names == set()
    assert modules - names == set()
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_wheel_metadata(wheel: zipfile.ZipFile) -> None:
    meta = metadata(wheel)
    assert meta["Name"] == "clawpolicy-compiler"
    assert meta["Version"] == compiler.__version__
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
    assert urls["Repository"] == "https://github.com/clawpolicy/clawpolicy"
    assert urls["Changelog"].endswith("/CHANGELOG.md")
    classifiers = meta.get_all("Classifier") or []
    for minor in (11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert "clawpolicy = compiler.cli.main:main" in wheel.read(entry_points).decode()


def test_one_version_source() -> None:
    """pyproject.toml reads `compiler.__version__`; the changelog has an entry for it."""
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    dynamic = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "compiler.__version__"}
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"\n## [{compiler.__version__}] - " in changelog


def test_lowest_constraints_pin_exactly_the_declared_floors() -> None:
    """The lowest-versions job (`.ci/run --lowest`) installs the floors pyproject.toml declares."""
    floors = {}
    for requirement in PYPROJECT["project"]["dependencies"]:
        match = FLOOR.match(requirement)
        assert match, f"dependency without a >= floor: {requirement}"
        floors[canonical(match["name"])] = match["version"]
    pinned = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            match = PINNED.match(line.strip())
            assert match, f"{CONSTRAINTS.name}: not `name==version`: {line}"
            pinned[canonical(match["name"])] = match["version"]
    assert pinned == floors
