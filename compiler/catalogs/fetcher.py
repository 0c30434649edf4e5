"""Catalog fetch: download a native catalog over HTTP (URL -> parsed JSON). The only HTTP module.

Standard library only (`urllib`). A GET has a timeout; 429 and 5xx answers, network errors and
answers cut short (fewer bytes than announced, a broken gzip stream) are retried with
exponential backoff (a `Retry-After` header wins); OpenRouter-style pages (`{"data": [...],
"links": {"next": URL}}`, relative or absolute) are followed and their `data` joined, so the
catalog is never silently truncated. The server's `Date` header gives the snapshot date, so no
wall clock is read; a malformed one counts as absent.

Limits: the whole fetch (every page, retry and wait) has an overall deadline, enforced by an
interval timer in the main thread and between reads everywhere, so a server that trickles
bytes cannot hold it; the bytes received (after gzip, which is accepted) are capped across all
pages. Only http and https are fetched, also after redirects. URLs in messages have
credentials, secret-looking query values and token-like path segments masked.
"""

import email.utils
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import Message
from typing import Any

from .. import __version__
from ..diagnostics import CompileError, Span, error
from ..output import guard
from ..redaction import redact_url

DEFAULT_URLS = {
    "openrouter": "https://openrouter.ai/api/v1/models",
    "modelsdev": "https://models.dev/api.json",
    "litellm": "https://raw.githubusercontent.com/BerriAI/litellm/main/"
    "model_prices_and_context_window.json",
    "infron": "https://llm.onerouter.pro/v1/models",
}
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
Opener = Callable[[urllib.request.Request, float], Any]


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How patient a fetch is. `max_delay` caps any single wait, including `Retry-After`."""

    timeout: float = 30.0  # one connection or read
    retries: int = 4
    backoff: float = 1.0
    max_delay: float = 60.0
    max_pages: int = 1000
    deadline: float = 600.0  # the whole fetch: every page, retry and wait
    max_bytes: int = 64 * 1024 * 1024  # received over all pages, after gzip


OPTIONS = FetchOptions()  # what `catalog fetch` uses


@dataclass(frozen=True, slots=True)
class Fetched:
    """The downloaded document (pages joined), the server's date and how many pages it took."""

    document: Any
    server_date: date | None
    pages: int


@dataclass(frozen=True, slots=True)
class _Page:
    document: Any
    server_date: date | None


def fetch_catalog(
    url: str,
    options: FetchOptions | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] | None = None,
    opener: Opener | None = None,
) -> Fetched:
    """GET a catalog, following `links.next` pages and joining their `data`.

    Args:
        url: the first page.
        options: timeout, retries, backoff and limits (default: OPTIONS).
        sleep: how to wait between retries (tests pass a recorder).
        progress: called with a one-line status after each page (the CLI passes a TTY writer).
        opener: `urllib.request.urlopen`-like callable `(request, timeout) -> response`.

    Returns:
        The whole document, the first response's `Date` and the page count.

    Raises:
        CompileError: PC502 when the server keeps failing, answers 4xx, sends invalid JSON or
            pages in a loop.
    """
    options = options or OPTIONS
    session = _Session(options, sleep, opener or _urlopen)
    try:
        with guard.deadline(options.deadline):
            return _fetch_pages(url, session, progress)
    except guard.TimeLimit:
        raise _fail(url, f"gave up after {options.deadline:g} s (the overall deadline)") from None


@dataclass(slots=True)
class _Session:
    """One fetch: its options, how it waits and opens, its deadline and bytes received."""

    options: FetchOptions
    sleep: Callable[[float], None]
    opener: Opener
    ends: float = 0.0
    received: int = 0

    def __post_init__(self) -> None:
        self.ends = time.monotonic() + self.options.deadline

    def left(self, url: str) -> float:
        """Seconds until the deadline (at most one timeout), or PC502 when it has passed."""
        left = self.ends - time.monotonic()
        if left <= 0:
            raise _fail(url, f"gave up after {self.options.deadline:g} s (the overall deadline)")
        return min(left, self.options.timeout)

    def wait(self, url: str, seconds: float) -> None:
        if time.monotonic() + seconds > self.ends:
            limit = f"{self.options.deadline:g} s"
            raise _fail(url, f"gave up: the next retry would pass the overall deadline of {limit}")
        self.sleep(seconds)


def _fetch_pages(url: str, session: _Session, progress: Callable[[str], None] | None) -> Fetched:
    first = _get_page(url, session)
    document, pages, seen = first.document, 1, {url}
    next_url = _next_link(document, url)
    rows = list(document["data"]) if next_url else []
    while next_url:
        if next_url in seen or pages >= session.options.max_pages:
            raise _fail(next_url, "pagination does not end (a page links back or too many pages)")
        seen.add(next_url)
        if progress:
            progress(f"fetched {pages} page(s), {len(rows)} entries")
        page = _get_page(next_url, session).document
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise _fail(next_url, "a page has no 'data' list")
        rows.extend(page["data"])
        pages += 1
        next_url = _next_link(page, next_url)
    if pages > 1:
        document = {"data": rows}
    if progress:
        progress(f"fetched {pages} page(s), {_count(document)} entries")
    return Fetched(document, first.server_date, pages)


