"""NetSuite-origin demo records (the NetSuite -> Zuora direction): customers for NetSuite as the customer master,
and payments a clerk records in NetSuite once the invoices from Zuora are there.

The Zuora demo tenant's accounts are linked to NetSuite customers, as if they had come from NetSuite, except one
that a NetSuite customer names by its Zuora ID only (to be linked). New NetSuite customers have Send To Zuora
ticked, some awkward on purpose: an individual with one address, no Zuora Batch, no Bill Cycle Day, no billing
address, a shipping address without addressee, a currency and a payment term Zuora lacks, a child of a customer
not synced yet, and customers not to select (not sent, a lead, inactive).

The custom fields use the connector bundle's script ids as zns-sync's config defaults name them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from zns_sync.sandbox.netsuite_store import NetSuiteStore
from zns_sync.sandbox.zuora_store import ZuoraStore

ZUORA_ID, STATUS, SEND = "custentityzuoraid", "custentityzuoraintegrationstatus", "custentityzuorasendtozuora"
BATCH, BILL_CYCLE_DAY = "custentityzuorabatch", "custentityzuorabillcycleday"
_CITIES = (("Springfield", "IL", "_unitedStates"), ("Toronto", "ON", "_canada"), ("Leeds", None, "_unitedKingdom"))
_PEOPLE = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra", "Barbara Liskov")


class _Customers:
    def __init__(self, store: NetSuiteStore, reference: dict[str, Any], seed: int) -> None:
        self.store = store
        self.reference = reference
        self.rng = random.Random(seed)
        self.count = 0

    def address(self, addressee: str | None, *, billing: bool, shipping: bool) -> dict[str, Any]:
        city, state, country = self.rng.choice(_CITIES)
        address = {"addr1": f"{self.rng.randint(1, 999)} Market Street", "city": city, "zip": "62701",
                   "country": country, "state": state, "addressee": addressee}  # fmt: skip
        return {"defaultBilling": billing, "defaultShipping": shipping, "label": "Main",
                "addressbookAddress": {k: v for k, v in address.items() if v is not None}}  # fmt: skip

    def add(self, custom: dict[str, Any] | None = None, **changes: Any) -> str:
        """A NetSuite-origin customer ready for Zuora, with `changes` (None removes a field) and more `custom`
        fields."""
        self.count += 1
        person = self.rng.choice(_PEOPLE)
        fields: dict[str, Any] = {"send": True, "batch": f"Batch{1 + self.count % 3}", "bcd": str(1 + self.count % 28)}
        fields.update({k: changes.pop(k) for k in list(changes) if k in fields})
        custom = {SEND: fields["send"], **(custom or {})}
        if fields["batch"]:
            custom[BATCH] = {"internalId": fields["batch"][5:], "name": fields["batch"]}
        if fields["bcd"]:
            custom[BILL_CYCLE_DAY] = {"internalId": fields["bcd"], "name": fields["bcd"]}
        record: dict[str, Any] = {
            "entityId": f"C-NS-{self.count:04d}",
            "companyName": f"Northwind Trading {self.count}",
            "isPerson": False,
            "stage": "_customer",
            "isInactive": False,
            "email": f"ap{self.count}@northwind.example",
            "phone": "+1 555 0199",
            "currency": {"internalId": self.reference["currencies"][self.rng.choice(("USD", "EUR", "GBP", "CAD"))]},
            "terms": {"internalId": self.reference["terms"][self.rng.choice(("Net 30", "Net 15"))]},
            "subsidiary": {"internalId": self.reference["subsidiary"], "name": "Parent Company"},
            "addressbookList": {
                "addressbook": [
                    self.address(person, billing=True, shipping=False),
                    self.address(f"{person} (Receiving)", billing=False, shipping=True),
                ]
            },
            "customFieldList": custom,
        }
        record.update(changes)
        return self.store.add("Customer", {k: v for k, v in record.items() if v is not None}).internal_id


def seed_netsuite_master(
    netsuite: NetSuiteStore, zuora: ZuoraStore, reference: dict[str, Any], *, customers: int, seed: int
) -> dict[str, str]:
    """Link the Zuora demo accounts to NetSuite customers and add `customers` plain NetSuite-origin ones plus the
    awkward cases; the awkward records' internalIds by label."""
    accounts = zuora.all("Account")
    to_link = accounts[5] if len(accounts) > 5 else accounts[-1]
    made = _Customers(netsuite, reference, seed)
    for account in accounts:
        if account is to_link:
            continue
        term = account["PaymentTerm"] if account["PaymentTerm"] in reference["terms"] else "Net 30"
        internal_id = made.add(
            {ZUORA_ID: account["Id"], STATUS: "Sync Complete"},
            entityId=account["AccountNumber"],
            companyName=account["Name"][:83],
            currency={"internalId": reference["currencies"][account["Currency"]]},
            terms={"internalId": reference["terms"][term]},
        )
        zuora.set(
            "Account", account["Id"], {"IntegrationId__NS": internal_id, "IntegrationStatus__NS": "Sync Complete"}
        )
    plain = [made.add() for _ in range(customers)]
    billing_only = {"addressbook": [made.address("Marie Curie", billing=True, shipping=True)]}
    return {
        "customer_individual": made.add(
            isPerson=True, firstName="Marie", lastName="Curie", companyName=None, addressbookList=billing_only
        ),
        "customer_no_batch": made.add(batch=None),
        "customer_no_bill_cycle_day": made.add(bcd=None),
        "customer_no_billing_address": made.add(
            addressbookList={"addressbook": [made.address("Someone", billing=False, shipping=True)]}
        ),
        "customer_shipping_without_addressee": made.add(
            addressbookList={
                "addressbook": [
                    made.address("Pat Doe", billing=True, shipping=False),
                    made.address(None, billing=False, shipping=True),
                ]
            }
        ),
        "customer_currency_not_in_zuora": made.add(currency={"internalId": reference["currencies"]["JPY"]}),
        "customer_term_not_in_zuora": made.add(terms={"internalId": reference["terms"]["Net 60"]}),
        "customer_child_of_unsynced": made.add(parent={"internalId": plain[-1] if plain else made.add()}),
        "customer_linked_by_zuora_id": made.add({ZUORA_ID: to_link["Id"]}, entityId=to_link["AccountNumber"]),
        "customer_not_sent": made.add(send=False),
        "customer_lead": made.add(stage="_lead"),
        "customer_inactive": made.add(isInactive=True),
    }


