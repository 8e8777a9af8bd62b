"""A deterministic demo Zuora tenant: accounts, products, invoices with items and tax, payments, refunds, memos.

Awkward records are there on purpose (unicode and punctuation in names, a payment term NetSuite lacks, an
account that must not sync, zero and negative invoices, invoices before the cutover, a 500-line invoice, a
charge without ItemType__NS, drafts, partial and full refunds, a payment refunded twice, a payment method
NetSuite lacks, voided payments and canceled refunds), so that a demo run shows how each is handled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any

from zns_sync.sandbox.zuora_store import ZuoraStore

CURRENCIES = ("USD", "EUR", "GBP", "CAD")
PAYMENT_TERMS = {"Net 30": 30, "Net 15": 15, "Due on receipt": 0}
UNKNOWN_PAYMENT_TERM = ("Net 97", 97)  # exists in Zuora only: the account's records are blocked in NetSuite
TAX_RATES = {"USD": (0.0825, "Sales Tax"), "EUR": (0.19, "VAT"), "GBP": (0.20, "VAT"), "CAD": (0.13, "HST")}
# Payment method types (API values, reference zuora-connector.md 4.10), taken in turn by the accounts; one
# account pays by PayPal instead, which the NetSuite seeding lacks, so its payments and refunds cannot sync.
METHOD_TYPES = ("Check", "ACH", "CreditCard", "WireTransfer")
UNMATCHED_METHOD_TYPE = "PayPal"
ELECTRONIC_METHOD_TYPES = frozenset({"ACH", "CreditCard", "PayPal"})
CARD_TYPES = ("Visa", "MasterCard", "AmericanExpress", "Discover")
AWKWARD_NAMES = ("Zürich Bäckerei GmbH", "株式会社テスト", 'O\'Brien, "Smith" & Co.')
_COMPANY_WORDS = (
    ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Hooli"),
    ("Analytics", "Logistics", "Software", "Foods", "Robotics", "Media", "Health", "Energy", "Labs", "Retail"),
    ("Inc.", "Ltd", "LLC", "GmbH", "S.A.", "Corp."),
)
_PRODUCTS = (
    ("Platform", ("Starter", "Enterprise"), "Subscription Revenue"),
    ("Support", ("Standard", "Premium"), "Support Revenue"),
    ("Usage", ("API Calls",), "Usage Revenue"),
    ("Services", ("Onboarding", "Training"), "Services Revenue"),
)
_CHARGE_KINDS = (
    ("Recurring", "Flat Fee Pricing"),
    ("Recurring", "Per Unit Pricing"),
    ("Usage", "Tiered Pricing"),
    ("OneTime", "Flat Fee Pricing"),
)


@dataclasses.dataclass(frozen=True)
class _Plan:
    """How one payment moves money: over how many invoices, half or in full, voided or not, and its refunds as
    `(share of each application refunded, refund Status)`. Placed on purpose, the case's payment and first refund
    get the awkward labels `payment_label` and `refund_label`; it also recurs on every `every`-th payment."""

    every: int = 0
    spread: int = 1
    partial: bool = False
    voided: bool = False
    refunds: tuple[tuple[float, str], ...] = ()
    payment_label: str | None = None
    refund_label: str | None = None


_PLAIN = _Plan()
# Each case is placed once on an ordinary account (syncable, a known term, a matched payment method) with invoices
# dated on or after the cutover, in this order, so that even a small tenant holds all of them; then it recurs.
_PLANS = (
    _Plan(every=10, spread=2, payment_label="payment_over_several_invoices"),
    _Plan(every=7, partial=True, payment_label="payment_partial"),
    _Plan(every=15, refunds=((0.25, "Processed"),), refund_label="refund"),
    _Plan(every=41, refunds=((1.0, "Processed"),), refund_label="refund_full"),
    _Plan(every=53, refunds=((0.25, "Processed"), (0.5, "Processed")), payment_label="refund_twice_payment"),
    _Plan(every=83, refunds=((0.5, "Canceled"),), refund_label="refund_canceled"),
    _Plan(every=97, voided=True, payment_label="payment_voided"),
)
# The PayPal account's first payment is refunded: the refund is blocked because its payment cannot sync.
_UNSYNCABLE = _Plan(
    refunds=((0.5, "Processed"),),
    payment_label="payment_unmatched_method",
    refund_label="refund_of_unsyncable_payment",
)


@dataclasses.dataclass(frozen=True)
class TenantSummary:
    """What `generate_tenant` created: counts per object type and the Ids of the awkward records."""

    counts: dict[str, int]
    awkward: dict[str, str]

    @property
    def invoices(self) -> int:
        """How many invoices were created."""
        return self.counts.get("Invoice", 0)


class _Builder:
    def __init__(self, store: ZuoraStore, seed: int, tax_item_id: str, cutover: dt.date) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.tax_item_id = tax_item_id
        self.cutover = cutover
        self.counts: dict[str, int] = {}
        self.awkward: dict[str, str] = {}
        self.sequence: dict[str, int] = {}
        self.unsyncable_invoices: set[str] = set()  # held back for their own sake: a charge without ItemType__NS

    def add(self, object_type: str, fields: dict[str, Any]) -> str:
        self.counts[object_type] = self.counts.get(object_type, 0) + 1
        return self.store.add(object_type, fields)

    def patch(self, object_type: str, object_id: str, fields: dict[str, Any]) -> None:
        """Change a generated object without moving its UpdatedDate (the demo's history stays in the past)."""
        record = self.store.get(object_type, object_id)
        assert record is not None
        record.update(fields)
        self.store.add(object_type, record)

    def number(self, prefix: str) -> str:
        self.sequence[prefix] = self.sequence.get(prefix, 0) + 1
        return f"{prefix}{self.sequence[prefix]:08d}"

    def stamp(self, day: dt.date, hour: int = 9) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, 0, 0, tzinfo=dt.UTC)

    # -- catalogue ------------------------------------------------------------------------------------------
    def catalogue(self) -> list[dict[str, Any]]:
        charges: list[dict[str, Any]] = []
        created = self.stamp(self.cutover - dt.timedelta(days=400))
        for product_name, plans, accounting_code in _PRODUCTS:
            item_type = "Service" if product_name in ("Support", "Services") else "Non Inventory"
            product_id = self.add("Product", {"Name": product_name, "SKU": f"SKU-{product_name.upper()}",
                                              "ItemType__NS": item_type, "CreatedDate": created,
                                              "EffectiveStartDate": dt.date(2020, 1, 1),
                                              "EffectiveEndDate": dt.date(2099, 12, 31)})  # fmt: skip
            for plan_name in plans:
                plan_id = self.add("ProductRatePlan", {"Name": f"{product_name} {plan_name}", "ProductId": product_id,
                                                       "ItemType__NS": item_type, "CreatedDate": created})  # fmt: skip
                for kind_index in range(20 // 7 + (1 if len(charges) % 3 == 0 else 0)):
                    charge_type, model = _CHARGE_KINDS[(len(charges) + kind_index) % len(_CHARGE_KINDS)]
                    name = f"{product_name} {plan_name} {model.split()[0]} {charge_type}"
                    fields = {
                        "Name": name,
                        "Description": f"{name} charge",
                        "ProductRatePlanId": plan_id,
                        "ChargeType": charge_type,
                        "ChargeModel": model,
                        "BillingPeriod": "Month" if charge_type == "Recurring" else None,
                        "AccountingCode": accounting_code,
                        "TaxCode": "TAXABLE" if product_name != "Services" else None,
                        "TaxMode": "TaxExclusive",
                        "Taxable": product_name != "Services",
                        "UOM": "Each" if model != "Flat Fee Pricing" else None,
                        "ProductRatePlanChargeNumber": self.number("PRPC-"),
                        "ItemType__NS": item_type,
                        "CreatedDate": created,
                    }
                    fields["Id"] = self.store.new_id()
                    self.add("ProductRatePlanCharge", fields)
                    charges.append({**fields, "price": round(self.rng.uniform(10, 500), 2)})
        # One charge without ItemType__NS: the item default of the config decides (or it is blocked).
        self.patch("ProductRatePlanCharge", charges[-1]["Id"], {"ItemType__NS": None})
        charges[-1]["ItemType__NS"] = None
        self.awkward["charge_without_item_type"] = charges[-1]["Id"]
        return charges

    # -- accounts -------------------------------------------------------------------------------------------
    def accounts(self, count: int) -> list[dict[str, Any]]:
        accounts: list[dict[str, Any]] = []
        for index in range(count):
            account_id = self.store.new_id()
            if index < len(AWKWARD_NAMES):
                name = AWKWARD_NAMES[index]
            else:
                words = [self.rng.choice(part) for part in _COMPANY_WORDS]
                name = f"{words[0]} {words[1]} {words[2]} {index}"
            term, days = self.rng.choice(list(PAYMENT_TERMS.items()))
            if index == 3:
                term, days = UNKNOWN_PAYMENT_TERM
                self.awkward["account_unknown_payment_term"] = account_id
            created = self.stamp(self.cutover - dt.timedelta(days=60 + index % 200), 8)
            first, last = self.rng.choice(("Anna", "Jürgen", "Mei", "Seán", "Priya")), f"Contact{index}"
            contact_id = self.add("Contact", {
                "AccountId": account_id, "FirstName": first, "LastName": last,
                "Address1": f"{index + 1} Main Street", "City": "Zürich" if index == 0 else "Springfield",
                "State": None if index == 0 else "CA", "Country": "Switzerland" if index == 0 else "United States",
                "PostalCode": "8001" if index == 0 else f"9{index % 10000:04d}",
                "WorkEmail": f"billing{index}@example.com", "WorkPhone": "+1 555 0100", "CreatedDate": created,
            })  # fmt: skip
            currency = CURRENCIES[index % len(CURRENCIES)] if index < 8 else self.rng.choice(CURRENCIES)
            fields = {
                "Id": account_id,
                "AccountNumber": self.number("A"),
                "Name": name,
                "Currency": currency,
                "PaymentTerm": term,
                "Status": "Active",
                "BillToId": contact_id,
                "SoldToId": contact_id,
                "AutoPay": False,
                "Batch": "Batch1",
                "BillCycleDay": 1 + index % 28,
                "CustomerType__NS": "Individual" if index % 17 == 16 else "Company",
                "SynctoNetSuite__NS": "No" if index == 4 else ("Yes" if index % 2 else None),
                "Notes": "Do not sync: handled by the parent company" if index == 4 else None,
                "CreatedDate": created,
            }
            if index == 4:
                self.awkward["account_not_synced"] = account_id
            self.add("Account", fields)
            accounts.append({**fields, "term_days": days, "invoices": [], "blocked": index in (3, 4)})
        return accounts

    # -- invoices -------------------------------------------------------------------------------------------
    def invoices(self, count: int, accounts: list[dict[str, Any]], charges: list[dict[str, Any]]) -> None:
        plan_charges: dict[tuple[str, str], str] = {}
        for index in range(count):
            account = accounts[index % len(accounts)]
            currency = account["Currency"]
            before_cutover = index % 25 == 5
            if before_cutover:
                day = self.cutover - dt.timedelta(days=1 + self.rng.randrange(45))
            else:
                day = self.cutover + dt.timedelta(days=self.rng.randrange(330))
            draft = index % 30 == 7
            zero = index % 40 == 9
            negative = index % 40 == 19
            lines = 500 if index == 2 else 1 if (zero or negative) else self.rng.randint(1, 4)
            invoice_id = self.store.new_id()
            rate, tax_name = TAX_RATES[currency]
            charge_total = tax_total = 0.0
            for line in range(lines):
                charge = charges[(index + line * 7) % len(charges)] if lines > 4 else self.rng.choice(charges)
                if charge["ItemType__NS"] is None:
                    self.unsyncable_invoices.add(invoice_id)
                quantity = 1 if charge["ChargeModel"] == "Flat Fee Pricing" else self.rng.randint(1, 10)
                unit = 0.0 if zero else -abs(charge["price"]) if negative else charge["price"]
                amount = round(quantity * unit, 2)
                key = (account["Id"], charge["Id"])
                if key not in plan_charges:
                    plan_charges[key] = self.add("RatePlanCharge", {
                        "Name": charge["Name"], "ChargeNumber": self.number("C-"), "ChargeModel": charge["ChargeModel"],
                        "ChargeType": charge["ChargeType"], "ProductRatePlanChargeId": charge["Id"],
                        "CreatedDate": self.stamp(day - dt.timedelta(days=30)),
                    })  # fmt: skip
                tax = round(amount * rate, 2) if charge["Taxable"] and amount else 0.0
                item_id = self.add("InvoiceItem", {
                    "InvoiceId": invoice_id, "ChargeAmount": amount, "TaxAmount": tax, "Quantity": quantity,
                    "UnitPrice": unit, "ChargeDate": self.stamp(day, 7), "ChargeName": charge["Name"],
                    "ChargeNumber": self.number("CN-"), "RatePlanChargeId": plan_charges[key],
                    "ProductRatePlanChargeId": charge["Id"], "ServiceStartDate": day,
                    "ServiceEndDate": _month_end(day), "ProcessingType": 0, "AccountingCode": charge["AccountingCode"],
                    "UOM": charge.get("UOM"), "TaxMode": "TaxExclusive", "CreatedDate": self.stamp(day),
                })  # fmt: skip
                if tax:
                    self.add("TaxationItem", {
                        "InvoiceId": invoice_id, "InvoiceItemId": item_id, "TaxAmount": tax,
                        "AccountingCode": self.tax_item_id, "TaxRate": rate, "TaxRateType": "Percentage",
                        "TaxRateDescription": f"{tax_name} {rate * 100:g}%", "TaxDate": day, "Name": tax_name,
                        "Jurisdiction": currency, "TaxMode": "TaxExclusive", "ExemptAmount": 0.0,
                        "CreatedDate": self.stamp(day),
                    })  # fmt: skip
                charge_total += amount
                tax_total += tax
            charge_total, tax_total = round(charge_total, 2), round(tax_total, 2)
            amount_total = round(charge_total + tax_total, 2)
            invoice = {
                "Id": invoice_id,
                "AccountId": account["Id"],
                "InvoiceNumber": self.number("INV"),
                "InvoiceDate": day,
                "TargetDate": day,
                "DueDate": day + dt.timedelta(days=account["term_days"]),
                "Amount": amount_total,
                "AmountWithoutTax": charge_total,
                "TaxAmount": tax_total,
                "TaxExemptAmount": 0.0,
                "Balance": amount_total,
                "PaymentAmount": 0.0,
                "RefundAmount": 0.0,
                "AdjustmentAmount": 0.0,
                "CreditMemoAmount": 0.0,
                "CreditBalanceAdjustmentAmount": 0.0,
                "Currency": currency,
                "Status": "Draft" if draft else "Posted",
                "PostedDate": None if draft else self.stamp(day, 10),
                "PostedBy": None if draft else "billing.admin@example.com",
                "SourceType": "Subscription",
                "PaymentTerm": account["PaymentTerm"],
                "TransferredToAccounting": "No" if index % 3 == 0 else None,
                "Comments": "Credit for service outage" if negative else None,
                "CreatedDate": self.stamp(day),
            }
            for label, flag in (("invoice_draft", draft), ("invoice_zero", zero), ("invoice_negative", negative),
                                ("invoice_before_cutover", before_cutover),
                                ("invoice_500_lines", index == 2)):  # fmt: skip
                if flag:
                    self.awkward.setdefault(label, invoice_id)
            account["invoices"].append(invoice)

    # -- money movements -------------------------------------------------------------------------------------
    def settle(self, accounts: list[dict[str, Any]]) -> None:
        posted = {a["Id"]: [i for i in a["invoices"] if i["Status"] == "Posted" and i["Amount"] > 0] for a in accounts}
        unmatched = next(
            (a["Id"] for a in reversed(accounts) if not a["blocked"] and any(map(self.placeable, posted[a["Id"]]))),
            None,
        )
        self.payment_methods(accounts, unmatched)
        pending = list(_PLANS)
        payment_index = 0
        for account_index, account in enumerate(accounts):
            invoices = posted[account["Id"]]
            # The cases still to place here: shared by the ordinary accounts, the PayPal account's own, or none.
            wanted = [_UNSYNCABLE] if account["Id"] == unmatched else [] if account["blocked"] else pending
            position = 0
            while position < len(invoices):
                plan = wanted[0] if wanted else _PLAIN
                targets = invoices[position : position + plan.spread]
                placed = bool(wanted) and len(targets) == plan.spread and all(map(self.placeable, targets))
                if not placed and self.rng.random() < 0.4:
                    position += 1
                    continue
                payment_index += 1
                if not placed:
                    room = not wanted and position + 1 < len(invoices)  # never spread over a placeable invoice
                    plan = next((p for p in _PLANS if payment_index % p.every == 0 and (p.spread == 1 or room)), _PLAIN)
                    targets = invoices[position : position + plan.spread]
                position += plan.spread
                payment_id, refund_ids = self.pay(account, targets, plan, payment_index)
                if placed:
                    wanted.pop(0)
                    if plan.payment_label:
                        self.awkward[plan.payment_label] = payment_id
                    if plan.refund_label:
                        self.awkward[plan.refund_label] = refund_ids[0]
            for number, invoice in enumerate(invoices):
                if number == 1 and account_index % 5 == 1 and invoice["Balance"] > 10:
                    credit = round(min(invoice["Balance"], invoice["Amount"] / 10), 2)
                    memo_id = self.add("CreditMemo", {
                        "AccountId": account["Id"], "MemoNumber": self.number("CM"), "Amount": credit,
                        "AppliedAmount": credit, "UnappliedAmount": 0.0, "RefundAmount": 0.0,
                        "MemoDate": invoice["InvoiceDate"] + dt.timedelta(days=3), "Status": "Posted",
                        "ReferredInvoiceId": invoice["Id"], "ReasonCode": "Correcting invoice error",
                        "Currency": account["Currency"], "CreatedDate": self.stamp(invoice["InvoiceDate"], 15),
                    })  # fmt: skip
                    invoice["CreditMemoAmount"] = credit
                    self._rebalance(invoice)
                    self.awkward.setdefault("credit_memo", memo_id)
                if number == 2 and invoice["Balance"] > 5:
                    adjustment_id = self.add("InvoiceItemAdjustment", {
                        "AccountId": account["Id"], "InvoiceId": invoice["Id"],
                        "InvoiceNumber": invoice["InvoiceNumber"],
                        "SourceType": "InvoiceDetail", "Type": "Credit", "Amount": 5.0,
                        "AdjustmentDate": invoice["InvoiceDate"] + dt.timedelta(days=2),
                        "AdjustmentNumber": self.number("IIA-"), "Status": "Processed", "ReasonCode": "Goodwill",
                        "CreatedDate": self.stamp(invoice["InvoiceDate"], 16),
                    })  # fmt: skip
                    invoice["AdjustmentAmount"] = 5.0
                    self._rebalance(invoice)
                    self.awkward.setdefault("invoice_item_adjustment", adjustment_id)
            if account["invoices"] and account_index % 25 == 6:
                day = account["invoices"][0]["InvoiceDate"] + dt.timedelta(days=20)
                memo_id = self.add("DebitMemo", {
                    "AccountId": account["Id"], "MemoNumber": self.number("DM"), "Amount": 25.0, "Balance": 25.0,
                    "MemoDate": day, "DueDate": day + dt.timedelta(days=account["term_days"]), "Status": "Posted",
                    "ReasonCode": "Late payment fee", "Currency": account["Currency"],
                    "CreatedDate": self.stamp(day, 14),
                })  # fmt: skip
                self.awkward.setdefault("debit_memo", memo_id)

    def placeable(self, invoice: dict[str, Any]) -> bool:
        """Whether a case may be placed on this invoice: dated on or after the cutover and able to sync."""
        return invoice["InvoiceDate"] >= self.cutover and invoice["Id"] not in self.unsyncable_invoices

    def payment_methods(self, accounts: list[dict[str, Any]], unmatched: str | None) -> None:
        """One payment method per account (its default), the account `unmatched` paying by PayPal."""
        for index, account in enumerate(accounts):
            kind = UNMATCHED_METHOD_TYPE if account["Id"] == unmatched else METHOD_TYPES[index % len(METHOD_TYPES)]
            fields: dict[str, Any] = {"AccountId": account["Id"], "Type": kind, "PaymentMethodStatus": "Active",
                                      "CreatedDate": account["CreatedDate"]}  # fmt: skip
            if kind == "CreditCard":
                fields.update({
                    "CreditCardType": CARD_TYPES[index // len(METHOD_TYPES) % len(CARD_TYPES)],
                    "CreditCardMaskNumber": f"************{1000 + index % 9000}",
                    "CreditCardHolderName": f"Contact{index}", "CreditCardExpirationMonth": 1 + index % 12,
                    "CreditCardExpirationYear": 2027 + index % 4,
                })  # fmt: skip
            elif kind == "ACH":
                fields.update({"AchBankName": "First Example Bank", "AchAccountType": "BusinessChecking",
                               "AchAccountNumberMask": f"XXXXXX{index % 10000:04d}"})  # fmt: skip
            elif kind == UNMATCHED_METHOD_TYPE:
                fields["PaypalEmail"] = f"billing{index}@example.com"
                self.awkward["account_unmatched_payment_method"] = account["Id"]
            account["DefaultPaymentMethodId"] = self.add("PaymentMethod", fields)
            account["method_type"] = kind

    def pay(
        self, account: dict[str, Any], targets: list[dict[str, Any]], plan: _Plan, payment_index: int
    ) -> tuple[str, list[str]]:
        """Pay `targets` by the account's payment method as `plan` says; the payment's Id and its refunds' Ids.

        A voided or canceled payment or refund keeps its link rows but moves no money: the invoices' totals,
        InvoicePayment.RefundAmount and Payment.RefundAmount count Processed ones only.
        """
        kind = account["method_type"]
        payment_type = "Electronic" if kind in ELECTRONIC_METHOD_TYPES else "External"
        method_id = account["DefaultPaymentMethodId"]
        applied = [round(i["Balance"] / 2, 2) if plan.partial else i["Balance"] for i in targets]
        refunds = [([round(amount * share, 2) for amount in applied], status) for share, status in plan.refunds]
        refunded = [round(sum(r[i] for r, status in refunds if status == "Processed"), 2) for i in range(len(targets))]
        pay_day = max(i["InvoiceDate"] for i in targets) + dt.timedelta(days=10)
        payment_id = self.add("Payment", {
            "AccountId": account["Id"], "PaymentNumber": self.number("P-"), "Amount": round(sum(applied), 2),
            "EffectiveDate": pay_day, "Type": payment_type, "PaymentMethodId": method_id,
            "Status": ("Voided" if payment_type == "Electronic" else "Canceled") if plan.voided else "Processed",
            "AccountingCode": "Cash", "ReferenceId": f"{kind.upper()}-{payment_index:06d}",
            "RefundAmount": round(sum(refunded), 2), "CreatedDate": self.stamp(pay_day, 11),
        })  # fmt: skip
        link_ids = []
        for invoice, amount, refund in zip(targets, applied, refunded, strict=True):
            link_ids.append(self.add("InvoicePayment", {
                "InvoiceId": invoice["Id"], "PaymentId": payment_id, "Amount": amount, "RefundAmount": refund,
                "CreatedDate": self.stamp(pay_day, 11),
            }))  # fmt: skip
            if not plan.voided:
                invoice["PaymentAmount"] = round(invoice["PaymentAmount"] + amount, 2)
                invoice["RefundAmount"] = round(invoice["RefundAmount"] + refund, 2)
                self._rebalance(invoice)
        refund_ids = []
        for number, (amounts, status) in enumerate(refunds):
            refund_day = pay_day + dt.timedelta(days=5 + 7 * number)
            refund_id = self.add("Refund", {
                "RefundNumber": self.number("R-"), "AccountId": account["Id"], "Amount": round(sum(amounts), 2),
                "RefundDate": refund_day, "Type": payment_type, "MethodType": kind, "SourceType": "Payment",
                "Status": status, "PaymentId": payment_id, "PaymentMethodId": method_id,
                "ReasonCode": "Customer Satisfaction", "CreatedDate": self.stamp(refund_day, 12),
            })  # fmt: skip
            refund_ids.append(refund_id)
            for invoice, link_id, amount in zip(targets, link_ids, amounts, strict=True):
                self.add("RefundInvoicePayment", {
                    "RefundId": refund_id, "InvoicePaymentId": link_id, "InvoiceId": invoice["Id"],
                    "RefundAmount": amount, "CreatedDate": self.stamp(refund_day, 12),
                })  # fmt: skip
        return payment_id, refund_ids

    @staticmethod
    def _rebalance(invoice: dict[str, Any]) -> None:
        # Balance = Amount - payments + refunds - credit memos - credit adjustments.
        invoice["Balance"] = round(
            invoice["Amount"] - invoice["PaymentAmount"] + invoice["RefundAmount"]
            - invoice["CreditMemoAmount"] - invoice["AdjustmentAmount"], 2
        )  # fmt: skip

    def write_invoices(self, accounts: list[dict[str, Any]]) -> None:
        for account in accounts:
            balance = 0.0
            for invoice in account["invoices"]:
                invoice["UpdatedDate"] = invoice["CreatedDate"]
                self.add("Invoice", invoice)
                if invoice["Status"] == "Posted":
                    balance += invoice["Balance"]
            # UpdatedDate stays in the past so that an incremental window ending `now - margin` sees the data.
            self.patch(
                "Account",
                account["Id"],
                {"Balance": round(balance, 2), "DefaultPaymentMethodId": account["DefaultPaymentMethodId"]},
            )


def _month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return following - dt.timedelta(days=1)


def generate_tenant(
    store: ZuoraStore,
    *,
    invoices: int = 60,
    seed: int = 7,
    tax_item_id: str = "-8",
    cutover: dt.date = dt.date(2024, 1, 1),
) -> TenantSummary:
    """Fill `store` with a demo tenant of about `invoices` invoices (one account per four); same seed, same data.

    `tax_item_id` is the NetSuite internalId of the sales-tax item, written to TaxationItem.AccountingCode.
    """
    builder = _Builder(store, seed, tax_item_id, cutover)
    charges = builder.catalogue()
    accounts = builder.accounts(max(8, (invoices + 3) // 4))
    builder.invoices(invoices, accounts, charges)
    builder.settle(accounts)
    builder.write_invoices(accounts)
    return TenantSummary(counts=dict(builder.counts), awkward=dict(builder.awkward))
