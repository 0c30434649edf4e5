"""Catalog fetch: download a native catalog over HTTP (URL -> parsed JSON). The only HTTP module.

Standard library only (`urllib`). A GET has a timeout; 429 and 5xx answers and network errors
are retried with exponential backoff (a `Retry-After` header wins); OpenRouter-style pages
(`{"data": [...], "links": {"next": URL}}`, relative or absolute) are followed and their `data`
joined, so the catalog is never silently truncated. The server's `Date` header gives the
snapshot date, so no wall clock is read. URLs in messages have credentials and secret-looking
query values masked.
"""

import email.utils
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import Message
from typing import Any

from .. import __version__
from ..diagnostics import CompileError, Span, error
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

    timeout: float = 30.0
    retries: int = 4
    backoff: float = 1.0
    max_delay: float = 60.0
    max_pages: int = 1000


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
    options: FetchOptions = FetchOptions(),
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] | None = None,
    opener: Opener | None = None,
) -> Fetched:
    """GET a catalog, following `links.next` pages and joining their `data`.

    Args:
        url: the first page.
        options: timeout, retries and backoff.
        sleep: how to wait between retries (tests pass a recorder).
        progress: called with a one-line status after each page (the CLI passes a TTY writer).
        opener: `urllib.request.urlopen`-like callable `(request, timeout) -> response`.

    Returns:
        The whole document, the first response's `Date` and the page count.

    Raises:
        CompileError: PC502 when the server keeps failing, answers 4xx, sends invalid JSON or
            pages in a loop.
    """
    first = _get_page(url, options, sleep, opener or _urlopen)
    document, pages, seen = first.document, 1, {url}
    next_url = _next_link(document, url)
    rows = list(document["data"]) if next_url else []
    while next_url:
        if next_url in seen or pages >= options.max_pages:
            raise _fail(next_url, "pagination does not end (a page links back or too many pages)")
        seen.add(next_url)
        if progress:
            progress(f"fetched {pages} page(s), {len(rows)} entries")
        page = _get_page(next_url, options, sleep, opener or _urlopen).document
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


def _urlopen(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(request, timeout=timeout)


def _get_page(
    url: str, options: FetchOptions, sleep: Callable[[float], None], opener: Opener
) -> _Page:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise _fail(url, "only http and https URLs can be fetched")
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": f"clawpolicy/{__version__}"}
    )
    for attempt in range(options.retries + 1):
        try:
            with opener(request, options.timeout) as response:
                body = response.read()
                headers = response.headers
            return _Page(_parse(body, url), _server_date(headers))
        except urllib.error.HTTPError as exc:
            exc.close()  # the error body is never read; release its connection now
            if exc.code not in _RETRY_STATUSES or attempt == options.retries:
                raise _fail(url, f"HTTP {exc.code} {exc.reason}") from None
            sleep(_delay(attempt, exc.headers, options))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == options.retries:
                reason = getattr(exc, "reason", exc)
                raise _fail(url, f"cannot connect: {reason}") from None
            sleep(_delay(attempt, None, options))
    raise _fail(url, "no attempt was made (retries < 0)")


def _delay(attempt: int, headers: Message | None, options: FetchOptions) -> float:
    """`Retry-After` (seconds or an HTTP date) when the server sends it, else 2**attempt backoff."""
    wanted: float = options.backoff * 2.0**attempt
    value = headers.get("Retry-After") if headers is not None else None
    if value:
        if value.strip().isdigit():
            wanted = float(value.strip())
        else:
            when = email.utils.parsedate_to_datetime(value) if _is_http_date(value) else None
            sent = _header_datetime(headers)
            if when is not None and sent is not None:
                wanted = max(0.0, (when - sent).total_seconds())
    return min(wanted, options.max_delay)


def _is_http_date(value: str) -> bool:
    return email.utils.parsedate_tz(value) is not None


def _header_datetime(headers: Message | None) -> datetime | None:
    value = headers.get("Date") if headers is not None else None
    if not value or not _is_http_date(value):
        return None
    moment = email.utils.parsedate_to_datetime(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _server_date(headers: Message) -> date | None:
    moment = _header_datetime(headers)
    return moment.astimezone(UTC).date() if moment else None


def _parse(body: bytes, url: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(url, f"the answer is not JSON: {exc}") from None


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
