"""differ, pure: JSON pointers, field changes, the agent-level report (chains, costs, causes,
providers, environments) and the three formats, including the markdown size cap."""

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from compiler.diagnostics import CompileError
from compiler.gitops import differ, diffmarkdown, diffreport
from compiler.gitops.diffreport import Change, Side
from compiler.output.lockfile import Lock

CATALOG = "policies/catalogs/c.json"
TEAM = "policies/teams/core.yaml"
OTHER_TEAM = "policies/teams/other.yaml"
BASE_INPUTS = {CATALOG: "c1", TEAM: "t1", OTHER_TEAM: "o1", "policies/tiers.yaml": "x1"}


def config(
    agents: dict[str, tuple[str, ...]], providers: tuple[str, ...] = ("p",)
) -> dict[str, Any]:
    return {
        "models": {"providers": {p: {"models": []} for p in providers}},
        "agents": {
            "defaults": {"model": {"primary": "p/a", "fallbacks": []}},
            "entries": {
                agent: {"model": {"primary": refs[0], "fallbacks": list(refs[1:])}}
                for agent, refs in agents.items()
            },
        },
    }


def lock(costs: dict[str, str], **inputs: str) -> Lock:
    changed = {path: inputs.get(key, digest) for key, (path, digest) in _INPUT_KEYS.items()}
    return Lock("e", {}, costs, changed)


_INPUT_KEYS = {
    "catalog": (CATALOG, "c1"),
    "team": (TEAM, "t1"),
    "other": (OTHER_TEAM, "o1"),
    "tiers": ("policies/tiers.yaml", "x1"),
}


@pytest.mark.parametrize(
    ("path", "pointer"),
    [
        pytest.param([], "", id="whole-document"),
        pytest.param(
            ["agents", "entries", "a", "model", "primary"],
            "/agents/entries/a/model/primary",
            id="plain",
        ),
        pytest.param(
            ["models", "providers", "p", "models", 3], "/models/providers/p/models/3", id="index"
        ),
        pytest.param(["a/b"], "/a~1b", id="slash"),
        pytest.param(["m~n"], "/m~0n", id="tilde"),
        pytest.param(["~1"], "/~01", id="tilde-before-one-is-not-a-slash"),
        pytest.param([""], "/", id="empty-key"),
    ],
)
def test_json_pointer(path: list[str | int], pointer: str) -> None:
    assert differ.json_pointer(path) == pointer


def _changes(old: Any, new: Any) -> list[tuple[str, str, Any, Any]]:
    return [(c.kind, c.pointer, c.old, c.new) for c in differ.diff(old, new)]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param({"a": 1}, {"a": 1}, [], id="equal"),
        pytest.param({"a": 1}, {"a": 2}, [("changed", "/a", 1, 2)], id="value"),
        pytest.param({"a": 1}, {"a": "1"}, [("changed", "/a", 1, "1")], id="type"),
        pytest.param({}, {"x/y": {"z": 1}}, [("added", "/x~1y", None, {"z": 1})], id="key-added"),
        pytest.param({"x": 1}, {}, [("removed", "/x", 1, None)], id="key-removed"),
        pytest.param(
            {"f": ["b", "c"]},
            {"f": ["c", "b"]},
            [("changed", "/f/0", "b", "c"), ("changed", "/f/1", "c", "b")],
            id="fallback-reorder-changes-each-position",
        ),
        pytest.param(
            {"f": ["b"]}, {"f": ["b", "c"]}, [("added", "/f/1", None, "c")], id="fallback-appended"
        ),
        pytest.param(
            {"m": [{"id": "a", "c": 1}, {"id": "c", "c": 5}]},
            {"m": [{"id": "a", "c": 1}, {"id": "b"}, {"id": "c", "c": 6}]},
            [("added", "/m/1", None, {"id": "b"}), ("changed", "/m/2/c", 5, 6)],
            id="model-inserted-by-id-does-not-shift-the-others",
        ),
        pytest.param(
            {"m": [{"id": "a"}, {"id": "b"}]},
            {"m": [{"id": "b"}]},
            [("removed", "/m/0", {"id": "a"}, None)],
            id="model-removed",
        ),
        pytest.param(
            {"m": [{"id": "a", "c": 1}, {"id": "c"}]},
            {"m": [{"id": "b"}, {"id": "c"}]},
            [("removed", "/m/0", {"id": "a", "c": 1}, None), ("added", "/m/0", None, {"id": "b"})],
            id="model-replaced-at-one-index-is-removed-and-added",
        ),
        pytest.param(
            {"allow": ["p/a", "p/b", "p/c", "p/d"]},
            {"allow": ["p/a", "p/c", "p/d"]},
            [("removed", "/allow/1", "p/b", None)],
            id="set-like-list-item-removed-does-not-shift-the-others",
        ),
        pytest.param(
            {"allow": ["p/b", "p/c"]},
            {"allow": ["p/a", "p/c", "p/d"]},
            [
                ("removed", "/allow/0", "p/b", None),
                ("added", "/allow/0", None, "p/a"),
                ("added", "/allow/2", None, "p/d"),
            ],
            id="set-like-list-added-at-new-index-removed-at-old-index",
        ),
        pytest.param(
            {"allow": ["p/a", "p/b"]},
            {"allow": ["p/b", "p/a"]},
            [("changed", "/allow/0", "p/a", "p/b"), ("changed", "/allow/1", "p/b", "p/a")],
            id="unsorted-string-list-by-position",
        ),
        pytest.param(
            {"m": {"fallbacks": ["p/a", "p/b"]}},
            {"m": {"fallbacks": ["p/b", "p/c"]}},
            [
                ("changed", "/m/fallbacks/0", "p/a", "p/b"),
                ("changed", "/m/fallbacks/1", "p/b", "p/c"),
            ],
            id="sorted-fallbacks-stay-by-position",
        ),
        pytest.param(
            {"n": [["p/b", "p/c"]]},
            {"n": [["p/c"]]},
            [("removed", "/n/0/0", "p/b", None)],
            id="nested-set-like-list",
        ),
        pytest.param(
            {"k": {f"n{i}": i for i in range(12)}},
            {"k": {f"n{i}": i for i in range(12)} | {"n0": -1, "new": 0}},
            [("changed", "/k/n0", 0, -1), ("added", "/k/new", None, 0)],
            id="always-diffs-deeper",
        ),
    ],
)
def test_field_changes(old: Any, new: Any, expected: list[tuple[str, str, Any, Any]]) -> None:
    assert _changes(old, new) == expected


