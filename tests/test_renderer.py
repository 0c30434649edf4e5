"""Stage 3: templates (sandbox, StrictUndefined, error spans), canonical JSON, the output shape
SPEC fixes for openclaw.json, and the conformance checks OpenClaw itself does not make."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compiler import api
from compiler.diagnostics import CompileError, Diagnostic
from compiler.output import conformance
from compiler.output.renderer import canonical_json, parse_rendered, render_template
from tests.conftest import TEMPLATE, catalog_text, offer

TEMPLATE_PATH = "templates/openclaw.json.j2"
FILES = {
    "policies/tiers.yaml": """\
        version: 1
        tiers:
          fast:
            requires: [tools]
            fallbacks: 1
            thinking: low
          standard:
            requires: [tools]
            min_context: 200k
            fallbacks: 1
          vision:
            requires: [vision]
            fallbacks: 0
        """,
    "policies/teams/team.yaml": """\
        version: 1
        team: team
        agents:
          a:
            tier: fast
          b:
            tier: standard
            name: "R&D <bot>"
            description: "Ünïcode & <tags> 'quoted'"
            fallbacks: 0
          c:
            tier: standard
            thinking: high
        """,
    "policies/environments/e.yaml": """\
        version: 1
        environment: e
        catalogs: [catalogs/c.json]
        providers:
          p: {base_url: https://p.example/v1, api: openai-completions, api_key: {env: P_KEY}}
          q: {base_url: https://q.example/v1, api: anthropic-messages, api_key: {env: Q_KEY}}
        default_tier: standard
        image_tier: vision
        """,
    "policies/catalogs/c.json": catalog_text(
        [
            offer(
                "p",
                "x/small",
                name="X Small",
                price={"input": 0.075, "output": 0.3, "cache_read": 0.01},
                capabilities={"tools": True, "reasoning": True},
            ),
            offer("p", "y/small", price={"input": 0.1, "output": 0.4}),
            offer(
                "q",
                "x/big",
                context_window=400000,
                max_output=64000,
                price={"input": 1.25, "output": 10, "cache_read": 0.125, "cache_write": 1.5},
            ),
            offer("q", "z/big", context_window=1000000, price={"input": 2, "output": 12}),
            offer("p", "v/eyes", capabilities={"vision": True}, price={"input": 0.5, "output": 1}),
            offer("p", "u/unused", capabilities={}, price={"input": 0.01, "output": 0.01}),
        ]
    ),
}


def compile_text(root: Path, env: str = "e") -> str:
    result = api.compile_project(api.CompileOptions(root=root, write=False))
    [text] = [f.text for f in result.files if f.relpath == f"rendered/{env}/openclaw.json"]
    return text


def compile_errors(root: Path) -> list[Diagnostic]:
    with pytest.raises(CompileError) as caught:
        api.compile_project(api.CompileOptions(root=root, write=False))
    assert not (root / "rendered").exists()
    return list(caught.value.diagnostics)


@pytest.fixture
def rendered(make_project: Callable[..., Path]) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(compile_text(make_project(FILES)))
    return config


# ------------------------------------------------------------------------ template errors

CONTEXT = {"environment": "e", "models": {"mode": "merge"}, "agents": {}}


@pytest.mark.parametrize(
    ("template", "line"),
    [
        pytest.param('{\n  "a": 1,\n  "b": {{ nope | tojson }}\n}\n', 3, id="undefined-variable"),
        pytest.param('{\n  "b": {{ models.nope | tojson }}\n}\n', 2, id="undefined-attribute"),
        pytest.param('{\n\n\n  "b": {{ nope }}\n}\n', 4, id="undefined-printed"),
        pytest.param('{% for x in nope %}{% endfor %}{"a": 1}', 1, id="undefined-iterated"),
    ],
)
def test_undefined_is_PC303_at_its_template_line(template: str, line: int) -> None:
    with pytest.raises(CompileError) as caught:
        render_template({"openclaw.json.j2": template}, "openclaw.json.j2", CONTEXT)
    [diag] = caught.value.diagnostics
    assert (diag.code, str(diag.span)) == ("PC303", f"{TEMPLATE_PATH}:{line}:1")


def test_undefined_under_tojson_names_the_variable() -> None:
    """`{{ x | tojson }}` is how every value goes in; its error must still say what is undefined."""
    with pytest.raises(CompileError) as caught:
        render_template({"t.j2": '{"b": {{ no_such_var | tojson }}}'}, "t.j2", CONTEXT)
    [diag] = caught.value.diagnostics
    assert diag.code == "PC303"
    assert "no_such_var" in diag.message


@pytest.mark.parametrize(
    ("template", "line"),
    [
        pytest.param("{\n  {% if %}\n}\n", 2, id="empty-if"),
        pytest.param('{\n  "a": 1\n}\n{% endfor %}\n', 4, id="stray-endfor"),
        pytest.param('{\n  "a": {{ models | }}\n}\n', 2, id="missing-filter"),
    ],
)
def test_template_syntax_error_is_PC301_with_line(template: str, line: int) -> None:
    with pytest.raises(CompileError) as caught:
        render_template({"openclaw.json.j2": template}, "openclaw.json.j2", CONTEXT)
    [diag] = caught.value.diagnostics
    assert (diag.code, str(diag.span)) == ("PC301", f"{TEMPLATE_PATH}:{line}:1")


def test_template_sandbox_refuses_unsafe_attributes() -> None:
    template = '{"a": {{ models.__class__.__mro__ | tojson }}}'
    with pytest.raises(CompileError) as caught:
        render_template({"t.j2": template}, "t.j2", CONTEXT)
    assert [d.code for d in caught.value.diagnostics] == ["PC303"]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('{"a": e}', id="unquoted-string"),
        pytest.param('{"a": 1,}', id="trailing-comma"),
        pytest.param('{"a": 1} // comment', id="comment"),
        pytest.param("", id="empty"),
    ],
)
def test_invalid_json_is_PC302(raw: str) -> None:
    with pytest.raises(CompileError) as caught:
        parse_rendered(raw, TEMPLATE_PATH)
    [diag] = caught.value.diagnostics
    assert (diag.code, diag.span and diag.span.path) == ("PC302", TEMPLATE_PATH)


@pytest.mark.parametrize(
    ("template", "code"),
    [
        pytest.param(
            '{"gateway": {"mode": "local"}, "env": {{ environment }}}', "PC302", id="not-json"
        ),
        pytest.param("[{{ models | tojson }}]", "PC302", id="not-an-object"),
        pytest.param('{"gateway": {"mode": "local"}, {{ nope }}}', "PC303", id="undefined"),
        pytest.param('{"gateway": {"mode": "local"}, {% if %}}', "PC301", id="syntax"),
        pytest.param(
            '{"gateway": {"mode": "local"}, "models": {"mode": "replace"}}',
            "PC303",
            id="contradicts-the-model-layer",
        ),
    ],
)
def test_template_errors_end_to_end_write_nothing(
    template: str, code: str, make_project: Callable[..., Path]
) -> None:
    root = make_project({**FILES, "templates/openclaw.json.j2": template})
    diags = compile_errors(root)
    assert [(d.code, d.span and d.span.path) for d in diags] == [(code, TEMPLATE_PATH)]


# ------------------------------------------------------------------------ canonical JSON


def test_canonical_json_is_two_space_with_trailing_newline() -> None:
    text = canonical_json(parse_rendered('{"b":1,"a":[1,{"c":null}]}', "t"))
    assert text == '{\n  "b": 1,\n  "a": [\n    1,\n    {\n      "c": null\n    }\n  ]\n}\n'


def test_canonical_json_is_idempotent(make_project: Callable[..., Path]) -> None:
    text = compile_text(make_project(FILES))
    assert canonical_json(parse_rendered(text, "t")) == text


def test_special_characters_survive_the_tojson_round_trip(
    make_project: Callable[..., Path],
) -> None:
    text = compile_text(make_project(FILES))
    assert '"name": "R&D <bot>"' in text
    assert '"description": "Ünïcode & <tags> \'quoted\'"' in text
    assert "\\u00" not in text  # no escapes left by tojson (<, >, &, ') or ensure_ascii


def test_template_layout_does_not_change_the_bytes(make_project: Callable[..., Path]) -> None:
    squeezed = '{"gateway":{"mode":"local"},"models":{{models|tojson}},"agents":{{agents|tojson}}}'
    first_root = make_project(FILES)
    first = compile_text(first_root)
    root = make_project({**FILES, TEMPLATE_PATH: squeezed}, root=first_root.parent / "squeezed")
    assert compile_text(root) == first


def test_prices_keep_their_decimal_digits(rendered: dict[str, Any]) -> None:
    small = rendered["models"]["providers"]["p"]["models"][1]
    assert small["cost"] == {"input": 0.075, "output": 0.3, "cacheRead": 0.01, "cacheWrite": 0}


# ------------------------------------------------------------------------ output shape (SPEC)


def test_models_layer_shape(rendered: dict[str, Any]) -> None:
    models = rendered["models"]
    assert models["mode"] == "merge"
    assert list(models["providers"]) == ["p", "q"]  # environment order
    p = models["providers"]["p"]
    assert (p["baseUrl"], p["api"]) == ("https://p.example/v1", "openai-completions")
    assert p["apiKey"] == {"source": "env", "provider": "default", "id": "P_KEY"}
    assert models["providers"]["q"]["apiKey"]["id"] == "Q_KEY"
    assert models["providers"]["q"]["models"][0] == {
        "id": "x/big",
        "name": "x/big",
        "input": ["text"],
        "contextWindow": 400000,
        "maxTokens": 64000,
        "reasoning": False,
        "cost": {"input": 1.25, "output": 10, "cacheRead": 0.125, "cacheWrite": 1.5},
    }


def test_only_referenced_models_are_declared(rendered: dict[str, Any]) -> None:
    declared = sorted(
        f"{pid}/{m['id']}"
        for pid, provider in rendered["models"]["providers"].items()
        for m in provider["models"]
    )
    assert declared == ["p/v/eyes", "p/x/small", "p/y/small", "q/x/big", "q/z/big"]


def test_model_entries_carry_catalog_facts(rendered: dict[str, Any]) -> None:
    by_id = {m["id"]: m for m in rendered["models"]["providers"]["p"]["models"]}
    assert by_id["x/small"]["name"] == "X Small"
    assert by_id["x/small"]["reasoning"] is True
    assert by_id["v/eyes"]["input"] == ["text", "image"]


def test_agents_layer_shape(rendered: dict[str, Any]) -> None:
    agents = rendered["agents"]
    assert agents["ownership"] == "explicit"
    defaults = agents["defaults"]
    assert defaults["model"] == {"primary": "q/x/big", "fallbacks": ["q/z/big"]}
    assert defaults["imageModel"] == {"primary": "p/v/eyes", "fallbacks": []}
    assert defaults["models"] == {
        "p/v/eyes": {"alias": "vision"},
        "p/x/small": {"alias": "fast"},
        "q/x/big": {"alias": "standard"},
    }
    assert "thinkingDefault" not in defaults  # the default tier sets none


def test_entries_always_use_the_object_form(rendered: dict[str, Any]) -> None:
    entries = rendered["agents"]["entries"]
    assert entries["a"]["model"] == {"primary": "p/x/small", "fallbacks": ["p/y/small"]}
    assert entries["b"]["model"] == {"primary": "q/x/big", "fallbacks": []}
    assert entries["c"]["model"] == {"primary": "q/x/big", "fallbacks": ["q/z/big"]}


def test_thinking_default_where_the_tier_or_agent_sets_one(rendered: dict[str, Any]) -> None:
    entries = rendered["agents"]["entries"]
    assert {agent: entry.get("thinkingDefault") for agent, entry in entries.items()} == {
        "a": "low",
        "b": None,
        "c": "high",
    }


def test_default_thinking_comes_from_the_default_tier(make_project: Callable[..., Path]) -> None:
    env = FILES["policies/environments/e.yaml"].replace(
        "default_tier: standard", "default_tier: fast"
    )
    config = json.loads(compile_text(make_project({**FILES, "policies/environments/e.yaml": env})))
    assert config["agents"]["defaults"]["thinkingDefault"] == "low"


def test_allow_list_is_every_ref_used(rendered: dict[str, Any]) -> None:
    agents = rendered["agents"]
    used: set[str] = set()
    for chain in [
        agents["defaults"]["model"],
        agents["defaults"]["imageModel"],
        *(entry["model"] for entry in agents["entries"].values()),
    ]:
        used |= {chain["primary"], *chain["fallbacks"]}
    used |= set(agents["defaults"]["models"])
    assert agents["defaults"]["modelPolicy"]["allow"] == sorted(used)


def test_template_keys_around_the_layer_are_kept(make_project: Callable[..., Path]) -> None:
    template = TEMPLATE.replace(
        '"gateway": {"mode": "local"},',
        '"gateway": {"mode": "local"},\n  "channels": {"env": {{ environment | tojson }}},',
    )
    config = json.loads(compile_text(make_project({**FILES, TEMPLATE_PATH: template})))
    assert list(config) == ["gateway", "channels", "models", "agents"]
    assert config["channels"] == {"env": "e"}


# ------------------------------------------------------------------------ conformance checks

VALID = {
    "gateway": {"mode": "local"},
    "models": {"providers": {"p": {"models": [{"id": "x/m"}]}}},
    "agents": {
        "defaults": {"model": {"primary": "p/x/m", "fallbacks": []}},
        "entries": {"a": {"model": {"primary": "p/x/m", "fallbacks": []}}},
    },
}


def _with(path: str, value: Any) -> dict[str, Any]:
    config = json.loads(json.dumps(VALID))
    *parents, last = path.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    if value is None:
        del node[last]
    else:
        node[last] = value
    return config


@pytest.mark.parametrize(
    ("config", "count"),
    [
        pytest.param(VALID, 0, id="valid"),
        pytest.param(_with("gateway.mode", None), 1, id="no-gateway-mode"),
        pytest.param(_with("gateway", None), 1, id="no-gateway"),
        pytest.param(
            _with("agents.entries.a.model", {"primary": "p/x/ghost", "fallbacks": ["q/x/m"]}),
            2,
            id="dangling-primary-and-fallback",
        ),
        pytest.param(_with("agents.entries.a.model", "p/x/ghost"), 1, id="dangling-string-model"),
        pytest.param(_with("agents.defaults.imageModel", {"primary": "p/y"}), 1, id="image-model"),
        pytest.param(_with("agents.defaults.models", {"p/ghost": {"alias": "g"}}), 1, id="alias"),
        pytest.param(
            _with("agents.defaults.modelPolicy", {"allow": ["p/x/m", "p/ghost"]}), 1, id="allow"
        ),
        pytest.param(
            _with("agents.entries.Bad", {"model": {"primary": "p/x/m"}}), 1, id="bad-agent-id"
        ),
    ],
)
def test_conformance_check(config: dict[str, Any], count: int) -> None:
    found = conformance.check(json.dumps(config), "rendered/e/openclaw.json")
    assert [(d.code, str(d.span)) for d in found] == [("PC304", "rendered/e/openclaw.json")] * count


def test_template_without_gateway_mode_is_PC304(make_project: Callable[..., Path]) -> None:
    template = TEMPLATE.replace('"gateway": {"mode": "local"},', '"gateway": {"bind": "loopback"},')
    diags = compile_errors(make_project({**FILES, TEMPLATE_PATH: template}))
    assert [d.code for d in diags] == ["PC304"]


def test_template_ref_that_resolves_nowhere_is_PC304(make_project: Callable[..., Path]) -> None:
    template = TEMPLATE.replace(
        '"gateway": {"mode": "local"},',
        '"gateway": {"mode": "local"},\n'
        '  "agents": {"defaults": {"models": {"p/x/ghost": {"alias": "ghost"}}}},',
    ).replace('  "agents": {{ agents | tojson }}\n', '  "env": {}\n')
    diags = compile_errors(make_project({**FILES, TEMPLATE_PATH: template}))
    assert [d.code for d in diags] == ["PC304"]
    assert "p/x/ghost" in diags[0].message
