"""Zuora Invoice (+ invoice items and taxation items) -> NetSuite Invoice, or Credit Memo when negative
(reference 4.7, 6.7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    STATUS_FIELD,
    Dependency,
    FlowContext,
    Problem,
    Step,
    TransactionFlow,
    Write,
    dependency,
    money,
    skipped,
    without_none,
    zuora_date,
)
from zns_sync.netsuite import RecordRef
from zns_sync.status import Action

# InvoiceItem.ProductRatePlanChargeId is not queryable in ZOQL: go through RatePlanCharge (zuora-rest.md section 7).
ITEM_FIELDS = ("Id", "InvoiceId", "RatePlanChargeId", "ChargeAmount", "Quantity", "ChargeDate", "ChargeName")
TAX_FIELDS = ("Id", "InvoiceId", "TaxAmount", "AccountingCode", "TaxDate", "TaxRate", "TaxRateType", "Name")
# More lines than this and the connector sets TTA to Ignore (reference 3.4); we refuse and say why.
MAX_LINES = 4000
MAX_REMEMBERED_CHARGES = 200_000
CHARGE_NUMBER = "ProductRatePlanChargeNumber"
CHARGE_FIELDS = ("Id", CHARGE_NUMBER, "Name", INTEGRATION_ID_FIELD, STATUS_FIELD)
CREATING_INVOICE = Step(Action.CREATING, "Invoice")
CREATING_CREDIT_MEMO = Step(Action.CREATING, "Credit Memo")  # a negative invoice (reference 4.7)


@dataclass(frozen=True)
class _Page:
    accounts: Mapping[str, Mapping[str, Any]]
    items: Mapping[str, Sequence[Mapping[str, Any]]]
    taxes: Mapping[str, Sequence[Mapping[str, Any]]]
    charges: Mapping[str, Mapping[str, Any]]  # RatePlanCharge Id -> its ProductRatePlanCharge


class InvoiceFlow(TransactionFlow):
    """Posted invoices on or after the cutover date, of accounts that sync to NetSuite."""

    name = "invoice"
    source_object = "Invoice"
    external_id_kind = "invoice"
    status_value = "Posted"
    date_field = "InvoiceDate"
    counterpart_types = ("Invoice", "CreditMemo")
    number_field = "InvoiceNumber"
    fields = (
        "Id", "AccountId", "InvoiceNumber", "InvoiceDate", "DueDate", "Amount", "AmountWithoutTax", "TaxAmount",
        "Status", "TransferredToAccounting", "Comments", "IntegrationId__NS", "IntegrationStatus__NS", "UpdatedDate",
    )  # fmt: skip
    steps = (CREATING_INVOICE, CREATING_CREDIT_MEMO)

    customer_field = "entity"

    def counterpart_amount(self, record: Mapping[str, Any]) -> Decimal | None:
        amount = money(record.get(self.counterpart_amount_field))
        return -amount if record.get("recordType") == "CreditMemo" else amount  # a negative invoice's credit memo

    def __init__(self, context: FlowContext) -> None:
        super().__init__(context)
        self._charge_of: dict[str, str] = {}

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx = self.context
        ids = [r["Id"] for r in rows]
        # Three independent lookups at once: the rows' accounts, invoice items and taxation items.
        accounts, items, taxes = ctx.concurrently(
            lambda: self.accounts(rows),
            lambda: ctx.zuora_children("InvoiceItem", ITEM_FIELDS, "InvoiceId", ids),
            lambda: ctx.zuora_children("TaxationItem", TAX_FIELDS, "InvoiceId", ids),
        )
        subscription_charges = self._product_charge_ids({i["RatePlanChargeId"] for v in items.values() for i in v})
        products = ctx.zuora_by_id("ProductRatePlanCharge", CHARGE_FIELDS, set(subscription_charges.values()))
        charges = {rpc: products[prpc] for rpc, prpc in subscription_charges.items() if prpc in products}
        return _Page(accounts, items, taxes, charges)

    def _product_charge_ids(self, rate_plan_charge_ids: set[str]) -> dict[str, str]:
        """RatePlanCharge Id -> ProductRatePlanCharge Id, remembered across pages (subscriptions recur)."""
        if len(self._charge_of) > MAX_REMEMBERED_CHARGES:
            self._charge_of.clear()
        missing = rate_plan_charge_ids - self._charge_of.keys()
        if missing:
            found = self.context.zuora_by_id("RatePlanCharge", ("Id", "ProductRatePlanChargeId"), missing)
            self._charge_of.update({k: str(v.get("ProductRatePlanChargeId", "")) for k, v in found.items()})
        return {k: self._charge_of[k] for k in rate_plan_charge_ids if k in self._charge_of}

    # -- selection and validations (reference 2.3, 4.7) -----------------------------------------------------
    def exclusion(self, row: Mapping[str, Any], page: _Page) -> str | None:
        return self.account_excluded(row, page.accounts)

    def dependencies(self, row: Mapping[str, Any], page: _Page) -> list[Dependency]:
        charges: dict[str, Dependency] = {}  # one per product charge, however many lines bill it
        for item in page.items.get(row["Id"], []):
            charge = page.charges.get(item["RatePlanChargeId"])
            if charge is None:  # the subscription charge names no product charge we could read
                kind = "product charge of subscription charge"
                charges[item["RatePlanChargeId"]] = dependency(kind, None, item["RatePlanChargeId"], None)
            else:
                charges[charge["Id"]] = dependency("product charge", "item", charge["Id"], charge, CHARGE_NUMBER)
        return [self.account(row, page.accounts), *charges.values()]

    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        items, taxes = page.items.get(row["Id"], []), page.taxes.get(row["Id"], [])
        if len(items) + len(taxes) > MAX_LINES:
            return skipped(f"{len(items) + len(taxes)} lines: more than NetSuite's {MAX_LINES} per transaction")
        if not items and not taxes:
            return skipped("the invoice has no items: NetSuite needs at least one line")
        for tax in taxes:
            if not tax.get("AccountingCode"):
                return skipped(f"taxation item {tax['Id']} has no AccountingCode (the NetSuite tax item's internal id)")
        return None

    # -- mapping (reference 6.7) ----------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        amount = money(row.get("Amount"))
        negative = amount < 0
        sign = Decimal(-1) if negative else Decimal(1)
        ids = self.settings.netsuite_fields
        non_taxable = self.settings.sync.standard_invoice_sync
        lines: list[dict[str, Any]] = []
        for item in page.items.get(row["Id"], []):
            line: dict[str, Any] = {
                "item": RecordRef(internal_id=str(page.charges[item["RatePlanChargeId"]][INTEGRATION_ID_FIELD])),
                "amount": money(item.get("ChargeAmount")) * sign,
                "customFieldList": without_none(
                    {
                        ids.line_zuora_id: item["Id"],
                        ids.line_item_type: "Charge",
                        ids.line_charge_date: zuora_date(item.get("ChargeDate")),
                    }
                ),
            }
            if item.get("Quantity") not in (None, ""):
                line["quantity"] = float(item["Quantity"])
            lines.append(line)
        for tax in page.taxes.get(row["Id"], []):
            lines.append(
                {
                    "item": RecordRef(internal_id=str(tax["AccountingCode"])),
                    "amount": money(tax.get("TaxAmount")) * sign,
                    "customFieldList": without_none(
                        {
                            ids.line_zuora_id: tax["Id"],
                            ids.line_item_type: "Tax",
                            ids.line_charge_date: zuora_date(tax.get("TaxDate")),
                        }
                    ),
                }
            )
        if non_taxable:
            for line in lines:
                line["isTaxable"] = False
        header: dict[str, Any] = {
            "entity": RecordRef(internal_id=str(page.accounts[row["AccountId"]][INTEGRATION_ID_FIELD])),
            "tranDate": zuora_date(row.get("InvoiceDate")),
            "itemList": {"item": lines},
        }
        if row.get("Comments"):
            header["memo"] = row["Comments"]
        if non_taxable:
            header["isTaxable"] = False
        if not negative and row.get("DueDate"):
            header["dueDate"] = zuora_date(row["DueDate"])
        header["customFieldList"] = without_none(
            {
                ids.transaction_zuora_id: row["Id"],
                ids.transaction_zuora_type: "NEGATIVE_INVOICE" if negative else "INVOICE",
                ids.transaction_origin: "ZUORA",
                ids.transaction_reference_number: row.get("InvoiceNumber"),
                ids.transaction_tax_amount: _float(row.get("TaxAmount")),
                ids.transaction_amount_without_tax: _float(row.get("AmountWithoutTax")),
                ids.transaction_sync_date: dt.date.today(),
            }
        )
        if negative:
            return [self.create(CREATING_CREDIT_MEMO, "CreditMemo", header, row["Id"])]
        return [self.create(CREATING_INVOICE, "Invoice", header, row["Id"])]


def _float(value: Any) -> float | None:
    return None if value in (None, "") else float(money(value))
