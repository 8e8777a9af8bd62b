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


SETTLEMENT_ONLY = ("PaymentPart", "CreditMemo", "CreditMemoItem", "CreditTaxationItem", "CreditMemoPart", "DebitMemo",
                   "DebitMemoItem", "DebitTaxationItem")  # fmt: skip
WITHOUT_SETTLEMENT_ONLY = ("InvoicePayment", "RefundInvoicePayment", "InvoiceItemAdjustment")


@pytest.fixture(scope="module", params=[True, False], ids=["IS-on", "IS-off"])
def tenant(request: pytest.FixtureRequest) -> tuple[ZuoraStore, Any]:
    store = ZuoraStore()
    summary = generate_tenant(store, invoices=60, seed=7, tax_item_id="-8", cutover=CUTOVER,
                              invoice_settlement=request.param)  # fmt: skip
    return store, summary


def _settlement(store: ZuoraStore) -> bool:
    return store.count("PaymentPart") > 0


def test_same_seed_same_tenant_and_another_seed_differs() -> None:
    first, second, third = ZuoraStore(), ZuoraStore(), ZuoraStore()
    generate_tenant(first, invoices=40, seed=1)
    generate_tenant(second, invoices=40, seed=1)
    generate_tenant(third, invoices=40, seed=2)
    for object_type in ("Account", "Invoice", "InvoiceItem", "TaxationItem", "Payment", "PaymentMethod", "Refund"):
        assert _without_times(first.all(object_type)) == _without_times(second.all(object_type))
    assert _without_times(first.all("InvoiceItem")) != _without_times(third.all("InvoiceItem"))


def test_counts_and_shape(tenant: tuple[ZuoraStore, Any]) -> None:
    store, summary = tenant
    assert summary.invoices == 60 == store.count("Invoice")
    assert summary.counts["Account"] == 15 == store.count("Account")
    assert 18 <= store.count("ProductRatePlanCharge") <= 24
    present, absent = SETTLEMENT_ONLY, WITHOUT_SETTLEMENT_ONLY
    if not _settlement(store):
        present, absent = absent, present
    for object_type in ("Payment", "Refund", "TaxationItem", "Contact", "PaymentMethod", *present):
        assert summary.counts[object_type] == store.count(object_type) > 0, object_type
    assert not any(store.count(object_type) for object_type in absent)
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
    links = "PaymentPart" if _settlement(store) else "InvoicePayment"
    several = [p for p in store.all(links) if p["PaymentId"] == summary.awkward["payment_over_several_invoices"]]
    assert len(several) >= 2
    assert all(not i.get("IntegrationStatus__NS") and i.get("TransferredToAccounting") in (None, "No")
               for i in invoices.values())  # fmt: skip
    assert {t["AccountingCode"] for t in store.all("TaxationItem")} == {"-8"}


def test_money_is_consistent(tenant: tuple[ZuoraStore, Any]) -> None:
    store, _ = tenant
    _assert_money_is_consistent(store)


def _assert_money_is_consistent(store: ZuoraStore) -> None:
    """Invoice, payment, application, memo and adjustment totals agree; Voided/Canceled payments, Canceled refunds
    and Canceled adjustments move no money."""
    charges: dict[str, float] = collections.defaultdict(float)
    taxes: dict[str, float] = collections.defaultdict(float)
    for item in store.all("InvoiceItem"):
        charges[item["InvoiceId"]] += item["ChargeAmount"]
    for tax in store.all("TaxationItem"):
        taxes[tax["InvoiceId"]] += tax["TaxAmount"]
    refunds = {r["Id"]: r for r in store.all("Refund")}
    for invoice in store.all("Invoice"):
        key = invoice["Id"]
        assert invoice["Amount"] == pytest.approx(charges[key] + taxes[key], abs=0.005)
        assert invoice["AmountWithoutTax"] == pytest.approx(charges[key], abs=0.005)
        expected = (invoice["Amount"] - invoice["PaymentAmount"] + invoice["RefundAmount"]
                    - invoice["CreditMemoAmount"] - invoice["AdjustmentAmount"])  # fmt: skip
        assert invoice["Balance"] == pytest.approx(expected, abs=0.005)
    for payment in store.all("Payment"):
        processed = [
            r["Amount"] for r in refunds.values() if r["PaymentId"] == payment["Id"] and r["Status"] == "Processed"
        ]
        assert payment["RefundAmount"] == pytest.approx(sum(processed), abs=0.005)
    if _settlement(store):
        _assert_settlement_money(store)
    else:
        _assert_invoice_payment_money(store)


