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

from zns_sync.cli import open_engine
from zns_sync.config import NetSuiteFields, Settings
from zns_sync.engine import Engine
from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox

FIELDS = NetSuiteFields()
# Zuora object -> (NetSuite record types it may become, the custom field holding the Zuora Id, the externalId kind).
COUNTERPARTS = {
    "Account": (("Customer",), FIELDS.customer_zuora_id, "account"),
    "ProductRatePlanCharge": (("NonInventorySaleItem", "ServiceSaleItem"), FIELDS.item_zuora_id, "charge"),
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
def engine(box: Sandbox, state: Path, **netsuite: int) -> Iterator[Engine]:
    settings: Settings = box.settings(state)
    settings = dataclasses.replace(settings, netsuite=dataclasses.replace(settings.netsuite, **netsuite))
    with contextlib.ExitStack() as stack:
        e = stack.enter_context(open_engine(settings, stack, None, None))
        e.journal.start_run("test", settings.sync.types, False)
        yield e


def problems(state: Path) -> dict[str, str]:
    """Zuora id -> outcome of every record the last run could not sync."""
    with Journal(state) as journal:
        run_id = journal.runs(1)[0].id
        return {a.source_id: a.outcome for _, a, _ in journal.attempts(run_id=run_id, errors_only=True)}
