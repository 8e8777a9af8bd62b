"""The demo tenant: deterministic, fast, consistent money, every awkward case present and queryable."""

from __future__ import annotations

import collections
import datetime as dt
import time
from typing import Any

import pytest

from zns_sync.sandbox.demo_tenant import generate_tenant
from zns_sync.sandbox.zuora_server import ZuoraEmulator
from zns_sync.sandbox.zuora_store import ZuoraStore
from zns_sync.zuora import ZuoraClient, zoql

CUTOVER = dt.date(2024, 1, 1)


def _without_times(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in ("CreatedDate", "UpdatedDate")} for r in rows]


@pytest.fixture(scope="module")
def tenant() -> tuple[ZuoraStore, Any]:
    store = ZuoraStore()
    return store, generate_tenant(store, invoices=60, seed=7, tax_item_id="-8", cutover=CUTOVER)


def test_same_seed_same_tenant_and_another_seed_differs() -> None:
    first, second, third = ZuoraStore(), ZuoraStore(), ZuoraStore()
    generate_tenant(first, invoices=40, seed=1)
    generate_tenant(second, invoices=40, seed=1)
    generate_tenant(third, invoices=40, seed=2)
    for object_type in ("Account", "Invoice", "InvoiceItem", "TaxationItem", "Payment"):
        assert _without_times(first.all(object_type)) == _without_times(second.all(object_type))
    assert _without_times(first.all("InvoiceItem")) != _without_times(third.all("InvoiceItem"))


def test_counts_and_shape(tenant: tuple[ZuoraStore, Any]) -> None:
    store, summary = tenant
    assert summary.invoices == 60 == store.count("Invoice")
    assert summary.counts["Account"] == 15 == store.count("Account")
    assert 18 <= store.count("ProductRatePlanCharge") <= 24
    for object_type in ("Payment", "InvoicePayment", "Refund", "RefundInvoicePayment", "CreditMemo", "DebitMemo",
                        "InvoiceItemAdjustment", "TaxationItem", "Contact"):  # fmt: skip
        assert summary.counts[object_type] == store.count(object_type) > 0, object_type
    accounts = store.all("Account")
    assert {a["Currency"] for a in accounts} == {"USD", "EUR", "GBP", "CAD"}
    assert {a["PaymentTerm"] for a in accounts} == {"Net 30", "Net 15", "Due on receipt", "Net 97"}
    assert sum(a["PaymentTerm"] == "Net 97" for a in accounts) == 1
    names = {a["Name"] for a in accounts}
    assert {"Zürich Bäckerei GmbH", "株式会社テスト", 'O\'Brien, "Smith" & Co.'} <= names
    assert [a["Id"] for a in accounts if a.get("SynctoNetSuite__NS") == "No"] == [summary.awkward["account_not_synced"]]


def test_awkward_cases(tenant: tuple[ZuoraStore, Any]) -> None:
    store, summary = tenant
    invoices = {i["Id"]: i for i in store.all("Invoice")}
    assert invoices[summary.awkward["invoice_zero"]]["Amount"] == 0
    assert invoices[summary.awkward["invoice_negative"]]["Amount"] < 0
    assert invoices[summary.awkward["invoice_before_cutover"]]["InvoiceDate"] < CUTOVER
    assert invoices[summary.awkward["invoice_draft"]]["Status"] == "Draft"
    lines = collections.Counter(i["InvoiceId"] for i in store.all("InvoiceItem"))
    assert lines[summary.awkward["invoice_500_lines"]] == 500
    charges = store.all("ProductRatePlanCharge")
    assert [c["Id"] for c in charges if not c.get("ItemType__NS")] == [summary.awkward["charge_without_item_type"]]
    assert {c.get("ItemType__NS") for c in charges} == {"Non Inventory", "Service", None}
    several = [
        p for p in store.all("InvoicePayment") if p["PaymentId"] == summary.awkward["payment_over_several_invoices"]
    ]
    assert len(several) >= 2
    assert all(not i.get("IntegrationStatus__NS") and i.get("TransferredToAccounting") in (None, "No")
               for i in invoices.values())  # fmt: skip
    assert {t["AccountingCode"] for t in store.all("TaxationItem")} == {"-8"}


def test_money_is_consistent(tenant: tuple[ZuoraStore, Any]) -> None:
    store, _ = tenant
    charges: dict[str, float] = collections.defaultdict(float)
    taxes: dict[str, float] = collections.defaultdict(float)
    paid: dict[str, float] = collections.defaultdict(float)
    for item in store.all("InvoiceItem"):
        charges[item["InvoiceId"]] += item["ChargeAmount"]
    for tax in store.all("TaxationItem"):
        taxes[tax["InvoiceId"]] += tax["TaxAmount"]
    for link in store.all("InvoicePayment"):
        paid[link["InvoiceId"]] += link["Amount"]
    for invoice in store.all("Invoice"):
        key = invoice["Id"]
        assert invoice["Amount"] == pytest.approx(charges[key] + taxes[key], abs=0.005)
        assert invoice["AmountWithoutTax"] == pytest.approx(charges[key], abs=0.005)
        assert invoice["PaymentAmount"] == pytest.approx(paid[key], abs=0.005)
        expected = (invoice["Amount"] - invoice["PaymentAmount"] + invoice["RefundAmount"]
                    - invoice["CreditMemoAmount"] - invoice["AdjustmentAmount"])  # fmt: skip
        assert invoice["Balance"] == pytest.approx(expected, abs=0.005)
    payments = {p["Id"]: p for p in store.all("Payment")}
    applied: dict[str, float] = collections.defaultdict(float)
    for link in store.all("InvoicePayment"):
        applied[link["PaymentId"]] += link["Amount"]
    assert all(payments[k]["Amount"] == pytest.approx(v, abs=0.005) for k, v in applied.items())


def test_the_tenant_is_served_and_queryable(client_secret: str, make_client: Any, emulator: ZuoraEmulator) -> None:
    summary = generate_tenant(emulator.store, invoices=60)
    client: ZuoraClient = make_client()
    where = [[zoql.eq("Status", "Posted"), zoql.ge("InvoiceDate", CUTOVER)]]
    posted = list(client.query(zoql.select("Invoice", ["Id", "Amount", "UpdatedDate"], where)))
    assert 0 < len(posted) < summary.invoices
    now = dt.datetime.now(dt.UTC)
    assert all(dt.datetime.fromisoformat(r["UpdatedDate"]) < now - dt.timedelta(minutes=5) for r in posted)
    items = list(
        client.query(next(zoql.select_in("InvoiceItem", ["Id"], "InvoiceId", [summary.awkward["invoice_500_lines"]])))
    )
    assert len(items) == 500


def test_ten_thousand_invoices_are_fast() -> None:
    started = time.monotonic()
    summary = generate_tenant(ZuoraStore(), invoices=10_000, seed=11)
    assert time.monotonic() - started < 10
    assert summary.invoices == 10_000 and 2000 <= summary.counts["Account"] <= 3000