def _assert_invoice_payment_money(store: ZuoraStore) -> None:
    """Invoice Settlement off: InvoicePayment and RefundInvoicePayment rows add up; adjustments move balances."""
    paid: dict[str, float] = collections.defaultdict(float)
    refunded: dict[str, float] = collections.defaultdict(float)
    payments = {p["Id"]: p for p in store.all("Payment")}
    refunds = {r["Id"]: r for r in store.all("Refund")}
    links = {link["Id"]: link for link in store.all("InvoicePayment")}
    applied: dict[str, float] = collections.defaultdict(float)
    for link in links.values():
        applied[link["PaymentId"]] += link["Amount"]
        if payments[link["PaymentId"]]["Status"] == "Processed":
            paid[link["InvoiceId"]] += link["Amount"]
    refunded_links: dict[str, float] = collections.defaultdict(float)
    refund_totals: dict[str, float] = collections.defaultdict(float)
    for row in store.all("RefundInvoicePayment"):
        refund = refunds[row["RefundId"]]
        link = links[row["InvoicePaymentId"]]
        assert row["InvoiceId"] == link["InvoiceId"] and refund["PaymentId"] == link["PaymentId"]
        refund_totals[refund["Id"]] += row["RefundAmount"]
        if refund["Status"] == "Processed":
            refunded_links[link["Id"]] += row["RefundAmount"]
            refunded[row["InvoiceId"]] += row["RefundAmount"]
    adjusted: dict[str, float] = collections.defaultdict(float)
    for adjustment in store.all("InvoiceItemAdjustment"):
        if adjustment["Status"] == "Processed":
            sign = 1 if adjustment["Type"] == "Credit" else -1
            adjusted[adjustment["InvoiceId"]] += sign * adjustment["Amount"]
    for invoice in store.all("Invoice"):
        assert invoice["PaymentAmount"] == pytest.approx(paid[invoice["Id"]], abs=0.005)
        assert invoice["RefundAmount"] == pytest.approx(refunded[invoice["Id"]], abs=0.005)
        assert invoice["AdjustmentAmount"] == pytest.approx(adjusted[invoice["Id"]], abs=0.005)
    assert all(payments[k]["Amount"] == pytest.approx(v, abs=0.005) for k, v in applied.items())
    for link in links.values():
        assert link["RefundAmount"] == pytest.approx(refunded_links[link["Id"]], abs=0.005)
        assert 0 <= link["RefundAmount"] <= link["Amount"]
    assert all(refund["Amount"] == pytest.approx(refund_totals[k], abs=0.005) for k, refund in refunds.items())


