"""What Zuora's billing documents share on their way to NetSuite: lines, the product charges lines name, the header
and the documents payments and credits settle.

Invoices (reference 6.7), debit memos (6.15), credit memos (6.14) and invoice item adjustments (6.12) all become a
NetSuite Invoice or Credit Memo with one line per charge (the product charge's NetSuite item) and one per tax (the
NetSuite tax item whose internal id is the tax code's accounting code), non-taxable with standard invoice sync.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zns_sync.config import Settings
from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    STATUS_FIELD,
    FlowContext,
    Problem,
    TransactionFlow,
    blocked,
    money,
    record_name,
    skipped,
    without_none,
    zuora_date,
)
from zns_sync.flows.classifications import Classified
from zns_sync.flows.revrec import CHARGE_FIELDS as REVREC_CHARGE_FIELDS
from zns_sync.flows.revrec import VARIABLE, LineRevenue, RevRecSettingError, RevRecSettings, line_revenue
from zns_sync.netsuite import RecordRef

# More lines than this and the connector sets TTA to Ignore (reference 3.4); we refuse and say why.
MAX_LINES = 4000
# RatePlanCharge -> ProductRatePlanCharge Ids remembered across a pass's pages, then forgotten at once: about 200
# bytes each, and at 200,000 they kept a 100,000-invoice run from flat memory (docs/benchmarks.md, "Memory, flat
# in N"); a subscription's invoices are rarely near each other in a query, so a larger map found no more.
MAX_REMEMBERED_CHARGES = 10_000
# What a line may name as its charge, by Zuora's words (memo items' sourceItemType, GETCreditMemoItemTypewithSuccess;
# an invoice item adjustment's SourceType InvoiceDetail, docs.zuora.com SOAP object reference, InvoiceItemAdjustment).
SUBSCRIPTION_CHARGE = "SubscriptionComponent"  # a RatePlanCharge Id
INVOICE_ITEM = "InvoiceDetail"  # an InvoiceItem Id
PRODUCT_CHARGE = "ProductRatePlanCharge"  # a ProductRatePlanCharge Id
INVOICE_FIELDS = ("Id", "InvoiceNumber", "Amount", INTEGRATION_ID_FIELD)
CHARGE_NUMBER = "ProductRatePlanChargeNumber"
CHARGE_FIELDS = ("Id", CHARGE_NUMBER, "Name", INTEGRATION_ID_FIELD, STATUS_FIELD)
ChargeRef = tuple[str, str]  # (SUBSCRIPTION_CHARGE | INVOICE_ITEM | PRODUCT_CHARGE, Id)
_NAMES = {SUBSCRIPTION_CHARGE: "subscription charge", INVOICE_ITEM: "invoice item"}
# What revenue recognition reads of an invoice item: its trigger date (RevRecStartDate, "the date when revenue
# recognition is triggered", SOAP object reference InvoiceItem) and its subscription (reference 4.7.2, 6.7).
TRIGGER_FIELD = "RevRecStartDate"
SUBSCRIPTION_FIELDS = ("Id", "Name", "SubscriptionEndDate", "Project__NS")


@dataclass(frozen=True)
class Period:
    """What a charge line's revenue recognition needs besides its charge (reference 4.7.2)."""

    enabled: bool  # sync.revenue_recognition: NetSuite uses revenue recognition
    service_start: dt.date | None
    service_end: dt.date | None
    trigger: dt.date | None  # the rev rec trigger date; None: not known yet
    subscription: Mapping[str, Any]  # its Subscription (SUBSCRIPTION_FIELDS); empty when it has none


@dataclass(frozen=True)
class Line:
    """One NetSuite line of a billing document: a charge (its product charge's item) or a tax (its tax item)."""

    zuora_id: str
    kind: str  # "Charge" or "Tax": the line's Zuora Item Type
    amount: Decimal  # as Zuora has it; the document's sign turns it
    item: str | None  # the NetSuite item's internalId; None: the charge is not synced, or the tax has no code
    charge: str = ""  # how to name the charge when it is not synced
    quantity: Any = None
    charge_date: dt.date | None = None
    revenue: LineRevenue | None = None  # its rev rec fields; None: none sent (sync.revenue_recognition false)
    revenue_problem: str | None = None  # why its rev rec fields cannot be set


