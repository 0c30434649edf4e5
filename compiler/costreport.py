"""The `cost` report: estimated monthly cost of every agent's primary, grouped by team, tier,
environment or agent, with headroom against budgets; and the team-split section of a PR comment.

`collect` reads the policy repository through `api` (compiled in memory; a promoted
environment is costed from the chains it runs, priced by its catalogs and workloads as they
stand, as compile checks its budgets);
everything else is pure. An agent without a workload, or whose primary's price is unknown or
variable, has no estimate: it is named, and counted as unknown, never as 0.
"""

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import api
from .diagnostics import CompileError, Severity
from .jsontext import cents
from .load.loader import load_project
from .load.project import Environment, Project
from .resolve.constraints import monthly_cost
from .resolve.resolver import ChainResult, Resolution, resolve

NO_WORKLOAD, PRICE_UNKNOWN, NOT_PROMOTED = "no workload", "price unknown", "not promoted"
PIE_SLICES = 12  # more groups are summed into one "other" slice


@dataclass(frozen=True, slots=True)
class CostLine:
    """One agent in one environment."""

    environment: str
    agent: str
    team: str
    tier: str | None
    primary: str | None
    monthly_cost: Decimal | None
    budget: Decimal | None  # the agent's budget, USD per month
    unknown: str | None = None  # why there is no estimate: no workload, price unknown, ...

    @property
    def headroom(self) -> Decimal | None:
        if self.budget is None or self.monthly_cost is None:
            return None
        return self.budget - self.monthly_cost


