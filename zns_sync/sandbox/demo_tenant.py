"""A deterministic demo Zuora tenant: accounts, products, invoices with items and tax, payments, refunds, and
credit and debit memos (Invoice Settlement on) or invoice item adjustments (off).

Awkward records are there on purpose (unicode and punctuation in names, a payment term NetSuite lacks, an
account that must not sync, zero and negative invoices, invoices before the cutover, a 500-line invoice, a
charge without ItemType__NS, drafts, partial and full refunds, a payment refunded twice, a payment method
NetSuite lacks, voided payments and canceled refunds, a credit memo that came from NetSuite, an unapplied one, an
adjustment of a negative invoice), so that a demo run shows how each is handled.

With Invoice Settlement on, payments are applied through PaymentPart rows (what stays applied after refunds) and
InvoicePayment/RefundInvoicePayment are not used; off, they are, and there are no memos (reference
zuora-rest.md section 7).
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
    # The accounting code is the full name of a NetSuite income account (reference 7.5; seeded by the emulator).
    ("Platform", ("Starter", "Enterprise"), "Revenue : Subscriptions"),
    ("Support", ("Standard", "Premium"), "Revenue : Support"),
    ("Usage", ("API Calls",), "Revenue : Usage"),
    ("Services", ("Onboarding", "Training"), "Revenue : Services"),
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
    def __init__(self, store: ZuoraStore, seed: int, tax_item_id: str, cutover: dt.date, settlement: bool) -> None:
        self.store = store
        self.settlement = settlement
        self.rng = random.Random(seed)
        self.tax_item_id = tax_item_id
        self.cutover = cutover
        self.counts: dict[str, int] = {}
        self.awkward: dict[str, str] = {}
        self.sequence: dict[str, int] = {}
        self.unsyncable_invoices: set[str] = set()  # held back for their own sake: a charge without ItemType__NS
        # invoice Id -> its items as (InvoiceItem Id, charge, amount, taxation item Id or None, tax rate)
        self.items_of: dict[str, list[tuple[str, dict[str, Any], float, str | None, float]]] = {}
        self.plan_charges: dict[tuple[str, str], str] = {}  # (account Id, charge Id) -> RatePlanCharge Id

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
                                                       "ItemType__NS": item_type, "CreatedDate": created,
                                                       "Price__NS": f"{(len(plan_name) * 7 + 3) * 5}.00",
                                                       "EffectiveStartDate": dt.date(2020, 1, 1),
                                                       "EffectiveEndDate": dt.date(2099, 12, 31)})  # fmt: skip
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
                        # Classifications by NetSuite full name (reference 7.4): services carry their own class.
                        "Class__NS": "Services" if product_name == "Services" else None,
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
                # Some accounts name their transactions' class and department (reference 7.4), by full name.
                "Class__NS": "Subscription : Enterprise" if index % 5 == 2 else None,
                "Department__NS": "Sales : North America" if index % 5 == 2 else None,
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
        plan_charges = self.plan_charges
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
                tax_id = self.store.new_id() if tax else None
                item_id = self.add("InvoiceItem", {
                    "InvoiceId": invoice_id, "ChargeAmount": amount, "TaxAmount": tax, "Quantity": quantity,
                    "UnitPrice": unit, "ChargeDate": self.stamp(day, 7), "ChargeName": charge["Name"],
                    "ChargeNumber": self.number("CN-"), "RatePlanChargeId": plan_charges[key],
                    "ProductRatePlanChargeId": charge["Id"], "ServiceStartDate": day,
                    "ServiceEndDate": _month_end(day), "ProcessingType": 0, "AccountingCode": charge["AccountingCode"],
                    "UOM": charge.get("UOM"), "TaxMode": "TaxExclusive", "CreatedDate": self.stamp(day),
                })  # fmt: skip
                self.items_of.setdefault(invoice_id, []).append((item_id, charge, amount, tax_id, rate))
                if tax:
                    self.add("TaxationItem", {
                        "Id": tax_id, "InvoiceId": invoice_id, "InvoiceItemId": item_id, "TaxAmount": tax,
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
            if self.settlement:
                self.credit_memos(account, account_index, invoices)
            else:
                self.adjustments(account, account_index, invoices)
        if self.settlement:
            self.memo_cases([a for a in accounts if not a["blocked"] and a["Id"] != unmatched])
        else:
            self.adjustment_cases(accounts)

    # -- Invoice Settlement on: credit and debit memos --------------------------------------------------------
    def credit_memos(self, account: dict[str, Any], account_index: int, invoices: list[dict[str, Any]]) -> None:
        """Every third account: a credit memo of a tenth of an open invoice after its first (one that can sync when
        there is one)."""
        candidates = [i for i in invoices[1:] if i["Balance"] > 10]
        if account_index % 3 == 1 and candidates:
            self.credit_invoice(account, next((i for i in candidates if self.syncable(i)), candidates[0]))

    def credit_invoice(self, account: dict[str, Any], invoice: dict[str, Any]) -> None:
        """A credit memo of at most a tenth of an invoice, applied to it, crediting its first item (and its tax)."""
        item_id, _, amount, tax_id, rate = self.items_of[invoice["Id"]][0]
        taxed = tax_id is not None
        net = round(min(invoice["Balance"], abs(amount), invoice["Amount"] / 10) / (1 + rate if taxed else 1), 2)
        day = invoice["InvoiceDate"] + dt.timedelta(days=3)
        memo_id = self.memo("Credit", account, day, [("InvoiceDetail", item_id, net, rate if taxed else 0.0)],
                            ReferredInvoiceId=invoice["Id"], ReasonCode="Correcting invoice error")  # fmt: skip
        self.apply_credit(memo_id, invoice, "InvoiceId")
        if self.syncable(invoice) and not account["blocked"]:
            self.awkward.setdefault("credit_memo", memo_id)

    def syncable(self, invoice: dict[str, Any]) -> bool:
        """Placeable, and its first item's charge has an ItemType__NS (what a memo or adjustment of it bills)."""
        return self.placeable(invoice) and bool(self.items_of[invoice["Id"]][0][1]["ItemType__NS"])

    def memo_cases(self, ordinary: list[dict[str, Any]]) -> None:
        """On ordinary accounts (a known term, syncing, a matched payment method) with invoices on or after the
        cutover: debit memos, one paid by a payment and one settled by a credit memo; an unapplied credit memo;
        and a credit memo that came from NetSuite (Origin__NS = NETSUITE: never selected, reference 4.9)."""
        ready = [a for a in ordinary if any(self.placeable(i) for i in a["invoices"])]
        for number, account in enumerate(ready[: max(2, len(ready) // 4)]):
            invoice = next(i for i in account["invoices"] if self.placeable(i))
            charge = next(c for _, c, *_ in self.items_of[invoice["Id"]] if c["ItemType__NS"])
            day = invoice["InvoiceDate"] + dt.timedelta(days=20)
            rate = TAX_RATES[account["Currency"]][0] if charge["Taxable"] else 0.0
            # Debit memo items name what they bill: a subscription's charge, or a product charge directly.
            source = ("SubscriptionComponent", self.plan_charges[(account["Id"], charge["Id"])])
            if number % 2:
                source = ("ProductRatePlanCharge", charge["Id"])
            memo_id = self.memo("Debit", account, day, [(*source, 25.0, rate)], ReasonCode="Late payment fee",
                                DueDate=day + dt.timedelta(days=account["term_days"]))  # fmt: skip
            memo = self.store.get("DebitMemo", memo_id)
            assert memo is not None
            if number == 0:
                self.awkward["debit_memo"] = memo_id
                self.awkward["payment_of_debit_memo"] = self.pay_debit_memo(account, memo)
            elif number == 1:
                credit_id = self.memo("Credit", account, day, [("ProductRatePlanCharge", charge["Id"], 10.0, 0.0)],
                                      ReasonCode="Write-off")  # fmt: skip
                self.apply_credit(credit_id, memo, "DebitMemoId")
                self.awkward["credit_memo_on_debit_memo"] = credit_id
        open_invoices = [(a, i) for a in ready for i in a["invoices"] if self.syncable(i) and i["Balance"] > 1]
        if "credit_memo" not in self.awkward and open_invoices:
            self.credit_invoice(*open_invoices[0])
        if ready:
            account = ready[0]
            invoice = next(i for i in account["invoices"] if self.placeable(i))
            charge = next(c for _, c, *_ in self.items_of[invoice["Id"]] if c["ItemType__NS"])
            day = invoice["InvoiceDate"] + dt.timedelta(days=25)
            lines = [("ProductRatePlanCharge", charge["Id"], 12.5, 0.0)]
            self.awkward["credit_memo_unapplied"] = self.memo("Credit", account, day, lines, ReasonCode="Goodwill")
            self.awkward["credit_memo_from_netsuite"] = self.memo(
                "Credit", account, day, lines, ReasonCode="Goodwill", Origin__NS="NETSUITE"
            )

    def memo(
        self, kind: str, account: dict[str, Any], day: dt.date, lines: list[tuple[str, str, float, float]],
        **fields: Any,
    ) -> str:  # fmt: skip
        """A Posted credit or debit memo with one item per (SourceItemType, SourceItemId, amount without tax, tax
        rate), each taxed line with its taxation item; returns its Id."""
        memo_id = self.store.new_id()
        parent = f"{kind}MemoId"
        total = tax_total = 0.0
        for source_type, source_id, net, rate in lines:
            tax = round(net * rate, 2)
            item_id = self.add(f"{kind}MemoItem", {
                parent: memo_id, "Amount": net, "AmountWithoutTax": net, "SourceItemType": source_type,
                "SourceItemId": source_id, "ServiceStartDate": day, "Quantity": 1, "UnitPrice": net,
                "ProcessingType": "Charge", "CreatedDate": self.stamp(day, 14),
            })  # fmt: skip
            if tax:
                name = TAX_RATES[account["Currency"]][1]
                self.add(f"{kind}TaxationItem", {
                    parent: memo_id, f"{kind}MemoItemId": item_id, "TaxAmount": tax, "AccountingCode": self.tax_item_id,
                    "TaxDate": day, "Name": name, "TaxRate": rate, "TaxRateType": "Percentage",
                    "TaxRateDescription": f"{name} {rate * 100:g}%", "Jurisdiction": account["Currency"],
                    "CreatedDate": self.stamp(day, 14),
                })  # fmt: skip
            total, tax_total = round(total + net + tax, 2), round(tax_total + tax, 2)
        header = {"Id": memo_id, "AccountId": account["Id"], "MemoNumber": self.number(kind[0] + "M"),
                  "Amount": total, "TaxAmount": tax_total, "TotalTaxExemptAmount": 0.0, "MemoDate": day,
                  "TargetDate": day, "Status": "Posted", "PostedOn": self.stamp(day, 15),
                  "Currency": account["Currency"], "CreatedDate": self.stamp(day, 14), **fields}  # fmt: skip
        if kind == "Credit":
            header.update(AppliedAmount=0.0, UnappliedAmount=total, RefundAmount=0.0, SourceType="Standalone")
        else:
            header.update(Balance=total, SourceType="Standalone")
        return self.add(f"{kind}Memo", header)

    def apply_credit(self, memo_id: str, target: dict[str, Any], target_field: str) -> None:
        """Apply all of a credit memo to an invoice (`InvoiceId`) or a debit memo (`DebitMemoId`)."""
        memo = self.store.get("CreditMemo", memo_id)
        assert memo is not None
        amount = memo["Amount"]
        self.add("CreditMemoPart", {"CreditMemoId": memo_id, target_field: target["Id"], "Amount": amount,
                                    "CreatedDate": memo["CreatedDate"]})  # fmt: skip
        self.patch("CreditMemo", memo_id, {"AppliedAmount": amount, "UnappliedAmount": 0.0})
        if target_field == "InvoiceId":
            target["CreditMemoAmount"] = round(target["CreditMemoAmount"] + amount, 2)
            self._rebalance(target)
        else:
            self.patch("DebitMemo", target["Id"], {"Balance": round(target["Balance"] - amount, 2)})

    def pay_debit_memo(self, account: dict[str, Any], memo: dict[str, Any]) -> str:
        """A Processed payment of a debit memo's whole balance; returns its Id."""
        day = memo["MemoDate"] + dt.timedelta(days=10)
        reference = f"{account['method_type'].upper()}-{memo['MemoNumber']}"
        payment_id = self.payment(account, memo["Balance"], day, "Processed", 0.0, reference)
        self.add("PaymentPart", {"PaymentId": payment_id, "DebitMemoId": memo["Id"], "Amount": memo["Balance"],
                                 "CreatedDate": self.stamp(day, 11)})  # fmt: skip
        self.patch("DebitMemo", memo["Id"], {"Balance": 0.0})
        return payment_id

    # -- Invoice Settlement off: invoice item adjustments ------------------------------------------------------
    def adjustments(self, account: dict[str, Any], account_index: int, invoices: list[dict[str, Any]]) -> None:
        """From an account's second invoice on, on the first two open ones: a credit adjustment of the first item
        and a charge adjustment, in turns by account; on the first open one with tax, a credit of a tax."""
        kinds = ["Credit", "Charge"] if account_index % 2 else ["Charge", "Credit"]
        open_invoices = [i for i in invoices[1:] if i["Balance"] > 5 and i["Amount"] > 0]
        for invoice, kind in zip(open_invoices, kinds, strict=False):
            adjustment_id = self.adjust(invoice, "InvoiceDetail", self.items_of[invoice["Id"]][0][0], kind,
                                        5.0 if kind == "Credit" else 7.5)  # fmt: skip
            self.label_adjustment(f"adjustment_{kind.lower()}", adjustment_id, invoice, account)
        taxed = [(i, tax) for i in open_invoices for _, _, _, tax, _ in self.items_of[i["Id"]] if tax is not None]
        if taxed:
            invoice, tax_id = taxed[0]
            self.label_adjustment(
                "adjustment_of_tax", self.adjust(invoice, "Tax", tax_id, "Credit", 0.5), invoice, account
            )

    def label_adjustment(
        self, label: str, adjustment_id: str, invoice: dict[str, Any], account: dict[str, Any]
    ) -> None:
        """Name the adjustment `label` when it is the first such one that can sync."""
        if self.syncable(invoice) and not account["blocked"]:
            self.awkward.setdefault(label, adjustment_id)

    def adjustment_cases(self, accounts: list[dict[str, Any]]) -> None:
        """A charge adjustment of a negative invoice, which cannot sync (the NetSuite credit memo would have to be
        applied to the new invoice); and a Canceled credit adjustment, never selected."""
        invoices = [i for a in accounts for i in a["invoices"] if i["Status"] == "Posted"]
        negative = next((i for i in invoices if i["Amount"] < 0), None)
        if negative is not None:
            item_id = self.items_of[negative["Id"]][0][0]
            self.awkward["adjustment_of_negative_invoice"] = self.adjust(
                negative, "InvoiceDetail", item_id, "Charge", 2.0
            )
        positive = next((i for i in invoices if i["Amount"] > 0), None)
        if positive is not None:
            item_id = self.items_of[positive["Id"]][0][0]
            self.awkward["adjustment_canceled"] = self.adjust(
                positive, "InvoiceDetail", item_id, "Credit", 1.0, "Canceled"
            )

    def adjust(
        self, invoice: dict[str, Any], source_type: str, source_id: str, kind: str, amount: float,
        status: str = "Processed",
    ) -> str:  # fmt: skip
        """An invoice item adjustment (`Credit` lowers the balance, `Charge` raises it; a Canceled one neither)."""
        adjustment_id = self.add("InvoiceItemAdjustment", {
            "AccountId": invoice["AccountId"], "InvoiceId": invoice["Id"], "InvoiceNumber": invoice["InvoiceNumber"],
            "SourceType": source_type, "SourceId": source_id, "Type": kind, "Amount": amount,
            "AdjustmentDate": invoice["InvoiceDate"] + dt.timedelta(days=2), "AdjustmentNumber": self.number("IIA-"),
            "Status": status, "ReasonCode": "Goodwill", "Comment": f"{kind} of {amount:.2f}",
            "CreatedDate": self.stamp(invoice["InvoiceDate"], 16),
        })  # fmt: skip
        if status == "Processed":
            signed = amount if kind == "Credit" else -amount
            invoice["AdjustmentAmount"] = round(invoice["AdjustmentAmount"] + signed, 2)
            self._rebalance(invoice)
        return adjustment_id

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

        A voided or canceled payment or refund moves no money: the invoices' totals, InvoicePayment.RefundAmount and
        Payment.RefundAmount count Processed ones only. Invoice Settlement off, the payment keeps its InvoicePayment
        (and each refund its RefundInvoicePayment) rows whatever its status; on, a Processed payment has one
        PaymentPart per invoice with what stays applied after its refunds (none when nothing does).
        """
        kind = account["method_type"]
        payment_type = "Electronic" if kind in ELECTRONIC_METHOD_TYPES else "External"
        method_id = account["DefaultPaymentMethodId"]
        applied = [round(i["Balance"] / 2, 2) if plan.partial else i["Balance"] for i in targets]
        refunds = [([round(amount * share, 2) for amount in applied], status) for share, status in plan.refunds]
        refunded = [round(sum(r[i] for r, status in refunds if status == "Processed"), 2) for i in range(len(targets))]
        pay_day = max(i["InvoiceDate"] for i in targets) + dt.timedelta(days=10)
        status = ("Voided" if payment_type == "Electronic" else "Canceled") if plan.voided else "Processed"
        reference = f"{kind.upper()}-{payment_index:06d}"
        payment_id = self.payment(account, round(sum(applied), 2), pay_day, status, round(sum(refunded), 2), reference)
        link_ids = []
        for invoice, amount, refund in zip(targets, applied, refunded, strict=True):
            if not self.settlement:
                link_ids.append(self.add("InvoicePayment", {
                    "InvoiceId": invoice["Id"], "PaymentId": payment_id, "Amount": amount, "RefundAmount": refund,
                    "CreatedDate": self.stamp(pay_day, 11),
                }))  # fmt: skip
            elif not plan.voided and amount > refund:
                self.add("PaymentPart", {
                    "PaymentId": payment_id, "InvoiceId": invoice["Id"], "Amount": round(amount - refund, 2),
                    "CreatedDate": self.stamp(pay_day, 11),
                })  # fmt: skip
            if not plan.voided:
                invoice["PaymentAmount"] = round(invoice["PaymentAmount"] + amount, 2)
                invoice["RefundAmount"] = round(invoice["RefundAmount"] + refund, 2)
                self._rebalance(invoice)
        refund_ids = []
        for number, (amounts, refund_status) in enumerate(refunds):
            refund_day = pay_day + dt.timedelta(days=5 + 7 * number)
            refund_id = self.add("Refund", {
                "RefundNumber": self.number("R-"), "AccountId": account["Id"], "Amount": round(sum(amounts), 2),
                "RefundDate": refund_day, "Type": payment_type, "MethodType": kind, "SourceType": "Payment",
                "Status": refund_status, "PaymentId": payment_id, "PaymentMethodId": method_id,
                "ReasonCode": "Customer Satisfaction", "CreatedDate": self.stamp(refund_day, 12),
            })  # fmt: skip
            refund_ids.append(refund_id)
            for invoice, link_id, amount in zip(targets, link_ids, amounts, strict=False):
                self.add("RefundInvoicePayment", {
                    "RefundId": refund_id, "InvoicePaymentId": link_id, "InvoiceId": invoice["Id"],
                    "RefundAmount": amount, "CreatedDate": self.stamp(refund_day, 12),
                })  # fmt: skip
        return payment_id, refund_ids

    def payment(
        self, account: dict[str, Any], amount: float, day: dt.date, status: str, refunded: float, reference: str
    ) -> str:
        """A payment by the account's payment method; its Id."""
        kind = account["method_type"]
        return self.add("Payment", {
            "AccountId": account["Id"], "PaymentNumber": self.number("P-"), "Amount": amount, "EffectiveDate": day,
            "Type": "Electronic" if kind in ELECTRONIC_METHOD_TYPES else "External",
            "PaymentMethodId": account["DefaultPaymentMethodId"], "Status": status, "AccountingCode": "Cash",
            "ReferenceId": reference, "RefundAmount": refunded, "CreatedDate": self.stamp(day, 11),
        })  # fmt: skip

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
    invoice_settlement: bool = True,
) -> TenantSummary:
    """Fill `store` with a demo tenant of about `invoices` invoices (one account per four); same seed, same data.

    `tax_item_id` is the NetSuite internalId of the sales-tax item, written to TaxationItem.AccountingCode (and to
    the memos' taxation items). `invoice_settlement` says which kind of tenant: memos and payment parts, or
    invoice item adjustments and InvoicePayment rows.
    """
    builder = _Builder(store, seed, tax_item_id, cutover, invoice_settlement)
    charges = builder.catalogue()
    accounts = builder.accounts(max(8, (invoices + 3) // 4))
    builder.invoices(invoices, accounts, charges)
    builder.settle(accounts)
    builder.write_invoices(accounts)
    return TenantSummary(counts=dict(builder.counts), awkward=dict(builder.awkward))
