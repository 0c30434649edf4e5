"""`clawpolicy --help` and `--version` load neither pydantic nor jinja2 (shell completion:
tests/test_completion.py).

Each case runs the CLI in a fresh interpreter (imports are process-wide) and reports which
heavy packages ended up in `sys.modules`; a meta-path finder also records who asked for them,
so a failure names the import chain to make lazy.
"""

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO

HEAVY = ("pydantic", "jinja2")

PROBE = """
import json, sys, traceback

HEAVY = {heavy!r}
asked = []


class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY and not asked:
            ours = [f for f in traceback.extract_stack()[:-1] if "compiler" in f.filename]
            asked.append([f"{{f.filename}}:{{f.lineno}}" for f in ours])
        return None  # let the normal finders import it: the probe only records


sys.meta_path.insert(0, Recorder())
from compiler.cli.main import main_group

code = None
try:
    main_group({args!r}, prog_name="clawpolicy")
except SystemExit as exc:
    code = exc.code
loaded = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
print("\\n" + json.dumps({{"code": code, "loaded": loaded, "asked": asked}}))
"""


def run_probe(args: list[str]) -> tuple[dict[str, Any], str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY, args=args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    output, _, last = completed.stdout.rstrip("\n").rpartition("\n")
    return json.loads(last), output


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--help"], id="help"),
        pytest.param(["--version"], id="version"),
        pytest.param(["compile", "--help"], id="compile-help"),
        pytest.param(["catalog", "--help"], id="catalog-help"),
        pytest.param(["catalog", "import", "--help"], id="catalog-import-help"),
        pytest.param(["diff", "--help"], id="diff-help"),
        pytest.param(["promote", "--help"], id="promote-help"),
        pytest.param(["cost", "--help"], id="cost-help"),
        pytest.param(["init", "--help"], id="init-help"),
    ],
)
def test_help_and_version_load_no_pydantic_or_jinja2(args: list[str]) -> None:
    report, output = run_probe(args)
    assert report["code"] in (0, None)
    assert "clawpolicy" in output or "Usage" in output
    assert report["loaded"] == [], report["asked"]


def test_the_probe_sees_a_command_that_needs_pydantic() -> None:
    """The check itself: a command that runs the compiler does load them, and the probe says so."""
    report, _ = run_probe(["validate", "--root", str(REPO), "--quiet"])
    assert report["code"] == 0
    assert {"pydantic", "jinja2"} <= set(report["loaded"])
    assert any("compiler/cli/main.py" in frame for frame in report["asked"][0])
