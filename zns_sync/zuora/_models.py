"""The result types the Zuora client returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


class Page(list[dict[str, Any]]):
    """One page of a query's records, with the total number of records the query matches (Zuora's `size`, given
    with every page; None when not given)."""

    def __init__(self, records: list[dict[str, Any]], size: int | None) -> None:
        super().__init__(records)
        self.size = size
