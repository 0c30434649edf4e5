"""The starter policy repository that `clawpolicy init` writes: the files under `starter/`
(package data) plus the JSON Schema of the policy files. Reads package data only.

Dotfiles are stored without their dot (`gitignore`, `github/`, `vscode/`, ...) so that every
packaging tool ships them; `starter_files` puts the dot back.
"""

import json
from importlib import resources
from importlib.resources.abc import Traversable

from .. import __version__
from ..load.schema import policy_schema
from ..output.writer import OutputFile

SCHEMA_FILE = "clawpolicy.schema.json"
_DOTTED = ("gitignore", "pre-commit-config.yaml", "github/", "vscode/")


def _walk(folder: Traversable, prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for item in sorted(folder.iterdir(), key=lambda t: t.name):
        path = f"{prefix}{item.name}"
        if item.is_dir():
            found += _walk(item, f"{path}/")
        elif item.name != "__init__.py":
            found.append((path, item.read_text(encoding="utf-8")))
    return found


def _repository_path(path: str) -> str:
    return f".{path}" if path.startswith(_DOTTED) else path


def starter_files() -> tuple[OutputFile, ...]:
    """Every file of a new policy repository, sorted by path (rendered/ comes from compiling)."""
    files = [
        OutputFile(_repository_path(path), text.replace("@VERSION@", __version__))
        for path, text in _walk(resources.files(__package__) / "starter")
    ]
    files.append(OutputFile(SCHEMA_FILE, json.dumps(policy_schema(), indent=2) + "\n"))
    return tuple(sorted(files, key=lambda f: f.relpath))