TRANSACTION_ZUORA_ID, ZUORA_TYPE = "custbodyzuoraid", "custbodyzuoratype"
TRANSACTION_STATUS = "custbodyzuoraintegrationstatus"
KINDS = {"INVOICE": "Invoice", "DEBIT_MEMO": "DebitMemo"}  # the Zuora Type of a NetSuite invoice -> its Zuora object
ORIGIN, CUSTOMER_ID_PAYMENTS, SYNC_UPDATES = (
    "custbodyzuoraorigin",
    "custbodyzuoracustomeridpayments",
    "custbodyzuorasyncupdates",
)
YES, NO = {"internalId": "1", "name": "Yes"}, {"internalId": "2", "name": "No"}


def _in_zuora_order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """NetSuite transactions from Zuora in the order of their Zuora IDs: the order a run created them in NetSuite (their
    internalIds) varies with its concurrent writes, what a clerk records must not (a crash test compares two runs)."""
    return sorted(records, key=lambda r: str((r.get("customFieldList") or {}).get(TRANSACTION_ZUORA_ID) or ""))


def _not_in_zuora_yet(netsuite: NetSuiteStore) -> dict[str, float]:
    """Per NetSuite invoice: what NetSuite credit memos and payments apply to it that its Zuora invoice's balance does
    not show yet. Those recorded in NetSuite and not synced (no Zuora ID, not Sync Complete), and a negative invoice's
    credit memo (its Zuora ID the negative invoice's) applied in NetSuite; not the payments and adjustments that came
    from Zuora. Zuora refuses an application beyond the balance (reference 4.15: whichever lands last fails): a clerk
    who applied more than it to one invoice would make the outcome depend on which document reaches Zuora first."""
    pending: dict[str, float] = {}
    for record_type in ("CreditMemo", "CustomerPayment"):
        for record in netsuite.all(record_type):
            custom = record.get("customFieldList") or {}
            from_zuora = custom.get(TRANSACTION_ZUORA_ID) and custom.get(ZUORA_TYPE) != "NEGATIVE_INVOICE"
            if from_zuora or custom.get(TRANSACTION_STATUS) == "Sync Complete":
                continue
            for line in (record.get("applyList") or {}).get("apply") or []:
                doc = str(line["doc"])
                pending[doc] = round(pending.get(doc, 0.0) + float(line.get("amount") or 0), 2)
    return pending


