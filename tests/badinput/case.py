"""One corpus row (`Case`) and the short builders the tables use, so each row stays one line:
what is changed, which command runs, and what must come out."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from compiler.output.renderer import TemplateLimits

from .base import CATALOG_DOC, CORE, FILES, PROD, TIERS, Append, Edit, Patch, Text, lines

MIB = 1024 * 1024
Response = tuple[int, Mapping[str, str], bytes]


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    exit: int
    code: str | None = None  # a diagnostic code the output must carry
    at: str | None = None  # "policies/x.yaml:3" (file:line), or the path a diagnostic names
    edits: Mapping[str, Edit] = field(default_factory=dict)
    base: str = "compiled"  # "fresh" (never compiled), "compiled", "git" (compiled, committed)
    committed: Mapping[str, Edit] = field(default_factory=dict)  # git: edits committed first
    drop: tuple[str, ...] = ()  # git: objects deleted from the clone (`HEAD:rendered/prod`)
    serve: Mapping[str, Response] = field(default_factory=dict)  # routes of {url}
    writes: tuple[str, ...] = ()  # sandbox globs a successful run may change
    limits: TemplateLimits | None = None


# command lines ({root}, {sandbox} and {url} are filled in by the runner)
V = ("validate", "--root", "{root}")
C = ("compile", "--root", "{root}")
CHECK = ("compile", "--check", "--root", "{root}")

# where appended lines land
COMMON = f"policies/teams/core.yaml:{lines(CORE) + 1}"  # a line appended to core.yaml
NEXT = f"policies/teams/core.yaml:{lines(CORE) + 2}"  # the line after it
TIER_LINE = f"policies/tiers.yaml:{lines(TIERS)}"  # see `tier`
PROD_LINE = f"policies/environments/prod.yaml:{lines(PROD) + 1}"
DEV_PROVIDER = "policies/environments/dev.yaml:5"
DEV_CATALOGS = "policies/environments/dev.yaml:3"
TEMPLATE_LINE = "templates/openclaw.json.j2:1"
TEMPLATE_FILE = "templates/openclaw.json.j2"
RENDERED_PROD = "rendered/prod/openclaw.json"


def core(
    case_id: str, line: str, code: str | None, at: str | None = COMMON, **more: object
) -> Case:
    """`line` added to the agent `coder` of core.yaml (at COMMON), then `validate`."""
    args = more.pop("args", V)
    exit_code = more.pop("exit", 2)
    return Case(case_id, args, exit_code, code, at, {CORE: Append(f"    {line}\n")}, **more)  # type: ignore[arg-type]


def tier(case_id: str, line: str, code: str | None = "PC103", exit_code: int = 2) -> Case:
    """tiers.yaml whose tier `smart` ends with `line` (at TIER_LINE, the file's last line): the
    key of that name is taken out of the tier, or its description when it has none."""
    key = line.split(":", 1)[0]
    base = FILES[TIERS].splitlines()
    smart = base[9:]
    gone = next((s for s in smart if s.startswith(f"    {key}:")), "    description: hard work")
    text = "\n".join([*base[:9], *(s for s in smart if s != gone), f"    {line}"]) + "\n"
    at = TIER_LINE if exit_code else None
    return Case(case_id, V, exit_code, code, at, {TIERS: Text(text)})


def patch(
    case_id: str, path: str, old: str, new: str, code: str | None, at: str | None, **more: object
) -> Case:
    """One replacement in a base file, then `validate` (or `args`)."""
    args = more.pop("args", V)
    exit_code = more.pop("exit", 2)
    return Case(case_id, args, exit_code, code, at, {path: Patch(old, new)}, **more)  # type: ignore[arg-type]


def catalog(**offer_changes: object) -> Text:
    """The base catalog with its first offer changed."""
    doc = json.loads(json.dumps(CATALOG_DOC))
    doc["offers"][0].update(offer_changes)
    return Text(json.dumps(doc, indent=2) + "\n")


def catalog_price(raw: str) -> Text:
    """The base catalog with its first offer's input price written as the raw JSON `raw`."""
    text = json.dumps(CATALOG_DOC, indent=2).replace('"input": 0.2', f'"input": {raw}', 1)
    return Text(text + "\n")


def template(first_line: str) -> Text:
    """A template whose line 1 is `first_line`, followed by a valid body."""
    return Text(
        first_line + '{"gateway": {"mode": "local"}, "models": {{ models | tojson }}, '
        '"agents": {{ agents | tojson }}}\n'
    )


def gateway(extra: str) -> Text:
    """A template whose gateway object also holds `extra` (JSON members)."""
    return Text(
        '{"gateway": {"mode": "local", ' + extra + '}, "models": {{ models | tojson }}, '
        '"agents": {{ agents | tojson }}}\n'
    )


def doc(value: object) -> Text:
    """A JSON file: `value` dumped, or a string used as it is."""
    return Text(value if isinstance(value, str) else json.dumps(value))


def deep(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth
