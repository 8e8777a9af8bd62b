"""Whole-system assertions shared by the end-to-end and crash-safety tests: read both emulators' stores."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from zns_sync.cli import open_engine
from zns_sync.config import NetSuiteFields, Settings
from zns_sync.engine import Engine
from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox

FIELDS = NetSuiteFields()
ITEMS = ("InventoryItem", "NonInventorySaleItem", "ServiceSaleItem")
# Zuora object -> (NetSuite record types it may become, the custom field holding the Zuora Id, the externalId kind).
COUNTERPARTS = {
    "Account": (("Customer",), FIELDS.customer_zuora_id, "account"),
    "Product": (ITEMS, FIELDS.item_zuora_id, "product"),
    "ProductRatePlan": (ITEMS, FIELDS.item_zuora_id, "rate-plan"),
    "ProductRatePlanCharge": (ITEMS, FIELDS.item_zuora_id, "charge"),
    "Invoice": (("Invoice", "CreditMemo"), FIELDS.transaction_zuora_id, "invoice"),
    "DebitMemo": (("Invoice",), FIELDS.transaction_zuora_id, "debit-memo"),
    "CreditMemo": (("CreditMemo",), FIELDS.transaction_zuora_id, "credit-memo"),
    "Payment": (("CustomerPayment",), FIELDS.transaction_zuora_id, "payment"),
    "Refund": (("CustomerRefund",), FIELDS.transaction_zuora_id, "refund"),
    "InvoiceItemAdjustment": (("CreditMemo", "Invoice"), FIELDS.transaction_zuora_id, "adjustment"),
}
ZUORA_OBJECTS = tuple(COUNTERPARTS)
TRANSACTIONS = ("Invoice", "DebitMemo", "CreditMemo", "Payment", "Refund", "InvoiceItemAdjustment")


def zns(config: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "zns_sync", "--config", str(config), *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def set_sync(config: Path, **values: object) -> None:
    """Change `sync:` keys of a config file."""
    data = yaml.safe_load(config.read_text())
    data["sync"].update(values)
    config.write_text(yaml.safe_dump(data))


def netsuite_records(box: Sandbox, record_type: str) -> list[dict[str, Any]]:
    return box.netsuite.store.all(record_type)


def line_total(record: dict[str, Any]) -> Decimal:
    lines = (record.get("itemList") or {}).get("item") or []
    return sum((Decimal(str(line.get("amount") or 0)) for line in lines), Decimal(0))


def statuses(box: Sandbox, object_type: str) -> Counter[str]:
    """Zuora records of a type per Integration Status."""
    return Counter(str(r.get("IntegrationStatus__NS") or "(blank)") for r in box.zuora.store.all(object_type))


def assert_consistent(box: Sandbox) -> dict[str, int]:
    """No NetSuite record twice; every `Sync Complete` Zuora record points at its own NetSuite record; amounts,
    customers and applications equal.

    Returns the number of synced records per Zuora object.
    """
    synced: dict[str, int] = {}
    for zuora_object, (ns_types, zuora_id_field, kind) in COUNTERPARTS.items():
        by_internal_id: dict[str, dict[str, Any]] = {}
        zuora_ids: Counter[str] = Counter()
        for ns_type in ns_types:
            for record in netsuite_records(box, ns_type):
                zuora_id = (record.get("customFieldList") or {}).get(zuora_id_field)
                if zuora_id is None or not str(record.get("externalId")).startswith(f"zuora-{kind}-"):
                    continue  # reference data seeded in NetSuite (the tax item), or another Zuora object's
                by_internal_id[str(record["internalId"])] = {**record, "recordType": ns_type}
                zuora_ids[str(zuora_id)] += 1
        duplicated = {k: v for k, v in zuora_ids.items() if v > 1}
        assert not duplicated, f"{zuora_object}: NetSuite holds duplicates {duplicated}"
        complete = 0
        for row in box.zuora.store.all(zuora_object):
            status = row.get("IntegrationStatus__NS")
            if status != "Sync Complete":
                assert row["Id"] not in zuora_ids or row.get("IntegrationStatus__NS", "").startswith(
                    ("Creating", "Linking", "Error")
                ), f"{zuora_object} {row['Id']} exists in NetSuite but is {status!r}"
                continue
            complete += 1
            internal_id = str(row.get("IntegrationId__NS"))
            assert internal_id in by_internal_id, f"{zuora_object} {row['Id']}: IntegrationId__NS {internal_id} missing"
            record = by_internal_id[internal_id]
            assert (record.get("customFieldList") or {}).get(zuora_id_field) == row["Id"]
            if zuora_object in TRANSACTIONS:
                assert row.get("TransferredToAccounting") == "Yes", row
                customer = (record.get("entity") or record.get("customer") or {}).get("internalId")
                account = box.zuora.store.get("Account", row["AccountId"]) or {}
                assert customer == account.get("IntegrationId__NS"), f"{zuora_object} {row['Id']}: customer differs"
            if zuora_object in ("Invoice", "DebitMemo", "CreditMemo", "InvoiceItemAdjustment"):
                assert line_total(record) == abs(Decimal(str(row["Amount"]))), f"{zuora_object} {row['Id']}: amounts"
            if zuora_object in ("Payment", "Refund"):
                assert row.get("Origin__NS") == "ZUORA", row
            if zuora_object == "Refund":
                assert money(record.get("total")) == money(row["Amount"]), f"refund {row['Id']} amounts differ"
            if zuora_object in ("CreditMemo", "InvoiceItemAdjustment", "DebitMemo"):
                assert_memo_mapped(box, zuora_object, row, record)
            if zuora_object == "ProductRatePlan":  # a sub-item of its product's item (reference 6.4)
                product = box.zuora.store.get("Product", row["ProductId"]) or {}
                assert (record.get("parent") or {}).get("internalId") == product.get("IntegrationId__NS"), row
        assert complete == sum(zuora_ids.values()), f"{zuora_object}: NetSuite records without a complete source"
        synced[zuora_object] = complete
    assert_payments_applied(box)
    return synced


def netsuite_id(box: Sandbox, zuora_id: str) -> str:
    """The IntegrationId__NS of the Zuora invoice or debit memo with this Id."""
    row = box.zuora.store.get("Invoice", zuora_id) or box.zuora.store.get("DebitMemo", zuora_id) or {}
    return str(row["IntegrationId__NS"])


def assert_memo_mapped(box: Sandbox, zuora_object: str, row: dict[str, Any], record: dict[str, Any]) -> None:
    """A memo's or adjustment's NetSuite record: its type, its Zuora Type, its applications (reference 6.12-6.15)."""
    zuora_type = (record.get("customFieldList") or {}).get(FIELDS.transaction_zuora_type)
    if zuora_object == "DebitMemo":
        assert (record["recordType"], zuora_type) == ("Invoice", "DEBIT_MEMO"), record
        return
    if zuora_object == "CreditMemo":
        assert (record["recordType"], zuora_type) == ("CreditMemo", "CREDIT_MEMO"), record
        expected: dict[str, Decimal] = {}
        for part in box.zuora.store.all("CreditMemoPart"):
            if part["CreditMemoId"] == row["Id"]:
                doc = netsuite_id(box, part.get("InvoiceId") or part["DebitMemoId"])
                expected[doc] = expected.get(doc, Decimal(0)) + money(part["Amount"])
        assert applications(record) == expected, f"credit memo {row['Id']}: {applications(record)} != {expected}"
        return
    assert zuora_type == "INVOICE_ITEM_ADJUSTMENT", record
    invoice = netsuite_id(box, row["InvoiceId"])
    if row["Type"] == "Credit":
        assert record["recordType"] == "CreditMemo" and applications(record) == {invoice: money(row["Amount"])}
    else:
        related = (record.get("customFieldList") or {}).get(FIELDS.transaction_related_transaction)
        assert record["recordType"] == "Invoice" and related == invoice, record


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def applications(record: dict[str, Any]) -> dict[str, Decimal]:
    """A NetSuite payment's applied amounts by invoice internalId."""
    lines = (record.get("applyList") or {}).get("apply") or []
    return {str(line["doc"]): money(line.get("amount")) for line in lines if line.get("apply", True)}


