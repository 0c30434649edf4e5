"""Shell completion of environment and agent names: what each place completes, `--root`
honoured, a broken file skipped, and no pydantic (nor jinja2) loaded to answer a TAB."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.catalogs.importers import IMPORTERS
from compiler.cli.catalog import FORMATS
from compiler.cli.main import main_group
from tests.conftest import REPO


def complete(command: str, *words: str, root: Path = REPO) -> list[str]:
    """What bash completion offers for the last word of `clawpolicy COMMAND --root ROOT ...`
    (without --root the current directory is read: the subprocess test below covers that)."""
    line = " ".join(("clawpolicy", *command.split(), "--root", str(root), *words))
    env = {"_CLAWPOLICY_COMPLETE": "bash_complete", "COMP_WORDS": line}
    env["COMP_CWORD"] = str(len(line.split(" ")) - 1)
    result = CliRunner().invoke(main_group, [], prog_name="clawpolicy", env=env)
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        pytest.param(("compile", "--env", ""), ["dev", "prod", "staging"], id="compile-env"),
        pytest.param(("diff", "--env", "p"), ["prod"], id="diff-env"),
        pytest.param(("cost", "--env", "st"), ["staging"], id="cost-env"),
        pytest.param(("what-if", "--env", "d"), ["dev"], id="what-if-env"),
        pytest.param(("promote", "st"), ["staging"], id="promote-from"),
        pytest.param(("promote", "staging", "p"), ["prod"], id="promote-to"),
        pytest.param(
            ("explain", "support-"),
            ["support-escalation", "support-reply", "support-triage"],
            id="explain-agent",
        ),
        pytest.param(("explain", "ci-bot", "--env", "s"), ["staging"], id="explain-env"),
        pytest.param(("compile", "--upgrade", "code-r"), ["code-review"], id="upgrade-agent"),
        pytest.param(("promote", "staging", "prod", "--agent", "ci"), ["ci-bot"], id="agent"),
    ],
)
def test_completes_environments_and_agents(words: tuple[str, ...], expected: list[str]) -> None:
    assert complete(words[0], *words[1:]) == expected


def test_root_is_honoured_and_broken_files_are_skipped(tmp_path: Path) -> None:
    envs = tmp_path / "policies" / "environments"
    envs.mkdir(parents=True)
    (envs / "blue.yaml").write_text("version: 1\nenvironment: blue\n")
    (envs / "broken.yaml").write_text("environment: [unclosed\n")
    (envs / "named.yaml").write_text("version: 1\nenvironment: green\n")  # the name, not the file
    assert complete("compile", "--env", "", root=tmp_path) == ["blue", "green"]
    assert complete("explain", "", root=tmp_path) == []  # no teams folder: nothing, no error


def test_completion_loads_neither_pydantic_nor_jinja2() -> None:
    script = (
        "import sys\n"
        "for name in ('pydantic', 'jinja2', 'deepdiff', 'git'):\n"
        "    sys.modules[name] = None  # importing them now fails\n"
        "from compiler.cli.main import main\n"
        "main()\n"
    )
    env = {
        **os.environ,
        "_CLAWPOLICY_COMPLETE": "bash_complete",
        "COMP_WORDS": "clawpolicy explain ci",
        "COMP_CWORD": "2",
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "plain,ci-bot\n", "")


def test_the_catalog_formats_written_out_are_the_importers() -> None:
    assert sorted(IMPORTERS) == list(FORMATS)
