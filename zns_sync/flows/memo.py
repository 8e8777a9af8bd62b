"""Invoice Settlement memos: Zuora Debit Memo -> NetSuite Invoice (reference 4.8, 6.15) and Zuora Credit Memo ->
NetSuite Credit Memo applied to the invoices and debit memos its parts name (reference 4.9, 6.14).

ZOQL refuses memos (zuora-rest.md section 3): they are listed with `GET /v1/creditmemos` / `GET /v1/debitmemos`,
their items and parts read per memo, and their statuses written with `PUT /v1/<memos>/bulk` (the "zuora-rest"
source). Fields, filters and shapes: zuora-credit-memos-api-openapi.yml (GET_CreditMemos, GET_CreditMemoItems,
GET_CreditMemoParts, PUT_UpdateCreditMemos) and the debit memo file of the same split (GET_DebitMemos,
GET_DebitMemoItems, PUT_UpdateDebitMemos).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    ORIGIN_FIELD,
    STATUS_FIELD,
    Problem,
    RestList,
    Step,
    Write,
    blocked,
    money,
    skipped,
    zuora_date,
)
from zns_sync.flows.billing import (
    INVOICE_ITEM,
    PRODUCT_CHARGE,
    SUBSCRIPTION_CHARGE,
    TRIGGER_FIELD,
    BillingFlow,
    ChargeRef,
    Line,
    Receivable,
    charge_line,
    line_problem,
    receivables,
    tax_line,
    transaction,
)
from zns_sync.status import SYNC_COMPLETE, Action
from zns_sync.zuora import zoql

CREATING_DEBIT_MEMO = Step(Action.CREATING, "Debit Memo")
CREATING_CREDIT_MEMO = Step(Action.CREATING, "Credit Memo")
# The fields both memo types read, by their REST names (GETCreditMemoTypewithSuccess, GETDebitMemoTypewithSuccess).
_COMMON = {
    "Id": "id", "AccountId": "accountId", "MemoNumber": "number", "Amount": "amount", "TaxAmount": "taxAmount",
    "Status": "status", "TransferredToAccounting": "transferredToAccounting", "Comment": "comment",
    "UpdatedDate": "updatedDate", INTEGRATION_ID_FIELD: INTEGRATION_ID_FIELD, STATUS_FIELD: STATUS_FIELD,
}  # fmt: skip


@dataclass(frozen=True)
class _Page:
    accounts: Mapping[str, Mapping[str, Any]]
    items: Mapping[str, Sequence[Mapping[str, Any]]]  # memo Id -> its items (each with its taxation items)
    charges: Mapping[ChargeRef, Mapping[str, Any]]
    parts: Mapping[str, Sequence[Mapping[str, Any]]]  # credit memo Id -> its parts
    settled: Mapping[str, Receivable]  # the invoices and debit memos the parts name, by Zuora Id
    invoice_items: Mapping[str, Mapping[str, Any]]  # the invoice items items credit (their rev rec trigger date)
    subscriptions: Mapping[str, Mapping[str, Any]]  # the items' subscriptions (with revenue recognition)


class _MemoFlow(BillingFlow):
    """Posted memos of accounts that sync, on or after the cutover date (reference 4.8, 4.9)."""

    number_field = "MemoNumber"
    customer_field = "entity"

    source = "zuora-rest"
    settlement = True
    status_value = "Posted"
    date_field = "MemoDate"
    kind: ClassVar[str]  # "debit memo", "credit memo"

    @property
    def reads_each_record(self) -> bool:
        return True  # its items, and a credit memo's parts

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx = self.context
        assert self.rest_list is not None
        resource = self.rest_list.resource
        ids = [r["Id"] for r in rows]
        accounts, items, parts = ctx.concurrently(
            lambda: self.page_accounts(rows),
            lambda: ctx.each(lambda key: ctx.zuora.memo_items(resource, key), ids),
            lambda: self._parts(ids),
        )
        every = [item for found in items.values() for item in found]
        refs = [_charge_ref(item) for item in every]
        named = [p for found in parts.values() for p in found]
        charges, settled, invoice_items, subscriptions = ctx.concurrently(
            lambda: self.charges.resolve(ref for ref in refs if ref is not None),
            lambda: receivables(
                ctx, [p["invoiceId"] for p in named if p.get("invoiceId")],
                [p["debitMemoId"] for p in named if p.get("debitMemoId")],
            ),
            lambda: self.invoice_items(ref[1] for ref in refs if ref is not None and ref[0] == INVOICE_ITEM),
            lambda: self.subscriptions(str(item.get("subscriptionId") or "") for item in every),
        )  # fmt: skip
        return _Page(accounts, items, charges, parts, settled, invoice_items, subscriptions)

    def _parts(self, memo_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Each memo's applications to other documents: a debit memo has none."""
        return {}

    def _lines(self, row: Mapping[str, Any], page: _Page) -> list[Line]:
        """One line per item (its amount without tax: reference 6.14, 6.15) and one per taxation item."""
        lines: list[Line] = []
        taxes: list[Line] = []
        for item in page.items.get(row["Id"], []):
            ref = _charge_ref(item)
            if ref is None:
                continue  # refused by validate
            day = zuora_date(item.get("serviceStartDate"))
            # A memo item has no trigger date of its own (GETCreditMemoItemTypewithSuccess): one crediting an
            # invoice item takes that item's; any other waits (deferred) for a person to set the dates.
            credited = page.invoice_items.get(ref[1], {}) if ref[0] == INVOICE_ITEM else {}
            period = self.period(
                item.get("serviceStartDate"),
                item.get("serviceEndDate"),
                credited.get(TRIGGER_FIELD),
                item.get("subscriptionId"),
                page.subscriptions,
            )
            lines.append(charge_line(str(item["id"]), ref, page.charges, item.get("amountWithoutTax"),
                                     item.get("quantity"), day, period=period))  # fmt: skip
            for tax in (item.get("taxationItems") or {}).get("data") or []:
                code = (tax.get("financeInformation") or {}).get("salesTaxPayableAccountingCode")
                taxes.append(tax_line(str(tax["id"]), tax.get("taxAmount"), code, zuora_date(tax.get("taxDate"))))
        return lines + taxes

    # -- selection and validations (reference 2.3, 4.8, 4.9) ------------------------------------------------
    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        waiting = self.account_waiting(row, page.accounts)
        if waiting is not None:
            return waiting
        for item in page.items.get(row["Id"], []):
            if _charge_ref(item) is None:
                return skipped(
                    f"item {item.get('id')} bills {item.get('sourceItemType')} {item.get('sourceItemId')}: only "
                    "subscription, invoice and product charges have a NetSuite item"
                )
            if (item.get("taxationItems") or {}).get("nextPage"):
                return skipped(f"item {item.get('id')} has more taxation items than one answer holds: not supported")
        return line_problem(self._lines(row, page), self.kind)

    def _fields(self, row: Mapping[str, Any], page: _Page, zuora_type: str) -> dict[str, Any]:
        """The NetSuite record of the memo (reference 6.14, 6.15): amounts as Zuora has them, never negative."""
        amount, tax = money(row.get("Amount")), money(row.get("TaxAmount"))
        return transaction(
            self.settings,
            zuora_id=row["Id"],
            zuora_type=zuora_type,
            entity=str(page.accounts[row["AccountId"]][INTEGRATION_ID_FIELD]),
            tran_date=zuora_date(row.get("MemoDate")),
            lines=self._lines(row, page),
            memo=row.get("Comment"),
            number=row.get("MemoNumber"),
            tax_amount=row.get("TaxAmount"),
            amount_without_tax=amount - tax,
            **self.document_named(row, page.accounts),
        )


