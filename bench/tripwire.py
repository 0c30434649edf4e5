"""CI tripwire of issue 9: the cold compile of 1,000 agents x 3,000 offers must stay within 3x
the figure committed in bench/RESULTS.md.

    python bench/tripwire.py                  # exit 0 within, 1 over the limit, 2 cannot tell
    python bench/tripwire.py --factor 2
    python bench/tripwire.py --offers 300     # another row of the table (a quicker check)

Builds the same seeded repository as `python bench/run.py` (bench/orggen.py: catalog import,
promote; untimed), runs one cold `clawpolicy compile` as a whole process and compares
its wall time with the "compile (cold)" median committed for 1,000 x 3,000. A run that reaches
the limit is stopped there. It catches a resolver whose cost grows with agents x offers again,
not small drifts: the committed figure may come from another machine. Not a pytest test
(timing assertions stay out of the suite).
"""

import argparse
import sys
import tempfile
from pathlib import Path

from measure import Command, CommandFailed, measure
from orggen import build, clawpolicy, reset_cold
from report import read_committed, size_label

AGENTS, OFFERS = 1_000, 3_000
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--factor", type=float, default=3.0)
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--offers", type=int, default=OFFERS)
    args = parser.parse_args()
    size = size_label(args.agents, args.offers)
    try:
        committed = read_committed(args.results, "cold", args.agents, args.offers)
    except (OSError, ValueError) as exc:
        print(f"tripwire: no committed cold compile figure for {size}: {exc}", file=sys.stderr)
        return 2
    limit = committed * args.factor
    with tempfile.TemporaryDirectory(prefix="clawpolicy-tripwire-") as temp:
        try:
            org = build(Path(temp) / "org", args.agents, args.offers, compiled=False)
            compile_command = Command([*clawpolicy(), "compile"], org.root)
            figure = measure(compile_command, 1, limit, before_each=reset_cold(org.root))
        except (SystemExit, CommandFailed) as exc:  # the generated repo does not compile
            print(f"tripwire: cannot measure: {exc}", file=sys.stderr)
            return 2
    measured = (
        f"stopped at {limit:.1f} s"
        if figure.timed_out
        else f"{figure.seconds:.2f} s (CPU {figure.cpu:.2f} s, peak {figure.peak_mb:.0f} MB)"
    )
    print(
        f"tripwire: cold compile of {size} agents x offers: {measured}; committed "
        f"{committed:.2f} s in {args.results.name}, limit {args.factor:g}x = {limit:.1f} s"
    )
    if figure.timed_out or figure.seconds > limit:
        print(
            "tripwire: FAILED: compile cost grew past the limit; profile it with "
            "python bench/bench_compile.py and see bench/RESULTS.md",
            file=sys.stderr,
        )
        return 1
    print("tripwire: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
