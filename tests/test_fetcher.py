"""Catalog fetch against a real HTTP server on 127.0.0.1: pages, retries, errors, the CLI."""

import gzip
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler.catalogs.fetcher import FetchOptions, fetch_catalog
from compiler.catalogs.importers import IMPORTERS, ImportOptions
from compiler.cli.catalog import catalog
from compiler.diagnostics import CompileError
from compiler.load.catalog import parse_snapshot
from tests.support.catalog_fixtures import imported, native

pytestmark = pytest.mark.network

PAGE = 10  # the June excerpt (37 models) comes in four pages
SERVER_DATE = "Tue, 16 Jun 2026 23:30:00 GMT"
OPTIONS = FetchOptions(timeout=5.0, retries=3, backoff=1.0)


class CatalogServer(ThreadingHTTPServer):
    """Serves the June OpenRouter snapshot in pages, plus routes that fail on purpose."""

    daemon_threads = True

    def __init__(self, models: list[Any]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.models = models
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def hit(self, route: str) -> int:
        with self.lock:
            self.hits[route] = self.hits.get(route, 0) + 1
            return self.hits[route]


class Handler(BaseHTTPRequestHandler):
    server: CatalogServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    date_header = SERVER_DATE

    def date_time_string(self, timestamp: float | None = None) -> str:
        return self.date_header

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        count = self.server.hit(parts.path)
        routes = {
            "/api/v1/models": lambda: self._page(int(query.get("offset", 0))),
            "/flaky": lambda: self._fail(503) if count == 1 else self._json(self._small()),
            "/limited": lambda: (
                self._fail(429, {"Retry-After": "7"}) if count == 1 else self._json(self._small())
            ),
            "/down": lambda: self._fail(503),
            "/missing": lambda: self._fail(404),
            "/garbage": lambda: self._send(200, b"<html>oops</html>"),
            "/loop": lambda: self._json({"data": [], "links": {"next": "/loop"}}),
            "/cut-once": lambda: self._cut() if count == 1 else self._json(self._small()),
            "/cut": self._cut,
            "/gzip": lambda: self._gzip(json.dumps(self._small()).encode()),
            "/gzip-bomb": lambda: self._gzip(b'{"data": [' + b" " * 5_000_000 + b"]}"),
            "/gzip-cut": lambda: self._send(
                200,
                gzip.compress(json.dumps(self._small()).encode())[:-20],
                {"Content-Encoding": "gzip"},
            ),
            "/brotli": lambda: self._send(200, b"x", {"Content-Encoding": "br"}),
            "/huge": lambda: self._json({"data": ["x" * 1000] * 2000}),
            "/trickle": self._trickle,
            "/bad-date": self._bad_date,
            "/to-ftp": lambda: self._send(302, b"", {"Location": "ftp://127.0.0.1/x"}),
            "/big-int": lambda: self._send(200, b'{"data": [' + b"9" * 5000 + b"]}"),
            "/deep": lambda: self._send(200, b"[" * 100_000 + b"]" * 100_000),
        }
        routes.get(parts.path, lambda: self._fail(404))()

    def _page(self, offset: int) -> None:
        rows = self.server.models[offset : offset + PAGE]
        following = offset + PAGE
        if following >= len(self.server.models):
            link = None
        elif following == 2 * PAGE:  # one absolute link, the others relative
            link = f"{self.server.base}/api/v1/models?offset={following}&limit={PAGE}"
        else:
            link = f"/api/v1/models?offset={following}&limit={PAGE}"
        total = len(self.server.models)
        self._json({"data": rows, "total_count": total, "links": {"next": link}})

    def _cut(self) -> None:
        """Announce more bytes than are sent, then close: a body cut short."""
        body = json.dumps(self._small()).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + 100))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def _gzip(self, body: bytes) -> None:
        self._send(200, gzip.compress(body), {"Content-Encoding": "gzip"})

    def _trickle(self) -> None:
        """One byte every 0.2 s for up to 20 s: each read is quick, the whole never ends."""
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        for _ in range(100):
            try:
                self.wfile.write(b" ")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)

    def _bad_date(self) -> None:
        self.date_header = "Tue, 45 Jun 2026 23:30:00 GMT"
        self._json(self._small())

    def _small(self) -> dict[str, Any]:
        return {"data": self.server.models[:3]}

    def _json(self, document: Any) -> None:
        self._send(200, json.dumps(document).encode())

    def _fail(self, status: int, headers: dict[str, str] | None = None) -> None:
        self._send(status, b'{"error": "try later"}', headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def running_server() -> Iterator[CatalogServer]:
    models = native("openrouter-models-2026-06-16.json")["data"]
    httpd = CatalogServer(models)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def server(running_server: CatalogServer) -> CatalogServer:
    running_server.hits.clear()  # each test starts with fresh flaky routes
    return running_server


class Sleeps(list[float]):
    """Records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_pages_are_followed_and_joined(server: CatalogServer) -> None:
    lines: list[str] = []
    fetched = fetch_catalog(f"{server.base}/api/v1/models", OPTIONS, Sleeps(), lines.append)
    assert fetched.pages == 4  # 37 models in pages of 10, one next link absolute
    assert fetched.document == {"data": server.models}
    assert fetched.server_date == date(2026, 6, 16)
    assert lines[-1] == "fetched 4 page(s), 37 entries"


def test_fetched_offers_equal_a_direct_import(server: CatalogServer) -> None:
    fetched = fetch_catalog(f"{server.base}/api/v1/models", OPTIONS, Sleeps())
    options = ImportOptions(date=fetched.server_date)
    result = IMPORTERS["openrouter"](fetched.document, options)
    direct = imported("openrouter-june")
    assert result.snapshot.offers == direct.snapshot.offers
    assert result.skipped == direct.skipped


@pytest.mark.parametrize(
    ("route", "waits"),
    [
        pytest.param("/flaky", [1.0], id="503-then-200"),
        pytest.param("/limited", [7.0], id="429-retry-after"),
    ],
)
def test_retries(server: CatalogServer, route: str, waits: list[float]) -> None:
    sleeps = Sleeps()
    fetched = fetch_catalog(server.base + route, OPTIONS, sleeps)
    assert sleeps == waits
    assert fetched.document == {"data": server.models[:3]}
    assert server.hits[route] == 2


@pytest.mark.parametrize(
    ("route", "waits", "needle"),
    [
        pytest.param("/down", [1.0, 2.0, 4.0], "HTTP 503", id="gives-up-after-backoff"),
        pytest.param("/missing", [], "HTTP 404", id="4xx-not-retried"),
        pytest.param("/garbage", [], "not JSON", id="not-json"),
        pytest.param("/loop", [], "pagination does not end", id="page-loop"),
    ],
)
def test_failures_are_pc502(
    server: CatalogServer, route: str, waits: list[float], needle: str
) -> None:
    sleeps = Sleeps()
    with pytest.raises(CompileError) as caught:
        fetch_catalog(server.base + route, OPTIONS, sleeps)
    (diag,) = caught.value.diagnostics
    assert diag.code == "PC502" and needle in diag.message
    assert sleeps == waits


def test_connection_refused_is_retried_then_pc502() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    with pytest.raises(CompileError) as caught:
        fetch_catalog(f"http://127.0.0.1:{port}/models", FetchOptions(retries=1), sleeps)
    assert caught.value.diagnostics[0].code == "PC502"
    assert sleeps == [1.0]


def test_secrets_in_urls_are_never_printed(server: CatalogServer) -> None:
    url = f"http://user:hunter2@127.0.0.1:{server.server_address[1]}/missing?api_key=s3cret"
    with pytest.raises(CompileError) as caught:
        fetch_catalog(url, OPTIONS, Sleeps())
    text = str(caught.value)
    assert "s3cret" not in text and "hunter2" not in text and "api_key=***" in text


def test_cli_fetch_writes_the_snapshot(server: CatalogServer, tmp_path: Path) -> None:
    out = tmp_path / "openrouter.json"
    url = f"{server.base}/api/v1/models"
    result = CliRunner().invoke(
        catalog, ["fetch", "--format", "openrouter", "--url", url, "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert "wrote 37 offers" in result.stderr and "\r" not in result.stderr  # not a TTY
    snapshot = parse_snapshot(out.read_text())
    assert snapshot.date == date(2026, 6, 16)  # the server's Date header, not the clock
    assert snapshot.offers == imported("openrouter-june").snapshot.offers


def test_cli_fetch_error_writes_nothing(server: CatalogServer, tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    result = CliRunner().invoke(
        catalog,
        ["fetch", "--format", "openrouter", "--url", f"{server.base}/missing", "-o", str(out)],
    )
    assert result.exit_code == 2
    assert "error[PC502]: HTTP 404" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("route", "waits"),
    [
        pytest.param("/cut-once", [1.0], id="cut-short-then-whole"),
        pytest.param("/gzip", [], id="gzip"),
    ],
)
def test_cut_short_answers_are_retried_and_gzip_is_accepted(
    server: CatalogServer, route: str, waits: list[float]
) -> None:
    sleeps = Sleeps()
    fetched = fetch_catalog(server.base + route, OPTIONS, sleeps)
    assert fetched.document == {"data": server.models[:3]}
    assert sleeps == waits


@pytest.mark.parametrize(
    ("route", "options", "needle"),
    [
        pytest.param("/cut", OPTIONS, "the answer was cut short", id="always-cut-short"),
        pytest.param("/gzip-cut", OPTIONS, "the answer was cut short", id="gzip-cut-short"),
        pytest.param("/brotli", OPTIONS, "an encoding never asked for: br", id="unasked-encoding"),
        pytest.param(
            "/gzip-bomb", FetchOptions(max_bytes=1024 * 1024), "larger than 1 MiB", id="gzip-bomb"
        ),
        pytest.param("/huge", FetchOptions(max_bytes=1024 * 1024), "larger than 1 MiB", id="huge"),
        pytest.param(
            "/trickle",
            FetchOptions(timeout=5.0, deadline=1.0),
            "gave up after 1 s (the overall deadline)",
            id="trickle",
        ),
        pytest.param("/to-ftp", OPTIONS, "redirect to a non-http URL", id="redirect-to-ftp"),
        pytest.param("/big-int", OPTIONS, "not JSON", id="5000-digit-integer"),
        pytest.param("/deep", OPTIONS, "nested too deeply", id="deep-json"),
    ],
)
def test_hostile_answers_are_pc502(
    server: CatalogServer, route: str, options: FetchOptions, needle: str
) -> None:
    with pytest.raises(CompileError) as caught:
        fetch_catalog(server.base + route, options, Sleeps())
    (diag,) = caught.value.diagnostics
    assert diag.code == "PC502" and needle in diag.message, diag.message


def test_the_deadline_also_bounds_the_waits_between_retries(server: CatalogServer) -> None:
    with pytest.raises(CompileError) as caught:
        fetch_catalog(server.base + "/down", FetchOptions(backoff=100.0, deadline=50.0), Sleeps())
    assert "the next retry would pass the overall deadline of 50 s" in str(caught.value)


def test_a_malformed_date_header_counts_as_absent(server: CatalogServer) -> None:
    fetched = fetch_catalog(server.base + "/bad-date", OPTIONS, Sleeps())
    assert fetched.server_date is None and fetched.document == {"data": server.models[:3]}


@pytest.mark.parametrize(
    "url",
    ["http://[::1", "http://127.0.0.1:99999/x", "http://exa mple.com/\nx", "file:///etc/passwd"],
)
def test_malformed_urls_are_pc502(url: str) -> None:
    with pytest.raises(CompileError) as caught:
        fetch_catalog(url, OPTIONS, Sleeps())
    assert caught.value.diagnostics[0].code == "PC502"


def test_a_token_in_the_url_path_is_never_printed(server: CatalogServer) -> None:
    token = "AbCdEf0123456789GhIjKlMn"
    with pytest.raises(CompileError) as caught:
        fetch_catalog(f"{server.base}/v1/{token}/missing", OPTIONS, Sleeps())
    assert token not in str(caught.value) and "/v1/***/missing" in str(caught.value)
