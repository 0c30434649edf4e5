"""bench/RESULTS.md stays readable by the CI tripwire (bench/tripwire.py): the figure it
compares against is parsed back from the table the benchmark writes. No timing here."""

import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))  # the benchmark's modules import each other by name

from measure import Figure
from report import Cell, Results, committed_figure, format_results


def results(cold: Figure) -> str:
    figures = {"cold": cold, "floor": Figure(0.2, 30.0, 0.2, 1)}
    cells = [Cell(1_000, 300, {"cold": Figure(3.3, 100.0, 3.2, 1)}), Cell(1_000, 3_000, figures)]
    return format_results(Results("test", "python bench/run.py", "abc1234", 1, {}, cells, {}))


def test_the_tripwire_reads_back_the_figure_the_benchmark_wrote() -> None:
    text = results(Figure(33.52, 745.0, 30.1, 1))
    assert committed_figure(text, "cold", 1_000, 3_000) == pytest.approx(33.5)
    assert committed_figure(text, "cold", 1_000, 300) == pytest.approx(3.3)
    assert committed_figure(text, "floor", 1_000, 3_000) == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(results(Figure(1800.0, 0.0, 1800.0, 1, True)), "> 1800", id="timed-out"),
        pytest.param("# Benchmark results\n", "no 'agents x offers' table", id="no-table"),
        pytest.param(results(Figure(1.0, 1.0, 1.0, 1)).replace("1,000 x 3,000", "x"), "no row"),
    ],
)
def test_no_usable_figure_is_an_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        committed_figure(text, "cold", 1_000, 3_000)


def test_the_committed_results_carry_the_tripwire_figure() -> None:
    text = (REPO / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    assert committed_figure(text, "cold", 1_000, 3_000) > 0
