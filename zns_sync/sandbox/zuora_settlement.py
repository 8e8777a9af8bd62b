"""The Zuora emulator's Invoice Settlement REST resources: payment parts, refunds, credit and debit memos.

Shapes follow Zuora's OpenAPI split (`../shared/vendor-specs/zuora-openapi/`: the payments, refunds and credit
memos files; the debit memos file of the same split, api-evangelist/zuora `openapi/zuora-debit-memos-api-openapi.yml`
at bfa2f2e8, for `/v1/debitmemos`): camelCase fields, the `__NS` custom fields by their own names, dateTimes
`2017-03-01 11:30:37` in the tenant's zone, lists paged with `page` and `pageSize` (1 to 40, default 20) and an
absolute `nextPage` URL while more remain. A tenant without Invoice Settlement refuses all of them ("This
operation is only available if you have Invoice Settlement enabled", each operation's description).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from zns_sync.sandbox.zuora_store import ZuoraStore

MAX_PAGE_SIZE = 40  # GLOBAL_REQUEST_pageSize: maximum 40, default 20
DEFAULT_PAGE_SIZE = 20
MAX_MEMOS_PER_UPDATE = 50  # PUTBulkCreditMemosRequestType / PUTBulkDebitMemosRequestType: memos maxItems 50
MAX_NS_FIELD_LENGTH = 255
# transferredToAccounting as PUTCreditMemoType / PUTDebitMemoType take it (REST allows No, unlike Actions).
MEMO_TTA = ("Processing", "Yes", "No", "Error", "Ignore")
# From Zuora-Version 239.0 on, memo items carry `taxationItems: {data, nextPage}` instead of `creditTaxItems` /
# `taxItems` (GETCreditMemoItemTypewithSuccess, GETDebitMemoItemTypewithSuccess).
TAXATION_ITEMS_VERSION = 239.0
_DATED = re.compile(r"\d{4}-\d{2}-\d{2}\Z")

# Refund fields as GET /v1/refunds/{refundKey} names them (zuora-refunds-api-openapi.yml, GETRefundType).
REFUND_REST_FIELDS = {
    "Id": "id", "RefundNumber": "number", "AccountId": "accountId", "Amount": "amount", "RefundDate": "refundDate",
    "Type": "type", "MethodType": "methodType", "Status": "status", "PaymentId": "paymentId",
    "PaymentMethodId": "paymentMethodId", "ReasonCode": "reasonCode", "ReferenceID": "referenceId",
    "Comment": "comment", "CreatedDate": "createdDate", "UpdatedDate": "updatedDate",
    "IntegrationId__NS": "IntegrationId__NS", "IntegrationStatus__NS": "IntegrationStatus__NS",
    "SyncDate__NS": "SyncDate__NS", "Origin__NS": "Origin__NS", "SynctoNetSuite__NS": "SynctoNetSuite__NS",
}  # fmt: skip
_NS_FIELDS = {name: name for name in ("IntegrationId__NS", "IntegrationStatus__NS", "SyncDate__NS")}
# Memo fields by their REST names (GETCreditMemoTypewithSuccess, GETDebitMemoTypewithSuccess).
CREDIT_MEMO_REST_FIELDS = {
    "Id": "id", "MemoNumber": "number", "AccountId": "accountId", "Amount": "amount", "AppliedAmount": "appliedAmount",
    "UnappliedAmount": "unappliedAmount", "RefundAmount": "refundAmount", "TaxAmount": "taxAmount",
    "TotalTaxExemptAmount": "totalTaxExemptAmount", "MemoDate": "creditMemoDate", "TargetDate": "targetDate",
    "PostedOn": "postedOn", "Status": "status", "TransferredToAccounting": "transferredToAccounting",
    "ReferredInvoiceId": "referredInvoiceId", "ReasonCode": "reasonCode", "Currency": "currency",
    "Comment": "comment", "Source": "source", "SourceType": "sourceType", "CreatedDate": "createdDate",
    "UpdatedDate": "updatedDate", "Origin__NS": "Origin__NS", "Transaction__NS": "Transaction__NS", **_NS_FIELDS,
}  # fmt: skip
DEBIT_MEMO_REST_FIELDS = {
    "Id": "id", "MemoNumber": "number", "AccountId": "accountId", "Amount": "amount", "Balance": "balance",
    "TaxAmount": "taxAmount", "TotalTaxExemptAmount": "totalTaxExemptAmount", "MemoDate": "debitMemoDate",
    "DueDate": "dueDate", "TargetDate": "targetDate", "PostedOn": "postedOn", "Status": "status",
    "TransferredToAccounting": "transferredToAccounting", "ReferredInvoiceId": "referredInvoiceId",
    "ReasonCode": "reasonCode", "Currency": "currency", "Comment": "comment", "SourceType": "sourceType",
    "CreatedDate": "createdDate", "UpdatedDate": "updatedDate", **_NS_FIELDS,
}  # fmt: skip
MEMO_ITEM_REST_FIELDS = {
    "Id": "id", "Amount": "amount", "AmountWithoutTax": "amountWithoutTax", "SourceItemType": "sourceItemType",
    "SourceItemId": "sourceItemId", "ServiceStartDate": "serviceStartDate", "ServiceEndDate": "serviceEndDate",
    "Quantity": "quantity", "UnitPrice": "unitPrice", "SKU": "sku", "ProcessingType": "processingType",
    "SubscriptionId": "subscriptionId", "CreatedDate": "createdDate", "UpdatedDate": "updatedDate",
}  # fmt: skip
TAX_ITEM_REST_FIELDS = {
    "Id": "id", "TaxAmount": "taxAmount", "TaxDate": "taxDate", "Name": "name", "TaxRate": "taxRate",
    "TaxRateType": "taxRateType", "TaxRateDescription": "taxRateDescription", "Jurisdiction": "jurisdiction",
}  # fmt: skip
PART_REST_FIELDS = {
    "Id": "id", "InvoiceId": "invoiceId", "DebitMemoId": "debitMemoId", "Amount": "amount",
    "CreatedDate": "createdDate", "UpdatedDate": "updatedDate",
}  # fmt: skip
# Query parameters GET_CreditMemos and GET_DebitMemos declare as filters (the rest of a memo is not filterable).
CREDIT_MEMO_FILTERS = frozenset(
    {"accountId", "accountNumber", "amount", "appliedAmount", "createdDate", "creditMemoDate", "currency", "number",
     "referredInvoiceId", "refundAmount", "status", "targetDate", "taxAmount", "totalTaxExemptAmount",
     "transferredToAccounting", "unappliedAmount", "updatedDate"}
)  # fmt: skip
DEBIT_MEMO_FILTERS = frozenset(
    {"accountId", "accountNumber", "amount", "balance", "createdDate", "currency", "debitMemoDate", "dueDate",
     "number", "referredInvoiceId", "status", "targetDate", "taxAmount", "totalTaxExemptAmount", "updatedDate"}
)  # fmt: skip


class RestFailure(Exception):
    """A REST error: the HTTP status it maps to (from Zuora-Version 2024-05-20 on) and Zuora's 8-digit code."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class _Memos:
    """What differs between credit and debit memos: the store objects and the REST names."""

    def __init__(self, resource: str, kind: str, fields: dict[str, str], filters: frozenset[str], old_taxes: str):
        self.resource = resource  # creditmemos, debitmemos
        self.object = f"{kind}Memo"  # CreditMemo, DebitMemo
        self.item = f"{kind}MemoItem"
        self.tax = f"{kind}TaxationItem"
        self.parent = f"{kind}MemoId"
        self.item_parent = f"{kind}MemoItemId"
        self.fields = fields
        self.filters = filters
        self.old_taxes = old_taxes  # the item's taxation list below Zuora-Version 239.0


