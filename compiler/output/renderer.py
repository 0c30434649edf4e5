"""Stage 3: render a Resolution into openclaw.json text (Resolution -> RenderedFile).

Pure: templates come from the Project, not the disk. The model layer (`models`, `agents`) is
built as plain data, handed to the environment's template in a sandboxed Jinja2 environment
(StrictUndefined; values go in with `tojson`), parsed back and re-emitted canonically: 2-space
JSON, keys in template order, trailing newline. The only jinja2 user.

A template is untrusted input. It renders from memory (an `{% include %}` reaches only the
templates loaded from the repository; nothing reaches the process environment or a file) and
within LIMITS: a deadline, a memory cap, an output cap, the sandbox's cap on `range` (100,000)
and caps on `*` and `**`; any error it raises (division by zero, recursion, a huge range, a
limit) is PC303 at the template's file:line, never a traceback. NaN and Infinity in its output
are PC302.
"""

import json
import math
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .. import jsontext
from ..diagnostics import CompileError, Span, error
from ..load.catalog import json_ready
from ..load.project import Project
from ..resolve.resolver import Resolution
from . import guard
from .modellayer import build_agents, build_models
from .writer import config_path

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class TemplateLimits:
    """What one template render may use (README "Guarantees")."""

    seconds: float = 10.0
    memory_bytes: int = 1024 * MIB
    output_chars: int = 32 * MIB
    number_bits: int = 4096  # the largest integer `*` and `**` may produce


LIMITS = TemplateLimits()


@dataclass(frozen=True, slots=True)
class RenderedFile:
    env: str
    relpath: str  # repo-relative POSIX path, e.g. "rendered/prod/openclaw.json"
    text: str


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, plus caps on the two operators that build huge values in one step."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, name: str, left: Any, right: Any) -> Any:
        _check_size(name, left, right)
        return super().call_binop(context, name, left, right)


def _check_size(name: str, left: Any, right: Any) -> None:
    """Refuse `*` and `**` whose result would be larger than LIMITS allows, before computing."""
    numbers = isinstance(left, int) and isinstance(right, int)
    if name == "**" and numbers and right > 0 and abs(left) > 1:
        bits = abs(left).bit_length() * right
    elif name == "*" and numbers:
        bits = abs(left).bit_length() + abs(right).bit_length()
    elif name == "*" and isinstance(left, str | list | tuple) and isinstance(right, int):
        bits = 0 if len(left) * right <= LIMITS.output_chars else LIMITS.number_bits + 1
    elif name == "*" and isinstance(right, str | list | tuple) and isinstance(left, int):
        bits = 0 if len(right) * left <= LIMITS.output_chars else LIMITS.number_bits + 1
    else:
        return
    if bits > LIMITS.number_bits:
        raise jinja2.exceptions.SecurityError(f"the result of {name} would be too large")


