"""Zuora Invoice Item Adjustment (Invoice Settlement off) -> NetSuite Credit Memo applied to the synced invoice
(a credit adjustment) or NetSuite Invoice (a charge adjustment) (reference 4.14, 6.12).

The one line's item is the adjusted invoice item's product charge (SourceType InvoiceDetail) or, for an
adjustment of a taxation item (SourceType Tax), the tax item its AccountingCode names. A charge adjustment keeps a
soft link to the original invoice in the "Zuora Related Transaction" field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    Problem,
    Step,
    Write,
    blocked,
    money,
    skipped,
    zuora_date,
)
from zns_sync.flows.billing import (
    INVOICE_FIELDS,
    INVOICE_ITEM,
    TRIGGER_FIELD,
    BillingFlow,
    ChargeRef,
    Line,
    charge_line,
    line_problem,
    tax_line,
    transaction,
)
from zns_sync.status import Action

CREATING_CREDIT_MEMO = Step(Action.CREATING, "Credit Memo")  # a credit adjustment
CREATING_INVOICE = Step(Action.CREATING, "Invoice")  # a charge adjustment
TAX = "Tax"  # SourceType of an adjustment of a taxation item (its SourceId is the TaxationItem's Id)


@dataclass(frozen=True)
class _Page:
    accounts: Mapping[str, Mapping[str, Any]]
    invoices: Mapping[str, Mapping[str, Any]]
    charges: Mapping[ChargeRef, Mapping[str, Any]]
    taxes: Mapping[str, Mapping[str, Any]]  # the adjusted taxation items, by Id
    invoice_items: Mapping[str, Mapping[str, Any]]  # the adjusted invoice items (their rev rec trigger date)
    subscriptions: Mapping[str, Mapping[str, Any]]  # their subscriptions (with revenue recognition)


class AdjustmentFlow(BillingFlow):
    """Processed adjustments on or after the cutover date, of accounts that sync, of synced invoices."""

    name = "adjustment"
    source_object = "InvoiceItemAdjustment"
    counterpart_types = ("CreditMemo", "Invoice")
    number_field = "AdjustmentNumber"
    customer_field = "entity"
    external_id_kind = "adjustment"
    status_value = "Processed"
    date_field = "AdjustmentDate"
    settlement = False
    fields = (
        "Id", "AccountId", "InvoiceId", "InvoiceNumber", "SourceId", "SourceType", "Type", "Amount",
        "AdjustmentDate", "AdjustmentNumber", "Comment", "Status", "TransferredToAccounting", "IntegrationId__NS",
        "IntegrationStatus__NS", "UpdatedDate", "ServiceStartDate", "ServiceEndDate",
    )  # fmt: skip
    steps = (CREATING_CREDIT_MEMO, CREATING_INVOICE)

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx = self.context
        items = [str(r.get("SourceId") or "") for r in rows if r.get("SourceType") != TAX]
        taxes = [str(r.get("SourceId") or "") for r in rows if r.get("SourceType") == TAX]
        accounts, invoices, charges, tax_items, invoice_items = ctx.concurrently(
            lambda: self.page_accounts(rows),
            lambda: ctx.zuora_by_id("Invoice", INVOICE_FIELDS, [str(r["InvoiceId"]) for r in rows]),
            lambda: self.charges.resolve((INVOICE_ITEM, i) for i in items if i),
            lambda: ctx.zuora_by_id("TaxationItem", ("Id", "AccountingCode"), taxes),
            lambda: self.invoice_items(i for i in items if i),
        )
        subscriptions = self.subscriptions(str(i.get("SubscriptionId") or "") for i in invoice_items.values())
        return _Page(accounts, invoices, charges, tax_items, invoice_items, subscriptions)

    def _line(self, row: Mapping[str, Any], page: _Page) -> Line:
        source = str(row.get("SourceId") or "")
        if row.get("SourceType") == TAX:
            return tax_line(row["Id"], row.get("Amount"), page.taxes.get(source, {}).get("AccountingCode"), None)
        adjusted = page.invoice_items.get(source, {})  # its trigger date and subscription are the adjusted item's
        period = self.period(row.get("ServiceStartDate"), row.get("ServiceEndDate"), adjusted.get(TRIGGER_FIELD),
                             adjusted.get("SubscriptionId"), page.subscriptions)  # fmt: skip
        return charge_line(row["Id"], (INVOICE_ITEM, source), page.charges, row.get("Amount"), period=period)

    # -- selection and validations (reference 2.3, 4.14) ----------------------------------------------------
    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        waiting = self.account_waiting(row, page.accounts)
        if waiting is not None:
            return waiting
        invoice = page.invoices.get(str(row["InvoiceId"]), {})
        if not invoice.get(INTEGRATION_ID_FIELD):
            return blocked(f"invoice {invoice.get('InvoiceNumber') or row['InvoiceId']} is not synced to NetSuite yet")
        if money(invoice.get("Amount")) < 0:
            # Its NetSuite counterpart is a credit memo, which would have to be applied to the new invoice.
            return skipped(f"an adjustment of the negative invoice {invoice.get('InvoiceNumber')} is not supported")
        if row.get("Type") not in ("Credit", "Charge"):
            return skipped(f"adjustment type {row.get('Type')!r} is neither Credit nor Charge")
        return line_problem([self._line(row, page)], "adjustment")

    # -- mapping (reference 6.12) ---------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        invoice_ns_id = str(page.invoices[str(row["InvoiceId"])][INTEGRATION_ID_FIELD])
        credit = row["Type"] == "Credit"
        related = {} if credit else {self.settings.netsuite_fields.transaction_related_transaction: invoice_ns_id}
        fields = transaction(
            self.settings,
            zuora_id=row["Id"],
            zuora_type="INVOICE_ITEM_ADJUSTMENT",
            entity=str(page.accounts[row["AccountId"]][INTEGRATION_ID_FIELD]),
            tran_date=zuora_date(row.get("AdjustmentDate")),
            lines=[self._line(row, page)],
            memo=row.get("Comment"),
            number=row.get("AdjustmentNumber"),
            custom=related,
            **self.document_named(row, page.accounts),
        )
        if not credit:
            return [self.create(CREATING_INVOICE, "Invoice", fields, row["Id"])]
        fields["applyList"] = {"apply": [{"doc": int(invoice_ns_id), "apply": True, "amount": money(row["Amount"])}]}
        return [self.create(CREATING_CREDIT_MEMO, "CreditMemo", fields, row["Id"])]