MEMOS = {
    "creditmemos": _Memos("creditmemos", "Credit", CREDIT_MEMO_REST_FIELDS, CREDIT_MEMO_FILTERS, "creditTaxItems"),
    "debitmemos": _Memos("debitmemos", "Debit", DEBIT_MEMO_REST_FIELDS, DEBIT_MEMO_FILTERS, "taxItems"),
}


class Settlement:
    """The REST resources of an Invoice Settlement tenant over the emulator's store."""

    def __init__(self, store: ZuoraStore, enabled: bool, url: Callable[[], str], count: Callable[[], None]) -> None:
        self.store = store
        self.enabled = enabled
        self.url = url
        self._count_write = count

    def route(
        self, method: str, segments: list[str], query: str, body: Any, headers: Mapping[str, str]
    ) -> tuple[int, Any] | None:
        """The answer to a request for one of these resources, or None when the path is not one of them."""
        found = self._handler(method, segments)
        if found is None:
            return None
        if not self.enabled:
            raise RestFailure(403, 50000010, "This operation is only available if you have Invoice Settlement enabled.")
        handler, args = found
        return 200, handler(*args, params=parse_qs(query), body=body, headers=headers)

    def _handler(self, method: str, segments: list[str]) -> tuple[Callable[..., Any], tuple[str, ...]] | None:
        # segments of "/v1/<resource>/<key>/<sub>": ["", "v1", resource, key?, sub?]
        resource = segments[2] if len(segments) > 2 else ""
        keys = [unquote(s) for s in segments[3:]]
        if resource == "payments" and len(keys) == 2 and keys[1] == "parts" and method == "GET":
            return self._payment_parts, (keys[0],)
        if resource == "refunds" and len(keys) == 1 and method == "GET":
            return self._refund, (keys[0],)
        if resource not in MEMOS:
            return None
        if not keys and method == "GET":
            return self._list, (resource,)
        if keys == ["bulk"] and method == "PUT":
            return self._update, (resource,)
        if len(keys) == 1 and method == "GET":
            return self._memo, (resource, keys[0])
        if len(keys) == 2 and keys[1] == "items" and method == "GET":
            return self._items, (resource, keys[0])
        if len(keys) == 2 and keys[1] == "parts" and method == "GET" and resource == "creditmemos":
            return self._memo_parts, (keys[0],)
        return None

    # -- payments and refunds ------------------------------------------------------------------------------
    def _payment_parts(self, key: str, *, params: dict[str, list[str]], **_: Any) -> dict[str, Any]:
        """A payment's parts: its PaymentPart rows with an amount left (a fully refunded payment has none)."""
        return self._parts(
            ("Payment", "PaymentNumber", "PaymentPart"), key, f"/v1/payments/{quote(key, safe='')}", params
        )

    def _refund(self, key: str, **_: Any) -> dict[str, Any]:
        """One refund by Id or number, in the REST shape (GETRefundType): `paymentId` for a payment refund."""
        with self.store.lock:
            refund = self._find("Refund", "RefundNumber", key)
        return {"success": True, **self._render(refund, REFUND_REST_FIELDS, keep_nulls=True)}

    # -- memos -----------------------------------------------------------------------------------------------
    def _list(self, resource: str, *, params: dict[str, list[str]], **_: Any) -> dict[str, Any]:
        """GET_CreditMemos / GET_DebitMemos: equality on the declared filters (`null` asks for an empty field)."""
        memos = MEMOS[resource]
        filters = {k: v[0] for k, v in params.items() if k in memos.filters}
        with self.store.lock:
            rows = [self._memo_json(memos, dict(m)) for m in self.store.rows(memos.object)]
        selected = [row for row in rows if all(_equal(row.get(k), v) for k, v in filters.items())]
        return self._page(selected, resource, f"/v1/{resource}", params, filters)

    def _memo(self, resource: str, key: str, **_: Any) -> dict[str, Any]:
        memos = MEMOS[resource]
        with self.store.lock:
            memo = self._find(memos.object, "MemoNumber", key)
        return {**self._memo_json(memos, memo), "success": True}

    def _items(
        self, resource: str, key: str, *, params: dict[str, list[str]], headers: Mapping[str, str], **_: Any
    ) -> dict[str, Any]:
        memos = MEMOS[resource]
        with self.store.lock:
            memo = self._find(memos.object, "MemoNumber", key)
            items = [dict(i) for i in self.store.rows(memos.item) if i.get(memos.parent) == memo["Id"]]
            taxes = [dict(t) for t in self.store.rows(memos.tax) if t.get(memos.parent) == memo["Id"]]
        rows = []
        for item in items:
            row = self._render(item, MEMO_ITEM_REST_FIELDS)
            mine = [self._tax_json(t) for t in taxes if t.get(memos.item_parent) == item["Id"]]
            if _version(headers) >= TAXATION_ITEMS_VERSION:
                row["taxationItems"] = {"data": mine}
            else:
                row[memos.old_taxes] = mine
            rows.append(row)
        return self._page(rows, "items", f"/v1/{resource}/{quote(key, safe='')}/items", params, {})

    def _memo_parts(self, key: str, *, params: dict[str, list[str]], **_: Any) -> dict[str, Any]:
        """A credit memo's parts: one per invoice or debit memo it is applied to (a fully refunded memo has none)."""
        path = f"/v1/creditmemos/{quote(key, safe='')}"
        return self._parts(("CreditMemo", "MemoNumber", "CreditMemoPart"), key, path, params)

    def _parts(
        self, objects: tuple[str, str, str], key: str, path: str, params: dict[str, list[str]]
    ) -> dict[str, Any]:
        """The parts (`<Object>Id` rows of the part object with an amount left) of the object with this Id or number."""
        object_type, number_field, part_type = objects
        with self.store.lock:
            owner = self._find(object_type, number_field, key)
            parts = [dict(p) for p in self.store.rows(part_type) if p.get(f"{object_type}Id") == owner["Id"]]
        rows = [self._render(p, PART_REST_FIELDS, keep_nulls=True) for p in parts if p.get("Amount", 0.0) > 0]
        return self._page(rows, "parts", f"{path}/parts", params, {})

    def _update(self, resource: str, *, body: Any, **_: Any) -> dict[str, Any]:
        """PUT_UpdateCreditMemos / PUT_UpdateDebitMemos: each memo its own transaction, answered in order."""
        memos = MEMOS[resource]
        updates = body.get("memos") if isinstance(body, dict) else None
        if not isinstance(updates, list) or not all(isinstance(u, dict) for u in updates):
            raise RestFailure(400, 50000020, "memos must be a list of objects")
        if len(updates) > MAX_MEMOS_PER_UPDATE:
            raise RestFailure(400, 50000020, f"at most {MAX_MEMOS_PER_UPDATE} memos per request, got {len(updates)}")
        return {"memos": [self._update_one(memos, u, index) for index, u in enumerate(updates)], "success": True}

    def _update_one(self, memos: _Memos, update: dict[str, Any], index: int) -> dict[str, Any]:
        memo_id = update.get("id")
        writable = {rest: field for field, rest in memos.fields.items() if field.endswith("__NS")}
        writable.update(transferredToAccounting="TransferredToAccounting", comment="Comment", reasonCode="ReasonCode")
        with self.store.lock:
            existing = self.store.get(memos.object, str(memo_id)) if isinstance(memo_id, str) else None
            try:
                if existing is None:
                    raise RestFailure(404, 50000040, f"Cannot find a {memos.object} instance with id {memo_id}.")
                fields: dict[str, str | None] = {}
                for name, value in update.items():
                    field = writable.get(name)
                    if field is None:
                        continue  # unknown and read-only fields are ignored
                    if value is not None and not isinstance(value, str):
                        raise RestFailure(400, 50000020, f"{name} must be a string, got {value!r}")
                    if field == "TransferredToAccounting" and value not in MEMO_TTA:
                        allowed = ", ".join(MEMO_TTA)
                        raise RestFailure(400, 50000020, f"transferredToAccounting must be one of {allowed}")
                    if field.endswith("__NS") and value is not None and len(value) > MAX_NS_FIELD_LENGTH:
                        raise RestFailure(400, 50000020, f"{field} is longer than {MAX_NS_FIELD_LENGTH} characters")
                    fields[field] = value
                memo = self.store.set(memos.object, str(memo_id), fields)
            except RestFailure as failure:
                reasons = [{"code": failure.code, "message": failure.message}]
                process = secrets.token_hex(8).upper()
                return {"success": False, "id": memo_id, "processId": process, "reasons": reasons, "objectIndex": index}
        self._count_write()
        return {**self._memo_json(memos, memo), "success": True}

    # -- rendering -------------------------------------------------------------------------------------------
    def _find(self, object_type: str, number_field: str, key: str) -> dict[str, Any]:
        """An object by Id or number (call under the store's lock)."""
        found = self.store.get(object_type, key) or next(
            (dict(r) for r in self.store.rows(object_type) if r.get(number_field) == key), None
        )
        if found is None:
            raise RestFailure(404, 50000040, f"Cannot find entity by key: '{key}'.")
        return found

    def _memo_json(self, memos: _Memos, memo: dict[str, Any]) -> dict[str, Any]:
        row = self._render(memo, memos.fields, keep_nulls=True)
        row.update(self._render(memo, {f: f for f in memo if f.endswith("__c")}))  # the tenant's custom fields
        row["transferredToAccounting"] = row["transferredToAccounting"] or "No"  # a new memo reads No (the examples)
        account = self.store.get("Account", str(memo.get("AccountId")))
        row["accountNumber"] = (account or {}).get("AccountNumber")
        return row

    def _tax_json(self, tax: dict[str, Any]) -> dict[str, Any]:
        row = self._render(tax, TAX_ITEM_REST_FIELDS)
        row["financeInformation"] = {"salesTaxPayableAccountingCode": tax.get("AccountingCode")}
        return row

    def _render(self, record: Mapping[str, Any], names: Mapping[str, str], keep_nulls: bool = False) -> dict[str, Any]:
        tz = self.store.timezone
        row: dict[str, Any] = {}
        for field, name in names.items():
            value = record.get(field)
            if isinstance(value, dt.datetime):
                value = value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
            elif isinstance(value, dt.date):
                value = value.isoformat()
            if value is not None or keep_nulls:
                row[name] = value
        return row

    def _page(
        self, rows: list[dict[str, Any]], key: str, path: str, params: dict[str, list[str]], filters: Mapping[str, str]
    ) -> dict[str, Any]:
        page = _integer(params, "page", 1, None, 1)
        size = _integer(params, "pageSize", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)
        start = (page - 1) * size
        result: dict[str, Any] = {key: rows[start : start + size], "success": True}
        if start + size < len(rows):
            more = "".join(f"&{quote(k)}={quote(v)}" for k, v in filters.items())
            result["nextPage"] = f"{self.url()}{path}?page={page + 1}&pageSize={size}{more}"
        return result


def _equal(value: Any, wanted: str) -> bool:
    if wanted == "null":
        return value in (None, "")
    if isinstance(value, bool):
        return str(value).lower() == wanted
    if isinstance(value, int | float):
        try:
            return float(wanted) == value
        except ValueError:
            return False
    return bool(value == wanted)


def _integer(params: dict[str, list[str]], name: str, low: int, high: int | None, default: int) -> int:
    """An integer query parameter within [low, high]; a REST 400 (category 20) otherwise."""
    values = params.get(name)
    if not values:
        return default
    text = values[0]
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        limits = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise RestFailure(400, 50000020, f"{name} must be an integer {limits}, got {text!r}")
    return int(text)


def _version(headers: Mapping[str, str]) -> float:
    """The request's minor version as a number (a dated version is newer than every numbered one; none: 186.0)."""
    text = headers.get("zuora-version", "")
    if _DATED.match(text):
        return float("inf")
    try:
        return float(text)
    except ValueError:
        return 186.0
