"""Where a flow's records come from: the source adapters, which page records and write their statuses back.

The Integration Status lives on the source record (product.md 2). A source knows how to page its records for a
scope, how to write claims and outcomes (status, counterpart id, sync date, TTA) in its own batch size, and
nothing about the destination (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from zns_sync.destinations import SYNC_DATE_FIELD, Destination
from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    STATUS_FIELD,
    TTA_FIELD,
    Flow,
    FlowContext,
    sync_date,
)
from zns_sync.flows.from_netsuite import NetSuiteFlow, text
from zns_sync.netsuite import LIMITS, CustomFieldCondition, NsRecord, OutcomeUnknownError
from zns_sync.status import IGNORE, SYNC_COMPLETE, TTA, Phase, Status
from zns_sync.zuora import MAX_REST_PAGE_SIZE, ZuoraClient, ZuoraError, zoql

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


def with_counterpart_fields(flow: Flow, destination: Destination, writes: list[StatusWrite]) -> list[StatusWrite]:
    """The completions with the fields of their counterparts the flow writes back (`Flow.write_back`: a
    subscription's number), read from the destination in one go, however the counterparts became known (created,
    found after a lost answer, found by the lookup before create, linked by `resync`)."""
    wanted = flow.write_back()
    ids = [w.counterpart_id for w in writes if w.status.phase is Phase.COMPLETE and w.counterpart_id]
    if wanted is None or not ids:
        return writes
    found = destination.read(wanted.object_type, ids, tuple(wanted.fields.values()))
    completed = []
    for write in writes:
        record = found.get(write.counterpart_id or "") if write.status.phase is Phase.COMPLETE else None
        if record is not None:
            values = {field: record[name] for field, name in wanted.fields.items() if record.get(name) is not None}
            write = replace(write, extra={**write.extra, **values})
        completed.append(write)
    return completed


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
    # How many records the pages being read hold in all, once the first page is read; None: the source did not say.
    expected: int | None = None

    def __init__(self, flow: Flow, context: FlowContext) -> None:
        self.flow = flow
        self.context = context

    @abstractmethod
    def pages(self, scope: Scope, since: dt.date | None = None) -> Iterator[list[dict[str, Any]]]:
        """The flow's records in `scope`, a page at a time (each a dict with at least `Id`); with `since`, only
        those dated (the flow's `date_field`) on or after it."""

    @abstractmethod
    def modified(self, since: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        """The flow's `Sync Complete` records (`modified_criteria`) whose `modified_field` is after `since`, a page
        at a time (sync.new_and_modified)."""

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
        statuses = _status_conditions(scope, self.flow)
        return [mine + theirs + dated for mine in self.flow.own_criteria() for theirs in statuses]

    def lookup(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self.context.zuora_by_id(self.flow.source_object, self.flow.selected_fields(), ids)

    def find(self, key: str) -> dict[str, Any] | None:
        alternatives = [[zoql.eq("Id", key)]]
        if self.flow.number_field:
            alternatives.append([zoql.eq(self.flow.number_field, key)])
        query = zoql.select(self.flow.source_object, self.flow.selected_fields(), where=alternatives)
        return next(iter(self.zuora.query(query)), None)

    def outside(self, row: Mapping[str, Any]) -> str | None:
        groups = self._where(Scope.ANY) or []
        if not groups or any(all(c.matches(row) for c in group) for group in groups):
            return None
        unmet = [c for c in groups[0] if not c.matches(row)]
        return "; ".join(f"{c} does not hold ({c.field} is {row.get(c.field) or 'null'})" for c in unmet)

    def rules(self, row: Mapping[str, Any]) -> list[Rule]:
        status = _status_conditions(Scope.OPEN, self.flow)
        wanted = (
            "Sync Complete, or this process's in flight or error"
            if self.flow.follows
            else "blank, in flight or in error"
        )
        found = [
            Rule(
                f"Integration Status is {wanted}: " + " or ".join(" and ".join(map(str, group)) for group in status),
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
        query = zoql.select(self.flow.source_object, self.flow.selected_fields(), where=self._where(scope, since))
        for page in self.zuora.query_pages(query):
            self.expected = page.size  # the records the query matches (Zuora's `size`, with every page)
            yield page

    def modified(self, since: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        field = self.flow.modified_field
        if field is None:
            raise TypeError(f"flow {self.flow.name} declares no modified_field")
        after = [zoql.eq(STATUS_FIELD, SYNC_COMPLETE), zoql.gt(field, since)]
        where = [group + after for group in self.flow.modified_criteria()]
        return self.zuora.query_pages(zoql.select(self.flow.source_object, self.flow.selected_fields(), where=where))

    def write(self, writes: Sequence[StatusWrite]) -> list[Saved]:
        objects = [self._render(w) for w in writes]
        return [Saved(r.success, r.message) for r in self.zuora.update(self.flow.source_object, objects)]

    def _render(self, write: StatusWrite) -> dict[str, Any]:
        """The update of one record; None values are cleared (fieldsToNull)."""
        update: dict[str, Any] = {"Id": write.source_id, STATUS_FIELD: write.status.text}
        if write.status.phase is Phase.COMPLETE and self.flow.follows is None:
            # A follow-up leaves the counterpart id and the sync date (the first sync's, reference 5.1) as they are.
            update[INTEGRATION_ID_FIELD] = write.counterpart_id
            update[SYNC_DATE_FIELD] = sync_date()
        elif write.counterpart_id is not None:  # a step after the create failed: the record exists (custom fields)
            update[INTEGRATION_ID_FIELD] = write.counterpart_id
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


def _status_conditions(scope: Scope, flow: Flow) -> list[list[zoql.Condition]]:
    """The statuses a scope selects, as alternatives of ZOQL conditions.

    A follow-up process (`Flow.follows`) selects what another process completed and what it left in its own
    statuses; recovery only the latter. Never a blank record: the other process has not synced it.
    """
    if flow.follows is not None:
        own = [[zoql.eq(STATUS_FIELD, status.text)] for step in flow.steps for status in (step.in_flight, step.failed)]
        return own if scope is Scope.RECOVERY else [[zoql.eq(STATUS_FIELD, SYNC_COMPLETE)], *own]
    unfinished = [zoql.ne(STATUS_FIELD, SYNC_COMPLETE), zoql.ne(STATUS_FIELD, IGNORE)]
    if scope is Scope.OPEN:
        # ZOQL's != never matches null (product.md 8): blanks are selected explicitly.
        return [[zoql.is_null(STATUS_FIELD)], unfinished]
    return [[zoql.not_null(STATUS_FIELD), *unfinished]]


# A REST list's query parameters: equalities (None asks for an empty field).
_Filters = tuple[tuple[str, str | None], ...]
# The rows a memo pass keeps as its lists gave them (about 1.5 KB each); beyond, it keeps their Ids and reads them
# again by Id as it goes (`ZuoraRestSource`). A read by Id was one of a debit memo's two REST calls.
MAX_LISTED_ROWS = 2_000


class ZuoraRestSource(ZuoraSource):
    """Zuora objects ZOQL refuses (Invoice Settlement memos), listed through REST 40 a page and written back through
    the bulk update, 50 a call (the flow's `rest_list`; zuora-rest.md section 7, the credit and debit memo OpenAPI).

    A list filters on equality of a few declared fields only: every alternative of the flow's criteria asks its
    list for the equalities it can, and each record read is checked against all of that alternative's conditions,
    so the records are those ZOQL would select.

    A list is not a snapshot, as a ZOQL cursor is: it pages by offset over what matches now, and a run changes what
    matches (a claim turns TTA No into Processing). So a pass first lists what it selects, writing nothing, and then
    writes from the rows as listed, as a ZOQL pass writes from its pages. It keeps the first MAX_LISTED_ROWS rows
    and only the Ids of the rest, which it reads again by Id, 40 at a time, as it goes: memory stays flat.
    """

    def __init__(self, flow: Flow, context: FlowContext) -> None:
        super().__init__(flow, context)
        if flow.rest_list is None:
            raise TypeError(f"flow {flow.name} declares no rest_list")
        self.rest = flow.rest_list

    def pages(self, scope: Scope, since: dt.date | None = None) -> Iterator[list[dict[str, Any]]]:
        alternatives = self._where(scope, since) or [[]]
        selected = self._selected(alternatives)
        self.expected = len(selected)
        for start in range(0, len(selected), MAX_REST_PAGE_SIZE):
            listed = dict(selected[start : start + MAX_REST_PAGE_SIZE])
            again = self.lookup([memo_id for memo_id, row in listed.items() if row is None])
            rows = [row or again[memo_id] for memo_id, row in listed.items()]
            current = [row for row in rows if _meets(row, alternatives)]
            if current:
                yield current

    def lookup(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        read = functools.partial(self.zuora.memo, self.rest.resource)
        return {memo_id: self._row(record) for memo_id, record in self.context.each(read, ids).items()}

    def find(self, key: str) -> dict[str, Any] | None:
        try:
            return self._row(self.zuora.memo(self.rest.resource, key))  # by Id or number (GET_CreditMemo)
        except ZuoraError as exc:
            if exc.status == 404 or exc.code == "50000040":
                return None
            raise

    def _lists(
        self, alternatives: Sequence[Sequence[zoql.Condition]]
    ) -> dict[_Filters, list[Sequence[zoql.Condition]]]:
        """The lists to read (their query parameters) and the alternatives each serves."""
        lists: dict[_Filters, list[Sequence[zoql.Condition]]] = {}
        for alternative in alternatives:
            lists.setdefault(self._filters(alternative), []).append(alternative)
        return lists

    def _selected(self, alternatives: Sequence[Sequence[zoql.Condition]]) -> list[tuple[str, dict[str, Any] | None]]:
        """The records the alternatives select, each once, by Id: the first MAX_LISTED_ROWS listed with their rows,
        the others with None (`pages` reads them again by Id). The lists are read at the same time, several pages
        of each at once."""
        kept = itertools.count()  # rows kept over all lists (its next() is atomic under the GIL)

        def listed(filters: _Filters, mine: list[Sequence[zoql.Condition]]) -> list[tuple[str, dict[str, Any] | None]]:
            rows = (r for page in self._list(filters) for r in map(self._row, page) if _meets(r, mine))
            return [(r["Id"], r if next(kept) < MAX_LISTED_ROWS else None) for r in rows]

        lists = self.context.concurrently(
            *(functools.partial(listed, f, m) for f, m in self._lists(alternatives).items())
        )
        selected: dict[str, dict[str, Any] | None] = {}
        for found in lists:
            for memo_id, row in found:
                if selected.get(memo_id) is None:
                    selected[memo_id] = row
        return list(selected.items())

    def _listed(self, alternatives: Sequence[Sequence[zoql.Condition]]) -> Iterator[list[dict[str, Any]]]:
        """The records the alternatives select, each once, a list page at a time."""
        seen: set[str] = set()
        for filters, mine in self._lists(alternatives).items():
            for page in self._list(filters):
                rows = [r for r in map(self._row, page) if r["Id"] not in seen and _meets(r, mine)]
                seen.update(r["Id"] for r in rows)
                if rows:
                    yield rows

    def _list(self, filters: _Filters) -> Iterator[list[dict[str, Any]]]:
        """One list's pages, several read at once (`FlowContext.paged`): nothing is written while a list is read."""
        return self.context.paged(functools.partial(self.zuora.memo_page, self.rest.resource, dict(filters)))

    def _filters(self, conditions: Sequence[zoql.Condition]) -> _Filters:
        """The list's query parameters for the equalities among `conditions` it can filter on."""
        filters = {}
        for c in conditions:
            if c.op == "=" and c.field in self.rest.filters:
                value = c.value.isoformat() if isinstance(c.value, dt.date) else c.value
                filters[self.rest.fields[c.field]] = None if value is None else str(value)
        return tuple(sorted(filters.items()))

    def _row(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A REST record under the flow's field names, and the custom fields custom field sync reads (named alike in
        REST); null fields left out, as ZOQL leaves them out."""
        names = {**self.rest.fields, **{c.zuora: c.zuora for c in self.flow.custom_fields}}
        return {name: record[rest] for name, rest in names.items() if record.get(rest) is not None}

    def write(self, writes: Sequence[StatusWrite]) -> list[Saved]:
        updates = [{self.rest.fields.get(k, k): v for k, v in self._render(w).items()} for w in writes]
        return [Saved(r.success, r.message) for r in self.zuora.update_memos(self.rest.resource, updates)]

    def statuses(self) -> Iterator[Progress]:
        flow = self.flow
        for page in self._listed(self._where(Scope.ANY) or [[]]):  # nothing is written meanwhile: as listed
            for row in page:
                yield Progress(row["Id"], flow.number_of(row), flow.status_of(row), str(row.get("UpdatedDate", "")))


def _meets(row: Mapping[str, Any], alternatives: Sequence[Sequence[zoql.Condition]]) -> bool:
    return any(all(c.matches(row) for c in alternative) for alternative in alternatives)


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

    def _pages(
        self,
        status: Sequence[CustomFieldCondition],
        changing: bool,
        *,
        internal_ids: Sequence[str] | None = None,
        criteria: Mapping[str, Any] | None = None,
        own: bool = True,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of the search's records in a status; without `own`, of every record of its kind and transaction
        type, whatever the search's own conditions (`lookup`, `find`: `outside` says why one is not covered)."""
        search = self.search
        for page in self.netsuite.search_pages(
            search.kind,
            internal_ids=internal_ids,
            custom_fields=[*(search.conditions if own else ()), *status],
            transaction_types=list(search.transaction_types) or None,
            criteria={**(search.criteria if own else {}), **(criteria or {})},
            body_fields_only=not search.sublists,
            last_page_first=changing,
        ):
            yield [{**record, "Id": str(record["internalId"])} for record in page]

    def pages(self, scope: Scope, since: dt.date | None = None) -> Iterator[list[dict[str, Any]]]:
        # The pass changes the statuses it selects on: read each search from its last page (NetSuiteClient).
        # `since` is applied to the records read (the flow's date_field): basic search dates vary by record type.
        for status in self._status_conditions(scope):
            for page in self._pages(status, changing=scope is not Scope.ANY):
                dated = [row for row in page if self._since(row, since)]
                if dated:
                    yield dated

    def modified(self, since: dt.datetime) -> Iterator[list[dict[str, Any]]]:
        # The pass writes nothing to these records (updates go to Zuora, statuses stay): read first page first.
        field = self.flow.modified_field
        if field is None:
            raise TypeError(f"flow {self.flow.name} declares no modified_field")
        complete = (CustomFieldCondition(self.search.status_field, "is", SYNC_COMPLETE),)
        after = {field: {"operator": "after", "searchValue": since}}
        return self._pages(complete, changing=False, criteria=after)

    def _since(self, row: Mapping[str, Any], since: dt.date | None) -> bool:
        if since is None or not self.flow.date_field:
            return True
        value = row.get(self.flow.date_field)
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value[:10])
            except ValueError:
                return True
        return not isinstance(value, dt.date) or value >= since

    def lookup(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The records of the search's kind with these internalIds (1000 a search), whatever their progress."""
        wanted = list(dict.fromkeys(str(i) for i in ids if i))
        size = LIMITS["searchPageSize"]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), size):
            for page in self._pages((), False, internal_ids=wanted[start : start + size], own=False):
                found.update((row["Id"], row) for row in page)
        return found

    def find(self, key: str) -> dict[str, Any] | None:
        """By internalId, else by the document number (tranId, entityId) among the search's records."""
        if key.isdigit() and (row := self.lookup([key]).get(key)) is not None:
            return row
        number = self.flow.number_field
        if not number:
            return None
        for page in self._pages((), False, criteria={number: {"operator": "is", "searchValue": key}}, own=False):
            for row in page:
                if str(row.get(number) or "") == key:
                    return row
        return None

    def outside(self, row: Mapping[str, Any]) -> str | None:
        unmet = [r.rule for r in self._condition_rules(row) if not r.met]
        return "; ".join(f"{rule} does not hold" for rule in unmet) or None

    def rules(self, row: Mapping[str, Any]) -> list[Rule]:
        status = self.flow.status_of(row)
        met = status.phase is not Phase.COMPLETE and status.text != IGNORE
        found = [
            Rule(
                f"Integration Status ({self.search.status_field}) is blank, in flight or in error",
                status.text or "blank",
                met,
            )
        ]
        return found + self._condition_rules(row)

    def _condition_rules(self, row: Mapping[str, Any]) -> list[Rule]:
        """The search's own conditions as a person reads them; what SuiteTalk compares the record does here."""
        found: list[Rule] = []
        search = self.search
        if search.transaction_types:
            seen = str(row.get("recordType") or self.flow.source_object)
            wanted = {t.lstrip("_").lower() for t in search.transaction_types}
            found.append(Rule(f"type is {', '.join(search.transaction_types)}", seen, seen.lower() in wanted))
        custom = row.get("customFieldList") or {}
        for c in search.conditions:
            value = custom.get(c.script_id)
            seen = text(value)
            found.append(Rule(_condition_text(c), seen or "blank", _condition_met(c, value)))
        for name, criterion in search.criteria.items():
            wanted_value = criterion.get("searchValue") if isinstance(criterion, Mapping) else criterion
            value = row.get(name)
            met = (
                str(value).lower() == str(wanted_value).lower()
                if not isinstance(wanted_value, list)
                else (value in wanted_value)
            )
            if name == "isInactive":
                met = bool(value or False) == bool(wanted_value)
            found.append(Rule(f"{name} is {wanted_value}", "null" if value in (None, "") else str(value), met))
        return found

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
                fields.update(write.extra)  # the counterpart's fields the flow writes back (Flow.write_back)
        if write.status.phase is Phase.NEW:  # a reset (`resync`): its counterpart forgotten, and what it wrote back
            fields[search.counterpart_field] = ""
            wanted = self.flow.write_back()
            fields.update(dict.fromkeys(wanted.fields if wanted is not None else (), ""))
        return {"customFieldList": fields}

    def statuses(self) -> Iterator[Progress]:
        flow = self.flow
        for page in self._pages((), changing=False):
            for row in page:
                updated = str(row.get("lastModifiedDate", ""))
                yield Progress(row["Id"], flow.number_of(row), flow.status_of(row), updated)


def _condition_text(c: CustomFieldCondition) -> str:
    if isinstance(c.value, bool):
        return f"{c.script_id} is {'checked' if c.value else 'not checked'}"
    if c.operator in ("empty", "notEmpty"):
        return f"{c.script_id} is {'blank' if c.operator == 'empty' else 'not blank'}"
    return f"{c.script_id} {c.operator} {c.value!r}"


def _condition_met(c: CustomFieldCondition, value: Any) -> bool:
    """Whether a custom field's value meets a search condition, as the SuiteTalk search compares it."""
    if isinstance(c.value, bool):
        return bool(value or False) == c.value
    seen, wanted = text(value).lower(), str(c.value or "").lower()
    return {
        "is": seen == wanted,
        "isNot": seen != wanted,
        "empty": seen == "",
        "notEmpty": seen != "",
        "startsWith": seen.startswith(wanted),
        "doesNotStartWith": not seen.startswith(wanted),
        "contains": wanted in seen,
        "doesNotContain": wanted not in seen,
    }.get(c.operator, True)
