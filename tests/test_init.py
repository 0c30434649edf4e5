"""`clawpolicy init DIR`: a repository that compiles as it is (validate --strict and
compile --check pass, the real OpenClaw accepts every output, the YAML fits the generated
schema, the workflows pass actionlint and zizmor) and is refused in a non-empty DIR; `init
--from` reproduces every chain of the config it adopts. That the starter ships in the wheel is
tests/test_packaging.py's check of every data file under compiler/."""

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import REPO
from tests.support.openclaw import Validator, unexpected_warnings
from tests.test_workflows import (  # the session fixtures and report helpers of the repo's own lint
    Lint,
    actionlint,  # noqa: F401 (a fixture)
    format_actionlint,
    severe,
    zizmor,  # noqa: F401 (a fixture)
)

Cli = Callable[..., Any]
EXAMPLES = Path(__file__).parent / "data" / "openclaw-examples"
ENVS = ("dev", "prod", "staging")


@pytest.fixture
def repo(cli: Cli, tmp_path: Path) -> Path:
    root = tmp_path / "policy-repo"
    result = cli("init", str(root))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # no warning at all
    return root


def lock(root: Path, env: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / f"rendered/{env}/clawpolicy.lock.json").read_text())
    return data


# ------------------------------------------------------------------ init DIR


def test_the_new_repo_compiles_as_it_is(repo: Path, cli: Cli) -> None:
    assert cli("validate", "--root", str(repo), "--strict").exit_code == 0
    check = cli("compile", "--root", str(repo), "--check", "--strict")
    assert check.exit_code == 0, check.stdout + check.stderr
    for env in ENVS:
        assert (repo / f"rendered/{env}/openclaw.json").is_file()
    # prod was promoted: it runs exactly what staging resolved
    assert lock(repo, "prod")["agents"] == lock(repo, "staging")["agents"]
    prod = yaml.safe_load((repo / "policies/environments/prod.yaml").read_text())
    assert prod["promote_from"] == "staging" and "catalogs" not in prod  # staging's catalogs
    names = {p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()}
    assert {
        ".github/workflows/pull-request.yml",
        ".github/workflows/promote.yml",
        ".github/workflows/catalog-refresh.yml",
        ".pre-commit-config.yaml",
        ".vscode/settings.json",
        ".gitignore",
        "README.md",
        "clawpolicy.schema.json",
        "templates/openclaw.json.j2",
    } <= names


def test_the_starter_catalog_is_real_offers_with_prices(repo: Path) -> None:
    [catalog] = (repo / "policies/catalogs").glob("*.json")
    snapshot = json.loads(catalog.read_text())
    assert snapshot["source"] == "openrouter:openrouter-models-2026-06-16.json"
    assert len(snapshot["offers"]) >= 30
    priced = [o for o in snapshot["offers"] if {"input", "output"} <= set(o["price"])]
    assert len(priced) == len(snapshot["offers"])
    sonnet = next(o for o in snapshot["offers"] if o["id"] == "anthropic/claude-sonnet-4.6")
    assert (sonnet["price"]["input"], sonnet["price"]["output"]) == (3, 15)


@pytest.mark.openclaw
def test_every_output_passes_the_real_openclaw(repo: Path, openclaw_validator: Validator) -> None:
    results = openclaw_validator.validate(repo / f"rendered/{env}/openclaw.json" for env in ENVS)
    for result in results:
        assert result.valid and not unexpected_warnings(result), result.summary()