def _environment(templates: Mapping[str, str]) -> jinja2.Environment:
    env = _Sandbox(
        loader=jinja2.FunctionLoader(partial(_template_source, dict(templates))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
    env.filters["tojson"] = _strict_tojson(env.filters["tojson"])
    env.globals.pop("lipsum", None)  # generates any amount of text; a config has no use for it
    return env


def _strict_tojson(tojson: Callable[..., Any]) -> Callable[..., Any]:
    """`{{ missing | tojson }}` names the missing variable instead of a JSON type error."""

    @jinja2.pass_eval_context
    def strict(context: Any, value: Any, indent: int | None = None) -> Any:
        if isinstance(value, jinja2.Undefined):
            str(value)  # StrictUndefined raises UndefinedError naming the variable
        return tojson(context, value, indent)

    return strict


def _template_source(
    templates: Mapping[str, str], name: str
) -> tuple[str, str, Callable[[], bool]] | None:
    """Templates come from memory but keep their repo path, so tracebacks name the file."""
    if name not in templates:
        return None
    return templates[name], f"templates/{name}", lambda: True


def _template_line(exc: BaseException) -> tuple[str, int] | None:
    """The innermost template frame of a render error (jinja maps its lines to the source)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith("templates/"):
            return frame.filename, frame.lineno or 0
    return None


def render_template(templates: Mapping[str, str], name: str, context: Mapping[str, Any]) -> str:
    """Render one template to text within LIMITS.

    Raises:
        CompileError: PC301 syntax, PC303 any runtime error or limit, PC114 not found.
    """
    path = f"templates/{name}"
    env = _environment(templates)
    try:
        try:
            with guard.limited(LIMITS.seconds, LIMITS.memory_bytes):
                return _render_capped(_compiled(env, name), context)
        except (jinja2.TemplateSyntaxError, jinja2.TemplateNotFound):
            raise  # already located by jinja
        except Exception:  # template code is user code: any error it raises is the template's
            env.handle_exception()  # re-raises it located in the template, outside the limits
    except jinja2.TemplateSyntaxError as exc:
        where = Span(exc.filename or f"templates/{exc.name or name}", exc.lineno or 0, 1)
        raise CompileError(
            (error("PC301", f"template syntax error: {exc.message}", where),)
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise CompileError(
            (error("PC114", f"template templates/{exc.name} not found", Span(path)),)
        ) from None
    except Exception as exc:  # as above: a user error at the template's line, never exit 3
        raise _runtime_error(exc, path, context) from None
    raise AssertionError("unreachable: handle_exception always raises")


def _runtime_error(exc: Exception, path: str, context: Mapping[str, Any]) -> CompileError:
    notes: tuple[str, ...] = ()
    if isinstance(exc, guard.TimeLimit):
        message = f"template rendering took longer than {LIMITS.seconds:g} s"
        notes = ("hint: look for a loop or a recursion that never ends",)
    elif isinstance(exc, MemoryError):
        message = f"template rendering needs more than {LIMITS.memory_bytes // MIB} MiB of memory"
    elif isinstance(exc, RecursionError):
        message = "template recursion too deep (a macro that calls itself without end?)"
    elif isinstance(exc, OutputLimit):
        message, where_path, line = exc.args
        return CompileError((error("PC303", message, Span(where_path or path, line, 1)),))
    else:
        message = f"template error: {_clip(str(exc))}"
        notes = (f"note: variables available: {', '.join(sorted(context))}",)
    found = _template_line(exc)
    where = Span(found[0], found[1], 1) if found else Span(path)
    return CompileError((error("PC303", message, where, *notes),))


def _compiled(env: jinja2.Environment, name: str) -> jinja2.Template:
    """The template compiled; an expression nested past Python's recursion limit is a syntax
    error (PC301), not a runtime one."""
    try:
        return env.get_template(name)
    except RecursionError:
        message = "expressions nested too deeply to compile"
        raise jinja2.TemplateSyntaxError(message, 0, name, f"templates/{name}") from None


def _render_capped(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render chunk by chunk, stopping as soon as the output passes LIMITS.output_chars."""
    chunks: list[str] = []
    size = 0
    rendering = template.root_render_func(template.new_context(dict(context)))
    for chunk in rendering:
        size += len(chunk)
        if size > LIMITS.output_chars:
            frame = getattr(rendering, "gi_frame", None)  # where the template is now
            line = template.get_corresponding_lineno(frame.f_lineno) if frame else 0
            message = f"template output is larger than {LIMITS.output_chars // MIB} MiB"
            raise OutputLimit(message, template.filename or "", line)
        chunks.append(chunk)
    return "".join(chunks)


class OutputLimit(Exception):
    """A template's output passed LIMITS.output_chars (message, template path, line)."""


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_rendered(raw: str, path: str) -> Any:
    """Parse what a template rendered; floats are exact (a double's shortest repr gives back
    every price's digits).

    Raises:
        CompileError: PC302 when the text is not JSON.
    """
    try:
        return json.loads(
            raw,
            object_pairs_hook=_unique_keys,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
        )
    except _NotFiniteError as exc:
        raise CompileError(
            (
                error(
                    "PC302",
                    f"rendered template holds {exc.args[0]}, which JSON cannot carry",
                    Span(path),
                    "note: NaN and infinite numbers are not JSON; OpenClaw would reject them",
                ),
            )
        ) from None
    except _DuplicateKeyError as exc:
        raise CompileError(
            (
                error(
                    "PC302",
                    f"rendered template has duplicate key {exc.args[0]!r}",
                    Span(path),
                    "note: JSON readers keep only one of them; OpenClaw would see the last",
                ),
            )
        ) from None
    except RecursionError:
        raise CompileError(
            (error("PC302", "rendered template nests too deeply", Span(path)),)
        ) from None
    except json.JSONDecodeError as exc:
        raise _invalid_json(raw, path, exc) from None
    except ValueError as exc:  # Python's limit on integer digits
        message = f"rendered template is not valid JSON: {_clip(str(exc), 120)}"
        raise CompileError((error("PC302", message, Span(path)),)) from None


def _invalid_json(raw: str, path: str, exc: json.JSONDecodeError) -> CompileError:
    lines = raw.splitlines()
    excerpt = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
    return CompileError(
        (
            error(
                "PC302",
                f"rendered template is not valid JSON: {exc.msg} at rendered line "
                f"{exc.lineno}, column {exc.colno}",
                Span(path),
                f"note: rendered line {exc.lineno}: {excerpt.strip()[:160]}",
                "hint: insert values with {{ value | tojson }}; never quote them by hand",
            ),
        )
    )


class _DuplicateKeyError(ValueError):
    pass


class _NotFiniteError(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotFiniteError(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFiniteError(text)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKeyError(key)
        found[key] = value
    return found


def canonical_json(data: Any) -> str:
    """The one text form of a JSON value: 2-space indent, key order kept, trailing newline.

    Example:
        >>> print(canonical_json(parse_rendered('{"b": 1,   "a": "x\\u003cy"}', "t.j2")), end="")
        {
          "b": 1,
          "a": "x<y"
        }
    """
    return jsontext.dumps(data)


def merge_layer(document: Any, layer: Mapping[str, Any], path: str, where: str = "") -> list[str]:
    """Merge the compiler's model layer into what the template rendered, in place.

    The template owns everything else; the compiler owns the model layer. A template may place
    the layer itself (`{{ models | tojson }}`), add keys beside it, or leave it out; a value the
    template sets differently from the compiler is a conflict (returned, never overwritten).

    Example:
        >>> doc = {"gateway": {"mode": "local"}, "agents": {"defaults": {"heartbeat": {}}}}
        >>> merge_layer(doc, {"agents": {"defaults": {"model": {"primary": "p/m"}}}}, "t")
        []
        >>> doc["agents"]["defaults"]
        {'heartbeat': {}, 'model': {'primary': 'p/m'}}
        >>> merge_layer({"models": {"mode": "replace"}}, {"models": {"mode": "merge"}}, "t")
        ['models.mode']
    """
    conflicts: list[str] = []
    for key, value in layer.items():
        dotted = f"{where}.{key}" if where else key
        if key not in document:
            document[key] = value
        elif document[key] == value:
            continue  # the template placed it itself (the common case): one C-level compare
        elif isinstance(document[key], dict) and isinstance(value, dict):
            conflicts.extend(merge_layer(document[key], value, path, dotted))
        elif document[key] != value:
            conflicts.append(dotted)
    return conflicts


def model_layer(project: Project, resolution: Resolution) -> dict[str, Any]:
    """What the compiler owns in openclaw.json: the `models` and `agents` objects."""
    return {
        "models": json_ready(build_models(resolution)),
        "agents": build_agents(project, resolution),
    }


def render(project: Project, resolution: Resolution) -> RenderedFile:
    """Render the environment's openclaw.json.

    Raises:
        CompileError: template errors, or a template that contradicts the model layer (PC303).
    """
    env = resolution.environment
    layer = model_layer(project, resolution)
    context = {"environment": env.name, **layer}
    path = f"templates/{env.spec.template}"
    document = parse_rendered(render_template(project.templates, env.spec.template, context), path)
    if not isinstance(document, dict):
        raise CompileError((error("PC302", "the template must render a JSON object", Span(path)),))
    conflicts = merge_layer(document, layer, path)
    if conflicts:
        raise CompileError(
            tuple(
                error(
                    "PC303",
                    f"the template sets {key}, which the compiler owns, to another value",
                    Span(path),
                    "hint: place the model layer with {{ models | tojson }} and "
                    "{{ agents | tojson }}, or leave it out and let the compiler add it",
                )
                for key in conflicts
            )
        )
    return RenderedFile(env.name, config_path(env.name), canonical_json(document))
