"""Diagnostics shared by every stage: Span, Diagnostic, CompileError and the error-code table.

Every user-facing problem is a `Diagnostic` with a stable code (tests assert codes, not prose).
Formatting for terminals, JSON and GitHub annotations lives here too, so every command prints
problems the same way.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from .redaction import printable

# PC207 says what a compile did with locked choices; a compile that writes nothing, what it would
REPLACED = "no longer fit and were replaced"
WOULD_BE_REPLACED = "no longer fit and would be replaced"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Span(NamedTuple):
    """A place in a source file: repo-relative POSIX path, 1-based line and column.

    A NamedTuple rather than a frozen dataclass: the YAML loader makes one per node, and a tuple
    is several times cheaper to create.
    """

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span | None = None
    notes: tuple[str, ...] = ()

    def sort_key(self) -> tuple[str, int, int, str, str]:
        span = self.span or Span("")
        return (span.path, span.line, span.column, self.code, self.message)


def error(code: str, message: str, span: Span | None = None, *notes: str) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, tuple(notes))


def warning(code: str, message: str, span: Span | None = None, *notes: str) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, tuple(notes))


@dataclass(slots=True)
class CompileError(Exception):
    """The only exception the CLI treats as a user error (exit 2)."""

    diagnostics: tuple[Diagnostic, ...] = field(default=())

    def __str__(self) -> str:
        return "\n".join(format_text_one(d) for d in self.diagnostics)


def raise_if_errors(diagnostics: Iterable[Diagnostic]) -> None:
    """Raise one CompileError holding every diagnostic when any of them is an error."""
    items = tuple(diagnostics)
    if any(d.severity is Severity.ERROR for d in items):
        raise CompileError(tuple(sorted(items, key=Diagnostic.sort_key)))


@dataclass(frozen=True, slots=True)
class Code:
    """One diagnostic code: a short title, what it means (and why clawpolicy reports it), and
    how to fix it. docs/codes.md is generated from `CODES` (scripts/codes_md.py)."""

    title: str
    explanation: str
    fix: str


# Ranges: PC0xx YAML, PC1xx schema and references, PC2xx resolution, PC3xx rendering and output
# checks, PC4xx git and diff, PC5xx catalogs, PC6xx init and adoption, PC9xx internal.
CODES: dict[str, Code] = {
    "PC001": Code(
        "YAML syntax error",
        "A policy file is not valid YAML (an unclosed bracket, a tab used for indentation, a "
        "key without a value where a mapping was expected).",
        "Fix the file at the line and column shown; YAML indents with spaces only.",
    ),
    "PC002": Code(
        "duplicate key",
        "The same key appears twice in one mapping. YAML parsers silently keep the last one; "
        "clawpolicy refuses, since one of the two values is a mistake.",
        "Delete or rename one of the two keys (both places are named).",
    ),
    "PC003": Code(
        "file cannot be read",
        "A policy file, template or directory could not be read (permissions, not UTF-8, not "
        "a regular file such as a FIFO or a device, larger than its limit, or a symlink that "
        "leads outside the repository: never followed).",
        "Check the file named: it must be a readable UTF-8 file inside the repository, within "
        "the limits README 'Guarantees' lists.",
    ),
    "PC101": Code(
        "unknown key",
        "A key that this kind of file does not have, usually a typo; unknown keys are errors "
        "so that a misspelt constraint is never silently ignored.",
        "Use the key the hint suggests, or see the keys in the README or `clawpolicy schema`.",
    ),
    "PC102": Code(
        "missing key",
        "A key the file or the situation needs is absent: `version`, an environment without "
        "catalogs or providers, an agent without a tier and no `default_tier`, a budget "
        "without a workload.",
        "Add the key the message names.",
    ),
    "PC103": Code(
        "invalid value",
        "A value of the wrong type or outside what it may be (a string where a number goes, "
        "an unknown enum value), or a command-line value that names nothing (an unknown agent "
        "for `explain` or `--upgrade`, a `--without` selector that matches no offer).",
        "Use a value of the kind the message and the schema describe.",
    ),
    "PC104": Code(
        "unknown tier",
        "An agent, an environment's `default_tier`/`image_tier`/`utility_tier`/`pdf_tier` or "
        "a tier override names a tier that `policies/tiers.yaml` does not define.",
        "Use one of the tiers listed in the note, or define the tier.",
    ),
    "PC105": Code(
        "duplicate agent id",
        "Two team files define the same agent id; ids are OpenClaw agent ids and must be "
        "unique across the organisation.",
        "Rename one of the agents.",
    ),
    "PC106": Code(
        "invalid agent id",
        "An agent id OpenClaw's schema rejects: ids match `^[a-z0-9_][a-z0-9_-]{0,63}$` "
        "(lowercase letters, digits, `_` and `-`).",
        "Rename the agent in lowercase.",
    ),
    "PC107": Code(
        "literal secret",
        "Something that looks like a credential is written literally: an `api_key` that is a "
        "string, a key in a URL, a token in a template or output, a literal value under the "
        "output's `env` block (OpenClaw's env vars). The value is never shown. `init --from` "
        "reports a literal key or env var of an adopted config with this code, as a warning, "
        "and writes an env reference instead (or leaves the env var out), and a declared "
        "model whose id or name looks like a secret, which it leaves out of the catalog.",
        "Reference secrets through the environment: `api_key: {env: NAME}` (a SecretRef in "
        "the output), and rotate a key that was committed or shared.",
    ),
    "PC108": Code(
        "unknown environment",
        "An environment named on the command line (`--env`, `promote FROM TO`) or in "
        "`promote_from` does not exist, or an environment promotes from itself.",
        "Use one of the environments listed in the note.",
    ),
    "PC109": Code(
        "invalid glob or reference",
        "A `prefer`/`avoid` glob that cannot match as written (an unclosed `[`), or a model "
        "ref that is not `<provider>/<model id>`.",
        "Close the bracket (escape a literal `[` as `[[]`), or write the ref in full.",
    ),
    "PC110": Code(
        "catalog file invalid",
        "A catalog snapshot (or a lock file) is missing, not JSON, a native catalog instead of "
        "a clawpolicy snapshot, or not of the snapshot's shape.",
        "Convert native catalogs with `clawpolicy catalog import`; for a broken lock, delete "
        "it and run `clawpolicy compile --upgrade`.",
    ),
    "PC111": Code(
        "duplicate offer across catalogs",
        "The same (provider, model id) is offered by two catalogs an environment lists, so "
        "its price and capabilities would be ambiguous.",
        "Keep each (provider, model id) in exactly one of the environment's catalogs.",
    ),
    "PC112": Code(
        "no policies found",
        "The repository has no `policies/` folder, no `policies/tiers.yaml` or no environment "
        "files: `--root` probably points at the wrong folder.",
        "Run in the policy repository or pass `--root`; `clawpolicy init` creates one.",
    ),
    "PC113": Code(
        "team matches nothing",
        "A pattern in an environment's `teams:` matches no team file (a warning).",
        "Fix the pattern or the team's name.",
    ),
    "PC114": Code(
        "template not found",
        "The environment's `template` (or a template it includes) is not under `templates/`.",
        "Create the template or fix the name.",
    ),
    "PC115": Code(
        "unknown provider",
        "A pin or a promoted ref names a provider account the environment does not declare.",
        "Declare the provider under the environment's `providers:` or fix the ref.",
    ),
    "PC116": Code(
        "environment deploys no agents",
        "No team matches the environment's `teams:`; OpenClaw rejects a config without agents.",
        "Fix `teams:` or add agents.",
    ),
    "PC117": Code(
        "name differs from its file name",
        "A team's `team:` or an environment's `environment:` differs from its file name (a "
        "warning): the name decides where output goes, so people looking for the file by name "
        "would not find it.",
        "Rename the file or the name so that they agree.",
    ),
    "PC118": Code(
        "promote_from cycle",
        "Environments promote from each other in a circle, so none of them ever resolves.",
        "Let one environment of the cycle resolve on its own (remove its `promote_from`).",
    ),
    "PC119": Code(
        "agent override does not apply",
        "An environment's `agents:` names an agent that no team defines (an error, with a "
        "did-you-mean), or one the environment does not deploy through `teams:` (a warning: "
        "the override would do nothing).",
        "Use the agent id the hint suggests, or deploy the agent's team in the environment.",
    ),
    "PC120": Code(
        "provider account without offers",
        "A provider account of the environment has no offer in any catalog it lists (often an "
        "account named differently from the catalog's provider, like `onerouter` for "
        "`infron`): no chain can use it, and every chain would quietly move to another "
        "account. A warning in a promoted environment, whose chains change only by promotion.",
        "Name the account after the catalog's provider (the hint names it), or import the "
        "catalog with `--provider <account>`.",
    ),
    "PC121": Code(
        "catalog provider not declared",
        "A catalog the environment lists offers models of a provider the environment does not "
        "declare: those offers are never candidates (often a forgotten provider block).",
        "Declare the account under `providers:`, or list a catalog of the providers you use.",
    ),
    "PC122": Code(
        "glob or vendor matches no offer",
        "A `prefer` / `avoid` glob or a `vendors` name matches no offer of the catalogs it "
        "meets, so it does nothing: globs are case-sensitive and match `vendor/model` or "
        "`provider/vendor/model`. Reported on every run.",
        "Use the glob or name the hint suggests (a missing vendor prefix, the case); the note "
        "shows real ids.",
    ),
    "PC123": Code(
        "tier defined but never used",
        "A tier that nothing names while a close, undefined name is used: the tier was most "
        "likely renamed in tiers.yaml (the uses are PC104 errors).",
        "Rename the tier back, or rename every use.",
    ),
    "PC201": Code(
        "no candidate satisfies the constraints",
        "No catalog offer of the environment's providers meets every merged constraint of the "
        "agent (or tier); the notes list the constraints and the nearest misses with the "
        "reason each failed.",
        "Relax the constraint the nearest misses fail on, add a provider or a catalog, or "
        "run `clawpolicy explain AGENT` for the whole ranking.",
    ),
    "PC202": Code(
        "pinned model does not satisfy the constraints",
        "The agent's `pin` is not offered in the environment, or fails a constraint (price, "
        "capability, context, budget).",
        "Pin a model that fits, or relax the constraint the message names.",
    ),
    "PC203": Code(
        "fewer candidates than the chain asks for",
        "Fewer offers satisfy the constraints (and `diversity`) than `fallbacks` asks for; "
        "the chain is shorter (a warning; an error with `--strict`).",
        "Lower `fallbacks`, relax `diversity` or the constraints, or add providers.",
    ),
    "PC204": Code(
        "environment budget exceeded",
        "The estimated monthly cost of the environment's agents is over its `budget`; the "
        "notes list the largest spenders.",
        "Raise the budget, lower workloads, or tighten `max_price` of the expensive agents "
        "(`clawpolicy cost --by agent`).",
    ),
    "PC205": Code(
        "agent was never promoted",
        "An environment with `promote_from` has no chain for an agent (or the source has no "
        "lock): it never resolves on its own.",
        "Run `clawpolicy promote FROM TO` (compile FROM first).",
    ),
    "PC206": Code(
        "tier alias not emitted",
        "A tier has no `/model` alias in an environment because nothing there satisfies it (a "
        "warning).",
        "Relax the tier, or ignore it if no one uses the alias there.",
    ),
    "PC207": Code(
        "locked choice replaced",
        "A model kept from the lock no longer satisfies the policy against the current "
        "catalog and was replaced (a warning): the diff shows the new chain.",
        "Review the change; `compile --upgrade` re-resolves on purpose.",
    ),
    "PC208": Code(
        "promoted chain does not fit the target environment",
        "A chain being promoted is not offered by, or does not satisfy the constraints, pin "
        "or budget of, the target environment; nothing is written.",
        "Fix the target's policy (providers, catalogs, budgets) or promote once the source "
        "resolves to something that fits.",
    ),
    "PC209": Code(
        "promoted environment is behind its source (pending promotion)",
        "A policy or catalog change would change what an environment with `promote_from` "
        "runs, at its next promotion (a warning naming the environment and the agents; the "
        'pull-request diff has a "Pending promotion" section). The environment itself does '
        "not change: it runs what was promoted until `clawpolicy promote`.",
        "Promote when ready: `clawpolicy promote FROM TO --check` shows what TO receives, "
        "`clawpolicy promote FROM TO` writes it.",
    ),
    "PC210": Code(
        "promoted environment runs a model its catalogs dropped or retire",
        "A promoted environment runs a model that its catalogs no longer offer, or that "
        "retires soon (a warning: it keeps running it until the next promotion).",
        "Let the source environment move off the model, then promote.",
    ),
    "PC211": Code(
        "chosen model retires soon",
        "A chosen model (a pin too) retires within the environment's `retire_warning_days` "
        "(default 30) of the catalog's date; it would be locked in without a word.",
        "Avoid it or pin another model, or refresh the catalog and `compile --upgrade` once a "
        "successor is listed; `retire_warning_days` sets the window.",
    ),
    "PC212": Code(
        "chain stays on one provider account",
        "`diversity: vendor+provider` asks for a chain on two provider accounts, but no "
        "candidate of another vendor on another account satisfies the constraints.",
        "Loosen the constraints, or list a catalog with offers of the other account.",
    ),
    "PC213": Code(
        "chosen model was released days ago",
        "A chosen model was released fewer than 7 days before the catalog's date and no "
        "`min_age_days` applies (`sort: newest` picks a model released that very day).",
        "Set `min_age_days` (like 14) so new models soak first, or `min_age_days: 0` to accept "
        "them.",
    ),
    "PC301": Code(
        "template syntax error",
        "The Jinja2 template does not parse.",
        "Fix the template at the line shown.",
    ),
    "PC302": Code(
        "rendered template is not valid JSON",
        "The template rendered something that is not strict JSON (a missing comma, a "
        "duplicate key, a comment outside Jinja comment tags).",
        "Put values in with `| tojson` and keep comments in `{# #}`; the message gives the "
        "line in the rendered text.",
    ),
    "PC303": Code(
        "template render error",
        "The template failed while rendering (an undefined variable, a runtime error), or "
        "sets a value of the model layer the compiler owns to something else.",
        "Fix the template; leave `models` and `agents` to the compiler.",
    ),
    "PC304": Code(
        "output check failed",
        "The rendered config fails a check OpenClaw itself does not make: a ref that is not "
        "declared, an invalid agent id, no `gateway.mode` (the gateway would not start).",
        "Fix the template or policy the message points at.",
    ),
    "PC305": Code(
        "rendered output is stale",
        "`rendered/` is not what the policies compile to (`compile --check`), a rendered "
        "folder belongs to no environment, or promote used a source lock older than its "
        "policies.",
        "Run `clawpolicy compile` (and commit `rendered/`), or delete the orphaned folder.",
    ),
    "PC306": Code(
        "output rejected by OpenClaw's own schema",
        "The rendered openclaw.json does not validate against the JSON Schema that the "
        "environment's OpenClaw release (openclaw_version) prints with `openclaw config "
        "schema`: OpenClaw would refuse to load it. The message names the JSON path, and the "
        "template line when the value comes from the template.",
        "Fix the value at the JSON path: in the template for template-owned settings, in the "
        "environment file or provider block for the model layer.",
    ),
    "PC307": Code(
        "promoted environment's output changed outside promote",
        "A promoted environment's `rendered/` files are missing, or `openclaw.json` was edited "
        "after `clawpolicy promote` wrote it (the lock records its digest): a promoted "
        "environment changes only through promotion.",
        "Restore the files (`git checkout rendered/<env>`), or run `clawpolicy promote` again.",
    ),
    "PC308": Code(
        "output cannot be written",
        "Writing `rendered/` (or a `catalog import`/`fetch` output) failed: a read-only "
        "folder, a full disk, a file-size limit, a `rendered/` or `rendered/<env>` that is a "
        "symlink (never written through), or an output file that leads outside the "
        "repository. Every environment is staged completely and swapped in at once, so "
        "nothing was changed.",
        "Free space or make the folder writable, replace the symlink by a real folder, then "
        "run again.",
    ),
    "PC309": Code(
        "another clawpolicy run is writing",
        "Another `compile` or `promote` holds the repository's write lock (an advisory "
        "`flock` on the repository folder); two writers never interleave.",
        "Wait for the other run to finish, then run again.",
    ),
    "PC401": Code(
        "unknown git ref",
        "`diff --against` names a ref git does not know; in CI usually a shallow clone that "
        "did not fetch it.",
        "Fetch the ref (`git fetch origin main`, or `actions/checkout` with `fetch-depth: 0`).",
    ),
    "PC402": Code(
        "not a git repository",
        "`diff --against` needs the policy repository to be inside a git repository.",
        "Run it in a git checkout, or use `--against-dir` with a directory of configs.",
    ),
    "PC403": Code(
        "cannot read committed file",
        "A committed or live config on the old side of a diff cannot be read as a JSON object.",
        "Check the file at that ref or in that directory.",
    ),
    "PC501": Code(
        "catalog import error",
        "A native catalog cannot be imported: not JSON, another format than `--format`, a "
        "wrong type in a field that is used, or no offer at all.",
        "Pass the right `--format`, or fix or re-download the file.",
    ),
    "PC502": Code(
        "catalog fetch error",
        "Downloading a catalog failed (HTTP status, timeout, a body that is not JSON, "
        "endless pagination) after the retries.",
        "Check the URL and the network, and try again; `catalog import` works on a saved file.",
    ),
    "PC503": Code(
        "catalog import yields no offers",
        "`catalog import` or `fetch` produced no offer at all (a file of another shape, a "
        "filter that keeps nothing); nothing is written, since an empty snapshot compiles "
        "into agents with no model.",
        "Check `--format` (and `--only-provider`); the notes count the entries skipped.",
    ),
    "PC601": Code(
        "init target not empty, or a file exists",
        "`clawpolicy init` refuses a non-empty directory, and with `--force` any policy, "
        "template or rendered file it would overwrite, a symlink on the way to a file it "
        "writes, or a file where it needs a folder (`.vscode`, `policies`); nothing is "
        "written. A move into DIR that fails (a full disk) takes back what it moved and names "
        "the path. With `--force`, optional files DIR already has (README.md, .gitignore, "
        "editor settings, workflows) are kept as they are and named in a warning with this "
        "code.",
        "Init into a new or empty directory, or move the files named out of the way.",
    ),
    "PC602": Code(
        "configuration cannot be adopted",
        "`init --from` cannot say part of the openclaw.json in policy: not strict JSON, "
        "`$include`, nesting deeper than 64 levels of objects and arrays, a provider without "
        "`baseUrl` or `api`, a chain naming a model that "
        "`models.providers` does not declare, an agent id OpenClaw's schema rejects or one "
        "declared twice (`agents.entries` and `agents.list`), two provider ids equal in "
        "lowercase, a `baseUrl` carrying user info, a query string or a key (never shown).",
        "Make the file strict JSON, declare every model the chains use and each provider and "
        "agent once, keep keys out of `baseUrl`, then adopt again.",
    ),
    "PC603": Code(
        "part of the configuration not adopted",
        "`init --from` met keys of the model layer the policy language cannot say (provider "
        "headers, model params, other agent settings, ...) and left them out (a warning naming "
        "them).",
        "Copy what you need into `templates/openclaw.json.j2`, secrets as SecretRefs.",
    ),
    "PC604": Code(
        "adopted configuration not reproduced",
        "After `init --from`, a chain or alias of the new repository differs from the adopted "
        "file (a warning naming both).",
        "Adjust the generated policy (pins, `prefer`, tiers), then `clawpolicy compile`.",
    ),
    "PC901": Code(
        "internal error",
        "clawpolicy failed in a way it did not expect (exit 3, with a traceback).",
        "Please report it with the traceback and the command you ran.",
    ),
}


RANGES = {
    "PC0": "YAML",
    "PC1": "schema and references",
    "PC2": "resolution",
    "PC3": "rendering and output checks",
    "PC4": "git and diff",
    "PC5": "catalogs",
    "PC6": "init and adoption",
    "PC9": "internal",
}


def format_code_reference(codes: Mapping[str, Code] = CODES) -> str:
    """docs/codes.md: one section per code (what it means, how to fix it), by range."""
    lines = [
        "# Diagnostic codes",
        "",
        "Every problem clawpolicy reports carries a stable code: `path:line:col: "
        "error[PC201]: ...`. Tests and tools should match codes, never message text. This "
        "page is generated from `CODES` in `compiler/diagnostics.py` "
        "(`python scripts/codes_md.py > docs/codes.md`); a test keeps it in sync.",
        "",
        "| range | stage |",
        "|---|---|",
        *(f"| {prefix}xx | {stage} |" for prefix, stage in RANGES.items()),
    ]
    for code, info in codes.items():
        lines += ["", f"## {code}: {info.title}", "", info.explanation, "", f"**Fix:** {info.fix}"]
    return "\n".join(lines) + "\n"


# Caps on what one run prints, so no input can flood a terminal or a CI log: each message and
# note is clipped, a diagnostic keeps its first notes, and the whole text stops at a size.
MAX_MESSAGE_CHARS = 2000
MAX_NOTE_CHARS = 1000
MAX_NOTES = 30
MAX_OUTPUT_CHARS = 256 * 1024


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 30]}... ({len(text)} characters)"


def bounded(diag: Diagnostic) -> Diagnostic:
    """The diagnostic with its message and notes clipped to the caps above.

    Example:
        >>> d = bounded(error("PC101", "x" * 5000, None, *["note"] * 40))
        >>> len(d.message) < 2000, len(d.notes), d.notes[-1]
        (True, 31, '... and 10 more notes')
    """
    notes = [printable(_clip(note, MAX_NOTE_CHARS)) for note in diag.notes[:MAX_NOTES]]
    if len(diag.notes) > MAX_NOTES:
        notes.append(f"... and {len(diag.notes) - MAX_NOTES} more notes")
    message = printable(_clip(diag.message, MAX_MESSAGE_CHARS))
    span = diag.span and Span(printable(diag.span.path), diag.span.line, diag.span.column)
    return Diagnostic(diag.code, diag.severity, message, span, tuple(notes))


def format_text_one(diag: Diagnostic, color: bool = False) -> str:
    """Render one diagnostic as `path:line:col: severity[CODE]: message` plus note lines.

    Example:
        >>> d = error("PC101", "unknown key 'tierr'", Span("policies/a.yaml", 3, 5),
        ...           "hint: did you mean 'tier'?")
        >>> print(format_text_one(d))
        policies/a.yaml:3:5: error[PC101]: unknown key 'tierr'
          hint: did you mean 'tier'?
    """
    diag = bounded(diag)
    head = f"{diag.severity.value}[{diag.code}]"
    if color:
        tint = "\x1b[31;1m" if diag.severity is Severity.ERROR else "\x1b[33;1m"
        head = f"{tint}{head}\x1b[0m"
    where = f"{diag.span}: " if diag.span else ""
    lines = [f"{where}{head}: {diag.message}"]
    lines.extend(f"  {note}" for note in diag.notes)
    return "\n".join(lines)


def format_text(
    diagnostics: Iterable[Diagnostic], max_errors: int = 20, color: bool = False
) -> str:
    items = list(diagnostics)
    shown: list[str] = []
    size = 0
    for index, diag in enumerate(items[:max_errors]):
        text = format_text_one(diag, color)
        size += len(text) + 1
        if size > MAX_OUTPUT_CHARS:
            shown.append(f"... output cut at {MAX_OUTPUT_CHARS // 1024} KiB")
            shown.append(f"... and {len(items) - index} more")
            return "\n".join(shown)
        shown.append(text)
    if len(items) > max_errors:
        shown.append(f"... and {len(items) - max_errors} more")
    return "\n".join(shown)


def _github_escape(text: str, is_property: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if is_property:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(
    diagnostics: Iterable[Diagnostic], prefix: str = "", max_errors: int = 1000
) -> str:
    """GitHub Actions workflow commands, one annotation per diagnostic; `prefix` turns
    policy-repo paths into repository paths (a policy repo may live in a subfolder).

    Example:
        >>> print(format_github([warning("PC203", "short chain", Span("p.yaml", 2, 3))], "ops/"))
        ::warning file=ops/p.yaml,line=2,col=3,title=PC203::short chain
    """
    lines = []
    items = list(diagnostics)
    for diag in map(bounded, items[:max_errors]):
        props = []
        if diag.span:
            props.append(f"file={_github_escape(prefix + diag.span.path, True)}")
            if diag.span.line > 0:
                props.append(f"line={diag.span.line},col={diag.span.column}")
        props.append(f"title={diag.code}")
        body = "\n".join((diag.message, *diag.notes))
        lines.append(f"::{diag.severity.value} {','.join(props)}::{_github_escape(body)}")
    if len(items) > max_errors:
        lines.append(f"::notice title=clawpolicy::... and {len(items) - max_errors} more")
    return "\n".join(lines)


def to_json(diag: Diagnostic) -> dict[str, object]:
    diag = bounded(diag)
    span = diag.span
    return {
        "code": diag.code,
        "severity": diag.severity.value,
        "message": diag.message,
        "path": span.path if span else None,
        "line": span.line if span else None,
        "column": span.column if span else None,
        "notes": list(diag.notes),
    }


def format_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([to_json(d) for d in diagnostics], indent=2)
