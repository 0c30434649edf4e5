"""Stage 0: read YAML text into (data, SourceMap), with a location for every node.

PyYAML silently keeps the last of two equal keys; here a repeated key is an error (PC002).
The node tree is composed once (with libyaml when present) and the Python data is built from the
same nodes, so every value and every key has a Span.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from .diagnostics import CompileError, Diagnostic, Span, error

try:  # libyaml is 5-10x faster at composing; the pure-Python loader gives the same nodes
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each node of one document came from: value spans and mapping-key spans."""

    path: str
    values: Mapping[Path, Span]
    keys: Mapping[Path, Span]

    def known_path(self, loc: Iterable[object]) -> Path:
        """The parts of `loc` that exist in the document, in order.

        pydantic inserts union tags into error locations; skipping parts the document does not
        have keeps the walk on the document's own structure.
        """
        current: Path = ()
        for part in loc:
            if not isinstance(part, str | int):
                continue
            candidate: Path = (*current, part)
            if candidate in self.values:
                current = candidate
        return current

    def locate(self, loc: Iterable[object], prefer_key: bool = False) -> Span:
        """The span of the deepest node along `loc` (its key's span when `prefer_key`)."""
        path = self.known_path(loc)
        if prefer_key and path in self.keys:
            return self.keys[path]
        return self.values.get(path, Span(self.path, 1, 1))


@dataclass(frozen=True, slots=True)
class SourceDoc:
    data: Any
    source_map: SourceMap


def _span(path: str, node: yaml.Node) -> Span:
    mark = node.start_mark
    return Span(path, mark.line + 1, mark.column + 1)


class _Walker:
    def __init__(self, path: str, loader: Any) -> None:
        self.path = path
        self.loader = loader
        self.values: dict[Path, Span] = {}
        self.keys: dict[Path, Span] = {}
        self.problems: list[Diagnostic] = []

    def build(self, node: yaml.Node, where: Path) -> Any:
        self.values[where] = _span(self.path, node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, where)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*where, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, where: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, Span] = {}
        for key_node, value_node in node.value:
            key = self.loader.construct_object(key_node, deep=True)
            key_span = _span(self.path, key_node)
            try:
                hash(key)
            except TypeError:
                self.problems.append(error("PC001", "a mapping key must be a scalar", key_span))
                continue
            if key in first_seen:
                self.problems.append(
                    error(
                        "PC002",
                        f"duplicate key {key!r}",
                        key_span,
                        f"note: first defined at {first_seen[key]}",
                        "hint: YAML keeps only one of them; remove or rename the other",
                    )
                )
                continue
            first_seen[key] = key_span
            self.keys[(*where, key)] = key_span
            result[key] = self.build(value_node, (*where, key))
        return result


def parse(text: str, path: str) -> SourceDoc:
    """Parse one YAML document.

    Raises:
        CompileError: PC001 for syntax errors, PC002 for duplicate keys.

    Example:
        >>> doc = parse("version: 1\\ntiers:\\n  fast: {fallbacks: 2}\\n", "t.yaml")
        >>> doc.data["tiers"]["fast"]["fallbacks"], str(doc.source_map.values[("tiers", "fast")])
        (2, 't.yaml:3:9')
    """
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        walker = _Walker(path, loader)
        data = walker.build(root, ()) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = Span(path, mark.line + 1, mark.column + 1) if mark else Span(path)
        message = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        raise CompileError((error("PC001", f"YAML syntax error: {message}", span),)) from None
    except yaml.YAMLError as exc:
        raise CompileError((error("PC001", f"YAML error: {exc}", Span(path)),)) from None
    finally:
        loader.dispose()
    if walker.problems:
        raise CompileError(tuple(walker.problems))
    return SourceDoc(data, SourceMap(path, walker.values, walker.keys))
