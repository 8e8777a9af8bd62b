"""The result types the Zuora client returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from zns_sync.zuora._errors import ZuoraErrorDetail


@dataclass(frozen=True)
class SaveResult:
    """Zuora's answer for one object of a create or update: success with its Id, or the errors."""

    success: bool
    id: str | None
    errors: tuple[ZuoraErrorDetail, ...] = field(default=())

    @property
    def message(self) -> str:
        """The error messages joined with `; ` (empty on success)."""
        return "; ".join(f"{e.code}: {e.message}" if e.code else e.message for e in self.errors)
