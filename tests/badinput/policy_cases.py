"""Corpus rows about what a pull request can put in the policy repository: YAML, schema values,
files and paths, lock files and outputs, templates."""

from compiler.output.renderer import TemplateLimits

from .base import (
    CANARY,
    CATALOG,
    CONFIG,
    CORE,
    DEV,
    FILES,
    LOCK,
    OPS,
    PLAIN,
    PROD,
    TEMPLATE,
    TIERS,
    Append,
    Fifo,
    Folder,
    Gone,
    Link,
    Many,
    Patch,
    Raw,
    Text,
)
from .case import (
    CHECK,
    COMMON,
    DEV_CATALOGS,
    DEV_PROVIDER,
    MIB,
    NEXT,
    PROD_LINE,
    RENDERED_PROD,
    TEMPLATE_FILE,
    TEMPLATE_LINE,
    C,
    Case,
    V,
    catalog,
    catalog_price,
    core,
    deep,
    gateway,
    patch,
    template,
    tier,
)

OPS_AGENT = "policies/teams/ops.yaml:4"
DEV_NAME = "policies/environments/dev.yaml:2"
NEW_AGENT = Append("  newbie:\n    tier: fast\n")
ESCAPE_TIER = '  newbie:\n    tier: "\\e]0;pwned\\a\\e[2Jfast\\r"\n'  # terminal escapes
LOCK_PATH = "rendered/prod/clawpolicy.lock.json"
ANCHORS = (
    "owners: &o9 [&o8 [&o7 [&o6 [&o5 [&o4 [&o3 [&o2 [&o1 [lol, lol]]]]]]]]]\n"
    "description: &d [*o9, *o9, *o9, *o9, *o9, *o9, *o9, *o9, *o9]"
)
SLOW = TemplateLimits(seconds=1.0, memory_bytes=256 * MIB, output_chars=MIB)
ROOMY = TemplateLimits(seconds=60, memory_bytes=256 * MIB, output_chars=MIB)
DOUBLING = (
    '{% set n = namespace(s="x" * 1000000) %}'
    "{% for i in range(40) %}{% set n.s = n.s ~ n.s %}{% endfor %}"
)
NESTED_LOOPS = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"

YAML = [
    Case("yaml-syntax-error", V, 2, "PC001", NEXT, {CORE: Append("    tier: [fast\n")}),
    Case("yaml-tab-indent", V, 2, "PC001", COMMON, {CORE: Append("\tbogus: 1\n")}),
    core("yaml-duplicate-key", "tier: fast", "PC002"),
    Case("yaml-duplicate-agent-key", V, 2, "PC002", COMMON, {CORE: Append("  coder:\n")}),
    core("yaml-5000-digit-int", "budget: " + "9" * 5000, "PC001"),
    core("yaml-impossible-date", "x: !!timestamp 2026-13-45", "PC001"),
    core("yaml-int-tag-on-text", 'budget: !!int "x"', "PC001"),
    core("yaml-float-tag-on-text", 'budget: !!float "x"', "PC001"),
    core("yaml-bool-tag-on-yes", "x: !!bool yes", "PC001"),
    core("yaml-python-object", "x: !!python/object/apply:os.system [echo pwned]", "PC001"),
    core("yaml-python-name", "x: !!python/name:os.system ''", "PC001"),
    core("yaml-local-tag", "x: !env INFRON_API_KEY", "PC001"),
    core("yaml-binary-tag", "x: !!binary aGVsbG8=", "PC001"),
    core("yaml-set-tag", "x: !!set {a: null}", "PC001"),
    core("yaml-nested-too-deep", "x: " + deep(100), "PC001"),
    Case("yaml-two-documents", V, 2, "PC001", COMMON, {CORE: Append("---\nversion: 1\n")}),
    core("yaml-unknown-alias", "tier: *nowhere", "PC001"),
    core("yaml-merge-of-scalar", "<<: 1", "PC001"),
    core("yaml-key-not-scalar", "? [a, b]\n    : 1", "PC001"),
    core("yaml-control-character", "x: \x07", "PC001", None),
    patch("yaml-billion-laughs", CORE, 'owners: ["@acme/core"]', ANCHORS, "PC103", None),
    Case("yaml-not-utf8", V, 2, "PC003", "policies/teams/core.yaml", {CORE: Raw(b"\xff\xfe\x00")}),
    Case("yaml-empty-file", V, 2, "PC103", "policies/teams/ops.yaml:1", {OPS: Text("")}),
    Case("yaml-top-level-list", V, 2, "PC103", "policies/teams/ops.yaml:1", {OPS: Text("- a\n")}),
    core("yaml-underscore-number-is-text", "budget: 1_000", "PC103"),
    tier("yaml-sexagesimal-is-text", "fallbacks: 1:30"),
    tier("yaml-yes-is-text", "fallbacks: yes"),
    tier("yaml-0777-is-777", "fallbacks: 0777"),
    tier("yaml-octal-1-2", "fallbacks: 0o1", None, 0),
    patch("yaml-thinking-off-works", TIERS, "thinking: low", "thinking: off", None, None, exit=0),
]