class _WebOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http and https only (urllib would also follow ftp)."""

    def redirect_request(self, *args: Any) -> Any:  # (req, fp, code, msg, headers, newurl)
        _, fp, code, _, headers, newurl = args
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, "redirect to a non-http URL", headers, fp)
        return super().redirect_request(*args)


def _urlopen(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.build_opener(_WebOnlyRedirects).open(request, timeout=timeout)


def _request(url: str) -> urllib.request.Request:
    try:
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise _fail(url, "only http and https URLs can be fetched")
        return urllib.request.Request(
            url,
            headers={
                "Accept": "application/json",
                "Accept-Encoding": "gzip",
                "User-Agent": f"clawpolicy/{__version__}",
            },
        )
    except ValueError as exc:
        raise _fail(url, f"not a valid URL: {exc}") from None


class _CutShort(Exception):
    """The answer ended before the server said it would."""


class _TooLarge(Exception):
    """The answers passed FetchOptions.max_bytes."""


def _get_page(url: str, session: _Session) -> _Page:
    request = _request(url)
    retries = session.options.retries
    for attempt in range(retries + 1):
        try:
            with session.opener(request, session.left(url)) as response:
                body = _read_body(response, session, url)
                headers = response.headers
            return _Page(_parse(body, url), _server_date(headers))
        except urllib.error.HTTPError as exc:
            exc.close()  # the error body is never read; release its connection now
            if exc.code not in _RETRY_STATUSES or attempt == retries:
                raise _fail(url, f"HTTP {exc.code} {exc.reason}") from None
            session.wait(url, _delay(attempt, exc.headers, session.options))
        except (_CutShort, http.client.HTTPException, zlib.error) as exc:
            if attempt == retries:
                raise _fail(url, f"the answer was cut short ({_reason(exc)})") from None
            session.wait(url, _delay(attempt, None, session.options))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == retries:
                raise _fail(url, f"cannot connect: {_reason(exc)}") from None
            session.wait(url, _delay(attempt, None, session.options))
        except ValueError as exc:  # http.client.InvalidURL and the like, after a redirect too
            raise _fail(url, f"not a valid URL: {exc}") from None
        except _TooLarge:
            limit = session.options.max_bytes // (1024 * 1024)
            raise _fail(url, f"the catalog is larger than {limit} MiB") from None
    raise _fail(url, "no attempt was made (retries < 0)")


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "reason", None) or exc or type(exc).__name__)


def _read_body(response: Any, session: _Session, url: str) -> bytes:
    """The body, decompressed when gzip, read in pieces so the deadline and the byte cap are
    checked as it arrives.

    Raises:
        _CutShort: fewer bytes than Content-Length, or a gzip stream that does not end.
        _TooLarge: more than the bytes left of FetchOptions.max_bytes.
    """
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise _fail(url, f"the server answered with an encoding never asked for: {encoding}")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    read = getattr(response, "read1", response.read)
    chunks: list[bytes] = []
    while chunk := read(65536):
        session.left(url)
        room = session.options.max_bytes - session.received + 1
        data = inflate.decompress(chunk, room) if inflate else chunk
        session.received += len(data)
        if session.received > session.options.max_bytes or (inflate and inflate.unconsumed_tail):
            raise _TooLarge
        chunks.append(data)
    if getattr(response, "length", None) or (inflate is not None and not inflate.eof):
        raise _CutShort("fewer bytes than announced")
    return b"".join(chunks)


def _delay(attempt: int, headers: Message | None, options: FetchOptions) -> float:
    """`Retry-After` (seconds or an HTTP date) when the server sends it, else 2**attempt backoff."""
    wanted: float = options.backoff * 2.0**attempt
    value = headers.get("Retry-After") if headers is not None else None
    if value:
        if value.strip().isdigit():
            wanted = float(value.strip()[:9])
        else:
            when = _http_date(value)
            sent = _header_datetime(headers)
            if when is not None and sent is not None:
                wanted = max(0.0, (when - sent).total_seconds())
    return min(wanted, options.max_delay)


def _http_date(value: str) -> datetime | None:
    """An HTTP date as an aware datetime; None when it is not one (`Tue, 45 Jun ...` too)."""
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (ValueError, TypeError, OverflowError, IndexError):
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _header_datetime(headers: Message | None) -> datetime | None:
    value = headers.get("Date") if headers is not None else None
    return _http_date(value) if value else None


def _server_date(headers: Message) -> date | None:
    moment = _header_datetime(headers)
    return moment.astimezone(UTC).date() if moment else None


def _parse(body: bytes, url: str) -> Any:
    try:
        return json.loads(body)
    except RecursionError:
        raise _fail(url, "the answer is JSON nested too deeply") from None
    except ValueError as exc:  # not UTF-8, not JSON, an integer past Python's digit limit
        raise _fail(url, f"the answer is not JSON: {str(exc)[:200]}") from None


def _next_link(document: Any, current: str) -> str | None:
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        return None
    links = document.get("links")
    target = links.get("next") if isinstance(links, dict) else None
    if not isinstance(target, str) or not target:
        return None
    return urllib.parse.urljoin(current, target)


def _count(document: Any) -> int:
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        return len(document["data"])
    return len(document) if isinstance(document, dict | list) else 0


def _fail(url: str, message: str) -> CompileError:
    return CompileError((error("PC502", message, Span(redact_url(url))),))