class DebitMemoFlow(_MemoFlow):
    """Debit memos become NetSuite invoices (NetSuite has no debit memo), Zuora Type DEBIT_MEMO."""

    name = "debit-memo"
    source_object = "DebitMemo"
    counterpart_types = ("Invoice",)
    external_id_kind = "debit-memo"
    kind = "debit memo"
    bills = True  # taxed like an invoice: it runs even when NetSuite calculates tax (reference 2.2)
    # GET_DebitMemos filters: no transferredToAccounting (the source checks it on what it reads).
    rest_list = RestList(
        "debitmemos",
        {**_COMMON, "MemoDate": "debitMemoDate", "DueDate": "dueDate"},
        frozenset({"Status", "AccountId", "MemoDate"}),
    )
    fields = tuple(rest_list.fields)
    steps = (CREATING_DEBIT_MEMO,)

    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        fields = self._fields(row, page, "DEBIT_MEMO")
        if row.get("DueDate"):
            fields["dueDate"] = zuora_date(row["DueDate"])
        return [self.create(CREATING_DEBIT_MEMO, "Invoice", fields, row["Id"])]


class CreditMemoFlow(_MemoFlow):
    """Credit memos become NetSuite credit memos applied where their parts say, Zuora Type CREDIT_MEMO; memos that
    came from NetSuite (Origin__NS = NETSUITE) are never selected (reference 4.9)."""

    name = "credit-memo"
    source_object = "CreditMemo"
    counterpart_types = ("CreditMemo",)
    external_id_kind = "credit-memo"
    kind = "credit memo"
    rest_list = RestList(
        "creditmemos",
        {**_COMMON, "MemoDate": "creditMemoDate", ORIGIN_FIELD: ORIGIN_FIELD},
        frozenset({"Status", "AccountId", "MemoDate", "TransferredToAccounting"}),
    )
    fields = tuple(rest_list.fields)
    steps = (CREATING_CREDIT_MEMO,)
    takes_custom_fields = True  # reference 4.18

    def scope(self) -> list[list[zoql.Condition]]:
        # `!=` never matches an empty field (product.md 8): a memo without Origin__NS is selected explicitly.
        origin = [[zoql.is_null(ORIGIN_FIELD)], [zoql.ne(ORIGIN_FIELD, "NETSUITE")]]
        return [base + alternative for base in super().scope() for alternative in origin]

    def _parts(self, memo_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Each memo's applications: the parts naming an invoice or a debit memo (not the unapplied part)."""
        parts = self.context.each(self.context.zuora.credit_memo_parts, memo_ids)
        return {memo: [p for p in found if p.get("invoiceId") or p.get("debitMemoId")] for memo, found in parts.items()}

    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        account = page.accounts.get(row["AccountId"], {})
        if account.get(INTEGRATION_ID_FIELD) and account.get(STATUS_FIELD) != SYNC_COMPLETE:
            return blocked(f"account {row['AccountId']} is {account.get(STATUS_FIELD)!r}, not Sync Complete")
        for part in page.parts.get(row["Id"], []):
            problem = page.settled[_settled_id(part)].waiting()
            if problem is not None:
                return problem
        return super().validate(row, page)

    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        fields = self._fields(row, page, "CREDIT_MEMO")
        applications: dict[str, Decimal] = {}
        for part in page.parts.get(row["Id"], []):
            doc = str(page.settled[_settled_id(part)].netsuite_id)
            applications[doc] = applications.get(doc, Decimal(0)) + money(part.get("amount"))
        if applications:
            fields["applyList"] = {
                "apply": [{"doc": int(doc), "apply": True, "amount": amount} for doc, amount in applications.items()]
            }
        return [self.create(CREATING_CREDIT_MEMO, "CreditMemo", fields, row["Id"])]


def _charge_ref(item: Mapping[str, Any]) -> ChargeRef | None:
    """What a memo item bills, as Charges.resolve reads it; None for an order line item (not supported)."""
    kind, key = item.get("sourceItemType"), item.get("sourceItemId")
    if kind in (SUBSCRIPTION_CHARGE, INVOICE_ITEM, PRODUCT_CHARGE) and key:
        return str(kind), str(key)
    return None


def _settled_id(part: Mapping[str, Any]) -> str:
    return str(part.get("invoiceId") or part["debitMemoId"])