@dataclass(frozen=True, slots=True)
class EnvironmentTotal:
    environment: str
    monthly_cost: Decimal  # the sum of the known estimates
    budget: Decimal | None

    @property
    def headroom(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.monthly_cost


@dataclass(frozen=True, slots=True)
class CostGroup:
    key: str
    # known estimates summed per environment; None: none of the group's agents there has one
    by_environment: Mapping[str, Decimal | None]
    lines: tuple[CostLine, ...]
    budget: Decimal | None  # by environment: its budget; else the sum of the agents' budgets
    headroom: Decimal | None

    @property
    def monthly_cost(self) -> Decimal | None:
        """The known estimates summed; None when no agent of the group has one (unknown, not 0)."""
        known = [v for v in self.by_environment.values() if v is not None]
        return sum(known, Decimal(0)) if known else None

    @property
    def unknown(self) -> tuple[CostLine, ...]:
        return tuple(line for line in self.lines if line.unknown is not None)


@dataclass(frozen=True, slots=True)
class CostReport:
    by: str
    environments: tuple[EnvironmentTotal, ...]
    groups: tuple[CostGroup, ...]  # most expensive first, then by key
    lines: tuple[CostLine, ...]

    @property
    def unknown(self) -> tuple[CostLine, ...]:
        return tuple(line for line in self.lines if line.unknown is not None)


# --------------------------------------------------------------------------- collecting


def collect(root: Path, envs: Iterable[str] = ()) -> tuple[tuple[CostLine, ...], Project]:
    """Every (environment, agent) cost line of the selected environments (default: all),
    costed as compile costs them: a promoted environment's chains as it runs them, with the
    current workloads. An environment over its budget is costed all the same (the report is
    for exactly that case).

    Raises:
        CompileError: the repository does not load or an environment does not compile.
    """
    root = root.resolve()
    options = api.CompileOptions(root=root, envs=tuple(envs), write=False)
    try:
        result = api.compile_project(options)
        project, resolutions = result.project, dict(result.resolutions)
        chosen = api.select_environments(project, envs)
    except CompileError as exc:
        if any(d.code != "PC204" for d in exc.diagnostics if d.severity is Severity.ERROR):
            raise
        project = load_project(root)
        chosen = api.select_environments(project, envs)
        resolutions = _without_environment_budgets(project, root, chosen)
    lines: list[CostLine] = []
    for env in chosen:
        if env.name in resolutions:
            agents = resolutions[env.name].agents
            chains = {a: (r.refs[0], _current_cost(env, r)) for a, r in agents.items()}
        else:  # not promoted yet (no lock), or promoted beside an environment over budget
            lock = api.read_lock(root, env.name)
            costs = {a: Decimal(c) for a, c in lock.costs.items()}
            chains = {a: (refs[0], costs.get(a)) for a, refs in lock.chains.items()}
        lines += [_line(project, env, agent_id, chains.get(agent_id)) for agent_id in env.agent_ids]
    return tuple(lines), project


def _current_cost(env: Environment, result: ChainResult) -> Decimal | None:
    """The primary's estimate with its price and the agent's workload as they stand now: in a
    promoted environment the lock's figure is the one of the promotion (compile checks budgets
    with this one)."""
    if env.spec.promote_from is None:
        return result.cost
    workload = result.subject.workload  # the agent as the environment deploys it now
    return monthly_cost(result.chain[0], *workload) if workload and result.chain else None


def _without_environment_budgets(
    project: Project, root: Path, chosen: Iterable[Environment]
) -> dict[str, Resolution]:
    """The environments that resolve on their own, resolved as if they had no budget (PC204
    was their only error)."""
    found = {}
    for env in chosen:
        if env.spec.promote_from is None:
            free = dataclasses.replace(env, spec=env.spec.model_copy(update={"budget": None}))
            locked = api.locked_chains(
                api.read_lock(root, env.name), free, api.CompileOptions(root)
            )
            found[env.name] = resolve(project, free, locked)
    return found


def _line(
    project: Project,
    env: Environment,
    agent_id: str,
    chain: tuple[str, Decimal | None] | None,
) -> CostLine:
    agent = project.agents[agent_id]
    primary, cost = chain if chain is not None else (None, None)
    unknown = None
    if chain is None:
        unknown = NOT_PROMOTED
    elif agent.spec.workload is None:
        unknown, cost = NO_WORKLOAD, None
    elif cost is None:
        unknown = PRICE_UNKNOWN
    tier = agent.spec.tier or env.spec.default_tier
    override = env.agent_overrides.get(agent_id)  # the environment's budget for it wins
    budget = agent.spec.budget
    if override is not None and override.spec.budget is not None:
        budget = override.spec.budget
    return CostLine(env.name, agent_id, agent.team, tier, primary, cost, budget, unknown)


# --------------------------------------------------------------------------- grouping


def group(lines: Iterable[CostLine], by: str, project: Project) -> CostReport:
    """Group cost lines by team, tier, environment or agent."""
    items = tuple(lines)
    names = tuple(dict.fromkeys(line.environment for line in items))
    envs = tuple(
        EnvironmentTotal(
            name,
            sum((x.monthly_cost or Decimal(0) for x in items if x.environment == name), Decimal(0)),
            project.environments[name].spec.budget,
        )
        for name in names
    )
    keyed: dict[str, list[CostLine]] = {}
    for line in items:
        keyed.setdefault(_key(line, by), []).append(line)
    groups = [_group(key, tuple(members), by, envs) for key, members in keyed.items()]
    groups.sort(key=lambda g: (-(g.monthly_cost or Decimal(0)), g.key))
    return CostReport(by, envs, tuple(groups), items)


def _key(line: CostLine, by: str) -> str:
    value = {"team": line.team, "tier": line.tier, "environment": line.environment}.get(
        by, line.agent
    )
    return value or "(no tier)"


def _group(
    key: str, lines: tuple[CostLine, ...], by: str, envs: tuple[EnvironmentTotal, ...]
) -> CostGroup:
    per_env = {
        e.environment: _known_sum(x for x in lines if x.environment == e.environment)
        for e in envs
        if any(x.environment == e.environment for x in lines)
    }
    if by == "environment":
        [env] = [e for e in envs if e.environment == key]
        return CostGroup(key, per_env, lines, env.budget, env.headroom)
    budgeted = [x for x in lines if x.budget is not None and x.monthly_cost is not None]
    if not budgeted:
        return CostGroup(key, per_env, lines, None, None)
    budget = sum((x.budget or Decimal(0) for x in budgeted), Decimal(0))
    spent = sum((x.monthly_cost or Decimal(0) for x in budgeted), Decimal(0))
    return CostGroup(key, per_env, lines, budget, budget - spent)


def _known_sum(lines: Iterable[CostLine]) -> Decimal | None:
    known = [x.monthly_cost for x in lines if x.monthly_cost is not None]
    return sum(known, Decimal(0)) if known else None


# --------------------------------------------------------------------------- formats


def _estimate(value: Decimal | None) -> str:
    return "?" if value is None else f"{value:,.2f}"


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _title(report: CostReport) -> str:
    names = ", ".join(e.environment for e in report.environments)
    return f"Estimated monthly cost by {report.by} (USD; {names})"


def _rows(report: CostReport) -> tuple[list[str], list[list[str]]]:
    """The table both formats print: header, then one row per group and a total row."""
    envs = [e.environment for e in report.environments]
    header = [report.by, *envs, "total", "budget", "headroom", "unknown"]
    rows = [
        [
            g.key,
            *(_estimate(g.by_environment[e]) if e in g.by_environment else "" for e in envs),
            _estimate(g.monthly_cost),
            _money(g.budget),
            _money(g.headroom),
            str(len(g.unknown)) if g.unknown else "",
        ]
        for g in report.groups
    ]
    totals = [e.monthly_cost for e in report.environments]
    total = sum(totals, Decimal(0))
    unknown = str(len(report.unknown)) if report.unknown else ""
    rows.append(["total", *(_money(t) for t in totals), _money(total), "", "", unknown])
    return header, rows


def _unknown_lines(report: CostReport) -> list[str]:
    reasons: dict[str, list[str]] = {}
    for line in report.unknown:
        reasons.setdefault(line.unknown or "", []).append(f"{line.environment}/{line.agent}")
    return [f"{reason}: {', '.join(who)}" for reason, who in sorted(reasons.items())]


def _budget_lines(report: CostReport) -> list[str]:
    lines = []
    for env in report.environments:
        if env.budget is not None:
            share = f" ({env.monthly_cost / env.budget:.0%})" if env.budget else ""
            lines.append(
                f"{env.environment}: {_money(env.monthly_cost)} of {_money(env.budget)}{share}, "
                f"headroom {_money(env.headroom)}"
            )
    over = [x for x in report.lines if x.headroom is not None and x.headroom < 0]
    lines += [
        f"{x.environment}/{x.agent}: {_money(x.monthly_cost)} over its budget {_money(x.budget)}"
        for x in over
    ]
    return lines


def format_text(report: CostReport) -> str:
    header, rows = _rows(report)
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    table = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in (header, *rows)
    ]
    lines = [_title(report), "", *table]
    if report.unknown:
        lines += ["", f"{len(report.unknown)} agent(s) without an estimate (unknown, not 0):"]
        lines += [f"  {line}" for line in _unknown_lines(report)]
    budgets = _budget_lines(report)
    if budgets:
        lines += ["", "environment budgets:", *(f"  {line}" for line in budgets)]
    return "\n".join(lines) + "\n"


