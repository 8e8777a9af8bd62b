"""Zuora Payment (+ its applications) -> NetSuite Customer Payment, one applyList line each (reference 4.10, 6.8).

With Invoice Settlement a payment may pay debit memos too: their NetSuite Invoices (reference 2.3, 6.8).
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
    Dependency,
    Problem,
    Step,
    TransactionFlow,
    Write,
    money,
    skipped,
    without_none,
    zuora_date,
)
from zns_sync.flows.billing import Receivable, receivables
from zns_sync.flows.names import PAYMENT_METHOD
from zns_sync.netsuite import RecordRef
from zns_sync.status import BLANK, Action

CREATING_PAYMENT = Step(Action.CREATING, "Payment")
APPLICATION_FIELDS = ("Id", "InvoiceId", "PaymentId", "Amount", "RefundAmount")


@dataclass(frozen=True)
class Application:
    """A share of a payment applied to one Zuora document (an invoice, or with Invoice Settlement a debit memo)."""

    amount: Decimal
    invoice_id: str | None
    debit_memo_id: str | None = None

    @property
    def document(self) -> str:
        """The Zuora Id of the invoice or debit memo."""
        return str(self.invoice_id or self.debit_memo_id)


@dataclass(frozen=True)
class _Page:
    accounts: Mapping[str, Mapping[str, Any]]
    applications: Mapping[str, Sequence[Application]]  # by payment Id
    documents: Mapping[str, Receivable]  # the invoices and debit memos applied to, by Zuora Id
    method_types: Mapping[str, str]  # Zuora PaymentMethod Id -> Type
    netsuite_methods: Mapping[str, str]  # NetSuite payment method name -> internalId


class PaymentFlow(TransactionFlow):
    """Processed payments on or after the cutover date, of accounts that sync, applied to synced invoices (and with
    Invoice Settlement debit memos)."""

    name = "payment"
    netsuite_lists = (PAYMENT_METHOD,)
    source_object = "Payment"
    external_id_kind = "payment"
    status_value = "Processed"  # voided and cancelled payments never sync (reference 4.10)
    date_field = "EffectiveDate"
    counterpart_types = ("CustomerPayment",)
    number_field = "PaymentNumber"
    counterpart_amount_field = "payment"
    fields = (
        "Id", "AccountId", "PaymentNumber", "Amount", "EffectiveDate", "Type", "Status", "PaymentMethodId",
        "ReferenceId", "Comment", "TransferredToAccounting", "IntegrationId__NS", "IntegrationStatus__NS",
        "UpdatedDate",
    )  # fmt: skip
    steps = (CREATING_PAYMENT,)
    takes_custom_fields = True  # reference 4.18
    completion_fields = {ORIGIN_FIELD: "ZUORA"}

    @property
    def reads_each_record(self) -> bool:
        return self.settings.sync.invoice_settlement  # its parts (`_applications`)

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx = self.context
        accounts, applications, method_types = ctx.concurrently(
            lambda: self.page_accounts(rows),
            lambda: self._applications([r["Id"] for r in rows]),
            lambda: {
                k: str(v.get("Type") or "")
                for k, v in ctx.zuora_by_id(
                    "PaymentMethod", ("Id", "Type"), [str(r.get("PaymentMethodId") or "") for r in rows]
                ).items()
            },
        )
        applied = [a for apps in applications.values() for a in apps]
        return _Page(
            accounts=accounts,
            applications=applications,
            documents=receivables(ctx, *_split(applied)),
            method_types=method_types,
            netsuite_methods=ctx.names.all(PAYMENT_METHOD),
        )

    def _applications(self, payment_ids: Sequence[str]) -> dict[str, list[Application]]:
        """Each payment's applications: InvoicePayment rows (IS off), or the payment's parts through REST (IS on).

        With Invoice Settlement, InvoicePayment is deprecated and the parts (`GET /v1/payments/{key}/parts`)
        name invoices and debit memos; the unapplied part names neither and is not an application.
        """
        if not self.settings.sync.invoice_settlement:
            rows = self.context.zuora_children("InvoicePayment", APPLICATION_FIELDS, "PaymentId", payment_ids)
            return {
                payment: [Application(money(r.get("Amount")), str(r["InvoiceId"])) for r in found]
                for payment, found in rows.items()
            }
        parts = self.context.each(self.context.zuora.payment_parts, payment_ids)
        return {
            payment: [
                Application(money(p.get("amount")), p.get("invoiceId"), p.get("debitMemoId"))
                for p in found
                if p.get("invoiceId") or p.get("debitMemoId")
            ]
            for payment, found in parts.items()
        }

    # -- selection and validations (reference 2.3, 4.10) ----------------------------------------------------
    def exclusion(self, row: Mapping[str, Any], page: _Page) -> str | None:
        if not page.applications.get(row["Id"]):
            return "the payment is not applied to any invoice: an unapplied payment does not sync (reference 4.10)"
        return self.account_excluded(row, page.accounts)

    def dependencies(self, row: Mapping[str, Any], page: _Page) -> list[Dependency]:
        # Invoice Settlement off: the account must be Sync Complete too (reference 4.10).
        found = [self.account(row, page.accounts, complete=not self.settings.sync.invoice_settlement)]
        for application in page.applications.get(row["Id"], []):
            document = page.documents.get(application.document)
            kind, type_ = ("debit memo", "debit-memo") if application.debit_memo_id else ("invoice", "invoice")
            number = document.number if document is not None else None
            counterpart = document.netsuite_id if document is not None else None
            found.append(
                Dependency(kind, type_, application.document, number, BLANK, counterpart, counterpart is not None)
            )
        return found

    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        method = page.method_types.get(str(row.get("PaymentMethodId") or ""))
        if not method:
            return skipped(f"payment method {row.get('PaymentMethodId')!r} has no Type to match in NetSuite")
        if method not in page.netsuite_methods:
            return skipped(PAYMENT_METHOD.miss(method, "payment method type"))
        return None

    # -- mapping (reference 6.8) ----------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        applications = page.applications[row["Id"]]
        applied = sum((a.amount for a in applications), Decimal(0))
        # IS off: the amount is what is applied (overpayments are not synced); IS on: the payment's amount.
        amount = money(row.get("Amount")) if self.settings.sync.invoice_settlement else applied
        ids = self.settings.netsuite_fields
        fields: dict[str, Any] = {
            "customer": RecordRef(internal_id=str(page.accounts[row["AccountId"]][INTEGRATION_ID_FIELD])),
            "payment": amount,
            "tranDate": zuora_date(row.get("EffectiveDate")),
            "paymentMethod": RecordRef(internal_id=page.netsuite_methods[page.method_types[row["PaymentMethodId"]]]),
            "applyList": {
                "apply": [
                    {"doc": int(str(page.documents[a.document].netsuite_id)), "apply": True, "amount": a.amount}
                    for a in applications
                ]
            },
        }
        if row.get("Comment"):
            fields["memo"] = row["Comment"]
        fields.update(self.named(row, page.accounts).fields)
        fields.update(self.tran_id(row))
        fields["customFieldList"] = without_none(
            {
                ids.transaction_zuora_id: row["Id"],
                ids.transaction_origin: "ZUORA",
                ids.transaction_reference_number: row.get("PaymentNumber"),
                ids.transaction_sync_date: dt.date.today(),
            }
        )
        return [self.create(CREATING_PAYMENT, "CustomerPayment", fields, row["Id"])]


def _split(applications: Sequence[Application]) -> tuple[list[str], list[str]]:
    """The invoices and the debit memos applications name."""
    invoices = [str(a.invoice_id) for a in applications if a.invoice_id]
    return invoices, [str(a.debit_memo_id) for a in applications if a.debit_memo_id]
