"""Where a flow's records come from: the source adapters, which page records and write their statuses back.

The Integration Status lives on the source record (product.md 2). A source knows how to page its records for a
scope, how to write claims and outcomes (status, counterpart id, sync date, TTA) in its own batch size, and
nothing about the destination (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    STATUS_FIELD,
    SYNC_DATE_FIELD,
    TTA_FIELD,
    Flow,
    FlowContext,
)
from zns_sync.status import IGNORE, SYNC_COMPLETE, TTA, Phase, Status
from zns_sync.zuora import MAX_REST_PAGE_SIZE, ZuoraClient, zoql

ZUORA_UPDATE_BATCH = 50  # objects per /v1/action/update (zuora-rest.md section 5)


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
            update[SYNC_DATE_FIELD] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if write.tta is not None:
            update[TTA_FIELD] = write.tta.value
        update.update(write.extra)
        return update

    def statuses(self) -> Iterator[tuple[str, Status, str]]:
        query = zoql.select(self.flow.source_object, ("Id", STATUS_FIELD, "UpdatedDate"), where=self._where(Scope.ANY))
        for row in self.zuora.query(query):
            yield row["Id"], self.flow.status_of(row), str(row.get("UpdatedDate", ""))


class ZuoraRestSource(ZuoraSource):
    """Zuora objects ZOQL refuses (Invoice Settlement memos), listed through REST 40 a page and written back through
    the bulk update, 50 a call (the flow's `rest_list`; zuora-rest.md section 7, the credit and debit memo OpenAPI).

    A list filters on equality of a few declared fields only: every alternative of the flow's criteria asks its
    list for the equalities it can, and each record read is checked against all of that alternative's conditions,
    so the records are those ZOQL would select.

    A list is not a snapshot, as a ZOQL cursor is: it pages by offset over what matches now, and a run changes what
    matches (a claim turns TTA No into Processing). So a pass first lists the Ids it selects, writing nothing, and
    then reads those records again by Id, 40 at a time, as it goes; the Ids are all it holds.
    """

    def __init__(self, flow: Flow, context: FlowContext) -> None:
        super().__init__(flow, context)
        if flow.rest_list is None:
            raise TypeError(f"flow {flow.name} declares no rest_list")
        self.rest = flow.rest_list

    def pages(self, scope: Scope) -> Iterator[list[dict[str, Any]]]:
        alternatives = self._where(scope) or [[]]
        selected = [row["Id"] for page in self._listed(alternatives) for row in page]
        read = functools.partial(self.zuora.memo, self.rest.resource)
        for start in range(0, len(selected), MAX_REST_PAGE_SIZE):
            ids = selected[start : start + MAX_REST_PAGE_SIZE]
            records = self.context.each(read, ids)
            rows = [self._row(records[i]) for i in ids]
            current = [r for r in rows if _meets(r, alternatives)]  # as it is now, not as it was listed
            if current:
                yield current

    def _listed(self, alternatives: Sequence[Sequence[zoql.Condition]]) -> Iterator[list[dict[str, Any]]]:
        """The records the alternatives select, each once, a list page at a time."""
        lists: dict[tuple[tuple[str, str | None], ...], list[Sequence[zoql.Condition]]] = {}
        for alternative in alternatives:
            lists.setdefault(self._filters(alternative), []).append(alternative)
        seen: set[str] = set()
        for filters, mine in lists.items():
            for page in self.zuora.memos(self.rest.resource, dict(filters)):
                rows = [r for r in map(self._row, page) if r["Id"] not in seen and _meets(r, mine)]
                seen.update(r["Id"] for r in rows)
                if rows:
                    yield rows

    def _filters(self, conditions: Sequence[zoql.Condition]) -> tuple[tuple[str, str | None], ...]:
        """The list's query parameters for the equalities among `conditions` it can filter on."""
        filters = {}
        for c in conditions:
            if c.op == "=" and c.field in self.rest.filters:
                value = c.value.isoformat() if isinstance(c.value, dt.date) else c.value
                filters[self.rest.fields[c.field]] = None if value is None else str(value)
        return tuple(sorted(filters.items()))

    def _row(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A REST record under the flow's field names; null fields left out, as ZOQL leaves them out."""
        return {name: record[rest] for name, rest in self.rest.fields.items() if record.get(rest) is not None}

    def write(self, writes: Sequence[StatusWrite]) -> list[Saved]:
        updates = [{self.rest.fields.get(k, k): v for k, v in self._render(w).items()} for w in writes]
        return [Saved(r.success, r.message) for r in self.zuora.update_memos(self.rest.resource, updates)]

    def statuses(self) -> Iterator[tuple[str, Status, str]]:
        for page in self._listed(self._where(Scope.ANY) or [[]]):  # nothing is written meanwhile: as listed
            for row in page:
                yield row["Id"], self.flow.status_of(row), str(row.get("UpdatedDate", ""))


def _meets(row: Mapping[str, Any], alternatives: Sequence[Sequence[zoql.Condition]]) -> bool:
    return any(all(c.holds_for(row) for c in alternative) for alternative in alternatives)