def assert_payments_applied(box: Sandbox) -> None:
    """Every synced payment whose refunds all synced applies to each invoice (and debit memo) what Zuora applies
    minus what was refunded, its unapplied cash went to its NetSuite refunds, and no refund reached NetSuite twice."""
    store = box.zuora.store
    refunds_of: dict[str, list[dict[str, Any]]] = {}
    for refund in store.all("Refund"):
        refunds_of.setdefault(str(refund.get("PaymentId")), []).append(refund)
    for payment in store.all("Payment"):
        if payment.get("IntegrationStatus__NS") != "Sync Complete":
            continue
        refunds = refunds_of.get(payment["Id"], [])
        if any(r.get("IntegrationStatus__NS") != "Sync Complete" for r in refunds if r.get("Status") == "Processed"):
            continue  # a refund on its way: the payment is between the two steps
        record = box.netsuite.store.get("CustomerPayment", str(payment["IntegrationId__NS"]))
        assert record is not None
        expected: dict[str, Decimal] = {}
        for doc, net in applied_now(box, payment["Id"]):
            if net:
                expected[doc] = expected.get(doc, Decimal(0)) + net
        assert applications(record) == expected, f"payment {payment['Id']}: {applications(record)} != {expected}"
        refunded = sum((money(r["Amount"]) for r in refunds if r.get("Status") == "Processed"), Decimal(0))
        assert money(record.get("payment")) - sum(expected.values(), Decimal(0)) - refunded == money(
            record.get("unapplied")
        ), f"payment {payment['Id']}: unapplied cash {record.get('unapplied')} is not what the refunds left"


