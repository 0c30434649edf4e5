"""Reading one policy file: bytes -> UTF-8 text (sha256 recorded) -> YAML -> spec, with every
problem collected as a Diagnostic instead of stopping at the first. Used by the loaders.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..diagnostics import CompileError, Diagnostic, Span, error
from . import repofiles
from .repofiles import MAX_POLICY_BYTES
from .schemaerrors import diagnostics_from_validation
from .yamlsource import SourceDoc, SourceMap, parse

S = TypeVar("S", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class LoadedFile:
    path: str  # repo-relative POSIX
    spec: Any
    source_map: SourceMap


class FileReader:
    """Reads and validates files, collecting diagnostics instead of stopping at the first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Diagnostic] = []
        self.digests: dict[str, str] = {}
        self.agents_complete = True
        self.warnings: list[Diagnostic] = []

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def read_text(
        self, path: Path, span: Span | None = None, limit: int = MAX_POLICY_BYTES
    ) -> str | None:
        """A file's text, inside the repository and at most `limit` bytes (None: a PC003)."""
        rel = repofiles.shown(self.root, path)
        try:
            data = repofiles.read_bytes(path, limit, self.root)
        except FileNotFoundError:
            self.problems.append(error("PC003", f"{rel} does not exist", span or Span(rel)))
            return None
        except repofiles.FileProblem as exc:
            self.problems.append(error("PC003", str(exc), span or Span(rel)))
            return None
        self.digests[rel] = hashlib.sha256(data).hexdigest()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.problems.append(error("PC003", f"{rel} is not UTF-8 text", span or Span(rel)))
            return None

    def load(self, path: Path, model: type[S]) -> LoadedFile | None:
        text = self.read_text(path)
        if text is None:
            return None
        rel = self.rel(path)
        try:
            doc: SourceDoc = parse(text, rel)
        except CompileError as exc:
            self.problems.extend(exc.diagnostics)
            return None
        if not isinstance(doc.data, dict):
            self.problems.append(
                error("PC103", "expected a mapping at the top of the file", Span(rel, 1, 1))
            )
            return None
        try:
            spec = model.model_validate(doc.data)
        except ValidationError as exc:
            self.problems.extend(diagnostics_from_validation(exc, model, doc.source_map))
            return None
        return LoadedFile(rel, spec, doc.source_map)