def test_model_policy_allow_reports_items_not_swaps() -> None:
    refs = [f"p/m{i:02d}" for i in range(12)]
    old = {"agents": {"defaults": {"modelPolicy": {"allow": refs}}}}
    new = {"agents": {"defaults": {"modelPolicy": {"allow": [*refs[:3], *refs[4:], "q/x"]}}}}
    assert _changes(old, new) == [
        ("removed", "/agents/defaults/modelPolicy/allow/3", "p/m03", None),
        ("added", "/agents/defaults/modelPolicy/allow/11", None, "q/x"),
    ]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param(["a", "b"], True, id="sorted"),
        pytest.param([], True, id="empty"),
        pytest.param(["b", "a"], False, id="unsorted"),
        pytest.param(["a", "a"], False, id="duplicates"),
        pytest.param([1, 2], False, id="not-strings"),
        pytest.param("ab", False, id="not-a-list"),
    ],
)
def test_is_set_like(items: Any, expected: bool) -> None:
    assert differ.is_set_like(items) is expected


def test_changes_sort_numerically() -> None:
    old = {"f": list(range(12))}
    new = {"f": [x + 1 for x in range(12)]}
    assert [c.pointer for c in differ.diff(old, new)][:3] == ["/f/0", "/f/1", "/f/2"]
    assert [c.pointer for c in differ.diff(old, new)][-1] == "/f/11"


# --------------------------------------------------------------------------- environments


def env_diff(old: Side, new: Side) -> diffreport.EnvDiff:
    return differ.diff_environment("e", old, new, {"a": TEAM, "b": TEAM})


def test_unchanged_environment() -> None:
    side = Side(config({"a": ("p/x", "p/y")}), lock({"a": "10"}))
    result = env_diff(side, side)
    assert (result.status, result.agents, result.changes) == ("unchanged", (), ())


def test_changed_chain_and_cost_with_policy_cause() -> None:
    old = Side(config({"a": ("p/x", "p/y"), "b": ("p/x",)}), lock({"a": "24", "b": "6"}))
    new = Side(config({"a": ("p/y", "p/z"), "b": ("p/x",)}), lock({"a": "12", "b": "6"}, team="t2"))
    result = env_diff(old, new)
    assert result.status == "changed"
    [change] = result.agents
    assert change == diffreport.ChainChange(
        "a",
        "changed",
        ("p/x", "p/y"),
        ("p/y", "p/z"),
        Decimal(24),
        Decimal(12),
        "policy",
        causes=("policy change",),  # v1 locks carry no constraints: the digests tell
        moves=("primary p/x -> p/y", "p/x left the chain", "fallback p/z added"),
    )
    assert (result.old_cost, result.new_cost) == (Decimal(30), Decimal(18))
    assert [c.pointer for c in result.changes] == [
        "/agents/entries/a/model/fallbacks/0",
        "/agents/entries/a/model/primary",
    ]


