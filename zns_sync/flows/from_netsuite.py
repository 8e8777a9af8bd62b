"""What every NetSuite -> Zuora flow shares: its selection by SuiteTalk search, its status in NetSuite custom fields,
and the two shapes of a Zuora write (product.md 3.1).

The Integration Status lives on the NetSuite record, in the custom fields `netsuite_fields` names. Every Zuora
record created carries `IntegrationId__NS` (the NetSuite internalId) and `SyncDate__NS`, which is how it is found
again before any create: Zuora keeps no unique key of ours.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from zns_sync.destinations import SYNC_DATE_FIELD, ZuoraRecord, ZuoraRef
from zns_sync.flows.base import INTEGRATION_ID_FIELD, Flow, Step, Write, money, sync_date
from zns_sync.netsuite import CustomFieldCondition, RecordRef
from zns_sync.status import Status
from zns_sync.status import parse as parse_status

NETSUITE = "NETSUITE"  # Origin__NS of what comes from NetSuite; Zuora Origin written back on NetSuite payments


@dataclass(frozen=True)
class Search:
    """A NetSuite-sourced flow's records: a SuiteTalk basic search (every condition ANDed; the source adds the
    status condition of its scope), and the custom fields its Integration Status is written to."""

    kind: str  # the client's search kind: customer, transaction
    status_field: str  # script id of the Zuora Integration Status
    counterpart_field: str  # script id of the Zuora ID written back with Sync Complete
    sync_date_field: str  # script id of the Zuora Sync Date
    conditions: tuple[CustomFieldCondition, ...] = ()
    transaction_types: tuple[str, ...] = ()  # TransactionSearchBasic type values: _customerPayment ...
    criteria: Mapping[str, Any] = field(default_factory=dict)  # SearchBasic fields: isInactive, stage ...
    sublists: bool = False  # the records come with their sublists (applyList, addressbookList)
    completion: Mapping[str, Any] = field(default_factory=dict)  # also written with Sync Complete (origin NETSUITE)
    companion_type: str | None = None  # the type of the records completed with these (Flow.completes_also)


class NetSuiteFlow(Flow):
    """A flow from NetSuite records to Zuora: selected by `search()`, written with `zuora_create`/`zuora_update`."""

    source: ClassVar[str] = "netsuite"
    destination: ClassVar[str] = "zuora"
    fields: ClassVar[tuple[str, ...]] = ()  # a search returns whole records
    number_field: ClassVar[str | None] = "tranId"  # a transaction's document number (customers: entityId)
    date_field: ClassVar[str | None] = "tranDate"  # `--since` filters the records read by it
    external_id_kind: ClassVar[str] = "netsuite"  # unused: Zuora keeps no externalId (found by back-reference)
    # The Zuora objects a record may become: `resync` and `ignore` look there by its back-reference
    # (IntegrationId__NS) or the Zuora ID it holds. `reconcile` leaves these types out (reconcile.py).
    counterpart_types: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def search(self) -> Search:
        """The records this process selects (reference section 4) and where their status lives."""

    def transaction_search(
        self,
        transaction_type: str,
        *conditions: CustomFieldCondition,
        completion: Mapping[str, Any] | None = None,
        companion_type: str | None = None,
    ) -> Search:
        """NetSuite transactions of one type (`_customerPayment` ...) with their sublists, whose status lives in the
        transaction body fields of `netsuite_fields`."""
        ids = self.settings.netsuite_fields
        return Search(
            kind="transaction",
            status_field=ids.transaction_integration_status,
            counterpart_field=ids.transaction_zuora_id,
            sync_date_field=ids.transaction_sync_date,
            conditions=conditions,
            transaction_types=(transaction_type,),
            sublists=True,
            completion=completion or {},
            companion_type=companion_type,
        )

    def applied_documents(self, rows: Sequence[Mapping[str, Any]], record_type: str) -> dict[str, dict[str, Any]]:
        """The NetSuite transactions the rows' applyLists apply to, by internalId (getList as `record_type`, e.g.
        invoice; {} for one that is not of that type)."""
        docs = sorted({str(line["doc"]) for row in rows for line in applied(row)})
        refs = [RecordRef(internal_id=doc, type=record_type) for doc in docs]
        reads = self.context.netsuite.get_list(refs) if refs else []
        return {doc: (read.record or {}) if read.success else {} for doc, read in zip(docs, reads, strict=True)}

    def status_of(self, row: Mapping[str, Any]) -> Status:
        return parse_status(text(custom(row, self.search().status_field)) or None)

    def counterpart_id(self, row: Mapping[str, Any]) -> str | None:
        """The Zuora ID written back on the NetSuite record with Sync Complete."""
        return text(custom(row, self.search().counterpart_field)) or None

    def counterpart_refs(self, row: Mapping[str, Any]) -> list[Any]:  # ZuoraRef: where the counterpart may be
        refs = [ZuoraRef(t, ((INTEGRATION_ID_FIELD, str(row["Id"])),)) for t in self.counterpart_types]
        held = self.counterpart_id(row)
        if held is not None:
            refs += [ZuoraRef(t, (("Id", held),)) for t in self.counterpart_types]
        return refs

    def source_id_of(self, record: Mapping[str, Any]) -> str | None:
        """The NetSuite internalId a Zuora object was created from: its back-reference."""
        value = record.get(INTEGRATION_ID_FIELD)
        return str(value) if value not in (None, "") else None

    def back_reference(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """IntegrationId__NS (the NetSuite internalId) and SyncDate__NS: on every Zuora record created."""
        return {INTEGRATION_ID_FIELD: str(row["Id"]), SYNC_DATE_FIELD: sync_date()}

    # -- the two shapes of a Zuora write -------------------------------------------------------------------------
    def zuora_create(
        self,
        step: Step,
        object_type: str,
        fields: Mapping[str, Any],
        match: Mapping[str, Any] | None = None,
        *,
        rest: str | None = None,
    ) -> Write:
        """Create a Zuora object, found again by `match` (by default its IntegrationId__NS)."""
        found_by = match if match is not None else {INTEGRATION_ID_FIELD: fields[INTEGRATION_ID_FIELD]}
        return Write(step, ZuoraRecord(object_type, fields, rest), ZuoraRef(object_type, tuple(found_by.items())))

    def zuora_update(
        self,
        step: Step,
        object_type: str,
        zuora_id: Any,
        fields: Mapping[str, Any],
        shows: Mapping[str, Any] | None = None,
    ) -> Write:
        """Change fields of the Zuora object with this Id (safe to send twice: absolute values); found done when an
        object of its type `shows` these values (an account Active with its back-reference)."""
        found_by = ZuoraRef(object_type, tuple(shows.items())) if shows is not None else None
        return Write(step, ZuoraRecord(object_type, {"Id": zuora_id, **fields}), found_by)


def custom(row: Mapping[str, Any], script_id: str) -> Any:
    """A custom field's value on a NetSuite record (None when unset)."""
    return (row.get("customFieldList") or {}).get(script_id)


def text(value: Any) -> str:
    """A custom field's value as text: a list value's name (Yes, Batch1), a checkbox as Yes/No, '' when unset."""
    if isinstance(value, RecordRef):
        return value.name or ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return "" if value is None else str(value)


def ref_id(value: Any) -> str:
    """The internalId a RecordRef field names ('' when unset)."""
    return str(value.internal_id) if isinstance(value, RecordRef) and value.internal_id else ""


def ref_name(value: Any) -> str | None:
    """The name NetSuite gives with a RecordRef field (a subsidiary's), if any."""
    return value.name if isinstance(value, RecordRef) and value.name else None


def applied(row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The applyList lines of a NetSuite transaction that apply an amount."""
    lines = (row.get("applyList") or {}).get("apply") or []
    return [line for line in lines if line.get("apply", True) and money(line.get("amount")) > 0]
