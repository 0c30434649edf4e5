"""The floor: the least work any compile of a policy repository must do, as its own process.

    python bench/floor.py ROOT OUT               # compile's floor
    python bench/floor.py ROOT OUT --against OLD # diff's floor (OLD: the committed rendered/)

Reads every policies/**/*.yaml with libyaml (`yaml.load` with CSafeLoader), reads the catalog
snapshots (json), and writes the same JSON outputs `compile` wrote (every rendered/<env>/*.json,
with `json.dumps(indent=2)`) under OUT. Building the outputs is stood in for by parsing the ones
compile wrote. With --against it writes nothing and compares them, parsed, with those in OLD:
what a diff cannot avoid. No resolution, no validation, no template: a compiler cannot go below
this, so the benchmark prints every command's time as a multiple of it.
"""

import argparse
import json
from pathlib import Path

import yaml


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--against", type=Path, default=None)
    args = parser.parse_args()
    policies = args.root / "policies"
    for path in sorted(policies.rglob("*.yaml")):
        yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    for path in sorted((policies / "catalogs").glob("*.json")):
        json.loads(path.read_text(encoding="utf-8"))
    rendered = args.root / "rendered"
    differ = 0
    for path in sorted(rendered.rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        relative = path.relative_to(rendered)
        if args.against is not None:
            old = json.loads((args.against / relative).read_text(encoding="utf-8"))
            differ += old != document
            continue
        target = args.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        target.write_text(text, encoding="utf-8")
    if args.against is not None:
        print(f"{differ} file(s) differ")


if __name__ == "__main__":
    main()