def _pie(report: CostReport) -> list[str]:
    slices = [(g.key, cost) for g in report.groups if (cost := g.monthly_cost or Decimal(0)) > 0]
    if len(slices) > PIE_SLICES:
        rest = sum((cost for _, cost in slices[PIE_SLICES - 1 :]), Decimal(0))
        slices = [*slices[: PIE_SLICES - 1], ("other", rest)]
    if not slices:
        return []
    lines = ["```mermaid", f"pie showData title Monthly cost by {report.by} (USD)"]
    lines += [f'    "{_label(key)}" : {cost:.2f}' for key, cost in slices]
    return [*lines, "```"]


def _label(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


def format_markdown(report: CostReport) -> str:
    """A markdown report: the table, a Mermaid pie of the groups, unknowns and budgets."""
    header, rows = _rows(report)
    lines = [f"### {_title(report)}", ""]
    lines += ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    pie = _pie(report)
    if pie:
        lines += ["", *pie]
    if report.unknown:
        lines += ["", f"**{len(report.unknown)} agent(s) without an estimate** (unknown, not 0):"]
        lines += ["", *(f"- {line}" for line in _unknown_lines(report))]
    budgets = _budget_lines(report)
    if budgets:
        lines += ["", "**Environment budgets**", "", *(f"- {line}" for line in budgets)]
    return "\n".join(lines) + "\n"


def to_payload(report: CostReport) -> dict[str, Any]:
    """The `cost --format json` payload (docs/json.md)."""
    return {
        "by": report.by,
        "environments": {
            e.environment: {
                "monthly_cost": cents(e.monthly_cost),
                "budget": e.budget,
                "headroom": cents(e.headroom),
            }
            for e in report.environments
        },
        "groups": [
            {
                "group": g.key,
                "monthly_cost": cents(g.monthly_cost),
                "by_environment": {k: cents(v) for k, v in g.by_environment.items()},
                "budget": g.budget,
                "headroom": cents(g.headroom),
                "unknown": len(g.unknown),
            }
            for g in report.groups
        ],
        "agents": [
            {
                "agent": x.agent,
                "environment": x.environment,
                "team": x.team,
                "tier": x.tier,
                "primary": x.primary,
                "monthly_cost": cents(x.monthly_cost),
                "budget": x.budget,
                "headroom": cents(x.headroom),
                "unknown": x.unknown,
            }
            for x in report.lines
        ],
    }


# --------------------------------------------------------------------------- team split


def team_split(lines: Iterable[CostLine]) -> dict[str, Decimal]:
    """Known monthly estimates summed per team (the input of `format_team_split`)."""
    split: dict[str, Decimal] = {}
    for line in lines:
        split[line.team] = split.get(line.team, Decimal(0)) + (line.monthly_cost or Decimal(0))
    return dict(sorted(split.items()))


def format_team_split(old: Mapping[str, Decimal], new: Mapping[str, Decimal]) -> str:
    """A short markdown section for a pull-request comment: each team's estimated monthly cost
    before and after; "" when no team's total moves.

    Example:
        >>> print(format_team_split({"a": Decimal(10)}, {"a": Decimal(12), "b": Decimal(3)}))
        #### Monthly cost by team
        <BLANKLINE>
        | team | before | after | change |
        |---|---:|---:|---:|
        | a | 10.00 | 12.00 | +2.00 |
        | b | - | 3.00 | +3.00 |
        | **total** | 10.00 | 15.00 | +5.00 |
        <BLANKLINE>
    """
    teams = sorted({*old, *new})
    moved = [t for t in teams if old.get(t) != new.get(t)]
    if not moved:
        return ""
    lines = ["#### Monthly cost by team", "", "| team | before | after | change |"]
    lines.append("|---|---:|---:|---:|")
    for team in moved:
        before, after = old.get(team), new.get(team)
        delta = (after or Decimal(0)) - (before or Decimal(0))
        lines.append(f"| {team} | {_money(before)} | {_money(after)} | {delta:+,.2f} |")
    total_old = sum(old.values(), Decimal(0))
    total_new = sum(new.values(), Decimal(0))
    lines.append(
        f"| **total** | {_money(total_old)} | {_money(total_new)} | {total_new - total_old:+,.2f} |"
    )
    return "\n".join(lines) + "\n"
