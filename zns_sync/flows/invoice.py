"""Zuora Invoice (+ invoice items and taxation items) -> NetSuite Invoice, or Credit Memo when negative
(reference 4.7, 6.7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    TTA_FIELD,
    Excluded,
    Flow,
    FlowContext,
    Plan,
    Refusal,
    money,
    zuora_date,
)
from zns_sync.netsuite import RecordRef
from zns_sync.status import TTA_SELECTABLE
from zns_sync.zuora import zoql

# InvoiceItem.ProductRatePlanChargeId is not queryable in ZOQL: go through RatePlanCharge (zuora-rest.md section 7).
ITEM_FIELDS = ("Id", "InvoiceId", "RatePlanChargeId", "ChargeAmount", "Quantity", "ChargeDate", "ChargeName")
TAX_FIELDS = ("Id", "InvoiceId", "TaxAmount", "AccountingCode", "TaxDate", "TaxRate", "TaxRateType", "Name")
# More lines than this and the connector sets TTA to Ignore (reference 3.4); we refuse and say why.
MAX_LINES = 4000
MAX_REMEMBERED_CHARGES = 200_000


class InvoiceFlow(Flow):
    """Posted invoices on or after the cutover date, of accounts that sync to NetSuite."""

    name = "invoice"
    zuora_object = "Invoice"
    external_id_kind = "invoice"
    noun = "Invoice"  # "Credit Memo" when negative
    transactional = True
    fields = (
        "Id", "AccountId", "InvoiceNumber", "InvoiceDate", "DueDate", "Amount", "AmountWithoutTax", "TaxAmount",
        "Status", "TransferredToAccounting", "Comments", "IntegrationId__NS", "IntegrationStatus__NS", "UpdatedDate",
    )  # fmt: skip

    def __init__(self, context: FlowContext) -> None:
        super().__init__(context)
        self._charge_of: dict[str, str] = {}

    def scope(self) -> list[list[zoql.Condition]]:
        base = [zoql.eq("Status", "Posted")]
        cutover = self.settings.sync.cutover_dates.get(self.name)
        if cutover is not None:
            base.append(zoql.ge("InvoiceDate", cutover))
        return [base]

    def own_criteria(self) -> list[list[zoql.Condition]]:
        tta = [[zoql.eq(TTA_FIELD, value.value)] for value in TTA_SELECTABLE]
        tta.append([zoql.is_null(TTA_FIELD)])  # null reads as No
        return [base + alternative for base in self.scope() for alternative in tta]

    def plan_page(self, rows: Sequence[dict[str, Any]]) -> Iterator[Plan | Refusal | Excluded]:
        ctx = self.context
        ids = [r["Id"] for r in rows]
        # Three independent lookups at once: the rows' accounts, invoice items and taxation items.
        accounts, items, taxes = ctx.concurrently(
            lambda: ctx.zuora_by_id(
                "Account", ("Id", "Name", INTEGRATION_ID_FIELD, "SynctoNetSuite__NS"), [r["AccountId"] for r in rows]
            ),
            lambda: ctx.zuora_children("InvoiceItem", ITEM_FIELDS, "InvoiceId", ids),
            lambda: ctx.zuora_children("TaxationItem", TAX_FIELDS, "InvoiceId", ids),
        )
        subscription_charges = self._product_charge_ids({i["RatePlanChargeId"] for v in items.values() for i in v})
        products = ctx.zuora_by_id(
            "ProductRatePlanCharge", ("Id", "Name", INTEGRATION_ID_FIELD), set(subscription_charges.values())
        )
        charges = {rpc: products[prpc] for rpc, prpc in subscription_charges.items() if prpc in products}
        for row in rows:
            account = accounts.get(row["AccountId"])
            if account is not None and account.get("SynctoNetSuite__NS") not in (None, "", "Yes"):
                yield Excluded(row["Id"], f"account {row['AccountId']} has SynctoNetSuite__NS = No")
                continue
            yield self._plan(row, account, items.get(row["Id"], []), taxes.get(row["Id"], []), charges)

    def _product_charge_ids(self, rate_plan_charge_ids: set[str]) -> dict[str, str]:
        """RatePlanCharge Id -> ProductRatePlanCharge Id, remembered across pages (subscriptions recur)."""
        if len(self._charge_of) > MAX_REMEMBERED_CHARGES:
            self._charge_of.clear()
        missing = rate_plan_charge_ids - self._charge_of.keys()
        if missing:
            found = self.context.zuora_by_id("RatePlanCharge", ("Id", "ProductRatePlanChargeId"), missing)
            self._charge_of.update({k: str(v.get("ProductRatePlanChargeId", "")) for k, v in found.items()})
        return {k: self._charge_of[k] for k in rate_plan_charge_ids if k in self._charge_of}

    def _plan(
        self,
        row: Mapping[str, Any],
        account: Mapping[str, Any] | None,
        items: Sequence[Mapping[str, Any]],
        taxes: Sequence[Mapping[str, Any]],
        charges: Mapping[str, Mapping[str, Any]],
    ) -> Plan | Refusal:
        status = self.status_of(row)
        if account is None or not account.get(INTEGRATION_ID_FIELD):
            return Refusal(row["Id"], status, "blocked", f"account {row['AccountId']} is not synced to NetSuite yet")
        if len(items) + len(taxes) > MAX_LINES:
            return Refusal(
                row["Id"],
                status,
                "skipped",
                f"{len(items) + len(taxes)} lines: more than NetSuite's {MAX_LINES} per transaction",
            )
        if not items and not taxes:
            return Refusal(row["Id"], status, "skipped", "the invoice has no items: NetSuite needs at least one line")
        amount = money(row.get("Amount"))
        negative = amount < 0
        sign = Decimal(-1) if negative else Decimal(1)
        ids = self.settings.netsuite_fields
        non_taxable = self.settings.sync.standard_invoice_sync
        lines: list[dict[str, Any]] = []
        for item in items:
            charge = charges.get(item["RatePlanChargeId"], {})
            if not charge.get(INTEGRATION_ID_FIELD):
                name = charge.get("Id") or f"of subscription charge {item['RatePlanChargeId']}"
                return Refusal(row["Id"], status, "blocked", f"product charge {name} is not synced to NetSuite yet")
            line: dict[str, Any] = {
                "item": RecordRef(internal_id=str(charge[INTEGRATION_ID_FIELD])),
                "amount": money(item.get("ChargeAmount")) * sign,
                "customFieldList": _without_none(
                    {
                        ids.line_zuora_id: item["Id"],
                        ids.line_item_type: "Charge",
                        ids.line_charge_date: zuora_date(item.get("ChargeDate")),
                    }
                ),
            }
            if item.get("Quantity") not in (None, ""):
                line["quantity"] = float(item["Quantity"])
            if non_taxable:
                line["isTaxable"] = False
            lines.append(line)
        for tax in taxes:
            if not tax.get("AccountingCode"):
                return Refusal(
                    row["Id"],
                    status,
                    "skipped",
                    f"taxation item {tax['Id']} has no AccountingCode (the NetSuite tax item's internal id)",
                )
            line = {
                "item": RecordRef(internal_id=str(tax["AccountingCode"])),
                "amount": money(tax.get("TaxAmount")) * sign,
                "customFieldList": _without_none(
                    {
                        ids.line_zuora_id: tax["Id"],
                        ids.line_item_type: "Tax",
                        ids.line_charge_date: zuora_date(tax.get("TaxDate")),
                    }
                ),
            }
            if non_taxable:
                line["isTaxable"] = False
            lines.append(line)
        header: dict[str, Any] = {
            "entity": RecordRef(internal_id=str(account[INTEGRATION_ID_FIELD])),
            "tranDate": zuora_date(row.get("InvoiceDate")),
            "itemList": {"item": lines},
        }
        if row.get("Comments"):
            header["memo"] = row["Comments"]
        if non_taxable:
            header["isTaxable"] = False
        if not negative and row.get("DueDate"):
            header["dueDate"] = zuora_date(row["DueDate"])
        header["customFieldList"] = _without_none(
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
        record_type, noun = ("CreditMemo", "Credit Memo") if negative else ("Invoice", "Invoice")
        return self.create(row, record_type, header, noun=noun, amount=amount)


def _float(value: Any) -> float | None:
    return None if value in (None, "") else float(money(value))


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
