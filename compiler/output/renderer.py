"""Stage 3: render a Resolution into openclaw.json text (Resolution -> RenderedFile).

Pure: templates come from the Project, not the disk. The model layer (`models`, `agents`) is
built as plain data, handed to the environment's template in a sandboxed Jinja2 environment
(StrictUndefined; values go in with `tojson`), parsed back and re-emitted canonically: 2-space
JSON, keys in template order, trailing newline. The only jinja2 user.
"""

import json
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .. import jsontext
from ..diagnostics import CompileError, Span, error
from ..load.catalog import Offer, Price, json_ready
from ..load.project import Project
from ..resolve.resolver import DEFAULT_SLOTS, ChainResult, Resolution
from .writer import config_path


@dataclass(frozen=True, slots=True)
class RenderedFile:
    env: str
    relpath: str  # repo-relative POSIX path, e.g. "rendered/prod/openclaw.json"
    text: str


def _cost(price: Price) -> Decimal:
    """OpenClaw wants numbers: unknown and variable prices render as 0 (no estimate)."""
    return price if isinstance(price, Decimal) else Decimal(0)


def model_entry(offer: Offer) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": offer.id,
        "name": offer.name,
        "input": list(offer.input),
    }
    if offer.context_window is not None:
        entry["contextWindow"] = offer.context_window
    if offer.max_output is not None:
        entry["maxTokens"] = offer.max_output
    entry["reasoning"] = offer.capabilities.get("reasoning") is True
    entry["cost"] = {
        "input": _cost(offer.price["input"]),
        "output": _cost(offer.price["output"]),
        "cacheRead": _cost(offer.price["cache_read"]),
        "cacheWrite": _cost(offer.price["cache_write"]),
    }
    return entry


def _model_ref(result: ChainResult) -> dict[str, Any]:
    refs = result.refs
    return {"primary": refs[0], "fallbacks": list(refs[1:])}


def build_models(resolution: Resolution) -> dict[str, Any]:
    """`models`: merge mode, and each used provider with only the models referenced."""
    used: dict[str, Offer] = {}
    for result in resolution.chains():
        for offer in result.chain:
            used[offer.ref] = offer
    providers: dict[str, Any] = {}
    for provider in resolution.environment.providers:
        offers = sorted((o for o in used.values() if o.provider == provider.id), key=lambda o: o.id)
        if not offers:
            continue
        spec = provider.spec
        body: dict[str, Any] = {"baseUrl": spec.base_url, "api": spec.api}
        if spec.api_key is not None and not isinstance(spec.api_key, str):
            body["apiKey"] = {"source": "env", "provider": "default", "id": spec.api_key.env}
        body["models"] = [model_entry(o) for o in offers]
        providers[provider.id] = body
    return {"mode": "merge", "providers": providers}


def build_agents(project: Project, resolution: Resolution) -> dict[str, Any]:
    """`agents`: explicit ownership, defaults (model, image model, aliases, allowlist), entries."""
    env = resolution.environment
    defaults: dict[str, Any] = {}
    for slot in DEFAULT_SLOTS:
        chosen = resolution.defaults.get(slot.key)
        if chosen is not None:
            defaults[slot.config_key] = chosen.refs[0] if slot.primary_only else _model_ref(chosen)
    if resolution.aliases:
        defaults["models"] = {ref: {"alias": alias} for ref, alias in resolution.aliases.items()}
    allowed = sorted({ref for result in resolution.chains() for ref in result.refs})
    if allowed:
        defaults["modelPolicy"] = {"allow": allowed}
    if resolution.default_model is not None and resolution.default_model.merged.thinking:
        defaults["thinkingDefault"] = resolution.default_model.merged.thinking
    system_agent = env.spec.system_agent or next(iter(resolution.agents), None)
    if system_agent is not None:
        defaults["systemAgent"] = {"agentId": system_agent}
    entries = {}
    for agent_id, result in resolution.agents.items():
        spec = project.agents[agent_id].spec
        entry: dict[str, Any] = {}
        if spec.name is not None:
            entry["name"] = spec.name
        if spec.description is not None:
            entry["description"] = spec.description
        entry["model"] = _model_ref(result)
        if result.merged.thinking is not None:
            entry["thinkingDefault"] = result.merged.thinking
        entries[agent_id] = entry
    return {"ownership": "explicit", "defaults": defaults, "entries": entries}


def _environment(templates: Mapping[str, str]) -> jinja2.Environment:
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FunctionLoader(partial(_template_source, dict(templates))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
    env.filters["tojson"] = _strict_tojson(env.filters["tojson"])
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
    """Render one template to text.

    Raises:
        CompileError: PC301 syntax, PC303 runtime (undefined variable...), PC114 not found.
    """
    path = f"templates/{name}"
    try:
        return _environment(templates).get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        where = Span(exc.filename or f"templates/{exc.name or name}", exc.lineno or 0, 1)
        raise CompileError(
            (error("PC301", f"template syntax error: {exc.message}", where),)
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise CompileError(
            (error("PC114", f"template templates/{exc.name} not found", Span(path)),)
        ) from None
    except (jinja2.UndefinedError, jinja2.exceptions.SecurityError, TypeError, ValueError) as exc:
        found = _template_line(exc)
        where = Span(found[0], found[1], 1) if found else Span(path)
        notes = f"note: variables available: {', '.join(sorted(context))}"
        raise CompileError((error("PC303", f"template error: {exc}", where, notes),)) from None


def parse_rendered(raw: str, path: str) -> Any:
    """Parse what a template rendered; floats are exact (a double's shortest repr gives back
    every price's digits).

    Raises:
        CompileError: PC302 when the text is not JSON.
    """
    try:
        return json.loads(raw, object_pairs_hook=_unique_keys)
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
        lines = raw.splitlines()
        excerpt = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
        raise CompileError(
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
        ) from None


class _DuplicateKeyError(ValueError):
    pass


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
