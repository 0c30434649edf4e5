"""Golden end-to-end cases: `tests/cases/<name>/` holds a policy repo (`policies/`, optional
`templates/`; without one the fixture's minimal template is used) and `expected/`, what
`clawpolicy compile` must produce, byte for byte:

* `expected/rendered/<env>/openclaw.json` and `clawpolicy.lock.json`: every file written under
  `rendered/` (no `expected/rendered/` means nothing may be written);
* `expected/diagnostics.txt`: the exact text-format stderr (no file means stderr is empty).

The exit code follows: 0 when something is rendered, 2 otherwise. A case without `expected/`
fails. `python -m pytest tests/test_cases.py --update-goldens` rewrites `expected/` from the actual
output; review `git diff tests/cases` before committing.
"""

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import OPENCLAW_VERSION, OPENCLAW_VERSIONS
from tests.support.openclaw import ValidationResult, Validator, unexpected_warnings

CASES = Path(__file__).resolve().parent / "cases"
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
INPUTS = ("policies", "templates")


def case_files(case: Path) -> dict[str, str]:
    """{repo-relative path: text} of a case's inputs."""
    return {
        path.relative_to(case).as_posix(): path.read_text(encoding="utf-8")
        for folder in INPUTS
        if (case / folder).is_dir()
        for path in sorted((case / folder).rglob("*"))
        if path.is_file()
    }


def tree(folder: Path) -> dict[str, bytes]:
    """{relative path: bytes} of every file under `folder` (empty when it does not exist)."""
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_expected(expected: Path, rendered: dict[str, bytes], stderr: str) -> None:
    shutil.rmtree(expected, ignore_errors=True)
    expected.mkdir()
    for relpath, data in rendered.items():
        target = expected / "rendered" / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if stderr:
        (expected / "diagnostics.txt").write_text(stderr, encoding="utf-8")


def run_case(case: Path, root: Path, cli: Callable[..., Any], update: bool) -> None:
    """Compile the case's repo (built at `root`) and compare with, or rewrite, `expected/`."""
    result = cli("compile", "--root", str(root), env={"NO_COLOR": "1"})
    rendered = tree(root / "rendered")
    stderr = result.stderr.replace(str(root), "<root>")
    expected = case / "expected"
    if update:
        write_expected(expected, rendered, stderr)
    if not expected.is_dir():
        pytest.fail(f"{case} has no expected/; create it with pytest --update-goldens")
    assert result.exit_code == (0 if rendered else 2), result.stdout + result.stderr
    diagnostics = expected / "diagnostics.txt"
    assert stderr == (diagnostics.read_text(encoding="utf-8") if diagnostics.exists() else "")
    assert rendered == tree(expected / "rendered")


def test_there_are_golden_cases() -> None:
    errors = [n for n in NAMES if n.startswith("err-")]
    assert len(NAMES) >= 8
    assert errors
    assert len(errors) < len(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_case(
    name: str, make_project: Callable[..., Path], cli: Callable[..., Any], update_goldens: bool
) -> None:
    case = CASES / name
    files = case_files(case)
    assert "policies/tiers.yaml" in files, f"{case} has no policies/"
    run_case(case, make_project(files), cli, update_goldens)


def test_case_without_expected_fails_loudly(
    tmp_path: Path, make_project: Callable[..., Path], cli: Callable[..., Any]
) -> None:
    case = tmp_path / "new-case"
    shutil.copytree(CASES / "shortfall-warning" / "policies", case / "policies")
    root = make_project(case_files(case))
    with pytest.raises(pytest.fail.Exception, match="has no expected/"):
        run_case(case, root, cli, update=False)


def test_update_goldens_writes_what_the_next_run_expects(
    tmp_path: Path, make_project: Callable[..., Path], cli: Callable[..., Any]
) -> None:
    case = tmp_path / "new-case"
    shutil.copytree(CASES / "shortfall-warning" / "policies", case / "policies")
    (case / "expected" / "rendered" / "stale").mkdir(parents=True)
    run_case(case, make_project(case_files(case)), cli, update=True)
    assert tree(case / "expected") == tree(CASES / "shortfall-warning" / "expected")
    fresh = make_project(case_files(case), root=tmp_path / "again")
    run_case(case, fresh, cli, update=False)


def target_version(output: Path) -> str:
    """The `openclaw_version` of the environment a golden output belongs to
    (`<case>/expected/rendered/<env>/openclaw.json`; the file is named after the environment)."""
    case, env = output.parents[3], output.parent.name
    spec = yaml.safe_load((case / "policies" / "environments" / f"{env}.yaml").read_text())
    return str(spec.get("openclaw_version", OPENCLAW_VERSION))


def failures(results: Sequence[ValidationResult]) -> list[str]:
    """Summaries of the results that are invalid or carry an unexpected warning."""
    return [r.summary() for r in results if not r.valid or unexpected_warnings(r)]


@pytest.mark.openclaw
def test_golden_outputs_pass_the_real_openclaw_of_their_version(
    openclaw_validators: Mapping[str, Validator],
) -> None:
    outputs = sorted(CASES.glob("*/expected/rendered/*/openclaw.json"))
    by_version: dict[str, list[Path]] = {}
    for output in outputs:
        by_version.setdefault(target_version(output), []).append(output)
    assert sorted(by_version) == sorted(OPENCLAW_VERSIONS), "a golden output for every version"
    assert len(outputs) >= 6, outputs
    problems = [
        problem
        for version, paths in sorted(by_version.items())
        for problem in failures(openclaw_validators[version].validate(paths))
    ]
    assert not problems, "\n".join(problems)
