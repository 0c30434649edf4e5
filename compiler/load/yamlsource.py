"""Stage 0: read YAML text into (data, SourceMap), with a location for every node.

PyYAML silently keeps the last of two equal keys; here a repeated key is an error (PC002).
The Python data is built in one pass over libyaml's event stream (pure-Python PyYAML when
libyaml is missing), so every value and every key has a Span.

Scalars follow the YAML 1.2 core schema, as editors do, not PyYAML's YAML 1.1: only
true/false (in their three spellings) are booleans, so `off`, `on`, `yes` and `no` are strings;
`0777` is the integer 777, `0o17` and `0x1F` are octal and hex; there are no sexagesimal
numbers and no implicit timestamps. Explicit tags are limited to the core ones (`!!str`,
`!!int`, `!!float`, `!!bool`, `!!null`, `!!map`, `!!seq`); any other tag, a core tag on a value
it cannot describe (`!!int "x"`) and nesting deeper than MAX_DEPTH are PC001 errors.
"""

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from ..diagnostics import CompileError, Diagnostic, Span, error
from ..redaction import shown
from . import yamlhints

try:  # libyaml is 5-10x faster at composing; the pure-Python loader gives the same nodes
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

Path = tuple[str | int, ...]
MAX_DEPTH = 64  # nesting of mappings and sequences; policy files need fewer than ten


def _integer(text: str) -> int:
    if text[:2] in ("0o", "0x"):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


def _real(text: str) -> float:
    lowered = text.lower()
    if lowered.lstrip("+-") == ".inf":
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


