"""Where a flow's records come from: the source adapters, which page records and write their statuses back.

The Integration Status lives on the source record (product.md 2). A source knows how to page its records for a
scope, how to write claims and outcomes (status, counterpart id, sync date, TTA) in its own batch size, and
nothing about the destination (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
import enum
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zns_sync.destinations import SYNC_DATE_FIELD
from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    STATUS_FIELD,
    TTA_FIELD,
    Flow,
    FlowContext,
    sync_date,
)
from zns_sync.flows.from_netsuite import NetSuiteFlow
from zns_sync.netsuite import LIMITS, CustomFieldCondition, NsRecord, OutcomeUnknownError
from zns_sync.status import IGNORE, SYNC_COMPLETE, TTA, Phase, Status
from zns_sync.zuora import ZuoraClient, zoql

ZUORA_UPDATE_BATCH = 50  # objects per /v1/action/update (zuora-rest.md section 5)
STATUS_WRITE_ATTEMPTS = 3  # a NetSuite status write whose answer was lost is sent again (absolute values)


class Scope(enum.Enum):
    """Which of a process's records a pass reads."""

    OPEN = "open"  # blank, in flight or error: what a run selects
    RECOVERY = "recovery"  # in flight or error: what `recover` selects
    ANY = "any"  # every record of the process whatever its progress: what `status` counts


@dataclass(frozen=True)
class StatusWrite:
    """What is written to one source record: its status and, with it, TTA, the counterpart id, the sync date."""

    source_id: str
    status: Status
    tta: TTA | None = None
    counterpart_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    also: tuple[str, ...] = ()  # other records of the source completed with this one (Plan.also)


@dataclass(frozen=True)
class Saved:
    """The source's word on one status write."""

    success: bool
    message: str = ""


class Source(ABC):
    """Records of one flow in the system that holds their Integration Status."""

    write_batch: int  # status writes per call

    def __init__(self, flow: Flow, context: FlowContext) -> None:
        self.flow = flow
        self.context = context

    @abstractmethod
    def pages(self, scope: Scope) -> Iterator[list[dict[str, Any]]]:
        """The flow's records in `scope`, a page at a time (each a dict with at least `Id`)."""

    @abstractmethod
    def write(self, writes: Sequence[StatusWrite]) -> list[Saved]:
        """Write statuses, one result per write in order; partial failure is data."""

    @abstractmethod
    def statuses(self) -> Iterator[tuple[str, Status, str]]:
        """(id, status, last update) of every record of the process."""


class ZuoraSource(Source):
    """Zuora objects read with ZOQL in 2000-row pages; statuses written with the action update, 50 a call."""

    write_batch = ZUORA_UPDATE_BATCH

    def __init__(self, flow: Flow, context: FlowContext) -> None:
        super().__init__(flow, context)
        self.zuora: ZuoraClient = context.zuora

    def _where(self, scope: Scope) -> list[list[zoql.Condition]] | None:
        own = self.flow.own_criteria()
        if scope is Scope.ANY:
            return [group for group in self.flow.scope() if group] or None
        unfinished = [zoql.ne(STATUS_FIELD, SYNC_COMPLETE), zoql.ne(STATUS_FIELD, IGNORE)]
        if scope is Scope.OPEN:
            # ZOQL's != never matches null (product.md 8): blanks are selected explicitly.
            status = [[zoql.is_null(STATUS_FIELD)], unfinished]
        else:
            status = [[zoql.not_null(STATUS_FIELD), *unfinished]]
        return [mine + theirs for mine in own for theirs in status]

    def pages(self, scope: Scope) -> Iterator[list[dict[str, Any]]]:
        query = zoql.select(self.flow.source_object, self.flow.fields, where=self._where(scope))
        return self.zuora.query_pages(query)

    def write(self, writes: Sequence[StatusWrite]) -> list[Saved]:
        objects = [self._render(w) for w in writes]
        return [Saved(r.success, r.message) for r in self.zuora.update(self.flow.source_object, objects)]

    @staticmethod
    def _render(write: StatusWrite) -> dict[str, Any]:
        update: dict[str, Any] = {"Id": write.source_id, STATUS_FIELD: write.status.text}
        if write.status.phase is Phase.COMPLETE:
            update[INTEGRATION_ID_FIELD] = write.counterpart_id
            update[SYNC_DATE_FIELD] = sync_date()
        if write.tta is not None:
            update[TTA_FIELD] = write.tta.value
        update.update(write.extra)
        return update

    def statuses(self) -> Iterator[tuple[str, Status, str]]:
        query = zoql.select(self.flow.source_object, ("Id", STATUS_FIELD, "UpdatedDate"), where=self._where(Scope.ANY))
        for row in self.zuora.query(query):
            yield row["Id"], self.flow.status_of(row), str(row.get("UpdatedDate", ""))


