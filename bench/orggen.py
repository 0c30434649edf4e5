"""Benchmark input: a policy repository shaped like a real org, built with the real commands.

    python bench/orggen.py /tmp/org --agents 1000 --offers 300

`write_policies` writes the YAML; `build` also generates the native catalog (bench/cataloggen),
imports it with `clawpolicy catalog import`, compiles and promotes staging to prod, so the repo
is what a team has committed. The shape (seeded: same sizes and seed, same bytes):

* the example repo's five tiers (`policies/tiers.yaml`); agents take them 35 % fast, 35 %
  standard, 10 % reasoning, 12 % vision, 8 % long-context;
* teams of about 80 agents, their sizes log-normal (a few large, many small);
* per agent, drawn independently: 60 % an own price ceiling of arbitrary value (30-100 % of
  the tier's output ceiling, 40 % of them an input ceiling too), 35 % a workload (log-normal,
  median 5M input tokens a month, output 5-50 % of input), a third of those a budget that the
  ceilings guarantee; fallbacks left to the tier for half, else 0-3; a few extra `requires`,
  `min_context`, `avoid`, `prefer`, `sort`, `diversity` and `thinking`. Nearly every agent is
  a distinct constraint set, as in real orgs;
* five environments with tier overrides and a utility tier: dev, qa, staging, lab (every third
  team) resolve against the catalog; prod has `promote_from: staging`, as the example repo's
  does; dev leaves 1 % of the agents out (`enabled: false`), qa gives 1 % one fallback.
"""

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cataloggen import CATALOG_DATE, generate_catalog

REPO = Path(__file__).resolve().parents[1]
CATALOG = f"openrouter-{CATALOG_DATE.isoformat()}.json"
RESOLVED = ("dev", "qa", "staging", "lab")  # environments compile resolves
PROMOTED = "prod"  # promote_from: staging
TIER_SHARES = {"fast": 35, "standard": 35, "reasoning": 10, "vision": 12, "long-context": 8}
AREAS = ("support", "sales", "platform", "data", "finance", "legal", "marketing", "research")
ROLES = ("triage", "reply", "summarizer", "reviewer", "router", "analyst", "writer", "planner")
BIG_VENDORS = ("google", "openai", "anthropic", "qwen", "mistralai", "meta-llama", "deepseek")
TEAM_SIZE = 80
# Keys some agents set beyond tier, ceiling and workload: (share of agents, key, YAML values);
# fallbacks 0/1/2/3 in proportions 2:4:3:1 for the half that do not take the tier's.
EXTRAS = (
    (0.50, "fallbacks", ("0", "0", "1", "1", "1", "1", "2", "2", "2", "3")),
    (0.08, "requires", ("[json]", "[vision]", "[reasoning]")),
    (0.06, "min_context", ("200k", "256k", "400k")),
    (0.05, "avoid", tuple(f'["{vendor}/*"]' for vendor in BIG_VENDORS)),
    (0.05, "prefer", tuple(f'["{vendor}/*"]' for vendor in BIG_VENDORS)),
    (0.10, "sort", ("price", "context", "newest")),
    (0.05, "diversity", ("none",)),
    (0.10, "thinking", ("low", "medium", "high")),
)
# The policy edit the diff measures: the fast tier stops using Google (moves many agents).
DIFF_EDIT = ('avoid: ["*:free", "*preview*"]', 'avoid: ["*:free", "*preview*", "google/*"]')

ENVIRONMENT = """\
version: 1
environment: {name}
description: {description}
{catalogs}template: openclaw.json.j2
providers:
  openrouter:
    base_url: https://openrouter.ai/api/v1
    api: openai-completions
    api_key: {{env: OPENROUTER_API_KEY}}
teams: {teams}
default_tier: standard
image_tier: vision
utility_tier: fast
tiers:
{overrides}
{agents}{tail}"""
OVERRIDES = {
    "dev": ("fast: {max_price: {output: 3.0}}", "standard: {fallbacks: 1}"),
    "qa": ("standard: {max_price: {input: 2.5, output: 12.0}}", "vision: {fallbacks: 2}"),
    "staging": ("reasoning: {fallbacks: 2}", "fast: {max_price: {output: 4.0}}"),
    "prod": ("reasoning: {fallbacks: 2}", "fast: {max_price: {output: 4.5}}"),
    "lab": ("standard: {sort: price}", "long-context: {fallbacks: 2}"),
}
# Per-environment agent overrides: (environment, share of its agents, the override)
AGENT_OVERRIDES = (("dev", 0.01, "{enabled: false}"), ("qa", 0.01, "{fallbacks: 1}"))


