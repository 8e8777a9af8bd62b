"""Secrets never appear in output: registered values and token shapes are masked."""

from __future__ import annotations

import logging

import pytest

from zns_sync.config import Secret
from zns_sync.errors import ConfigError
from zns_sync.redact import MASK, RedactingFilter, redact


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("client_secret=abcdef123&grant_type=client_credentials", "abcdef123"),
        ('{"access_token": "eyJhbGciOi.payload.sig", "expires_in": 3599}', "eyJhbGciOi.payload.sig"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi.payload.sig"),
        ('<ns3:signature algorithm="HMAC-SHA256">c2lnbmF0dXJlLXZhbHVl</ns3:signature>', "c2lnbmF0dXJlLXZhbHVl"),
    ],
)
def test_token_shapes_are_masked(text: str, hidden: str) -> None:
    assert hidden not in redact(text) and MASK in redact(text)


def test_key_paths_in_messages_are_not_mistaken_for_secrets() -> None:
    text = "zuora.client_secret: environment variable ZUORA_CLIENT_SECRET is not set"
    assert redact(text) == text


def test_registered_secrets_are_masked_in_errors_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("s3cr3t-value-from-env")
    assert "s3cr3t" not in repr(secret) and "s3cr3t" not in str(secret)
    assert "s3cr3t" not in str(ConfigError(f"bad token {secret.reveal()}"))
    logger = logging.getLogger("zns_sync.test")
    record = logger.makeRecord("zns_sync.test", logging.ERROR, __file__, 1, "sent %s", (secret.reveal(),), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == f"sent {MASK}"