SCHEMA = [
    core("unknown-key", "teir: fast", "PC101"),
    core("unknown-key-secret-shaped", f"{CANARY}: 1", "PC101"),
    core("unknown-key-megabyte", "? " + "k" * 1_000_000 + "\n    : 1", "PC101"),
    patch("missing-version", OPS, "version: 1\n", "", "PC102", "policies/teams/ops.yaml"),
    patch("wrong-version", OPS, "version: 1", "version: 2", "PC103", "policies/teams/ops.yaml:1"),
    patch("agent-id-trailing-newline", OPS, "  pager:", '  "pager\\n":', "PC106", OPS_AGENT),
    patch("agent-id-uppercase", OPS, "  pager:", "  Pager:", "PC106", OPS_AGENT),
    patch("agent-id-too-long", OPS, "  pager:", "  " + "p" * 65 + ":", "PC106", OPS_AGENT),
    patch("agent-id-path", OPS, "  pager:", "  ../../x:", "PC106", OPS_AGENT),
    patch("provider-id-newline", DEV, "  p: {", '  "p\\n": {', "PC103", DEV_PROVIDER),
    patch("env-var-newline", DEV, "{env: P_KEY}", '{env: "P_KEY\\n"}', "PC107", DEV_PROVIDER),
    patch("env-var-lowercase", DEV, "{env: P_KEY}", "{env: p_key}", "PC107", DEV_PROVIDER),
    patch("env-var-is-a-secret", DEV, "{env: P_KEY}", f"{{env: {CANARY}}}", "PC107", DEV_PROVIDER),
    patch("env-name-newline", DEV, "environment: dev", 'environment: "dev\\n"', "PC103", DEV_NAME),
    patch("env-name-traversal", DEV, "environment: dev", "environment: ../x", "PC103", DEV_NAME),
    patch("literal-key-shaped", DEV, "{env: P_KEY}", CANARY, "PC107", DEV_PROVIDER, args=C),
    patch("literal-key-plain", DEV, "{env: P_KEY}", PLAIN, "PC107", DEV_PROVIDER, args=C),
    patch(
        "base-url-query-key",
        DEV,
        "https://p.example/v1",
        f"https://p.example/v1?api_key={PLAIN}",
        "PC107",
        DEV_PROVIDER,
        args=C,
    ),
    patch(
        "base-url-user-info",
        DEV,
        "https://p.example/v1",
        f"https://bot:{PLAIN}@p.example/v1",
        "PC107",
        DEV_PROVIDER,
        args=C,
    ),
    patch(
        "base-url-key-in-path",
        DEV,
        "https://p.example/v1",
        f"https://p.example/{CANARY}/v1",
        "PC107",
        DEV_PROVIDER,
        args=C,
    ),
    patch("api-value-unknown", DEV, "openai-completions", "telnet", "PC103", DEV_PROVIDER),
    tier("price-negative", "max_price: {input: -1}"),
    tier("price-over-bound", "max_price: {input: 1e9}"),
    tier("price-infinite", "max_price: {input: .inf}"),
    tier("price-nan", "max_price: {input: .nan}"),
    tier("price-1e400", "max_price: {input: 1e400}"),
    tier("price-too-many-decimals", "max_price: {input: 1e-30}"),
    tier("price-is-text", 'max_price: {input: "1"}'),
    core("budget-over-bound", "budget: 1e12\n    workload: {input_mtok: 1}", "PC103"),
    core("workload-over-bound", "workload: {input_mtok: 1e30}", "PC103"),
    tier("min-context-over-bound", "min_context: 999999m"),
    tier("min-context-5000-digits", 'min_context: "' + "9" * 5000 + 'k"'),
    tier("min-context-fraction", "min_context: 1.5"),
    tier("fallbacks-17", "fallbacks: 17"),
    tier("fallbacks-negative", "fallbacks: -1"),
    tier("fallbacks-bool", "fallbacks: true"),
    tier("requires-unknown", "requires: [telepathy]"),
    tier("glob-unclosed", 'prefer: ["acme/[x"]', "PC109"),
    tier("thinking-unknown", "thinking: extreme"),
    Case("unknown-tier", V, 2, "PC104", NEXT, {CORE: Append("  newbie:\n    tier: fats\n")}),
    Case("escape-in-tier-name", V, 2, "PC104", NEXT, {CORE: Append(ESCAPE_TIER)}),
    patch("agent-twice-across-teams", OPS, "pager:", "coder:", "PC105", OPS_AGENT),
    patch("team-twice", OPS, "team: ops", "team: core", "PC105", "policies/teams/ops.yaml:2"),
    patch(
        "environment-twice",
        DEV,
        "environment: dev",
        "environment: prod",
        "PC103",
        "policies/environments/prod.yaml:2",
    ),
    Case("promote-from-unknown", V, 2, "PC108", PROD_LINE, {PROD: Append("promote_from: nope\n")}),
    Case("promote-from-self", V, 2, "PC108", PROD_LINE, {PROD: Append("promote_from: prod\n")}),
    Case(
        "promote-cycle",
        V,
        2,
        "PC118",
        PROD_LINE,
        {PROD: Append("promote_from: dev\n"), DEV: Append("promote_from: prod\n")},
    ),
    Case("template-missing", V, 2, "PC114", PROD_LINE, {PROD: Append("template: nope.j2\n")}),
    Case("template-traversal", V, 2, "PC114", PROD_LINE, {PROD: Append("template: ../x.j2\n")}),
    Case("template-absolute", V, 2, "PC114", PROD_LINE, {PROD: Append("template: /etc/hosts\n")}),
    Case("no-policies-folder", V, 2, "PC112", "policies", {"repo/policies": Gone()}),
    Case("tiers-missing", V, 2, "PC112", "policies/tiers.yaml", {TIERS: Gone()}),
    Case("no-environments", V, 2, "PC112", "policies/environments", {DEV: Gone(), PROD: Gone()}),
    Case("system-agent-unknown", V, 2, "PC103", PROD_LINE, {PROD: Append("system_agent: x\n")}),
    core("budget-without-workload", "budget: 10", "PC102"),
    patch("numeric-agent-key", OPS, "  pager:", "  123:", "PC103", OPS_AGENT),
    Case("teams-match-nothing", V, 2, "PC116", PROD_LINE, {PROD: Append("teams: [nobody]\n")}),
]

