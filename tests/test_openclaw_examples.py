"""The OpenClaw gate itself: the real validator accepts the good reference file and rejects the bad.

These tests prove that `openclaw_validator` discriminates (a validator that always said "valid"
would fail here), so tests that validate rendered outputs with it can be trusted.
"""

from pathlib import Path

import pytest

from tests.support.openclaw import ValidationResult, Validator, unexpected_warnings

pytestmark = pytest.mark.openclaw

EXAMPLES = Path(__file__).resolve().parent / "data" / "openclaw-examples"


@pytest.fixture(scope="module")
def examples() -> Path:
    """The committed OpenClaw reference examples (tests/data/openclaw-examples/README.md)."""
    assert EXAMPLES.is_dir(), f"reference examples missing at {EXAMPLES}"
    return EXAMPLES


def validate_one(validator: Validator, path: Path) -> ValidationResult:
    """Validate a single file and return its result."""
    [result] = validator.validate([path])
    return result


def test_good_entries_is_valid_with_only_missing_env_warnings(
    openclaw_validator: Validator, examples: Path
) -> None:
    result = validate_one(openclaw_validator, examples / "good-entries.json")
    assert result.valid, result.summary()
    assert result.issues == ()
    assert [w.path for w in result.warnings] == ["models.providers.infron.apiKey"]
    assert unexpected_warnings(result) == (), result.summary()


def test_bad_combined_reports_all_three_issues(
    openclaw_validator: Validator, examples: Path
) -> None:
    result = validate_one(openclaw_validator, examples / "bad-combined.json")
    assert not result.valid, result.summary()
    assert [issue.path for issue in result.issues] == [
        "models.providers.infron.api",
        "models.providers.infron.models.0.contextWindow",
        "agents.defaults.model",
    ]


def test_multiagent_roster_without_ownership_is_invalid(
    openclaw_validator: Validator, examples: Path
) -> None:
    result = validate_one(openclaw_validator, examples / "bad-multiagent-no-ownership.json")
    assert not result.valid, result.summary()
    assert [issue.path for issue in result.issues] == ["agents.ownership"]


def test_missing_file_is_invalid_not_an_exception(
    openclaw_validator: Validator, tmp_path: Path
) -> None:
    result = validate_one(openclaw_validator, tmp_path / "absent.json")
    assert not result.valid
    assert result.issues, result.summary()


def test_legacy_agents_list_warning_counts_as_unexpected(
    openclaw_validator: Validator, examples: Path
) -> None:
    result = validate_one(openclaw_validator, examples / "good-list.json")
    assert result.valid, result.summary()
    assert [w.path for w in unexpected_warnings(result)] == ["agents.entries"]
