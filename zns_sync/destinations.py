"""Where a flow's records go: the destination adapters the engine writes through.

A destination creates and updates records in batches, finds a record again by the key a flow gave it, says
which answers mean "it already exists" and which leave the outcome unknown, and gates its own requests with a
concurrency `Window`. The engine knows nothing else about it (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zns_sync.netsuite import LIMITS, NetSuiteClient, NsRecord, OutcomeUnknownError, RecordRef, WriteResult

WRITTEN, EXISTS, REFUSED, UNKNOWN = "written", "exists", "refused", "unknown"


@dataclass(frozen=True)
class Outcome:
    """The destination's word on one record of a batch write."""

    kind: str  # written, exists (a duplicate: look it up), refused (its data), unknown (say nothing of the record)
    counterpart_id: str | None = None
    message: str | None = None


class Window:
    """How many requests may be in flight: halves on a concurrency fault, grows back by one slowly."""

    def __init__(self, limit: int, grow_after: int = 8) -> None:
        self.limit = limit
        self.size = limit
        self._in_flight = 0
        self._successes = 0
        self._grow_after = grow_after
        self._cond = threading.Condition()
        self.peak = 0
        self.throttles = 0

    def __enter__(self) -> Window:
        with self._cond:
            while self._in_flight >= self.size:
                self._cond.wait()
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._in_flight -= 1
            if exc[0] is None:
                self._successes += 1
                if self._successes >= self._grow_after * self.size and self.size < self.limit:
                    self.size += 1
                    self._successes = 0
            self._cond.notify_all()

    def throttled(self) -> None:
        """The destination refused a request for concurrency: keep half as many in flight."""
        with self._cond:
            self.throttles += 1
            self.size = max(1, self.size // 2)
            self._successes = 0


class Destination(ABC):
    """A system records are written to, in batches, under its own concurrency window."""

    name: str  # as the journal and previews name its ids
    window: Window
    create_batch: int  # records per create call
    update_batch: int  # records per update call
    # Look every record up before its first create, not only those in flight or in error: a destination with no
    # unique key (Zuora) would otherwise duplicate a record whose status a person cleared.
    lookup_before_create: bool = False

    @abstractmethod
    def create(self, records: Sequence[Any]) -> list[Outcome] | None:
        """One outcome per record, in order; None when the answer was lost (the records may exist)."""

    @abstractmethod
    def update(self, records: Sequence[Any]) -> list[Outcome] | None:
        """One outcome per record, in order; None when the answer was lost."""

    @abstractmethod
    def find(self, refs: Sequence[Any]) -> list[str | None]:
        """The id of each referenced record that exists, in order (None where it does not)."""

    @abstractmethod
    def preview(self, record: Any) -> dict[str, Any]:
        """A record as plain JSON-able data, for dry runs."""


class NetSuiteDestination(Destination):
    """NetSuite through SuiteTalk: addList, updateList, and getList by the deterministic externalId.

    NetSuite keeps externalIds unique per record type: a second add answers DUP_RCRD, which means "it exists:
    look it up and link it" (docs/netsuite.md).
    """

    name = "NetSuite"
    # Per-record codes that say nothing about the record's data: the outcome is unknown, the next run recovers.
    UNKNOWN_CODES = frozenset({"UNEXPECTED_ERROR", "WS_REQUEST_BLOCKED", "SSS_REQUEST_LIMIT_EXCEEDED"})

    def __init__(self, netsuite: NetSuiteClient, window: Window, batch_size: int) -> None:
        self.netsuite = netsuite
        self.window = window
        self.create_batch = min(LIMITS["addList"], batch_size)
        self.update_batch = min(LIMITS["updateList"], batch_size)

    def create(self, records: Sequence[NsRecord]) -> list[Outcome] | None:
        try:
            return [self._outcome(r) for r in self.netsuite.add_list(list(records))]
        except OutcomeUnknownError:
            return None  # the response was lost: NetSuite may or may not have committed

    def update(self, records: Sequence[NsRecord]) -> list[Outcome] | None:
        try:
            return [self._outcome(r) for r in self.netsuite.update_list(list(records))]
        except OutcomeUnknownError:
            return None

    def _outcome(self, result: WriteResult) -> Outcome:
        if result.success:
            return Outcome(WRITTEN, result.internal_id)
        message = f"{result.code}: {result.message}"
        if result.code == "DUP_RCRD":
            return Outcome(EXISTS, None, message)
        return Outcome(UNKNOWN if result.code in self.UNKNOWN_CODES else REFUSED, None, message)

    def find(self, refs: Sequence[RecordRef]) -> list[str | None]:
        """getList, 1000 refs a call (the client chunks)."""
        return [
            str(read.record["internalId"]) if read.success and read.record is not None else None
            for read in self.netsuite.get_list(list(refs))
        ]

    def preview(self, record: NsRecord) -> dict[str, Any]:
        body: dict[str, Any] = {"recordType": record.record_type}
        if record.external_id:
            body["externalId"] = record.external_id
        if record.internal_id:
            body["internalId"] = record.internal_id
        body.update({k: _plain(v) for k, v in record.fields.items()})
        return body


def _plain(value: Any) -> Any:
    if isinstance(value, RecordRef):
        return {
            k: v
            for k, v in (
                ("internalId", value.internal_id),
                ("externalId", value.external_id),
                ("type", value.type),
                ("name", value.name),
            )
            if v is not None
        }
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
