"""bench/RESULTS.md: the benchmark's figures as markdown, and the one figure the CI tripwire
reads back from it (`committed_figure`). The writer and its parser live together so that they
cannot drift apart.
"""

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from measure import Figure

# per-cell commands, in the table's order: (key, column title)
COLUMNS = (
    ("cold", "compile (cold)"),
    ("noop", "no-op compile"),
    ("validate", "validate"),
    ("explain", "explain"),
    ("what-if", "what-if"),
    ("diff", "diff"),
    ("floor", "floor"),
    ("diff-floor", "diff floor"),
)
SIZE_TITLE = "agents x offers"
TARGET_SIZE = (10_000, 3_000)  # the targets are stated at this size


@dataclass(frozen=True, slots=True)
class Cell:
    """Every figure measured on one generated repository."""

    agents: int
    offers: int
    figures: Mapping[str, Figure] = field(default_factory=dict)

    @property
    def size(self) -> str:
        return size_label(self.agents, self.offers)


@dataclass(frozen=True, slots=True)
class Results:
    label: str
    command: str
    commit: str
    runs: int
    machine: Mapping[str, str]
    cells: Sequence[Cell]
    startup: Mapping[str, Figure]  # "help", "version", "completion", "bare"


def size_label(agents: int, offers: int) -> str:
    return f"{agents:,} x {offers:,}"


def seconds(figure: Figure | None) -> str:
    if figure is None:
        return "–"
    shown = f"{figure.seconds:.1f}" if figure.seconds >= 10 else f"{figure.seconds:.2f}"
    return f"> {shown} s" if figure.timed_out else f"{shown} s"


def ratio(top: Figure | None, bottom: Figure | None) -> float | None:
    if top is None or bottom is None or top.timed_out or bottom.seconds <= 0:
        return None
    return top.seconds / bottom.seconds


def times(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}x" if value >= 10 else f"{value:.2f}x"


def format_results(results: Results) -> str:
    """The whole RESULTS.md."""
    lines = [
        "# Benchmark results",
        "",
        f"**{results.label}.** `{results.command}` on commit `{results.commit}`. Whole "
        f"processes (`clawpolicy ...` as a subprocess), median of {results.runs} run(s) per "
        "figure; peak memory is the process's peak RSS (as `/usr/bin/time` reports it).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in results.machine.items()),
        "",
        "## Commands (time)",
        "",
        *_time_table(results.cells),
        "",
        "## Commands (CPU time, user + system, s)",
        "",
        "Less sensitive than wall time to other work on a shared machine.",
        "",
        *_value_table(results.cells, lambda f: f"{f.cpu:.2f}"),
        "",
        "## Commands (peak memory, MB)",
        "",
        *_value_table(results.cells, lambda f: f"{f.peak_mb:.0f}"),
        "",
        "## Start-up (medians of 20 or more runs, taken in turns)",
        "",
        *_startup_table(results.startup),
        "",
        "## Scaling (cold compile)",
        "",
        *_scaling(results.cells),
        "",
        "## Targets (issue 9)",
        "",
        *_targets(results),
        "",
        DEFINITIONS,
    ]
    return "\n".join(lines)


def _time_table(cells: Sequence[Cell]) -> list[str]:
    titles = [title for _, title in COLUMNS]
    extra = ["cold / floor", "no-op / floor", "diff / diff floor", "peak memory (cold)"]
    lines = [_row([SIZE_TITLE, *titles, *extra]), _row(["---"] * (1 + len(titles) + len(extra)))]
    for cell in cells:
        get = cell.figures.get
        cold = get("cold")
        lines.append(
            _row(
                [
                    cell.size,
                    *(seconds(get(key)) for key, _ in COLUMNS),
                    times(ratio(cold, get("floor"))),
                    times(ratio(get("noop"), get("floor"))),
                    times(ratio(get("diff"), get("diff-floor"))),
                    f"{cold.peak_mb:.0f} MB" if cold else "–",
                ]
            )
        )
    return lines


def _value_table(cells: Sequence[Cell], show: Callable[[Figure], str]) -> list[str]:
    lines = [_row([SIZE_TITLE, *(t for _, t in COLUMNS)]), _row(["---"] * (1 + len(COLUMNS)))]
    for cell in cells:
        shown = [cell.figures.get(key) for key, _ in COLUMNS]
        lines.append(_row([cell.size, *(show(f) if f else "–" for f in shown)]))
    return lines


STARTUP = (
    ("help", "`clawpolicy --help`"),
    ("version", "`clawpolicy --version`"),
    ("completion", "completion of `clawpolicy catalog import --format <TAB>`"),
    ("bare", "bare click app `--help` (`bench/bareclick.py`)"),
)


def _startup_table(startup: Mapping[str, Figure]) -> list[str]:
    titles = ["command", "time", "vs bare click", "CPU time", "peak memory"]
    lines = [_row(titles), _row(["---"] * len(titles))]
    for key, title in STARTUP:
        figure, bare = startup.get(key), startup.get("bare")
        cpu = f"{figure.cpu:.2f} s" if figure else "–"
        memory = f"{figure.peak_mb:.1f} MB" if figure else "–"
        lines.append(_row([title, seconds(figure), times(ratio(figure, bare)), cpu, memory]))
    return lines


