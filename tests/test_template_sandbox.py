"""The template sandbox: every runtime error and every limit is PC303 at the template's
file:line (never a traceback or a hang), NaN/Infinity never reach the output, and the limits
of `guard` leave the process as they found it."""

import signal
from collections.abc import Iterator

import pytest

from compiler.diagnostics import CompileError
from compiler.output import guard, renderer
from compiler.output.renderer import TemplateLimits, parse_rendered, render_template

MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def tight_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Limits small enough that the cases below hit them in well under a second each."""
    limits = TemplateLimits(seconds=0.5, memory_bytes=256 * MIB, output_chars=MIB)
    monkeypatch.setattr(renderer, "LIMITS", limits)
    yield


def failure(body: str, partials: dict[str, str] | None = None) -> tuple[str, str, int, str]:
    """(code, path, line, message) of rendering templates/t.j2 = "{}\\n" + body."""
    templates = {"t.j2": "{}\n" + body, **(partials or {})}
    with pytest.raises(CompileError) as caught:
        render_template(templates, "t.j2", {"environment": "e", "models": {}, "agents": {}})
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.span is not None
    return diagnostic.code, diagnostic.span.path, diagnostic.span.line, diagnostic.message


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        pytest.param("{{ 1 / 0 }}", "division by zero", id="division-by-zero"),
        pytest.param("{{ 1 // 0 }}", "by zero", id="floor-division-by-zero"),
        pytest.param(
            "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
            "recursion too deep",
            id="endless-macro-recursion",
        ),
        pytest.param("{% for i in range(10**9) %}{% endfor %}", "Range too big", id="huge-range"),
        pytest.param(
            "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
            "took longer than 0.5 s",
            id="nested-loops-hang",
        ),
        pytest.param('{{ "x" * 10**10 }}', "the result of * would be too large", id="str-repeat"),
        pytest.param("{{ [0] * 10**9 }}", "the result of * would be too large", id="list-repeat"),
        pytest.param("{{ 2 ** 100000 }}", "the result of ** would be too large", id="power"),
        pytest.param("{{ 10 ** 1000 * 10 ** 1000 * 10 ** 1000 }}", "of * would be", id="product"),
        pytest.param(
            '{% for i in range(100000) %}{{ "x" * 1000 }}{% endfor %}',
            "template output is larger than 1 MiB",
            id="output-flood",
        ),
        pytest.param("{{ lipsum(1000000) }}", "'lipsum' is undefined", id="no-lipsum"),
        pytest.param(
            "{{ ''.__class__.__mro__[1].__subclasses__() }}", "template error:", id="escape"
        ),
        pytest.param("{{ {}.get(1, 2, 3) }}", "template error:", id="type-error"),
        pytest.param('{{ "%s %s" % (1,) }}', "template error:", id="format-error"),
        pytest.param("{{ [1][5] }}", "template error:", id="index-error"),
    ],
)
def test_runtime_errors_and_limits_are_PC303_at_the_template_line(body: str, fragment: str) -> None:
    code, path, line, message = failure(body)
    assert (code, path, line) == ("PC303", "templates/t.j2", 2)
    assert fragment in message


def test_a_value_that_outgrows_the_memory_cap_is_PC303(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = TemplateLimits(seconds=60, memory_bytes=256 * MIB, output_chars=MIB)
    monkeypatch.setattr(renderer, "LIMITS", limits)  # time enough to reach the memory cap
    body = (
        '{% set ns = namespace(s="x" * 1000000) %}'
        "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
    )
    code, path, line, message = failure(body)
    assert (code, path, line) == ("PC303", "templates/t.j2", 2)
    assert "needs more than 256 MiB of memory" in message


def test_an_error_in_an_included_template_names_that_template() -> None:
    code, path, line, _ = failure('{% include "part.j2" %}', {"part.j2": "\n\n{{ 1 / 0 }}"})
    assert (code, path, line) == ("PC303", "templates/part.j2", 3)


@pytest.mark.parametrize("name", ["../../../etc/passwd", "/proc/self/environ", "/etc/hostname"])
def test_include_reaches_only_templates_loaded_from_the_repository(name: str) -> None:
    code, _, _, message = failure(f'{{% include "{name}" %}}')
    assert code == "PC114" and "not found" in message


def test_nothing_reaches_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAWPOLICY_CANARY", "sk-or-v1-canary0canary0canary0canary0")
    for body in ("{{ environ }}", "{{ self._TemplateReference__context.environ }}", "{{ config }}"):
        assert failure(body)[0] == "PC303"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param('{"a": NaN}', "NaN", id="nan"),
        pytest.param('{"a": -Infinity}', "-Infinity", id="minus-infinity"),
        pytest.param('{"a": 1e400}', "1e400", id="overflowing-float"),
    ],
)
def test_nan_and_infinity_never_reach_the_output(text: str, fragment: str) -> None:
    with pytest.raises(CompileError) as caught:
        parse_rendered(text, "templates/t.j2")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.code == "PC302" and fragment in diagnostic.message


def test_a_huge_integer_in_the_output_is_PC302() -> None:
    with pytest.raises(CompileError) as caught:
        parse_rendered('{"a": ' + "9" * 5000 + "}", "templates/t.j2")
    assert caught.value.diagnostics[0].code == "PC302"


def test_the_deadline_restores_the_callers_timer_and_handler() -> None:
    def mine(signum: int, frame: object) -> None:
        raise AssertionError("the caller's timer fired during the test")

    previous = signal.signal(signal.SIGALRM, mine)
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        with guard.limited(5, 64 * MIB):
            pass
        assert signal.getsignal(signal.SIGALRM) is mine
        assert 20 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_memory_cap_is_lifted_after_the_block() -> None:
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    with pytest.raises(MemoryError), guard.limited(5, 64 * MIB):
        bytearray(512 * MIB)
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert len(bytearray(128 * MIB)) == 128 * MIB
