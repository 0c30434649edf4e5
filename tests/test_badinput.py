"""The bad-input corpus (tests/badinput/table.py): every row runs the real CLI in-process on a
copy of a small policy repository, with planted secrets in the environment and in the inputs,
and must give its exit code, diagnostic code and file:line, with no traceback, no change under
the sandbox beyond what the row allows (nothing under rendered/, nothing outside the repo), and
no planted secret in any output or written file."""

import fnmatch
import shutil
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler import api
from compiler.catalogs import fetcher
from compiler.catalogs.fetcher import FetchOptions
from compiler.cli.main import main_group
from compiler.output import renderer
from tests.badinput.base import (
    CANARY,
    ENVIRONMENT,
    PLAIN,
    apply,
    build,
    changed,
    drop_git_object,
    git,
    snapshot,
)
from tests.badinput.table import CASES, Case, Response

MAX_OUTPUT = 1024 * 1024  # no case may print more than this (floods are capped)


class Routes(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Response]


class Handler(BaseHTTPRequestHandler):
    server: Routes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        self.send_response_only(code, message)  # no automatic Date header: routes set it
        self.send_header("Server", "corpus")

    def do_GET(self) -> None:
        status, headers, body = self.server.routes.get(self.path, (404, {}, b"{}"))
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[Routes]:
    httpd = Routes(("127.0.0.1", 0), Handler)
    httpd.routes = {}
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _compile(root: Path) -> None:
    api.compile_project(api.CompileOptions(root=root))


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Path]:
    """One prepared sandbox per base kind; each case works on a copy."""
    folder = tmp_path_factory.mktemp("bases")
    return {
        "fresh": build(folder / "fresh", lambda root: None, committed=False),
        "compiled": build(folder / "compiled", _compile, committed=False),
        "git": build(folder / "git", _compile, committed=True),
    }


def _prepare(case: Case, base: Path, sandbox: Path) -> None:
    shutil.copytree(base, sandbox, symlinks=True)
    if case.committed:
        apply(sandbox, case.committed)
        git(sandbox / "repo", "add", "-A")
        git(sandbox / "repo", "commit", "-q", "-m", "hostile")
    for spec in case.drop:
        drop_git_object(sandbox / "repo", spec)
    apply(sandbox, case.edits)


def _args(case: Case, sandbox: Path, url: str) -> list[str]:
    values = {"root": str(sandbox / "repo"), "sandbox": str(sandbox), "url": url}
    return [arg.format(**values) if "{" in arg and "}" in arg else arg for arg in case.args]


def _allowed(path: str, case: Case) -> bool:
    return any(fnmatch.fnmatch(path, pattern) for pattern in case.writes)


def _secret_free(sandbox: Path, paths: list[str]) -> list[str]:
    """The changed paths whose content holds a planted secret."""
    leaks = []
    for relpath in paths:
        path = sandbox / relpath
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if CANARY.encode() in data or PLAIN.encode() in data:
                leaks.append(relpath)
    return leaks


def _run(case: Case, sandbox: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    if case.limits is not None:
        monkeypatch.setattr(renderer, "LIMITS", case.limits)
    # retries as the CLI makes them, without the real backoff's 15 s of waiting
    monkeypatch.setattr(fetcher, "OPTIONS", FetchOptions(timeout=5.0, backoff=0.01))
    runner = CliRunner()
    return runner.invoke(main_group, _args(case, sandbox, url), env=ENVIRONMENT)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(
    case: Case,
    bases: Mapping[str, Path],
    server: Routes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = tmp_path / "sandbox"
    _prepare(case, bases[case.base], sandbox)
    server.routes = dict(case.serve)
    before = snapshot(sandbox)
    result = _run(case, sandbox, f"http://127.0.0.1:{server.server_address[1]}", monkeypatch)
    output = result.stdout + result.stderr
    after = snapshot(sandbox)
    moved = changed(before, after)

    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output and "internal error" not in output, output
    assert result.exit_code == case.exit, output
    if case.code is not None:
        shapes = (f"[{case.code}]", f'"code": "{case.code}"', f"title={case.code}")
        assert any(shape in output for shape in shapes), output
    if case.at is not None:
        path, _, line = case.at.partition(":")
        github = f"file={path}," + (f"line={line}," if line else "")
        assert f"{case.at}:" in output or github in output, output
    assert [p for p in moved if not _allowed(p, case)] == [], output
    assert CANARY not in output and PLAIN not in output, output
    assert not set(output) & {"\x1b", "\x07", "\r"}, output  # no terminal escapes get through
    assert _secret_free(sandbox, moved) == []
    assert len(output) < MAX_OUTPUT


def test_the_corpus_is_large_and_covers_every_command() -> None:
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES)
    commands = {" ".join(a for a in case.args[:2] if not a.startswith("-")) for case in CASES}
    for wanted in (
        "validate",
        "compile",
        "diff",
        "explain",
        "promote",
        "what-if",
        "catalog import",
        "catalog fetch",
        "catalog diff",
        "schema",
        "cost",
        "init",
    ):
        assert any(command.startswith(wanted) for command in commands), wanted
    assert any("--check" in case.args for case in CASES)
    assert any("--against-dir" in case.args for case in CASES)
    assert any("--against" in case.args for case in CASES)