def applied_now(box: Sandbox, payment_id: str) -> list[tuple[str, Decimal]]:
    """(NetSuite document, amount) of what a Zuora payment applies now: its InvoicePayment rows less their refunds
    (Invoice Settlement off), or its PaymentPart rows (on)."""
    store = box.zuora.store
    if box.invoice_settlement:
        return [(netsuite_id(box, part.get("InvoiceId") or part["DebitMemoId"]), money(part["Amount"]))
                for part in store.all("PaymentPart") if part["PaymentId"] == payment_id]  # fmt: skip
    return [(netsuite_id(box, a["InvoiceId"]), money(a["Amount"]) - money(a.get("RefundAmount")))
            for a in store.all("InvoicePayment") if a["PaymentId"] == payment_id]  # fmt: skip


@contextlib.contextmanager
def engine(
    box: Sandbox,
    state: Path,
    sync: dict[str, Any] | None = None,
    zuora: dict[str, Any] | None = None,
    **netsuite: int,
) -> Iterator[Engine]:
    """An engine in this process for the sandbox, with `sync`, `zuora` and `netsuite` settings changed."""
    settings: Settings = box.settings(state)
    settings = dataclasses.replace(
        settings,
        zuora=dataclasses.replace(settings.zuora, **(zuora or {})),
        netsuite=dataclasses.replace(settings.netsuite, **netsuite),
        sync=dataclasses.replace(settings.sync, **(sync or {})),
    )
    with contextlib.ExitStack() as stack:
        e = stack.enter_context(open_engine(settings, stack, None, None))
        e.journal.start_run("test", settings.sync.types, False)
        yield e


def problems(state: Path) -> dict[str, str]:
    """Zuora id -> outcome of every record the last run could not sync."""
    with Journal(state) as journal:
        run_id = journal.runs(1)[0].id
        return {a.source_id: a.outcome for _, a, _ in journal.attempts(run_id=run_id, errors_only=True)}


def custom(record: dict[str, Any], script_id: str) -> Any:
    return (record.get("customFieldList") or {}).get(script_id)


def netsuite_statuses(box: Sandbox, record_type: str) -> Counter[str]:
    """NetSuite records of a type per Zuora Integration Status (NetSuite-originated records only)."""
    field = FIELDS.customer_integration_status if record_type == "Customer" else FIELDS.transaction_integration_status
    return Counter(str(custom(r, field) or "(blank)") for r in box.netsuite.store.all(record_type))


def _counterpart(status: str | None, zuora_id: str | None, zuora_object: dict[str, Any], settled: bool) -> bool:
    """Whether a Zuora object is its NetSuite record's complete counterpart; else the record must be on its way."""
    name = f"{zuora_object['Id']} (of NetSuite record {zuora_object['IntegrationId__NS']})"
    if status == "Sync Complete":
        assert zuora_id == zuora_object["Id"], f"{name} is not the Zuora ID {zuora_id} written back"
        return True
    allowed = ("Error",) if settled else ("Creating", "Linking", "Error")
    assert str(status).startswith(allowed), f"Zuora {name} exists but its NetSuite record is {status!r}"
    return False


