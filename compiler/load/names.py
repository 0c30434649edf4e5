"""Environment and agent names straight from the policy files, for shell completion: YAML only,
no validation and no pydantic, so a TAB answers in a blink. Files that do not read or parse
are skipped; a name is offered only where the file says it (the loader decides what is valid).
"""

from pathlib import Path
from typing import Any

from ..diagnostics import CompileError
from . import repofiles
from .yamlsource import parse


def _documents(folder: Path) -> list[Any]:
    found = []
    for path in sorted(folder.glob("*.yaml")):
        try:  # through repofiles: a FIFO or a link that leaves never stalls a TAB
            text = repofiles.read_text(path, repofiles.MAX_POLICY_BYTES, folder)
            found.append(parse(text, path.name).data)
        except (OSError, repofiles.FileProblem, CompileError):
            continue
    return found


def environment_names(root: Path) -> list[str]:
    """The `environment:` of every file under policies/environments/, sorted."""
    documents = _documents(root / "policies" / "environments")
    names = {d["environment"] for d in documents if isinstance(d, dict)}
    return sorted(name for name in names if isinstance(name, str))


def agent_names(root: Path) -> list[str]:
    """The agent ids of every team file under policies/teams/, sorted."""
    names: set[str] = set()
    for document in _documents(root / "policies" / "teams"):
        agents = document.get("agents") if isinstance(document, dict) else None
        if isinstance(agents, dict):
            names.update(str(agent_id) for agent_id in agents)
    return sorted(names)