@pytest.mark.parametrize(
    ("inputs", "cause"),
    [
        pytest.param({"catalog": "c2"}, "catalog", id="catalog-only"),
        pytest.param({"team": "t2"}, "policy", id="own-team-file"),
        pytest.param({"tiers": "x2"}, "policy", id="tiers"),
        pytest.param({"catalog": "c2", "tiers": "x2"}, "both", id="both"),
        pytest.param({"other": "o2"}, "re-resolved", id="another-team-only"),
        pytest.param({}, "re-resolved", id="no-input-changed-upgrade"),
    ],
)
def test_cause_comes_from_lock_digests(inputs: dict[str, str], cause: str) -> None:
    old = Side(config({"a": ("p/x",)}), lock({"a": "1"}))
    new = Side(config({"a": ("p/y",)}), lock({"a": "1"}, **inputs))
    assert [c.cause for c in env_diff(old, new).agents] == [cause]


def test_an_agent_whose_entry_changes_but_not_its_chain() -> None:
    old_config = config({"a": ("p/x",)})
    new_config = config({"a": ("p/x",)})
    new_config["agents"]["entries"]["a"]["thinkingDefault"] = "high"
    result = env_diff(
        Side(old_config, lock({"a": "1"})), Side(new_config, lock({"a": "1"}, team="t2"))
    )
    [change] = result.agents
    assert (change.old_refs, change.new_refs, change.settings) == (
        ("p/x",),
        ("p/x",),
        ("thinkingDefault",),
    )
    assert diffreport.format_text(diffreport.DiffReport("HEAD", (result,))).splitlines()[1] == (
        "~ e/a: [p/x] -> [p/x]; est. USD/month (primary) 1.00 -> 1.00; "
        "also changed: thinkingDefault"
    )


def test_cause_unknown_without_an_old_lock() -> None:
    old = Side(config({"a": ("p/x",)}), None)
    new = Side(config({"a": ("p/y",)}), lock({"a": "1"}))
    [change] = env_diff(old, new).agents
    assert (change.cause, change.old_cost, change.new_cost) == ("unknown", None, Decimal(1))
    assert env_diff(old, new).old_cost is None


def test_agents_and_providers_added_and_removed() -> None:
    old = Side(config({"a": ("p/x",), "gone": ("p/x",)}, ("p", "old")), lock({}))
    new = Side(config({"a": ("p/x",), "fresh": ("q/x",)}, ("p", "q")), lock({}))
    result = env_diff(old, new)
    assert [(c.key, c.status) for c in result.agents] == [("fresh", "added"), ("gone", "removed")]
    assert (result.providers_added, result.providers_removed) == (("q",), ("old",))


@pytest.mark.parametrize(
    ("old_exists", "status", "kind"),
    [
        pytest.param(False, "added", "added", id="new"),
        pytest.param(True, "removed", "removed", id="gone"),
    ],
)
def test_whole_environment_added_or_removed(old_exists: bool, status: str, kind: str) -> None:
    present = Side(config({"a": ("p/x",)}), lock({"a": "3"}))
    absent = Side(None, None)
    result = env_diff(present, absent) if old_exists else env_diff(absent, present)
    assert result.status == status
    assert [(c.kind, c.pointer) for c in result.changes] == [(kind, "")]
    assert [c.status for c in result.agents] == [status, status]  # the agent and the default


def test_parse_side_rejects_non_object_config() -> None:
    with pytest.raises(CompileError) as caught:
        differ.parse_side("[1]", None, "origin/main:prod")
    assert [d.code for d in caught.value.diagnostics] == ["PC403"]


# --------------------------------------------------------------------------- formats


def report(agents: int = 1, fields: int = 1) -> diffreport.DiffReport:
    chains = tuple(
        diffreport.ChainChange(
            f"agent-{i:05d}",
            "changed",
            ("p/x", "p/y"),
            ("p/z",),
            Decimal(10),
            Decimal(4),
            "policy",
            causes=("max_price.output 5 -> 3 (policies/tiers.yaml:9:5)",),
            moves=("primary p/x -> p/z", "fallback p/y removed"),
        )
        for i in range(agents)
    )
    changes = tuple(Change("changed", f"/ui/k{i}", i, i + 1) for i in range(fields))
    env = diffreport.EnvDiff(
        "prod", "changed", chains, ("q",), (), Decimal(10), Decimal(4), changes, "policy"
    )
    return diffreport.DiffReport("origin/main (abc1234)", (env,))


