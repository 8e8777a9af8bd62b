"""What every record flow declares, and the context it is given.

A flow says *what* (style.md; singer-sdk's Stream and Sink are the model): where its records come from
(`source`, `source_object`, `fields`, `own_criteria`), where they go (`destination`), the steps a record takes
(`steps`), the batch lookups a page needs (`lookups`), the rules that hold a record back (`exclusion`,
`validate`: reference section 4) and the mapping of each step's record (`writes`: reference section 6). The
engine says *how*: pages, claims, batches, concurrency, recovery, the journal (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, is_dataclass, replace
from dataclasses import fields as dataclass_fields
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

from zns_sync.config import CustomField, Settings
from zns_sync.flows.classifications import CLASSIFICATIONS, Classified, Classifier
from zns_sync.flows.names import NamesPending, NetSuiteList, NetSuiteNames
from zns_sync.netsuite import NetSuiteClient, NsRecord, RecordRef, record_type_enum
from zns_sync.ranked import RankedPool, carried
from zns_sync.status import CUSTOM_FIELDS, TTA_SELECTABLE, Action, Phase, Status
from zns_sync.status import parse as parse_status
from zns_sync.zuora import ZuoraClient, zoql

T = TypeVar("T")

STATUS_FIELD = "IntegrationStatus__NS"
CLASSIFICATION_FIELDS = tuple(c.zuora for c in CLASSIFICATIONS)  # an account's department, class and location
# Zuora lookups (accounts, lines, charges of a page) in flight at once, for the slices a pass reads ahead together:
# below Zuora's 40 concurrent requests, and the 20 "big process" queries older tenants allow (zuora-rest.md section
# 5). Eight, not four: an invoice pass's first wave at 10,000 invoices started over 0.9 s instead of 1.4 s.
ZUORA_LOOKUP_THREADS = 8
# Pages of one REST list read at once, at most (`FlowContext.paged`): 600 memos, 15 pages of 40, are listed in four
# rounds (1 + 2 + 4 + 8 pages), about 0.25 s of Zuora calls instead of 0.9 s one page after another.
LIST_AHEAD = 16
# Rounds of planning a page's records that ask for NetSuite names without waiting (`plan_page`); the last waits.
DEFERRED_ROUNDS = (True, True, True, False)
INTEGRATION_ID_FIELD = "IntegrationId__NS"
TTA_FIELD = "TransferredToAccounting"
ORIGIN_FIELD = "Origin__NS"


@dataclass(frozen=True)
class RestList:
    """A Zuora REST list resource a flow's records are read from and written back to: Invoice Settlement memos,
    which ZOQL and Actions refuse (zuora-rest.md sections 3 and 7)."""

    resource: str  # creditmemos, debitmemos: GET /v1/<resource>, PUT /v1/<resource>/bulk
    fields: Mapping[str, str]  # the flow's field name (ZOQL's PascalCase, as in `fields`) -> the REST name
    filters: frozenset[str]  # the flow's fields the list takes as equality query parameters


@dataclass(frozen=True)
class Step:
    """One write on a record's way to the destination, named by its status words (`Updating Payment`)."""

    action: Action
    noun: str
    updates: bool = False  # sent as an update though its status says Creating (activating a draft account)
    # An update of an already-synced record modified since (sync.new_and_modified): neither claimed nor completed,
    # so its status stays `Sync Complete` and nothing is written back that would make it modified again (1.3).
    silent: bool = False
    # Changes the record the step before created: refused, its error keeps that record's id as the counterpart (the
    # record exists; the documents that need it go on), and the next run sends it again (custom field sync).
    after_create: bool = False

    @property
    def creates(self) -> bool:
        """A create leaves a record that can be found again; an update or link is safe to send twice."""
        return self.action is Action.CREATING and not self.updates

    @property
    def in_flight(self) -> Status:
        return Status(Phase.IN_FLIGHT, self.action, self.noun)

    @property
    def failed(self) -> Status:
        return Status(Phase.ERROR, self.action, self.noun)


# Custom field sync (reference 4.18): an update of the record just created, under a status of its own.
UPDATING_CUSTOM_FIELDS = Step(Action.UPDATING, CUSTOM_FIELDS, after_create=True)


@dataclass(frozen=True)
class Earlier:
    """A value known once an earlier step of the same record is done: the id that step wrote (a draft account's
    Id, which its contacts and its activation name)."""

    step: int


class Unbound(LookupError):
    """A write names the result of an earlier step that is not known (not done, or not found)."""