class _Payments:
    """Customer payments a clerk records in NetSuite against the invoices that came from Zuora (of customers whose
    payment method NetSuite knows, unless not `paying`), for at most what is open in both systems."""

    def __init__(
        self, netsuite: NetSuiteStore, zuora: ZuoraStore, reference: dict[str, Any], seed: int, *, paying: bool = True
    ) -> None:
        self.netsuite, self.zuora, self.reference = netsuite, zuora, reference
        self.rng = random.Random(seed)
        accounts = {c["internalId"]: (c.get("customFieldList") or {}).get(ZUORA_ID) for c in netsuite.all("Customer")}
        methods = {m["AccountId"]: m["Type"] for m in zuora.all("PaymentMethod")}
        self.open: dict[str, list[dict[str, Any]]] = {}  # NetSuite customer -> its open invoices from Zuora
        self.debit_memos: dict[str, list[dict[str, Any]]] = {}  # ... its open invoices from Zuora debit memos
        # Read once: an invoice is taken at most once, so what this clerk records later never applies to one read again.
        self.pending = _not_in_zuora_yet(netsuite)
        for invoice in _in_zuora_order(netsuite.all("Invoice")):
            custom = invoice.get("customFieldList") or {}
            customer = invoice["entity"]["internalId"]
            kind = custom.get(ZUORA_TYPE)
            from_zuora = kind in KINDS and zuora.get(KINDS[kind], str(custom.get(TRANSACTION_ZUORA_ID)))
            payable = not paying or methods.get(accounts.get(customer)) in reference["payment_methods"]
            if from_zuora and payable and invoice.get("amountRemaining", 0) > 1:
                (self.open if kind == "INVOICE" else self.debit_memos).setdefault(customer, []).append(invoice)
        self.accounts, self.methods = accounts, methods

    def open_amount(self, invoice: dict[str, Any]) -> float:
        custom = invoice["customFieldList"]
        zuora_invoice = self.zuora.get(KINDS[custom[ZUORA_TYPE]], str(custom[TRANSACTION_ZUORA_ID])) or {}
        zuora_open = float(zuora_invoice.get("Balance") or 0) - self.pending.get(str(invoice["internalId"]), 0.0)
        return round(min(float(invoice["amountRemaining"]), zuora_open), 2)

    def take(self, invoices: int) -> tuple[str, list[dict[str, Any]]] | None:
        """A customer with `invoices` open invoices, and those invoices (no longer offered to later payments)."""
        for customer, found in self.open.items():
            if len(found) >= invoices and all(self.open_amount(i) > 1 for i in found[:invoices]):
                taken, self.open[customer] = found[:invoices], found[invoices:]
                return customer, taken
        return None

    def add(self, customer: str, lines: list[tuple[str, float]], *, extra: float = 0.0, **changes: Any) -> str:
        account = self.accounts[customer]
        method = changes.pop("method", self.methods[account])
        custom = {CUSTOMER_ID_PAYMENTS: account, SYNC_UPDATES: YES, **changes.pop("custom", {})}
        applied = round(sum(amount for _, amount in lines), 2)
        record = {
            "customer": {"internalId": customer}, "payment": round(applied + extra, 2),
            "tranDate": dt.datetime(2024, 12, 1), "memo": "Recorded in NetSuite",
            "paymentMethod": {"internalId": self.reference["payment_methods"][method], "name": method},
            "applyList": {"apply": [{"doc": int(doc), "apply": True, "amount": amount} for doc, amount in lines]},
            "customFieldList": custom,
        }  # fmt: skip
        if not lines:
            del record["applyList"]
        return self.netsuite.add("CustomerPayment", {**record, **changes}).internal_id


