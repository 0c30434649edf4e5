"""Stage 0 (part): what a YAML syntax error most likely means, at the line to fix. Pure.

PyYAML reports where its parser gave up ("did not find expected key", "mapping values are not
allowed here"); most such errors in policy files are a tab in the indentation or a line indented
differently from its siblings. `explain` turns the parser's marks into that: the line (and
column) to fix, a message in those words when it is sure, and a hint.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Explained:
    line: int  # 1-based
    column: int  # 1-based
    message: str | None  # None: keep the parser's
    notes: tuple[str, ...]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _previous(lines: list[str], index: int) -> int | None:
    """The nearest line before `index` that holds something other than a comment."""
    for before in range(index - 1, -1, -1):
        if lines[before].strip() and not lines[before].lstrip().startswith("#"):
            return before
    return None


def _tab(lines: list[str], first: int, last: int) -> Explained | None:
    for index in range(max(first, 0), min(last, len(lines) - 1) + 1):
        lead = lines[index][: len(lines[index]) - len(lines[index].lstrip(" \t"))]
        if "\t" in lead:
            return Explained(
                index + 1,
                lead.index("\t") + 1,
                f"line {index + 1} is indented with a tab; YAML indents with spaces only",
                ("hint: replace the tab with spaces (2 per level, like the lines around it)",),
            )
    return None


def _misaligned(lines: list[str], index: int, context_line: int | None) -> Explained | None:
    """A line indented differently from the keys (or items) above it."""
    if not 0 <= index < len(lines):
        return None
    own = _indent(lines[index])
    above = [i for i in (_previous(lines, index), context_line) if i is not None and i < index]
    others = {f"{_indent(lines[i])} on line {i + 1}": i for i in above if _indent(lines[i]) != own}
    if not others:
        return None
    return Explained(
        index + 1,
        own + 1,
        None,
        (
            f"hint: line {index + 1} is indented {own} space(s), unlike the lines above it "
            f"({', '.join(others)}): keys of one mapping (items of one list) line up exactly",
        ),
    )


def _value_then_deeper(lines: list[str], index: int) -> Explained | None:
    """`key: value` followed by a deeper `other: ...`, or a value with `: ` in it."""
    if not 0 <= index < len(lines):
        return None
    before = _previous(lines, index)
    text = lines[index]
    if before is not None and _indent(text) > _indent(lines[before]):
        head, colon, rest = lines[before].partition(":")
        if colon and rest.split("#")[0].strip():
            return Explained(
                index + 1,
                _indent(text) + 1,
                None,
                (
                    f"hint: line {index + 1} is indented deeper than line {before + 1} "
                    f"('{head.strip()}'), which already has a value: indent it like line "
                    f"{before + 1} ({_indent(lines[before])} spaces)",
                ),
            )
    if text.split("#")[0].count(": ") >= 2:
        return Explained(
            index + 1,
            _indent(text) + 1,
            None,
            ("hint: a value that contains ': ' must be quoted, like key: \"a: b\"",),
        )
    return None


def explain(
    text: str, problem: str, problem_line: int, context_line: int | None = None
) -> Explained | None:
    """The likely cause of a YAML syntax error, or None when there is nothing better to say.

    Args:
        text: the document.
        problem: the parser's problem text.
        problem_line: 0-based line of the parser's problem mark.
        context_line: 0-based line of its context mark (where the block began), if any.

    Example:
        >>> explain("a:\\n\\tb: 1\\n", "found character that cannot start any token", 1).message
        'line 2 is indented with a tab; YAML indents with spaces only'
    """
    lines = text.splitlines()
    first = context_line if context_line is not None else problem_line
    found = _tab(lines, first, problem_line)
    if found is not None:
        return found
    if "did not find expected key" in problem or "did not find expected '-'" in problem:
        return _misaligned(lines, problem_line, context_line)
    if "mapping values are not allowed" in problem:
        return _value_then_deeper(lines, problem_line)
    return None
