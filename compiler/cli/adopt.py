"""The `clawpolicy init` command: flags in, `compiler.adopt.initializer` called, a summary (or
the JSON envelope) and an exit code out: 0 written, 2 user error (nothing written).
"""

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .base import EXIT_OK, Output, environments_json, output_options, user_errors

if TYPE_CHECKING:
    from ..adopt.initializer import InitResult

INIT_EPILOG = """\b
Writes a policy repository that compiles as it is: tiers, a team, dev / staging / prod
(prod promoted from staging), a starter catalog of real models with public prices, the
template, the JSON Schema for editors (.vscode/settings.json), a pre-commit config and
GitHub workflows; then compiles and promotes, so `clawpolicy compile --check` passes.
DIR must be empty (or hold only .git) unless --force; no file is ever overwritten:
with --force, optional files DIR has (README.md, .gitignore, ...) are kept and named in a
warning, and an existing policy, template or rendered file is an error.

\b
With --from, adopts a hand-written openclaw.json (strict JSON): its providers (keys as env
references; a literal key is never copied: a warning names the env var to set), its models
as a catalog snapshot, and every agent's chain, pinned so that the first compile renders the
same chains; what the policy language cannot say is named in warnings.

\b
Examples:
  clawpolicy init policies-repo
  clawpolicy init policies-repo --from ~/.openclaw/openclaw.json
  clawpolicy init . --force                 add to an existing repository
"""


@click.command("init", epilog=INIT_EPILOG)
@click.argument("directory", type=click.Path(path_type=Path), metavar="DIR")
@click.option(
    "--from",
    "adopt_from",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A hand-written openclaw.json to adopt.",
)
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="With --from: date of the adopted catalog snapshot (default: today, UTC).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Allow a non-empty DIR (never overwrites a file; keeps an existing README.md, ...).",
)
@output_options(("text", "json"))
def init(
    directory: Path, adopt_from: Path | None, day: datetime | None, force: bool, out: Output
) -> None:
    """Create a policy repository in DIR (or adopt an existing openclaw.json)."""
    from ..adopt import initializer

    if day is not None and adopt_from is None:
        raise click.UsageError("--date goes with --from (it dates the adopted catalog)")
    options = initializer.InitOptions(directory, adopt_from, day.date() if day else None, force)
    with user_errors(out):
        result = initializer.init_repo(options)
    out.diagnostics(result.warnings)
    if out.format == "json":
        payload = {
            "root": str(result.root),
            "files": [{"path": path, "status": "created"} for path in result.files],
            "environments": environments_json(result.resolutions),
        }
        out.report(payload, result.warnings)
    else:
        out.result(_summary(result))
    raise SystemExit(EXIT_OK)


def _summary(result: "InitResult") -> str:
    envs = ", ".join(result.resolutions)
    agents = len({a for r in result.resolutions.values() for a in r.agents})
    steps = [] if result.root.resolve() == Path.cwd().resolve() else [f"cd {result.root}"]
    if not _in_git_work_tree(result.root):
        steps.append("git init")
    steps += ["git add -A", "git commit -m 'clawpolicy init'"]
    return (
        f"created {result.root}: {len(result.files)} files, {agents} agent(s) in {envs}; "
        "rendered/ is compiled and up to date\n"
        f"next: {' && '.join(steps)}\n"
        "then: clawpolicy explain <agent> --env dev, clawpolicy cost --by team"
    )


def _in_git_work_tree(root: Path) -> bool:
    """DIR or a folder above it has `.git` (a folder, or a file for a worktree or submodule)."""
    home = root.resolve()
    return any((folder / ".git").exists() for folder in (home, *home.parents))