OUTSIDE_SECRET = Link("@/outside/secret.txt")
MANY_TEAMS = Many(10001, "f{}.txt", "")
PATHS = [
    Case("template-link-environ", V, 2, "PC003", None, {TEMPLATE: Link("/proc/self/environ")}),
    Case("template-link-secret", C, 2, "PC003", TEMPLATE_FILE, {TEMPLATE: OUTSIDE_SECRET}),
    Case("template-dir-link", V, 2, "PC003", "templates", {"repo/templates/p": Link("@/outside")}),
    Case("template-link-root", V, 2, "PC003", "templates", {"repo/templates/all": Link("/")}),
    Case("template-fifo", V, 2, "PC003", "templates/pipe.j2", {"repo/templates/pipe.j2": Fifo()}),
    Case(
        "templates-1001-files",
        V,
        2,
        "PC003",
        "templates",
        {"repo/templates/m": Many(1001, "{}", "x")},
    ),
    Case(
        "templates-21-mib",
        V,
        2,
        "PC003",
        "templates",
        {"repo/templates/big": Many(3, "b{}.j2", "x" * (7 * MIB))},
    ),
    Case("team-link-outside", V, 2, "PC003", None, {"repo/policies/teams/e.yaml": OUTSIDE_SECRET}),
    Case(
        "team-link-dev-zero", V, 2, "PC003", None, {"repo/policies/teams/z.yaml": Link("/dev/zero")}
    ),
    Case(
        "team-fifo", V, 2, "PC003", "policies/teams/p.yaml", {"repo/policies/teams/p.yaml": Fifo()}
    ),
    Case("team-9-mib", V, 2, "PC003", None, {"repo/policies/teams/b.yaml": Text("#" * (9 * MIB))}),
    Case(
        "teams-dir-link",
        V,
        2,
        "PC003",
        "policies/teams",
        {"repo/policies/teams": Link("@/outside")},
    ),
    Case("teams-10001-files", V, 2, "PC003", "policies/teams", {"repo/policies/teams": MANY_TEAMS}),
    Case("tiers-link-outside", V, 2, "PC003", "policies/tiers.yaml", {TIERS: OUTSIDE_SECRET}),
    Case(
        "env-link-outside",
        V,
        2,
        "PC003",
        None,
        {"repo/policies/environments/x.yaml": OUTSIDE_SECRET},
    ),
    Case(
        "catalog-link-outside",
        V,
        2,
        "PC110",
        DEV_CATALOGS,
        {CATALOG: Link("@/outside/catalog.json")},
    ),
    patch(
        "catalog-traversal",
        DEV,
        "catalogs/c.json",
        "../../outside/catalog.json",
        "PC110",
        DEV_CATALOGS,
    ),
    patch("catalog-absolute", DEV, "catalogs/c.json", "/etc/hostname", "PC110", DEV_CATALOGS),
    patch(
        "catalog-twice",
        DEV,
        "[catalogs/c.json]",
        "[catalogs/c.json, catalogs/./c.json]",
        "PC111",
        DEV_CATALOGS,
    ),
    Case("catalog-fifo", V, 2, "PC003", DEV_CATALOGS, {CATALOG: Fifo()}),
    Case("catalog-folder", V, 2, "PC003", DEV_CATALOGS, {CATALOG: Folder()}),
    Case("catalog-not-utf8", V, 2, "PC003", DEV_CATALOGS, {CATALOG: Raw(b"\xff{}")}),
    Case("catalog-not-json", V, 2, "PC110", DEV_CATALOGS, {CATALOG: Text("{")}),
    Case("catalog-nested-deep", V, 2, "PC110", DEV_CATALOGS, {CATALOG: Text(deep())}),
    Case(
        "catalog-4000-digit-int",
        V,
        2,
        "PC110",
        DEV_CATALOGS,
        {CATALOG: catalog(context_window=int("9" * 4000))},
    ),
    Case("catalog-price-1e400", V, 2, "PC110", DEV_CATALOGS, {CATALOG: catalog_price("1e400")}),
    Case("catalog-price-nan", V, 2, "PC110", DEV_CATALOGS, {CATALOG: catalog_price("NaN")}),
    Case(
        "catalog-price-infinity", V, 2, "PC110", DEV_CATALOGS, {CATALOG: catalog_price("Infinity")}
    ),
    Case("catalog-price-negative", V, 2, "PC110", DEV_CATALOGS, {CATALOG: catalog_price("-0.5")}),
    Case("catalog-price-huge", V, 2, "PC110", DEV_CATALOGS, {CATALOG: catalog_price("1000000")}),
    Case(
        "catalog-price-22-digits",
        V,
        2,
        "PC110",
        DEV_CATALOGS,
        {CATALOG: catalog_price("0." + "1" * 22)},
    ),
    Case(
        "catalog-context-huge",
        V,
        2,
        "PC110",
        DEV_CATALOGS,
        {CATALOG: catalog(context_window=10**12)},
    ),
    Case(
        "catalog-provider-newline", V, 2, "PC110", DEV_CATALOGS, {CATALOG: catalog(provider="p\n")}
    ),
    Case(
        "catalog-native",
        V,
        2,
        "PC110",
        DEV_CATALOGS,
        {CATALOG: Text('{"data": [{"id": "a/b", "pricing": {}}]}')},
    ),
    Case("catalog-missing", V, 2, "PC110", DEV_CATALOGS, {CATALOG: Gone()}),
]