_TAG = "tag:yaml.org,2002:"
# The YAML 1.2 core schema (spec 10.3.2): tag -> (the plain scalars it resolves, constructor)
_CORE: dict[str, tuple[re.Pattern[str], Callable[[str], Any]]] = {
    _TAG + "null": (re.compile(r"null|Null|NULL|~|"), lambda _: None),
    _TAG + "bool": (re.compile(r"true|True|TRUE|false|False|FALSE"), lambda t: t[0] in "tT"),
    _TAG + "int": (re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"), _integer),
    _TAG + "float": (
        re.compile(
            r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
        ),
        _real,
    ),
}
_STR_TAG = _TAG + "str"
_COLLECTION_TAGS = (None, "!", _TAG + "map", _TAG + "seq")


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def construct_scalar(value: str, tag: str | None) -> Any:
    """A scalar's Python value under the YAML 1.2 core schema; `tag` None: plain (resolved).

    Raises:
        ValueError: an unsupported tag, or a value its tag cannot describe.

    Example:
        >>> [construct_scalar(v, None) for v in ("off", "yes", "TRUE", "0777", "0x1F", "1:30")]
        ['off', 'yes', True, 777, 31, '1:30']
        >>> construct_scalar("7", "tag:yaml.org,2002:str"), construct_scalar("~", None)
        ('7', None)
    """
    if tag is None:
        for pattern, build in _CORE.values():
            if pattern.fullmatch(value):
                return build(value)
        return value
    if tag == _STR_TAG:
        return value
    if tag not in _CORE:
        raise ValueError(f"unsupported YAML tag {_short(tag)}")
    pattern, build = _CORE[tag]
    if not pattern.fullmatch(value):
        raise ValueError(f"{value[:40]!r} is not a valid {_short(tag)}")
    return build(value)


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


def _is_merge_key(event: Any) -> bool:
    return (
        isinstance(event, yaml.ScalarEvent)
        and event.value == "<<"
        and not event.style
        and event.tag in (None, "tag:yaml.org,2002:merge")
    )


class _Builder:
    """Builds Python data and spans straight from libyaml's event stream.

    Composing a node tree first costs about four times as much for large files; scalars are
    resolved and constructed with PyYAML's own SafeLoader rules, cached per distinct scalar.
    """

    def __init__(self, path: str, loader: Any) -> None:
        self.path = path
        self.loader = loader
        self.values: dict[Path, Span] = {}
        self.keys: dict[Path, Span] = {}
        self.problems: list[Diagnostic] = []
        self.anchors: dict[str, Any] = {}
        self.scalars: dict[tuple[Any, ...], Any] = {}
        self.depth = 0

    def span(self, event: Any) -> Span:
        mark = event.start_mark
        return Span(self.path, mark.line + 1, mark.column + 1)

    def document(self) -> Any:
        loader = self.loader
        loader.get_event()  # StreamStart
        if loader.check_event(yaml.StreamEndEvent):
            return None
        loader.get_event()  # DocumentStart
        data = self.value(loader.get_event(), ())
        loader.get_event()  # DocumentEnd
        if not loader.check_event(yaml.StreamEndEvent):
            event = loader.get_event()
            raise CompileError(
                (error("PC001", "expected a single YAML document", self.span(event)),)
            )
        return data

    def value(self, event: Any, where: Path | None) -> Any:
        """Build one value; `where` None: a key or a discarded value, whose spans are not kept."""
        if where is not None:
            self.values[where] = self.span(event)
        if isinstance(event, yaml.ScalarEvent):
            result = self.scalar(event)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            result = self.collection(event, where)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise CompileError(
                    (error("PC001", f"unknown alias *{event.anchor}", self.span(event)),)
                )
            return self.anchors[event.anchor]
        else:  # pragma: no cover - libyaml only emits the events above here
            raise CompileError((error("PC001", "unexpected YAML event", self.span(event)),))
        if getattr(event, "anchor", None):
            self.anchors[event.anchor] = result
        return result

    def scalar(self, event: Any) -> Any:
        key = (event.tag, event.value, event.implicit, event.style)
        if key in self.scalars:
            return self.scalars[key]
        tag = event.tag
        if tag is None or tag == "!":
            plain = not event.style and event.implicit[0]
            tag = None if plain else _STR_TAG
        try:
            result = construct_scalar(event.value, tag)
        except ValueError as exc:  # also Python's limit on integer digits
            raise CompileError((error("PC001", f"YAML error: {exc}", self.span(event)),)) from None
        self.scalars[key] = result
        return result

    def collection(self, event: Any, where: Path | None) -> Any:
        if event.tag not in _COLLECTION_TAGS:
            message = f"YAML error: unsupported YAML tag {_short(event.tag)}"
            raise CompileError((error("PC001", message, self.span(event)),))
        self.depth += 1
        if self.depth > MAX_DEPTH:
            message = f"YAML nested deeper than {MAX_DEPTH} levels"
            raise CompileError((error("PC001", message, self.span(event)),))
        is_mapping = isinstance(event, yaml.MappingStartEvent)
        result = self.mapping(where) if is_mapping else self.sequence(where)
        self.depth -= 1
        return result

    def _key_span(self, where: Path | None, key: Any) -> Span | str:
        return self.keys.get((*where, key), "earlier") if where is not None else "earlier"

    def sequence(self, where: Path | None) -> list[Any]:
        items: list[Any] = []
        while not self.loader.check_event(yaml.SequenceEndEvent):
            inner = None if where is None else (*where, len(items))
            items.append(self.value(self.loader.get_event(), inner))
        self.loader.get_event()
        return items

    def mapping(self, where: Path | None) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merges: list[tuple[Any, Span]] = []
        loader = self.loader
        while not loader.check_event(yaml.MappingEndEvent):
            key_event = loader.get_event()
            key_span = self.span(key_event)
            if _is_merge_key(key_event):
                merges.append((self.value(loader.get_event(), None), key_span))
                continue
            key = self.value(key_event, None)
            value_event = loader.get_event()
            try:
                hash(key)
            except TypeError:
                self.problems.append(error("PC001", "a mapping key must be a scalar", key_span))
                self.value(value_event, None)
                continue
            if key in result:
                self.problems.append(
                    error(
                        "PC002",
                        f"duplicate key {shown(str(key), 'key')}",
                        key_span,
                        f"note: first defined at {self._key_span(where, key)}",
                        "hint: YAML keeps only one of them; remove or rename the other",
                    )
                )
                self.value(value_event, None)
                continue
            if where is None:
                result[key] = self.value(value_event, None)
                continue
            self.keys[(*where, key)] = key_span
            result[key] = self.value(value_event, (*where, key))
        loader.get_event()
        for merged, span in merges:
            self._merge(result, merged, span, where)
        return result

    def _merge(self, result: dict[Any, Any], merged: Any, span: Span, where: Path | None) -> None:
        """YAML merge keys (`<<: *defaults`): keys written here win, then earlier merges."""
        sources = merged if isinstance(merged, list) else [merged]
        if not all(isinstance(source, dict) for source in sources):
            self.problems.append(
                error("PC001", "a merge key (<<) takes a mapping or a list of mappings", span)
            )
            return
        for source in sources:
            for key, value in source.items():
                if key in result:
                    continue
                result[key] = value
                if where is not None:  # merged values point at the `<<` that brought them
                    self.keys[(*where, key)] = span
                    self.values[(*where, key)] = span


def _syntax_error(text: str, path: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    """PC001 at the parser's mark, or at the line to fix when the cause is clear (a tab, a line
    indented unlike its siblings), with a hint."""
    mark = exc.problem_mark or exc.context_mark
    span = Span(path, mark.line + 1, mark.column + 1) if mark else Span(path)
    message = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
    context = exc.context_mark.line if exc.context_mark else None
    found = yamlhints.explain(text, exc.problem or "", mark.line, context) if mark else None
    if found is None:
        return error("PC001", f"YAML syntax error: {message}", span)
    return error(
        "PC001",
        f"YAML syntax error: {found.message or message}",
        Span(path, found.line, found.column),
        *found.notes,
    )


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
    builder = _Builder(path, loader)
    try:
        data = builder.document()
    except yaml.MarkedYAMLError as exc:
        raise CompileError((_syntax_error(text, path, exc),)) from None
    except yaml.YAMLError as exc:
        raise CompileError((error("PC001", f"YAML error: {exc}", Span(path)),)) from None
    except RecursionError:
        raise CompileError((error("PC001", "YAML nested too deeply", Span(path)),)) from None
    finally:
        loader.dispose()
    if builder.problems:
        raise CompileError(tuple(builder.problems))
    return SourceDoc(data, SourceMap(path, builder.values, builder.keys))
