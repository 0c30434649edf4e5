"""Catalog diff: the two real OpenRouter snapshots, field-level changes, reports and the CLI."""

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler.catalogs.catalogdiff import (
    CatalogDiff,
    FieldChange,
    diff_catalogs,
    format_markdown,
    format_text,
    to_payload,
)
from compiler.cli.catalog import catalog
from compiler.load.catalog import serialize_snapshot
from compiler.load.spec import CatalogSpec
from tests.conftest import catalog_text
from tests.conftest import offer as make_offer
from tests.support.catalog_fixtures import imported, native


def snapshot(day: date, *offers: dict[str, Any]) -> CatalogSpec:
    return CatalogSpec.model_validate(
        {"format": "clawpolicy-catalog", "version": 1, "date": day, "offers": list(offers)}
    )


def offer(provider: str, model_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "provider": provider,
        "id": model_id,
        "name": model_id,
        "vendor": model_id.split("/", maxsplit=1)[0],
        "context_window": 128_000,
        "price": {"input": 1, "output": 2},
        **fields,
    }


OLD = snapshot(
    date(2026, 5, 1),
    offer("openrouter", "a/kept"),
    offer("openrouter", "a/repriced", price={"input": 3, "output": 15, "cache_write": 3.75}),
    offer("openrouter", "a/expiring", expiry_date="2026-05-20"),
    offer("openrouter", "a/gone"),
    offer("a-b", "x/model"),
    offer("infron", "a/flagged"),
)
NEW = snapshot(
    date(2026, 6, 1),
    offer("openrouter", "a/kept"),
    offer("openrouter", "a/repriced", price={"input": 2.5, "output": 15}, context_window=1_000_000,
          capabilities={"tools": True}),
    offer("openrouter", "a/expiring", expiry_date="2026-05-20"),
    offer("openrouter", "b/new"),
    offer("a", "x/model"),
    offer("infron", "a/flagged", deprecated=True),
)  # fmt: skip


def test_diff_fields_and_order() -> None:
    diff = diff_catalogs(OLD, NEW)
    assert diff.added == ("a/x/model", "openrouter/b/new")  # sorted by (provider, id)
    assert diff.removed == ("a-b/x/model", "openrouter/a/gone")
    assert [c.ref for c in diff.changed] == [
        "infron/a/flagged", "openrouter/a/expiring", "openrouter/a/repriced"
    ]  # fmt: skip
    repriced = diff.changed[2].fields
    assert repriced == (
        FieldChange("context_window", 128_000, 1_000_000),
        FieldChange("capabilities.tools", None, True),
        FieldChange("price.input", Decimal(3), Decimal("2.5")),
        FieldChange("price.cache_write", Decimal("3.75"), None),
    )
    assert [(c.ref, c.retirement) for c in diff.newly_deprecated] == [
        ("infron/a/flagged", "deprecated"),
        ("openrouter/a/expiring", "expired on 2026-05-20"),  # expiry passed by NEW's own date
    ]
    assert diff.has_differences


def test_identical_snapshots_have_no_differences() -> None:
    diff = diff_catalogs(NEW, NEW)
    assert (diff.added, diff.removed, diff.changed) == ((), (), ())
    assert not diff.has_differences
    assert format_text(diff) == "catalog diff 2026-06-01 -> 2026-06-01: no differences\n"


def test_input_order_does_not_matter() -> None:
    reordered = NEW.model_copy(update={"offers": tuple(reversed(NEW.offers))})
    assert format_text(diff_catalogs(OLD, reordered)) == format_text(diff_catalogs(OLD, NEW))


def test_text_report() -> None:
    text = format_text(diff_catalogs(OLD, NEW))
    assert text.splitlines()[0] == (
        "catalog diff 2026-05-01 -> 2026-06-01: 2 added, 2 removed, 3 changed, 2 newly deprecated"
    )
    assert "      price.input: 3 -> 2.5\n" in text
    assert "      price.cache_write: 3.75 -> unknown\n" in text
    assert "  ! openrouter/a/expiring: expired on 2026-05-20\n" in text


def test_json_report_keys_and_values() -> None:
    document = to_payload(diff_catalogs(OLD, NEW))
    assert list(document) == ["changed", "old_date", "new_date", "offers", "environments"]
    assert document["changed"] is True
    assert document["environments"] == {}
    offers = document["offers"]
    repriced = next(c for c in offers["updated"] if c["id"] == "a/repriced")
    assert repriced["fields"]["price.input"] == {"old": 3, "new": 2.5}
    assert repriced["fields"]["price.cache_write"] == {"old": 3.75, "new": None}
    assert offers["updated"][0]["fields"]["retired"] == {"old": None, "new": "deprecated"}
    assert {"ref": "openrouter/a/expiring", "reason": "expired on 2026-05-20"} in offers["retiring"]


def test_markdown_is_truncated_with_a_count() -> None:
    diff = diff_catalogs(imported("openrouter-may").snapshot, imported("openrouter-june").snapshot)
    full = format_markdown(diff)
    short = format_markdown(diff, limit=2_000)
    assert "... and" not in full and full.startswith("### Catalog diff 2026-05-15 → 2026-06-16")
    assert len(short) <= 2_000
    rows = sum(1 for line in full.splitlines() if line.startswith("| ") and "`" in line)
    shown = sum(1 for line in short.splitlines() if line.startswith("| ") and "`" in line)
    assert short.endswith(f"\n... and {rows - shown} more\n")


# --------------------------------------------------------------------------- real snapshots


def _diff_of_openrouter() -> CatalogDiff:
    return diff_catalogs(imported("openrouter-may").snapshot, imported("openrouter-june").snapshot)


