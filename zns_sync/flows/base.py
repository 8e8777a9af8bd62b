"""What every record flow declares, and the context it is given.

A flow says *what*: the Zuora object and fields it selects, its selection rules, its status nouns, and how a
page of source records maps to NetSuite records. The engine says *how* (claims, batches, concurrency,
recovery, logging).
"""

from __future__ import annotations

import datetime as dt
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from zns_sync.config import Settings
from zns_sync.netsuite import NetSuiteClient, NsRecord, RecordRef, record_type_enum
from zns_sync.status import Action, Phase, Status
from zns_sync.status import parse as parse_status
from zns_sync.zuora import ZuoraClient, zoql

STATUS_FIELD = "IntegrationStatus__NS"
# Zuora lookups (accounts, lines, charges of a page) in flight at once; far below Zuora's concurrency limits.
ZUORA_LOOKUP_THREADS = 4
INTEGRATION_ID_FIELD = "IntegrationId__NS"
SYNC_DATE_FIELD = "SyncDate__NS"
TTA_FIELD = "TransferredToAccounting"


@dataclass(frozen=True)
class Plan:
    """What a run will do with one selected source record."""

    source_id: str
    status_before: Status
    action: Action  # CREATING (add) or LINKING (update an existing NetSuite record)
    noun: str  # the status noun: "Customer", "Item", "Invoice", "Credit Memo"
    record: NsRecord  # sent with addList (create) or updateList (link)
    ref: RecordRef  # how to find the NetSuite record again: by externalId, or internalId when linking
    amount: Decimal | None = None  # transactions: the Zuora amount, for the summary

    @property
    def in_flight(self) -> Status:
        return Status(Phase.IN_FLIGHT, self.action, self.noun)

    @property
    def failed(self) -> Status:
        return Status(Phase.ERROR, self.action, self.noun)


@dataclass(frozen=True)
class Refusal:
    """A selected record that cannot sync now: blocked on a dependency, or skipped on its own data."""

    source_id: str
    status_before: Status
    outcome: str  # "blocked" or "skipped"
    reason: str


@dataclass(frozen=True)
class Excluded:
    """A record the query returned but a rule ZOQL cannot express excludes (a parent's field): not selected."""

    source_id: str
    reason: str


