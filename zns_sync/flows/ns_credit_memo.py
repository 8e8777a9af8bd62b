"""NetSuite Credit Memo -> Zuora Invoice Item Adjustments (reference 4.15, 6.13; Invoice Settlement off; opt-in).

Standard: a credit memo of a person's (Zuora Type empty) applied to exactly one invoice from Zuora becomes one credit
adjustment of that invoice, at invoice level, for the amount applied. Negative invoice: a credit memo that came from
a negative Zuora invoice (Zuora Type NEGATIVE_INVOICE), once applied in NetSuite, becomes one credit adjustment per
Zuora invoice it was applied to (`IntegrationId__NS` = `<credit memo>_<invoice>`), then one charge adjustment of the
negative invoice for the credit memo's amount; its Zuora ID stays that invoice's. All under `Creating Invoice
Adjustment`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    ORIGIN_FIELD,
    TTA_FIELD,
    Problem,
    Step,
    Write,
    blocked,
    money,
    skipped,
    without_none,
    zuora_date,
)
from zns_sync.flows.from_netsuite import NETSUITE, NetSuiteFlow, Search, applied, custom, text
from zns_sync.netsuite import CustomFieldCondition
from zns_sync.status import TTA, Action

CREATING_ADJUSTMENT = Step(Action.CREATING, "Invoice Adjustment")
INVOICE, NEGATIVE_INVOICE = "INVOICE", "NEGATIVE_INVOICE"  # Zuora Type values on NetSuite transactions


@dataclass(frozen=True)
class _Page:
    documents: Mapping[str, Mapping[str, Any]]  # the applied NetSuite invoices by internalId ({}: not an invoice)
    invoices: Mapping[str, Mapping[str, Any]]  # the Zuora invoices involved, by Id


class NetSuiteCreditMemoFlow(NetSuiteFlow):
    """Fully applied NetSuite credit memos of synced customers, against invoices that came from Zuora."""

    name = "ns-credit-memo"
    enabled_by_default = False
    settlement = False  # with Invoice Settlement there are no adjustments (reference 2.2)
    source_object = "CreditMemo"
    counterpart_types = ("InvoiceItemAdjustment",)
    amount_field = "total"
    steps = (CREATING_ADJUSTMENT,)

    def search(self) -> Search:
        ids = self.settings.netsuite_fields
        return self.transaction_search(
            "_creditMemo", CustomFieldCondition(ids.transaction_customer_id_sales, "notEmpty")
        )

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        documents = self.applied_documents(rows, "invoice")
        zuora_ids = [self._zuora_id(d) for d in documents.values()] + [self._zuora_id(r) for r in rows]
        fields = ("Id", "InvoiceNumber", "AccountId", "Amount", INTEGRATION_ID_FIELD)
        return _Page(documents, self.context.zuora_by_id("Invoice", fields, zuora_ids))

    def _zuora_id(self, record: Mapping[str, Any]) -> str:
        return text(custom(record, self.settings.netsuite_fields.transaction_zuora_id))

    def _zuora_type(self, record: Mapping[str, Any]) -> str:
        return text(custom(record, self.settings.netsuite_fields.transaction_zuora_type))

    def _to_zuora(self, row: Mapping[str, Any], page: _Page) -> list[tuple[Mapping[str, Any], Decimal]]:
        """The applications to invoices that came from Zuora: (the NetSuite invoice, the amount applied)."""
        found = [(page.documents.get(str(line["doc"]), {}), money(line.get("amount"))) for line in applied(row)]
        return [(document, amount) for document, amount in found if self._zuora_type(document) == INVOICE]

    # -- selection (reference 4.15) ---------------------------------------------------------------------------------
    def exclusion(self, row: Mapping[str, Any], page: _Page) -> str | None:
        kind = self._zuora_type(row)
        if kind not in ("", NEGATIVE_INVOICE):
            return f"Zuora Type {kind}: not a credit memo of NetSuite's nor one of a negative invoice"
        if money(row.get("unapplied")) != 0:
            return f"not fully applied ({row.get('unapplied')} unapplied)"
        if kind == "" and len(self._to_zuora(row, page)) != 1:
            return "not applied to exactly one invoice that came from Zuora"
        if kind == NEGATIVE_INVOICE and not applied(row):
            return "applied to nothing yet"
        return None

    # -- validations (reference 4.15) -------------------------------------------------------------------------------
    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        account = text(custom(row, self.settings.netsuite_fields.transaction_customer_id_sales))
        for document, _ in self._to_zuora(row, page):
            invoice = page.invoices.get(self._zuora_id(document), {})
            if str(invoice.get(INTEGRATION_ID_FIELD)) != str(document["internalId"]) or invoice["AccountId"] != account:
                return skipped(f"NetSuite invoice {document['internalId']} names no Zuora invoice of account {account}")
        if self._zuora_type(row) == NEGATIVE_INVOICE:
            negative = page.invoices.get(self._zuora_id(row), {})
            if money(negative.get("Amount")) >= 0 or negative.get("AccountId") != account:
                return blocked(f"the negative Zuora invoice {self._zuora_id(row)!r} of account {account} is not found")
        return None

    def counterpart(self, row: Mapping[str, Any], page: _Page) -> str | None:
        """A negative invoice's credit memo keeps its Zuora ID: the invoice it came from (Zuora -> NetSuite)."""
        return self._zuora_id(row) if self._zuora_type(row) == NEGATIVE_INVOICE else None

    # -- mapping (reference 6.13) -----------------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        common = {
            "AdjustmentDate": zuora_date(row.get("tranDate")),
            "ReferenceId": str(row["Id"]),
            "Comment": row.get("memo"),
            "SourceType": "Invoice",  # invoice level: the NetSuite item need not be on the Zuora invoice
            TTA_FIELD: TTA.YES.value,
            ORIGIN_FIELD: NETSUITE,
            **self.back_reference(row),
        }
        negative = self._zuora_type(row) == NEGATIVE_INVOICE
        credits = []
        for document, amount in self._to_zuora(row, page):
            invoice = self._zuora_id(document)
            suffix = f"_{document['internalId']}" if negative else ""  # composite ids for several (4.15)
            transaction = f"{row.get('tranId')}_{document.get('tranId')}" if negative else row.get("tranId")
            adjustment = {**common, "InvoiceId": invoice, "SourceId": invoice, "Amount": amount, "Type": "Credit",
                          INTEGRATION_ID_FIELD: f"{row['Id']}{suffix}", "Transaction__NS": transaction}  # fmt: skip
            credits.append(self.zuora_create(CREATING_ADJUSTMENT, "InvoiceItemAdjustment", without_none(adjustment)))
        if not negative:
            return credits
        charge = {**common, "InvoiceId": self._zuora_id(row), "SourceId": self._zuora_id(row), "Type": "Charge",
                  "Amount": money(row.get("total")), "Transaction__NS": row.get("tranId")}  # fmt: skip
        return [*credits, self.zuora_create(CREATING_ADJUSTMENT, "InvoiceItemAdjustment", without_none(charge))]
