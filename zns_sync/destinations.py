"""Where a flow's records go: the destination adapters the engine writes through.

A destination creates and updates records in batches, finds a record again by the key a flow gave it, says
which answers mean "it already exists" and which leave the outcome unknown, and gates its own requests with a
concurrency `Window`. The engine knows nothing else about it (docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zns_sync.netsuite import (
    LIMITS,
    SEARCH_KIND_OF,
    NetSuiteClient,
    NsRecord,
    OutcomeUnknownError,
    RecordRef,
    WriteResult,
)
from zns_sync.zuora import MAX_OBJECTS_PER_CALL, SaveResult, ZuoraClient, ZuoraError, zoql

WRITTEN, EXISTS, REFUSED, UNKNOWN = "written", "exists", "refused", "unknown"
# Zuora's `__NS` sync date: the time of an attempt, so never part of what makes two requests the same.
SYNC_DATE_FIELD = "SyncDate__NS"


@dataclass(frozen=True)
class Outcome:
    """The destination's word on one record of a batch write."""

    kind: str  # written, exists (a duplicate: look it up), refused (its data), unknown (say nothing of the record)
    counterpart_id: str | None = None
    message: str | None = None


class Window:
    """How many requests may be in flight: halves on a concurrency fault, grows back by one slowly. A request made
    inside `urgent()` (on the same thread) goes before the others waiting for a slot; one made `serving(key)` does
    not take the slots `reserve` keeps for the other keys."""

    def __init__(self, limit: int, grow_after: int = 8) -> None:
        self.limit = limit
        self.size = limit
        self._in_flight = 0
        self._urgent = 0  # urgent requests waiting for a slot
        self._successes = 0
        self._grow_after = grow_after
        self._cond = threading.Condition()
        self._local = threading.local()
        self._reserved: set[str] = set()  # keys with a slot kept until their first request (`reserve`)
        self.peak = 0
        self.throttles = 0

    def urgent(self) -> contextlib.AbstractContextManager[None]:
        """This thread's requests go first: what they answer holds up work that is not on the wire yet (NetSuite
        names a page's planning waits for), while a write waiting for a slot has its records ready."""
        return self._this_thread("urgent", True)

    def reserve(self, keys: Iterable[str]) -> None:
        """Keep a slot for each of these keys until its first request or `served(key)`: requests `serving` another
        key leave it free. Passes that share the window side by side (customers and items) do not take every slot
        while one of them still plans its first request, and so delay the types waiting for it."""
        with self._cond:
            self._reserved.update(keys)

    def served(self, key: str) -> None:
        """`key` needs its slot kept no more (its pass ended)."""
        with self._cond:
            self._reserved.discard(key)
            self._cond.notify_all()

    def serving(self, key: str) -> contextlib.AbstractContextManager[None]:
        """This thread's requests inside are made for `key` (a pass: `reserve`)."""
        return self._this_thread("key", key)

    @contextlib.contextmanager
    def _this_thread(self, name: str, value: object) -> Iterator[None]:
        """This thread's requests inside have `name` set to `value` (`urgent`, `serving`)."""
        before = getattr(self._local, name, None)
        setattr(self._local, name, value)
        try:
            yield
        finally:
            setattr(self._local, name, before)

    def __enter__(self) -> Window:
        urgent = bool(getattr(self._local, "urgent", None))
        key: str | None = getattr(self._local, "key", None)
        with self._cond:
            self._urgent += int(urgent)
            try:
                while self._in_flight >= self.size - self._kept(key) or (self._urgent and not urgent):
                    self._cond.wait()
            finally:
                if urgent:
                    self._urgent -= 1
                    self._cond.notify_all()  # those it held back may go, if a slot is left
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
            if key in self._reserved:
                self._reserved.discard(key)
                self._cond.notify_all()
        return self

    def _kept(self, key: str | None) -> int:
        """The slots a request for `key` leaves free: one per other key reserved (none for a request for no key: a
        NetSuite name, which the reserved pass may be waiting for), and never the window's last one: with one slot
        (`netsuite.concurrency: 1`, or a window halved to one by throttling) two passes side by side each kept it for
        the other, and neither ever sent."""
        kept = 0 if key is None else len(self._reserved) - (key in self._reserved)
        return min(kept, self.size - 1)

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
    def create(self, records: Sequence[Any]) -> Sequence[Outcome | None] | None:
        """One outcome per record, in order; None (for the batch, or for a record) when the answer was lost: the
        record may exist."""

    @abstractmethod
    def update(self, records: Sequence[Any]) -> list[Outcome] | None:
        """One outcome per record, in order; None when the answer was lost."""

    @abstractmethod
    def find(self, refs: Sequence[Any]) -> list[str | None]:
        """The id of each referenced record that exists, in order (None where it does not)."""

    def read(self, record_type: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """These fields of the records of a type with these ids, by id (those that exist): what a flow writes back
        of its counterparts (`Flow.write_back`). Offered by the destinations whose flows declare one."""
        raise NotImplementedError(f"{self.name} does not read counterparts' fields")

    @abstractmethod
    def preview(self, record: Any) -> dict[str, Any]:
        """A record as plain JSON-able data, for dry runs."""

    @abstractmethod
    def records(
        self, record_types: Sequence[str], *, key_prefix: str | None = None, ids: Sequence[str] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Records of these types a page at a time (`reconcile`): those whose key starts with `key_prefix`, or
        those with these ids (the ones that exist)."""


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

    def records(
        self, record_types: Sequence[str], *, key_prefix: str | None = None, ids: Sequence[str] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Basic search, body fields only, a page (up to 1000) at a time: by externalId prefix, or by internalId
        (1000 a search)."""
        (kind,) = {SEARCH_KIND_OF[t] for t in record_types}
        if ids is None:
            searches = [self.netsuite.search_pages(kind, criteria={"externalIdString": _starts_with(key_prefix)})]
        else:
            size = LIMITS["searchPageSize"]  # one page answers each search
            chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
            searches = [self.netsuite.search_pages(kind, internal_ids=chunk) for chunk in chunks]
        for pages in searches:
            for page in pages:
                yield [record for record in page if record.get("recordType") in record_types]

    def preview(self, record: NsRecord) -> dict[str, Any]:
        body: dict[str, Any] = {"recordType": record.record_type}
        if record.external_id:
            body["externalId"] = record.external_id
        if record.internal_id:
            body["internalId"] = record.internal_id
        body.update({k: _plain(v) for k, v in record.fields.items()})
        return body


def _starts_with(prefix: str | None) -> dict[str, Any]:
    if not prefix:
        raise ValueError("records() needs key_prefix or ids")
    return {"operator": "startsWith", "searchValue": prefix}


@dataclass(frozen=True)
class ZuoraRecord:
    """One Zuora object written: created or updated with the Actions (50 a call), or created through the REST
    operation `rest` where the Actions cannot (a payment with applications: `/v1/payments`)."""

    object_type: str
    fields: Mapping[str, Any]  # PascalCase for the Actions (with `Id` on updates); the REST body for `rest`
    rest: str | None = None


@dataclass(frozen=True)
class ZuoraRef:
    """How a Zuora object is found again: every field of `match` equal (its IntegrationId__NS; a contact's AccountId
    and Description)."""

    object_type: str
    match: tuple[tuple[str, Any], ...]


class ZuoraDestination(Destination):
    """Zuora through its REST API: creates one object a request (the Actions, or the REST create where the Actions
    cannot), updates with the Actions (50 a call).

    Zuora keeps no unique key of ours, so every record is looked up (by its back-reference, 200 values a query)
    before its first create, and each create carries an Idempotency-Key derived from the NetSuite record and the
    step (what it creates): sent again after a lost answer, or by a run on another host, it is replayed by Zuora,
    not repeated. One object a request, because a key covers a request: two hosts that cut their batches
    differently would each create what the other's batch was still creating. A key still in flight (409) leaves its
    record's outcome unknown; a lost answer is looked up. `window` creates are on the wire at once.
    """

    name = "Zuora"
    lookup_before_create = True
    create_batch = update_batch = MAX_OBJECTS_PER_CALL

    def __init__(self, zuora: ZuoraClient, window: Window) -> None:
        self.zuora = zuora
        self.window = window
        self._senders = ThreadPoolExecutor(window.limit, thread_name_prefix="zuora-create")

    def close(self) -> None:
        """Stop the create threads."""
        self._senders.shutdown()

    def create(self, records: Sequence[ZuoraRecord]) -> list[Outcome | None]:
        return list(self._senders.map(self._create, records))

    def _create(self, record: ZuoraRecord) -> Outcome | None:
        key = idempotency_key(record)
        try:
            with self.window:
                if record.rest is not None:
                    result = self.zuora.rest_create(record.rest, record.fields, idempotency_key=key)
                else:
                    [result] = self.zuora.create(record.object_type, [record.fields], idempotency_key=key)
        except ZuoraError as exc:  # not ZuoraAuthError: that one aborts the pass
            return _unanswered(exc)
        return _outcome(result)

    def update(self, records: Sequence[ZuoraRecord]) -> list[Outcome] | None:
        outcomes: list[Outcome] = []
        types = dict.fromkeys(r.object_type for r in records)
        by_type = {t: [r.fields for r in records if r.object_type == t] for t in types}
        results: dict[str, list[SaveResult]] = {}
        try:
            for object_type, objects in by_type.items():
                with self.window:
                    results[object_type] = self.zuora.update(object_type, objects)
        except ZuoraError:
            return None  # the answer was lost or refused as a whole: an update carries absolute values, resend it
        for record in records:
            outcomes.append(_outcome(results[record.object_type].pop(0)))
        return outcomes

    def find(self, refs: Sequence[ZuoraRef]) -> list[str | None]:
        """ZOQL by the first match field (200 values a query), the other fields compared here."""
        groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
        for index, ref in enumerate(refs):
            groups.setdefault((ref.object_type, tuple(name for name, _ in ref.match)), []).append(index)
        found: list[str | None] = [None] * len(refs)
        for (object_type, names), indexes in groups.items():
            selected = tuple(dict.fromkeys(("Id", *names)))
            values = [refs[i].match[0][1] for i in indexes]
            ids: dict[tuple[str, ...], str] = {}
            for query in zoql.select_in(object_type, selected, names[0], values):
                with self.window:
                    rows = list(self.zuora.query(query))
                for row in sorted(rows, key=lambda r: str(r["Id"])):
                    ids.setdefault(tuple(str(row.get(name)) for name in names), str(row["Id"]))
            for index in indexes:
                found[index] = ids.get(tuple(str(value) for _, value in refs[index].match))
        return found

    def read(self, record_type: str, ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        """ZOQL by Id, 200 ids a query."""
        found: dict[str, dict[str, Any]] = {}
        for query in zoql.select_in(record_type, tuple(dict.fromkeys(("Id", *fields))), "Id", sorted(set(ids))):
            with self.window:
                found.update((str(row["Id"]), row) for row in self.zuora.query(query))
        return found

    def records(
        self, record_types: Sequence[str], *, key_prefix: str | None = None, ids: Sequence[str] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Not offered: the Zuora records zns-sync creates carry no key of ours to list them by (`reconcile` leaves
        the NetSuite -> Zuora types out)."""
        raise NotImplementedError("reconcile does not compare Zuora records (NetSuite -> Zuora types)")

    def preview(self, record: ZuoraRecord) -> dict[str, Any]:
        operation = f"POST {record.rest}" if record.rest else ("update" if "Id" in record.fields else "create")
        return {"objectType": record.object_type, "operation": operation, **_plain(dict(record.fields))}


def idempotency_key(record: ZuoraRecord) -> str:
    """The Idempotency-Key of a create: a digest of what it creates (the NetSuite record's step: its back-reference
    and its data), the sync date left out. The same step of the same record gets the same key, whoever sends it;
    a record a person corrected gets a new one (Zuora keeps an answer for 24 hours, refusals too)."""
    fields = {k: _plain(v) for k, v in record.fields.items() if k != SYNC_DATE_FIELD}
    digest = hashlib.sha256(json.dumps([record.object_type, record.rest, fields], sort_keys=True).encode())
    return f"zns-sync-{digest.hexdigest()}"


def _outcome(result: SaveResult) -> Outcome:
    if result.success:
        return Outcome(WRITTEN, result.id)
    return Outcome(REFUSED, None, result.message)


def _unanswered(error: ZuoraError) -> Outcome | None:
    """A request Zuora did not answer for its records: still in flight under its key (409: the outcome is unknown),
    lost or failing (None: look the records up), or refused as a whole (4xx: its data)."""
    if error.status == 409:
        return Outcome(UNKNOWN, None, f"Zuora is still processing the same request (409): {error}")
    if error.status is None or error.status == 429 or error.status >= 500:
        return None
    return Outcome(REFUSED, None, str(error))


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
