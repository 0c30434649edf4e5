"""Stage 1: read a policy repository into a Project (files -> Project). The only policy reader.

Discovers `policies/tiers.yaml`, `policies/teams/*.yaml`, `policies/environments/*.yaml` and the
catalog snapshots the environments name; validates each file with `spec.py`; then checks what
spans files (tier references, unique agent ids, providers, catalogs, templates). Every error of
the stage is collected and raised as one CompileError.
"""

import difflib
import fnmatch
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .. import OPENCLAW_VERSION, OPENCLAW_VERSIONS
from ..diagnostics import (
    CompileError,
    Diagnostic,
    Severity,
    Span,
    error,
    raise_if_errors,
    warning,
)
from ..redaction import shown
from . import repofiles
from .catalogloader import load_catalogs
from .envagents import agent_overrides
from .filereader import FileReader, LoadedFile
from .guardrails import check_project
from .project import Agent, Constraints, Environment, Project, Tier
from .providers import check_providers
from .spec import (
    AGENT_ID_RE,
    ConstraintSpec,
    EnvironmentFileSpec,
    TeamFileSpec,
    TiersFileSpec,
)
from .yamlsource import SourceMap

CONSTRAINT_KEYS = tuple(ConstraintSpec.model_fields)
MAX_AGENTS = 100_000  # agents in one repository (the benchmark compiles 10,000)


def _key_spans(source_map: SourceMap, where: tuple[Any, ...], keys: Any) -> dict[str, Span]:
    spans = {}
    for key in keys:
        span = source_map.values.get((*where, key))
        if span is not None:
            spans[key] = span
    return spans


def _layer(
    origin: str, spec: ConstraintSpec, source_map: SourceMap, where: tuple[Any, ...]
) -> Constraints:
    return Constraints(origin, spec, _key_spans(source_map, where, CONSTRAINT_KEYS))


def _policy_files(reader: FileReader, folder: Path) -> list[Path]:
    """The YAML files of a policy folder; anything else named *.yaml (a FIFO, a device) is
    listed too, so that reading it reports it instead of skipping it silently."""
    if not folder.is_dir():
        return []
    try:
        entries = repofiles.listing(reader.root, folder)
    except repofiles.FileProblem as exc:
        reader.problems.append(error("PC003", str(exc), Span(reader.rel(folder))))
        return []
    return [p for p in entries if p.suffix in {".yaml", ".yml"} and not p.is_dir()]


def _load_tiers(reader: FileReader, policies: Path) -> dict[str, Tier]:
    path = policies / "tiers.yaml"
    if not os.path.lexists(path):
        reader.problems.append(
            error(
                "PC112",
                "policies/tiers.yaml is missing",
                Span(reader.rel(path)),
                "hint: every policy repo defines its tiers in policies/tiers.yaml",
            )
        )
        return {}
    loaded = reader.load(path, TiersFileSpec)
    if loaded is None:
        return {}
    tiers = {}
    for name, spec in sorted(loaded.spec.tiers.items()):
        where = ("tiers", name)
        span = loaded.source_map.keys.get(where, Span(loaded.path, 1, 1))
        tiers[name] = Tier(name, spec, span, _layer(f"tier {name}", spec, loaded.source_map, where))
    return tiers


def _load_agents(
    reader: FileReader, policies: Path, tiers: Mapping[str, Tier]
) -> tuple[dict[str, Agent], set[str]]:
    agents: dict[str, Agent] = {}
    teams: dict[str, str] = {}
    for path in _policy_files(reader, policies / "teams"):
        loaded = reader.load(path, TeamFileSpec)
        if loaded is None:
            continue
        spec: TeamFileSpec = loaded.spec
        team_span = loaded.source_map.values.get(("team",), Span(loaded.path, 1, 1))
        if spec.team in teams:
            reader.problems.append(
                error(
                    "PC105",
                    f"team '{spec.team}' is defined twice",
                    team_span,
                    f"note: also defined in {teams[spec.team]}",
                )
            )
            continue
        teams[spec.team] = loaded.path
        if Path(loaded.path).stem != spec.team:
            reader.warnings.append(
                warning(
                    "PC117",
                    f"team '{spec.team}' is defined in {loaded.path}",
                    team_span,
                    "hint: name the file after the team (a typo in team: changes which "
                    "environments deploy its agents)",
                )
            )
        for agent_id, agent_spec in spec.agents.items():
            agent = _make_agent(reader, loaded, spec.team, agent_id, agent_spec)
            if agent is None:
                continue
            if agent_id in agents:
                reader.problems.append(
                    error(
                        "PC105",
                        f"agent id '{agent_id}' is used twice",
                        agent.span,
                        f"note: first defined at {agents[agent_id].span}",
                        "hint: agent ids are OpenClaw agent ids and must be unique org-wide",
                    )
                )
                continue
            _check_tier_ref(reader, tiers, agent_spec.tier, agent.spans.get("tier"))
            agents[agent_id] = agent
    return dict(sorted(agents.items())), set(teams)


