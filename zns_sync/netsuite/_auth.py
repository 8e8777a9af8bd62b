"""Token-based authentication: a fresh, signed tokenPassport for every request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import time
from typing import Any

from zns_sync.config import NetSuiteSettings

ALGORITHM = "HMAC-SHA256"
_NONCE_ALPHABET = string.ascii_letters + string.digits
NONCE_LENGTH = 24


def new_nonce(length: int = NONCE_LENGTH) -> str:
    """A random alphanumeric nonce (NetSuite accepts 6 to 64 characters; we use 24)."""
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


def sign(
    account: str, consumer_key: str, token_id: str, nonce: str, timestamp: int, consumer_secret: str, token_secret: str
) -> str:
    """Base64(HMAC-SHA256(`cs&ts`, `account&ck&token&nonce&timestamp`)) as NetSuite's TBA defines it."""
    base = "&".join((account, consumer_key, token_id, nonce, str(timestamp)))
    key = f"{consumer_secret}&{token_secret}"
    digest = hmac.new(key.encode("utf-8"), base.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def passport_fields(settings: NetSuiteSettings, *, now: float | None = None) -> dict[str, Any]:
    """The six tokenPassport values for one request; the account is used exactly as configured (123456_SB1)."""
    nonce = new_nonce()
    timestamp = int(time.time() if now is None else now)
    signature = sign(
        settings.account,
        settings.consumer_key,
        settings.token_id,
        nonce,
        timestamp,
        settings.consumer_secret.reveal(),
        settings.token_secret.reveal(),
    )
    return {
        "account": settings.account,
        "consumerKey": settings.consumer_key,
        "token": settings.token_id,
        "nonce": nonce,
        "timestamp": timestamp,
        "signature": signature,
    }