OUTPUTS = [
    Case("lock-folder", C, 2, "PC110", LOCK_PATH, {LOCK: Folder()}),
    Case("lock-not-utf8", C, 2, "PC110", LOCK_PATH, {LOCK: Raw(b"\xff\xfe")}),
    Case("lock-not-json", C, 2, "PC110", LOCK_PATH, {LOCK: Text("{")}),
    Case("lock-link-outside", C, 2, "PC110", LOCK_PATH, {LOCK: OUTSIDE_SECRET}),
    Case("lock-fifo", C, 2, "PC110", LOCK_PATH, {LOCK: Fifo()}),
    Case("lock-link-dev-zero", C, 2, "PC110", LOCK_PATH, {LOCK: Link("/dev/zero")}),
    Case("lock-version-9", C, 2, "PC110", LOCK_PATH, {LOCK: Text('{"version": 9}')}),
    Case("lock-nested-deep", C, 2, "PC110", LOCK_PATH, {LOCK: Text(deep())}),
    Case(
        "lock-ref-not-string",
        C,
        2,
        "PC110",
        LOCK_PATH,
        {LOCK: Text('{"version": 1, "agents": {"triage": {"primary": 5}}}')},
    ),
    Case(
        "lock-other-env",
        C,
        2,
        "PC110",
        LOCK_PATH,
        {LOCK: Patch('"environment": "prod"', '"environment": "dev"')},
    ),
    Case(
        "lock-agents-list",
        C,
        2,
        "PC110",
        LOCK_PATH,
        {LOCK: Patch('"tiers": {', '"tiers": [], "x": {')},
    ),
    Case(
        "lock-fallbacks-string",
        C,
        2,
        "PC110",
        LOCK_PATH,
        {LOCK: Patch('"fallbacks": [', '"fallbacks": "p/x", "y": [')},
    ),
    Case("rendered-link", C, 2, "PC308", "rendered", {"repo/rendered": Link("@/outside")}),
    Case(
        "rendered-env-link", C, 2, "PC308", "rendered/prod", {"repo/rendered/prod": Link("@/live")}
    ),
    Case("rendered-env-file", C, 2, "PC308", "rendered/prod", {"repo/rendered/prod": Text("x")}),
    Case("config-link-outside", C, 2, "PC308", RENDERED_PROD, {CONFIG: OUTSIDE_SECRET}),
    Case("config-folder-check", CHECK, 2, "PC308", RENDERED_PROD, {CONFIG: Folder()}),
    Case(
        "check-rendered-link", CHECK, 2, "PC308", "rendered", {"repo/rendered": Link("@/outside")}
    ),
    Case("check-stale", CHECK, 1, None, None, {CORE: NEW_AGENT}),
    Case(
        "check-stale-github",
        (*CHECK, "--format", "github"),
        1,
        "PC305",
        RENDERED_PROD,
        {CORE: NEW_AGENT},
    ),
    Case("check-up-to-date", CHECK, 0),
    Case(
        "check-template-error",
        CHECK,
        2,
        "PC303",
        TEMPLATE_LINE,
        {TEMPLATE: template("{{ 1 / 0 }}")},
    ),
    Case("compile-first", C, 0, base="fresh", writes=("repo/rendered", "repo/rendered/**")),
    Case("compile-new-agent", C, 0, None, None, {CORE: NEW_AGENT}, writes=("repo/rendered/*/*",)),
    Case("compile-unknown-env", (*C, "--env", "staging"), 2, "PC108"),
    Case("compile-secret-env", (*C, "--env", CANARY), 2, "PC108"),
    Case("compile-upgrade-unknown", (*C, "--upgrade", "ghost"), 2, "PC103"),
    Case("compile-agent-no-upgrade", (*C, "triage"), 2),
    Case(
        "compile-unsatisfiable",
        C,
        2,
        "PC201",
        COMMON,
        {CORE: Append("  newbie:\n    tier: fast\n    requires: [video]\n")},
    ),
    core("compile-pin-misfit", "pin: p/acme/small", "PC202", args=C),
    patch("compile-env-budget", PROD, "budget: 1000", "budget: 1", "PC204", None, args=C),
    Case("compile-root-missing", ("compile", "--root", "{sandbox}/nowhere"), 2, "PC112"),
]


