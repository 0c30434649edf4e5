"""Corpus rows about the other commands: explain, what-if, promote, diff (against a live folder
and a git ref), catalog import / fetch / diff, schema, and diagnostic floods."""

import gzip
import json

from .base import (
    CANARY,
    CATALOG,
    CATALOG_DOC,
    CONFIG,
    CORE,
    DEV,
    FILES,
    LOCK,
    PLAIN,
    PROD,
    TEMPLATE,
    Append,
    Fifo,
    Folder,
    Link,
    Raw,
    Text,
)
from .case import COMMON, MIB, PROD_LINE, TEMPLATE_LINE, Case, V, catalog, deep, doc, template

OUTSIDE_SECRET = Link("@/outside/secret.txt")
ESCAPING = catalog(id="acme/\u001b]0;pwned\u0007\u001b[2Jsmall")  # terminal escapes in an id
TYPO = Append("    teir: fast\n")
EXPLAIN = ("explain", "--root", "{root}")
WHAT_IF = ("what-if", "--root", "{root}")
PROMOTE = ("promote", "--root", "{root}")
COST = ("cost", "--root", "{root}")
INIT = ("init", "{sandbox}/new")
ADOPT_WITH_KEY = {  # an openclaw.json with a literal key: never adopted, never shown
    "gateway": {"mode": "local"},
    "models": {
        "providers": {
            "p": {"baseUrl": "https://p.example/v1", "api": "openai-completions", "apiKey": PLAIN}
        }
    },
}
STAGING = FILES[DEV].replace("environment: dev", "environment: staging")

COMMANDS = [
    Case("explain-unknown-agent", (*EXPLAIN, "ghost"), 2, "PC103"),
    Case("explain-secret-agent", (*EXPLAIN, CANARY), 2, "PC103"),
    Case("explain-unknown-env", (*EXPLAIN, "triage", "--env", "staging"), 2, "PC108"),
    Case("explain-lock-not-utf8", (*EXPLAIN, "triage"), 2, "PC110", None, {LOCK: Raw(b"\xff")}),
    Case("explain-broken-policy", (*EXPLAIN, "triage"), 2, "PC101", COMMON, {CORE: TYPO}),
    Case(
        "explain-json-template-link",
        (*EXPLAIN, "triage", "--format", "json"),
        2,
        "PC003",
        None,
        {TEMPLATE: Link("/proc/self/environ")},
    ),
    Case("explain-ok", (*EXPLAIN, "triage"), 0),
    Case("explain-escape-in-id", (*EXPLAIN, "triage"), 0, None, None, {CATALOG: ESCAPING}),
    Case("whatif-bad-selector", (*WHAT_IF, "--without", "nope"), 2),
    Case("whatif-secret-selector", (*WHAT_IF, "--without", f"vendor:{CANARY}"), 2),
    Case("whatif-bad-glob", (*WHAT_IF, "--without", "model:acme/[x"), 2),
    Case(
        "whatif-broken-policy",
        (*WHAT_IF, "--without", "vendor:acme"),
        2,
        "PC101",
        COMMON,
        {CORE: TYPO},
    ),
    Case(
        "whatif-lock-folder",
        (*WHAT_IF, "--without", "vendor:acme"),
        2,
        "PC110",
        None,
        {LOCK: Folder()},
    ),
    Case(
        "whatif-template-fifo",
        (*WHAT_IF, "--without", "vendor:acme"),
        2,
        "PC003",
        None,
        {"repo/templates/p.j2": Fifo()},
    ),
    Case("whatif-stranded", (*WHAT_IF, "--without", "provider:p", "--env", "dev"), 1),
    Case("promote-same-env", (*PROMOTE, "prod", "prod"), 2, "PC103"),
    Case("promote-check-unknown-env", (*PROMOTE, "--check", "nope", "prod"), 2, "PC108"),
    Case(
        "promote-check-lock-folder",
        (*PROMOTE, "--check", "dev", "prod"),
        2,
        "PC110",
        None,
        {"repo/rendered/dev/clawpolicy.lock.json": Folder()},
    ),
    Case("cost-broken-policy", COST, 2, "PC101", COMMON, {CORE: TYPO}),
    Case("cost-unknown-env", (*COST, "--env", "nope"), 2, "PC108"),
    Case("cost-lock-fifo", COST, 2, None, None, {LOCK: Fifo()}),
    Case("cost-ok", COST, 0),
    Case("init-not-empty", INIT, 2, "PC601", None, {"new/x.txt": Text("x")}),
    Case(
        "init-from-fifo",
        (*INIT, "--from", "{sandbox}/in/x.json"),
        2,
        "PC602",
        None,
        {"in/x.json": Fifo()},
    ),
    Case("init-from-dev-zero", (*INIT, "--from", "/dev/zero"), 2, "PC602"),
    Case(
        "init-from-5000-digit-int",
        (*INIT, "--from", "{sandbox}/in/x.json"),
        2,
        "PC602",
        None,
        {"in/x.json": Text('{"x": ' + "9" * 5000 + "}")},
    ),
    Case(
        "init-from-nested-deep",
        (*INIT, "--from", "{sandbox}/in/x.json"),
        2,
        "PC602",
        None,
        {"in/x.json": Text(deep())},
    ),
    Case(
        "init-from-literal-key",
        (*INIT, "--from", "{sandbox}/in/x.json"),
        2,
        None,
        None,
        {"in/x.json": doc(ADOPT_WITH_KEY)},
    ),
    Case("promote-unknown-env", (*PROMOTE, "staging", "prod"), 2, "PC108"),
    Case(
        "promote-lock-folder",
        (*PROMOTE, "dev", "prod"),
        2,
        "PC110",
        None,
        {"repo/rendered/dev/clawpolicy.lock.json": Folder()},
    ),
    Case(
        "promote-lock-link-outside",
        (*PROMOTE, "dev", "prod"),
        2,
        "PC110",
        None,
        {"repo/rendered/dev/clawpolicy.lock.json": OUTSIDE_SECRET},
    ),
    Case(
        "promote-into-linked-env",
        (*PROMOTE, "dev", "prod"),
        2,
        "PC308",
        None,
        {"repo/rendered/prod": Link("@/live")},
    ),
    Case(
        "promote-wrong-source",
        (*PROMOTE, "dev", "prod"),
        2,
        "PC103",
        PROD_LINE,
        {
            "repo/policies/environments/staging.yaml": Text(STAGING),
            PROD: Append("promote_from: staging\n"),
        },
    ),
    Case(
        "promote-template-error",
        (*PROMOTE, "dev", "prod"),
        2,
        "PC303",
        TEMPLATE_LINE,
        {TEMPLATE: template("{{ 1 / 0 }}")},
    ),
]