def test_every_policy_file_fits_the_schema_its_modeline_names(repo: Path) -> None:
    schema = json.loads((repo / "clawpolicy.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted((repo / "policies").rglob("*.yaml"))
    assert len(files) == 5
    for path in files:
        text = path.read_text()
        modeline = text.splitlines()[0]
        assert modeline.startswith("# yaml-language-server: $schema=")
        named = (path.parent / modeline.split("$schema=", 1)[1]).resolve()
        assert named == (repo / "clawpolicy.schema.json").resolve(), path
        problems = [e.message for e in validator.iter_errors(yaml.safe_load(text))]
        assert not problems, f"{path}: {problems}"
    settings = json.loads((repo / ".vscode/settings.json").read_text())
    assert settings["yaml.schemas"] == {"./clawpolicy.schema.json": ["policies/**/*.yaml"]}


def test_the_schema_rejects_what_the_compiler_rejects(repo: Path) -> None:
    """The schema the new repo ships is live: a typo fails it."""
    schema = json.loads((repo / "clawpolicy.schema.json").read_text())
    team = yaml.safe_load((repo / "policies/teams/platform.yaml").read_text())
    team["agents"]["triage"]["tierr"] = "fast"
    assert not jsonschema.Draft202012Validator(schema).is_valid(team)


def test_the_workflows_pass_actionlint(repo: Path, actionlint: Lint) -> None:  # noqa: F811
    workflows = sorted((repo / ".github/workflows").glob("*.yml"))
    assert len(workflows) == 3
    results = actionlint({p.name: p.read_text() for p in workflows})
    assert results == [], format_actionlint(results)
    for path in workflows:
        text = path.read_text()
        assert "pip install" not in text
        assert "uses: clawpolicy/clawpolicy/.github/workflows/clawpolicy-" in text
        doc = yaml.safe_load(text)
        assert doc["permissions"] == {} and "concurrency" in doc
        assert all("permissions" in job for job in doc["jobs"].values())


def test_the_workflows_call_this_repositorys_reusable_workflows_as_they_are(repo: Path) -> None:
    """Each caller names a reusable workflow of this repository, passes only inputs it declares
    (every required one) and grants every permission its jobs ask for."""
    for path in sorted((repo / ".github/workflows").glob("*.yml")):
        [job] = yaml.safe_load(path.read_text())["jobs"].values()
        target = job["uses"].removeprefix("clawpolicy/clawpolicy/").partition("@")[0]
        called = yaml.safe_load((REPO / target).read_text())
        inputs = (called.get("on") or called[True])["workflow_call"]["inputs"]
        given = set(job.get("with", {}))
        assert given <= set(inputs), path.name
        assert {name for name, spec in inputs.items() if spec.get("required")} <= given
        asked = {
            (scope, level)
            for called_job in called["jobs"].values()
            for scope, level in called_job.get("permissions", {}).items()
        }
        assert asked <= set(job["permissions"].items()), path.name


def test_the_workflows_pass_zizmor(repo: Path, zizmor: Any) -> None:  # noqa: F811
    """zizmor as the repo runs it, plus the config the new repo ships (`@v0` is a choice)."""
    workflows = repo / ".github/workflows"
    config = repo / ".github/zizmor.yml"
    exe = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or "zizmor"
    command = [exe, "--offline", "--no-ignores", "--strict-collection", "--no-exit-codes"]
    command += ["--no-progress", "--format", "json", "--config", str(config), str(workflows)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert severe(json.loads(done.stdout)) == []
    # without the config, the one finding is the moving tag, nothing else
    bare = zizmor([workflows])
    assert {f["ident"] for f in bare.findings if severe([f])} == {"unpinned-uses"}


def test_a_non_empty_dir_is_refused_and_left_alone(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "busy"
    root.mkdir()
    (root / "notes.txt").write_text("mine\n")
    result = cli("init", str(root))
    assert result.exit_code == 2
    assert "error[PC601]" in result.stderr and "--force" in result.stderr
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]
    assert not list(tmp_path.glob(".*init-*"))  # no staging folder left behind


def test_force_keeps_existing_optional_files_and_refuses_policy_ones(
    cli: Cli, tmp_path: Path
) -> None:
    root = tmp_path / "existing"
    (root / ".git").mkdir(parents=True)
    (root / ".vscode").mkdir()
    mine = {"README.md": "my readme\n", ".gitignore": "*.pyc\n", ".vscode/settings.json": "{}\n"}
    for path, text in mine.items():
        (root / path).write_text(text)
    (root / "templates").mkdir()
    (root / "templates/openclaw.json.j2").write_text("{}")
    refused = cli("init", str(root), "--force")
    assert refused.exit_code == 2
    assert "templates/openclaw.json.j2 already exists" in refused.stderr
    assert "README.md" not in refused.stderr  # optional files are not in the way
    assert sorted(p.name for p in root.iterdir()) == [
        ".git",
        ".gitignore",
        ".vscode",
        "README.md",
        "templates",
    ]
    (root / "templates/openclaw.json.j2").unlink()
    result = cli("init", str(root), "--force")
    assert result.exit_code == 0, result.stderr
    assert (
        "warning[PC601]: kept as they are (exist; not written): "
        ".gitignore, .vscode/settings.json, README.md"
    ) in result.stderr
    assert {path: (root / path).read_text() for path in mine} == mine
    assert (root / "rendered/prod/openclaw.json").is_file()
    assert cli("compile", "--root", str(root), "--check").exit_code == 0


def test_only_git_counts_as_empty(cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "existing"
    (root / ".git").mkdir(parents=True)
    assert cli("init", str(root)).exit_code == 0  # only .git: empty enough, no --force
    assert (root / "rendered/prod/openclaw.json").is_file()


@pytest.mark.parametrize("link", ["policies", "rendered", ".github/workflows", ".vscode"])
def test_force_never_writes_through_a_symlink(cli: Cli, tmp_path: Path, link: str) -> None:
    root, outside = tmp_path / "existing", tmp_path / "outside"
    outside.mkdir()
    (root / link).parent.mkdir(parents=True)
    (root / link).symlink_to(outside)
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    result = cli("init", str(root), "--force")
    assert result.exit_code == 2, result.stderr
    assert f"error[PC601]: {link} is a symlink or leads out of" in result.stderr
    assert list(outside.iterdir()) == []
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before
    assert not list(tmp_path.glob(".*init-*"))


def tree(root: Path) -> dict[str, str | None]:
    """Every path under `root` with its text (None: a folder)."""
    return {
        p.relative_to(root).as_posix(): p.read_text() if p.is_file() else None
        for p in root.rglob("*")
    }


@pytest.mark.parametrize("blocker", [".vscode", "policies", ".github/workflows", "rendered"])
def test_force_refuses_a_file_where_a_folder_goes_and_writes_nothing(
    cli: Cli, tmp_path: Path, blocker: str
) -> None:
    root = tmp_path / "existing"
    (root / blocker).parent.mkdir(parents=True)
    (root / blocker).write_text("hi\n")
    before = tree(root)
    result = cli("init", str(root), "--force")
    assert result.exit_code == 2, result.stderr
    assert "error[PC601]: " in result.stderr and blocker in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(root) == before
    assert not list(tmp_path.glob(".*init-*"))


def test_a_file_that_appears_while_compiling_is_never_overwritten(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compiler.adopt import initializer

    root = tmp_path / "existing"
    root.mkdir()
    compile_and_promote = initializer._compile_and_promote

    def meanwhile(staging: Path) -> Any:
        done = compile_and_promote(staging)
        (root / "README.md").write_text("mine\n")  # someone writes into DIR meanwhile
        return done

    monkeypatch.setattr(initializer, "_compile_and_promote", meanwhile)
    result = cli("init", str(root), "--force")
    assert result.exit_code == 2, result.stderr
    assert "error[PC601]: README.md already exists" in result.stderr
    assert tree(root) == {"README.md": "mine\n"}
    assert not list(tmp_path.glob(".*init-*"))


def test_a_failed_move_takes_back_every_file_and_folder(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    root = tmp_path / "existing"
    (root / ".git").mkdir(parents=True)
    link, calls = os.link, []

    def full_disk(source: Any, destination: Any, **kwargs: Any) -> None:
        calls.append(destination)
        if len(calls) == 12:
            raise OSError(errno.ENOSPC, "No space left on device")
        link(source, destination, **kwargs)

    monkeypatch.setattr(os, "link", full_disk)
    result = cli("init", str(root))
    assert result.exit_code == 2, result.stderr
    assert "error[PC601]: " in result.stderr and "No space left on device" in result.stderr
    assert tree(root) == {".git": None}
    assert not list(tmp_path.glob(".*init-*"))


def test_files_are_copied_where_they_cannot_be_linked(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    def cross_device(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    root = tmp_path / "mounted"
    result = cli("init", str(root))
    assert result.exit_code == 0, result.stderr
    assert cli("compile", "--root", str(root), "--check").exit_code == 0
    assert not list(tmp_path.glob(".*init-*"))


HANG_IN_INIT = """
import sys, time
from compiler.adopt import initializer
def hang(staging):
    print("staged", flush=True)
    time.sleep(120)
initializer._compile_and_promote = hang
from compiler.cli.main import main
sys.argv = ["clawpolicy", "init", sys.argv[1]]
main()
"""


def test_a_killed_init_leaves_a_staging_folder_the_next_one_removes(
    cli: Cli, tmp_path: Path
) -> None:
    import fcntl
    import os
    import signal

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", HANG_IN_INIT, str(tmp_path / "killed")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as child:
        assert child.stdout is not None and child.stdout.readline() == "staged\n"
        child.send_signal(signal.SIGKILL)
        child.wait()
    [left] = tmp_path.glob(".killed.init-*")
    assert (left / "policies").is_dir()
    running = tmp_path / ".running.init-abcd1234"  # another init's, still running: kept
    running.mkdir()
    handle = os.open(running / ".clawpolicy-init.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    fcntl.flock(handle, fcntl.LOCK_EX)
    foreign = tmp_path / ".notes.init-mine"  # no lock file: not init's, kept
    foreign.mkdir()
    try:
        assert cli("init", str(tmp_path / "next")).exit_code == 0
    finally:
        os.close(handle)
    assert sorted(p.name for p in tmp_path.glob(".*init-*")) == [
        ".notes.init-mine",
        ".running.init-abcd1234",
    ]
    assert not (tmp_path / "next/.clawpolicy-init.lock").exists()


def test_next_steps_skip_cd_dot_and_git_init_in_a_git_work_tree(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = cli("init", str(tmp_path / "fresh"))
    assert f"next: cd {tmp_path / 'fresh'} && git init && git add -A" in fresh.stdout
    checkout = tmp_path / "checkout"
    (checkout / ".git").mkdir(parents=True)
    (checkout / "ops").mkdir()
    monkeypatch.chdir(checkout / "ops")
    result = cli("init", ".")
    assert result.exit_code == 0, result.stderr
    assert "next: git add -A && git commit -m 'clawpolicy init'" in result.stdout


def test_date_without_from_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("init", str(tmp_path / "x"), "--date", "2026-06-16")
    assert result.exit_code == 2
    assert "--date goes with --from" in result.stderr
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------ init --from


def chains(config: dict[str, Any]) -> dict[str, list[str]]:
    """Every chain of an openclaw.json: agents, default and image model (string = no fallbacks)."""
    agents = config["agents"]
    entries = agents.get("entries") or {a["id"]: a for a in agents.get("list", [])}
    defaults = agents.get("defaults", {})
    found = {}
    for key, model in [
        *((f"agent {k}", v.get("model", defaults.get("model"))) for k, v in entries.items()),
        ("default", defaults.get("model")),
        ("image", defaults.get("imageModel")),
    ]:
        if isinstance(model, str):
            found[key] = [model]
        elif isinstance(model, dict):
            found[key] = [model["primary"], *model.get("fallbacks", [])]
    return found


def aliases(config: dict[str, Any]) -> dict[str, str]:
    models = config["agents"].get("defaults", {}).get("models", {})
    return {ref: body["alias"] for ref, body in models.items() if "alias" in body}


def rest(config: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in config.items() if key not in ("models", "agents")}


ADOPTED = [
    pytest.param(EXAMPLES / "good-entries.json", id="good-entries"),
    pytest.param(EXAMPLES / "good-list.json", id="good-list-legacy"),
    *(pytest.param(REPO / f"rendered/{env}/openclaw.json", id=f"example-{env}") for env in ENVS),
]


@pytest.mark.parametrize("source", ADOPTED)
def test_init_from_reproduces_every_chain(source: Path, cli: Cli, tmp_path: Path) -> None:
    root = tmp_path / "adopted"
    result = cli("init", str(root), "--from", str(source), "--date", "2026-06-16")
    assert result.exit_code == 0, result.stderr
    assert "PC604" not in result.stderr  # everything reproduced
    adopted = json.loads(source.read_text())
    for env in ENVS:
        rendered = json.loads((root / f"rendered/{env}/openclaw.json").read_text())
        assert chains(rendered) == chains(adopted), env
        assert aliases(adopted).items() <= aliases(rendered).items(), env
        if "gateway" in adopted:  # the rest of the file is the template
            assert rest(rendered) == rest(adopted), env
    prod = yaml.safe_load((root / "policies/environments/prod.yaml").read_text())
    assert prod["promote_from"] == "staging" and "catalogs" not in prod
    assert cli("compile", "--root", str(root), "--check").exit_code == 0
    strict = cli("validate", "--root", str(root), "--strict")
    assert strict.exit_code == 0, strict.stderr


@pytest.mark.openclaw
def test_adopted_outputs_pass_the_real_openclaw(
    cli: Cli, tmp_path: Path, openclaw_validator: Validator
) -> None:
    outputs = []
    for source in (EXAMPLES / "good-list.json", REPO / "rendered/prod/openclaw.json"):
        root = tmp_path / source.parent.name
        assert cli("init", str(root), "--from", str(source)).exit_code == 0
        outputs.append(root / "rendered/prod/openclaw.json")
    for result in openclaw_validator.validate(outputs):
        assert result.valid and not unexpected_warnings(result), result.summary()


SECRET = "sk-or-v1-0123456789abcdef0123456789abcdef"
PASSWORD = "hunter2pass"


def test_a_literal_key_is_never_copied_or_shown(cli: Cli, tmp_path: Path) -> None:
    config = json.loads((EXAMPLES / "good-entries.json").read_text())
    config["models"]["providers"]["infron"]["apiKey"] = SECRET
    source = tmp_path / "openclaw.json"
    source.write_text(json.dumps(config))
    root = tmp_path / "adopted"
    result = cli("init", str(root), "--from", str(source))
    assert result.exit_code == 0, result.stderr
    assert "warning[PC107]" in result.stderr and "INFRON_API_KEY" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    for path in root.rglob("*"):
        assert not path.is_file() or SECRET not in path.read_text(), path
    env = yaml.safe_load((root / "policies/environments/dev.yaml").read_text())
    assert env["providers"]["infron"]["api_key"] == {"env": "INFRON_API_KEY"}


def test_literal_keys_get_one_env_var_each_and_a_readable_warning(cli: Cli, tmp_path: Path) -> None:
    config = json.loads((EXAMPLES / "good-entries.json").read_text())
    infron = config["models"]["providers"].pop("infron")
    providers = config["models"]["providers"]
    providers["acme-a"] = {**infron, "apiKey": SECRET}
    providers["acme_a"] = {**infron, "apiKey": SECRET + "2"}
    providers["acme-b"] = {**infron, "apiKey": "${ACME_A_API_KEY_2}"}  # taken by name
    for agent in config["agents"]["entries"].values():
        agent.pop("model", None)
    config["agents"]["defaults"] = {"model": "acme-a/qwen3-coder"}
    source = tmp_path / "openclaw.json"
    source.write_text(json.dumps(config))
    root = tmp_path / "adopted"
    result = cli("init", str(root), "--from", str(source))
    assert result.exit_code == 0, result.stderr
    env = yaml.safe_load((root / "policies/environments/dev.yaml").read_text())
    keys = {name: body["api_key"]["env"] for name, body in env["providers"].items()}
    assert keys == {
        "acme-a": "ACME_A_API_KEY",
        "acme_a": "ACME_A_API_KEY_3",
        "acme-b": "ACME_A_API_KEY_2",
    }
    assert (
        "warning[PC107]: models.providers.acme-a.apiKey holds a literal key; not copied "
        "(the value is not shown): wrote api_key: {env: ACME_A_API_KEY}"
    ) in result.stderr
    assert "***" not in result.stderr


def test_a_literal_secret_outside_the_model_layer_stays_out_of_the_template(
    cli: Cli, tmp_path: Path
) -> None:
    config = json.loads((REPO / "rendered/dev/openclaw.json").read_text())
    config["gateway"]["auth"]["token"] = "correct-horse-battery-staple"
    config["channels"] = {"web": {"enabled": True}}
    source = tmp_path / "openclaw.json"
    source.write_text(json.dumps(config))
    root = tmp_path / "adopted"
    result = cli("init", str(root), "--from", str(source))
    assert result.exit_code == 0, result.stderr
    assert "warning[PC107]: gateway is left out of the template: gateway.auth.token" in (
        result.stderr
    )
    assert "correct-horse" not in result.stdout + result.stderr
    assert all("correct-horse" not in p.read_text() for p in root.rglob("*") if p.is_file())
    rendered = json.loads((root / "rendered/dev/openclaw.json").read_text())
    assert rest(rendered) == {"channels": {"web": {"enabled": True}}, "gateway": {"mode": "local"}}
    assert "gateway.mode is not set" in result.stderr


ENV_SECRETS = {
    "DB_PASS": "Sup3rS3cretValue!",
    "SLACK_HOOK": "https://hooks.slack.com/services/T000/B000/XXXX",
    "STRIPE_KEY": "rk_live_" + "a1B2" * 6,
    "TELEGRAM_BOT": "123456789:AAH" + "b9" * 16,
}


def test_env_vars_and_secret_shapes_stay_out_of_every_file(cli: Cli, tmp_path: Path) -> None:
    config = json.loads((EXAMPLES / "good-entries.json").read_text())
    config["env"] = {
        "vars": {**ENV_SECRETS, "HOME_REF": "${HOME_REF}"},
        "shellEnv": {"enabled": True},
    }
    config["channels"] = {"hooks": {"pay": ENV_SECRETS["STRIPE_KEY"]}, "web": {"enabled": True}}
    config["gateway"] = {"mode": "local"}
    source = tmp_path / "openclaw.json"
    source.write_text(json.dumps(config))
    root = tmp_path / "adopted"
    result = cli("init", str(root), "--from", str(source))
    assert result.exit_code == 0, result.stderr
    for name in ENV_SECRETS:
        assert f"warning[PC107]: env.vars.{name} holds a literal value" in result.stderr
    assert "channels is left out of the template: channels.hooks.pay" in result.stderr
    for path in root.rglob("*"):
        text = path.read_text() if path.is_file() else ""
        assert not any(secret in text for secret in ENV_SECRETS.values()), path
    assert not any(secret in result.stdout + result.stderr for secret in ENV_SECRETS.values())
    rendered = json.loads((root / "rendered/dev/openclaw.json").read_text())
    assert rendered["env"] == {"vars": {"HOME_REF": "${HOME_REF}"}, "shellEnv": {"enabled": True}}
    assert "channels" not in rendered
    assert cli("validate", "--root", str(root), "--strict").exit_code == 0


SECRET_MODELS = [
    {"id": "sk-or-v1-" + "0123456789abcdef" * 4, "name": "x"},
    {"id": "harmless-model", "name": "ghp_" + "A1b2" * 9},
]


def test_a_secret_shaped_model_id_or_name_stays_out_of_the_catalog(
    cli: Cli, tmp_path: Path
) -> None:
    config = json.loads((EXAMPLES / "good-entries.json").read_text())
    models = config["models"]["providers"]["infron"]["models"]
    first = len(models)
    models += SECRET_MODELS  # declared, used by no chain
    source = tmp_path / "openclaw.json"
    source.write_text(json.dumps(config))
    root = tmp_path / "adopted"
    result = cli("init", str(root), "--from", str(source))
    assert result.exit_code == 0, result.stderr
    for index, fields in ((first, "id"), (first + 1, "name")):
        assert (
            f"warning[PC107]: models.providers.infron.models[{index}]: {fields} look(s) like a "
            "secret; the model is left out of the catalog"
        ) in result.stderr
    values = [m[k] for m in SECRET_MODELS for k in ("id", "name") if len(m[k]) > 20]
    assert not any(v in result.stdout + result.stderr for v in values)
    for path in root.rglob("*"):
        text = path.read_text() if path.is_file() else ""
        assert not any(v in text for v in values), path
    [catalog] = (root / "policies/catalogs").glob("adopted-*.json")
    ids = {o["id"] for o in json.loads(catalog.read_text())["offers"]}
    assert "harmless-model" not in ids and len(ids) == first


def test_a_chain_using_a_secret_shaped_model_is_an_error(cli: Cli, tmp_path: Path) -> None:
    config = json.loads((EXAMPLES / "good-entries.json").read_text())
    models = config["models"]["providers"]["infron"]["models"]
    models.append(SECRET_MODELS[0])
    config["agents"]["entries"]["support"]["model"] = f"infron/{SECRET_MODELS[0]['id']}"
    source = tmp_path / "openclaw.json"
    source.write_text(json.dumps(config))
    root = tmp_path / "adopted"
    result = cli("init", str(root), "--from", str(source))
    assert result.exit_code == 2, result.stderr
    assert (
        f"error[PC602]: agent 'support': uses the model of models.providers.infron.models"
        f"[{len(models) - 1}], which is left out"
    ) in result.stderr
    assert SECRET_MODELS[0]["id"] not in result.stderr
    assert not root.exists()


def test_a_secret_shaped_provider_id_stays_out_of_every_file(cli: Cli, tmp_path: Path) -> None:
    config = json.loads((EXAMPLES / "good-entries.json").read_text())
    token = "ghp_" + "a1b2" * 9
    config["models"]["providers"][token] = {
        "baseUrl": "https://x.example/v1",
        "api": "openai-completions",
        "models": [{"id": "m"}],
    }
    source = tmp_path / "openclaw.json"
    source.write_text(json.dumps(config))
    root = tmp_path / "adopted"
    result = cli("init", str(root), "--from", str(source))
    assert result.exit_code == 0, result.stderr
    assert (
        "warning[PC107]: models.providers.<key 2>: the provider id looks like a secret"
    ) in result.stderr
    assert token not in result.stdout + result.stderr
    assert all(token not in p.read_text() for p in root.rglob("*") if p.is_file())
    config["agents"]["entries"]["support"]["model"] = f"{token}/m"
    source.write_text(json.dumps(config))
    used = cli("init", str(tmp_path / "used"), "--from", str(source))
    assert used.exit_code == 2
    assert "uses the model of models.providers.<key 2>, which is left out" in used.stderr


JINJA_BREAKOUTS = [
    "{%endraw%}{{ 7*7 }}{%raw%}",
    "{%- endraw %}{{ environment }}{% raw -%}",
    "{% endraw %}{# hidden #}{% raw %}",
    "{{{{ x }}}}",
    "{{ '{%' }}",
    "{%%}{##}{{}}",
    "x{",
    "{",
    "}}{%}{#}",
    "\\{{ environment }}\\",
    "{{- environment -}} {%+ if 1 %}",
    "\u00e9{#-\n#}",
]


def test_adopted_text_renders_byte_for_byte_whatever_it_holds() -> None:
    from compiler.adopt.templatewriter import template_text
    from compiler.output.renderer import render_template

    channels = {f"k{n}": text for n, text in enumerate(JINJA_BREAKOUTS)}
    channels |= {text: n for n, text in enumerate(JINJA_BREAKOUTS)}  # keys too
    config = {"models": {}, "agents": {}, "gateway": {"mode": "local"}, "channels": channels}
    template, found = template_text(config, "openclaw.json")
    assert template is not None and found == []
    context = {"models": {}, "agents": {}, "environment": "dev"}
    rendered = render_template({"openclaw.json.j2": template}, "openclaw.json.j2", context)
    assert rendered == json.dumps(config, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            lambda c: c["agents"]["entries"]["support"].update(model="anthropic/claude-x"),
            "uses 'anthropic/claude-x', which models.providers does not declare",
            id="undeclared-model",
        ),
        pytest.param(
            lambda c: c["models"]["providers"]["infron"].pop("baseUrl"),
            "models.providers.infron: has no baseUrl",
            id="no-base-url",
        ),
        pytest.param(
            lambda c: c["agents"]["entries"].update(Bad={"model": "infron/qwen3-coder"}),
            "agent id 'Bad' must match",
            id="uppercase-agent-id",
        ),
        pytest.param(lambda c: c["agents"].pop("entries"), "no agent to adopt", id="no-agents"),
        pytest.param(
            lambda c: c["agents"].update(list=[{"id": "support", "model": "infron/qwen3-coder"}]),
            "agents.list[0]: agent 'support' is also agents.entries.support",
            id="agent-in-entries-and-list",
        ),
        pytest.param(
            lambda c: c["models"]["providers"].update(INFRON=c["models"]["providers"]["infron"]),
            "models.providers.INFRON: is provider 'infron' again, as models.providers.infron is",
            id="providers-equal-in-lowercase",
        ),
        pytest.param(
            lambda c: c["models"]["providers"]["infron"].update(
                baseUrl=f"https://u:{PASSWORD}@h/v1"
            ),
            "models.providers.infron.baseUrl: carries user info",
            id="password-in-base-url",
        ),
        pytest.param(
            lambda c: c["models"]["providers"]["infron"].update(baseUrl=f"https://h/{SECRET}/v1"),
            "models.providers.infron.baseUrl: carries a secret-looking value",
            id="key-in-base-url",
        ),
    ],
)
def test_what_cannot_be_adopted_is_an_error_and_nothing_is_written(
    edit: Callable[[dict[str, Any]], Any], message: str, cli: Cli, tmp_path: Path
) -> None:
    config = json.loads((EXAMPLES / "good-entries.json").read_text())
    edit(config)
    source = tmp_path / "openclaw.json"
    source.write_text(json.dumps(config))
    root = tmp_path / "adopted"
    result = cli("init", str(root), "--from", str(source))
    assert result.exit_code == 2
    assert f"{source}: error[PC602]: " in result.stderr and message in result.stderr, result.stderr
    assert "policies/" not in result.stderr  # never a file of the discarded staging folder
    assert PASSWORD not in result.stderr and SECRET not in result.stderr
    assert not root.exists()
    assert not list(tmp_path.glob(".*init-*"))  # no staging folder left behind


def nested(depth: int, leaf: Any, key: str | None = None) -> Any:
    """`leaf` inside `depth` arrays (or objects of one `key`)."""
    for _ in range(depth):
        leaf = {key: leaf} if key else [leaf]
    return leaf


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({"vars": nested(500, "x")}, id="arrays-500"),
        pytest.param({"vars": "@980@"}, id="arrays-980"),
        pytest.param(nested(900, "v", "A"), id="objects-900"),
    ],
)
def test_deep_nesting_is_an_error_not_a_crash(cli: Cli, tmp_path: Path, env: Any) -> None:
    config = json.loads((EXAMPLES / "good-entries.json").read_text())
    config["env"] = env
    source = tmp_path / "openclaw.json"  # json.dumps itself recurses too deep for 980
    source.write_text(json.dumps(config).replace('"@980@"', "[" * 980 + "1" + "]" * 980))
    root = tmp_path / "adopted"
    result = cli("init", str(root), "--from", str(source))
    assert result.exit_code == 2, result.stderr
    assert f"{source}: error[PC602]: " in result.stderr  # env.vars[0]..., or no path when
    assert "nested deeper than 64 levels" in result.stderr  # the parser itself gave up
    assert not root.exists() and not list(tmp_path.glob(".*init-*"))


def test_the_nesting_limit_is_64_levels(tmp_path: Path) -> None:
    from compiler.adopt.initializer import read_json
    from compiler.diagnostics import CompileError

    source = tmp_path / "openclaw.json"
    source.write_text(json.dumps({"env": nested(63, "x")}))  # 64 with the top-level object
    assert read_json(source)["env"] == nested(63, "x")
    source.write_text(json.dumps({"env": nested(64, "x")}))
    with pytest.raises(CompileError, match="nested deeper than 64 levels"):
        read_json(source)


def test_json5_is_refused_with_a_hint(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "openclaw.json5"
    source.write_text("{\n  // a comment\n  models: {},\n}\n")
    result = cli("init", str(tmp_path / "x"), "--from", str(source))
    assert result.exit_code == 2
    assert f"{source}:2:3: error[PC602]: not strict JSON" in result.stderr
    assert "JSON5" in result.stderr
