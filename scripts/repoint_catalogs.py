"""Catalog refresh helper: point environments at a new snapshot, then drop unused old ones.

Shipped with the action (`scripts` output) for `.github/workflows/clawpolicy-catalog-refresh.yml`;
run it with the action's Python, which has PyYAML:

    python repoint_catalogs.py repoint FORMAT DATE [--root DIR] [--summary FILE] [--dry-run]
    python repoint_catalogs.py prune FORMAT --keep DATE [--root DIR] [--dry-run]

`repoint` rewrites, in every policies/environments/*.yaml WITHOUT `promote_from`, each
`catalogs:` entry `catalogs/FORMAT-YYYY-MM-DD.json` to `catalogs/FORMAT-DATE.json`. Only the
entry's characters change: comments, quoting, order and every other line stay as written. An
environment with `promote_from` is left alone: it changes only by `clawpolicy promote`. The
summary (JSON) names the entries replaced, the environments re-pointed and the promoted ones
with their source.

`prune`, run after `clawpolicy compile --upgrade`, deletes the snapshots
policies/catalogs/FORMAT-YYYY-MM-DD.json that no environment file lists and no lock file under
rendered/ records as an input (git history keeps them); the DATE given is always kept.

Exit codes: 0 done (also when nothing matched: a warning says so), 2 bad input (no environments
folder, a file that is not YAML, the new snapshot missing).
"""

import argparse
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ENVIRONMENTS = Path("policies") / "environments"
CATALOGS = Path("policies") / "catalogs"
LOCK_GLOB = "rendered/*/clawpolicy.lock.json"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FORMAT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class InputError(Exception):
    """A problem with the repository or the arguments: exit code 2."""


@dataclass
class Summary:
    format: str
    new: str
    old: list[str] = field(default_factory=list)
    repointed: list[str] = field(default_factory=list)
    promoted: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps(self.__dict__, indent=2) + "\n"


def snapshot_pattern(fmt: str) -> re.Pattern[str]:
    return re.compile(rf"^catalogs/{re.escape(fmt)}-\d{{4}}-\d{{2}}-\d{{2}}\.json$")


def environment_files(root: Path) -> list[Path]:
    folder = root / ENVIRONMENTS
    if not folder.is_dir():
        raise InputError(f"{folder}: no environments folder")
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def compose(path: Path, text: str) -> yaml.MappingNode:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(node, yaml.MappingNode):
        raise InputError(f"{path}: not a YAML mapping")
    return node


def top_level(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for key_node, value in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value if isinstance(value, yaml.Node) else None
    return None


def scalar(node: yaml.Node | None) -> str | None:
    """The value of a non-null scalar node, else None."""
    if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
        return str(node.value)
    return None


def catalog_entries(node: yaml.MappingNode) -> list[yaml.ScalarNode]:
    catalogs = top_level(node, "catalogs")
    if not isinstance(catalogs, yaml.SequenceNode):
        return []
    return [item for item in catalogs.value if isinstance(item, yaml.ScalarNode)]


def write_atomic(path: Path, text: str) -> None:
    """Replace path's content in one rename, so a kill never leaves half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def repoint_text(
    text: str, entries: list[yaml.ScalarNode], pattern: re.Pattern[str], new: str
) -> tuple[str, list[str]]:
    """text with each matching entry replaced in place (last first, so offsets hold)."""
    replaced = []
    for entry in sorted(entries, key=lambda n: n.start_mark.index, reverse=True):
        old = str(entry.value)
        start, end = entry.start_mark.index, entry.end_mark.index
        written = text[start:end]
        if old == new or not pattern.match(old) or old not in written:
            continue
        text = text[:start] + written.replace(old, new, 1) + text[end:]
        replaced.append(old)
    return text, sorted(replaced)


def repoint(root: Path, fmt: str, date: str, dry_run: bool) -> Summary:
    new = f"catalogs/{fmt}-{date}.json"
    if not (root / "policies" / new).is_file():
        raise InputError(f"{root / 'policies' / new}: the new snapshot does not exist")
    summary, pattern = Summary(format=fmt, new=new), snapshot_pattern(fmt)
    old: set[str] = set()
    for path in environment_files(root):
        text = path.read_text(encoding="utf-8")
        node = compose(path, text)
        name = scalar(top_level(node, "environment")) or path.stem
        source = scalar(top_level(node, "promote_from"))
        if source is not None:
            summary.promoted.append({"environment": name, "from": source, "file": rel(root, path)})
            print(f"{rel(root, path)}: left alone (promoted from {source})")
            continue
        updated, replaced = repoint_text(text, catalog_entries(node), pattern, new)
        if not replaced:
            continue
        old.update(replaced)
        summary.repointed.append(name)
        print(f"{rel(root, path)}: {', '.join(replaced)} -> {new}")
        if not dry_run:
            write_atomic(path, updated)
    summary.old = sorted(old)
    if not summary.repointed:
        print(
            f"warning: no environment without promote_from lists a {fmt} snapshot; {new} is unused",
            file=sys.stderr,
        )
    return summary


def referenced(root: Path) -> set[str]:
    """Repository-relative paths every environment file lists and every lock records."""
    paths: set[str] = set()
    for path in environment_files(root):
        node = compose(path, path.read_text(encoding="utf-8"))
        paths.update(f"policies/{entry.value}" for entry in catalog_entries(node))
    for lock in sorted(root.glob(LOCK_GLOB)):
        try:
            inputs = json.loads(lock.read_text(encoding="utf-8")).get("inputs", {})
        except (ValueError, AttributeError) as error:
            raise InputError(f"{lock}: not a clawpolicy lock file: {error}") from error
        paths.update(inputs)
    return {os.path.normpath(p).replace(os.sep, "/") for p in paths}


def prune(root: Path, fmt: str, keep: str, dry_run: bool) -> list[str]:
    pattern, kept = snapshot_pattern(fmt), f"catalogs/{fmt}-{keep}.json"
    used = referenced(root)
    removed = []
    for path in sorted((root / CATALOGS).glob(f"{fmt}-*.json")):
        entry = f"catalogs/{path.name}"
        if not pattern.match(entry) or entry == kept or f"policies/{entry}" in used:
            continue
        removed.append(rel(root, path))
        print(f"{rel(root, path)}: removed (no environment lists it, no lock records it)")
        if not dry_run:
            path.unlink()
    return removed


def rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    first = commands.add_parser("repoint", help="point environments at catalogs/FORMAT-DATE.json")
    second = commands.add_parser("prune", help="delete FORMAT snapshots nothing uses")
    for command in (first, second):
        command.add_argument("format", metavar="FORMAT")
        command.add_argument("--root", type=Path, default=Path("."))
        command.add_argument("--dry-run", action="store_true", help="write and delete nothing")
    first.add_argument("date", metavar="DATE")
    first.add_argument("--summary", type=Path, help="write the summary (JSON) here")
    second.add_argument("--keep", required=True, metavar="DATE")
    args = parser.parse_args(argv)
    if not FORMAT.match(args.format):
        parser.error(f"FORMAT {args.format!r} is not a catalog format name")
    date = args.date if args.command == "repoint" else args.keep
    if not DATE.match(date):
        parser.error(f"{date!r} is not a date YYYY-MM-DD")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        if args.command == "prune":
            prune(args.root, args.format, args.keep, args.dry_run)
            return 0
        summary = repoint(args.root, args.format, args.date, args.dry_run)
    except (InputError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.summary:
        args.summary.write_text(summary.as_json(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