AGAINST_DIR = ("diff", "--root", "{root}", "--against-dir", "{sandbox}/live")
AGAINST = ("diff", "--root", "{root}", "--against", "HEAD")
LIVE = "live/prod.json"
GOOD_LIVE = {"gateway": {"mode": "local"}, "models": {"providers": {}}, "agents": {"entries": {}}}


def _live(case_id: str, config: object, code: str | None = "PC403", exit_code: int = 2) -> Case:
    """`diff --against-dir live/` where live/prod.json holds `config`."""
    return Case(case_id, AGAINST_DIR, exit_code, code, None, {LIVE: doc(config)})


def _entry(model: object) -> dict[str, object]:
    return {"agents": {"entries": {"a": {"model": model}}}}


KEYS_IN_LIVE = {
    "models": {
        "providers": {"p": {"apiKey": PLAIN, "headers": {"Authorization": f"Bearer {CANARY}"}}}
    }
}
DIFF = [
    Case("against-dir-missing", (*AGAINST_DIR[:4], "{sandbox}/nope"), 2, "PC003"),
    _live("against-dir-not-object", [1]),
    _live("against-dir-not-json", "{"),
    _live("against-dir-agents-list", {"agents": []}),
    _live("against-dir-defaults-string", {"agents": {"defaults": "x"}}),
    _live("against-dir-entries-list", {"agents": {"entries": [1]}}),
    _live("against-dir-model-number", _entry(5)),
    _live("against-dir-fallbacks-string", _entry({"primary": "p/x", "fallbacks": "p/y"})),
    _live("against-dir-fallbacks-number", _entry({"fallbacks": 3})),
    _live("against-dir-primary-list", {"agents": {"defaults": {"model": {"primary": ["x"]}}}}),
    _live("against-dir-providers-list", {"models": {"providers": ["p"]}}),
    _live("against-dir-models-string", {"models": "all"}),
    _live("against-dir-nested-deep", deep()),
    _live("against-dir-5000-digit-int", '{"x": ' + "9" * 5000 + "}"),
    Case("against-dir-link-outside", AGAINST_DIR, 2, "PC003", None, {LIVE: OUTSIDE_SECRET}),
    Case("against-dir-fifo", AGAINST_DIR, 2, "PC003", None, {LIVE: Fifo()}),
    Case("against-dir-not-utf8", AGAINST_DIR, 2, "PC003", None, {LIVE: Raw(b"\xff")}),
    Case(
        "against-dir-env-link-outside",
        AGAINST_DIR,
        2,
        "PC003",
        None,
        {"outside/openclaw.json": doc(GOOD_LIVE), "live/prod": Link("@/outside")},
    ),
    Case(
        "against-dir-lock-garbage",
        AGAINST_DIR,
        2,
        "PC110",
        None,
        {"live/prod/openclaw.json": doc(GOOD_LIVE), "live/prod/clawpolicy.lock.json": Text("{")},
    ),
    Case(
        "against-dir-keys-markdown",
        (*AGAINST_DIR, "--format", "markdown"),
        1,
        None,
        None,
        {LIVE: doc(KEYS_IN_LIVE)},
    ),
    Case(
        "against-dir-keys-json",
        (*AGAINST_DIR, "--format", "json"),
        1,
        None,
        None,
        {LIVE: doc(KEYS_IN_LIVE)},
    ),
    Case("against-dir-keys-text", AGAINST_DIR, 1, None, None, {LIVE: doc(KEYS_IN_LIVE)}),
    Case(
        "against-dir-whole-file",
        AGAINST_DIR,
        1,
        None,
        None,
        {"live/gone.json": doc({"gateway": {"auth": {"token": PLAIN}}, "x": CANARY})},
    ),
    Case("against-both", (*AGAINST, "--against-dir", "{sandbox}/live"), 2),
    Case("against-not-a-repo", AGAINST, 2, "PC402"),
    Case("against-unknown-ref", (*AGAINST[:4], "nope"), 2, "PC401", base="git"),
    Case(
        "against-option-injection",
        (*AGAINST[:3], "--against=--output=/tmp/x"),
        2,
        "PC401",
        base="git",
    ),
    Case("against-secret-ref", (*AGAINST[:4], CANARY), 2, "PC401", base="git"),
    Case(
        "against-committed-agents-list",
        AGAINST,
        2,
        "PC403",
        base="git",
        committed={CONFIG: doc({"agents": []})},
    ),
    Case(
        "against-committed-not-utf8",
        AGAINST,
        2,
        "PC403",
        base="git",
        committed={CONFIG: Raw(b"\xff")},
    ),
    Case(
        "against-committed-lock-garbage",
        AGAINST,
        2,
        "PC110",
        base="git",
        committed={LOCK: Text("[")},
    ),
    Case(
        "against-committed-keys",
        (*AGAINST, "--format", "markdown"),
        1,
        base="git",
        committed={CONFIG: doc({"models": {"providers": {"p": {"apiKey": PLAIN}}}, "k": CANARY})},
    ),
    Case(
        "against-missing-tree",
        AGAINST,
        2,
        "PC403",
        "rendered",
        base="git",
        drop=("HEAD:rendered/prod",),
    ),
    Case(
        "against-missing-blob",
        AGAINST,
        2,
        "PC403",
        "rendered",
        base="git",
        drop=("HEAD:rendered/prod/openclaw.json",),
    ),
    Case(
        "against-broken-tree",
        AGAINST,
        2,
        "PC303",
        None,
        {TEMPLATE: template("{{ 1 / 0 }}")},
        base="git",
    ),
    Case("against-clean", AGAINST, 0, base="git"),
]