def line_problem(lines: Sequence[Line], what: str) -> Problem | None:
    """Why a document with these lines cannot go to NetSuite now (reference 2.3, 4.7), if it cannot."""
    if len(lines) > MAX_LINES:
        return skipped(f"{len(lines)} lines: more than NetSuite's {MAX_LINES} per transaction")
    if not lines:
        return skipped(f"the {what} has no items: NetSuite needs at least one line")
    for line in lines:
        if line.item is None and line.kind == "Tax":
            return skipped(f"taxation item {line.zuora_id} has no AccountingCode (the NetSuite tax item's internal id)")
        if line.item is None:
            return blocked(f"product charge {line.charge} is not synced to NetSuite yet")
        if line.revenue_problem is not None:
            return skipped(line.revenue_problem)
    return None


def charge_line(
    zuora_id: str,
    ref: ChargeRef,
    charges: Mapping[ChargeRef, Mapping[str, Any]],
    amount: Any,
    quantity: Any = None,
    charge_date: dt.date | None = None,
    *,
    period: Period,
) -> Line:
    """A charge line: its item is the NetSuite item of the product charge `ref` reaches (Charges.resolve), and its
    rev rec fields (revenue_of) when NetSuite uses revenue recognition."""
    charge = charges.get(ref, {})
    name = str(charge.get("Id") or (ref[1] if ref[0] == PRODUCT_CHARGE else f"of {_NAMES[ref[0]]} {ref[1]}"))
    revenue, problem = revenue_of(name, charge, period) if charge else (None, None)
    item = _text(charge.get(INTEGRATION_ID_FIELD))
    return Line(zuora_id, "Charge", money(amount), item, name, quantity, charge_date, revenue, problem)


def revenue_of(name: str, charge: Mapping[str, Any], period: Period) -> tuple[LineRevenue | None, str | None]:
    """The rev rec fields of a line of product charge `charge` (reference 4.7.2; None: none sent), or why they
    cannot be set: a rev rec field holding a value the connector does not define, or a Variable template without
    the subscription's project (reference 4.7: a validation)."""
    try:
        settings = RevRecSettings.of(charge)
    except RevRecSettingError as exc:
        return None, f"product charge {name}: {exc}"
    subscription = period.subscription
    revenue = line_revenue(
        period.enabled,
        settings,
        service_start=period.service_start,
        service_end=period.service_end,
        subscription_end=zuora_date(subscription.get("SubscriptionEndDate")),
        trigger=period.trigger,
        project=_text(subscription.get("Project__NS")),
    )
    if revenue is not None and settings.code and settings.template_type == VARIABLE and revenue.job is None:
        which = subscription.get("Name") or subscription.get("Id") or "(none)"
        return None, (
            f"product charge {name} has a Variable rev rec template and its subscription {which} has no "
            "Project__NS (the NetSuite project)"
        )
    return revenue, None


def tax_line(zuora_id: str, amount: Any, accounting_code: Any, tax_date: Any) -> Line:
    """A tax line: its item is the NetSuite tax item whose internal id is the tax code's accounting code (4.7.1)."""
    return Line(zuora_id, "Tax", money(amount), str(accounting_code) if accounting_code else None, "", None, tax_date)


