"""The NetSuite emulator's in-memory records and the business rules it enforces.

Records are plain dicts keyed by record type (SuiteTalk type name, e.g. `Invoice`) and internalId; externalId is
unique per record type; `customFieldList` is stored as `{scriptId: value}`; RecordRef fields as
`{"internalId": ..., "externalId": ..., ...}`. The rules kept (documented in docs/netsuite.md) are simple
stand-ins for NetSuite's: references must exist, invoice totals are the sum of their lines, payments and credit
memos apply only to open invoices of their customer up to the amount remaining, refunds take only unapplied
cash, and `update` keeps these rules for applyLists (keyed by `doc`) as `add` does.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

ITEM_TYPES = ("InventoryItem", "NonInventorySaleItem", "ServiceSaleItem")
TRANSACTION_TYPES = ("Invoice", "CreditMemo", "CustomerPayment", "CustomerRefund")
# Lists whose records form a tree (`parent`): their search field `name` is the full name, every ancestor's name
# first, joined with " : " (SearchBasic `name` versus `nameNoHierarchy`, platform.common.xsd 2023_2; the hosted
# connector's classification page: "Americas : North America : Eastern").
HIERARCHICAL_TYPES = ("Subsidiary", "Department", "Classification", "Location", "Account")
NAME_SEPARATOR = " : "
COMPANY_NAME_MAX = 83
# Records whose XSD type carries lastModifiedDate, which NetSuite sets on every add and update (a status written by
# an integration included) and which SearchDateField criteria select on (`after`, `onOrAfter`, ...).
MODIFIED_TYPES = ("Customer", *ITEM_TYPES, *TRANSACTION_TYPES)
# A custom field's type (Customization > Lists, Records & Fields) -> the Python type of the value parsed from the
# CustomFieldRef that fits it (String/Long/Double/Boolean/Date/SelectCustomFieldRef, platform.core.xsd).
CUSTOM_FIELD_VALUES: dict[str, type | tuple[type, ...]] = {
    "text": str,
    "integer": int,
    "decimal": float,
    "checkbox": bool,
    "date": dt.datetime,
    "select": dict,
}

# RecordRef field name -> the record types it may point to (fields not listed are not checked).
REFERENCE_TARGETS: dict[str, tuple[str, ...]] = {
    "entity": ("Customer",),
    "customer": ("Customer",),
    "item": ITEM_TYPES,
    "taxItem": (*ITEM_TYPES, "SalesTaxItem"),
    "currency": ("Currency",),
    "terms": ("Term",),
    "subsidiary": ("Subsidiary",),
    "paymentMethod": ("PaymentMethod",),
    "job": ("Job",),  # a transaction line's project (a Variable rev rec template's, reference 4.7.2)
    "department": ("Department",),
    "class": ("Classification",),
    "location": ("Location",),
    "incomeAccount": ("Account",),
    "deferredRevenueAccount": ("Account",),
    "revRecSchedule": ("RevRecTemplate",),
}
# RecordRefList field name -> the record type each of its references must name.
REFERENCE_LIST_TARGETS: dict[str, str] = {"subsidiaryList": "Subsidiary"}
# Account fields that take only accounts of some types: NetSuite lists no other account in the item's selector.
ACCOUNT_TYPES: dict[str, tuple[str, ...]] = {
    "incomeAccount": ("_income", "_otherIncome"),
    "deferredRevenueAccount": ("_deferredRevenue",),
}
# `parent` names a record of the same type: an item's "Subitem Of" an item of its own type (NetSuite lists only
# those; a rate plan's item under its product's), a customer's parent customer, a subsidiary's parent subsidiary.
PARENT_TARGETS: dict[str, tuple[str, ...]] = {
    **{item_type: (item_type,) for item_type in ITEM_TYPES},
    "Customer": ("Customer",),
    "Subsidiary": ("Subsidiary",),
}
# Records whose applyList settles other records: type -> (its customer field, the types its lines' `doc` may
# name). Payments and credit memos pay invoices; a refund pays out a payment's or credit memo's unapplied cash.
APPLY_TARGETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "CustomerPayment": ("customer", ("Invoice",)),
    "CreditMemo": ("entity", ("Invoice",)),
    "CustomerRefund": ("customer", ("CreditMemo", "CustomerPayment")),
}
# The field naming a transaction's customer.
CUSTOMER_FIELD = {"Invoice": "entity", "CreditMemo": "entity", "CustomerPayment": "customer"}
# What is still open on a record an applyList line names: an invoice's amount due, a credit's unapplied cash.
OPEN_FIELD = {"Invoice": "amountRemaining", "CreditMemo": "unapplied", "CustomerPayment": "unapplied"}
# The amount field of a credit (a record a refund can take cash from), and its name in messages.
CREDIT_AMOUNT = {"CustomerPayment": "payment", "CreditMemo": "total"}
CREDIT_LABEL = {"CustomerPayment": "payment amount", "CreditMemo": "credit memo total"}
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
    "InventoryItem": "_inventoryItem",
    "NonInventorySaleItem": "_nonInventoryItem",
    "ServiceSaleItem": "_service",
}
SEARCH_KINDS: dict[str, tuple[str, ...]] = {
    "CustomerSearchBasic": ("Customer",),
    "ItemSearchBasic": ITEM_TYPES,
    "TransactionSearchBasic": TRANSACTION_TYPES,
    "TermSearchBasic": ("Term",),
    "PaymentMethodSearchBasic": ("PaymentMethod",),
    "AccountSearchBasic": ("Account",),
    "SubsidiarySearchBasic": ("Subsidiary",),
    "DepartmentSearchBasic": ("Department",),
    "ClassificationSearchBasic": ("Classification",),
    "LocationSearchBasic": ("Location",),
    "RevRecTemplateSearchBasic": ("RevRecTemplate",),
    "SalesTaxItemSearchBasic": ("SalesTaxItem",),
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


def _flag(value: Any, default: bool) -> bool:
    """An xsd:boolean as parsed (bool, or an attribute's "true"/"false" text); `default` when absent."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip() in ("true", "1")
    return bool(value)


def _apply_lines(sublist: Any) -> list[dict[str, Any]]:
    lines = sublist.get("apply") if isinstance(sublist, Mapping) else None
    return [line for line in lines or [] if isinstance(line, dict)]


def _applied(record: Mapping[str, Any] | None) -> dict[str, float]:
    """doc -> amount of what a stored record's applyList applies (stored lines are all applied)."""
    return {str(line.get("doc")): _money(line.get("amount")) for line in _apply_lines((record or {}).get("applyList"))}


def _keyed_lines(current: Any, given: Any) -> list[dict[str, Any]]:
    """The applyList lines after a request's applyList, keyed by `doc` (SuiteTalk's keyed-sublist semantics).

    replaceAll true (the default, in the XSD and the docs) keeps only the lines given; false keeps the other
    current lines too. A given line updates its doc's line; `apply` false removes it.
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N3441570.html (applyList: key `doc`)
    """
    replace_all = _flag(given.get("replaceAll"), True) if isinstance(given, Mapping) else True
    lines = {} if replace_all else {str(line.get("doc")): line for line in _apply_lines(current)}
    for line in _apply_lines(given):
        doc = str(line.get("doc", ""))
        if _flag(line.get("apply"), True):
            lines[doc] = {**lines.get(doc, {}), **line}
        else:
            lines.pop(doc, None)
    return list(lines.values())


def _item_lines(current: Any, given: Any) -> list[dict[str, Any]]:
    """A transaction's item lines after a request's itemList, keyed by `line` (SuiteTalk's keyed sublists: the item
    sublist of a transaction is keyed by its line number).

    NetSuite numbers the lines of a new record 1, 2, ... and a line added later the next number. With replaceAll
    true (the default) only the lines given remain; with false a line naming a `line` changes that line's fields
    (one that does not exist is refused) and a line naming none is added.
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N3441570.html (item sublists: key `line`)
    """
    replace_all = _flag(given.get("replaceAll"), True) if isinstance(given, Mapping) else True
    stored = [line for line in ((current or {}).get("item") or []) if isinstance(line, dict)]
    lines = {} if replace_all else {int(line["line"]): line for line in stored if line.get("line") is not None}
    numbers = [int(line["line"]) for line in stored if line.get("line") is not None]
    last = max(numbers, default=0)
    for line in (given.get("item") if isinstance(given, Mapping) else None) or []:
        if not isinstance(line, dict):
            continue
        if line.get("line") is None:
            last += 1
            lines[last] = {**line, "line": last}
        elif replace_all:
            lines[int(line["line"])] = {**line, "line": int(line["line"])}
        elif int(line["line"]) in lines:
            lines[int(line["line"])] = {**lines[int(line["line"])], **line, "line": int(line["line"])}
        else:
            raise RecordError("USER_ERROR", f"The line {line['line']} does not exist on this transaction.")
    return [lines[number] for number in sorted(lines)]


class NetSuiteStore:
    """Thread-safe records by type and internalId, with an externalId index per type."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._records: dict[str, dict[str, dict[str, Any]]] = {}
        self._external: dict[str, dict[str, str]] = {}
        # internalId of a payment or credit memo -> what refunds took from it (bookkeeping, not a record field)
        self._refunded: dict[str, float] = {}
        self._next_id = 100
        self._last_write = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        # Custom fields defined with a type (script id -> CUSTOM_FIELD_VALUES key): a value of another CustomFieldRef
        # type is refused. The connector bundle's fields, which tests do not define, take any value.
        self.custom_field_types: dict[str, str] = {}

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
        """Remove a record and free its externalId (as deleting in the NetSuite UI does).

        A payment, credit memo or refund first gives back what its applyList took (invoices reopen, a refund's
        cash returns to the payment or credit memo it came from).
        """
        with self._lock:
            record = self._records.get(record_type, {}).pop(str(internal_id))
            if record_type in APPLY_TARGETS:
                self._move(self._moves(record_type, _applied(record), {}))
            if record.get("externalId"):
                self._external[record_type].pop(record["externalId"], None)

    def types(self) -> list[str]:
        """The record types that hold at least one record."""
        with self._lock:
            return sorted(t for t, records in self._records.items() if records)

    # -- primitives -------------------------------------------------------------------------------------------
    def _stamp(self, record_type: str, data: dict[str, Any]) -> None:
        """Set lastModifiedDate to now, strictly later than the previous write (a record type that has the field)."""
        if record_type not in MODIFIED_TYPES:
            return
        now = dt.datetime.now(dt.UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if now <= self._last_write:
            now = self._last_write + dt.timedelta(milliseconds=1)
        self._last_write = now
        data["lastModifiedDate"] = now.isoformat(timespec="milliseconds")

    def touch(self, record_type: str, internal_id: str, fields: Mapping[str, Any]) -> None:
        """Change fields of a record as a person in the UI does (no rules), bumping lastModifiedDate; for tests."""
        with self._lock:
            record = self._records[record_type][str(internal_id)]
            for key, value in fields.items():
                if key == "customFieldList":
                    record[key] = {**(record.get(key) or {}), **value}
                else:
                    record[key] = value
            self._stamp(record_type, record)

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
            self._stamp(record_type, data)
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
            self._check_references(data, PARENT_TARGETS.get(record_type, ()))
            self._check_custom_fields(data)
            settle = self._rules(record_type, data)
            written = self.insert(record_type, data)
            settle()
            return written

    def update(self, record_type: str, data: dict[str, Any]) -> Written:
        """NetSuite `update` by internalId or externalId; RCRD_DSNT_EXIST when missing; all or nothing.

        Fields given replace the stored ones, customFieldList merges by scriptId; applyLists follow `add`'s rules
        as keyed sublists (see `_keyed_lines`); other sublists given replace the stored ones.
        """
        with self._lock:
            current = self._lookup(record_type, data)
            if current is None:
                raise RecordError("RCRD_DSNT_EXIST", "That record does not exist.")
            changes = {k: v for k, v in data.items() if k not in ("internalId", "nullFieldList")}
            self._check_references(changes, PARENT_TARGETS.get(record_type, ()))
            self._check_custom_fields(changes)
            merged = dict(current)
            for key, value in changes.items():
                if key == "customFieldList" and isinstance(value, dict):
                    merged[key] = {**(current.get(key) or {}), **value}
                else:
                    merged[key] = value
            for name in (data.get("nullFieldList") or {}).get("name", []):
                merged.pop(name, None)
            index = self._external.setdefault(record_type, {})
            renamed: str | None = changes.get("externalId") or None
            if renamed == current.get("externalId"):
                renamed = None
            if renamed is not None and renamed in index:
                raise RecordError("DUP_RCRD", "This record already exists")
            if record_type in ("Invoice", "CreditMemo") and "itemList" in changes:
                merged["itemList"] = {"item": _item_lines(current.get("itemList"), changes["itemList"])}
                self._total(merged)
            settle = self._settlement(record_type, merged, current) if record_type in APPLY_TARGETS else _nothing
            if renamed is not None:
                if current.get("externalId"):
                    index.pop(current["externalId"], None)
                index[renamed] = current["internalId"]
            self._stamp(record_type, merged)
            self._records[record_type][current["internalId"]] = merged
            settle()
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
    def _check_custom_fields(self, data: Mapping[str, Any]) -> None:
        """Each value of a defined custom field must come in the CustomFieldRef type of the field's type."""
        for script_id, value in (data.get("customFieldList") or {}).items():
            kind = self.custom_field_types.get(script_id)
            if kind is None or value is None:
                continue
            expected = CUSTOM_FIELD_VALUES[kind]
            if not isinstance(value, expected) or (kind == "integer" and isinstance(value, bool)):
                # The code is NetSuite's (platform.faultTypes.xsd 2023_2); the wording is ours.
                raise RecordError(
                    "INVALID_CSTM_FIELD_DATA_TYP",
                    f"Invalid custom field data type: {script_id} is a {kind} field; {value!r} does not fit it.",
                )

    def _check_references(self, data: Mapping[str, Any], parents: tuple[str, ...] = ()) -> None:
        """Every RecordRef a record (or a sublist line) holds names an existing record; `parents`: what its
        `parent` may name."""
        for key, value in data.items():
            targets = parents if key == "parent" else REFERENCE_TARGETS.get(key)
            if targets and isinstance(value, dict) and ("internalId" in value or "externalId" in value):
                found = self.resolve(targets, value)
                shown = value.get("internalId") or value.get("externalId")
                if found is None or (key in ACCOUNT_TYPES and found[1].get("acctType") not in ACCOUNT_TYPES[key]):
                    raise RecordError("INVALID_KEY_OR_REF", f"Invalid {key} reference key {shown}.")
                value.setdefault("internalId", found[1]["internalId"])
            elif key in REFERENCE_LIST_TARGETS and isinstance(value, dict):
                target = REFERENCE_LIST_TARGETS[key]
                for ref in value.get("recordRef") or []:
                    if isinstance(ref, dict) and self.resolve((target,), ref) is None:
                        shown = ref.get("internalId") or ref.get("externalId")
                        raise RecordError("INVALID_KEY_OR_REF", f"Invalid {target.lower()} reference key {shown}.")
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

    def _rules(self, record_type: str, data: dict[str, Any]) -> Callable[[], None]:
        """Validate a new record and set its derived fields; return its side effects on other records."""
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
            data["itemList"] = {"item": _item_lines(None, {"item": lines})}
            total = self._total(data)
            if record_type == "Invoice":
                data.update(amountRemaining=total, amountPaid=0.0, status="Open")
            else:
                data["status"] = "Open"
        if record_type in APPLY_TARGETS:
            return self._settlement(record_type, data, None)
        return _nothing

    def _customer_id(self, data: Mapping[str, Any], field: str) -> str:
        ref = data.get(field)
        if not isinstance(ref, dict) or not ref.get("internalId"):
            raise RecordError("USER_ERROR", "Please enter value(s) for: Customer")
        return str(ref["internalId"])

    def _settlement(
        self, record_type: str, data: dict[str, Any], current: Mapping[str, Any] | None
    ) -> Callable[[], None]:
        """Check `data`'s applyList against what `current` (None on add) applied; set its lines and totals.

        Returns the effects on the records its lines name, for after the record is stored: each line moves its
        doc by (new - old) amount. Nothing changes when this raises.
        """
        customer_field, target_types = APPLY_TARGETS[record_type]
        customer = self._customer_id(data, customer_field)
        before = _applied(current)
        after: dict[str, float] = {}
        lines = []
        for line in _keyed_lines((current or {}).get("applyList"), data.get("applyList")):
            doc = str(line.get("doc", ""))
            found = self.resolve(target_types, {"internalId": doc})
            if found is None or str((found[1].get(CUSTOMER_FIELD[found[0]]) or {}).get("internalId")) != customer:
                raise RecordError("INVALID_KEY_OR_REF", f"Invalid apply reference key {doc}.")
            available = round(_money(found[1].get(OPEN_FIELD[found[0]])) + before.get(doc, 0.0), 2)
            amount = _money(line["amount"]) if line.get("amount") is not None else available
            if amount < 0:
                raise RecordError("INVALID_TRANS_AMT", f"The amount applied to transaction {doc} is negative.")
            if amount > available + 0.005:
                raise _over_applied(found[0], doc, amount, available)
            if amount > 0:
                after[doc] = amount
                lines.append({**line, "apply": True, "amount": amount})
        if lines:
            data["applyList"] = {"apply": lines}
        else:
            data.pop("applyList", None)
        total = round(sum(after.values()), 2)
        if record_type == "CustomerRefund":
            if not lines:
                raise RecordError(
                    "USER_ERROR", "A refund must apply to a credit memo or payment with unapplied credit."
                )
            data["total"] = total
        else:
            if record_type == "CustomerPayment":
                payment = _money(data.get("payment", total))
                data.update(payment=payment, total=payment)
            data["applied"] = total
            self._set_unapplied(record_type, data)
            if data["unapplied"] < -0.005:
                left, label = round(total + data["unapplied"], 2), CREDIT_LABEL[record_type]
                message = f"The total applied ({total:.2f}) exceeds the {label} less refunds ({left:.2f})."
                raise RecordError("INVALID_TRANS_AMT", message)
        moves = self._moves(record_type, before, after)
        return lambda: self._move(moves)

    def _moves(
        self, record_type: str, before: Mapping[str, float], after: Mapping[str, float]
    ) -> list[tuple[str, dict[str, Any], float]]:
        """(type, record, delta) of each doc whose amount applied by a `record_type` goes from `before` to `after`."""
        moves = []
        for doc in before.keys() | after.keys():
            delta = round(after.get(doc, 0.0) - before.get(doc, 0.0), 2)
            found = self.resolve(APPLY_TARGETS[record_type][1], {"internalId": doc}) if delta else None
            if found is not None:  # a deleted doc has nothing left to move
                moves.append((found[0], found[1], delta))
        return moves

    def _move(self, moves: Iterable[tuple[str, dict[str, Any], float]]) -> None:
        """Apply more (or less) to each doc: an invoice's amount due, or the cash refunded from a credit."""
        for target_type, target, delta in moves:
            if target_type == "Invoice":
                target["amountRemaining"] = round(_money(target.get("amountRemaining")) - delta, 2)
                target["amountPaid"] = round(_money(target.get("amountPaid")) + delta, 2)
                target["status"] = "Paid In Full" if target["amountRemaining"] <= 0 else "Open"
            else:
                key = str(target["internalId"])
                self._refunded[key] = round(self._refunded.get(key, 0.0) + delta, 2)
                self._set_unapplied(target_type, target)

    def _set_unapplied(self, record_type: str, credit: dict[str, Any]) -> None:
        """A payment's or credit memo's unapplied cash: its amount less what it applies and what refunds took."""
        refunded = self._refunded.get(str(credit.get("internalId")), 0.0)
        amount = _money(credit.get(CREDIT_AMOUNT[record_type]))
        credit["unapplied"] = round(amount - _money(credit.get("applied")) - refunded, 2)

    # -- search -----------------------------------------------------------------------------------------------
    def search(self, search_type: str, criteria: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(record type, internalId) of every record matching a SearchBasic's criteria, by internalId."""
        types = SEARCH_KINDS.get(search_type)
        if types is None:
            raise RecordError("INVALID_RCRD_TYPE", f"Search type {search_type} is not supported here.")
        with self._lock:
            hits = []
            for record_type in types:
                records = self._records.get(record_type, {})
                for internal_id in _candidates(records, criteria):
                    if _matches(record_type, self._searched(record_type, records[internal_id]), criteria):
                        hits.append((record_type, internal_id))
            return sorted(hits, key=lambda hit: int(hit[1]))

    def _searched(self, record_type: str, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """A record as a search sees it: a tree list's `name` is its full name, `nameNoHierarchy` its own; an
        account's own name is `acctName`."""
        if record_type not in HIERARCHICAL_TYPES:
            return record
        own_field = "acctName" if record_type == "Account" else "name"
        names = [str(record.get(own_field) or "")]
        seen = {str(record.get("internalId"))}
        parent = record.get("parent")
        while isinstance(parent, Mapping) and str(parent.get("internalId")) not in seen:
            seen.add(str(parent.get("internalId")))
            found = self._records.get(record_type, {}).get(str(parent.get("internalId")))
            if found is None:
                break
            names.insert(0, str(found.get(own_field) or ""))
            parent = found.get("parent")
        return {**record, "name": NAME_SEPARATOR.join(names), "nameNoHierarchy": names[-1]}


def _candidates(records: Mapping[str, Any], criteria: Mapping[str, Any]) -> Iterable[str]:
    """The internalIds a search need look at: those an `internalId anyOf` names, as NetSuite's index finds them
    (checking every record against a long id list would make the emulator quadratic), else all."""
    by_id = criteria.get("internalId")
    if not isinstance(by_id, Mapping) or by_id.get("operator") != "anyOf":
        return list(records)
    values = by_id.get("searchValue")
    refs = values if isinstance(values, list) else [values] if values else []
    return [i for i in dict.fromkeys(str(r.get("internalId")) for r in refs if isinstance(r, Mapping)) if i in records]


def _nothing() -> None:
    """No side effects."""


def _over_applied(target_type: str, doc: str, amount: float, available: float) -> RecordError:
    """The refusal of an applyList line that takes more than is open on its doc."""
    if target_type != "Invoice":
        # Code per NetSuite's answer to an over-refund (USER_ERROR); the wording is ours: no public capture found.
        return RecordError(
            "USER_ERROR",
            f"The refund amount ({amount:.2f}) exceeds the unapplied amount ({available:.2f}) of transaction {doc}.",
        )
    if available <= 0:
        return RecordError("USER_ERROR", f"Invoice {doc} is not open; it cannot be applied.")
    return RecordError(
        "INVALID_TRANS_AMT",
        f"The amount applied to invoice {doc} ({amount:.2f}) exceeds its amount due ({available:.2f}).",
    )


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


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _date_match(value: Any, operator: str, wanted: Any, wanted2: Any) -> bool:
    """A SearchDateField condition (platformCoreTyp:SearchDateFieldOperator) on a stored dateTime; a record without
    the date matches only `empty`."""
    seen, first, second = _moment(value), _moment(wanted), _moment(wanted2)
    if operator in ("empty", "notEmpty"):
        return (seen is None) == (operator == "empty")
    if seen is None or first is None:
        return False
    tests = {
        "after": seen > first,
        "onOrAfter": seen >= first,
        "before": seen < first,
        "onOrBefore": seen <= first,
        "on": seen == first,
        "notOn": seen != first,
        "within": second is not None and first <= seen <= second,
        "notWithin": second is None or not first <= seen <= second,
    }
    tests.update(notAfter=not tests["after"], notBefore=not tests["before"])
    tests.update(notOnOrAfter=not tests["onOrAfter"], notOnOrBefore=not tests["onOrBefore"])
    if operator not in tests:  # the SearchDateFieldOperator enum (platform.coreTypes.xsd 2023_2) has no other
        raise RecordError("INVALID_SEARCH_OPERATOR", f"The operator {operator} is not supported for a date field.")
    return tests[operator]


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
            own = record.get("acctType") if record_type == "Account" else SEARCH_TYPE_VALUES.get(record_type)
            hit = (own or record_type) in wanted_types
            if hit != (operator != "noneOf"):
                return False
        elif name == "customFieldList":
            fields = record.get("customFieldList") or {}
            for field in criterion.get("customField", []) or []:
                value = fields.get(field.get("scriptId"))
                wanted = field.get("searchValue", "")
                if isinstance(wanted, bool):  # SearchBooleanCustomField: an unset checkbox reads false
                    if _flag(value, False) != wanted:
                        return False
                elif not _string_match(value, field.get("operator", "is"), str(wanted)):
                    return False
        elif isinstance(values, list) and operator in ("anyOf", "noneOf"):  # an enum field: stage, status ...
            if (record.get(name) in values) != (operator == "anyOf"):
                return False
        elif name in ("isInactive", "mainLine"):
            if name == "isInactive" and bool(record.get("isInactive", False)) != bool(values):
                return False
        elif name == "lastModifiedDate":
            if not _date_match(record.get(name), operator, values, criterion.get("searchValue2")):
                return False
        elif "operator" in criterion and not _string_match(record.get(name), operator, str(values or "")):
            return False
    return True


KNOWN_TYPES = frozenset(
    (
        "Customer",
        "Currency",
        "Term",
        "PaymentMethod",
        "RevRecTemplate",
        "SalesTaxItem",
        *HIERARCHICAL_TYPES,
        *ITEM_TYPES,
        *TRANSACTION_TYPES,
    )
)
