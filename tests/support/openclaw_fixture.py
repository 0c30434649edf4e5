"""Pytest plugin: the session-scoped `openclaw_validator` fixture (the real OpenClaw gate).

Enable it from `tests/conftest.py` with `pytest_plugins = ["tests.support.openclaw_fixture"]`.
The first use installs Node 24 + openclaw into the cache (about 40 s once, then instant). If that
fails, the test is skipped on a developer machine but fails when `CI=true`, so CI can never pass
without having run the real validator.
"""

import os
from collections.abc import Mapping
from typing import NoReturn

import pytest

from tests.support.openclaw import OpenClawSetupError, Validator, install, install_all


def in_ci() -> bool:
    """Tell whether we run in CI (`CI=true`), where a missing validator is a failure."""
    return os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def openclaw_validator() -> Validator:
    """Return a `Validator` for the default OpenClaw release, installing it on first use."""
    try:
        return install()
    except OpenClawSetupError as error:
        reason = f"the real OpenClaw validator is unavailable: {error}"
    skip_unless_ci(reason)


@pytest.fixture(scope="session")
def openclaw_validators() -> Mapping[str, Validator]:
    """Return version -> `Validator` for every supported OpenClaw release (installed once)."""
    try:
        return install_all()
    except OpenClawSetupError as error:
        reason = f"the real OpenClaw validators are unavailable: {error}"
    skip_unless_ci(reason)


def skip_unless_ci(reason: str) -> NoReturn:
    """Skip the current test with `reason`; in CI, fail it instead."""
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
