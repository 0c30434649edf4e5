"""The benchmark of issue 9: one command prints every figure and writes bench/RESULTS.md.

    python bench/run.py                       # agents {1k, 10k, 20k} x offers {300, 3k}, 5 runs
    python bench/run.py --quick               # 1 run, 1k agents x {300, 3k}
    python bench/run.py --agents 10000 --offers 3000 --runs 3 --label "after the rewrite"

For each size it generates a repository (bench/orggen.py: import, compile, promote; untimed),
then times whole `clawpolicy` processes: cold and no-op compile, validate, explain, what-if,
diff against the committed configs, and the floor (bench/floor.py); once, `--help`, `--version`
and completion against a bare click app. Medians of N runs; peak RSS per process. The table is
printed and written to bench/RESULTS.md (`--output`) with the machine and its load average.
Prints figures; asserts nothing (the CI tripwire is bench/tripwire.py).
"""

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from measure import Command, Figure, load_average, machine, measure, measure_interleaved
from orggen import DIFF_EDIT, REPO, Org, build, clawpolicy, reset_cold
from report import Cell, Results, format_results, seconds

BENCH = Path(__file__).resolve().parent
AGENTS, OFFERS, QUICK_AGENTS = (1_000, 10_000, 20_000), (300, 3_000), (1_000,)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
STARTUP_RUNS = 20  # start-up figures are tens of milliseconds: more runs, even with --quick
CHANGES = (0, 1)  # what-if and diff exit 1 when they find something
COMPLETION_ENV = {
    "_CLAWPOLICY_COMPLETE": "bash_complete",
    "COMP_WORDS": "clawpolicy catalog import --format ",
    "COMP_CWORD": "4",
}


def sizes(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",")) if text else default


def git(root: Path, *args: str) -> None:
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def measure_cell(org: Org, work: Path, runs: int, timeout: float) -> Cell:
    """Every per-size figure, on a repository `build` made."""
    root, cli, figures = org.root, clawpolicy(), {}
    floor = [sys.executable, str(BENCH / "floor.py"), str(root), str(work / "floor-out")]

    def step(
        key: str,
        argv: list[str],
        ok_codes: tuple[int, ...] = (0,),
        before_each: Callable[[], None] | None = None,
    ) -> None:
        figure = measure(Command(argv, root, ok_codes), runs, timeout, before_each)
        figures[key] = figure
        shown = f"{seconds(figure):>10} {figure.cpu:8.2f} s CPU {figure.peak_mb:6.0f} MB"
        print(f"  {key:<10} {shown}", file=sys.stderr)

    committed = work / "committed"
    shutil.copytree(root / "rendered", committed)
    step("floor", floor)
    step("cold", [*cli, "compile"], before_each=reset_cold(root))
    shutil.rmtree(root / "rendered")  # as built, also when the last cold run was stopped
    shutil.copytree(committed, root / "rendered")
    step("noop", [*cli, "compile"])
    step("validate", [*cli, "validate"])
    step("explain", [*cli, "explain", org.explain_agent])
    step("what-if", [*cli, "what-if", "--without", "vendor:openai"], CHANGES)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "generated org")
    tiers = root / "policies" / "tiers.yaml"
    text = tiers.read_text(encoding="utf-8")
    tiers.write_text(text.replace(*DIFF_EDIT, 1), encoding="utf-8")
    step("diff", [*cli, "diff", "--against", "HEAD"], (1,))  # the edit moves agents
    step("diff-floor", [*floor, "--against", str(committed)])
    tiers.write_text(text, encoding="utf-8")
    return Cell(org.agents, org.offers, figures)


def measure_startup(runs: int, timeout: float) -> dict[str, Figure]:
    cli, bare = clawpolicy(), [sys.executable, str(BENCH / "bareclick.py")]
    commands = {
        "help": Command([*cli, "--help"], BENCH),
        "version": Command([*cli, "--version"], BENCH),
        "completion": Command(cli, BENCH, env={**os.environ, **COMPLETION_ENV}),
        "bare": Command([*bare, "--help"], BENCH),
    }
    return measure_interleaved(commands, runs, timeout)


def commit_measured() -> str:
    def out(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    dirty = " (with uncommitted changes)" if out("status", "--porcelain", "compiler") else ""
    return out("rev-parse", "--short", "HEAD") + dirty


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run, 1k agents x {300, 3k}")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 5)")
    parser.add_argument("--agents", help="comma-separated, e.g. 1000,10000")
    parser.add_argument("--offers", help="comma-separated, e.g. 300,3000")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--label", default="main", help="what the figures are (the heading)")
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 5)
    agents = sizes(args.agents, QUICK_AGENTS if args.quick else AGENTS)
    offers = sizes(args.offers, OFFERS)
    # No-op compiles replay the record of the last compile (compiler/output/incremental.py):
    # records on (they are off under CI=true), in a folder of this run only.
    records = tempfile.TemporaryDirectory(prefix="clawpolicy-bench-records-")
    os.environ.pop("CI", None)
    os.environ["CLAWPOLICY_CACHE_DIR"] = records.name
    info = machine()
    info["load average (1/5/15 min), start"] = load_average()
    print(f"machine: {info}", file=sys.stderr)
    startup = measure_startup(max(runs, STARTUP_RUNS), args.timeout)
    cells = []
    for agent_count in agents:
        for offer_count in offers:
            with tempfile.TemporaryDirectory(prefix="clawpolicy-bench-") as temp:
                work = Path(temp)
                print(f"{agent_count:,} agents x {offer_count:,} offers: building", file=sys.stderr)
                org = build(work / "org", agent_count, offer_count)
                cells.append(measure_cell(org, work, runs, args.timeout))
    info["load average (1/5/15 min), end"] = load_average()
    shown = [arg for arg in sys.argv[1:] if arg not in (args.label, "--label")]
    command = shlex.join(["python", "bench/run.py", *shown])
    results = Results(args.label, command, commit_measured(), runs, info, cells, startup)
    text = format_results(results)
    args.output.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
