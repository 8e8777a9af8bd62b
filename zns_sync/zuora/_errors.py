"""Exceptions raised by the Zuora client, each carrying Zuora's own code and message."""

from __future__ import annotations

from dataclasses import dataclass

from zns_sync.errors import AuthError, TransportError


@dataclass(frozen=True)
class ZuoraErrorDetail:
    """One error Zuora reported: its code (`INVALID_VALUE`, `53100320`, ...) and message."""

    code: str
    message: str


class ZuoraError(TransportError):
    """Zuora answered with an error or could not be reached after retries."""

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None, zuora_message: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.zuora_message = zuora_message


class ZuoraAuthError(AuthError):
    """Zuora refused the OAuth client credentials (or the token it issued)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ZuoraQueryError(ZuoraError):
    """Zuora rejected a ZOQL query (`MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_VALUE`, ...)."""
