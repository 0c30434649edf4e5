"""Join markdown parts into one pull-request body that GitHub accepts (65,536 characters at most).

Shipped with the action (`scripts` output) for the promote and catalog-refresh workflows:

    python pr_body.py [--limit N] [--note TEXT] PART.md...

Parts are joined in the order given, separated by a blank line; empty parts are left out. When
the whole is longer than the limit (default 65,000 characters), the END is cut, at a line
break, and the note is appended, so the parts given first (errors, warnings) always survive.
Prints the body on stdout. Exit 2 when a part cannot be read.
"""

import argparse
import sys
from pathlib import Path

LIMIT = 65_000
NOTE = "... (truncated: the full report is on the workflow run's summary page)"


def join_parts(parts: list[str]) -> str:
    kept = [part.strip("\n") for part in parts if part.strip()]
    return "\n\n".join(kept) + "\n" if kept else ""


def fit(body: str, limit: int = LIMIT, note: str = NOTE) -> str:
    r"""body when it has at most limit characters, else its first whole lines plus the note.

    A code fence left open by the cut is closed before the note, so the note renders as text.

    Example:
        >>> fit("line one\nline two\nline three is long\n", limit=30, note="[cut]")
        'line one\nline two\n\n[cut]\n'
    """
    if len(body) <= limit:
        return body
    tail, fence = f"\n{note}\n", "```\n"
    head = body[: max(limit - len(tail) - len(fence), 0)]
    head = head[: head.rfind("\n") + 1]  # whole lines only ("" when there is no line break)
    fences = sum(1 for line in head.splitlines() if line.lstrip().startswith("```"))
    return head + (fence if fences % 2 else "") + tail


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="+", type=Path, metavar="PART.md")
    parser.add_argument("--limit", type=int, default=LIMIT, help="characters at most")
    parser.add_argument("--note", default=NOTE, help="appended when the body is cut")
    args = parser.parse_args(argv)
    try:
        texts = [path.read_text(encoding="utf-8") for path in args.parts]
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(fit(join_parts(texts), args.limit, args.note))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
