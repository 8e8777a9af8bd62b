"""The NetSuite emulator's in-memory records and the business rules it enforces.

Records are plain dicts keyed by record type (SuiteTalk type name, e.g. `Invoice`) and internalId; externalId is
unique per record type; `customFieldList` is stored as `{scriptId: value}`; RecordRef fields as
`{"internalId": ..., "externalId": ..., ...}`. The rules kept (documented in docs/netsuite.md) are simple
stand-ins for NetSuite's: references must exist, invoice totals are the sum of their lines, payments apply
only to open invoices of their customer up to the amount remaining, refunds need unapplied credit.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Iterable, Mapping
from typing import Any

ITEM_TYPES = ("NonInventorySaleItem", "ServiceSaleItem")
TRANSACTION_TYPES = ("Invoice", "CreditMemo", "CustomerPayment", "CustomerRefund")
COMPANY_NAME_MAX = 83

# RecordRef field name -> the record types it may point to (fields not listed are not checked).
REFERENCE_TARGETS: dict[str, tuple[str, ...]] = {
    "entity": ("Customer",),
    "customer": ("Customer",),
    "item": ITEM_TYPES,
    "taxItem": ITEM_TYPES,
    "currency": ("Currency",),
    "terms": ("Term",),
    "subsidiary": ("Subsidiary",),
}
# SuiteTalk record type -> TransactionSearchBasic `type` value
TRANSACTION_SEARCH_TYPE = {
    "Invoice": "_invoice",
    "CreditMemo": "_creditMemo",
    "CustomerPayment": "_customerPayment",
    "CustomerRefund": "_customerRefund",
}
# SuiteTalk record type -> the `type` value of TransactionSearchBasic / ItemSearchBasic
SEARCH_TYPE_VALUES = {
    **TRANSACTION_SEARCH_TYPE,
    "NonInventorySaleItem": "_nonInventoryItem",
    "ServiceSaleItem": "_service",
}
SEARCH_KINDS: dict[str, tuple[str, ...]] = {
    "CustomerSearchBasic": ("Customer",),
    "ItemSearchBasic": ITEM_TYPES,
    "TransactionSearchBasic": TRANSACTION_TYPES,
    "TermSearchBasic": ("Term",),
}


class RecordError(Exception):
    """A per-record failure: NetSuite's status detail code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclasses.dataclass(frozen=True)
class Written:
    """A committed write: the record type and its keys."""

    record_type: str
    internal_id: str
    external_id: str | None


def _money(value: Any) -> float:
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        return 0.0