def _assert_settlement_money(store: ZuoraStore) -> None:
    """Invoice Settlement on: parts hold what stays applied; memos add up from their items and taxes and are
    applied through their parts; debit memo balances follow."""
    parts: dict[str, float] = collections.defaultdict(float)  # by invoice or debit memo
    by_payment: dict[str, float] = collections.defaultdict(float)
    for part in store.all("PaymentPart"):
        parts[part.get("InvoiceId") or part["DebitMemoId"]] += part["Amount"]
        by_payment[part["PaymentId"]] += part["Amount"]
    for payment in store.all("Payment"):
        if payment["Status"] == "Processed":
            assert payment["Amount"] == pytest.approx(by_payment[payment["Id"]] + payment["RefundAmount"], abs=0.005)
        else:
            assert not by_payment[payment["Id"]]  # a voided payment is applied to nothing
    credited: dict[str, float] = collections.defaultdict(float)
    for part in store.all("CreditMemoPart"):
        credited[part.get("InvoiceId") or part["DebitMemoId"]] += part["Amount"]
    for invoice in store.all("Invoice"):
        assert invoice["PaymentAmount"] - invoice["RefundAmount"] == pytest.approx(parts[invoice["Id"]], abs=0.005)
        assert invoice["CreditMemoAmount"] == pytest.approx(credited[invoice["Id"]], abs=0.005)
    for kind in ("Credit", "Debit"):
        totals: dict[str, float] = collections.defaultdict(float)
        for item in store.all(f"{kind}MemoItem"):
            totals[item[f"{kind}MemoId"]] += item["AmountWithoutTax"]
        for tax in store.all(f"{kind}TaxationItem"):
            totals[tax[f"{kind}MemoId"]] += tax["TaxAmount"]
        for memo in store.all(f"{kind}Memo"):
            assert memo["Amount"] == pytest.approx(totals[memo["Id"]], abs=0.005)
            if kind == "Debit":
                expected = memo["Amount"] - parts[memo["Id"]] - credited[memo["Id"]]
                assert memo["Balance"] == pytest.approx(expected, abs=0.005)
    for memo in store.all("CreditMemo"):
        applied = sum(p["Amount"] for p in store.all("CreditMemoPart") if p["CreditMemoId"] == memo["Id"])
        assert memo["AppliedAmount"] == pytest.approx(applied, abs=0.005)
        assert memo["AppliedAmount"] + memo["UnappliedAmount"] == pytest.approx(memo["Amount"], abs=0.005)


