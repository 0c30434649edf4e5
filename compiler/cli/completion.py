"""Shell completion of environment and agent names (click `shell_complete` callbacks).

The names come from `compiler.load.names`, which parses YAML only: completing never loads
pydantic or compiles. The policy repository is the command's `--root` when it was typed before
the word being completed, else the current directory. Enable it in a shell with
`eval "$(_CLAWPOLICY_COMPLETE=bash_source clawpolicy)"` (zsh: `zsh_source`, fish:
`fish_source`; see the README).
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem


def _root(ctx: click.Context) -> Path:
    root = ctx.params.get("root")
    return Path(root) if root else Path(".")


def _completer(
    which: str,
) -> Callable[[click.Context, click.Parameter, str], list[CompletionItem]]:
    """Completes with `compiler.load.names.<which>`, imported only on a TAB (it reads YAML:
    `--help` and `--version` load no YAML parser)."""

    def complete(
        ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        del param
        from ..load import names

        found: Callable[[Path], list[str]] = getattr(names, which)
        return [CompletionItem(n) for n in found(_root(ctx)) if n.startswith(incomplete)]

    return complete


complete_environments = _completer("environment_names")
complete_agents = _completer("agent_names")


def env_option(
    help_text: str = "Only this environment (repeatable).",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The `--env ENV` option (repeatable, into `envs`) with environment names completed."""
    return click.option(
        "--env",
        "envs",
        multiple=True,
        metavar="ENV",
        help=help_text,
        shell_complete=complete_environments,
    )
