"""Benchmark: compile a generated org in-process and print where the time goes, stage by stage.

    python bench/bench_compile.py                        # 10,000 agents x 300 offers
    python bench/bench_compile.py --agents 1000 --offers 3000 --profile

The org is bench/orggen.py's (the same as `python bench/run.py`, which times whole processes);
here load, resolve and render of each environment that resolves are timed on their own, then
the full compile (cold, then no-op) through `compiler.api`. `--profile` adds the top functions
of a cProfile of the cold compile. Prints figures; asserts nothing (timing belongs here, not in
tests).
"""

import argparse
import cProfile
import pstats
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orggen import RESOLVED, import_catalog, write_policies

from compiler import api
from compiler.load.loader import load_project
from compiler.output import renderer
from compiler.resolve.resolver import resolve


def timed(label: str, func: Callable[..., Any], *args: Any) -> Any:
    start = time.perf_counter()
    value = func(*args)
    print(f"  {label:<28} {time.perf_counter() - start:8.3f} s")
    return value


def stages(root: Path) -> None:
    project = timed("load + validate", load_project, root)
    total = 0.0
    for name in RESOLVED:
        env = project.environments[name]
        start = time.perf_counter()
        resolution = resolve(project, env, {})
        middle = time.perf_counter()
        rendered = renderer.render(project, resolution)
        end = time.perf_counter()
        total += end - start
        print(
            f"  resolve {name:<8} {middle - start:8.3f} s   render {end - middle:6.3f} s"
            f"   {len(resolution.agents):,} chains, {len(rendered.text) / 1e6:.1f} MB"
        )
    print(f"  resolve + render, {len(RESOLVED)} envs  {total:8.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--offers", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="cProfile the cold compile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "org"
        org = write_policies(root, args.agents)
        import_catalog(root, args.offers)
        print(f"{args.agents:,} agents in {org.teams} teams x {args.offers:,} offers")
        stages(root)
        options = api.CompileOptions(root=root)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        timed("full compile (cold locks)", api.compile_project, options)
        if profiler:
            profiler.disable()
        timed("compile again (no-op)", api.compile_project, options)
        timed("compile --check", api.compile_project, api.CompileOptions(root=root, check=True))
        shutil.rmtree(root / "rendered")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