def _complete_transactions(
    box: Sandbox, zuora_object: str, netsuite_type: str, settled: bool
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Our Zuora transactions (Origin__NS NETSUITE), each checked to belong to its NetSuite record, with that record
    when it is complete: Processed, TransferredToAccounting Yes."""
    for zuora_record in box.zuora.store.all(zuora_object):
        if zuora_record.get("Origin__NS") != "NETSUITE":
            continue
        record = box.netsuite.store.get(netsuite_type, str(zuora_record["IntegrationId__NS"]))
        assert record is not None, f"{zuora_object} {zuora_record['Id']} names no NetSuite {netsuite_type}"
        status = custom(record, FIELDS.transaction_integration_status)
        if _counterpart(status, custom(record, FIELDS.transaction_zuora_id), zuora_record, settled):
            assert zuora_record["Status"] == "Processed", zuora_record
            assert zuora_record.get("TransferredToAccounting") == "Yes", zuora_record
            yield zuora_record, record


def assert_netsuite_origin_consistent(box: Sandbox, *, settled: bool = True) -> dict[str, int]:
    """No Zuora record twice for one NetSuite record; each Zuora record of ours belongs to a NetSuite record that is
    complete and names it (or, unless `settled`, on its way); complete customers are Active accounts with their
    two contacts, complete payments are Processed with one application per applied invoice, amounts equal.

    Returns the complete NetSuite records per type.
    """
    zuora, netsuite = box.zuora.store, box.netsuite.store
    accounts = Counter(str(a["IntegrationId__NS"]) for a in zuora.all("Account") if a.get("IntegrationId__NS"))
    contacts = Counter((c["AccountId"], c["Description"]) for c in zuora.all("Contact") if c.get("Description"))
    payments = Counter(str(p["IntegrationId__NS"]) for p in zuora.all("Payment") if p.get("Origin__NS") == "NETSUITE")
    refunds = Counter(str(r["IntegrationId__NS"]) for r in zuora.all("Refund") if r.get("Origin__NS") == "NETSUITE")
    adjustments = [a for a in zuora.all("InvoiceItemAdjustment") if a.get("Origin__NS") == "NETSUITE"]
    links = Counter(
        (a["PaymentId"], a.get("InvoiceId"), a.get("DebitMemoId"))
        for a in [*zuora.all("InvoicePayment"), *zuora.all("PaymentPart")]
    )
    counted_all = (("accounts", accounts), ("contacts", contacts), ("payments", payments), ("refunds", refunds),
                   ("adjustments", Counter(str(a["IntegrationId__NS"]) for a in adjustments)))  # fmt: skip
    for name, counted in (*counted_all, ("links", links)):
        assert all(n == 1 for n in counted.values()), (
            f"duplicate Zuora {name}: {[k for k, n in counted.items() if n > 1]}"
        )
    complete = Counter[str]()
    for account in zuora.all("Account"):
        if not account.get("IntegrationId__NS"):
            continue
        customer = netsuite.get("Customer", str(account["IntegrationId__NS"]))
        assert customer is not None, f"account {account['Id']} names no NetSuite customer"
        status = custom(customer, FIELDS.customer_integration_status)
        if _counterpart(status, custom(customer, FIELDS.customer_zuora_id), account, settled):
            complete["Customer"] += 1
            assert account["Status"] == "Active", account
            for role in ("BillToId", "SoldToId"):
                assert (zuora.get("Contact", account[role]) or {}).get("AccountId") == account["Id"], (account, role)
    documents = {row["Id"]: row for row in [*zuora.all("Invoice"), *zuora.all("DebitMemo")]}
    for payment, record in _complete_transactions(box, "Payment", "CustomerPayment", settled):
        complete["CustomerPayment"] += 1
        assert custom(record, FIELDS.transaction_origin) == "NETSUITE", record
        applied = {  # each NetSuite invoice: a Zuora invoice's or (Invoice Settlement) a debit memo's
            str(documents[a.get("InvoiceId") or a["DebitMemoId"]]["IntegrationId__NS"]): money(a["Amount"])
            for a in [*zuora.all("InvoicePayment"), *zuora.all("PaymentPart")]  # Invoice Settlement off / on
            if a["PaymentId"] == payment["Id"]
        }
        assert applied == applications(record), f"payment {payment['Id']}: {applied} != {applications(record)}"
    for refund, record in _complete_transactions(box, "Refund", "CustomerRefund", settled):
        complete["CustomerRefund"] += 1
        assert money(refund["Amount"]) == money(record["total"]), refund
        (line,) = record["applyList"]["apply"]
        memo = netsuite.get("CreditMemo", str(line["doc"])) or {}
        assert custom(memo, FIELDS.credit_memo_refund_payment_reference) == refund["PaymentId"]
        assert custom(memo, FIELDS.transaction_integration_status) == "Sync Complete"  # both records (4.13)
        assert custom(memo, FIELDS.transaction_zuora_id) == refund["Id"]
    invoices_by_netsuite_id = {str(i.get("IntegrationId__NS")): i for i in zuora.all("Invoice")}
    for adjustment in adjustments:
        memo_id, _, invoice_id = str(adjustment["IntegrationId__NS"]).partition("_")  # <credit memo>_<invoice>
        memo = netsuite.get("CreditMemo", memo_id)
        assert memo is not None, f"adjustment {adjustment['Id']} names no NetSuite credit memo"
        status = custom(memo, FIELDS.transaction_integration_status)
        if status != "Sync Complete" or invoice_id:  # only the last (charge or only credit) one is written back
            assert status == "Sync Complete" or str(status).startswith(
                ("Creating", "Error") if not settled else "Error"
            )
            continue
        negative = custom(memo, FIELDS.transaction_zuora_type) == "NEGATIVE_INVOICE"
        # A negative invoice's credit memo keeps its invoice's Zuora ID; the others name their adjustment.
        names = adjustment["InvoiceId"] if negative else adjustment["Id"]
        assert custom(memo, FIELDS.transaction_zuora_id) == names, (memo, adjustment)
        complete["CreditMemo"] += 1
        expected = {
            f"{memo_id}_{doc}" if negative else memo_id: amount
            for doc, amount in applications(memo).items()
            if doc in invoices_by_netsuite_id
        }
        if negative:
            assert adjustment["Type"] == "Charge" and money(adjustment["Amount"]) == money(memo["total"])
            expected[memo_id] = money(memo["total"])
        made = {str(a["IntegrationId__NS"]): money(a["Amount"]) for a in adjustments
                if str(a["IntegrationId__NS"]).partition("_")[0] == memo_id}  # fmt: skip
        assert made == expected, f"credit memo {memo_id}: {made} != {expected}"
    complete.update(_complete_sales_orders(box, settled))
    return dict(complete)


def _complete_sales_orders(box: Sandbox, settled: bool) -> Counter[str]:
    """One subscription per sales order; a complete order names it (Zuora ID, its number as the Zuora Reference
    Number, the sync date) and it holds one rate plan per rate-plan line, in order."""
    zuora, netsuite = box.zuora.store, box.netsuite.store
    subscriptions = [s for s in zuora.all("Subscription") if s.get("IntegrationId__NS")]
    counted = Counter(str(s["IntegrationId__NS"]) for s in subscriptions)
    assert all(n == 1 for n in counted.values()), f"duplicate subscriptions: {[k for k, n in counted.items() if n > 1]}"
    complete = Counter[str]()
    for subscription in subscriptions:
        order = netsuite.get("SalesOrder", str(subscription["IntegrationId__NS"]))
        assert order is not None, f"subscription {subscription['Id']} names no NetSuite sales order"
        status = custom(order, FIELDS.transaction_integration_status)
        if not _counterpart(status, custom(order, FIELDS.transaction_zuora_id), subscription, settled):
            continue
        complete["SalesOrder"] += 1
        assert custom(order, FIELDS.transaction_reference_number) == subscription["Name"], order
        assert custom(order, FIELDS.transaction_sync_date), order
        assert subscription["SalesOrder__NS"] == order["tranId"] and subscription["Status"] == "Active"
        items = {
            str(i["internalId"]): custom(i, FIELDS.item_zuora_id)
            for t in ITEMS
            for i in netsuite.all(t)
            if custom(i, FIELDS.item_zuora_type) == "RATE_PLAN"
        }
        lines = [items[str(line["item"]["internalId"])] for line in order["itemList"]["item"]
                 if str(line["item"]["internalId"]) in items]  # fmt: skip
        plans = [p["ProductRatePlanId"] for p in zuora.all("RatePlan") if p["SubscriptionId"] == subscription["Id"]]
        assert plans == lines, f"subscription {subscription['Id']}: rate plans {plans} != lines {lines}"
    return complete