def test_text_leads_with_agents_then_totals_then_fields() -> None:
    text = diffreport.format_text(report())
    lines = text.splitlines()
    assert lines[1:5] == [
        "~ prod/agent-00000: [p/x, p/y] -> [p/z]; est. USD/month (primary) 10.00 -> 4.00 (-6.00)",
        "    primary p/x -> p/z",
        "    fallback p/y removed",
        "    why: max_price.output 5 -> 3 (policies/tiers.yaml:9:5)",
    ]
    assert "  prod: changed; monthly cost 10.00 -> 4.00 (-6.00); providers +q" in lines
    assert lines[-1] == "  ~ /ui/k0: 0 -> 1"


def test_text_without_changes() -> None:
    empty = diffreport.DiffReport("HEAD (abc1234)", ())
    assert diffreport.format_text(empty) == "clawpolicy diff against HEAD (abc1234): no changes\n"


def test_markdown_marker_agents_first_mermaid_and_details() -> None:
    text = diffmarkdown.format_markdown(report())
    assert text.startswith(
        "<!-- clawpolicy-diff -->\n### clawpolicy diff against `origin/main (abc1234)`"
    )
    first_row = next(line for line in text.splitlines() if line.startswith("| prod"))
    assert first_row == (
        "| prod | `agent-00000` | primary `p/x` → `p/z`; fallback `p/y` removed | `p/x`, `p/y` "
        "| `p/z` | 10.00 → 4.00 (-6.00) | max_price.output 5 → 3 (policies/tiers.yaml:9:5) |"
    )
    assert "| est. USD/month (primary) | why |" in text
    assert "```mermaid\ngraph LR\n" in text
    assert text.index("| environments | agent | what changed") < text.index(
        "<details><summary>Field changes (1)"
    )


def test_the_same_change_in_several_environments_is_shown_once() -> None:
    one = report()
    twice = diffreport.DiffReport(
        one.against,
        (one.environments[0], replace(one.environments[0], environment="staging")),
    )
    rows = [r for r in diffmarkdown.format_markdown(twice).splitlines() if "`agent-00000`" in r]
    assert len(rows) == 1 and rows[0].startswith("| prod, staging | `agent-00000` |")
    assert diffreport.format_text(twice).splitlines()[1].startswith("~ prod, staging/agent-00000:")


def test_vendors_new_to_an_environment_are_a_warning() -> None:
    env = replace(report().environments[0], vendors_added=(("deepseek", ("agent-00000",)),))
    text = diffmarkdown.format_markdown(diffreport.DiffReport("x", (env,)))
    assert "> [!WARNING]\n> **New vendor deepseek in prod (agent-00000)**" in text
    assert "| prod | changed | 10.00 → 4.00 (-6.00) | +q | **deepseek** |" in text


@pytest.mark.parametrize(
    ("agents", "fields"),
    [
        pytest.param(0, 10_000, id="ten-thousand-field-changes"),
        pytest.param(10_000, 10_000, id="ten-thousand-agents-and-fields"),
    ],
)
def test_markdown_stays_under_the_cap(agents: int, fields: int) -> None:
    text = diffmarkdown.format_markdown(report(agents, fields))
    assert len(text) <= diffreport.MARKDOWN_LIMIT
    assert "... and " in text and " more" in text
    assert text.rstrip().endswith("</details>")


def test_markdown_small_limit_still_truncates_cleanly() -> None:
    text = diffmarkdown.format_markdown(report(50, 50), limit=6_000)
    assert len(text) <= 6_000
    assert text.count("... and ") >= 1


def test_json_shape() -> None:
    document = json.loads(diffreport.format_json(report()))
    assert document["changed"] is True
    prod = document["environments"]["prod"]
    assert prod["status"] == "changed"
    assert prod["cost"] == {"before": 10, "after": 4, "delta": -6}
    assert prod["providers"] == {"added": ["q"], "removed": []}
    assert prod["agents"][0] == {
        "agent": "agent-00000",
        "status": "changed",
        "cause": "policy",
        "settings": [],
        "causes": ["max_price.output 5 -> 3 (policies/tiers.yaml:9:5)"],
        "moves": ["primary p/x -> p/z", "fallback p/y removed"],
        "before": {"primary": "p/x", "fallbacks": ["p/y"], "monthly_cost": 10},
        "after": {"primary": "p/z", "fallbacks": [], "monthly_cost": 4},
    }
    assert prod["changes"] == [{"pointer": "/ui/k0", "kind": "changed", "old": 0, "new": 1}]