def _scaling(cells: Sequence[Cell]) -> list[str]:
    by_size = {(c.agents, c.offers): c.figures.get("cold") for c in cells}
    agents = sorted({c.agents for c in cells})
    offers = sorted({c.offers for c in cells})
    lines = []
    for low, high in itertools.pairwise(agents):
        for count in offers:
            step = ratio(by_size.get((high, count)), by_size.get((low, count)))
            lines.append(f"- {low:,} -> {high:,} agents at {count:,} offers: {times(step)}")
    for low, high in itertools.pairwise(offers):
        for count in agents:
            step = ratio(by_size.get((count, high)), by_size.get((count, low)))
            lines.append(f"- {low:,} -> {high:,} offers at {count:,} agents: {times(step)}")
    return lines or ["- one size only: no scaling figure"]


def _targets(results: Results) -> list[str]:
    cells = {(c.agents, c.offers): c.figures for c in results.cells}
    at = cells.get(TARGET_SIZE, {})
    small = cells.get((1_000, 3_000), {})
    fewer = cells.get((10_000, 300), {})
    cold = at.get("cold")
    checks = (
        ("cold compile at most 2.0x the floor", ratio(cold, at.get("floor")), 2.0),
        ("no-op compile at most 0.5x the floor", ratio(at.get("noop"), at.get("floor")), 0.5),
        ("1k -> 10k agents costs at most 11x", ratio(cold, small.get("cold")), 11.0),
        ("300 -> 3,000 offers costs at most 2x", ratio(cold, fewer.get("cold")), 2.0),
        ("diff at most 2x its floor", ratio(at.get("diff"), at.get("diff-floor")), 2.0),
    )
    where = size_label(*TARGET_SIZE)
    lines = [_row(["target (at " + where + ")", "measured", "verdict"]), _row(["---"] * 3)]
    for title, value, limit in checks:
        lines.append(_row([title, times(value), _verdict(value, limit)]))
    memory = cold.peak_mb if cold else None
    shown = "–" if memory is None else f"{memory:.0f} MB"
    lines.append(_row(["peak memory under 300 MB", shown, _verdict(memory, 300)]))
    startup = ratio(results.startup.get("help"), results.startup.get("bare"))
    lines.append(_row(["`clawpolicy --help` at most 1.5x a bare click app", times(startup),
                       _verdict(startup, 1.5)]))  # fmt: skip
    return lines


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured at this size"
    return "met" if value <= limit else f"missed by {value / limit:.1f}x"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def committed_figure(text: str, key: str, agents: int, offers: int) -> float:
    """Seconds of `key`'s column in the row `agents x offers` of RESULTS.md's time table.

    Raises:
        ValueError: no such table, column or row, or the figure is not a plain time.
    """
    title = dict(COLUMNS)[key]
    header = next((line for line in text.splitlines() if line.startswith(f"| {SIZE_TITLE} |")), "")
    names = [cell.strip() for cell in header.strip("|").split("|")]
    if title not in names:
        raise ValueError(f"no '{SIZE_TITLE}' table with a '{title}' column")
    wanted = size_label(agents, offers)
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] == wanted and len(cells) == len(names):
            match = re.fullmatch(r"(\d+(?:\.\d+)?) s", cells[names.index(title)])
            if match is None:
                raise ValueError(f"'{title}' at {wanted} is {cells[names.index(title)]!r}")
            return float(match.group(1))
    raise ValueError(f"no row for {wanted}")


def read_committed(path: Path, key: str, agents: int, offers: int) -> float:
    return committed_figure(path.read_text(encoding="utf-8"), key, agents, offers)


DEFINITIONS = """\
## What is measured

Every repository is generated by `bench/orggen.py` (seeded) and built with the real commands:
`clawpolicy catalog import` of a K-offer catalog in OpenRouter's native format
(`bench/cataloggen.py`, variations of the real OpenRouter models in `bench/data/`), `compile`,
then `promote staging prod`. Five environments: dev, qa, staging and lab resolve; prod has
`promote_from: staging`.

* **compile (cold)**: `clawpolicy compile` with no lock or config for the four resolving
  environments (removed before each run, untimed); prod keeps what `promote` wrote.
* **no-op compile**: `clawpolicy compile` again, nothing changed since the last one.
* **validate**: `clawpolicy validate`. **explain**: `clawpolicy explain AGENT` (one agent with
  its own ceiling and workload, every environment that deploys it). **what-if**:
  `clawpolicy what-if --without vendor:openai`.
* **diff**: the repository is committed to git, the fast tier gets `avoid: google/*` (a PR that
  moves many agents), then `clawpolicy diff --against HEAD`: two configs per environment of
  that many agents compared.
* **floor**: `bench/floor.py` as its own process: read the same YAML with libyaml
  (CSafeLoader), read the catalog JSON, write the same JSON outputs. **diff floor**: the same
  reads, then the outputs compared (parsed) with the committed ones instead of written.
* Start-up: `clawpolicy --help` against a bare click app of the same command layout.
"""