def record_netsuite_payments(
    netsuite: NetSuiteStore, zuora: ZuoraStore, reference: dict[str, Any], *, payments: int, seed: int
) -> dict[str, str]:
    """NetSuite-origin customer payments (after a run synced the invoices): `payments` plain ones and the awkward
    cases, applied to what is open in both systems; their internalIds by label."""
    made = _Payments(netsuite, zuora, reference, seed)
    awkward: dict[str, str] = {}

    def pay(label: str, invoices: int = 1, **changes: Any) -> None:
        found = made.take(invoices)
        if found is not None:
            customer, taken = found
            awkward[label] = made.add(customer, [(i["internalId"], made.open_amount(i)) for i in taken], **changes)

    pay("ns_payment_over_several_invoices", invoices=2)
    pay("ns_payment_partly_applied", extra=25.0)
    pay("ns_payment_from_zuora", custom={ORIGIN: "ZUORA"})
    pay("ns_payment_sync_updates_no", custom={SYNC_UPDATES: NO})
    pay("ns_payment_method_not_in_zuora", method="Cash")
    found = made.take(1)
    if found is not None:  # more than Zuora's open balance: the invoice was adjusted in Zuora meanwhile
        customer, (invoice,) = found
        amount = made.open_amount(invoice)
        zuora.set("Invoice", str(invoice["customFieldList"][TRANSACTION_ZUORA_ID]), {"Balance": round(amount / 2, 2)})
        awkward["ns_payment_more_than_zuora_balance"] = made.add(customer, [(invoice["internalId"], amount)])
    for customer in list(made.open)[:1]:
        awkward["ns_payment_unapplied"] = made.add(customer, [], extra=40.0)
        only_netsuite = netsuite.add("Invoice", {
            "entity": {"internalId": customer}, "tranDate": dt.datetime(2024, 11, 1),
            "itemList": {"item": [{"item": {"internalId": reference["tax_item"]}, "amount": 30.0}]},
        }).internal_id  # fmt: skip
        awkward["ns_payment_to_netsuite_invoice"] = made.add(customer, [(only_netsuite, 30.0)])
    for number in range(payments):
        pay(f"ns_payment_{number}")
    for customer, memos in list(made.debit_memos.items())[:1]:  # Invoice Settlement: a debit memo and an invoice
        lines = [(memos[0]["internalId"], made.open_amount(memos[0]))]
        invoices = made.open.pop(customer, [])[:1]
        lines += [(i["internalId"], made.open_amount(i)) for i in invoices if made.open_amount(i) > 1]
        awkward["ns_payment_to_debit_memo"] = made.add(customer, lines)
    return awkward


CREATE_ZUORA_REFUND, REFUND_PAYMENT_REFERENCE = "custbodyzuoracreatezuorarefund", "custbodyzuorarefundpaymentref"


def record_netsuite_refunds(netsuite: NetSuiteStore, zuora: ZuoraStore, reference: dict[str, Any]) -> dict[str, str]:
    """NetSuite refunds of Zuora payments (reference 4.13): a standalone credit memo with Create Zuora Refund ticked
    naming the Zuora payment, and a customer refund paying it out; the refunds' internalIds by label."""
    customers = {custom.get(ZUORA_ID): c["internalId"] for c in netsuite.all("Customer")
                 if (custom := c.get("customFieldList") or {}).get(ZUORA_ID)}  # fmt: skip
    methods = {m["AccountId"]: m["Type"] for m in zuora.all("PaymentMethod")}
    payments = [
        p for p in zuora.all("Payment")
        if p["Status"] == "Processed" and p["AccountId"] in customers and methods.get(p["AccountId"]) in
        reference["payment_methods"] and p["Amount"] - p.get("RefundAmount", 0) > 40
    ]  # fmt: skip

    def credit_memo(customer: str, amount: float, flag: bool, payment: str | None) -> str:
        custom = {CREATE_ZUORA_REFUND: flag, **({REFUND_PAYMENT_REFERENCE: payment} if payment else {})}
        return netsuite.add("CreditMemo", {
            "entity": {"internalId": customer}, "tranDate": dt.datetime(2024, 12, 5), "memo": "Refund due",
            "itemList": {"item": [{"item": {"internalId": reference["tax_item"]}, "amount": amount}]},
            "customFieldList": custom,
        }).internal_id  # fmt: skip

    def refund(payment: dict[str, Any], amount: float, *, flag: bool = True, memos: int = 1, ref: bool = True) -> str:
        customer, account = customers[payment["AccountId"]], payment["AccountId"]
        docs = [credit_memo(customer, amount, flag, payment["Id"] if ref else None) for _ in range(memos)]
        return netsuite.add("CustomerRefund", {
            "customer": {"internalId": customer}, "tranDate": dt.datetime(2024, 12, 6), "memo": "Refund",
            "paymentMethod": {"internalId": reference["payment_methods"][methods[account]]},
            "applyList": {"apply": [{"doc": int(doc), "apply": True, "amount": amount} for doc in docs]},
            "customFieldList": {CUSTOMER_ID_PAYMENTS: account},
        }).internal_id  # fmt: skip

    cases: dict[str, Callable[[dict[str, Any]], str]] = {
        "ns_refund": lambda p: refund(p, 20.0),
        "ns_refund_more_than_payment": lambda p: refund(p, round(p["Amount"] + 10, 2)),
        "ns_refund_without_create_flag": lambda p: refund(p, 15.0, flag=False),
        "ns_refund_of_two_credit_memos": lambda p: refund(p, 10.0, memos=2),
        "ns_refund_without_payment_reference": lambda p: refund(p, 12.0, ref=False),
    }
    return {label: make(payment) for (label, make), payment in zip(cases.items(), payments, strict=False)}


