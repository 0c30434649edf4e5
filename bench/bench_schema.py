"""Benchmark: what the compile-time check against OpenClaw's JSON Schema costs.

    python bench/bench_schema.py                  # the example repo and a 10,000-agent org
    python bench/bench_schema.py --agents 2000

Prints what is paid once per process (importing jsonschema, loading a version's schema, and a
whole `clawpolicy compile --check` of the example repo with and without the check), then for
the example repo and for bench_compile.py's generated org: the time to check each rendered
output, and its share of an in-memory compile (which includes the check). Prints figures;
asserts nothing (timing belongs here, not in tests).
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_compile import REPO, generate  # the script's own folder is first on sys.path

from compiler import OPENCLAW_VERSIONS, api
from compiler.output import openclawschema, schemacheck


def best_of(runs: int, func, *args):  # type: ignore[no-untyped-def]
    """The fastest of `runs` calls, in seconds, and the last result."""
    best, value = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        value = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, value


def cpu_ms(*codes: str, runs: int = 15) -> list[float]:
    """The least CPU time (user + system) of `python -c code` for each of `codes`, in ms, over
    `runs` interleaved rounds: less disturbed than wall time on a busy machine."""
    best = [float("inf")] * len(codes)
    for _ in range(runs):
        for index, code in enumerate(codes):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=REPO)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            best[index] = min(best[index], used * 1000)
    return best


def _fresh_validators(version: str) -> openclawschema.Validators:
    openclawschema.validators.cache_clear()
    return openclawschema.validators(version)


def process_costs() -> None:
    print("once per process:")
    bare, imported = cpu_ms(
        "import compiler.output.renderer, compiler.load.loader",
        "import compiler.output.renderer, compiler.load.loader, jsonschema",
    )
    print(f"  import jsonschema                {imported - bare:7.1f} ms CPU")
    for version in OPENCLAW_VERSIONS:
        size = openclawschema.schema_path(version).stat().st_size
        took, _ = best_of(5, _fresh_validators, version)
        print(
            f"  load {version}, build validators {took * 1000:7.1f} ms  ({size / 1000:.0f} kB gzip)"
        )
    command = "from compiler.cli.main import main_group; main_group(['compile', '--check'])"
    without = "from compiler.output import schemacheck; schemacheck.check = lambda *a: []; "
    checked, unchecked = cpu_ms(command, without + command)
    print(
        f"  clawpolicy compile --check of the example repo: {checked:.0f} ms CPU, "
        f"{unchecked:.0f} ms without the check: {100 * (checked - unchecked) / checked:.0f} %"
    )


def compile_costs(label: str, root: Path, runs: int) -> None:
    print(f"{label}:")
    whole, result = best_of(runs, api.compile_project, api.CompileOptions(root=root, write=False))
    checked = 0.0
    for output in result.files:
        if not output.relpath.endswith("/openclaw.json"):
            continue
        env = result.project.environments[output.relpath.split("/")[1]]
        version = env.spec.openclaw_version
        took, found = best_of(runs, schemacheck.problems, json.loads(output.text), version)
        checked += took
        print(
            f"  check {env.name:<8} {took * 1000:8.1f} ms   {len(output.text) / 1000:8.0f} kB"
            f"   OpenClaw {version}, {len(found)} problem(s)"
        )
    print(f"  compile (in memory, with the check) {whole * 1000:8.1f} ms")
    print(
        f"  the check: {checked * 1000:.1f} ms = {100 * checked / whole:.0f} % of the compile"
        f" ({100 * checked / (whole - checked):.0f} % on top of a compile without it)"
    )


def generate_org(root: Path, agents: int, teams: int) -> None:
    """bench_compile.py's org, with every environment resolving on its own: prod, which only
    changes by promotion, becomes a copy of staging (no lock to promote from here)."""
    generate(root, agents, teams)
    folder = root / "policies" / "environments"
    staging = (folder / "staging.yaml").read_text(encoding="utf-8")
    prod = staging.replace("environment: staging\n", "environment: prod\n")
    (folder / "prod.yaml").write_text(prod, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=50)
    args = parser.parse_args()
    process_costs()
    compile_costs("example repo", REPO, runs=10)
    with tempfile.TemporaryDirectory() as temp:
        generate_org(Path(temp), args.agents, args.teams)
        compile_costs(f"generated org, {args.agents:,} agents", Path(temp), runs=2)


if __name__ == "__main__":
    main()
