"""Zuora Invoice (+ invoice items and taxation items) -> NetSuite Invoice, or Credit Memo when negative
(reference 4.7, 6.7)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    Dependency,
    Problem,
    Step,
    Write,
    dependency,
    money,
    zuora_date,
)
from zns_sync.flows.billing import (
    CHARGE_NUMBER,
    SUBSCRIPTION_CHARGE,
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

# InvoiceItem.ProductRatePlanChargeId is not queryable in ZOQL: go through RatePlanCharge (zuora-rest.md section 7).
ITEM_FIELDS = (
    "Id", "InvoiceId", "RatePlanChargeId", "ChargeAmount", "Quantity", "ChargeDate", "ChargeName", "ServiceStartDate",
    "ServiceEndDate", "SubscriptionId", TRIGGER_FIELD,
)  # fmt: skip
TAX_FIELDS = ("Id", "InvoiceId", "TaxAmount", "AccountingCode", "TaxDate", "TaxRate", "TaxRateType", "Name")
CREATING_INVOICE = Step(Action.CREATING, "Invoice")
CREATING_CREDIT_MEMO = Step(Action.CREATING, "Credit Memo")  # a negative invoice (reference 4.7)


@dataclass(frozen=True)
class InvoicePage:
    accounts: Mapping[str, Mapping[str, Any]]
    items: Mapping[str, Sequence[Mapping[str, Any]]]
    taxes: Mapping[str, Sequence[Mapping[str, Any]]]
    charges: Mapping[ChargeRef, Mapping[str, Any]]  # (SUBSCRIPTION_CHARGE, RatePlanCharge Id) -> its product charge
    subscriptions: Mapping[str, Mapping[str, Any]]  # the items' subscriptions (with revenue recognition)


class InvoiceFlow(BillingFlow):
    """Posted invoices on or after the cutover date, of accounts that sync to NetSuite."""

    name = "invoice"
    source_object = "Invoice"
    external_id_kind = "invoice"
    status_value = "Posted"
    date_field = "InvoiceDate"
    bills = True
    counterpart_types = ("Invoice", "CreditMemo")
    number_field = "InvoiceNumber"
    customer_field = "entity"
    fields = (
        "Id", "AccountId", "InvoiceNumber", "InvoiceDate", "DueDate", "Amount", "AmountWithoutTax", "TaxAmount",
        "Status", "TransferredToAccounting", "Comments", "IntegrationId__NS", "IntegrationStatus__NS", "UpdatedDate",
    )  # fmt: skip
    steps: ClassVar[tuple[Step, ...]] = (CREATING_INVOICE, CREATING_CREDIT_MEMO)
    takes_custom_fields = True  # reference 4.18
    waits_for = ("customer", "item")  # its account and its lines' product charges (`dependencies`)

    def lookups(self, rows: Sequence[dict[str, Any]]) -> InvoicePage:
        ctx = self.context
        ids = [r["Id"] for r in rows]
        # Three independent lookups at once: the rows' accounts, invoice items and taxation items.
        accounts, items, taxes = ctx.concurrently(
            lambda: self.page_accounts(rows),
            lambda: ctx.zuora_children("InvoiceItem", ITEM_FIELDS, "InvoiceId", ids),
            lambda: ctx.zuora_children("TaxationItem", TAX_FIELDS, "InvoiceId", ids),
        )
        every = [i for v in items.values() for i in v]
        charges, subscriptions = ctx.concurrently(
            lambda: self.charges.resolve((SUBSCRIPTION_CHARGE, i["RatePlanChargeId"]) for i in every),
            lambda: self.subscriptions(str(i.get("SubscriptionId") or "") for i in every),
        )
        return InvoicePage(accounts, items, taxes, charges, subscriptions)

    def _lines(self, row: Mapping[str, Any], page: InvoicePage) -> list[Line]:
        lines = [
            charge_line(item["Id"], (SUBSCRIPTION_CHARGE, item["RatePlanChargeId"]), page.charges,
                        item.get("ChargeAmount"), item.get("Quantity"), zuora_date(item.get("ChargeDate")),
                        period=self.period(item.get("ServiceStartDate"), item.get("ServiceEndDate"),
                                           item.get(TRIGGER_FIELD), item.get("SubscriptionId"), page.subscriptions))
            for item in page.items.get(row["Id"], [])
        ]  # fmt: skip
        taxes = page.taxes.get(row["Id"], [])
        return lines + [tax_line(t["Id"], t.get("TaxAmount"), t.get("AccountingCode"), zuora_date(t.get("TaxDate")))
                        for t in taxes]  # fmt: skip

    def counterpart_amount(self, record: Mapping[str, Any]) -> Decimal | None:
        amount = money(record.get(self.counterpart_amount_field))
        return -amount if record.get("recordType") == "CreditMemo" else amount  # a negative invoice's credit memo

    # -- selection and validations (reference 2.3, 4.7) -----------------------------------------------------
    def dependencies(self, row: Mapping[str, Any], page: InvoicePage) -> list[Dependency]:
        charges: dict[str, Dependency] = {}  # one per product charge, however many lines bill it
        for item in page.items.get(row["Id"], []):
            charge = page.charges.get((SUBSCRIPTION_CHARGE, item["RatePlanChargeId"]))
            if charge is None:  # the subscription charge names no product charge we could read
                kind = "product charge of subscription charge"
                charges[item["RatePlanChargeId"]] = dependency(kind, None, item["RatePlanChargeId"], None)
            else:
                charges[charge["Id"]] = dependency("product charge", "item", charge["Id"], charge, CHARGE_NUMBER)
        return [self.account(row, page.accounts), *charges.values()]

    def validate(self, row: Mapping[str, Any], page: InvoicePage) -> Problem | None:
        return line_problem(self._lines(row, page), "invoice")

    # -- mapping (reference 6.7) ----------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: InvoicePage) -> list[Write]:
        negative = money(row.get("Amount")) < 0
        fields = transaction(
            self.settings,
            zuora_id=row["Id"],
            zuora_type="NEGATIVE_INVOICE" if negative else "INVOICE",
            entity=str(page.accounts[row["AccountId"]][INTEGRATION_ID_FIELD]),
            tran_date=zuora_date(row.get("InvoiceDate")),
            lines=self._lines(row, page),
            sign=Decimal(-1) if negative else Decimal(1),
            memo=row.get("Comments"),
            number=row.get("InvoiceNumber"),
            tax_amount=row.get("TaxAmount"),
            amount_without_tax=row.get("AmountWithoutTax"),
            # the bundle sources it from the customer; NetSuite -> Zuora payments read it (ns-payment)
            custom={self.settings.netsuite_fields.transaction_customer_id_sales: row["AccountId"]},
            **self.document_named(row, page.accounts),
        )
        if negative:
            return [self.create(CREATING_CREDIT_MEMO, "CreditMemo", fields, row["Id"])]
        if row.get("DueDate"):
            fields["dueDate"] = zuora_date(row["DueDate"])
        return [self.create(CREATING_INVOICE, "Invoice", fields, row["Id"])]
