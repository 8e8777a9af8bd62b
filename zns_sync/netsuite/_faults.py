"""The client's exceptions and how SOAP faults map onto them."""

from __future__ import annotations

import dataclasses

from zns_sync.errors import AuthError, TransportError


class NetSuiteError(TransportError):
    """NetSuite kept failing (a fault after retries, or an unusable answer); carries NetSuite's code and message."""

    def __init__(self, message: str, *, code: str | None = None, operation: str | None = None) -> None:
        prefix = f"NetSuite {operation} failed" if operation else "NetSuite request failed"
        detail = f"{code}: {message}" if code else message
        super().__init__(f"{prefix}: {detail}")
        self.code = code
        self.ns_message = message
        self.operation = operation


class NetSuiteAuthError(AuthError):
    """NetSuite refused the token-based authentication ("Invalid login attempt.")."""


class OutcomeUnknownError(NetSuiteError):
    """A write was sent but its answer was lost: NetSuite may or may not have committed it. Never retried blindly."""


@dataclasses.dataclass(frozen=True)
class FaultInfo:
    """A SOAP fault reduced to what we decide on: its detail element name, code and message."""

    kind: str
    code: str | None
    message: str

    @property
    def is_throttle(self) -> bool:
        """The account's concurrency limit was hit (retry after a wait)."""
        return (
            self.kind == "exceededConcurrentRequestLimitFault"
            or self.code in ("WS_REQUEST_BLOCKED", "WS_CONCUR_SESSION_DISALLWD")
            or "concurrent request limit" in self.message.lower()
        )

    @property
    def is_auth(self) -> bool:
        """The token passport was refused."""
        return (
            self.kind in ("invalidCredentialsFault", "invalidAccountFault")
            or self.code in ("INVALID_LOGIN_CREDENTIALS", "INVALID_LOGIN_ATTEMPT")
            or "invalid login attempt" in self.message.lower()
        )

    @property
    def is_unexpected(self) -> bool:
        """NetSuite's transient UNEXPECTED_ERROR."""
        return self.kind == "unexpectedErrorFault" or self.code == "UNEXPECTED_ERROR"


def fault_info(message: str | None, detail: object) -> FaultInfo:
    """Read a zeep Fault's message and `<detail>` lxml element into a FaultInfo."""
    kind, code, text = "", None, message or ""
    children = list(detail) if detail is not None and hasattr(detail, "iterchildren") else []  # type: ignore[call-overload]
    for child in children:
        tag = child.tag if isinstance(child.tag, str) else ""
        local = tag.rsplit("}", 1)[-1]
        if local.endswith("Fault"):
            kind = local
            for part in child:
                part_name = part.tag.rsplit("}", 1)[-1] if isinstance(part.tag, str) else ""
                if part_name == "code" and part.text:
                    code = part.text.strip()
                elif part_name == "message" and part.text and not text:
                    text = part.text.strip()
            break
    return FaultInfo(kind=kind, code=code, message=text)
