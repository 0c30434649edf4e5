"""Benchmark: compile a generated policy repo with many agents and print where the time goes.

    python bench/bench_compile.py                 # 10,000 agents, 3 environments
    python bench/bench_compile.py --agents 2000 --teams 20

Agents are spread over teams and get a few distinct constraint sets (as real orgs do), against
the example repo's catalogs. Prints figures; asserts nothing (timing belongs here, not in tests).
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from compiler import api
from compiler.load.loader import load_project
from compiler.output import renderer
from compiler.resolve.resolver import resolve

REPO = Path(__file__).resolve().parents[1]
TIERS = ("fast", "standard", "reasoning", "vision", "long-context")
VARIANTS = (
    "",
    "      max_price: {output: 4.0}\n",
    "      requires: [json]\n",
    "      fallbacks: 1\n",
    "      workload: {input_mtok: 2, output_mtok: 1}\n",
)


def generate(root: Path, agents: int, teams: int) -> None:
    shutil.copytree(REPO / "policies" / "catalogs", root / "policies" / "catalogs")
    env_dir = root / "policies" / "environments"
    env_dir.mkdir(parents=True)
    for source in sorted((REPO / "policies" / "environments").glob("*.yaml")):
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [
            line for line in lines if not line.startswith(("system_agent:", "budget:", "teams:"))
        ]
        kept.append('teams: ["*"]\n')
        (env_dir / source.name).write_text("".join(kept), encoding="utf-8")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "policies" / "tiers.yaml", root / "policies" / "tiers.yaml")
    team_dir = root / "policies" / "teams"
    team_dir.mkdir(parents=True)
    per_team = agents // teams
    for team in range(teams):
        lines = ["version: 1", f"team: team{team:03d}", "agents:"]
        for index in range(per_team):
            number = team * per_team + index
            lines.append(f"  agent-{number:05d}:")
            lines.append(f"    tier: {TIERS[number % len(TIERS)]}")
            lines.append(VARIANTS[number % len(VARIANTS)].rstrip("\n").replace("      ", "    "))
        (team_dir / f"team{team:03d}.yaml").write_text(
            "\n".join(line for line in lines if line) + "\n", encoding="utf-8"
        )


def timed(label: str, func, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = func(*args)
    print(f"  {label:<28} {time.perf_counter() - start:8.3f} s")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        generate(root, args.agents, args.teams)
        print(f"{args.agents:,} agents in {args.teams} teams, environments: dev, staging, prod")
        project = timed("load + validate", load_project, root)
        total = 0.0
        for env in project.environments.values():
            start = time.perf_counter()
            resolution = resolve(project, env, {})
            middle = time.perf_counter()
            rendered = renderer.render(project, resolution)
            end = time.perf_counter()
            total += end - start
            print(
                f"  resolve {env.name:<8} {middle - start:8.3f} s   render {end - middle:6.3f} s"
                f"   {len(resolution.agents):,} chains, {len(rendered.text) / 1e6:.1f} MB"
            )
        print(f"  resolve + render, all envs   {total:8.3f} s")
        start = time.perf_counter()
        api.compile_project(api.CompileOptions(root=root))
        print(f"  full compile (cold locks)    {time.perf_counter() - start:8.3f} s")
        start = time.perf_counter()
        api.compile_project(api.CompileOptions(root=root, check=True))
        print(f"  compile --check (locked)     {time.perf_counter() - start:8.3f} s")


if __name__ == "__main__":
    main()