@dataclass(frozen=True, slots=True)
class Org:
    """What the benchmark needs to know about a generated repository."""

    root: Path
    agents: int
    offers: int
    teams: int
    explain_agent: str  # a standard agent with its own ceiling and workload


def write_policies(root: Path, agents: int, seed: int = 9) -> Org:
    """Write policies/ (tiers, teams, five environments) and templates/ under `root`."""
    rng = random.Random(seed)
    policies = root / "policies"
    (policies / "teams").mkdir(parents=True)
    (policies / "environments").mkdir()
    shutil.copy(REPO / "policies" / "tiers.yaml", policies / "tiers.yaml")
    shutil.copytree(REPO / "templates", root / "templates")
    tiers = yaml.safe_load((policies / "tiers.yaml").read_text(encoding="utf-8"))["tiers"]
    sizes = _team_sizes(agents, rng)
    names = [f"{AREAS[i % len(AREAS)]}-{i // len(AREAS) + 1:02d}" for i in range(len(sizes))]
    spend = 0.0
    explain_agent = first_agent = ""
    agent_ids: list[str] = []
    for team, size in zip(names, sizes, strict=True):
        lines = [
            "version: 1",
            f"team: {team}",
            f"description: The {team} team's assistants",
            f'owners: ["@acme/{team}"]',
            "agents:",
        ]
        for number in range(size):
            agent_id = f"{team}-{rng.choice(ROLES)}-{number:03d}"
            body, cost = _agent(rng, tiers)
            lines += [f"  {agent_id}:", *body]
            spend += cost
            agent_ids.append(agent_id)
            first_agent = first_agent or agent_id
            typical = body[0] == "    tier: standard" and cost and "max_price" in body[1]
            if not explain_agent and team == names[len(names) // 2] and typical:
                explain_agent = agent_id
        (policies / "teams" / f"{team}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lab_teams = "[" + ", ".join(names[::3]) + "]"
    overrides = dict.fromkeys((*RESOLVED, PROMOTED), "")
    for env, share, override in AGENT_OVERRIDES:
        chosen = sorted(rng.sample(agent_ids, max(1, round(len(agent_ids) * share))))
        overrides[env] = "agents:\n" + "".join(f"  {a}: {override}\n" for a in chosen)
    for env, agents_text in overrides.items():
        teams = '["*"]' if env != "lab" else lab_teams
        text = _environment(env, teams, agents_text, math.ceil(spend * 1.1))
        (policies / "environments" / f"{env}.yaml").write_text(text, encoding="utf-8")
    return Org(root, agents, 0, len(names), explain_agent or first_agent)


def _team_sizes(agents: int, rng: random.Random) -> list[int]:
    count = max(4, round(agents / TEAM_SIZE))
    weights = [rng.lognormvariate(0, 0.6) for _ in range(count)]
    sizes = [max(1, int(agents * w / sum(weights))) for w in weights]
    sizes[sizes.index(max(sizes))] += agents - sum(sizes)
    return sizes


def _agent(rng: random.Random, tiers: dict[str, Any]) -> tuple[list[str], float]:
    """An agent's YAML lines and the most its primary can cost a month (0 without workload)."""
    tier = rng.choices(list(TIER_SHARES), weights=list(TIER_SHARES.values()))[0]
    ceiling = {k: float(v) for k, v in tiers[tier]["max_price"].items()}
    lines = [f"    tier: {tier}"]
    if rng.random() < 0.6:
        ceiling["output"] = round(ceiling["output"] * rng.uniform(0.3, 1.0), 2)
        own = {"output": ceiling["output"]}
        if rng.random() < 0.4:
            ceiling["input"] = own["input"] = round(ceiling["input"] * rng.uniform(0.3, 1.0), 2)
        lines.append("    max_price: {" + ", ".join(f"{k}: {v}" for k, v in own.items()) + "}")
    cost = 0.0
    if rng.random() < 0.35:
        given = round(max(0.01, rng.lognormvariate(math.log(5), 1.2)), 2)
        made = round(max(0.01, given * rng.uniform(0.05, 0.5)), 2)
        lines.append(f"    workload: {{input_mtok: {given}, output_mtok: {made}}}")
        cost = given * ceiling["input"] + made * ceiling["output"]
        if rng.random() < 1 / 3:
            lines.append(f"    budget: {math.ceil(cost * rng.uniform(1.0, 1.5)) + 1}")
    lines += _extras(rng)
    return lines, cost


def _extras(rng: random.Random) -> list[str]:
    return [
        f"    {key}: {rng.choice(values)}" for share, key, values in EXTRAS if rng.random() < share
    ]


def _environment(name: str, teams: str, agents: str, budget: int) -> str:
    promoted = name == PROMOTED
    return ENVIRONMENT.format(
        name=name,
        description="Runs what was promoted from staging" if promoted else f"The {name} stage",
        catalogs="" if promoted else f"catalogs: [catalogs/{CATALOG}]\n",
        teams=teams,
        overrides="\n".join(f"  {line}" for line in OVERRIDES[name]),
        agents=agents,
        tail="promote_from: staging\n" if promoted else f"budget: {budget}\n",
    )


def reset_cold(root: Path) -> Callable[[], None]:
    """Before a cold compile: no lock or config for the environments compile resolves."""

    def reset() -> None:
        for env in RESOLVED:
            shutil.rmtree(root / "rendered" / env, ignore_errors=True)

    return reset


def clawpolicy() -> list[str]:
    """The console script of the interpreter running the benchmark (the project's venv)."""
    script = Path(sys.executable).parent / "clawpolicy"
    found = script if script.is_file() else shutil.which("clawpolicy")
    if found is None:
        raise SystemExit("bench: no clawpolicy command; pip install -e . first")
    return [str(found)]


def run_cli(root: Path, *args: str) -> str:
    """Run clawpolicy in `root`; any exit code but 0 stops the benchmark with its stderr."""
    done = subprocess.run(
        [*clawpolicy(), *args], cwd=root, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        command = " ".join(args)
        raise SystemExit(f"bench: clawpolicy {command} exited {done.returncode}:\n{done.stderr}")
    return done.stderr


def import_catalog(root: Path, offers: int, seed: int = 9) -> None:
    """Generate the native catalog next to `root` and `clawpolicy catalog import` it."""
    native = root.parent / f"{root.name}-openrouter-models.json"
    native.write_text(json.dumps(generate_catalog(offers, seed)), encoding="utf-8")
    target = f"policies/catalogs/{CATALOG}"
    run_cli(root, "catalog", "import", str(native), "--format", "openrouter",
            "--date", CATALOG_DATE.isoformat(), "-o", target)  # fmt: skip


def build(root: Path, agents: int, offers: int, seed: int = 9, compiled: bool = True) -> Org:
    """Generate, import the catalog, compile and promote staging to prod (as a team would).

    With `compiled=False` only prod has files (`promote` resolves staging in memory): the
    state a cold compile starts from, one compile sooner.
    """
    org = write_policies(root, agents, seed)
    import_catalog(root, offers, seed)
    if compiled:
        run_cli(root, "compile", "--quiet")
    run_cli(root, "promote", "staging", "prod", "--quiet")
    return Org(root, agents, offers, org.teams, org.explain_agent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="an empty or missing folder")
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--offers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--no-build", action="store_true", help="only write policies/")
    args = parser.parse_args()
    if args.no_build:
        org = write_policies(args.root, args.agents, args.seed)
    else:
        org = build(args.root, args.agents, args.offers, args.seed)
    print(f"{org.root}: {org.agents} agents in {org.teams} teams, explain {org.explain_agent}")


if __name__ == "__main__":
    main()
