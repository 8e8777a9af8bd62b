"""Zuora Refund -> NetSuite in two steps: unapply it from the synced Customer Payment, then a Customer Refund of
that payment (reference 4.12, 6.10).

Step 1 (`Updating Payment`) sets each refunded invoice's application on the NetSuite payment to what stays
applied in Zuora (`InvoicePayment.Amount - InvoicePayment.RefundAmount`; with Invoice Settlement, the payment's
parts now, invoices and debit memos alike): an absolute amount with `replaceAll` false, so sending it twice, or
once per refund of the same payment, leaves the same payment. Step 2 (`Creating Refund`) adds the
Customer Refund applied to the payment's now unapplied cash, with the refund's deterministic externalId.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    ORIGIN_FIELD,
    STATUS_FIELD,
    Dependency,
    Problem,
    Step,
    TransactionFlow,
    Write,
    dependency,
    money,
    record_name,
    skipped,
    without_none,
    zuora_date,
)
from zns_sync.flows.billing import Receivable, receivables
from zns_sync.flows.names import PAYMENT_METHOD
from zns_sync.flows.payment import APPLICATION_FIELDS
from zns_sync.netsuite import RecordRef
from zns_sync.status import Action
from zns_sync.zuora import zoql

UPDATING_PAYMENT = Step(Action.UPDATING, "Payment")
CREATING_REFUND = Step(Action.CREATING, "Refund")
# Refund.PaymentId is create-only (zuora-rest.md section 7): the payment is reached through its applications.
REFUND_APPLICATION_FIELDS = ("Id", "RefundId", "InvoicePaymentId", "InvoiceId", "RefundAmount")
PAYMENT_NUMBER = "PaymentNumber"
PAYMENT_FIELDS = ("Id", PAYMENT_NUMBER, INTEGRATION_ID_FIELD, STATUS_FIELD)


@dataclass(frozen=True)
class _Page:
    accounts: Mapping[str, Mapping[str, Any]]
    payment_of: Mapping[str, str]  # refund Id -> the Zuora payment it refunds
    payments: Mapping[str, Mapping[str, Any]]
    # refund Id -> (NetSuite invoice internalId, what stays applied to it): the absolute amounts of step 1
    remaining: Mapping[str, Sequence[tuple[str, Decimal]]]
    amounts: Mapping[str, Decimal]  # refund Id -> the amount of its NetSuite refund
    problems: Mapping[str, str]  # refund Id -> why its applications cannot be read
    waiting: Mapping[str, Problem]  # refund Id -> the invoice it waits for
    netsuite_methods: Mapping[str, str]


class RefundFlow(TransactionFlow):
    """Processed payment refunds on or after the cutover date, of accounts that sync, of synced payments."""

    name = "refund"
    netsuite_lists = (PAYMENT_METHOD,)
    source_object = "Refund"
    external_id_kind = "refund"
    status_value = "Processed"  # product.md 8: Zuora's refund status is Processed
    date_field = "RefundDate"
    counterpart_types = ("CustomerRefund",)
    number_field = "RefundNumber"
    fields = (
        "Id", "AccountId", "RefundNumber", "Amount", "RefundDate", "Type", "MethodType", "SourceType", "Status",
        "ReferenceID", "Comment", "TransferredToAccounting", "IntegrationId__NS", "IntegrationStatus__NS",
        "UpdatedDate",
    )  # fmt: skip
    steps = (UPDATING_PAYMENT, CREATING_REFUND)
    completion_fields = {ORIGIN_FIELD: "ZUORA"}

    def scope(self) -> list[list[zoql.Condition]]:
        # Payment refunds only: refunds of credit balances are not supported (reference 4.12).
        return [[*base, zoql.eq("SourceType", "Payment")] for base in super().scope()]

    @property
    def reads_each_record(self) -> bool:
        return self.settings.sync.invoice_settlement  # each refund and its payment's parts (`_settlement`)

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx = self.context
        read = self._settlement if self.settings.sync.invoice_settlement else self._invoice_payments
        accounts, (payment_of, remaining, amounts, problems, waiting) = ctx.concurrently(
            lambda: self.page_accounts(rows), lambda: read(rows)
        )
        payments = ctx.zuora_by_id("Payment", PAYMENT_FIELDS, payment_of.values())
        methods = ctx.names.all(PAYMENT_METHOD)
        return _Page(accounts, payment_of, payments, remaining, amounts, problems, waiting, methods)

    def _invoice_payments(self, rows: Sequence[dict[str, Any]]) -> tuple[Any, ...]:
        """Invoice Settlement off: RefundInvoicePayment -> InvoicePayment; what stays applied is
        `InvoicePayment.Amount - InvoicePayment.RefundAmount` for each refunded invoice (reference 6.10)."""
        ctx = self.context
        refunded = ctx.zuora_children(
            "RefundInvoicePayment", REFUND_APPLICATION_FIELDS, "RefundId", [r["Id"] for r in rows]
        )
        applications = ctx.zuora_by_id(
            "InvoicePayment",
            APPLICATION_FIELDS,
            [str(r["InvoicePaymentId"]) for found in refunded.values() for r in found],
        )
        invoices = receivables(ctx, [str(a["InvoiceId"]) for a in applications.values()], [])
        payment_of: dict[str, str] = {}
        remaining: dict[str, list[tuple[str, Decimal]]] = {}
        amounts: dict[str, Decimal] = {}
        problems: dict[str, str] = {}
        waiting: dict[str, Problem] = {}
        for refund, found in refunded.items():
            links = [applications.get(str(r["InvoicePaymentId"])) for r in found]
            payments = {str(a["PaymentId"]) for a in links if a is not None}
            if not found or None in links:
                problems[refund] = "the refund names no payment application (RefundInvoicePayment -> InvoicePayment)"
            elif len(payments) > 1:
                problems[refund] = f"the refund takes from {len(payments)} payments; NetSuite refunds one at a time"
            else:
                payment_of[refund] = payments.pop()
                remaining[refund] = []
                for link in filter(None, links):
                    invoice = invoices.get(str(link["InvoiceId"])) or Receivable("invoice", link["InvoiceId"], None)
                    problem = invoice.waiting()
                    if problem is not None:
                        waiting[refund] = problem
                    else:
                        net = money(link.get("Amount")) - money(link.get("RefundAmount"))
                        remaining[refund].append((str(invoice.netsuite_id), net))
                amounts[refund] = sum((money(r.get("RefundAmount")) for r in found), Decimal(0))
        return payment_of, remaining, amounts, problems, waiting

    def _settlement(self, rows: Sequence[dict[str, Any]]) -> tuple[Any, ...]:
        """Invoice Settlement on: the refund's payment (`GET /v1/refunds/{key}`); what stays applied is the
        payment's parts now (`GET /v1/payments/{key}/parts`: invoices and debit memos), for every document the
        NetSuite payment applies to: one no part names any more is unapplied. InvoicePayment and
        RefundInvoicePayment are deprecated there (zuora-rest.md section 7)."""
        ctx = self.context
        refunds = ctx.each(ctx.zuora.refund, [r["Id"] for r in rows])
        payment_of = {k: str(v["paymentId"]) for k, v in refunds.items() if v.get("paymentId")}
        parts = ctx.each(ctx.zuora.payment_parts, set(payment_of.values()))
        named = [p for found in parts.values() for p in found]
        documents = receivables(
            ctx,
            [str(p["invoiceId"]) for p in named if p.get("invoiceId")],
            [str(p["debitMemoId"]) for p in named if p.get("debitMemoId")],
        )
        applied: dict[str, dict[str, Decimal]] = {}  # payment Id -> {NetSuite document: amount applied now}
        for payment_id, found in parts.items():
            for part in found:
                document = documents.get(str(part.get("invoiceId") or part.get("debitMemoId")))
                if document is not None and document.netsuite_id is not None:
                    now = applied.setdefault(payment_id, {})
                    now[document.netsuite_id] = now.get(document.netsuite_id, Decimal(0)) + money(part.get("amount"))
        payments = ctx.zuora_by_id("Payment", PAYMENT_FIELDS, payment_of.values())
        in_netsuite = self._netsuite_applications(payments.values())
        remaining: dict[str, list[tuple[str, Decimal]]] = {}
        problems: dict[str, str] = {}
        for refund in refunds:
            payment = payments.get(payment_of.get(refund, ""))
            if payment is None:
                problems[refund] = "the refund names no payment (a credit memo or credit balance refund)"
            elif str(payment.get(INTEGRATION_ID_FIELD)) in in_netsuite:
                now = applied.get(payment["Id"], {})
                docs = sorted(in_netsuite[str(payment[INTEGRATION_ID_FIELD])])
                remaining[refund] = [(doc, now.get(doc, Decimal(0))) for doc in docs]
        amounts = {k: money(v.get("amount")) for k, v in refunds.items()}
        return payment_of, remaining, amounts, problems, {}

    def _netsuite_applications(self, payments: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
        """Synced payments' NetSuite records (getList), as {internalId: the NetSuite documents they apply to}."""
        synced = [str(p[INTEGRATION_ID_FIELD]) for p in payments if p.get(INTEGRATION_ID_FIELD)]
        reads = self.context.netsuite.get_list([RecordRef(internal_id=i, type="customerPayment") for i in synced])
        return {
            internal_id: {str(line["doc"]) for line in ((read.record or {}).get("applyList") or {}).get("apply") or []}
            for internal_id, read in zip(synced, reads, strict=True)
            if read.success
        }

    def _payment_id(self, row: Mapping[str, Any], page: _Page) -> str:
        return page.payment_of[row["Id"]]

    # -- selection and validations (reference 2.3, 4.12) ----------------------------------------------------
    def exclusion(self, row: Mapping[str, Any], page: _Page) -> str | None:
        return self.account_excluded(row, page.accounts)

    def dependencies(self, row: Mapping[str, Any], page: _Page) -> list[Dependency]:
        found = [self.account(row, page.accounts)]
        payment_id = page.payment_of.get(row["Id"])
        if payment_id is not None:  # else its applications cannot be read: `validate` says why
            payment = page.payments.get(payment_id)
            found.append(dependency("payment", "payment", payment_id, payment, PAYMENT_NUMBER, complete=True))
        return found

    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        if row["Id"] in page.problems:
            return skipped(page.problems[row["Id"]])
        if row["Id"] in page.waiting:
            return page.waiting[row["Id"]]
        if row["Id"] not in page.remaining:
            payment = page.payments[self._payment_id(row, page)]
            name = record_name("payment", payment["Id"], payment.get(PAYMENT_NUMBER))
            return skipped(f"{name}: its NetSuite record {payment[INTEGRATION_ID_FIELD]} is gone")
        if str(row.get("MethodType") or "") not in page.netsuite_methods:
            return skipped(PAYMENT_METHOD.miss(str(row.get("MethodType") or ""), "refund method type"))
        return None

    def group(self, row: Mapping[str, Any], page: _Page) -> str:
        return self._payment_id(row, page)  # two refunds of one payment never update it at the same time

    # -- mapping (reference 6.10) ---------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        payment_ns_id = str(page.payments[self._payment_id(row, page)][INTEGRATION_ID_FIELD])
        remaining = []
        for document, amount in page.remaining[row["Id"]]:
            doc = int(document)
            # An application of nothing is no application: NetSuite unapplies the invoice.
            remaining.append(
                {"doc": doc, "apply": True, "amount": amount} if amount > 0 else {"doc": doc, "apply": False}
            )
        unapply = self.update(
            UPDATING_PAYMENT, "CustomerPayment", payment_ns_id, {"applyList": {"apply": remaining, "replaceAll": False}}
        )
        ids = self.settings.netsuite_fields
        refund: dict[str, Any] = {
            "customer": RecordRef(internal_id=str(page.accounts[row["AccountId"]][INTEGRATION_ID_FIELD])),
            "tranDate": zuora_date(row.get("RefundDate")),
            "paymentMethod": RecordRef(internal_id=page.netsuite_methods[str(row["MethodType"])]),
            "applyList": {
                "apply": [
                    {
                        "doc": int(payment_ns_id),
                        "apply": True,
                        "amount": page.amounts[row["Id"]],
                    }
                ]
            },
        }
        if row.get("Comment"):
            refund["memo"] = row["Comment"]
        refund.update(self.named(row, page.accounts).fields)
        refund.update(self.tran_id(row))
        refund["customFieldList"] = without_none(
            {
                ids.transaction_zuora_id: row["Id"],
                ids.transaction_zuora_type: "PAYMENT_REFUND",
                ids.transaction_origin: "ZUORA",
                ids.transaction_reference_number: row.get("RefundNumber"),
                ids.transaction_sync_date: dt.date.today(),
            }
        )
        return [unapply, self.create(CREATING_REFUND, "CustomerRefund", refund, row["Id"])]