@dataclass(frozen=True)
class Write:
    """One step of one record: what is sent, and how the destination record is found again."""

    step: Step
    record: Any  # the destination's record (NsRecord, ZuoraRecord): added (create) or updated (update, link)
    ref: Any  # how its result is found again (externalId, back-reference); None: an update, safe to send twice

    def bound(self, done: Sequence[str | None], *, preview: bool = False) -> Write:
        """This write with every `Earlier` replaced by the id its step wrote (`done[step]`).

        Unbound when one is not known; with `preview`, a placeholder naming the step instead (dry runs).
        """
        if not done and not preview:
            return self  # a first step names nothing earlier
        return replace(self, record=_bind(self.record, done, preview), ref=_bind(self.ref, done, preview))


def _bind(value: Any, done: Sequence[str | None], preview: bool) -> Any:
    if isinstance(value, Earlier):
        known = done[value.step] if value.step < len(done) else None
        if known is not None:
            return known
        if preview:
            return f"(the id step {value.step + 1} writes)"
        raise Unbound(f"step {value.step + 1}'s id is not known")
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _bind(getattr(value, f.name), done, preview) for f in dataclass_fields(value)})
    if isinstance(value, Mapping):
        return {k: _bind(v, done, preview) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_bind(v, done, preview) for v in value)
    return value


@dataclass(frozen=True)
class Plan:
    """What a run will do with one selected source record: its steps, in order."""

    source_id: str
    status_before: Status
    writes: tuple[Write, ...]
    group: str | None = None  # plans of one group never write at the same time (two refunds of one payment)
    number: str | None = None  # the record's document number, named beside its id wherever it is shown
    also: tuple[str, ...] = ()  # other source records completed with this one (a NetSuite refund's credit memo)
    counterpart: str | None = None  # the id written back, if not the last step's (a negative invoice's credit memo)

    @property
    def start(self) -> int:
        """The step the record resumes at: the one its in-flight or error status names, else the first."""
        before = self.status_before
        if before.needs_recovery:
            for index, write in enumerate(self.writes):
                if (write.step.action, write.step.noun) == (before.action, before.noun):
                    return index
        return 0


@dataclass(frozen=True)
class WriteBack:
    """Fields of a record's counterpart written back to the record with Sync Complete (a subscription's number on
    its sales order), read once the counterpart is known: created by this pass or found by a lookup."""

    object_type: str  # the counterpart's type in the destination (Subscription)
    fields: Mapping[str, str]  # the source record's field -> the counterpart's field


@dataclass(frozen=True)
class Problem:
    """Why a selected record cannot sync now: blocked on a dependency, or skipped on its own data."""

    outcome: str  # "blocked" or "skipped"
    reason: str
    waits_on: tuple[tuple[str, str], ...] = ()  # blocked: the (type, source id) of each dependency not synced


def blocked(reason: str) -> Problem:
    """A dependency is not synced yet: a later run takes the record (reference 2.3)."""
    return Problem("blocked", reason)


def skipped(reason: str) -> Problem:
    """The record's own data cannot map: a person must fix it."""
    return Problem("skipped", reason)


def counterpart_of(row: Mapping[str, Any]) -> str | None:
    """The id of a Zuora record's NetSuite counterpart, as the record holds it (IntegrationId__NS)."""
    value = row.get(INTEGRATION_ID_FIELD)
    return str(value) if value not in (None, "") else None


def record_name(kind: str, record_id: str, number: Any = None) -> str:
    """How a message names a record: its kind, its document number where it has one, and its id."""
    return f"{kind} {number} ({record_id})" if number else f"{kind} {record_id}"


@dataclass(frozen=True)
class Dependency:
    """A record that must be in the destination before this one (reference 2.3), as a page's lookups found it."""

    kind: str  # how messages name it: account, product charge, invoice, payment
    type: str | None  # the --type that syncs it, if any
    source_id: str
    number: str | None
    status: Status
    counterpart_id: str | None
    synced: bool

    @property
    def name(self) -> str:
        return record_name(self.kind, self.source_id, self.number)

    @property
    def problem(self) -> Problem:
        """Why a record that needs this one is blocked."""
        state = f" (it is {self.status.text})" if self.status.text else ""
        return blocked(f"{self.name} is not synced to NetSuite yet{state}")


def dependency(
    kind: str,
    type_: str | None,
    source_id: str,
    row: Mapping[str, Any] | None,
    number_field: str | None = None,
    *,
    complete: bool = False,
) -> Dependency:
    """A dependency from its looked-up row (None: not found): synced once it has its counterpart id, and with
    `complete` only in `Sync Complete` too."""
    row = row or {}
    status = parse_status(row.get(STATUS_FIELD))
    counterpart = counterpart_of(row)
    synced = counterpart is not None and (not complete or status.phase is Phase.COMPLETE)
    number = str(row[number_field]) if number_field and row.get(number_field) else None
    return Dependency(kind, type_, source_id, number, status, counterpart, synced)