IN = "in/x.json"
IMPORT = (
    "catalog",
    "import",
    "{sandbox}/in/x.json",
    "--date",
    "2026-11-20",
    "-o",
    "{sandbox}/out/s.json",
)
OPENROUTER = {
    "data": [
        {"id": "acme/m", "name": "M", "pricing": {"prompt": "0.000001", "completion": "0.000002"}}
    ]
}
GOOD_IN = Text(json.dumps(OPENROUTER))
NATIVE = {
    "openrouter": '{"data": [{"id": "a/b", "pricing": {"prompt": PRICE}}]}',
    "infron": '{"data": [{"id": "a/b", "category_type": "LLM", "min_prompt_price": PRICE}]}',
    "litellm": '{"m": {"mode": "chat", "litellm_provider": "x", "input_cost_per_token": PRICE}}',
    "modelsdev": '{"x": {"models": {"m": {"cost": {"input": PRICE}}}}}',
}
PRICES = (
    ("openrouter", "infinity", '"Infinity"'),
    ("openrouter", "1e400", '"1e400"'),
    ("openrouter", "5000-digits", '"0.' + "1" * 5000 + '"'),
    ("openrouter", "nan", '"NaN"'),
    ("infron", "1e400", "1e400"),
    ("infron", "negative", "-1"),
    ("litellm", "1e400", "1e400"),
    ("litellm", "huge", "1e30"),
    ("modelsdev", "1e400", "1e400"),
    ("modelsdev", "nan", "NaN"),
)


