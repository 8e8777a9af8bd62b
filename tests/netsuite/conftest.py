"""Fixtures of the NetSuite client/emulator tests: a fresh emulator per test, validated against the real XSDs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from netsuite_conformance import RealXsdValidator, find_real_specs  # noqa: E402

from zns_sync.config import NetSuiteSettings, Secret  # noqa: E402
from zns_sync.netsuite import NetSuiteClient  # noqa: E402
from zns_sync.sandbox.netsuite_server import NetSuiteEmulator  # noqa: E402

CREDENTIALS = {
    "account": "123456_SB1",
    "consumer_key": "ck0123456789abcdef",
    "consumer_secret": "cs-secret-0123456789abcdef",
    "token_id": "tk0123456789abcdef",
    "token_secret": "ts-secret-0123456789abcdef",
}


@pytest.fixture
def validator() -> RealXsdValidator | None:
    """Validates every request the emulator receives against NetSuite's real XSDs (None when they are absent)."""
    spec_dir = find_real_specs()
    return RealXsdValidator(spec_dir) if spec_dir else None


@pytest.fixture
def emulator(validator: RealXsdValidator | None) -> Iterator[NetSuiteEmulator]:
    """A started, seeded emulator; after the test, every request it saw must have conformed to the real XSDs."""
    emu = NetSuiteEmulator(**CREDENTIALS)
    if validator is not None:
        validator.install(emu)
    emu.start()
    emu.seed_reference_data()
    try:
        yield emu
    finally:
        emu.stop()
    if validator is not None:
        validator.assert_clean()


def make_settings(emulator: NetSuiteEmulator, **overrides: Any) -> NetSuiteSettings:
    """Settings pointing at `emulator` with the test credentials."""
    values: dict[str, Any] = {
        "account": CREDENTIALS["account"],
        "consumer_key": CREDENTIALS["consumer_key"],
        "consumer_secret": Secret(CREDENTIALS["consumer_secret"]),
        "token_id": CREDENTIALS["token_id"],
        "token_secret": Secret(CREDENTIALS["token_secret"]),
        "wsdl_url": emulator.wsdl_url,
        "endpoint_url": emulator.endpoint_url,
        "concurrency": 5,
        "timeout_seconds": 10.0,
        "max_retries": 5,
    }
    values.update(overrides)
    return NetSuiteSettings(**values)


class ThrottleLog:
    """Counts on_throttle calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.fixture
def settings_for() -> Any:
    """`settings_for(emulator, **overrides)`: NetSuiteSettings pointing at an emulator."""
    return make_settings


@pytest.fixture
def credentials() -> dict[str, str]:
    return dict(CREDENTIALS)


@pytest.fixture
def throttles() -> ThrottleLog:
    return ThrottleLog()


@pytest.fixture
def client(emulator: NetSuiteEmulator, tmp_path: Path, throttles: ThrottleLog) -> Iterator[NetSuiteClient]:
    """Our client against the emulator, with short backoffs."""
    with NetSuiteClient(
        make_settings(emulator),
        cache_dir=tmp_path / "cache",
        on_throttle=throttles,
        backoff_base=0.01,
        backoff_cap=0.05,
    ) as ns:
        yield ns
