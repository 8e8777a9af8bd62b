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

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    STATUS_FIELD,
    SYNC_DATE_FIELD,
    TTA_FIELD,
    Flow,
    FlowContext,
)
from zns_sync.status import IGNORE, SYNC_COMPLETE, TTA, Phase, Status
from zns_sync.zuora import ZuoraClient, zoql

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
class Progress:
    """Where one source record stands: its status, and when the record last changed."""

    source_id: str
    number: str | None
    status: Status
    updated: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for --json."""
        return {"source_id": self.source_id, "number": self.number, "status": self.status.text, "updated": self.updated}


@dataclass(frozen=True)
class Rule:
    """One selection rule, as a person reads it, and whether a record meets it."""

    rule: str
    seen: str  # what the record holds
    met: bool


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
    def pages(self, scope: Scope, since: dt.date | None = None) -> Iterator[list[dict[str, Any]]]:
        """The flow's records in `scope`, a page at a time (each a dict with at least `Id`); with `since`, only
        those dated (the flow's `date_field`) on or after it."""

    @abstractmethod
    def lookup(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The flow's records with these ids, by id, whatever their progress (the flow's fields)."""

    @abstractmethod
    def write(self, writes: Sequence[StatusWrite]) -> list[Saved]:
        """Write statuses, one result per write in order; partial failure is data."""

    @abstractmethod
    def statuses(self) -> Iterator[Progress]:
        """Where every record of the process stands."""

    @abstractmethod
    def find(self, key: str) -> dict[str, Any] | None:
        """The record whose id or document number is `key`, with the flow's fields, whatever its progress."""

    @abstractmethod
    def outside(self, row: Mapping[str, Any]) -> str | None:
        """Why the process does not cover the record (`Scope.ANY`: voided, canceled...), or None when it does."""

    @abstractmethod
    def rules(self, row: Mapping[str, Any]) -> list[Rule]:
        """The rules `pages(Scope.OPEN)` selects by, each as `row` meets it or not (`explain`)."""


class ZuoraSource(Source):
    """Zuora objects read with ZOQL in 2000-row pages; statuses written with the action update, 50 a call."""

    write_batch = ZUORA_UPDATE_BATCH

    def __init__(self, flow: Flow, context: FlowContext) -> None:
        super().__init__(flow, context)
        self.zuora: ZuoraClient = context.zuora

    def _where(self, scope: Scope, since: dt.date | None = None) -> list[list[zoql.Condition]] | None:
        dated = [zoql.ge(self.flow.date_field, since)] if since is not None and self.flow.date_field else []
        if scope is Scope.ANY:
            return [group + dated for group in self.flow.scope() if group + dated] or None
        return [mine + theirs + dated for mine in self.flow.own_criteria() for theirs in _status_conditions(scope)]

    def lookup(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self.context.zuora_by_id(self.flow.source_object, self.flow.fields, ids)

    def find(self, key: str) -> dict[str, Any] | None:
        alternatives = [[zoql.eq("Id", key)]]
        if self.flow.number_field:
            alternatives.append([zoql.eq(self.flow.number_field, key)])
        query = zoql.select(self.flow.source_object, self.flow.fields, where=alternatives)
        return next(iter(self.zuora.query(query)), None)

    def outside(self, row: Mapping[str, Any]) -> str | None:
        groups = self._where(Scope.ANY) or []
        if not groups or any(all(c.matches(row) for c in group) for group in groups):
            return None
        unmet = [c for c in groups[0] if not c.matches(row)]
        return "; ".join(f"{c} does not hold ({c.field} is {row.get(c.field) or 'null'})" for c in unmet)

    def rules(self, row: Mapping[str, Any]) -> list[Rule]:
        status = _status_conditions(Scope.OPEN)
        found = [
            Rule(
                "Integration Status is blank, in flight or in error: "
                + " or ".join(" and ".join(map(str, group)) for group in status),
                self.flow.status_of(row).text or "blank",
                any(all(c.matches(row) for c in group) for group in status),
            )
        ]
        # The process's own criteria are alternatives of conjunctions; a person reads them field by field.
        by_field: dict[str, list[zoql.Condition]] = {}
        for group in self.flow.own_criteria():
            for condition in group:
                if condition not in by_field.setdefault(condition.field, []):
                    by_field[condition.field].append(condition)
        for name, conditions in by_field.items():
            rule = f"{name} " + " or ".join(f"{c.op} {zoql.literal(c.value)}" for c in conditions)
            note = self.flow.rule_note(name)
            seen = row.get(name)
            met = any(c.matches(row) for c in conditions)
            found.append(Rule(f"{rule} ({note})" if note else rule, "null" if seen in (None, "") else str(seen), met))
        return found

    def pages(self, scope: Scope, since: dt.date | None = None) -> Iterator[list[dict[str, Any]]]:
        query = zoql.select(self.flow.source_object, self.flow.fields, where=self._where(scope, since))
        return self.zuora.query_pages(query)

    def write(self, writes: Sequence[StatusWrite]) -> list[Saved]:
        objects = [self._render(w) for w in writes]
        return [Saved(r.success, r.message) for r in self.zuora.update(self.flow.source_object, objects)]

    def _render(self, write: StatusWrite) -> dict[str, Any]:
        """The update of one record; None values are cleared (fieldsToNull)."""
        update: dict[str, Any] = {"Id": write.source_id, STATUS_FIELD: write.status.text}
        if write.status.phase is Phase.COMPLETE:
            update[INTEGRATION_ID_FIELD] = write.counterpart_id
            update[SYNC_DATE_FIELD] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if write.status.phase is Phase.NEW:  # a reset (`resync`): the record is new again, its counterpart forgotten
            update[INTEGRATION_ID_FIELD] = update[SYNC_DATE_FIELD] = None
            if self.flow.transactional:
                update[TTA_FIELD] = None  # null reads as No; Zuora takes no `No` (product.md 8)
        if write.tta is not None:
            update[TTA_FIELD] = write.tta.value
        update.update(write.extra)
        return update

    def statuses(self) -> Iterator[Progress]:
        number = (self.flow.number_field,) if self.flow.number_field else ()
        fields = ("Id", *number, STATUS_FIELD, "UpdatedDate")
        for row in self.zuora.query(zoql.select(self.flow.source_object, fields, where=self._where(Scope.ANY))):
            flow = self.flow
            yield Progress(row["Id"], flow.number_of(row), flow.status_of(row), str(row.get("UpdatedDate", "")))


def _status_conditions(scope: Scope) -> list[list[zoql.Condition]]:
    """The statuses a scope selects, as alternatives of ZOQL conditions."""
    unfinished = [zoql.ne(STATUS_FIELD, SYNC_COMPLETE), zoql.ne(STATUS_FIELD, IGNORE)]
    if scope is Scope.OPEN:
        # ZOQL's != never matches null (product.md 8): blanks are selected explicitly.
        return [[zoql.is_null(STATUS_FIELD)], unfinished]
    return [[zoql.not_null(STATUS_FIELD), *unfinished]]