@dataclass
class FlowContext:
    """What a flow may use: settings, both clients, and lookups cached for the run."""

    settings: Settings
    zuora: ZuoraClient
    netsuite: NetSuiteClient
    _cache: dict[str, dict[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(ZUORA_LOOKUP_THREADS, thread_name_prefix="zuora-lookup")
    )
    # A separate pool for `concurrently`: its tasks wait on `_pool`, so sharing one could starve it.
    _gather_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(ZUORA_LOOKUP_THREADS, thread_name_prefix="zuora-gather")
    )

    def close(self) -> None:
        self._pool.shutdown()
        self._gather_pool.shutdown()

    def concurrently(self, *lookups: Callable[[], Any]) -> list[Any]:
        """The results of independent lookups, run at the same time."""
        return [future.result() for future in [self._gather_pool.submit(lookup) for lookup in lookups]]

    def query_all(self, queries: Iterable[str]) -> list[dict[str, Any]]:
        """The rows of several ZOQL queries, run a few at a time (an id list split at 200 conditions)."""
        return [row for rows in self._pool.map(lambda q: list(self.zuora.query(q)), queries) for row in rows]

    def external_id(self, kind: str, zuora_id: str) -> str:
        """The deterministic externalId of the NetSuite counterpart of a Zuora record (product.md 8)."""
        return f"{self.settings.sync.external_id_prefix}-{kind}-{zuora_id}"

    def netsuite_names(self, record_type: str, key: str) -> dict[str, str]:
        """NetSuite `record_type` records (getAll, once a run) as {value of `key`: internalId}."""
        with self._lock:
            if record_type not in self._cache:
                rows = self.netsuite.get_all(record_type)
                self._cache[record_type] = {
                    str(row[key]): str(row["internalId"]) for row in rows if row.get(key) is not None
                }
            return self._cache[record_type]

    def zuora_by_id(self, object_name: str, fields: Sequence[str], ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Zuora records by Id, fetched in as few queries as the 200-condition limit allows."""
        wanted = sorted({i for i in ids if i})
        return {row["Id"]: row for row in self.query_all(zoql.select_in(object_name, fields, "Id", wanted))}

    def zuora_children(
        self, object_name: str, fields: Sequence[str], parent_field: str, parent_ids: Iterable[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """Zuora child records grouped by their parent's Id (invoice items by InvoiceId, ...)."""
        wanted = sorted(set(parent_ids))
        grouped: dict[str, list[dict[str, Any]]] = {i: [] for i in wanted}
        for row in self.query_all(zoql.select_in(object_name, fields, parent_field, wanted)):
            grouped.setdefault(row[parent_field], []).append(row)
        return grouped


class Flow(ABC):
    """One record type's sync, declared."""

    name: ClassVar[str]  # the --type name
    zuora_object: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]
    external_id_kind: ClassVar[str]  # the middle word of the externalId
    noun: ClassVar[str]  # the status noun: `Creating <noun>`
    transactional: ClassVar[bool] = False  # carries TransferredToAccounting

    def __init__(self, context: FlowContext) -> None:
        self.context = context
        self.settings = context.settings

    def selection(self) -> list[list[zoql.Condition]]:
        """The selection rules as a disjunction of conjunctions (ZOQL has no parentheses)."""
        open_status = [
            [zoql.is_null(STATUS_FIELD)],
            [zoql.ne(STATUS_FIELD, "Sync Complete"), zoql.ne(STATUS_FIELD, "Ignore")],
        ]
        return [own + status for own in self.own_criteria() for status in open_status]

    @abstractmethod
    def own_criteria(self) -> list[list[zoql.Condition]]:
        """The process's own criteria (reference section 4), as alternatives of conjunctions."""

    def scope(self) -> list[list[zoql.Condition]]:
        """The records this process covers whatever their progress (for `status`); by default its criteria."""
        return self.own_criteria()

    def query(self) -> str:
        return zoql.select(self.zuora_object, self.fields, where=self.selection())

    @abstractmethod
    def plan_page(self, rows: Sequence[dict[str, Any]]) -> Iterator[Plan | Refusal | Excluded]:
        """Validate and map one page of selected source records (batch lookups, then one result per row)."""

    def status_of(self, row: Mapping[str, Any]) -> Status:
        return parse_status(row.get(STATUS_FIELD))

    def create(
        self,
        row: Mapping[str, Any],
        record_type: str,
        fields: Mapping[str, Any],
        *,
        noun: str | None = None,
        amount: Decimal | None = None,
    ) -> Plan:
        """Add a NetSuite record carrying the source's deterministic externalId."""
        external_id = self.context.external_id(self.external_id_kind, row["Id"])
        record = NsRecord(record_type, fields, external_id=external_id)
        ref = RecordRef(external_id=external_id, type=record_type_enum(record_type))
        return Plan(row["Id"], self.status_of(row), Action.CREATING, noun or self.noun, record, ref, amount)

    def link(self, row: Mapping[str, Any], record_type: str, zuora_fields: Mapping[str, Any]) -> Plan:
        """Adopt the NetSuite record the source's IntegrationId__NS names: only the Zuora fields are written."""
        internal_id = str(row[INTEGRATION_ID_FIELD])
        record = NsRecord(record_type, {"customFieldList": zuora_fields}, internal_id=internal_id)
        ref = RecordRef(internal_id=internal_id, type=record_type_enum(record_type))
        return Plan(row["Id"], self.status_of(row), Action.LINKING, self.noun, record, ref)


def money(value: Any) -> Decimal:
    """A Zuora amount as Decimal (absent reads as zero)."""
    if value is None or value == "":
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def zuora_date(value: Any) -> dt.date | None:
    """A Zuora date or datetime string as a date."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
