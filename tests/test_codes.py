"""The diagnostic-code table: every code the compiler emits is in `CODES` with a title, an
explanation and a fix, and docs/codes.md is what scripts/codes_md.py generates from it."""

import re
import subprocess
import sys

from compiler.diagnostics import CODES, format_code_reference
from tests.conftest import REPO


def emitted_codes() -> set[str]:
    found: set[str] = set()
    for path in (REPO / "compiler").rglob("*.py"):
        if path.name != "diagnostics.py":
            found |= set(re.findall(r'"(PC\d{3})"', path.read_text(encoding="utf-8")))
    return found


def test_every_emitted_code_is_documented() -> None:
    emitted = emitted_codes()
    assert len(emitted) >= 40
    assert emitted <= set(CODES), sorted(emitted - set(CODES))
    assert set(CODES) - emitted <= {"PC901"}  # no stale entry but the internal-error code


def test_every_code_says_what_why_and_how_to_fix() -> None:
    for code, info in CODES.items():
        assert re.fullmatch(r"PC\d{3}", code)
        assert info.title and not info.title.endswith(".")
        assert info.explanation.endswith(".") and info.fix.endswith("."), code


def test_docs_codes_md_is_in_sync() -> None:
    committed = (REPO / "docs" / "codes.md").read_text(encoding="utf-8")
    assert committed == format_code_reference(), "run: python scripts/codes_md.py > docs/codes.md"
    printed = subprocess.run(
        [sys.executable, "scripts/codes_md.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert printed == committed
    sections = re.findall(r"^## (PC\d{3}): ", committed, re.M)
    assert sections == list(CODES)