def _import(
    case_id: str, edits: dict[str, object], code: str | None = "PC501", *extra: str
) -> Case:
    fmt = next((a for a in extra if a in NATIVE), "openrouter")
    args = (*IMPORT, "--format", fmt, *(a for a in extra if a not in NATIVE))
    return Case(case_id, args, 2, code, None, edits)  # type: ignore[arg-type]


CATALOG_COMMANDS = [
    _import("import-missing", {}),
    _import("import-fifo", {IN: Fifo()}),
    Case(
        "import-dev-zero",
        ("catalog", "import", "/dev/zero", *IMPORT[3:], "--format", "openrouter"),
        2,
        "PC501",
    ),
    _import("import-folder", {IN: Folder()}, None),
    _import("import-not-utf8", {IN: Raw(b"\xff")}),
    _import("import-not-json", {IN: Text("{\n  x")}),
    _import("import-5000-digit-int", {IN: Text('{"data": [' + "9" * 5000 + "]}")}),
    _import("import-nested-deep", {IN: Text(deep())}),
    *(
        _import(
            f"import-{fmt}-{label}", {IN: Text(NATIVE[fmt].replace("PRICE", price))}, "PC501", fmt
        )
        for fmt, label, price in PRICES
    ),
    _import("import-wrong-format", {IN: GOOD_IN}, "PC501", "litellm"),
    _import("import-provider-newline", {IN: GOOD_IN}, "PC501", "--provider", "p\n"),
    _import("import-secret-provider", {IN: GOOD_IN}, "PC501", "--provider", CANARY),
    _import("import-output-folder", {IN: GOOD_IN, "out/s.json": Folder()}, None),
    Case(
        "import-output-under-file",
        (*IMPORT[:5], "-o", "{sandbox}/in/x.json/s.json", "--format", "openrouter"),
        2,
        "PC308",
        None,
        {IN: GOOD_IN},
    ),
    Case(
        "import-no-date",
        (*IMPORT[:3], *IMPORT[5:], "--format", "openrouter"),
        2,
        "PC501",
        None,
        {IN: GOOD_IN},
    ),
    Case(
        "import-ok",
        (*IMPORT, "--format", "openrouter"),
        0,
        None,
        None,
        {IN: GOOD_IN},
        writes=("out", "out/s.json"),
    ),
    Case(
        "import-replaces-link",
        (*IMPORT, "--format", "openrouter"),
        0,
        None,
        None,
        {IN: GOOD_IN, "out/s.json": OUTSIDE_SECRET},
        writes=("out/s.json",),
    ),
]

FETCH = ("catalog", "fetch", "--format", "openrouter", "-o", "{sandbox}/out/s.json")
DATE = {"Date": "Tue, 16 Jun 2026 23:30:00 GMT"}
BOMB = gzip.compress(b" " * (65 * MIB))


def _fetch(
    case_id: str,
    path: str,
    response: tuple[int, dict[str, str], bytes] | None = None,
    **more: object,
) -> Case:
    serve = {path: response} if response else {}
    code = more.pop("code", "PC502")
    exit_code = more.pop("exit", 2)
    return Case(
        case_id, (*FETCH, "--url", "{url}" + path), exit_code, code, None, serve=serve, **more
    )  # type: ignore[arg-type]


def _url(case_id: str, url: str) -> Case:
    return Case(case_id, (*FETCH, "--url", url), 2, "PC502")


