"""Fixtures for the Zuora client and emulator tests: a running emulator and a client pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from zns_sync.config import Secret, ZuoraSettings
from zns_sync.sandbox.zuora_server import ZuoraEmulator
from zns_sync.zuora import ZuoraClient

CLIENT_ID = "0f6a3b1e-5c2d-4e8f-9a7b-1c2d3e4f5a6b"
CLIENT_SECRET = "s3cr3t-Zuora-emulator-client-Secret-42"


@pytest.fixture
def client_secret() -> str:
    """The OAuth client secret the emulator accepts (tests check it never leaks)."""
    return CLIENT_SECRET


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[ZuoraEmulator]:
    """A running Zuora emulator with an empty tenant; with Invoice Settlement unless parametrized `False`."""
    settlement = getattr(request, "param", True)
    with ZuoraEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, invoice_settlement=settlement) as running:
        yield running


def make_settings(emulator: ZuoraEmulator, **overrides: Any) -> ZuoraSettings:
    """ZuoraSettings pointing at the emulator, with short timeouts."""
    values: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": Secret(CLIENT_SECRET),
        "base_url": emulator.url,
        "timeout_seconds": 5.0,
        "connect_timeout_seconds": 1.0,
        "max_retries": 4,
    }
    values.update(overrides)
    return ZuoraSettings(**values)


@pytest.fixture
def make_client(emulator: ZuoraEmulator) -> Iterator[Callable[..., ZuoraClient]]:
    """A factory of clients for the emulator (tiny backoff so retries stay fast); closed after the test."""
    clients: list[ZuoraClient] = []

    def factory(**overrides: Any) -> ZuoraClient:
        client = ZuoraClient(make_settings(emulator, **overrides), retry_base_seconds=0.01, retry_cap_seconds=0.05)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., ZuoraClient]) -> ZuoraClient:
    """A client for the emulator with the default settings."""
    return make_client()


@pytest.fixture
def raw(emulator: ZuoraEmulator) -> Iterator[httpx.Client]:
    """A plain httpx session to the emulator carrying a valid bearer token, to send what our client never would."""
    with httpx.Client(base_url=emulator.url, timeout=5) as session:
        answer = session.post(
            "/oauth/token",
            data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"},
        )
        session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield session
