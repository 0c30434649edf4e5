"""compiler.jsontext.dumps is byte-identical to json.dumps(indent=2, ensure_ascii=False)."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.jsontext import dumps, reference_dumps
from tests.conftest import REPO

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8)
)
keys = st.text(max_size=6) | st.integers() | st.booleans() | st.none() | st.floats()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300)
@given(values)
def test_same_bytes_as_the_standard_library(value: Any) -> None:
    assert dumps(value) == reference_dumps(value)


@pytest.mark.parametrize("path", sorted(REPO.glob("rendered/*/*.json")), ids=lambda p: p.name)
def test_rendered_files_round_trip(path: Any) -> None:
    text = path.read_text(encoding="utf-8")
    assert dumps(json.loads(text)) == text


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(TypeError, match="set"):
        dumps({"a": {1, 2}})
