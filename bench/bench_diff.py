"""Benchmark: `diff --against HEAD` in-process on a generated org after a tier change that moves
many agents, and the three report formats.

    python bench/bench_diff.py                 # 10,000 agents x 300 offers
    python bench/bench_diff.py --agents 2000 --offers 3000

The org is bench/orggen.py's, built with the real commands and committed in a temporary git
repository; the fast tier then stops using Google (`orggen.DIFF_EDIT`) and each step is timed
(`python bench/run.py` times the whole `clawpolicy diff` process). Prints figures; asserts
nothing.
"""

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

from bench_compile import timed
from orggen import DIFF_EDIT, build

from compiler.gitops import api, diffmarkdown, diffreport

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=GIT_ENV, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--offers", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "org"
        org = build(root, args.agents, args.offers)
        print(f"{args.agents:,} agents in {org.teams} teams x {args.offers:,} offers")
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "base")
        tiers = root / "policies" / "tiers.yaml"
        tiers.write_text(tiers.read_text(encoding="utf-8").replace(*DIFF_EDIT, 1))
        options = api.DiffOptions(root=root, against="HEAD")
        report = timed("diff_project", api.diff_project, options)
        for name, formatter in (
            ("format_text", diffreport.format_text),
            ("format_markdown", diffmarkdown.format_markdown),
            ("format_json", diffreport.format_json),
        ):
            output = timed(name, formatter, report)
            print(f"  {'':<28} {len(output):,} characters")
        chains = sum(len(e.agents) for e in report.environments)
        fields = sum(len(e.changes) for e in report.environments)
        print(f"  {chains:,} changed chain(s), {fields:,} field change(s)")


if __name__ == "__main__":
    main()