def _t(case_id: str, first_line: str, code: str, **more: object) -> Case:
    """A template whose line 1 is `first_line`, compiled; the error is at that line."""
    at = more.pop("at", TEMPLATE_LINE)
    return Case(case_id, C, 2, code, at, {TEMPLATE: template(first_line)}, **more)  # type: ignore[arg-type]


def _g(case_id: str, members: str, code: str, at: str = TEMPLATE_FILE) -> Case:
    """A template whose gateway holds `members` too, compiled."""
    return Case(case_id, C, 2, code, at, {TEMPLATE: gateway(members)})


JUNK_ALIASES = '{"gateway": {"mode": "local"}, "agents": {"defaults": {"models": [1, 2]}}}\n'
TEMPLATES = [
    _t("template-syntax-error", "{% if %}", "PC301"),
    _t("template-division-by-zero", "{{ 1 / 0 }}", "PC303"),
    _t("template-modulo-by-zero", "{{ 1 % 0 }}", "PC303"),
    _t("template-recursion", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "PC303"),
    _t("template-huge-range", "{% for i in range(10**9) %}{% endfor %}", "PC303"),
    _t("template-nested-loops", NESTED_LOOPS, "PC303", limits=SLOW),
    _t("template-string-repeat", '{{ "x" * 10**10 }}', "PC303"),
    _t("template-power", "{{ 2 ** 1000000 }}", "PC303"),
    _t("template-memory", DOUBLING, "PC303", limits=ROOMY),
    _t(
        "template-output-flood",
        '{% for i in range(99999) %}{{ "x" * 999 }}{% endfor %}',
        "PC303",
        limits=SLOW,
    ),
    _t("template-undefined", "{{ secrets }}", "PC303"),
    _t("template-no-lipsum", "{{ lipsum(10**6) }}", "PC303"),
    _t("template-globals", "{{ self.__init__.__globals__.os.environ }}", "PC303"),
    _t("template-cycler-globals", "{{ cycler.__init__.__globals__.os.environ }}", "PC303"),
    _t("template-include-outside", '{% include "../outside/secret.txt" %}', "PC114", at=None),
    _t("template-include-proc", '{% include "/proc/self/environ" %}', "PC114", at=None),
    _t("template-deep-expression", "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}", "PC301", at=None),
    _g("template-nan", '"x": {{ (1e308 * 10 - 1e308 * 10) | tojson }}', "PC302"),
    _g("template-infinity", '"x": {{ (1e308 * 10) | tojson }}', "PC302"),
    _g("template-1e400", '"x": 1e400', "PC302"),
    _g("template-5000-digit-int", '"x": ' + "9" * 5000, "PC302"),
    _g("template-duplicate-key", '"mode": "remote"', "PC302"),
    _g("template-deep-output", '"x": ' + deep(), "PC302"),
    _g(
        "template-literal-token",
        f'"auth": {{"mode": "token", "token": "{PLAIN}"}}',
        "PC107",
        RENDERED_PROD,
    ),
    _g("template-secret-shaped", f'"note": "{CANARY}"', "PC107", RENDERED_PROD),
    _g("template-secret-as-key", f'"{CANARY}": 1', "PC107", RENDERED_PROD),
    _g("template-literal-header", f'"headers": {{"X-Api-Key": "{PLAIN}"}}', "PC107", RENDERED_PROD),
    _g("template-password-url", f'"url": "https://u:{PLAIN}@h.example/"', "PC107", RENDERED_PROD),
    Case("template-not-object", C, 2, "PC302", TEMPLATE_FILE, {TEMPLATE: Text("[1]\n")}),
    Case("template-not-json", C, 2, "PC302", TEMPLATE_FILE, {TEMPLATE: Text("{'a': 1}\n")}),
    Case(
        "template-gateway-list", C, 2, "PC304", RENDERED_PROD, {TEMPLATE: Text('{"gateway": []}\n')}
    ),
    Case("template-no-gateway-mode", C, 2, "PC304", RENDERED_PROD, {TEMPLATE: Text("{}\n")}),
    Case(
        "template-models-replace",
        C,
        2,
        "PC303",
        TEMPLATE_FILE,
        {TEMPLATE: Text('{"models": {"mode": "replace"}}')},
    ),
    Case("template-junk-aliases", C, 2, None, None, {TEMPLATE: Text(JUNK_ALIASES)}),
]

CASES = (*YAML, *SCHEMA, *PATHS, *OUTPUTS, *TEMPLATES)
__all__ = ["CASES", "FILES"]