@pytest.mark.parametrize(("invoices", "seed"), [(30, 441), (40, 1), (40, 5), (60, 7), (120, 3), (120, 11), (400, 2)])
def test_payment_and_refund_cases_at_every_size(invoices: int, seed: int) -> None:
    store = ZuoraStore()
    awkward = generate_tenant(store, invoices=invoices, seed=seed, cutover=CUTOVER, invoice_settlement=False).awkward
    _assert_money_is_consistent(store)
    payments = {p["Id"]: p for p in store.all("Payment")}
    refunds = {r["Id"]: r for r in store.all("Refund")}
    methods = {m["Id"]: m for m in store.all("PaymentMethod")}
    invoices_by_id = {i["Id"]: i for i in store.all("Invoice")}
    links_by_id = {link["Id"]: link for link in store.all("InvoicePayment")}

    def links(payment_id: str) -> list[dict[str, Any]]:
        return [link for link in links_by_id.values() if link["PaymentId"] == payment_id]

    def refund_rows(refund_id: str) -> list[dict[str, Any]]:
        return [row for row in store.all("RefundInvoicePayment") if row["RefundId"] == refund_id]

    unsyncable = {i["InvoiceId"] for i in store.all("InvoiceItem")
                  if i["ProductRatePlanChargeId"] == awkward["charge_without_item_type"]}  # fmt: skip
    paypal = awkward["account_unmatched_payment_method"]
    blocked = {awkward["account_unknown_payment_term"], awkward["account_not_synced"], paypal}
    cases = {"payment_over_several_invoices", "payment_partial", "payment_voided", "refund_twice_payment",
             "payment_unmatched_method"}  # fmt: skip
    for label in cases | {"refund", "refund_full", "refund_canceled", "refund_of_unsyncable_payment"}:
        payment = payments[awkward[label] if label in cases else refunds[awkward[label]]["PaymentId"]]
        assert (payment["AccountId"] == paypal) == (
            label in ("payment_unmatched_method", "refund_of_unsyncable_payment")
        )
        assert payment["AccountId"] not in blocked - {paypal}, label
        assert payment["EffectiveDate"] >= CUTOVER
        for link in links(payment["Id"]):
            assert invoices_by_id[link["InvoiceId"]]["InvoiceDate"] >= CUTOVER and link["InvoiceId"] not in unsyncable
        assert all(r["RefundDate"] >= CUTOVER for r in refunds.values() if r["PaymentId"] == payment["Id"])

    assert len(links(awkward["payment_over_several_invoices"])) == 2
    (partial,) = links(awkward["payment_partial"])
    assert 0 < partial["Amount"] < invoices_by_id[partial["InvoiceId"]]["Amount"]
    (refund_row,) = refund_rows(awkward["refund"])
    assert 0 < refund_row["RefundAmount"] < links_by_id[refund_row["InvoicePaymentId"]]["Amount"]
    (full_row,) = refund_rows(awkward["refund_full"])
    full_link = links_by_id[full_row["InvoicePaymentId"]]
    assert full_row["RefundAmount"] == full_link["RefundAmount"] == full_link["Amount"]
    twice = [r for r in refunds.values() if r["PaymentId"] == awkward["refund_twice_payment"]]
    assert len(twice) == 2 and {r["Status"] for r in twice} == {"Processed"}
    (twice_link,) = links(awkward["refund_twice_payment"])
    rows = [row for r in twice for row in refund_rows(r["Id"])]
    assert len(rows) == 2 and {row["InvoicePaymentId"] for row in rows} == {twice_link["Id"]}
    assert twice_link["RefundAmount"] == pytest.approx(sum(row["RefundAmount"] for row in rows), abs=0.005)
    assert 0 < twice_link["RefundAmount"] < twice_link["Amount"]
    canceled = refunds[awkward["refund_canceled"]]
    assert canceled["Status"] == "Canceled" and refund_rows(canceled["Id"])
    assert payments[canceled["PaymentId"]]["Status"] == "Processed"
    assert payments[awkward["payment_voided"]]["Status"] in ("Voided", "Canceled")
    assert links(awkward["payment_voided"])
    paypal_refund = refunds[awkward["refund_of_unsyncable_payment"]]
    assert paypal_refund["PaymentId"] == awkward["payment_unmatched_method"] and paypal_refund["Status"] == "Processed"

    # Payment methods: one per account, PayPal on exactly one; payments and refunds use their account's.
    assert sorted(m["AccountId"] for m in methods.values()) == sorted(a["Id"] for a in store.all("Account"))
    assert [m["AccountId"] for m in methods.values() if m["Type"] == "PayPal"] == [paypal]
    assert {m["Type"] for m in methods.values()} <= {"Check", "ACH", "CreditCard", "WireTransfer", "PayPal"}
    assert all(bool(m.get("CreditCardType")) == (m["Type"] == "CreditCard") for m in methods.values())
    assert all(a["DefaultPaymentMethodId"] in methods for a in store.all("Account"))
    for payment in payments.values():
        method = methods[payment["PaymentMethodId"]]
        assert method["AccountId"] == payment["AccountId"]
        assert payment["Type"] == ("Electronic" if method["Type"] in ("ACH", "CreditCard", "PayPal") else "External")
    for refund in refunds.values():
        payment = payments[refund["PaymentId"]]
        assert refund["PaymentMethodId"] == payment["PaymentMethodId"]
        assert refund["MethodType"] == methods[payment["PaymentMethodId"]]["Type"]
        assert refund["Type"] == payment["Type"] and refund["SourceType"] == "Payment"
    assert {p["Status"] for p in payments.values()} <= {"Processed", "Voided", "Canceled"}
    assert {r["Status"] for r in refunds.values()} == {"Processed", "Canceled"}