def _make_agent(
    reader: FileReader, loaded: LoadedFile, team: str, agent_id: str, spec: Any
) -> Agent | None:
    where = ("agents", agent_id)
    span = loaded.source_map.keys.get(where, Span(loaded.path, 1, 1))
    if not AGENT_ID_RE.fullmatch(agent_id):
        reader.problems.append(
            error(
                "PC106",
                f"agent id {shown(agent_id, 'id')} is not a valid OpenClaw agent id",
                span,
                "note: ids must match ^[a-z0-9_][a-z0-9_-]{0,63}$ (lowercase, digits, _ and -)",
            )
        )
        return None
    spans = _key_spans(loaded.source_map, where, type(spec).model_fields)
    if spec.budget is not None and spec.workload is None:
        reader.problems.append(
            error(
                "PC102",
                f"agent '{agent_id}' sets budget but no workload",
                spans.get("budget", span),
                "hint: add workload: {input_mtok: N, output_mtok: M} so the cost can be estimated",
            )
        )
    layer = _layer(f"agent {agent_id}", spec, loaded.source_map, where)
    return Agent(agent_id, team, spec, span, layer, spans)


def _check_tier_ref(
    reader: FileReader, tiers: Mapping[str, Tier], name: str | None, span: Span | None
) -> None:
    if name is None or name in tiers or not tiers:
        return
    close = difflib.get_close_matches(name, list(tiers), n=1)
    hint = f"hint: did you mean '{close[0]}'?" if close else f"note: tiers: {', '.join(tiers)}"
    reader.problems.append(error("PC104", f"unknown tier '{name}'", span, hint))


EXPLAINS_ERRORS = ("PC113", "PC123")  # warnings shown with the errors of a failed load


def load_project(root: Path) -> Project:
    """Read and check every policy file under `root`.

    Raises:
        CompileError: every error found in the policy files (nothing is half-loaded).
    """
    root = root.resolve()
    reader = FileReader(root)
    policies = root / "policies"
    if not policies.is_dir():
        raise CompileError(
            (
                error(
                    "PC112",
                    f"no policies/ folder under {root}",
                    Span("policies"),
                    "hint: run clawpolicy at the root of a policy repo or pass --root",
                ),
            )
        )
    tiers = _load_tiers(reader, policies)
    before = len(reader.problems)
    agents, teams = _load_agents(reader, policies, tiers)
    if len(agents) > MAX_AGENTS:
        message = f"{len(agents):,} agents: a repository holds at most {MAX_AGENTS:,}"
        reader.problems.append(error("PC103", message, Span("policies/teams")))
    reader.agents_complete = len(reader.problems) == before
    warnings = reader.warnings
    templates = _load_templates(reader, root / "templates")
    envs = _load_environments(reader, root, (tiers, agents, teams, templates), warnings)
    _check_promotion_cycles(reader, envs)
    envs = _inherit_catalogs(envs)
    _check_pin_providers(reader, agents, envs)
    for finding in check_project(tiers, agents, envs):
        (reader.problems if finding.severity is Severity.ERROR else warnings).append(finding)
    # shown with the errors too, as what explains them: an unused tier (how a tier renamed in
    # tiers.yaml shows) and a teams pattern that matches no team (agents then not deployed)
    raise_if_errors([*reader.problems, *(w for w in warnings if w.code in EXPLAINS_ERRORS)])
    return Project(
        str(root),
        tiers,
        agents,
        envs,
        dict(sorted(reader.digests.items())),
        templates or {},
        tuple(sorted(warnings, key=Diagnostic.sort_key)),
    )


def _some(names: list[str], shown: int = 8) -> str:
    more = f" ... and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _check_pin_providers(
    reader: FileReader, agents: Mapping[str, Agent], envs: Mapping[str, Environment]
) -> None:
    """A pin's provider part that is no provider anywhere but close to one is a typo: without
    this check the pin would quietly match the model on another provider."""
    known = sorted({p.id for env in envs.values() for p in env.providers})
    for agent in agents.values():
        head = (agent.spec.pin or "").partition("/")[0]
        if not agent.spec.pin or head in known:
            continue
        close = difflib.get_close_matches(head, known, n=1, cutoff=0.75)
        if close:
            reader.problems.append(
                error(
                    "PC115",
                    f"pin '{agent.spec.pin}' names unknown provider '{head}'",
                    agent.spans.get("pin", agent.span),
                    f"hint: did you mean '{close[0]}'?",
                    f"note: providers: {', '.join(known)}",
                )
            )