FETCHES = [
    _fetch("fetch-404", "/missing"),
    _fetch("fetch-not-json", "/html", (200, DATE, b"<html>")),
    _fetch("fetch-cut-short", "/cut", (200, {**DATE, "Content-Length": "9999"}, b"{}")),
    _fetch("fetch-gzip-bomb", "/bomb", (200, {**DATE, "Content-Encoding": "gzip"}, BOMB)),
    _fetch("fetch-unasked-encoding", "/br", (200, {"Content-Encoding": "br"}, b"x")),
    _fetch("fetch-5000-digit-int", "/int", (200, DATE, b'{"data": [' + b"9" * 5000 + b"]}")),
    _fetch("fetch-nested-deep", "/deep", (200, DATE, deep().encode())),
    _fetch(
        "fetch-bad-date",
        "/date",
        (200, {"Date": "Tue, 45 Jun 2026 99:00:00 GMT"}, GOOD_IN.text.encode()),
        code="PC501",
    ),
    _fetch("fetch-redirect-file", "/redirect", (302, {"Location": "file:///etc/passwd"}, b"")),
    _fetch("fetch-token-in-path", f"/v1/{CANARY}/models"),
    _fetch("fetch-token-in-query", f"/models?key={PLAIN}"),
    _url("fetch-password-in-url", f"http://bot:{PLAIN}@127.0.0.1:9/x"),
    _url("fetch-malformed-url", "http://[::1"),
    _url("fetch-bad-port", "http://127.0.0.1:99999/x"),
    _url("fetch-file-scheme", "file:///etc/passwd"),
    Case(
        "fetch-output-folder",
        (*FETCH, "--url", "{url}/ok"),
        2,
        None,
        None,
        {"out/s.json": Folder()},
    ),
    _fetch(
        "fetch-ok",
        "/ok",
        (200, DATE, GOOD_IN.text.encode()),
        code=None,
        exit=0,
        writes=("out", "out/s.json"),
    ),
]

CDIFF = ("catalog", "diff", "{sandbox}/in/old.json", "{sandbox}/in/new.json")
SNAPSHOT = Text(json.dumps(CATALOG_DOC))
NAN_SNAPSHOT = Text(json.dumps(CATALOG_DOC).replace('"input": 0.2', '"input": NaN', 1))


def _cdiff(case_id: str, new: object, code: str | None, exit_code: int = 2, **more: object) -> Case:
    """`catalog diff old new` with the base catalog as old."""
    edits = {"in/old.json": SNAPSHOT, "in/new.json": new, **more.pop("edits", {})}  # type: ignore[dict-item]
    args = more.pop("args", CDIFF)
    return Case(case_id, args, exit_code, code, None, edits, **more)  # type: ignore[arg-type]


OTHERS = [
    Case("cdiff-missing", CDIFF, 2, "PC501"),
    _cdiff("cdiff-not-snapshot", Text("{}"), "PC110"),
    _cdiff("cdiff-native", Text(json.dumps(OPENROUTER)), "PC110"),
    _cdiff("cdiff-fifo", Fifo(), "PC501"),
    _cdiff("cdiff-5000-digit-int", Text('{"x": ' + "9" * 5000 + "}"), "PC501"),
    _cdiff("cdiff-nested-deep", Text(deep()), None),
    _cdiff("cdiff-price-nan", NAN_SNAPSHOT, "PC110"),
    _cdiff(
        "cdiff-root-broken",
        SNAPSHOT,
        "PC101",
        args=(*CDIFF, "--root", "{root}"),
        edits={CORE: TYPO},
    ),
    _cdiff("cdiff-same", SNAPSHOT, None, 0),
    Case("schema-bad-kind", ("schema", "--kind", "nope"), 2),
    Case("schema-secret-kind", ("schema", "--kind", CANARY), 2),
    Case("schema-ok", ("schema",), 0),
]

MANY_KEYS = Append("".join(f"    k{i}: 1\n" for i in range(10000)))
HUGE_KEY = Append("    ? " + "k" * 2_000_000 + "\n    : 1\n")
FLOODS = [
    Case("flood-10000-keys", V, 2, "PC101", None, {CORE: MANY_KEYS}),
    Case(
        "flood-10000-keys-github", (*V, "--format", "github"), 2, "PC101", None, {CORE: MANY_KEYS}
    ),
    Case("flood-2-mb-key-json", (*V, "--format", "json"), 2, "PC101", None, {CORE: HUGE_KEY}),
]

CASES = (*COMMANDS, *DIFF, *CATALOG_COMMANDS, *FETCHES, *OTHERS, *FLOODS)