@dataclass(frozen=True)
class Refusal:
    """A selected record held back by a rule; its status stays untouched."""

    source_id: str
    status_before: Status
    outcome: str
    reason: str
    number: str | None = None
    waits_on: tuple[tuple[str, str], ...] = ()  # blocked: the (type, source id) of each dependency not synced


@dataclass(frozen=True)
class Excluded:
    """A record the query returned but a rule the source cannot express excludes (a parent's field)."""

    source_id: str
    reason: str
    number: str | None = None


@dataclass
class FlowContext:
    """What a flow may use: settings, both clients, and lookups cached for the run."""

    settings: Settings
    zuora: ZuoraClient
    netsuite: NetSuiteClient
    _names: NetSuiteNames | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Every lookup pool is ranked (zns_sync.ranked): the slice a pass looks up first has its calls made first.
    _pool: RankedPool = field(default_factory=lambda: RankedPool(ZUORA_LOOKUP_THREADS, "zuora-lookup"))
    # A separate pool for `concurrently`: its tasks wait on `_pool`, so sharing one could starve it.
    _gather_pool: RankedPool = field(default_factory=lambda: RankedPool(ZUORA_LOOKUP_THREADS, "zuora-gather"))
    _rest_pool: RankedPool = field(init=False)

    def __post_init__(self) -> None:
        # Per-record REST reads (a payment's parts, a memo's items) are one call a record, so their rate is the calls
        # in flight over Zuora's time per call: `zuora.max_connections` less the lookup threads (32 of the default
        # 40). With 16, a debit memo pass at 10,000 invoices read 148 memos/s and took 9.1 s; with 32, 7.5 s
        # (docs/benchmarks.md).
        threads = max(1, self.settings.zuora.max_connections - ZUORA_LOOKUP_THREADS)
        # Payments at 2,000 invoices looked up two slices of 200 at once: with this pool ranked, their first write
        # went at 1.16 s instead of 1.56 s.
        self._rest_pool = RankedPool(threads, "zuora-rest")

    def close(self) -> None:
        if self._names is not None:
            self._names.close()
        self._pool.shutdown()
        self._gather_pool.shutdown()
        self._rest_pool.shutdown()

    def concurrently(self, *lookups: Callable[[], Any]) -> list[Any]:
        """The results of independent lookups, run at the same time (with the rank of the slice asking)."""
        return [future.result() for future in [self._gather_pool.submit(carried(lookup)) for lookup in lookups]]

    def each(self, fn: Callable[[str], Any], keys: Iterable[str]) -> dict[str, Any]:
        """`fn(key)` for every distinct key, a REST call each, as many at a time as the REST pool has threads (those of
        earlier slices first)."""
        wanted = sorted(set(keys))
        return dict(zip(wanted, self._rest_pool.map(fn, wanted), strict=True))

    def paged(self, read: Callable[[int], tuple[list[T], bool]]) -> Iterator[list[T]]:
        """The pages of a REST list paged by number, in order: `read(n)` gives page n (from 1) and whether more
        follow. Page 1 is read alone, then 2, 4, 8 ... pages at once (LIST_AHEAD at most) on the REST pool: a
        list gives no total, so a round may ask for pages past the last (the first with none to follow); what
        Zuora answers for those is not documented, and is dropped unread, an error too. Never from a task on the
        REST pool itself (`each`): it would wait on the pool it holds."""
        first, ahead = 1, 1
        while True:
            reads = [self._rest_pool.submit(read, n) for n in range(first, first + ahead)]
            for future in reads:
                page, more = future.result()
                yield page
                if not more:
                    for late in reads:
                        late.cancel()
                    return
            first, ahead = first + ahead, min(2 * ahead, LIST_AHEAD)

    def query_all(self, queries: Iterable[str]) -> list[dict[str, Any]]:
        """The rows of several ZOQL queries, run a few at a time (an id list split at 200 conditions)."""
        return [row for rows in self._pool.map(lambda q: list(self.zuora.query(q)), queries) for row in rows]

    def external_id(self, kind: str, zuora_id: str) -> str:
        """The deterministic externalId of the NetSuite counterpart of a Zuora record (product.md 8)."""
        return f"{self.settings.sync.external_id_prefix}-{kind}-{zuora_id}"

    @property
    def names(self) -> NetSuiteNames:
        """NetSuite records by name (currencies, terms, classifications, accounts ...), looked up once a run."""
        with self._lock:
            if self._names is None:
                self._names = NetSuiteNames(self.netsuite)
            return self._names

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
    """One record type's sync, declared; `plan_page` is the template the engine calls."""

    name: ClassVar[str]  # the --type name
    customer_master: ClassVar[str | None] = None  # the sync.customer_master it serves (None: either)
    enabled_by_default: ClassVar[bool] = True  # in the default sync.types (reference 7.2: NS -> Zuora is opt-in)
    catalog: ClassVar[bool] = False  # runs only with the catalog sync on (reference 4.3: products, rate plans)
    # The types whose records must be synced before this type's (reference 2.3): a run writes this type's records
    # while those of the types before it that it does not name still sync. None: every type before it in the order.
    depends_on: ClassVar[tuple[str, ...] | None] = None
    # Of those, the types whose records this type's wait for one by one in a run: its pass starts once theirs have
    # selected every record, and a record blocked on one of theirs still on its way (a `Dependency` of that type)
    # is planned again once that one's final word is written back, instead of waiting for the next run (engine.run).
    # Only for a flow whose every dependency on those types is a `Dependency` its `dependencies` name.
    waits_for: ClassVar[tuple[str, ...]] = ()
    source: ClassVar[str] = "zuora"  # how source records are read and their statuses written (engine.SOURCES)
    destination: ClassVar[str] = "netsuite"  # where the records go (Engine.destinations)
    # NetSuite lists read whole that the flow's lookups use (currencies, terms ...): a run reads them as it starts.
    netsuite_lists: ClassVar[tuple[NetSuiteList, ...]] = ()
    source_object: ClassVar[str]  # the Zuora object selected
    rest_list: ClassVar[RestList | None] = None  # read through REST instead of ZOQL (source "zuora-rest")
    fields: ClassVar[tuple[str, ...]]
    # The field holding the record's document number (InvoiceNumber, AccountNumber): a person searches by it.
    number_field: ClassVar[str | None] = None
    external_id_kind: ClassVar[str]  # the middle word of the externalId
    counterpart_types: ClassVar[tuple[str, ...]]  # the destination record types a record may become
    steps: ClassVar[tuple[Step, ...]]  # every step a record of this flow may take (the status vocabulary; checked)
    transactional: ClassVar[bool] = False  # carries TransferredToAccounting
    date_field: ClassVar[str | None] = None  # the record's date: `reconcile` counts by its month, `--since` by it
    amount_field: ClassVar[str | None] = None  # the amount `reconcile` compares with the counterpart's
    completion_fields: ClassVar[Mapping[str, str]] = {}  # written with Sync Complete (Origin__NS = ZUORA)
    settlement: ClassVar[bool | None] = None  # runs only with Invoice Settlement on (True) or off (False)
    bills: ClassVar[bool] = False  # a billing document whose tax NetSuite may calculate (invoice, debit memo)
    # Master data (accounts, charges, NetSuite customers): the source field saying when a record last changed. A flow
    # that declares it and implements `changes` updates its synced records modified since the last run when
    # sync.new_and_modified names its type (reference 1.3, 4.1-4.5).
    modified_field: ClassVar[str | None] = None
    # The type's newly created records take the custom fields sync.custom_fields maps (reference 4.18).
    takes_custom_fields: ClassVar[bool] = False
    revenue_recognition: ClassVar[bool] = False  # runs only with sync.revenue_recognition (reference 4.7.2)
    # A follow-up: the type whose completed records this one updates (revenue-recognition: invoice, reference 4.7.2).
    # It selects that type's `Sync Complete` records and those in its own statuses, never blank ones.
    follows: ClassVar[str | None] = None

    def __init__(self, context: FlowContext) -> None:
        self.context = context
        self.settings = context.settings
        self.classifier = Classifier(context.settings, context.names)

    @property
    def custom_fields(self) -> tuple[CustomField, ...]:
        """The custom fields sync.custom_fields maps for this type (none unless the flow takes them)."""
        return self.settings.sync.custom_fields.get(self.name, ()) if self.takes_custom_fields else ()

    def selected_fields(self) -> tuple[str, ...]:
        """The source fields read: the flow's, and the Zuora fields its custom field sync copies."""
        extra = [c.zuora for c in self.custom_fields if c.zuora not in self.fields]
        return (*self.fields, *dict.fromkeys(extra))

    @property
    def declared_steps(self) -> tuple[Step, ...]:
        """Every step a record may take: the flow's, and custom field sync's when the flow takes it."""
        return (*self.steps, UPDATING_CUSTOM_FIELDS) if self.takes_custom_fields else self.steps

    def modified(self, row: Mapping[str, Any]) -> bool:
        """A synced record of a type sync.new_and_modified names: selected because it changed since the last run,
        it is updated, its status untouched."""
        on = self.modified_field is not None and self.settings.sync.new_and_modified.get(self.name, False)
        return on and self.status_of(row).phase is Phase.COMPLETE

    # -- selection (reference section 4) ---------------------------------------------------------------
    def own_criteria(self) -> list[list[zoql.Condition]]:
        """The process's own criteria, as alternatives of conjunctions (ZOQL has no parentheses); by default none.

        NetSuite-sourced flows select with `search()` instead (flows/from_netsuite.py).
        """
        return [[]]

    def scope(self) -> list[list[zoql.Condition]]:
        """The records this process covers whatever their progress (for `status`); by default its criteria."""
        return self.own_criteria()

    def modified_criteria(self) -> list[list[zoql.Condition]]:
        """The synced records whose changes are sent (with `Sync Complete` and the watermark the source adds);
        by default the process's own criteria."""
        return self.own_criteria()

    def rule_note(self, field: str) -> str | None:
        """What a selection rule on `field` is for, when its ZOQL does not say (`explain`)."""
        return None

    def status_of(self, row: Mapping[str, Any]) -> Status:
        return parse_status(row.get(STATUS_FIELD))

    def counterpart_id(self, row: Mapping[str, Any]) -> str | None:
        """The id of the record's counterpart in the destination, as the source record holds it."""
        return counterpart_of(row)

    def counterpart_refs(self, row: Mapping[str, Any]) -> list[RecordRef]:
        """Where the record's counterpart may be, in order: by its deterministic externalId in each type it may
        become, then by the id the source record holds."""
        external_id = self.context.external_id(self.external_id_kind, row["Id"])
        refs = [RecordRef(external_id=external_id, type=record_type_enum(t)) for t in self.counterpart_types]
        held = self.counterpart_id(row)
        if held is not None:
            refs += [RecordRef(internal_id=held, type=record_type_enum(t)) for t in self.counterpart_types]
        return refs

    def source_id_of(self, record: Mapping[str, Any]) -> str | None:
        """The id of the source record a destination record was created from, read from its key (externalId)."""
        prefix = self.key_prefix
        key = str(record.get("externalId") or "")
        return key[len(prefix) :] if key.startswith(prefix) and len(key) > len(prefix) else None

    @property
    def key_prefix(self) -> str:
        """What the key of every destination record this flow creates starts with (`zuora-invoice-`)."""
        return self.context.external_id(self.external_id_kind, "")

    # -- what `reconcile` compares (transactions: amounts, dates, customers) -----------------------------------
    def counterpart_amount(self, record: Mapping[str, Any]) -> Decimal | None:
        """The counterpart's amount, to compare with the source's `amount_field`."""
        return None

    def counterpart_date(self, record: Mapping[str, Any]) -> dt.date | None:
        """The counterpart's date, to count it in the month of the source's `date_field`."""
        return None

    def counterpart_customer(self, record: Mapping[str, Any]) -> str | None:
        """The id of the customer the counterpart belongs to."""
        return None

    def expected_customers(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, str | None]:
        """By source id, the destination customer each record's counterpart should belong to ({}: no check)."""
        return {}

    def number_of(self, row: Mapping[str, Any]) -> str | None:
        """The record's document number, if its type has one and it is set."""
        value = row.get(self.number_field) if self.number_field else None
        return str(value) if value not in (None, "") else None

    # -- what a page needs, what holds a record back, what is sent ----------------------------------------
    def lookups(self, rows: Sequence[dict[str, Any]]) -> Any:
        """The batch lookups one page needs (accounts, lines, NetSuite names...), passed to the methods below."""
        return None

    @property
    def reads_each_record(self) -> bool:
        """Its lookups make a REST call of their own for each record (a memo's items; with Invoice Settlement, a
        payment's parts, a refund read by Id): a wave of writes takes about as long to read as to write, and a pass
        of one wave would send its last request only once all its records are read, so such a pass is cut into two
        waves at least (`engine._Pass._chunks`)."""
        return False

    def exclusion(self, row: Mapping[str, Any], page: Any) -> str | None:
        """Why a returned record is outside the process after all (a rule the query cannot express)."""
        return None

    def dependencies(self, row: Mapping[str, Any], page: Any) -> Sequence[Dependency]:
        """The records this one needs in the destination first (reference 2.3): one not synced blocks it."""
        return ()

    def validate(self, row: Mapping[str, Any], page: Any) -> Problem | None:
        """The rule of the record's own data that holds it back (a value with no match), if any."""
        return None

    def problem(self, row: Mapping[str, Any], page: Any) -> Problem | None:
        """Why a selected record cannot sync now: a dependency not synced (blocked), else its own data."""
        unsynced = [d for d in self.dependencies(row, page) if not d.synced]
        if not unsynced:
            return self.validate(row, page)
        waits_on = tuple((d.type, d.source_id) for d in unsynced if d.type is not None)
        return replace(unsynced[0].problem, waits_on=waits_on)

    # -- custom field sync (reference 4.18) ----------------------------------------------------------------------
    def custom_field_values(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The NetSuite custom fields sync.custom_fields maps, by script id, from the record's Zuora fields, typed as
        the NetSuite field is (the client picks the CustomFieldRef type from the value); empty values are not sent.
        ValueError names a value the field's type cannot take."""
        values: dict[str, Any] = {}
        for mapping in self.custom_fields:
            value = row.get(mapping.zuora)
            if value is None or value == "":
                continue
            try:
                values[mapping.netsuite] = _typed(value, mapping.type)
            except (ValueError, InvalidOperation):
                fit = f"does not fit {mapping.netsuite} (type {mapping.type})"
                raise ValueError(f"{mapping.zuora} {value!r} {fit}") from None
        return values

    def _custom_field_writes(self, row: Mapping[str, Any], writes: Sequence[Write]) -> tuple[Write, ...]:
        """After the create of a new record, the update of its custom fields, under `Updating custom fields`.

        A step of its own rather than part of the create, as the connector does it: a mapping NetSuite refuses (a
        script id that does not exist, a value its type refuses) leaves the record created, with its counterpart
        id, for the documents that depend on it, and says so in a status of its own (`Error updating custom
        fields`); the next run sends the update again (an update carries absolute values). The record is named as
        the create named it (its externalId), or, resumed after a run that created it, as the link does (the id the
        source record holds). A link of an existing counterpart is not a new record: no custom fields.
        """
        last = writes[-1] if writes else None
        due = self.status_of(row).noun == CUSTOM_FIELDS  # created by an earlier run; its custom fields still due
        if last is None or not isinstance(last.record, NsRecord) or not (last.step.creates or due):
            return ()
        values = self.custom_field_values(row)
        if not values:
            return ()
        ns = last.record
        record = NsRecord(ns.record_type, {"customFieldList": values}, ns.external_id, ns.internal_id)
        return (Write(UPDATING_CUSTOM_FIELDS, record, None),)

    @abstractmethod
    def writes(self, row: Mapping[str, Any], page: Any) -> Sequence[Write]:
        """The record's steps with their destination records, in order; called only for valid records."""

    def changes(self, row: Mapping[str, Any], page: Any) -> Sequence[Write]:
        """A modified record's silent updates (`Step.silent`) carrying only the values that differ from its
        counterpart's as `lookups` read it (`changed`); none when the counterpart already holds them."""
        raise NotImplementedError(f"flow {self.name} declares modified_field but no changes()")

    def group(self, row: Mapping[str, Any], page: Any) -> str | None:
        """Records sharing a group never write at the same time (they change one destination record)."""
        return None

    def completes_also(self, row: Mapping[str, Any], page: Any) -> tuple[str, ...]:
        """Other source records that become `Sync Complete` with this one (reference 4.13: a refund's credit memo)."""
        return ()

    def counterpart(self, row: Mapping[str, Any], page: Any) -> str | None:
        """The id written back with Sync Complete when it is not what the last step wrote."""
        return None

    def write_back(self) -> WriteBack | None:
        """The counterpart's fields written back with Sync Complete, if any (None: its id only)."""
        return None

    def plan_page(self, rows: Sequence[dict[str, Any]], page: Any) -> Iterator[Plan | Refusal | Excluded]:
        """One page of selected records, with what `lookups` read for them: per record exclusion, validation and
        mapping.

        A record that names a NetSuite record not looked up yet is planned again after the others, once the names
        all of them asked for are answered: a page's new names are searched at the same time (`deferring`), in at
        most DEFERRED_ROUNDS rounds (the last waits for each answer: a name a stand-in hid is still asked).
        """
        names = self.context.names
        waiting = list(rows)
        for defer in DEFERRED_ROUNDS:
            retry = []
            for row in waiting:
                try:
                    with names.deferring(defer) as deferral:
                        planned = self._plan(row, page)
                except NamesPending:
                    retry.append(row)
                    continue
                if deferral.missed:
                    retry.append(row)
                    continue
                yield planned
            if not retry:
                return
            names.wait()
            waiting = retry

    def _plan(self, row: dict[str, Any], page: Any) -> Plan | Refusal | Excluded:
        """One record's plan, or why it has none."""
        number = self.number_of(row)
        reason = self.exclusion(row, page)
        if reason is not None:
            return Excluded(row["Id"], reason, number)
        problem = self.problem(row, page)
        if problem is not None:
            return Refusal(row["Id"], self.status_of(row), problem.outcome, problem.reason, number, problem.waits_on)
        if self.modified(row):
            writes = tuple(self.changes(row, page))
            if not writes:
                return Excluded(row["Id"], "modified, but its counterpart already holds every value", number)
        else:
            writes = tuple(self.writes(row, page))
            try:
                writes += self._custom_field_writes(row, writes)
            except ValueError as exc:  # a Zuora value the NetSuite field's type cannot take: a person fixes it
                reason = f"{exc} (sync.custom_fields.{self.name})"
                return Refusal(row["Id"], self.status_of(row), "skipped", reason, number)
        undeclared = [w.step for w in writes if w.step not in self.declared_steps]
        if undeclared:  # a status no document names, which `status` and recovery would not know
            raise ValueError(f"flow {self.name} planned undeclared steps {undeclared}; declare them in `steps`")
        status, group, also = self.status_of(row), self.group(row, page), self.completes_also(row, page)
        return Plan(row["Id"], status, writes, group, number, also, self.counterpart(row, page))

    # -- the two shapes of a NetSuite write ---------------------------------------------------------------
    def create(self, step: Step, record_type: str, fields: Mapping[str, Any], zuora_id: str) -> Write:
        """Add a NetSuite record carrying the Zuora record's deterministic externalId."""
        external_id = self.context.external_id(self.external_id_kind, zuora_id)
        record = NsRecord(record_type, fields, external_id=external_id)
        return Write(step, record, RecordRef(external_id=external_id, type=record_type_enum(record_type)))

    def update(self, step: Step, record_type: str, internal_id: str, fields: Mapping[str, Any]) -> Write:
        """Change fields of the NetSuite record with this internalId (safe to send twice: absolute values)."""
        return Write(step, NsRecord(record_type, fields, internal_id=internal_id), None)


ACCOUNT_FIELDS = (
    "Id", "AccountNumber", "Name", INTEGRATION_ID_FIELD, STATUS_FIELD, "SynctoNetSuite__NS", *CLASSIFICATION_FIELDS,
)  # fmt: skip
ACCOUNT_NUMBER = "AccountNumber"


class TransactionFlow(Flow):
    """A Zuora transaction of an account: selected by status, TransferredToAccounting and cutover date.

    Selection (reference 4.7, 4.10, 4.12): `Status = <status_value>`, `<date_field>` on or after the type's
    cutover date, TTA No (null), Error or Processing, and the account's SynctoNetSuite__NS Yes or empty.
    """

    transactional = True
    status_value: ClassVar[str]  # Posted, Processed
    date_field: ClassVar[str]  # InvoiceDate, EffectiveDate, RefundDate
    amount_field = "Amount"
    counterpart_amount_field: ClassVar[str] = "total"  # the NetSuite field holding what `amount_field` became
    customer_field: ClassVar[str] = "customer"  # the NetSuite field naming the customer (an invoice's: entity)

    def named(self, row: Mapping[str, Any], accounts: Mapping[str, Mapping[str, Any]]) -> Classified:
        """The header's department, class and location: the account's, else the defaults (reference 7.4)."""
        account_id = str(row["AccountId"])
        account = accounts.get(account_id) or {}
        return self.classifier.header(account, record_name("account", account_id, account.get(ACCOUNT_NUMBER)))

    def problem(self, row: Mapping[str, Any], page: Any) -> Problem | None:
        """Also skipped when a name the NetSuite record needs matches no NetSuite record (reference 7.4, 7.5)."""
        found = super().problem(row, page)
        if found is not None:
            return found
        problem = self.named(row, page.accounts).problem  # every transaction's page reads its rows' accounts
        return skipped(problem) if problem is not None else None

    def tran_id(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """`tranId` from the Zuora number when Transaction Number Mapping says so (reference 7.1), else nothing."""
        number = self.number_of(row)
        return {"tranId": number} if number and self.settings.sync.transaction_numbers == "source" else {}

    def scope(self) -> list[list[zoql.Condition]]:
        base = [zoql.eq("Status", self.status_value)]
        cutover = self.settings.sync.cutover_dates.get(self.name)
        if cutover is not None:
            base.append(zoql.ge(self.date_field, cutover))
        return [base]

    def rule_note(self, field: str) -> str | None:
        if field == self.date_field:
            return f"the cutover date, sync.cutover_dates.{self.name}"
        if field == TTA_FIELD:
            return "Transferred To Accounting; null reads as No"
        return None

    def own_criteria(self) -> list[list[zoql.Condition]]:
        tta = [[zoql.eq(TTA_FIELD, value.value)] for value in TTA_SELECTABLE]
        tta.append([zoql.is_null(TTA_FIELD)])  # null reads as No
        return [base + alternative for base in self.scope() for alternative in tta]

    def accounts(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """The rows' accounts, by Id."""
        return self.context.zuora_by_id("Account", ACCOUNT_FIELDS, [str(r["AccountId"]) for r in rows])

    def page_accounts(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """The accounts of a page's rows (`lookups`), the NetSuite names they give their transactions (department,
        class, location) looked up from now on, while the page's other lookups run."""
        accounts = self.accounts(rows)
        self.classifier.warm(accounts.values())
        return accounts

    def counterpart_amount(self, record: Mapping[str, Any]) -> Decimal | None:
        return money(record.get(self.counterpart_amount_field))

    def counterpart_date(self, record: Mapping[str, Any]) -> dt.date | None:
        return zuora_date(record.get("tranDate"))

    def counterpart_customer(self, record: Mapping[str, Any]) -> str | None:
        customer = record.get(self.customer_field)
        return customer.internal_id if isinstance(customer, RecordRef) else None

    def expected_customers(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, str | None]:
        accounts = self.accounts(rows)
        return {row["Id"]: counterpart_of(accounts.get(str(row["AccountId"])) or {}) for row in rows}

    @staticmethod
    def account_waiting(row: Mapping[str, Any], accounts: Mapping[str, Mapping[str, Any]]) -> Problem | None:
        """Blocked while the row's account has no NetSuite customer (reference 2.3)."""
        if not accounts.get(str(row["AccountId"]), {}).get(INTEGRATION_ID_FIELD):
            return blocked(f"account {row['AccountId']} is not synced to NetSuite yet")
        return None

    @staticmethod
    def account_excluded(row: Mapping[str, Any], accounts: Mapping[str, Mapping[str, Any]]) -> str | None:
        """Why the row's account keeps it out (SynctoNetSuite__NS = No), if it does."""
        account = accounts.get(str(row["AccountId"]))
        if account is not None and account.get("SynctoNetSuite__NS") not in (None, "", "Yes"):
            name = record_name("account", str(row["AccountId"]), account.get(ACCOUNT_NUMBER))
            return f"{name} has SynctoNetSuite__NS = {account['SynctoNetSuite__NS']}"
        return None

    @staticmethod
    def account(
        row: Mapping[str, Any], accounts: Mapping[str, Mapping[str, Any]], *, complete: bool = False
    ) -> Dependency:
        """The row's account as a dependency (the customer flow syncs it)."""
        account_id = str(row["AccountId"])
        return dependency(
            "account", "customer", account_id, accounts.get(account_id), ACCOUNT_NUMBER, complete=complete
        )


def sync_date() -> str:
    """Now, as the `__NS` sync date is written to Zuora."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def _typed(value: Any, kind: str) -> Any:
    """A Zuora value as the Python value of a NetSuite custom field of type `kind` (config.CUSTOM_FIELD_TYPES)."""
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false", "yes", "no"):
            return str(value).lower() in ("true", "yes")
        raise ValueError(value)
    if kind == "integer":
        number = Decimal(str(value))
        if number != number.to_integral_value():
            raise ValueError(value)
        return int(number)
    if kind == "decimal":
        return Decimal(str(value))
    if kind == "date":
        return zuora_date(value)
    if kind == "datetime":
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return str(value).lower() if isinstance(value, bool) else str(value)


def changed(wanted: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `wanted` whose value `current` (the counterpart as read) does not hold: what an update of a
    modified record sends (reference 1.3: only fields that changed value; never a null: a value cleared in the
    source stays in the destination). `customFieldList` is compared, and sent, by script id; any other mapping (a
    sublist given whole, as an address book with replaceAll) is sent whole when any of it differs."""
    out: dict[str, Any] = {}
    for key, value in wanted.items():
        if value is None:
            continue
        if key == "customFieldList" and isinstance(value, Mapping):
            held = current.get(key) or {}
            fields = {k: v for k, v in value.items() if v is not None and not _same(v, held.get(k))}
            if fields:
                out[key] = fields
        elif not _same(value, current.get(key)):
            out[key] = value
    return out


def _same(wanted: Any, held: Any) -> bool:
    """Whether a value read back from a system holds `wanted` (a mapping: every entry of it but replaceAll)."""
    if isinstance(wanted, Mapping):
        held = held if isinstance(held, Mapping) else {}
        return all(_same(v, held.get(k)) for k, v in wanted.items() if k != "replaceAll" and v is not None)
    if isinstance(wanted, list | tuple):
        return isinstance(held, list | tuple) and len(held) == len(wanted) and all(map(_same, wanted, held))
    if isinstance(wanted, RecordRef):
        return isinstance(held, RecordRef) and str(held.internal_id) == str(wanted.internal_id)
    if isinstance(wanted, bool):
        return (held if isinstance(held, bool) else str(held).lower() == "true") == wanted
    if isinstance(wanted, int | float | Decimal):
        try:
            return held is not None and Decimal(str(held)) == Decimal(str(wanted))
        except InvalidOperation:
            return False
    if isinstance(wanted, dt.date):
        return zuora_date(held) == (wanted.date() if isinstance(wanted, dt.datetime) else wanted)
    return str(held if held is not None else "") == str(wanted)


def without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries whose value is set."""
    return {k: v for k, v in values.items() if v is not None}
