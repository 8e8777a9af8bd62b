"""Zuora Refund -> NetSuite in two steps: unapply it from the synced Customer Payment, then a Customer Refund of
that payment (reference 4.12, 6.10).

Step 1 (`Updating Payment`) sets each refunded invoice's application on the NetSuite payment to
`InvoicePayment.Amount - InvoicePayment.RefundAmount`: an absolute amount with `replaceAll` false, so sending it
twice, or once per refund of the same payment, leaves the same payment. Step 2 (`Creating Refund`) adds the
Customer Refund applied to the payment's now unapplied cash, with the refund's deterministic externalId.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    ORIGIN_FIELD,
    STATUS_FIELD,
    Problem,
    Step,
    TransactionFlow,
    Write,
    blocked,
    money,
    skipped,
    without_none,
    zuora_date,
)
from zns_sync.flows.payment import APPLICATION_FIELDS, INVOICE_FIELDS
from zns_sync.netsuite import RecordRef
from zns_sync.status import SYNC_COMPLETE, Action
from zns_sync.zuora import zoql

UPDATING_PAYMENT = Step(Action.UPDATING, "Payment")
CREATING_REFUND = Step(Action.CREATING, "Refund")
# Refund.PaymentId is create-only (zuora-rest.md section 7): the payment is reached through its applications.
REFUND_APPLICATION_FIELDS = ("Id", "RefundId", "InvoicePaymentId", "InvoiceId", "RefundAmount")


@dataclass(frozen=True)
class _Page:
    accounts: Mapping[str, Mapping[str, Any]]
    refunded: Mapping[str, Sequence[Mapping[str, Any]]]  # RefundInvoicePayment rows by refund Id
    applications: Mapping[str, Mapping[str, Any]]  # InvoicePayment by Id
    payments: Mapping[str, Mapping[str, Any]]
    invoices: Mapping[str, Mapping[str, Any]]
    netsuite_methods: Mapping[str, str]


class RefundFlow(TransactionFlow):
    """Processed payment refunds on or after the cutover date, of accounts that sync, of synced payments."""

    name = "refund"
    source_object = "Refund"
    external_id_kind = "refund"
    status_value = "Processed"  # product.md 8: Zuora's refund status is Processed
    date_field = "RefundDate"
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

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx = self.context
        accounts, refunded = ctx.concurrently(
            lambda: self.accounts(rows),
            lambda: ctx.zuora_children(
                "RefundInvoicePayment", REFUND_APPLICATION_FIELDS, "RefundId", [r["Id"] for r in rows]
            ),
        )
        applications = ctx.zuora_by_id(
            "InvoicePayment",
            APPLICATION_FIELDS,
            [str(r["InvoicePaymentId"]) for found in refunded.values() for r in found],
        )
        payments, invoices = ctx.concurrently(
            lambda: ctx.zuora_by_id(
                "Payment",
                ("Id", "PaymentNumber", INTEGRATION_ID_FIELD, STATUS_FIELD),
                [str(a["PaymentId"]) for a in applications.values()],
            ),
            lambda: ctx.zuora_by_id("Invoice", INVOICE_FIELDS, [str(a["InvoiceId"]) for a in applications.values()]),
        )
        return _Page(accounts, refunded, applications, payments, invoices, ctx.netsuite_names("paymentMethod", "name"))

    def _payment_id(self, row: Mapping[str, Any], page: _Page) -> str:
        first = page.refunded[row["Id"]][0]
        return str(page.applications[str(first["InvoicePaymentId"])]["PaymentId"])

    # -- selection and validations (reference 2.3, 4.12) ----------------------------------------------------
    def exclusion(self, row: Mapping[str, Any], page: _Page) -> str | None:
        return self.account_excluded(row, page.accounts)

    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        if not page.accounts.get(row["AccountId"], {}).get(INTEGRATION_ID_FIELD):
            return blocked(f"account {row['AccountId']} is not synced to NetSuite yet")
        refunded = page.refunded.get(row["Id"], [])
        if not refunded or any(str(r["InvoicePaymentId"]) not in page.applications for r in refunded):
            return skipped("the refund names no payment application (RefundInvoicePayment -> InvoicePayment)")
        payments = {str(page.applications[str(r["InvoicePaymentId"])]["PaymentId"]) for r in refunded}
        if len(payments) > 1:
            return skipped(f"the refund takes from {len(payments)} payments; NetSuite refunds one payment at a time")
        payment = page.payments.get(self._payment_id(row, page), {})
        if payment.get(STATUS_FIELD) != SYNC_COMPLETE or not payment.get(INTEGRATION_ID_FIELD):
            name = payment.get("PaymentNumber") or self._payment_id(row, page)
            return blocked(f"payment {name} is not synced to NetSuite yet")
        for application in refunded:
            invoice = page.invoices.get(str(application["InvoiceId"]), {})
            if not invoice.get(INTEGRATION_ID_FIELD):
                return blocked(f"invoice {invoice.get('InvoiceNumber') or application['InvoiceId']} is not synced yet")
        if str(row.get("MethodType") or "") not in page.netsuite_methods:
            return skipped(f"refund method type {row.get('MethodType')!r} matches no NetSuite payment method by name")
        return None

    def group(self, row: Mapping[str, Any], page: _Page) -> str:
        return self._payment_id(row, page)  # two refunds of one payment never update it at the same time

    # -- mapping (reference 6.10) ---------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        payment_ns_id = str(page.payments[self._payment_id(row, page)][INTEGRATION_ID_FIELD])
        remaining = []
        for refunded in page.refunded[row["Id"]]:
            application = page.applications[str(refunded["InvoicePaymentId"])]
            amount = money(application.get("Amount")) - money(application.get("RefundAmount"))
            doc = int(page.invoices[str(application["InvoiceId"])][INTEGRATION_ID_FIELD])
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
                        "amount": sum((money(r.get("RefundAmount")) for r in page.refunded[row["Id"]]), Decimal(0)),
                    }
                ]
            },
        }
        if row.get("Comment"):
            refund["memo"] = row["Comment"]
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