class NetSuiteSource(Source):
    """NetSuite records found with SuiteTalk search on the flow's custom fields (searchMoreWithId pages); statuses
    written to the same custom fields with updateList, 100 a call (product.md 3.1)."""

    write_batch = LIMITS["updateList"]

    def __init__(self, flow: Flow, context: FlowContext) -> None:
        if not isinstance(flow, NetSuiteFlow):
            raise TypeError(f"{flow.name} does not select NetSuite records")
        super().__init__(flow, context)
        self.search = flow.search()
        self.netsuite = context.netsuite

    def _status_conditions(self, scope: Scope) -> list[tuple[CustomFieldCondition, ...]]:
        """One search per alternative: basic search has no `or`. In flight or in error first, blank then, so that
        a record this pass claims never moves into a search not read yet."""
        status = self.search.status_field
        unfinished = (
            CustomFieldCondition(status, "notEmpty"),
            CustomFieldCondition(status, "isNot", SYNC_COMPLETE),
            CustomFieldCondition(status, "isNot", IGNORE),
        )
        if scope is Scope.ANY:
            return [()]
        if scope is Scope.OPEN:
            return [unfinished, (CustomFieldCondition(status, "empty"),)]
        return [unfinished]

    def _pages(self, status: Sequence[CustomFieldCondition], changing: bool) -> Iterator[list[dict[str, Any]]]:
        search = self.search
        for page in self.netsuite.search_pages(
            search.kind,
            custom_fields=[*search.conditions, *status],
            transaction_types=list(search.transaction_types) or None,
            criteria=search.criteria,
            body_fields_only=not search.sublists,
            last_page_first=changing,
        ):
            yield [{**record, "Id": str(record["internalId"])} for record in page]

    def pages(self, scope: Scope) -> Iterator[list[dict[str, Any]]]:
        # The pass changes the statuses it selects on: read each search from its last page (NetSuiteClient).
        for status in self._status_conditions(scope):
            yield from self._pages(status, changing=True)

    def write(self, writes: Sequence[StatusWrite]) -> list[Saved]:
        """updateList of the records' status fields; a record completed with others (`also`) is saved when they all
        are."""
        records: list[NsRecord] = []
        owners: list[int] = []
        for index, write in enumerate(writes):
            records.append(
                NsRecord(self.flow.source_object, self._render(write, own=True), internal_id=write.source_id)
            )
            owners.append(index)
            for other in write.also:
                records.append(
                    NsRecord(str(self.search.companion_type), self._render(write, own=False), internal_id=other)
                )
                owners.append(index)
        for attempt in range(STATUS_WRITE_ATTEMPTS):
            try:
                results = self.netsuite.update_list(records)
                break
            except OutcomeUnknownError:  # statuses are absolute values: the same update again is harmless
                if attempt == STATUS_WRITE_ATTEMPTS - 1:
                    raise
        saved = [Saved(True) for _ in writes]
        for owner, record, result in zip(owners, records, results, strict=True):
            if not result.success and saved[owner].success:
                saved[owner] = Saved(
                    False, f"{record.record_type} {record.internal_id}: {result.code}: {result.message}"
                )
        return saved

    def _render(self, write: StatusWrite, *, own: bool) -> dict[str, Any]:
        search = self.search
        fields: dict[str, Any] = {search.status_field: write.status.text}
        if write.status.phase is Phase.COMPLETE:
            fields[search.counterpart_field] = write.counterpart_id
            fields[search.sync_date_field] = dt.date.today()
            if own:
                fields.update(search.completion)
        return {"customFieldList": fields}

    def statuses(self) -> Iterator[tuple[str, Status, str]]:
        for page in self._pages((), changing=False):
            for row in page:
                yield row["Id"], self.flow.status_of(row), str(row.get("lastModifiedDate", ""))