CUSTOMER_ID_SALES = "custbodyzuoracustomeridsales"


def record_netsuite_credit_memos(
    netsuite: NetSuiteStore, zuora: ZuoraStore, reference: dict[str, Any]
) -> dict[str, str]:
    """NetSuite credit memos against invoices from Zuora (reference 4.15): a clerk's own, and a negative invoice's
    credit memo applied at last; their internalIds by label."""
    made = _Payments(netsuite, zuora, reference, 0, paying=False)  # the open invoices from Zuora, by customer
    awkward: dict[str, str] = {}

    def credit(label: str, amounts: list[float], extra: float = 0.0) -> None:
        found = made.take(len(amounts))
        if found is None or any(made.open_amount(i) < a for i, a in zip(found[1], amounts, strict=True)):
            return
        customer, invoices = found
        lines = [
            {"doc": int(i["internalId"]), "apply": True, "amount": a} for i, a in zip(invoices, amounts, strict=True)
        ]
        awkward[label] = netsuite.add("CreditMemo", {
            "entity": {"internalId": customer}, "tranDate": dt.datetime(2024, 12, 10), "memo": "Goodwill credit",
            "itemList": {"item": [{"item": {"internalId": reference["tax_item"]}, "amount": sum(amounts) + extra}]},
            "applyList": {"apply": lines}, "customFieldList": {CUSTOMER_ID_SALES: made.accounts[customer]},
        }).internal_id  # fmt: skip
        if label == "ns_credit_memo_more_than_zuora_balance":  # the invoice was adjusted in Zuora meanwhile
            zuora.set("Invoice", str(invoices[0]["customFieldList"][TRANSACTION_ZUORA_ID]), {"Balance": 1.0})

    for memo in _in_zuora_order(netsuite.all("CreditMemo")):  # a negative invoice's credit memo, used at last:
        customer = memo["entity"]["internalId"]
        open_ = made.open.get(customer, [])[:2]
        if (memo.get("customFieldList") or {}).get(ZUORA_TYPE) != "NEGATIVE_INVOICE" or not open_:
            continue
        negative = zuora.get("Invoice", str((memo.get("customFieldList") or {}).get(TRANSACTION_ZUORA_ID))) or {}
        if round(float(negative.get("Balance") or 0), 2) != round(float(negative.get("Amount") or 0), 2):
            continue  # adjusted in Zuora (Invoice Settlement off): its balance is no longer the memo's total
        lines, left = [], float(memo["total"])
        for invoice in open_:  # applied to open invoices from Zuora (at most two of them) ...
            amount = round(min(left, made.open_amount(invoice) / 2), 2)
            lines.append({"doc": int(invoice["internalId"]), "apply": True, "amount": amount})
            left = round(left - amount, 2)
            made.open[customer].remove(invoice)
        netsuite.update("CreditMemo", {"internalId": memo["internalId"], "applyList": {"apply": lines}})
        if left > 0:  # ... and the rest refunded to the customer, in NetSuite only
            netsuite.add("CustomerRefund", {
                "customer": {"internalId": customer}, "tranDate": dt.datetime(2024, 12, 12),
                "applyList": {"apply": [{"doc": int(memo["internalId"]), "apply": True, "amount": left}]},
            })  # fmt: skip
        awkward["ns_credit_memo_negative_invoice"] = memo["internalId"]
        break
    credit("ns_credit_memo", [15.0])
    credit("ns_credit_memo_partly_applied", [10.0], extra=10.0)
    credit("ns_credit_memo_two_zuora_invoices", [10.0, 10.0])
    credit("ns_credit_memo_more_than_zuora_balance", [12.0])
    return awkward


