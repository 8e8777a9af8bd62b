"""Keep secrets out of every output: a registry of secret values and a logging filter that masks them."""

from __future__ import annotations

import logging
import re
import threading

MASK = "********"

_lock = threading.Lock()
_secrets: set[str] = set()
# Bearer tokens and signatures are masked by shape even when never registered.
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(
        r"(?i)((?:access_token|client_secret|signature|token_secret|consumer_secret)(?:=|[\"']\s*:\s*[\"']))[^\"'&\s<,}]+"
    ),
    re.compile(r"(?i)(<(?:\w+:)?signature[^>]*>)[^<]+"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret value so that `redact` masks it wherever it appears."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return text with every registered secret and every bearer token or signature masked."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record's message and masks secrets in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
