"""Redaction: the one pass that masks secrets in every text clawpolicy prints or writes outside
the rendered config (reports, diffs, diagnostics, annotations, PR comments, fetch errors). Pure.

What is masked, by design rather than by example:

* anything secret-shaped wherever it appears: API keys (`sk-...`, `sk-or-v1-...`, AWS, GitHub,
  Slack, Google, GitLab, Stripe live keys), Slack webhook URLs, Telegram bot tokens, JWTs,
  private-key blocks, `Bearer`/`Basic` credentials, user info in URLs
  (`https://user:pass@host`), secret-named query values (`?api_key=...`), and long random
  tokens (24+ letters and digits in both cases, unbroken);
* every value of a secret-named field (`apiKey`, `api_key`, `token`, `password`, `DB_PASS`,
  `pwd`, `webhook`, `authorization`, `secret`, `credentials`, `private_key`, `cookie`, ... and
  everything under `headers`), whether the text is a JSON document, a `key: value` /
  `key=value` line, or a diff line naming the field by its JSON pointer
  (`/models/providers/p/apiKey: "..." -> ...`).

References name a secret without holding it and stay readable: an env SecretRef object
`{"source": "env", "provider": "default", "id": "INFRON_API_KEY"}`, a policy `{env: NAME}` and
a `${NAME}` string. The shapes are shared with the output check (`conformance`, PC107), so what
may never be written and what is never printed are one list.
"""

import functools
import json
import re
from collections.abc import Iterable
from typing import Any

MASK = "***"