class NetSuiteStore:
    """Thread-safe records by type and internalId, with an externalId index per type."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._records: dict[str, dict[str, dict[str, Any]]] = {}
        self._external: dict[str, dict[str, str]] = {}
        self._next_id = 100

    # -- helpers tests use ------------------------------------------------------------------------------------
    def get(self, record_type: str, internal_id: str) -> dict[str, Any] | None:
        """A copy of one record, or None."""
        with self._lock:
            record = self._records.get(record_type, {}).get(str(internal_id))
            return copy.deepcopy(record) if record is not None else None

    def find_by_external_id(self, record_type: str, external_id: str) -> dict[str, Any] | None:
        """A copy of the record of `record_type` with this externalId, or None."""
        with self._lock:
            internal_id = self._external.get(record_type, {}).get(external_id)
            return self.get(record_type, internal_id) if internal_id else None

    def count(self, record_type: str) -> int:
        """How many records of a type exist."""
        with self._lock:
            return len(self._records.get(record_type, {}))

    def all(self, record_type: str) -> list[dict[str, Any]]:
        """Copies of every record of a type, by internalId order."""
        with self._lock:
            records = self._records.get(record_type, {})
            return [copy.deepcopy(records[k]) for k in sorted(records, key=int)]

    def count_by_type(self) -> dict[str, int]:
        """How many records each record type holds (types without records left out)."""
        with self._lock:
            return {t: len(records) for t, records in sorted(self._records.items()) if records}

    def delete(self, record_type: str, internal_id: str) -> None:
        """Remove a record and free its externalId (as deleting in the NetSuite UI does)."""
        with self._lock:
            record = self._records.get(record_type, {}).pop(str(internal_id))
            if record.get("externalId"):
                self._external[record_type].pop(record["externalId"], None)

    def types(self) -> list[str]:
        """The record types that hold at least one record."""
        with self._lock:
            return sorted(t for t, records in self._records.items() if records)

    # -- primitives -------------------------------------------------------------------------------------------
    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _lookup(self, record_type: str, ref: Mapping[str, Any]) -> dict[str, Any] | None:
        records = self._records.get(record_type, {})
        internal_id = ref.get("internalId")
        if internal_id:
            return records.get(str(internal_id))
        external_id = ref.get("externalId")
        if external_id:
            key = self._external.get(record_type, {}).get(str(external_id))
            return records.get(key) if key else None
        return None

    def resolve(self, targets: Iterable[str], ref: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """The (type, record) a reference points to among `targets`, or None."""
        with self._lock:
            for record_type in targets:
                record = self._lookup(record_type, ref)
                if record is not None:
                    return record_type, record
        return None

    def insert(self, record_type: str, data: dict[str, Any]) -> Written:
        """Store a new record as is (no rules); used by seeding."""
        with self._lock:
            external_id = data.get("externalId")
            if external_id and external_id in self._external.get(record_type, {}):
                raise RecordError("DUP_RCRD", "This record already exists")
            internal_id = self._new_id()
            data = dict(data, internalId=internal_id)
            self._records.setdefault(record_type, {})[internal_id] = data
            if external_id:
                self._external.setdefault(record_type, {})[external_id] = internal_id
            return Written(record_type, internal_id, external_id)

    # -- operations -------------------------------------------------------------------------------------------
    def add(self, record_type: str, data: dict[str, Any]) -> Written:
        """NetSuite `add`: DUP_RCRD on an existing externalId, references checked, derived fields computed."""
        with self._lock:
            if record_type not in KNOWN_TYPES:
                raise RecordError("INVALID_RCRD_TYPE", f"The record type {record_type} is not supported here.")
            data = {k: v for k, v in data.items() if k not in ("internalId", "nullFieldList")}
            external_id = data.get("externalId")
            if external_id and external_id in self._external.get(record_type, {}):
                raise RecordError("DUP_RCRD", "This record already exists")
            self._check_references(data)
            applier = self._rules(record_type, data, None)
            written = self.insert(record_type, data)
            applier(written.internal_id)
            return written

    def update(self, record_type: str, data: dict[str, Any]) -> Written:
        """NetSuite `update` by internalId or externalId; RCRD_DSNT_EXIST when missing. Sublists given replace."""
        with self._lock:
            current = self._lookup(record_type, data)
            if current is None:
                raise RecordError("RCRD_DSNT_EXIST", "That record does not exist.")
            changes = {k: v for k, v in data.items() if k not in ("internalId", "nullFieldList")}
            self._check_references(changes)
            merged = dict(current)
            for key, value in changes.items():
                if key == "customFieldList" and isinstance(value, dict):
                    merged[key] = {**(current.get(key) or {}), **value}
                else:
                    merged[key] = value
            for name in (data.get("nullFieldList") or {}).get("name", []):
                merged.pop(name, None)
            new_external = changes.get("externalId")
            if new_external and new_external != current.get("externalId"):
                index = self._external.setdefault(record_type, {})
                if new_external in index:
                    raise RecordError("DUP_RCRD", "This record already exists")
                if current.get("externalId"):
                    index.pop(current["externalId"], None)
                index[new_external] = current["internalId"]
            if record_type in ("Invoice", "CreditMemo") and "itemList" in changes:
                self._total(merged)
            self._records[record_type][current["internalId"]] = merged
            return Written(record_type, current["internalId"], merged.get("externalId"))

    def upsert(self, record_type: str, data: dict[str, Any]) -> Written:
        """NetSuite `upsert`: externalId required, internalId refused; update when it exists, else add."""
        with self._lock:
            if data.get("internalId"):
                raise RecordError("USER_ERROR", "You cannot set internalId with upsert")
            if not data.get("externalId"):
                raise RecordError("USER_ERROR", "This operation requires a value for externalId.")
            if self._lookup(record_type, {"externalId": data["externalId"]}) is not None:
                return self.update(record_type, data)
            return self.add(record_type, data)

    def read(self, record_type: str, ref: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the referenced record; RCRD_DSNT_EXIST when missing."""
        with self._lock:
            record = self._lookup(record_type, ref)
            if record is None:
                raise RecordError("RCRD_DSNT_EXIST", "That record does not exist.")
            return copy.deepcopy(record)

    # -- rules ------------------------------------------------------------------------------------------------
    def _check_references(self, data: Mapping[str, Any]) -> None:
        for key, value in data.items():
            targets = REFERENCE_TARGETS.get(key)
            if targets and isinstance(value, dict) and ("internalId" in value or "externalId" in value):
                found = self.resolve(targets, value)
                if found is None:
                    shown = value.get("internalId") or value.get("externalId")
                    raise RecordError("INVALID_KEY_OR_REF", f"Invalid {key} reference key {shown}.")
                value.setdefault("internalId", found[1]["internalId"])
            elif isinstance(value, dict) and key.endswith("List") and key != "customFieldList":
                for lines in value.values():
                    if isinstance(lines, list):
                        for line in lines:
                            if isinstance(line, dict):
                                self._check_references(line)

    def _total(self, data: dict[str, Any]) -> float:
        """Set and return `total` as the sum of the line amounts (amount, else quantity x rate)."""
        total = 0.0
        for line in (data.get("itemList") or {}).get("item", []) or []:
            amount = line.get("amount")
            if amount is None and line.get("quantity") is not None and line.get("rate") not in (None, ""):
                amount = _money(line["quantity"]) * _money(line["rate"])
                line["amount"] = round(amount, 2)
            total += _money(amount)
        data["total"] = round(total, 2)
        return round(total, 2)

    def _rules(self, record_type: str, data: dict[str, Any], _: Any) -> Any:
        """Validate `data` and return a callable that applies side effects once the record has its internalId."""
        if record_type == "Customer":
            name = data.get("companyName")
            if isinstance(name, str) and len(name) > COMPANY_NAME_MAX:
                raise RecordError(
                    "INVALID_FLD_VALUE",
                    f"The field companyName contained more than the maximum number ( {COMPANY_NAME_MAX} ) "
                    "of characters allowed.",
                )
            if not data.get("isPerson") and not name and not data.get("lastName"):
                raise RecordError("USER_ERROR", "Please enter value(s) for: Company Name")
        if record_type in ("Invoice", "CreditMemo"):
            if not data.get("entity"):
                raise RecordError("USER_ERROR", "Please enter value(s) for: Customer")
            lines = (data.get("itemList") or {}).get("item") or []
            if not lines:
                raise RecordError("USER_ERROR", "You must enter at least one line item for this transaction.")
            for line in lines:
                if not line.get("item"):
                    raise RecordError("USER_ERROR", "Please enter value(s) for: Item")
            total = self._total(data)
            if record_type == "Invoice":
                data.update(amountRemaining=total, amountPaid=0.0, status="Open")
            else:
                return self._apply_credit(data, total)
        if record_type == "CustomerPayment":
            return self._apply_payment(data)
        if record_type == "CustomerRefund":
            return self._apply_refund(data)
        return lambda internal_id: None

    def _customer_id(self, data: Mapping[str, Any], field: str) -> str:
        ref = data.get(field)
        if not isinstance(ref, dict) or not ref.get("internalId"):
            raise RecordError("USER_ERROR", "Please enter value(s) for: Customer")
        return str(ref["internalId"])

    def _open_invoices(self, data: Mapping[str, Any], customer: str, lines: list[dict[str, Any]]) -> list[Any]:
        plan = []
        for line in lines:
            if not line.get("apply", True):
                continue
            doc = str(line.get("doc", ""))
            invoice = self._records.get("Invoice", {}).get(doc)
            if invoice is None or str((invoice.get("entity") or {}).get("internalId")) != customer:
                raise RecordError("INVALID_KEY_OR_REF", f"Invalid apply reference key {doc}.")
            remaining = _money(invoice.get("amountRemaining"))
            amount = _money(line.get("amount", remaining))
            if remaining <= 0:
                raise RecordError("USER_ERROR", f"Invoice {doc} is not open; it cannot be applied.")
            if amount > remaining + 0.005:
                raise RecordError(
                    "INVALID_TRANS_AMT",
                    f"The amount applied to invoice {doc} ({amount:.2f}) exceeds its amount due ({remaining:.2f}).",
                )
            plan.append((invoice, amount))
        return plan

    @staticmethod
    def _settle(plan: list[Any]) -> None:
        for invoice, amount in plan:
            invoice["amountRemaining"] = round(_money(invoice.get("amountRemaining")) - amount, 2)
            invoice["amountPaid"] = round(_money(invoice.get("amountPaid")) + amount, 2)
            invoice["status"] = "Paid In Full" if invoice["amountRemaining"] <= 0 else "Open"

    def _apply_payment(self, data: dict[str, Any]) -> Any:
        customer = self._customer_id(data, "customer")
        lines = (data.get("applyList") or {}).get("apply") or []
        plan = self._open_invoices(data, customer, lines)
        applied = round(sum(amount for _, amount in plan), 2)
        payment = _money(data.get("payment", applied))
        if applied > payment + 0.005:
            raise RecordError("INVALID_TRANS_AMT", "The total applied exceeds the payment amount.")
        data.update(payment=payment, applied=applied, unapplied=round(payment - applied, 2), total=payment)

        def apply(internal_id: str) -> None:
            self._settle(plan)

        return apply

    def _apply_credit(self, data: dict[str, Any], total: float) -> Any:
        customer = self._customer_id(data, "entity")
        lines = (data.get("applyList") or {}).get("apply") or []
        plan = self._open_invoices(data, customer, lines)
        applied = round(sum(amount for _, amount in plan), 2)
        if applied > total + 0.005:
            raise RecordError("INVALID_TRANS_AMT", "The total applied exceeds the credit memo total.")
        data.update(applied=applied, unapplied=round(total - applied, 2), status="Open")

        def apply(internal_id: str) -> None:
            self._settle(plan)

        return apply

    def _apply_refund(self, data: dict[str, Any]) -> Any:
        customer = self._customer_id(data, "customer")
        lines = (data.get("applyList") or {}).get("apply") or []
        plan = []
        for line in lines:
            if not line.get("apply", True):
                continue
            doc = str(line.get("doc", ""))
            found = None
            for credit_type in ("CreditMemo", "CustomerPayment"):
                record = self._records.get(credit_type, {}).get(doc)
                if record is not None:
                    found = record
            owner_field = "customer" if found is not None and "customer" in found else "entity"
            if found is None or str((found.get(owner_field) or {}).get("internalId")) != customer:
                raise RecordError("INVALID_KEY_OR_REF", f"Invalid apply reference key {doc}.")
            unapplied = _money(found.get("unapplied"))
            amount = _money(line.get("amount", unapplied))
            if unapplied <= 0 or amount > unapplied + 0.005:
                raise RecordError(
                    "INVALID_TRANS_AMT",
                    f"The refund amount ({amount:.2f}) exceeds the unapplied credit ({unapplied:.2f}).",
                )
            plan.append((found, amount))
        if not plan:
            raise RecordError("USER_ERROR", "A refund must apply to a credit memo or payment with unapplied credit.")
        data["total"] = round(sum(amount for _, amount in plan), 2)

        def apply(internal_id: str) -> None:
            for credit, amount in plan:
                credit["unapplied"] = round(_money(credit.get("unapplied")) - amount, 2)

        return apply

    # -- search -----------------------------------------------------------------------------------------------
    def search(self, search_type: str, criteria: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(record type, internalId) of every record matching a SearchBasic's criteria, by internalId."""
        types = SEARCH_KINDS.get(search_type)
        if types is None:
            raise RecordError("INVALID_RCRD_TYPE", f"Search type {search_type} is not supported here.")
        with self._lock:
            hits = []
            for record_type in types:
                for internal_id, record in self._records.get(record_type, {}).items():
                    if _matches(record_type, record, criteria):
                        hits.append((record_type, internal_id))
            return sorted(hits, key=lambda hit: int(hit[1]))


def _string_match(value: Any, operator: str, wanted: str) -> bool:
    text = "" if value is None else str(value)
    if operator == "is":
        return text == wanted
    if operator == "isNot":
        return text != wanted
    if operator == "startsWith":
        return text.startswith(wanted)
    if operator == "doesNotStartWith":
        return not text.startswith(wanted)
    if operator == "contains":
        return wanted in text
    if operator == "doesNotContain":
        return wanted not in text
    if operator == "empty":
        return text == ""
    if operator == "notEmpty":
        return text != ""
    return False


def _matches(record_type: str, record: Mapping[str, Any], criteria: Mapping[str, Any]) -> bool:
    for name, criterion in criteria.items():
        if not isinstance(criterion, Mapping):
            continue
        operator = criterion.get("operator", "")
        values = criterion.get("searchValue")
        if name in ("externalId", "internalId", "entity"):
            refs = values if isinstance(values, list) else [values] if values else []
            if name == "entity":
                entity = record.get("entity") or record.get("customer") or {}
                keys = {str(entity.get("internalId"))}
                wanted = {str(r.get("internalId")) for r in refs if isinstance(r, Mapping)}
            else:
                keys = {str(record.get(name))}
                wanted = {str(r.get(name)) for r in refs if isinstance(r, Mapping)}
            hit = bool(keys & wanted)
            if hit != (operator != "noneOf"):
                return False
        elif name == "externalIdString":
            if not _string_match(record.get("externalId"), operator, str(values or "")):
                return False
        elif name == "type":
            wanted_types = values if isinstance(values, list) else [values]
            hit = SEARCH_TYPE_VALUES.get(record_type, record_type) in wanted_types
            if hit != (operator != "noneOf"):
                return False
        elif name == "customFieldList":
            fields = record.get("customFieldList") or {}
            for field in criterion.get("customField", []) or []:
                value = fields.get(field.get("scriptId"))
                if not _string_match(value, field.get("operator", "is"), str(field.get("searchValue", ""))):
                    return False
        elif name in ("isInactive", "mainLine"):
            if name == "isInactive" and bool(record.get("isInactive", False)) != bool(values):
                return False
        elif (
            "operator" in criterion
            and name != "lastModifiedDate"
            and not _string_match(record.get(name), operator, str(values or ""))
        ):
            return False
    return True


KNOWN_TYPES = frozenset(("Customer", "Currency", "Term", "Subsidiary", *ITEM_TYPES, *TRANSACTION_TYPES))
