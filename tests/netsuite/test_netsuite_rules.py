"""The emulator's business rules, driven through our client: payments, credit memos, refunds, references."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from zns_sync.netsuite import NetSuiteClient, NsRecord, RecordRef
from zns_sync.sandbox.netsuite_server import NetSuiteEmulator


@pytest.fixture
def ref(emulator: NetSuiteEmulator) -> dict[str, Any]:
    return emulator.seed_reference_data()


@pytest.fixture
def customers(client: NetSuiteClient, ref: dict[str, Any]) -> list[str]:
    results = client.add_list(
        [
            NsRecord("Customer", {"companyName": name, "subsidiary": RecordRef(internal_id=ref["subsidiary"])}, name)
            for name in ("alpha", "beta")
        ]
    )
    return [str(r.internal_id) for r in results]


def _invoice(customer: str, ref: dict[str, Any], external_id: str, *amounts: str) -> NsRecord:
    lines = [{"item": RecordRef(internal_id=ref["tax_item"]), "amount": Decimal(a)} for a in amounts]
    return NsRecord(
        "Invoice",
        {"entity": RecordRef(internal_id=customer), "tranDate": dt.date(2024, 5, 1), "itemList": lines},
        external_id,
    )


def test_payments_apply_to_open_invoices_of_their_customer_up_to_the_amount_due(
    client: NetSuiteClient, emulator: NetSuiteEmulator, ref: dict[str, Any], customers: list[str]
) -> None:
    alpha, beta = customers
    results = client.add_list([_invoice(alpha, ref, "inv-a", "70", "30"), _invoice(beta, ref, "inv-b", "50")])
    inv_a, inv_b = (str(r.internal_id) for r in results)

    def payment(ext: str, customer: str, doc: str, amount: float) -> NsRecord:
        return NsRecord(
            "CustomerPayment",
            {
                "customer": RecordRef(internal_id=customer),
                "payment": amount,
                "applyList": {"apply": [{"doc": int(doc), "apply": True, "amount": amount}]},
            },
            ext,
        )

    outcomes = client.add_list(
        [
            payment("pay-1", alpha, inv_a, 60.0),
            payment("pay-2", alpha, inv_b, 10.0),  # beta's invoice
            payment("pay-3", alpha, inv_a, 50.0),  # more than the 40 still due
            payment("pay-4", alpha, inv_a, 40.0),
            payment("pay-5", alpha, inv_a, 1.0),  # paid in full now
        ]
    )
    assert [o.success for o in outcomes] == [True, False, False, True, False]
    assert outcomes[1].code == "INVALID_KEY_OR_REF"
    assert outcomes[2].code == "INVALID_TRANS_AMT" and "40.00" in (outcomes[2].message or "")
    invoice = emulator.store.get("Invoice", inv_a)
    assert invoice is not None and invoice["amountRemaining"] == 0 and invoice["status"] == "Paid In Full"


def test_refunds_need_unapplied_credit(
    client: NetSuiteClient, emulator: NetSuiteEmulator, ref: dict[str, Any], customers: list[str]
) -> None:
    alpha, _ = customers
    [invoice] = client.add_list([_invoice(alpha, ref, "inv-r", "100")])
    memo = NsRecord(
        "CreditMemo",
        {
            "entity": RecordRef(internal_id=alpha),
            "itemList": [{"item": RecordRef(internal_id=ref["tax_item"]), "amount": 25.0}],
            "applyList": {"apply": [{"doc": int(str(invoice.internal_id)), "apply": True, "amount": 5.0}]},
        },
        "cm-1",
    )
    [credit] = client.add_list([memo])
    assert credit.success
    stored = emulator.store.get("CreditMemo", str(credit.internal_id))
    assert stored is not None and (stored["total"], stored["applied"], stored["unapplied"]) == (25.0, 5.0, 20.0)

    def refund(ext: str, amount: float) -> NsRecord:
        return NsRecord(
            "CustomerRefund",
            {
                "customer": RecordRef(internal_id=alpha),
                "paymentMethod": RecordRef(internal_id="1"),
                "applyList": {"apply": [{"doc": int(str(credit.internal_id)), "apply": True, "amount": amount}]},
            },
            ext,
        )

    first, too_much = client.add_list([refund("rf-1", 15.0), refund("rf-2", 10.0)])
    assert first.success and not too_much.success and too_much.code == "INVALID_TRANS_AMT"
    remaining = emulator.store.get("CreditMemo", str(credit.internal_id))
    assert remaining is not None and remaining["unapplied"] == 5.0


def test_references_resolve_by_external_id_and_unknown_ones_are_refused(
    client: NetSuiteClient, ref: dict[str, Any], customers: list[str]
) -> None:
    ok, bad_item, bad_terms = client.add_list(
        [
            NsRecord(
                "Invoice",
                {
                    "entity": RecordRef(external_id="alpha"),
                    "itemList": [{"item": RecordRef(internal_id=ref["tax_item"]), "amount": 1.0}],
                },
                "i1",
            ),
            NsRecord(
                "Invoice",
                {
                    "entity": RecordRef(external_id="alpha"),
                    "itemList": [{"item": RecordRef(internal_id="31337"), "amount": 1.0}],
                },
                "i2",
            ),
            NsRecord("Customer", {"companyName": "x", "terms": RecordRef(internal_id="31337")}, "c3"),
        ]
    )
    assert ok.success
    assert (bad_item.code, bad_item.message) == ("INVALID_KEY_OR_REF", "Invalid item reference key 31337.")
    assert (bad_terms.code, bad_terms.message) == ("INVALID_KEY_OR_REF", "Invalid terms reference key 31337.")
    [read] = client.get_list([RecordRef(external_id="i1", type="invoice")])
    assert read.record is not None and read.record["entity"].internal_id == customers[0]


def test_bad_field_names_fail_before_sending(client: NetSuiteClient) -> None:
    with pytest.raises(ValueError, match=r"Invoice.itemList.item\[0\].bogus: not a field of InvoiceItem"):
        client.to_zeep(NsRecord("Invoice", {"itemList": [{"bogus": 1}]}))
