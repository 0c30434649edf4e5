"""Catalog import, shared part: typed field access, units, vendors and snapshot assembly. Pure.

Every importer reads native entries through `read` (which names the file, the entry and the
field in a PC501 diagnostic when a value has the wrong type), turns them into offer documents
with the unit helpers below, and hands them to `assemble`, which validates them as `OfferSpec`,
drops duplicates (counted), sorts by (provider, id) and builds the `CatalogSpec`.

Capability convention shared by all importers (see `CapabilitiesSpec`): true / false when the
source says so, absent (unknown) when it does not. `json` means JSON-schema structured output
(OpenClaw's `compat.supportsJsonSchemaResponseFormat`), not plain JSON mode.
"""

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Literal

from pydantic import ValidationError

from ...diagnostics import CompileError, Diagnostic, Span, error, raise_if_errors
from ...load.catalog import FORMAT, VERSION
from ...load.spec import MAX_DIGITS, MAX_PRICE, PROVIDER_ID_RE, CatalogSpec, OfferSpec
from ...redaction import looks_secret, shown

Kind = Literal["str", "int", "number", "bool", "list", "object"]
PriceValue = Decimal | Literal["variable"] | None
MILLION = Decimal(1_000_000)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KIND_TEST: Mapping[Kind, Any] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}
_KIND_NAME: Mapping[Kind, str] = {
    "str": "a string",
    "int": "an integer",
    "number": "a number",
    "bool": "true or false",
    "list": "a list",
    "object": "an object",
}
# Model-name prefixes -> the lab that trains them; used only where the id has no `vendor/` part.
_LABS: tuple[tuple[str, str], ...] = (
    ("claude", "anthropic"),
    ("gpt", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("codex", "openai"),
    ("chatgpt", "openai"),
    ("gemini", "google"),
    ("gemma", "google"),
    ("llama", "meta"),
    ("codellama", "meta"),
    ("qwen", "alibaba"),
    ("qwq", "alibaba"),
    ("qvq", "alibaba"),
    ("glm", "zhipuai"),
    ("kimi", "moonshotai"),
    ("moonshot", "moonshotai"),
    ("minimax", "minimax"),
    ("deepseek", "deepseek"),
    ("grok", "xai"),
    ("mistral", "mistral"),
    ("ministral", "mistral"),
    ("magistral", "mistral"),
    ("codestral", "mistral"),
    ("devstral", "mistral"),
    ("pixtral", "mistral"),
    ("phi", "microsoft"),
    ("nemotron", "nvidia"),
    ("mimo", "xiaomi"),
    ("command", "cohere"),
    ("sonar", "perplexity"),
    ("nova", "amazon"),
    ("hunyuan", "tencent"),
    ("ernie", "baidu"),
    ("jamba", "ai21"),
    ("doubao", "bytedance"),
    ("seed", "bytedance"),
)
_LAB_SPLIT = re.compile(r"[/.:@_\s-]+")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What the user chose on the command line; importers never read anything else.

    Attributes:
        date: the snapshot date (`--date`); None means "take it from the source".
        provider: the provider id of every offer (openrouter, infron); None = the format's name.
        only_providers: keep only these source providers (modelsdev, litellm); empty = all.
        path: the input's name, used in diagnostics.
        source: free text stored as the snapshot's `source`.
    """

    date: dt.date | None = None
    provider: str | None = None
    only_providers: tuple[str, ...] = ()
    path: str = "<input>"
    source: str | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """A normalized snapshot and how many native entries were skipped, by reason."""

    snapshot: CatalogSpec
    skipped: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Where:
    """The native entry being read, for diagnostics."""

    path: str
    entry: str

    def fail(self, message: str) -> CompileError:
        return CompileError((self.diagnostic(message),))

    def diagnostic(self, message: str) -> Diagnostic:
        return error("PC501", f"entry '{self.entry}': {message}", Span(self.path))


def import_error(path: str, message: str, *notes: str) -> CompileError:
    """A PC501 error about the input as a whole (not one entry)."""
    return import_error_code("PC501", path, message, *notes)


def import_error_code(code: str, path: str, message: str, *notes: str) -> CompileError:
    return CompileError((error(code, message, Span(path), *notes),))


def read(entry: Mapping[str, Any], dotted: str, kind: Kind, where: Where) -> Any:
    """The value at a dotted path, checked against `kind`; None when absent or null.

    Raises:
        CompileError: PC501 naming the entry and the field when the value has another type.
    """
    value: Any = entry
    for part in dotted.split("."):
        if not isinstance(value, dict):
            raise where.fail(f"'{dotted}' must be inside an object, got {_describe(value)}")
        value = value.get(part)
        if value is None:
            return None
    if not _KIND_TEST[kind](value):
        raise where.fail(f"'{dotted}' must be {_KIND_NAME[kind]}, got {_describe(value)}")
    return value


def read_strings(entry: Mapping[str, Any], dotted: str, where: Where) -> tuple[str, ...] | None:
    """A list of strings (None when absent); any other element type is a PC501 error."""
    items = read(entry, dotted, "list", where)
    if items is None:
        return None
    if not all(isinstance(item, str) for item in items):
        raise where.fail(f"'{dotted}' must be a list of strings, got {_describe(items)}")
    return tuple(items)


def read_date(entry: Mapping[str, Any], dotted: str, where: Where) -> date | None:
    """A `YYYY-MM-DD` string as a date (None when absent or empty)."""
    text = read(entry, dotted, "str", where)
    if not text:
        return None
    if not _DATE_RE.fullmatch(text):
        raise where.fail(f"'{dotted}' must be a date YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise where.fail(f"'{dotted}' is not a valid date: {text!r}") from exc


def positive(value: int | None) -> int | None:
    """Token limits of 0 mean "not stated"; the snapshot says unknown instead."""
    return value if value is not None and value > 0 else None


def smallest(*values: int | None) -> int | None:
    """The most conservative of the stated (positive) limits, or None when none is stated.

    Example:
        >>> smallest(1000000, 262144), smallest(None, 0, 128000), smallest(None, 0)
        (262144, 128000, None)
    """
    stated = [v for v in values if v is not None and v > 0]
    return min(stated) if stated else None


def _exact(value: int | float) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _price(exact: Decimal, scale: Decimal, where: Where, name: str, given: object) -> Decimal:
    """`exact * scale` in USD per 1M tokens, checked against the bounds every importer shares:
    finite, not negative, at most MAX_PRICE, at most MAX_DIGITS significant digits."""
    shown = _describe(given)
    if not exact.is_finite():
        raise where.fail(f"'{name}' must be a finite number, got {shown}")
    if exact < 0:
        raise where.fail(f"'{name}' must not be negative, got {shown}")
    digits = "".join(map(str, exact.as_tuple().digits)).strip("0")
    if len(digits) > MAX_DIGITS:  # counted on the text: normalize() would round first
        raise where.fail(f"'{name}' has more than {MAX_DIGITS} significant digits")
    if exact * scale > MAX_PRICE:
        raise where.fail(f"'{name}' is more than {MAX_PRICE} USD per 1M tokens, got {shown}")
    return _plain(exact * scale)


def per_million(value: int | float | None, where: Where, name: str) -> Decimal | None:
    """A JSON number already in USD per 1M tokens, as an exact Decimal (3.75 stays 3.75)."""
    if value is None:
        return None
    return _price(_exact(value), Decimal(1), where, name, value)


def per_token_number(value: int | float | None, where: Where, name: str) -> Decimal | None:
    """A JSON number in USD per token as USD per 1M, through its shortest repr.

    Example:
        >>> w = Where("f", "e")
        >>> per_token_number(3.75e-06, w, "x"), per_token_number(0, w, "x")
        (Decimal('3.75'), Decimal('0'))
    """
    if value is None:
        return None
    return _price(_exact(value), MILLION, where, name, value)


def per_token_text(text: str | None, where: Where, name: str) -> PriceValue:
    """An OpenRouter decimal string in USD per token as USD per 1M.

    `"-1"` is the variable (router) price, `""` is "not stated", `"0"` is free.

    Example:
        >>> w = Where("f", "e")
        >>> per_token_text("0.00000375", w, "p"), per_token_text("-1", w, "p")
        (Decimal('3.75'), 'variable')
    """
    if text is None or text == "":
        return None
    if text.strip() == "-1":
        return "variable"
    try:
        exact = Decimal(text)
    except InvalidOperation as exc:
        raise where.fail(f"'{name}' must be a decimal string, got {_describe(text)}") from exc
    return _price(exact, MILLION, where, name, text)


def _plain(value: Decimal) -> Decimal:
    normalized = value.normalize()
    return normalized.quantize(Decimal(1)) if normalized == normalized.to_integral() else normalized


def prices(**values: PriceValue) -> dict[str, Any]:
    """The `price` document: stated prices only (absent = unknown)."""
    return {name: value for name, value in values.items() if value is not None}


def capabilities(**flags: bool | None) -> dict[str, bool]:
    """The `capabilities` document: stated flags only (absent = unknown, never false)."""
    return {name: flag for name, flag in flags.items() if flag is not None}


def inputs(flags: Mapping[str, bool]) -> list[str]:
    """OpenClaw input modalities implied by the capability flags (pdf is never an input)."""
    carried = (("vision", "image"), ("video", "video"), ("audio", "audio"))
    return ["text", *(modality for flag, modality in carried if flags.get(flag) is True)]


def lab_of(name: str) -> str | None:
    """The lab behind a model name without a `vendor/` prefix, when the name says so.

    Example:
        >>> lab_of("claude-sonnet-4-5"), lab_of("anthropic.claude-3-haiku"), lab_of("foo-7b")
        ('anthropic', 'anthropic', None)
    """
    words = [w for w in _LAB_SPLIT.split(name.lower()) if w]
    for word in words:
        for prefix, lab in _LABS:
            if word.startswith(prefix) and (prefix != "o1" or word == "o1"):
                return lab
    return None


def vendor_of(model_id: str, fallback: str) -> str:
    """The id's `vendor/` prefix (lowercased) where there is one, else `fallback`.

    Example:
        >>> vendor_of("Qwen/Qwen3-32B", "x"), vendor_of("gpt-5", "openai")
        ('qwen', 'openai')
    """
    head, slash, _ = model_id.partition("/")
    return head.lower().lstrip("~") if slash and head else fallback


def check_provider_id(provider: str, path: str) -> str:
    """A provider id usable as an OpenClaw provider key, or a PC501 error."""
    if not PROVIDER_ID_RE.fullmatch(provider) or looks_secret(provider):
        raise import_error(
            path,
            f"provider id {shown(provider, 'id')} is not valid",
            f"note: provider ids must match {PROVIDER_ID_RE.pattern} and not look like a secret",
        )
    return provider


def snapshot_date(options: ImportOptions, source_date: date | None, path: str) -> date:
    """`--date` wins; then the date the source states; never the wall clock."""
    chosen = options.date or source_date
    if chosen is None:
        raise import_error(
            path,
            "the source does not state its date",
            "hint: pass --date YYYY-MM-DD (the day the catalog was downloaded)",
        )
    return chosen


@dataclass(slots=True)
class Collector:
    """Accumulates offers, skip counts and per-entry errors while one importer runs."""

    path: str
    offers: dict[tuple[str, str], OfferSpec] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    errors: list[Diagnostic] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def add(self, offer: dict[str, Any], where: Where) -> None:
        """Validate and keep one offer document; a repeated (provider, id) is counted, not kept."""
        key = (offer["provider"], offer["id"])
        if key in self.offers:
            self.skip("duplicate (provider, id)")
            return
        try:
            spec = OfferSpec.model_validate(offer)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'offer'}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            self.errors.append(where.diagnostic(problems))
            return
        self.offers[key] = spec

    def record(self, exc: CompileError) -> None:
        self.errors.extend(exc.diagnostics)

    @contextmanager
    def entry(self) -> Iterator[None]:
        """Import one native entry: its CompileError is recorded and the import goes on, so
        every wrong entry of a file is reported at once."""
        try:
            yield
        except CompileError as exc:
            self.record(exc)


def assemble(collector: Collector, as_of: date, source: str) -> ImportResult:
    """The snapshot of every collected offer, sorted by (provider, id).

    Raises:
        CompileError: every per-entry PC501 error found, at once; PC503 when no entry became an
            offer (a file of another shape, a filter that keeps nothing): an empty snapshot
            would compile into agents with no model, so nothing is written.
    """
    raise_if_errors(collector.errors)
    if not collector.offers:
        skipped = sum(collector.skipped.values())
        reasons = [
            f"note: {count} skipped: {why}" for why, count in collector.skipped.most_common()
        ]
        raise import_error_code(
            "PC503",
            collector.path,
            f"no offers: {skipped} entr{'y was' if skipped == 1 else 'ies were'} read, none is "
            "a chat model this importer understands; nothing was written",
            *reasons[:8],
            "hint: check --format (and --only-provider); the file may be of another shape",
        )
    ordered = tuple(collector.offers[key] for key in sorted(collector.offers))
    snapshot = CatalogSpec(
        format=FORMAT, version=VERSION, date=as_of, source=source, offers=ordered
    )
    return ImportResult(snapshot, MappingProxyType(dict(sorted(collector.skipped.items()))))


def entries_of(document: Any, path: str, container: Literal["data", "root"]) -> tuple[Any, ...]:
    """The native entries: the `data` list of an API response, or the top-level object's items."""
    if container == "data":
        if not isinstance(document, dict) or not isinstance(document.get("data"), list):
            raise import_error(path, "expected a JSON object with a 'data' list (an API response)")
        return tuple(document["data"])
    if not isinstance(document, dict):
        raise import_error(path, "expected a JSON object at the top level")
    return tuple(document.items())


def _describe(value: Any) -> str:
    kind = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "object",
        type(None): "null",
    }.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{kind} {text if len(text) <= 40 else text[:37] + '...'}"