def test_openrouter_snapshots_match_a_direct_comparison_of_ids() -> None:
    may = {m["id"] for m in native("openrouter-models-2026-05-15.json")["data"]}
    june = {m["id"] for m in native("openrouter-models-2026-06-16.json")["data"]}
    assert (len(june - may), len(may - june)) == (25, 4)
    diff = _diff_of_openrouter()
    assert diff.added == tuple(f"openrouter/{i}" for i in sorted(june - may))
    assert diff.removed == tuple(f"openrouter/{i}" for i in sorted(may - june))
    assert (len(diff.added), len(diff.removed)) == (25, 4)


def test_openrouter_snapshots_changed_offers() -> None:
    diff = _diff_of_openrouter()
    assert len(diff.changed) == 4
    # two moving aliases changed under the same id: what they serve moved
    assert [c.id for c in diff.changed if c.id.startswith("~")] == [
        "~google/gemini-flash-latest",
        "~moonshotai/kimi-latest",
    ]
    assert diff.newly_deprecated == ()  # June's expiry dates all lie after 2026-06-16
    glm = next(c for c in diff.changed if c.id == "z-ai/glm-4.5")
    assert glm.fields == (FieldChange("expiry_date", None, date(2026, 6, 19)),)
    removed = set(diff.removed)
    assert {"openrouter/x-ai/grok-4", "openrouter/google/gemini-2.0-flash-001"} <= removed


# --------------------------------------------------------------------------- CLI


def _write(tmp_path: Path, name: str, spec: CatalogSpec) -> str:
    path = tmp_path / name
    path.write_text(serialize_snapshot(spec))
    return str(path)


@pytest.mark.parametrize(
    ("fmt", "start"),
    [
        pytest.param("text", "catalog diff 2026-05-15 -> 2026-06-16: 25 added, 4 removed",
                     id="text"),
        pytest.param("markdown", "### Catalog diff", id="markdown"),
        pytest.param("json", '{\n  "format": "clawpolicy-catalog-diff",', id="json"),
    ],
)  # fmt: skip
def test_cli_diff_exits_1_on_differences(tmp_path: Path, fmt: str, start: str) -> None:
    old = _write(tmp_path, "old.json", imported("openrouter-may").snapshot)
    new = _write(tmp_path, "new.json", imported("openrouter-june").snapshot)
    args = ["diff", old, new, "--format", fmt]
    result = CliRunner().invoke(catalog, args)
    assert result.exit_code == 1, result.stderr
    assert result.stdout.startswith(start) and result.stderr == ""


def test_cli_diff_exits_0_when_identical(tmp_path: Path) -> None:
    path = _write(tmp_path, "same.json", NEW)
    result = CliRunner().invoke(catalog, ["diff", path, path])
    assert result.exit_code == 0
    assert "no differences" in result.stdout


@pytest.mark.parametrize(
    ("content", "code"),
    [
        pytest.param(None, "PC501", id="missing-file"),
        pytest.param("{not json", "PC501", id="not-json"),
        pytest.param('{"format": "clawpolicy-catalog", "version": 1}', "PC110", id="not-snapshot"),
    ],
)
def test_cli_diff_bad_input_is_exit_2(tmp_path: Path, content: str | None, code: str) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    good = _write(tmp_path, "good.json", NEW)
    result = CliRunner().invoke(catalog, ["diff", str(bad), good])
    assert result.exit_code == 2
    assert f"{bad}: error[{code}]" in result.stderr


# --------------------------------------------------------------------------- --root


def test_root_lists_the_agents_a_catalog_move_changes(
    make_project: Callable[..., Path], cli: Callable[..., Any], tmp_path: Path
) -> None:
    """Resolving, not guessing: only the environment that uses OLD and only the agent whose
    chain moves are reported, with both chains."""
    old = [
        make_offer("p", "openai/a", price={"input": 1, "output": 1}),
        make_offer("p", "google/b", price={"input": 2, "output": 2}),
        make_offer("p", "meta/c", price={"input": 3, "output": 3}),
    ]
    new = [o for o in old if o["id"] != "openai/a"]
    root = make_project(
        {
            "policies/tiers.yaml": "version: 1\ntiers:\n  t: {fallbacks: 1}\n",
            "policies/teams/x.yaml": "version: 1\nteam: x\nagents:\n  moved: {tier: t}\n"
            "  stays: {tier: t, pin: p/meta/c, fallbacks: 0}\n",
            "policies/environments/prod.yaml": ENV_YAML.format(catalog="old.json"),
            "policies/environments/dev.yaml": ENV_YAML.format(catalog="other.json").replace(
                "environment: prod", "environment: dev"
            ),
            "policies/catalogs/old.json": catalog_text(old),
            "policies/catalogs/other.json": catalog_text(old, date="2026-11-19"),
        }
    )
    (tmp_path / "new.json").write_text(catalog_text(new, date="2026-11-27"))
    result = cli(
        "catalog",
        "diff",
        str(root / "policies/catalogs/old.json"),
        str(tmp_path / "new.json"),
        "--root",
        str(root),
        "--format",
        "json",
    )
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["environments"] == {
        "prod": {
            "agents": [
                {
                    "agent": "moved",
                    "before": {
                        "primary": "p/openai/a",
                        "fallbacks": ["p/google/b"],
                        "monthly_cost": None,
                    },
                    "after": {
                        "primary": "p/google/b",
                        "fallbacks": ["p/meta/c"],
                        "monthly_cost": None,
                    },
                    "promoted": None,
                }
            ]
        }
    }


ENV_YAML = """\
version: 1
environment: prod
catalogs: [catalogs/{catalog}]
providers:
  p: {{base_url: "https://p.example/v1", api: openai-completions, api_key: {{env: P_KEY}}}}
"""