SEND_TO_ZUORA, AUTO_RENEW, INITIAL_TERM, RENEWAL_TERM, TERM_SETTING = (
    "custbodyzuorasendtozuora",
    "custbodyzuoraautorenew",
    "custbodyzuorainitialterm",
    "custbodyzuorarenewalterm",
    "custbodyzuoratermsetting",
)
ITEM_ZUORA_ID, ITEM_ZUORA_TYPE = "custitemzuoraid", "custitemzuoratype"


def record_netsuite_sales_orders(netsuite: NetSuiteStore, zuora: ZuoraStore) -> dict[str, str]:
    """Sales orders a salesperson enters in NetSuite once the catalog sync made the rate-plan items (reference 4.6):
    for customers synced to Zuora, with rate-plan lines and another item's line (ignored), one EVERGREEN, one without
    an Initial Term, one not sent to Zuora, one with no rate-plan line; their internalIds by label (none without
    rate-plan items)."""
    items = [i for t in ("NonInventorySaleItem", "ServiceSaleItem", "InventoryItem") for i in netsuite.all(t)]
    plans = [i for i in items if (i.get("customFieldList") or {}).get(ITEM_ZUORA_TYPE) == "RATE_PLAN"]
    others = [i for i in items if (i.get("customFieldList") or {}).get(ITEM_ZUORA_TYPE) != "RATE_PLAN"]
    active = {a["Id"] for a in zuora.all("Account") if a.get("Status") == "Active"}
    customers = [c for c in netsuite.all("Customer") if (c.get("customFieldList") or {}).get(ZUORA_ID) in active]
    if not plans or not others or not customers:
        return {}
    termed = {AUTO_RENEW: YES, INITIAL_TERM: 12, RENEWAL_TERM: 12, TERM_SETTING: {"internalId": "1", "name": "TERMED"}}

    def order(index: int, lines: list[dict[str, Any]], custom: dict[str, Any]) -> str:
        customer = customers[index % len(customers)]
        fields = {SEND_TO_ZUORA: True, CUSTOMER_ID_SALES: customer["customFieldList"][ZUORA_ID], **custom}
        return netsuite.add("SalesOrder", {
            "entity": {"internalId": customer["internalId"]}, "currency": customer.get("currency"),
            "tranId": f"SO{netsuite.count('SalesOrder') + 1001}", "tranDate": dt.datetime(2025, 1, 2 + index),
            "memo": "New subscription",
            "itemList": {"item": [{"item": {"internalId": i["internalId"]}, "quantity": 1.0} for i in lines]},
            "customFieldList": {k: v for k, v in fields.items() if v is not None},
        }).internal_id  # fmt: skip

    evergreen = {TERM_SETTING: {"internalId": "2", "name": "EVERGREEN"}}
    return {
        "sales_order_two_plans": order(0, [plans[0], others[0], plans[1 % len(plans)]], termed),
        "sales_order_one_plan": order(1, [plans[2 % len(plans)]], termed),
        "sales_order_evergreen": order(2, [plans[3 % len(plans)], plans[3 % len(plans)]], evergreen),
        "sales_order_without_initial_term": order(3, [plans[0]], {**termed, INITIAL_TERM: None}),
        "sales_order_not_sent": order(4, [plans[0]], {**termed, SEND_TO_ZUORA: False}),
        "sales_order_without_rate_plan_line": order(5, [others[0]], termed),
    }