def _inherit_catalogs(envs: Mapping[str, Environment]) -> dict[str, Environment]:
    """A promoted environment that lists no catalogs uses its source's (walking up the
    promote_from chain), so a catalog refresh of the source needs no edit of the target."""
    found = dict(envs)
    for name, env in envs.items():
        if env.spec.catalogs or env.spec.promote_from is None:
            continue
        source, seen = envs.get(env.spec.promote_from), {name}
        while source is not None and not source.spec.catalogs and source.name not in seen:
            seen.add(source.name)
            source = envs.get(source.spec.promote_from or "")
        if source is not None and source.spec.catalogs:
            found[name] = replace(env, catalog=source.catalog, catalog_paths=source.catalog_paths)
    return found


def _check_promotion_cycles(reader: FileReader, envs: Mapping[str, Environment]) -> None:
    """`promote_from` must end at an environment that resolves on its own."""
    for name, env in envs.items():
        seen = [name]
        current = env.spec.promote_from
        while current is not None and current in envs and current not in seen:
            seen.append(current)
            current = envs[current].spec.promote_from
        if current == name:
            reader.problems.append(
                error(
                    "PC118",
                    f"promote_from forms a cycle: {' <- '.join([*seen, name])}",
                    env.spans.get("promote_from", env.span),
                    "hint: one environment of the chain must resolve on its own",
                )
            )


def _load_templates(reader: FileReader, folder: Path) -> dict[str, str] | None:
    """Every file under templates/, so rendering (with includes) needs no further IO; at most
    MAX_TEMPLATE_FILES files and MAX_TEMPLATE_BYTES in all, never through a link that leaves.
    None when templates/ itself cannot be read (PC003 then, and no "not found" on top)."""
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    try:
        paths = repofiles.walk(reader.root, folder, repofiles.MAX_TEMPLATE_FILES)
        total = sum(os.stat(path).st_size for path in paths if os.path.exists(path))
    except (repofiles.FileProblem, OSError) as exc:
        reader.problems.append(error("PC003", str(exc), Span(reader.rel(folder))))
        return None
    limit = repofiles.MAX_TEMPLATE_BYTES
    if total > limit:
        message = f"templates/ holds more than {limit // repofiles.MIB} MiB"
        reader.problems.append(error("PC003", message, Span(reader.rel(folder))))
        return None
    for path in paths:
        text = reader.read_text(path, limit=limit)
        if text is not None:
            found[path.relative_to(folder).as_posix()] = text
    return found


def _load_environments(
    reader: FileReader, root: Path, known: tuple[Any, ...], warnings: list[Diagnostic]
) -> dict[str, Environment]:
    """Every environment file; `known` is (tiers, agents, teams, templates) loaded so far."""
    tiers, agents, teams, templates = known
    loaded_files = []
    paths = _policy_files(reader, root / "policies" / "environments")
    for path in paths:
        loaded = reader.load(path, EnvironmentFileSpec)
        if loaded is not None:
            loaded_files.append(loaded)
    if not loaded_files and not reader.problems:
        reader.problems.append(
            error(
                "PC112", "no environments in policies/environments/", Span("policies/environments")
            )
        )
    # None: a file failed to load, so its name is unknown and promote_from is not checked
    names = {f.spec.environment for f in loaded_files} if len(loaded_files) == len(paths) else None
    envs: dict[str, Environment] = {}
    for loaded in loaded_files:
        context = (tiers, agents, teams, names, templates)
        env = _make_environment(reader, root, loaded, context, warnings)
        if env is None:
            continue
        if env.name in envs:
            reader.problems.append(
                error(
                    "PC103",
                    f"environment '{env.name}' is defined twice",
                    env.span,
                    f"note: also defined in {envs[env.name].path}",
                )
            )
            continue
        envs[env.name] = env
    return dict(sorted(envs.items()))