_START = r"(?<![A-Za-z0-9])"  # a secret glued to a word by _ or - (`key_sk-...`) still counts
# Shapes of real credentials. The output check refuses to write any of these (PC107).
SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "API key",
        re.compile(_START + r"sk-(?:or-v1-|ant-(?:api\d\d-)?|proj-|live-|test-)?[\w-]{16,}"),
    ),
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(_START + r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,})")),
    ("Slack token", re.compile(_START + r"xox[abprs]-[A-Za-z0-9-]{10,}")),
    ("Google API key", re.compile(_START + r"AIza[\w-]{30,}")),
    ("GitLab token", re.compile(_START + r"glpat-[\w-]{20,}")),
    ("JSON web token", re.compile(_START + r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")),
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("password in a URL", re.compile(r"://[^/\s:@]+:[^/\s@]+@")),
    ("Stripe key", re.compile(_START + r"[sr]k_live_[A-Za-z0-9]{16,}")),
    ("Slack webhook", re.compile(r"\bhooks\.slack\.com/(?:services|workflows|triggers)/[\w/-]+")),
    ("Telegram bot token", re.compile(r"(?<![\w:])\d{5,16}:A[\w-]{34}(?![\w-])")),
)
# Shapes masked in printed text but not refused in output (too likely to be legitimate there).
_PRINT_SHAPES = (
    re.compile(r"\b(?i:bearer|basic|token)\s+([\w.~+/=-]{8,})"),
    re.compile(r"://([^/\s@:]+)@"),  # user info without a password: a token as the user
    re.compile(
        r"[?&;](?i:[\w.-]*(?:key|token|secret|sig|signature|password|passwd|pass|auth|"
        r"credential|session)[\w.-]*)=([^&#\s\"'`|<>)]+)"
    ),
    re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{24,}"),
)
# A shape cut short by a formatter's "..." still leaks its start: mask what is left of it.
_CUT_SHAPE = re.compile(
    r"\b(?:sk-|gh[pousr]_|github_pat_|xox[abprs]-|AIza|glpat-|AKIA|[sr]k_live_)[\w-]*\.\.\."
)
_SECRET_NAMES = (
    "apikey",
    "encryptkey",
    "clientkey",
    "signingkey",
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "authorization",
    "credential",
    "credentials",
    "privatekey",
    "accesskey",
    "secretkey",
    "cookie",
    "sessionid",
)
# secret names that are also the end of ordinary words (`bypass`, `compass`): a whole word only
_SECRET_WORDS = ("pass", "pwd", "webhook")
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# Shown as *** in printed text but not refused in output, where they are often not secrets
# (OpenClaw's `sessionKey`, `securityHeaders`): any name ending in the word key; every value
# inside a *Headers mapping (the header names stay).
_DISPLAY_WORDS = ("key", "keys")
_DISPLAY_CONTAINER_SUFFIX = "headers"
_ENV_REF = re.compile(r"\$\{[A-Z][A-Z0-9_]{0,127}\}")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*(?:"|$)')
_SECRET_REF = re.compile(
    r'\{\s*"source"\s*:\s*"(?:env|file|exec)"\s*,\s*"provider"\s*:\s*"[^"\n]*"\s*,'
    r'\s*"id"\s*:\s*"[^"\n]*"\s*\}|\{\s*"env"\s*:\s*"\w{1,128}"\s*\}'
)
_KEY_VALUE = re.compile(
    r"(?P<key>\"[^\"\n]{1,80}\"|'[^'\n]{1,80}'|(?<![\w.-])[\w.-]{1,80})"
    r"(?P<sep>\s*[:=]\s*)"
    r"(?P<value>[{\[]|\"(?:[^\"\\\n]|\\.)*\"?|'[^'\n]*'?|\$\{[^}\n]*\}|[^\s,;&}\]`|]+)"
)
_POINTER = re.compile(r"(?<![\w/.:])(/[^\s`'\"|,]+)")


@functools.lru_cache(maxsize=4096)
def is_secret_field(name: object) -> bool:
    """A field whose value is a credential: `apiKey`, `X-Api-Key`, `auth_token`, `password`,
    `DB_PASS`, `userPwd`, `slack_webhook`, `private_key`...

    Example:
        >>> [is_secret_field(n) for n in ("apiKey", "X-Api-Key", "maxTokens", "token", "auth")]
        [True, True, False, True, False]
        >>> [is_secret_field(n) for n in ("DB_PASS", "dbPwd", "webhook", "private_key")]
        [True, True, True, True]
        >>> [is_secret_field(n) for n in ("passthrough", "bypass", "webhookUrl", "password_min")]
        [False, False, False, False]
    """
    if not isinstance(name, str):
        return False
    bare = name.strip("\"'")
    plain = bare.lower().replace("-", "").replace("_", "")
    if plain.endswith(_SECRET_NAMES):
        return True
    words = _WORDS.findall(bare)
    if bare.isupper() and words and words[-1] == "KEY":
        return True  # an env var: OPENAI_KEY, STRIPE_KEY
    return bool(words) and words[-1].lower() in _SECRET_WORDS


@functools.lru_cache(maxsize=4096)
def _is_shown_secret(name: object) -> bool:
    """A field whose value printed text masks: `is_secret_field`, or a name of two words or
    more whose last is key (`sessionKey`, `mainKey`: masked in a PR comment, allowed in a
    config).

    Example:
        >>> [_is_shown_secret(n) for n in ("sessionKey", "apiKey", "keyboard", "maxTokens")]
        [True, True, False, False]
    """
    if is_secret_field(name):
        return True
    words = _WORDS.findall(name.strip("\"'")) if isinstance(name, str) else []
    return len(words) > 1 and words[-1].lower() in _DISPLAY_WORDS  # `key: value` is prose


def is_secret_path(parts: Iterable[object]) -> bool:
    """True when a JSON path runs through a field whose value printed text masks.

    Example:
        >>> is_secret_path(["env", "vars", "OPENAI_KEY"]), is_secret_path(["gateway", "port"])
        (True, False)
    """
    return any(_is_shown_secret(p) or _is_container(p) for p in parts)


def located(where: str, message: str) -> str:
    """`where: message` for a diagnostic, or `where message` when the path ends in a
    secret-named field: the redaction pass reads `apiKey: is a literal key` as a field and its
    value, and would mask the message's first word.

    Example:
        >>> located("models.providers.p.baseUrl", "is missing")
        'models.providers.p.baseUrl: is missing'
        >>> located("models.providers.p.apiKey", "holds a literal key")
        'models.providers.p.apiKey holds a literal key'
    """
    last = re.split(r"[./\[]", where)[-1]
    return f"{where} {message}" if is_secret_field(last) else f"{where}: {message}"


def _is_container(name: object) -> bool:
    return isinstance(name, str) and name.strip("\"'").lower().endswith(_DISPLAY_CONTAINER_SUFFIX)


def is_reference(value: object) -> bool:
    """A value that names a secret without holding it: SecretRef, `{env: NAME}`, `${NAME}`.

    Example:
        >>> ref = {"source": "env", "provider": "default", "id": "INFRON_API_KEY"}
        >>> is_reference(ref), is_reference({"env": "P_KEY"}), is_reference("${P_KEY}")
        (True, True, True)
        >>> is_reference("sk-abc"), is_reference({"source": "env", "id": "X", "value": "y"})
        (False, False)
    """
    if isinstance(value, str):
        return _ENV_REF.fullmatch(value) is not None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        return False
    return set(value) in ({"source", "provider", "id"}, {"source", "id"}, {"env"})


@functools.lru_cache(maxsize=65536)  # a config repeats its refs and keys thousands of times
def secret_kind(text: str) -> str | None:
    """The kind of credential `text` contains (a name from SECRET_SHAPES), or None."""
    return next((name for name, shape in SECRET_SHAPES if shape.search(text)), None)


def looks_secret(text: str) -> bool:
    """True when `text` holds anything this module would mask.

    Example:
        >>> looks_secret("sk-" + "a1" * 12), looks_secret("support-triage")
        (True, False)
    """
    return redact_line(text) != text


def shown(text: str, what: str = "value") -> str:
    """`'text'` for a message (at most 80 characters of it), or a placeholder when the text
    looks like a secret.

    Example:
        >>> shown("tierr"), shown("sk-or-v1-" + "0" * 24, "key"), shown("k" * 100)[-6:]
        ("'tierr'", '(a secret-looking key, not shown)', "kk...'")
    """
    clipped = text if len(text) <= 80 else text[:77] + "..."
    return f"(a secret-looking {what}, not shown)" if looks_secret(clipped) else repr(clipped)


# --------------------------------------------------------------------------- text


def _mask_group(pattern: re.Pattern[str], text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        if not match.re.groups:
            return MASK
        start, end = match.span(1)
        offset = match.start()
        whole = match.group(0)
        return whole[: start - offset] + MASK + whole[end - offset :]

    return pattern.sub(mask, text)


_ANY_SHAPE = re.compile(
    "|".join(f"(?:{shape.pattern})" for shape in (*(s for _, s in SECRET_SHAPES), *_PRINT_SHAPES))
    + f"|(?:{_CUT_SHAPE.pattern})"
)


def _shape_mask(match: re.Match[str]) -> str:
    return f"://{MASK}@" if match.group(0).startswith("://") else MASK


def _mask_shapes(text: str) -> str:
    if not _ANY_SHAPE.search(text):
        return text  # one scan instead of one per shape: the common case
    for _, shape in SECRET_SHAPES:
        text = shape.sub(_shape_mask, text)
    for shape in _PRINT_SHAPES:
        text = _mask_group(shape, text)
    return _CUT_SHAPE.sub(MASK + "...", text)


def _protected(segment: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _SECRET_REF.finditer(segment)]
    spans += [m.span() for m in _STRING.finditer(segment) if _ENV_REF.fullmatch(m.group(0)[1:-1])]
    return spans


def _mask_strings(segment: str) -> str:
    """Every JSON string value in `segment` masked; keys, SecretRefs and `${VAR}` kept."""
    keep = _protected(segment)
    out: list[str] = []
    last = 0
    for match in _STRING.finditer(segment):
        start, end = match.span()
        is_key = re.match(r"\s*:", segment[end:]) is not None
        if is_key or any(a <= start < b for a, b in keep):
            continue
        out.append(segment[last:start] + '"' + MASK + '"')
        last = end
    return "".join(out) + segment[last:]


def _balanced_end(line: str, start: int) -> int:
    """Index just past the bracket group opening at `start` (the line's end when unclosed)."""
    depth = 0
    index = start
    while index < len(line):
        char = line[index]
        if char == '"':
            string = _STRING.match(line, index)
            index = string.end() if string else len(line)
            continue
        depth += char in "{["
        depth -= char in "}]"
        index += 1
        if depth == 0:
            return index
    return len(line)


def _mask_fields(line: str) -> str:
    out: list[str] = []
    last = 0
    for match in _KEY_VALUE.finditer(line):
        key, value = match.group("key"), match.group("value")
        if match.start() < last or not (_is_shown_secret(key) or _is_container(key)):
            continue
        start = match.start("value")
        if value in "{[":
            end = _balanced_end(line, start)
            out.append(line[last:start] + _mask_strings(line[start:end]))
        else:
            end = match.end("value")
            bare = value.strip("\"'")
            kept = _ENV_REF.fullmatch(bare) or (_is_container(key) and value[0] not in "\"'")
            out.append(line[last:start] + (value if kept else _quoted_mask(value)))
        last = end
    return "".join(out) + line[last:]


def _quoted_mask(value: str) -> str:
    quote = value[0] if value[0] in "\"'" else ""
    return f"{quote}{MASK}{quote}"


def _is_secret_pointer(pointer: str) -> bool:
    tokens = pointer.rstrip(":").split("/")[1:]
    parts = [p.replace("~1", "/").replace("~0", "~") for p in tokens]
    return is_secret_path(parts)


def _mask_after_pointer(line: str) -> str:
    for match in _POINTER.finditer(line):
        if _is_secret_pointer(match.group(1)):
            end = match.end()
            return line[:end] + _mask_strings(line[end:])
    return line


# every name in _SECRET_NAMES, _SECRET_WORDS, _DISPLAY_WORDS and *headers contains one of these
_FIELD_HINTS = (
    *("key", "token", "secret", "pass", "pwd", "hook", "auth", "credential", "cookie", "session"),
    "head",
)


def redact_line(line: str) -> str:
    """One line of text with every secret masked (see the module docstring)."""
    if not line:
        return line
    return _redact_fields(_mask_shapes(line))


def _redact_fields(line: str) -> str:
    lowered = line.lower()
    if not any(hint in lowered for hint in _FIELD_HINTS):
        return line  # no secret-named field can be on it: skip the two slower passes
    return _mask_after_pointer(_mask_fields(line))


# --------------------------------------------------------------------------- JSON values


def _mask_all(value: Any) -> Any:
    """Every scalar masked (references kept): the old or new value of a secret field's change."""
    if is_reference(value):
        return value
    if isinstance(value, dict):
        return {key: _mask_all(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_all(item) for item in value]
    return value if value is None or isinstance(value, bool) else MASK


def _mask_secret(value: Any) -> Any:
    """The value of a secret-named field: scalars masked; an object inside is redacted as any
    other (a schema or a nested config keeps its structure), a reference stays readable."""
    if is_reference(value):
        return value
    if isinstance(value, dict):
        return redact_value(value)
    if isinstance(value, list):
        return [_mask_secret(item) for item in value]
    return value if value is None or isinstance(value, bool) else MASK


def _redact_item(key: Any, item: Any, secret_change: bool) -> Any:
    if secret_change and key in ("old", "new"):
        return _mask_all(item)
    if _is_container(key) and isinstance(item, dict):
        return {name: _mask_secret(value) for name, value in item.items()}
    if _is_shown_secret(key) or _is_container(key):
        return _mask_secret(item)
    return redact_value(item)


def redact_value(value: Any) -> Any:
    """A JSON value with secret-named fields and secret-shaped strings masked.

    A diff change record `{"pointer": "/.../apiKey", "old": ..., "new": ...}` counts as a
    field of that name.

    Example:
        >>> redact_value({"apiKey": "k", "headers": {"X-A": "v"}, "maxTokens": 5})
        {'apiKey': '***', 'headers': {'X-A': '***'}, 'maxTokens': 5}
        >>> redact_value({"pointer": "/p/apiKey", "old": "k", "new": {"env": "K"}})
        {'pointer': '/p/apiKey', 'old': '***', 'new': {'env': 'K'}}
        >>> redact_value({"api_key": {"anyOf": [{"type": "string"}]}})  # a schema stays
        {'api_key': {'anyOf': [{'type': 'string'}]}}
    """
    if isinstance(value, dict):
        pointer = value.get("pointer")
        secret_change = isinstance(pointer, str) and _is_secret_pointer(pointer)
        return {key: _redact_item(key, item, secret_change) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, str):
        return redact_line(value) if "\n" not in value else redact_text(value)
    return value


def _as_json_document(text: str) -> Any:
    head = text.lstrip()[:1]
    if head not in ("{", "["):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def redact_text(text: str) -> str:
    """The pass every printed or reported text goes through.

    A whole JSON document is redacted by structure (and re-printed only when something was
    masked); any other text line by line.

    Example:
        >>> print(redact_text('  ~ /models/providers/p/apiKey: "abc123" -> {"env": "K"}'))
          ~ /models/providers/p/apiKey: "***" -> {"env": "K"}
        >>> redact_text("GET https://h/models?api_key=abc&page=2 failed")
        'GET https://h/models?api_key=***&page=2 failed'
    """
    document = _as_json_document(text)
    if document is not None:
        masked = redact_value(document)
        if masked == document:
            return text
        ending = "\n" if text.endswith("\n") else ""
        return json.dumps(masked, indent=2, ensure_ascii=False) + ending
    text = _mask_shapes(text)  # shapes never span lines: one pass over the whole text
    return "\n".join(_redact_fields(line) for line in text.split("\n"))


# --------------------------------------------------------------------------- terminals

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with control characters (escape sequences, carriage returns, bells) shown as
    `\\xNN`, so a value from a repository cannot rewrite a terminal or a CI log.

    Example:
        >>> printable("ok\\tline\\n\\x1b[2Jgone\\r")
        'ok\\tline\\n\\\\x1b[2Jgone\\\\x0d'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


# --------------------------------------------------------------------------- URLs

_URL_SECRET_SEGMENT = re.compile(r"(?=[\w.~-]*\d)(?=[\w.~-]*[A-Za-z])[\w.~-]{20,}")


def redact_url(url: str) -> str:
    """A URL safe to print: no user info, secret-looking query values and path segments masked.

    Example:
        >>> redact_url("https://u:p@host/v1/AbCdEf0123456789xyzUVW/models?api_key=abc&offset=5")
        'https://host/v1/***/models?api_key=***&offset=5'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return redact_line(url)
    authority, slash, tail = rest.partition("/")
    host = authority.rpartition("@")[2]
    path, question, query = tail.partition("?")
    query = query.partition("#")[0]
    segments = [
        MASK if _URL_SECRET_SEGMENT.fullmatch(part) or looks_secret(part) else part
        for part in path.split("/")
    ]
    pairs = []
    for pair in query.split("&") if query else ():
        name, equals, value = pair.partition("=")
        secret = is_secret_field(name) or _query_name_is_secret(name) or looks_secret(value)
        pairs.append(f"{name}{equals}{MASK if secret and equals else value}")
    shown_query = f"?{'&'.join(pairs)}" if question else ""
    return f"{scheme}://{host}{slash}{'/'.join(segments)}{shown_query}"


def _query_name_is_secret(name: str) -> bool:
    lowered = name.lower()
    words = ("key", "token", "secret", "sig", "signature", "pass", "auth", "credential", "session")
    return any(word in lowered for word in words)