def transaction(
    settings: Settings,
    *,
    zuora_id: str,
    zuora_type: str,
    entity: str,
    tran_date: dt.date | None,
    lines: Sequence[Line],
    sign: Decimal = Decimal(1),
    memo: str | None = None,
    number: str | None = None,
    tax_amount: Any = None,
    amount_without_tax: Any = None,
    custom: Mapping[str, Any] | None = None,
    named: Mapping[str, Any] | None = None,
    line_named: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The fields of the NetSuite Invoice or Credit Memo of a Zuora billing document (reference 6.7, 6.12, 6.14,
    6.15): customer, date, lines (amounts times `sign`), memo, the Zuora custom fields, and what was resolved by
    name: `named` on the header (department, class, location, taxItem), `line_named` on each charge line."""
    ids = settings.netsuite_fields
    items = []
    for line in lines:
        netsuite_line: dict[str, Any] = {
            "item": RecordRef(internal_id=line.item),
            "amount": line.amount * sign,
            "customFieldList": without_none(
                {
                    ids.line_zuora_id: line.zuora_id,
                    ids.line_item_type: line.kind,
                    ids.line_charge_date: line.charge_date,
                }
            ),
        }
        if line.quantity not in (None, ""):
            netsuite_line["quantity"] = float(line.quantity)
        if line.revenue is not None:
            netsuite_line.update(revenue_fields(line.revenue))
        if settings.sync.standard_invoice_sync:
            netsuite_line["isTaxable"] = False
        if line.kind == "Charge":
            netsuite_line.update(line_named or {})
        items.append(netsuite_line)
    header: dict[str, Any] = {
        "entity": RecordRef(internal_id=entity),
        "tranDate": tran_date,
        "itemList": {"item": items},
        **(named or {}),
    }
    if number and settings.sync.transaction_numbers == "source":
        header["tranId"] = number  # Transaction Number Mapping: Use Number From Source (reference 7.1)
    if memo:
        header["memo"] = memo
    if settings.sync.standard_invoice_sync:
        header["isTaxable"] = False  # Zuora calculated the tax: NetSuite must not tax again (4.7.1)
    header["customFieldList"] = without_none(
        {
            ids.transaction_zuora_id: zuora_id,
            ids.transaction_zuora_type: zuora_type,
            ids.transaction_origin: "ZUORA",
            ids.transaction_reference_number: number,
            ids.transaction_tax_amount: _float(tax_amount),
            ids.transaction_amount_without_tax: _float(amount_without_tax),
            ids.transaction_sync_date: dt.date.today(),
            **(custom or {}),
        }
    )
    return header


def revenue_fields(revenue: LineRevenue) -> dict[str, Any]:
    """A NetSuite line's rev rec fields (InvoiceItem, CreditMemoItem of the 2023_2 XSDs: `deferRevRec` boolean,
    `revRecStartDate`/`revRecEndDate` dateTime, `job` RecordRef); a date not set is not sent."""
    fields: dict[str, Any] = {"deferRevRec": revenue.defer}
    if revenue.job is not None:
        fields["job"] = RecordRef(internal_id=revenue.job)
    return fields | without_none({"revRecStartDate": revenue.start, "revRecEndDate": revenue.end})


def _float(value: Any) -> float | None:
    return None if value in (None, "") else float(money(value))


class Charges:
    """The product charges lines name, with their IntegrationId__NS; what subscription charges point at is
    remembered across pages (subscriptions recur)."""

    def __init__(self, context: FlowContext) -> None:
        self.context = context
        self._product_charge_of: dict[str, str] = {}  # RatePlanCharge Id -> ProductRatePlanCharge Id
        # The connector's rev rec fields exist only where the connector is installed: read only when used.
        revenue = REVREC_CHARGE_FIELDS if context.settings.sync.revenue_recognition else ()
        self.fields = (*CHARGE_FIELDS, *revenue)

    def resolve(self, refs: Iterable[ChargeRef]) -> dict[ChargeRef, Mapping[str, Any]]:
        """The ProductRatePlanCharge (CHARGE_FIELDS) each reference reaches, where it reaches one.

        InvoiceItem.ProductRatePlanChargeId is not queryable in ZOQL: an invoice item goes through its
        RatePlanCharge (zuora-rest.md section 7).
        """
        wanted = set(refs)
        ctx = self.context
        items = ctx.zuora_by_id(
            "InvoiceItem", ("Id", "RatePlanChargeId"), [i for kind, i in wanted if kind == INVOICE_ITEM]
        )
        subscription = {i for kind, i in wanted if kind == SUBSCRIPTION_CHARGE}
        subscription |= {str(row["RatePlanChargeId"]) for row in items.values() if row.get("RatePlanChargeId")}
        product_of = self._product_charge_ids(subscription)
        product = {i for kind, i in wanted if kind == PRODUCT_CHARGE} | set(product_of.values())
        charges = ctx.zuora_by_id("ProductRatePlanCharge", self.fields, product)
        found: dict[ChargeRef, Mapping[str, Any]] = {}
        for kind, key in wanted:
            if kind == PRODUCT_CHARGE:
                product_id = key
            else:
                rate_plan_charge = (
                    key if kind == SUBSCRIPTION_CHARGE else str(items.get(key, {}).get("RatePlanChargeId"))
                )
                product_id = product_of.get(rate_plan_charge, "")
            if product_id in charges:
                found[(kind, key)] = charges[product_id]
        return found

    def _product_charge_ids(self, rate_plan_charge_ids: set[str]) -> dict[str, str]:
        """RatePlanCharge Id -> ProductRatePlanCharge Id."""
        if len(self._product_charge_of) > MAX_REMEMBERED_CHARGES:
            self._product_charge_of.clear()
        missing = rate_plan_charge_ids - self._product_charge_of.keys()
        if missing:
            found = self.context.zuora_by_id("RatePlanCharge", ("Id", "ProductRatePlanChargeId"), missing)
            self._product_charge_of.update({k: str(v.get("ProductRatePlanChargeId", "")) for k, v in found.items()})
        return {k: self._product_charge_of[k] for k in rate_plan_charge_ids if k in self._product_charge_of}


class BillingFlow(TransactionFlow):
    """A transaction whose lines bill or credit product charges and taxes (invoices, memos, adjustments); its page
    lookups hold `accounts`, and an account that does not sync keeps its records out."""

    def __init__(self, context: FlowContext) -> None:
        super().__init__(context)
        self.charges = Charges(context)

    def exclusion(self, row: Mapping[str, Any], page: Any) -> str | None:
        return self.account_excluded(row, page.accounts)

    def named(self, row: Mapping[str, Any], accounts: Mapping[str, Mapping[str, Any]]) -> Classified:
        """The header's classifications and the Default Tax Code (reference 6.7: `taxItem`)."""
        header = super().named(row, accounts)
        if header.problem is not None:
            return header
        tax = self.classifier.tax_item()
        return Classified({**header.fields, **tax.fields}, tax.problem or self.line_named(row, accounts).problem)

    def line_named(self, row: Mapping[str, Any], accounts: Mapping[str, Mapping[str, Any]]) -> Classified:
        """The classifications of each charge line (Invoice Line X Mapping: the account's, or none)."""
        account_id = str(row["AccountId"])
        account = accounts.get(account_id) or {}
        return self.classifier.lines(account, record_name("account", account_id, account.get("AccountNumber")))

    def document_named(self, row: Mapping[str, Any], accounts: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """`transaction`'s `named` and `line_named` for this record."""
        return {"named": self.named(row, accounts).fields, "line_named": self.line_named(row, accounts).fields}

    def subscriptions(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The lines' subscriptions (SUBSCRIPTION_FIELDS) by Id, when lines carry rev rec fields; else none read."""
        if not self.settings.sync.revenue_recognition:
            return {}
        return self.context.zuora_by_id("Subscription", SUBSCRIPTION_FIELDS, ids)

    def invoice_items(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Invoice items by Id with their trigger date and subscription: what an adjustment of one, or a memo item
        crediting one, takes for its revenue recognition; none read without it."""
        if not self.settings.sync.revenue_recognition:
            return {}
        return self.context.zuora_by_id("InvoiceItem", ("Id", TRIGGER_FIELD, "SubscriptionId"), ids)

    def period(
        self,
        service_start: Any,
        service_end: Any,
        trigger: Any,
        subscription_id: Any,
        subscriptions: Mapping[str, Mapping[str, Any]],
    ) -> Period:
        """A charge line's rev rec inputs; rev rec fields are sent when NetSuite uses revenue recognition."""
        subscription = subscriptions.get(str(subscription_id or ""), {})
        enabled = self.settings.sync.revenue_recognition
        return Period(enabled, zuora_date(service_start), zuora_date(service_end), zuora_date(trigger), subscription)


@dataclass(frozen=True)
class Receivable:
    """A Zuora document a payment or a credit settles: an invoice or, with Invoice Settlement, a debit memo."""

    kind: str  # "invoice" or "debit memo"
    number: str
    netsuite_id: str | None  # its IntegrationId__NS: its NetSuite Invoice, once synced

    def waiting(self) -> Problem | None:
        """Blocked until the document is synced (reference 2.3)."""
        return None if self.netsuite_id else blocked(f"{self.kind} {self.number} is not synced to NetSuite yet")


def receivables(
    context: FlowContext, invoice_ids: Iterable[str], debit_memo_ids: Iterable[str]
) -> dict[str, Receivable]:
    """Invoices (ZOQL) and debit memos (REST: ZOQL refuses them, zuora-rest.md section 3) by Zuora Id.

    Callers run this inside `context.concurrently`: it does not nest another gather of its own."""
    invoices = context.zuora_by_id("Invoice", INVOICE_FIELDS, invoice_ids)
    memos = context.each(lambda key: context.zuora.memo("debitmemos", key), debit_memo_ids)
    found = {
        key: Receivable("invoice", str(row.get("InvoiceNumber") or key), _text(row.get(INTEGRATION_ID_FIELD)))
        for key, row in invoices.items()
    }
    found.update(
        {
            key: Receivable("debit memo", str(row.get("number") or key), _text(row.get(INTEGRATION_ID_FIELD)))
            for key, row in memos.items()
        }
    )
    return found


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