def _make_environment(
    reader: FileReader,
    root: Path,
    loaded: LoadedFile,
    context: tuple[Any, ...],
    warnings: list[Diagnostic],
) -> Environment | None:
    tiers, agents, teams, env_names, templates = context
    spec: EnvironmentFileSpec = loaded.spec
    smap = loaded.source_map
    spans = _key_spans(smap, (), type(spec).model_fields)
    span = spans.get("environment", Span(loaded.path, 1, 1))
    before = len(reader.problems)
    for key in ("default_tier", "image_tier", "utility_tier", "pdf_tier"):
        _check_tier_ref(reader, tiers, getattr(spec, key), spans.get(key))
    _check_openclaw_version(reader, spec.openclaw_version, spans.get("openclaw_version"))
    overrides = {}
    for name, override in sorted(spec.tiers.items()):
        _check_tier_ref(reader, tiers, name, smap.keys.get(("tiers", name)))
        overrides[name] = _layer(
            f"environment {spec.environment} override of tier {name}",
            override,
            smap,
            ("tiers", name),
        )
    providers = check_providers(reader, loaded)
    known_names = env_names if env_names is not None else {spec.promote_from}
    if spec.promote_from is not None and spec.promote_from not in known_names:
        reader.problems.append(
            error(
                "PC108",
                f"promote_from names unknown environment '{spec.promote_from}'",
                spans.get("promote_from"),
            )
        )
    if spec.promote_from == spec.environment:
        reader.problems.append(
            error("PC108", "an environment cannot promote from itself", spans.get("promote_from"))
        )
    # a team file that failed to load is not "no team": PC113 only when every team loaded
    agent_ids = _deployed_agents(
        spec, smap, agents, teams, warnings if reader.agents_complete else []
    )
    overrides_of_agents, agent_ids = agent_overrides(reader, loaded, agents, agent_ids)
    if not agent_ids and reader.agents_complete:
        reader.problems.append(
            error(
                "PC116",
                f"environment '{spec.environment}' deploys no agents",
                spans.get("teams", span),
                "note: OpenClaw rejects a config whose agents.entries is empty",
                f"note: teams: {', '.join(spec.teams) or '(none)'}; "
                f"known teams: {_some(sorted(teams)) or '(none)'}",
            )
        )
    if Path(loaded.path).stem != spec.environment:
        warnings.append(
            warning(
                "PC117",
                f"environment '{spec.environment}' is defined in {loaded.path}",
                span,
                f"note: its output goes to rendered/{spec.environment}/",
                "hint: name the file after the environment, or the environment after the file",
            )
        )
    # with a broken team file the agent set is incomplete: do not pile errors on top of it
    if (
        spec.system_agent is not None
        and spec.system_agent not in agent_ids
        and reader.agents_complete
    ):
        reader.problems.append(
            error(
                "PC103",
                f"system_agent '{spec.system_agent}' is not deployed in "
                f"environment '{spec.environment}'",
                spans.get("system_agent"),
            )
        )
    if templates is not None and spec.template not in templates:
        reader.problems.append(
            error(
                "PC114",
                f"template templates/{spec.template} not found",
                spans.get("template", span),
            )
        )

    catalog, catalog_paths = load_catalogs(reader, root, loaded, spans)
    if len(reader.problems) > before:
        return None
    return Environment(
        spec.environment,
        loaded.path,
        spec,
        span,
        spans,
        providers,
        overrides,
        catalog,
        catalog_paths,
        agent_ids,
        overrides_of_agents,
    )


def _check_openclaw_version(reader: FileReader, version: str, span: Span | None) -> None:
    if version in OPENCLAW_VERSIONS:
        return
    reader.problems.append(
        error(
            "PC103",
            f"openclaw_version '{version}' is not supported",
            span,
            f"note: supported versions: {', '.join(OPENCLAW_VERSIONS)} "
            f"(default {OPENCLAW_VERSION})",
        )
    )


def _deployed_agents(
    spec: EnvironmentFileSpec,
    smap: SourceMap,
    agents: Mapping[str, Agent],
    teams: set[str],
    warnings: list[Diagnostic],
) -> tuple[str, ...]:
    for index, pattern in enumerate(spec.teams):
        if not fnmatch.filter(sorted(teams), pattern):
            close = difflib.get_close_matches(pattern, sorted(teams), n=1, cutoff=0.5)
            close = [t for t in sorted(teams) if t.lower() == pattern.lower()] or close
            warnings.append(
                warning(
                    "PC113",
                    f"teams pattern '{pattern}' matches no team",
                    smap.values.get(("teams", index)),
                    *([f"hint: did you mean '{close[0]}'?"] if close else []),
                    f"note: teams: {_some(sorted(teams)) or '(none)'}",
                )
            )
    return tuple(
        sorted(
            agent_id
            for agent_id, agent in agents.items()
            if any(fnmatch.fnmatchcase(agent.team, pattern) for pattern in spec.teams)
        )
    )
