"""Stage 0: YAML text -> data + SourceMap. Spans of nested keys and values, duplicate keys (which
PyYAML would silently drop), syntax errors with their line, and the loc mapping that skips the
parts pydantic adds to error locations."""

import textwrap

import pytest
import yaml

from compiler.diagnostics import CompileError, Span
from compiler.load.yamlsource import parse

DOC = textwrap.dedent(
    """\
    version: 1
    tiers:
      fast:
        requires: [tools, vision]
        max_price:
          input: 1.0
          output: 5.0
        prefer:
          - "google/*"
          - "openai/*"
    """
)


def codes(text: str) -> list[tuple[str, int, int]]:
    """(code, line, column) of every diagnostic `parse` raises for `text`."""
    with pytest.raises(CompileError) as caught:
        parse(text, "policies/x.yaml")
    assert all(d.span and d.span.path == "policies/x.yaml" for d in caught.value.diagnostics)
    return [(d.code, d.span.line, d.span.column) for d in caught.value.diagnostics if d.span]


@pytest.mark.parametrize(
    ("path", "line", "column"),
    [
        pytest.param((), 1, 1, id="document"),
        pytest.param(("version",), 1, 10, id="top-level-value"),
        pytest.param(("tiers", "fast"), 4, 5, id="mapping-value-starts-at-first-key"),
        pytest.param(("tiers", "fast", "requires"), 4, 15, id="flow-sequence"),
        pytest.param(("tiers", "fast", "requires", 1), 4, 23, id="flow-sequence-item"),
        pytest.param(("tiers", "fast", "max_price", "output"), 7, 15, id="nested-scalar"),
        pytest.param(("tiers", "fast", "prefer", 1), 10, 9, id="block-sequence-item"),
    ],
)
def test_value_spans(path: tuple[str | int, ...], line: int, column: int) -> None:
    doc = parse(DOC, "policies/tiers.yaml")
    assert doc.source_map.values[path] == Span("policies/tiers.yaml", line, column)


@pytest.mark.parametrize(
    ("path", "line", "column"),
    [
        pytest.param(("tiers",), 2, 1, id="top-level-key"),
        pytest.param(("tiers", "fast"), 3, 3, id="nested-key"),
        pytest.param(("tiers", "fast", "max_price", "input"), 6, 7, id="deep-key"),
    ],
)
def test_key_spans(path: tuple[str, ...], line: int, column: int) -> None:
    doc = parse(DOC, "policies/tiers.yaml")
    assert doc.source_map.keys[path] == Span("policies/tiers.yaml", line, column)


def test_data_is_what_safe_load_gives() -> None:
    assert parse(DOC, "t.yaml").data == yaml.safe_load(DOC)


def test_empty_document_is_none() -> None:
    assert parse("", "t.yaml").data is None
    assert parse("# only a comment\n", "t.yaml").data is None


def test_anchor_and_alias_share_the_value() -> None:
    doc = parse("a: &x {k: 1}\nb: *x\n", "t.yaml")
    assert doc.data == {"a": {"k": 1}, "b": {"k": 1}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a: 1\na: 2\n", [("PC002", 2, 1)], id="top-level"),
        pytest.param(
            "tiers:\n  fast:\n    fallbacks: 1\n    sort: price\n    fallbacks: 2\n",
            [("PC002", 5, 5)],
            id="nested-second-key-line",
        ),
        pytest.param(
            "a: 1\nb: {c: 1, c: 2}\na: 3\n",
            [("PC002", 2, 11), ("PC002", 3, 1)],
            id="every-duplicate-reported",
        ),
        pytest.param("a: 1\n'a': 2\n", [("PC002", 2, 1)], id="quoted-same-key"),
    ],
)
def test_duplicate_keys(text: str, expected: list[tuple[str, int, int]]) -> None:
    assert codes(text) == expected


def test_duplicate_key_note_points_at_first_definition() -> None:
    with pytest.raises(CompileError) as caught:
        parse("a:\n  k: 1\n  k: 2\n", "x.yaml")
    [diag] = caught.value.diagnostics
    assert "x.yaml:2:3" in " ".join(diag.notes)


