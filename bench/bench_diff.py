"""Benchmark: `diff --against HEAD` on a generated repo with many agents after a tier change that
moves a fifth of them, and the three report formats.

    python bench/bench_diff.py                 # 10,000 agents, 3 environments
    python bench/bench_diff.py --agents 2000

Uses bench_compile's generator; commits the compiled repo in a temporary git repo, tightens the
`fast` tier (avoid google/*), then times each step. Prints figures; asserts nothing.
"""

import argparse
import os
import subprocess
import tempfile
from pathlib import Path

from bench_compile import generate, timed

from compiler.gitops import api, differ

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
    parser.add_argument("--teams", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        generate(root, args.agents, args.teams)
        print(f"{args.agents:,} agents in {args.teams} teams, environments: dev, staging, prod")
        timed("compile (write)", api.compile_project, api.CompileOptions(root=root))
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "base")
        tiers = root / "policies" / "tiers.yaml"
        text = tiers.read_text(encoding="utf-8")
        fast_avoid = 'avoid: ["*:free", "*preview*"]'  # the fast tier's: its primaries go
        tiers.write_text(text.replace(fast_avoid, 'avoid: ["*:free", "*preview*", "google/*"]', 1))
        options = api.DiffOptions(root=root, against="HEAD")
        report = timed("diff_project", api.diff_project, options)
        for name, formatter in (
            ("format_text", differ.format_text),
            ("format_markdown", differ.format_markdown),
            ("format_json", differ.format_json),
        ):
            output = timed(name, formatter, report)
            print(f"  {'':<28} {len(output):,} characters")
        chains = sum(len(e.agents) for e in report.environments)
        fields = sum(len(e.changes) for e in report.environments)
        print(f"  {chains:,} changed chain(s), {fields:,} field change(s)")


if __name__ == "__main__":
    main()