@pytest.mark.parametrize(("invoices", "seed"), [(30, 441), (40, 5), (60, 7), (120, 11), (400, 2)])
def test_memo_and_adjustment_cases_at_every_size(invoices: int, seed: int) -> None:
    store = ZuoraStore()
    awkward = generate_tenant(store, invoices=invoices, seed=seed, cutover=CUTOVER).awkward
    _assert_money_is_consistent(store)
    parts = store.all("PaymentPart")
    assert len([p for p in parts if p["PaymentId"] == awkward["payment_over_several_invoices"]]) == 2
    (paid,) = [p for p in parts if p["PaymentId"] == awkward["payment_of_debit_memo"]]
    assert paid["DebitMemoId"] == awkward["debit_memo"] and not paid.get("InvoiceId")
    full = store.get("Refund", awkward["refund_full"])
    assert full is not None and not [p for p in parts if p["PaymentId"] == full["PaymentId"]]  # nothing stays applied
    credit_parts = store.all("CreditMemoPart")
    ((on_invoice,), (on_debit_memo,)) = (
        [p for p in credit_parts if p["CreditMemoId"] == awkward[label]]
        for label in ("credit_memo", "credit_memo_on_debit_memo")
    )
    assert on_invoice.get("InvoiceId") and on_debit_memo.get("DebitMemoId")
    for label in ("credit_memo_unapplied", "credit_memo_from_netsuite"):
        memo = store.get("CreditMemo", awkward[label])
        assert memo is not None and memo["UnappliedAmount"] == memo["Amount"] > 0
        assert not [p for p in credit_parts if p["CreditMemoId"] == memo["Id"]]
        assert memo.get("Origin__NS") == ("NETSUITE" if label == "credit_memo_from_netsuite" else None)
    sources = {i["SourceItemType"] for i in store.all("CreditMemoItem") + store.all("DebitMemoItem")}
    assert sources == {"InvoiceDetail", "SubscriptionComponent", "ProductRatePlanCharge"}
    assert store.count("CreditTaxationItem") and store.count("DebitTaxationItem")

    store = ZuoraStore()
    awkward = generate_tenant(store, invoices=invoices, seed=seed, cutover=CUTOVER, invoice_settlement=False).awkward
    adjustments = {a["Id"]: a for a in store.all("InvoiceItemAdjustment")}
    credit, charge, tax = (adjustments[awkward[f"adjustment_{k}"]] for k in ("credit", "charge", "of_tax"))
    assert (credit["Type"], credit["SourceType"], charge["Type"], tax["SourceType"]) == (
        "Credit", "InvoiceDetail", "Charge", "Tax")  # fmt: skip
    assert store.get("InvoiceItem", credit["SourceId"]) and store.get("TaxationItem", tax["SourceId"])
    assert adjustments[awkward["adjustment_canceled"]]["Status"] == "Canceled"
    negative = store.get("Invoice", adjustments[awkward["adjustment_of_negative_invoice"]]["InvoiceId"])
    assert negative is not None and negative["Amount"] < 0


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
    payment = client.get("Payment", summary.awkward["payment_unmatched_method"])
    assert payment is not None
    where = [[zoql.eq("Id", payment["PaymentMethodId"])]]
    (method,) = client.query(zoql.select("PaymentMethod", ["Id", "AccountId", "Type", "CreditCardType"], where))
    assert method == {"Id": payment["PaymentMethodId"], "AccountId": payment["AccountId"], "Type": "PayPal"}
    processed = [[zoql.eq("Status", "Processed"), zoql.ge("EffectiveDate", CUTOVER)]]
    selected = {r["Id"] for r in client.query(zoql.select("Payment", ["Id", "PaymentMethodId"], processed))}
    assert summary.awkward["payment_unmatched_method"] in selected
    assert summary.awkward["payment_voided"] not in selected
    refunds = [[zoql.eq("Status", "Processed"), zoql.eq("SourceType", "Payment")]]
    selected = {r["Id"] for r in client.query(zoql.select("Refund", ["Id", "MethodType", "PaymentId"], refunds))}
    assert {summary.awkward["refund_full"], summary.awkward["refund"]} <= selected
    assert summary.awkward["refund_canceled"] not in selected


def test_ten_thousand_invoices_are_fast() -> None:
    started = time.monotonic()
    summary = generate_tenant(ZuoraStore(), invoices=10_000, seed=11)
    assert time.monotonic() - started < 10
    assert summary.invoices == 10_000 and 2000 <= summary.counts["Account"] <= 3000