def test_same_key_in_different_mappings_is_fine() -> None:
    doc = parse("a: {k: 1}\nb: {k: 2}\n", "t.yaml")
    assert doc.data == {"a": {"k": 1}, "b": {"k": 2}}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("a: 1\nb: b: c\n", 2, id="mapping-in-plain-scalar"),
        pytest.param("a:\n  - 1\n  b: 2\n", 3, id="bad-indentation"),
        pytest.param("a: 1\nb: [1, 2\nc: 3\n", 3, id="unclosed-flow-sequence"),
        pytest.param("a: 1\n\tb: 2\n", 2, id="tab-indentation"),
        pytest.param('a: "open\n', 2, id="unclosed-quote"),
        pytest.param("a: 1\n---\nb: 2\n", 2, id="two-documents"),
        pytest.param("a: 1\nb: *nowhere\n", 2, id="unknown-alias"),
        pytest.param("a: 1\nb: !!python/name:os.system x\n", 2, id="unsafe-tag"),
        pytest.param("a: 1\n? [1, 2]\n: x\n", 2, id="unhashable-key"),
    ],
)
def test_syntax_errors_are_PC001_with_line(text: str, line: int) -> None:
    [(code, got_line, _)] = codes(text)
    assert (code, got_line) == ("PC001", line)


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        pytest.param(("tiers", "fast", "max_price", "output"), (7, 15), id="exact"),
        pytest.param(
            ("tiers", "fast", "max_price", "function-after[_to_decimal()]", "output"),
            (7, 15),
            id="skips-validator-tag",
        ),
        pytest.param(("tiers", "fast", "max_price", "absent"), (6, 7), id="deepest-existing"),
        pytest.param(("tiers", "slow"), (3, 3), id="missing-child-falls-back-to-parent"),
    ],
)
def test_locate_walks_loc_through_the_document(
    loc: tuple[str, ...], expected: tuple[int, int]
) -> None:
    source_map = parse(DOC, "t.yaml").source_map
    span = source_map.locate(loc)
    assert (span.line, span.column) == expected


def test_locate_prefers_the_key_span_for_unknown_keys() -> None:
    source_map = parse(DOC, "t.yaml").source_map
    span = source_map.locate(("tiers", "fast", "max_price", "input"), prefer_key=True)
    assert (span.line, span.column) == (6, 7)


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        pytest.param("off", "off", id="off-is-a-string"),
        pytest.param("on", "on", id="on"),
        pytest.param("yes", "yes", id="yes"),
        pytest.param("No", "No", id="no"),
        pytest.param("y", "y", id="y"),
        pytest.param("True", True, id="True"),
        pytest.param("FALSE", False, id="FALSE"),
        pytest.param("0777", 777, id="leading-zero-is-decimal"),
        pytest.param("0o17", 15, id="octal"),
        pytest.param("0x1F", 31, id="hex"),
        pytest.param("1_000", "1_000", id="no-underscores"),
        pytest.param("1:30", "1:30", id="no-sexagesimal"),
        pytest.param("2026-11-20", "2026-11-20", id="no-timestamps"),
        pytest.param("1e3", 1000.0, id="float"),
        pytest.param("~", None, id="null"),
        pytest.param("'0777'", "0777", id="quoted"),
        pytest.param("!!str 12", "12", id="explicit-str"),
        pytest.param("!!float 1", 1.0, id="explicit-float"),
    ],
)
def test_scalars_follow_the_yaml_1_2_core_schema(scalar: str, value: object) -> None:
    assert parse(f"k: {scalar}\n", "x.yaml").data == {"k": value}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('k: !!int "x"\n', id="int-tag-on-text"),
        pytest.param("k: !!bool yes\n", id="bool-tag-on-yes"),
        pytest.param("k: !!timestamp 2026-13-45\n", id="timestamp-tag"),
        pytest.param("k: !!python/object:os.system {}\n", id="python-tag-on-mapping"),
        pytest.param("k: !!python/name:os.system ''\n", id="python-tag-on-scalar"),
        pytest.param("k: !custom [1]\n", id="local-tag"),
        pytest.param("k: !!binary aGVsbG8=\n", id="binary"),
        pytest.param("k: " + "9" * 5000 + "\n", id="more-digits-than-python-converts"),
        pytest.param("k: " + "[" * 70 + "]" * 70 + "\n", id="nested-too-deeply"),
    ],
)
def test_values_the_core_schema_cannot_hold_are_PC001_at_their_line(text: str) -> None:
    assert [(code, line) for code, line, _ in codes("a: 1\n" + text)] == [("PC001", 2)]
