"""Stages 2-3 for one environment: resolve over locked chains, render, check, and build the lock
text (Project x Environment x locked chains -> Resolution and its two output files). Pure.

`compile` runs it for every environment that resolves on its own, `promote` for the target
with the promoted chains, and the pending report for the next promotion, in memory.
"""

from collections.abc import Collection, Mapping

from ..diagnostics import raise_if_errors
from ..load.catalog import Offer
from ..load.project import Environment, Project
from ..resolve.resolver import Resolution, resolve
from . import conformance, lockfile, renderer, schemacheck
from .writer import OutputFile, lock_path


def env_inputs(project: Project, env: Environment) -> dict[str, str]:
    """Digests of the files that decide this environment's output."""
    wanted = {"policies/tiers.yaml", env.path, *env.catalog_paths}
    return {
        path: digest
        for path, digest in project.input_digests.items()
        if path in wanted or path.startswith(("policies/teams/", "templates/"))
    }


def render_env(
    project: Project,
    env: Environment,
    locked: Mapping[str, tuple[str, ...]],
    promoted_from: str | None = None,
    kept: tuple[Collection[str], Mapping[str, Offer]] | None = None,
) -> tuple[Resolution, list[OutputFile]]:
    """Resolve `env` over `locked` chains, render and check it: its config and lock texts.

    Args:
        project: the loaded policy repo.
        env: the environment.
        locked: chains from the lock (or a promotion), keyed like `ChainResult.subject.key`.
        promoted_from: marks a lock that `promote` writes.
        kept: in a promotion, the keys that are NOT checked (chains the target keeps as it
            runs them) and the offers of models its catalogs no longer have.
    """
    resolution = resolve(project, env, locked, kept)
    rendered = renderer.render(project, resolution)
    raise_if_errors(
        [
            *conformance.check(rendered.text, rendered.relpath),
            *schemacheck.check(rendered, project, resolution),
        ]
    )
    document = lockfile.build(resolution, env_inputs(project, env), rendered.text, promoted_from)
    lock_text = lockfile.serialize(document)
    return resolution, [
        OutputFile(rendered.relpath, rendered.text),
        OutputFile(lock_path(env.name), lock_text),
    ]
