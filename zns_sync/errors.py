"""Exceptions a person can act on; the CLI turns each into one line and an exit code (product.md 4)."""

from __future__ import annotations

from zns_sync.redact import redact


class ZnsSyncError(Exception):
    """Base of every error zns-sync reports to a user; its text is redacted of secrets."""

    exit_code = 4

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self)


class UsageError(ZnsSyncError):
    """Bad command line, configuration or credentials: exit 2."""

    exit_code = 2


class ConfigError(UsageError):
    """The configuration is missing, unreadable or invalid; the message names the key path."""


class AuthError(UsageError):
    """A remote system refused our credentials."""


class LockHeldError(ZnsSyncError):
    """Another zns-sync run holds the lock in state_dir: exit 3."""

    exit_code = 3


class TransportError(ZnsSyncError):
    """A remote system could not be reached or kept failing after retries: the run aborts (exit 4)."""


class UntrustedResponseError(ZnsSyncError):
    """A response was malformed or hostile (DOCTYPE, entities, wrong content type): the run aborts (exit 4)."""
