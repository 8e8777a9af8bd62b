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


def _apply_list(applies: dict[str, float]) -> dict[str, Any]:
    return {"apply": [{"doc": int(doc), "apply": True, "amount": value} for doc, value in applies.items()]}


def _payment(
    customer: str, ref: dict[str, Any], external_id: str, amount: float, applies: dict[str, float]
) -> NsRecord:
    return NsRecord(
        "CustomerPayment",
        {
            "customer": RecordRef(internal_id=customer),
            "payment": amount,
            "paymentMethod": RecordRef(internal_id=ref["payment_methods"]["Check"]),
            "applyList": _apply_list(applies),
        },
        external_id,
    )


def _reapply(payment_id: str, lines: list[dict[str, Any]], replace_all: bool | None = False) -> NsRecord:
    """An update of a payment's applyList: each line `{"doc": id, "amount": x}` or `{"doc": id, "apply": False}`."""
    apply_list: dict[str, Any] = {"apply": [{"apply": True, **line, "doc": int(line["doc"])} for line in lines]}
    if replace_all is not None:
        apply_list["replaceAll"] = replace_all
    return NsRecord("CustomerPayment", {"applyList": apply_list}, internal_id=payment_id)


def _refund(customer: str, ref: dict[str, Any], external_id: str, doc: str, amount: float) -> NsRecord:
    return NsRecord(
        "CustomerRefund",
        {
            "customer": RecordRef(internal_id=customer),
            "paymentMethod": RecordRef(internal_id=ref["payment_methods"]["Check"]),
            "applyList": {"apply": [{"doc": int(doc), "apply": True, "amount": amount}]},
        },
        external_id,
    )


def _state(emulator: NetSuiteEmulator, *keys: tuple[str, str]) -> list[Any]:
    """The records' data; lastModifiedDate left out: every save moves it, even one that changes nothing."""
    records = [emulator.store.get(record_type, internal_id) or {} for record_type, internal_id in keys]
    return [{k: v for k, v in record.items() if k != "lastModifiedDate"} for record in records]


def _money_of(record: dict[str, Any] | None, *fields: str) -> tuple[Any, ...]:
    assert record is not None
    return tuple(record.get(field) for field in fields)


def test_payments_apply_to_open_invoices_of_their_customer_up_to_the_amount_due(
    client: NetSuiteClient, emulator: NetSuiteEmulator, ref: dict[str, Any], customers: list[str]
) -> None:
    alpha, beta = customers
    results = client.add_list([_invoice(alpha, ref, "inv-a", "70", "30"), _invoice(beta, ref, "inv-b", "50")])
    inv_a, inv_b = (str(r.internal_id) for r in results)
    outcomes = client.add_list(
        [
            _payment(alpha, ref, "pay-1", 60.0, {inv_a: 60.0}),
            _payment(alpha, ref, "pay-2", 10.0, {inv_b: 10.0}),  # beta's invoice
            _payment(alpha, ref, "pay-3", 50.0, {inv_a: 50.0}),  # more than the 40 still due
            _payment(alpha, ref, "pay-4", 40.0, {inv_a: 40.0}),
            _payment(alpha, ref, "pay-5", 1.0, {inv_a: 1.0}),  # paid in full now
        ]
    )
    assert [o.success for o in outcomes] == [True, False, False, True, False]
    assert outcomes[1].code == "INVALID_KEY_OR_REF"
    assert outcomes[2].code == "INVALID_TRANS_AMT" and "40.00" in (outcomes[2].message or "")
    invoice = emulator.store.get("Invoice", inv_a)
    assert invoice is not None and invoice["amountRemaining"] == 0 and invoice["status"] == "Paid In Full"


def _credit_memo(
    customer: str, ref: dict[str, Any], external_id: str, total: float, applies: dict[str, float]
) -> NsRecord:
    return NsRecord(
        "CreditMemo",
        {
            "entity": RecordRef(internal_id=customer),
            "itemList": [{"item": RecordRef(internal_id=ref["tax_item"]), "amount": total}],
            "applyList": _apply_list(applies),
        },
        external_id,
    )


def test_credit_memos_apply_to_open_invoices_of_their_customer_up_to_the_amount_due_and_their_total(
    client: NetSuiteClient, emulator: NetSuiteEmulator, ref: dict[str, Any], customers: list[str]
) -> None:
    alpha, beta = customers
    results = client.add_list([_invoice(alpha, ref, "inv-c1", "30"), _invoice(beta, ref, "inv-c2", "50"),
                               _invoice(alpha, ref, "inv-c3", "40")])  # fmt: skip
    mine, theirs, other = (str(r.internal_id) for r in results)
    outcomes = client.add_list(
        [
            _credit_memo(alpha, ref, "cm-1", 20.0, {mine: 20.0}),
            _credit_memo(alpha, ref, "cm-2", 5.0, {theirs: 5.0}),  # beta's invoice
            _credit_memo(alpha, ref, "cm-3", 15.0, {mine: 15.0}),  # more than the 10 still due
            _credit_memo(alpha, ref, "cm-4", 5.0, {mine: 3.0, other: 3.0}),  # more than its own total
            _credit_memo(alpha, ref, "cm-5", 12.0, {mine: 10.0}),
        ]
    )
    assert [o.success for o in outcomes] == [True, False, False, False, True]
    assert [o.code for o in outcomes[1:4]] == ["INVALID_KEY_OR_REF", "INVALID_TRANS_AMT", "INVALID_TRANS_AMT"]
    invoice = emulator.store.get("Invoice", mine)
    assert invoice is not None and invoice["amountRemaining"] == 0 and invoice["status"] == "Paid In Full"
    last = emulator.store.get("CreditMemo", str(outcomes[4].internal_id))
    assert last is not None and (last["total"], last["applied"], last["unapplied"]) == (12.0, 10.0, 2.0)


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
    memo_id = str(credit.internal_id)
    first, too_much = client.add_list(
        [_refund(alpha, ref, "rf-1", memo_id, 15.0), _refund(alpha, ref, "rf-2", memo_id, 10.0)]
    )
    assert first.success and not too_much.success and too_much.code == "USER_ERROR"
    remaining = emulator.store.get("CreditMemo", str(credit.internal_id))
    assert remaining is not None and remaining["unapplied"] == 5.0


def test_payment_updates_set_each_invoice_s_applied_amount(
    client: NetSuiteClient, emulator: NetSuiteEmulator, ref: dict[str, Any], customers: list[str]
) -> None:
    alpha, beta = customers
    inv_a, inv_b, inv_c = (
        str(r.internal_id)
        for r in client.add_list(
            [_invoice(alpha, ref, "u-a", "70"), _invoice(alpha, ref, "u-b", "30"), _invoice(beta, ref, "u-c", "50")]
        )
    )
    [paid] = client.add_list([_payment(alpha, ref, "u-pay", 100.0, {inv_a: 70.0, inv_b: 30.0})])
    pay = str(paid.internal_id)
    keys = (("Invoice", inv_a), ("Invoice", inv_b), ("Invoice", inv_c), ("CustomerPayment", pay))
    invoice_fields = ("amountRemaining", "amountPaid", "status")
    assert _money_of(emulator.store.get("Invoice", inv_a), *invoice_fields) == (0.0, 70.0, "Paid In Full")

    # Unapplying part of a payment reopens the invoice and leaves the cash unapplied; lines not given stay.
    lowered = _reapply(pay, [{"doc": inv_a, "amount": 20.0}])
    assert client.update(lowered).success
    assert _money_of(emulator.store.get("Invoice", inv_a), *invoice_fields) == (50.0, 20.0, "Open")
    assert _money_of(emulator.store.get("Invoice", inv_b), *invoice_fields) == (0.0, 30.0, "Paid In Full")
    assert _money_of(emulator.store.get("CustomerPayment", pay), "payment", "applied", "unapplied") == (
        100.0,
        50.0,
        50.0,
    )
    # The same update again changes nothing: amounts are absolute.
    before = _state(emulator, *keys)
    assert client.update(lowered).success
    assert _state(emulator, *keys) == before

    # Refused, and nothing changes: more than the invoice still owes, or another customer's invoice
    # (even next to a valid line).
    too_much, foreign = client.update_list(
        [
            _reapply(pay, [{"doc": inv_a, "amount": 80.0}]),
            _reapply(pay, [{"doc": inv_a, "amount": 70.0}, {"doc": inv_c, "amount": 10.0}]),
        ]
    )
    assert (too_much.code, too_much.message) == (
        "INVALID_TRANS_AMT",
        f"The amount applied to invoice {inv_a} (80.00) exceeds its amount due (70.00).",
    )
    assert (foreign.code, foreign.message) == ("INVALID_KEY_OR_REF", f"Invalid apply reference key {inv_c}.")
    assert _state(emulator, *keys) == before

    # apply false removes an application (and a zero amount is no application).
    assert client.update(_reapply(pay, [{"doc": inv_b, "apply": False}, {"doc": inv_a, "amount": 0.0}])).success
    assert _money_of(emulator.store.get("Invoice", inv_b), *invoice_fields) == (30.0, 0.0, "Open")
    assert _money_of(emulator.store.get("CustomerPayment", pay), "applied", "unapplied") == (0.0, 100.0)

    # Without replaceAll (true by default) the lines given replace every application.
    assert client.update(_reapply(pay, [{"doc": inv_a, "amount": 70.0}])).success
    assert client.update(_reapply(pay, [{"doc": inv_b, "amount": 30.0}], replace_all=None)).success
    assert _money_of(emulator.store.get("Invoice", inv_a), *invoice_fields) == (70.0, 0.0, "Open")
    [read] = client.get_list([RecordRef(internal_id=pay, type="customerPayment")])
    assert read.record is not None
    assert [(line["doc"], line["amount"]) for line in read.record["applyList"]["apply"]] == [(int(inv_b), 30.0)]
    assert (read.record["applied"], read.record["unapplied"]) == (30.0, 70.0)


def test_refunds_take_only_the_unapplied_cash_and_payment_updates_account_for_them(
    client: NetSuiteClient, emulator: NetSuiteEmulator, ref: dict[str, Any], customers: list[str]
) -> None:
    alpha, _ = customers
    [invoice] = client.add_list([_invoice(alpha, ref, "r-inv", "100")])
    inv = str(invoice.internal_id)
    [paid] = client.add_list([_payment(alpha, ref, "r-pay", 100.0, {inv: 100.0})])
    pay = str(paid.internal_id)

    [nothing_left] = client.add_list([_refund(alpha, ref, "r-0", pay, 10.0)])
    assert (nothing_left.code, nothing_left.message) == (
        "USER_ERROR",
        f"The refund amount (10.00) exceeds the unapplied amount (0.00) of transaction {pay}.",
    )
    assert client.update(_reapply(pay, [{"doc": inv, "amount": 60.0}])).success
    over, within = client.add_list([_refund(alpha, ref, "r-1", pay, 50.0), _refund(alpha, ref, "r-2", pay, 40.0)])
    assert not over.success and over.code == "USER_ERROR" and "(40.00)" in (over.message or "")
    assert within.success
    assert emulator.store.find_by_external_id("CustomerRefund", "r-1") is None
    assert _money_of(emulator.store.get("CustomerPayment", pay), "applied", "unapplied") == (60.0, 0.0)

    # Resending the same payment update keeps what the refund took out of the unapplied cash.
    assert client.update(_reapply(pay, [{"doc": inv, "amount": 60.0}])).success
    assert _money_of(emulator.store.get("CustomerPayment", pay), "applied", "unapplied") == (60.0, 0.0)
    # Applying more than the payment less the refund is refused, though the invoice still owes 40.
    before = _state(emulator, ("Invoice", inv), ("CustomerPayment", pay))
    refused = client.update(_reapply(pay, [{"doc": inv, "amount": 70.0}]))
    assert (refused.code, refused.message) == (
        "INVALID_TRANS_AMT",
        "The total applied (70.00) exceeds the payment amount less refunds (60.00).",
    )
    assert _state(emulator, ("Invoice", inv), ("CustomerPayment", pay)) == before
    assert client.update(_reapply(pay, [{"doc": inv, "amount": 50.0}])).success
    assert _money_of(emulator.store.get("CustomerPayment", pay), "applied", "unapplied") == (50.0, 10.0)
    assert _money_of(emulator.store.get("Invoice", inv), "amountRemaining", "status") == (50.0, "Open")

    payment, refund = client.get_list(
        [RecordRef(internal_id=pay, type="customerPayment"), RecordRef(external_id="r-2", type="customerRefund")]
    )
    assert payment.record is not None and refund.record is not None
    assert (payment.record["payment"], payment.record["unapplied"]) == (100.0, 10.0)
    assert refund.record["total"] == 40.0
    assert [(line["doc"], line["amount"]) for line in refund.record["applyList"]["apply"]] == [(int(pay), 40.0)]

    # Deleting (as in NetSuite's UI) gives back what was applied: the refund's cash, then the payment's invoice.
    emulator.store.delete("CustomerRefund", str(within.internal_id))
    assert _money_of(emulator.store.get("CustomerPayment", pay), "applied", "unapplied") == (50.0, 50.0)
    emulator.store.delete("CustomerPayment", pay)
    assert _money_of(emulator.store.get("Invoice", inv), "amountRemaining", "amountPaid", "status") == (
        100.0,
        0.0,
        "Open",
    )


def test_unknown_payment_methods_are_refused(client: NetSuiteClient, ref: dict[str, Any], customers: list[str]) -> None:
    alpha, _ = customers
    [invoice] = client.add_list([_invoice(alpha, ref, "m-inv", "10")])
    good = _payment(alpha, ref, "m-pay", 10.0, {str(invoice.internal_id): 10.0})
    bad = NsRecord("CustomerPayment", {**good.fields, "paymentMethod": RecordRef(internal_id="31337")}, "m-bad")
    [refused, accepted] = client.add_list([bad, good])
    assert (refused.code, refused.message) == ("INVALID_KEY_OR_REF", "Invalid paymentMethod reference key 31337.")
    assert accepted.success
    refund = _refund(alpha, ref, "m-ref", str(accepted.internal_id), 1.0)
    [bad_refund] = client.add_list(
        [NsRecord("CustomerRefund", {**refund.fields, "paymentMethod": RecordRef(external_id="PayPal")}, "m-ref")]
    )
    assert (bad_refund.code, bad_refund.message) == (
        "INVALID_KEY_OR_REF",
        "Invalid paymentMethod reference key PayPal.",
    )


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


def test_bad_field_names_fail_before_sending(client: NetSuiteClient, emulator: NetSuiteEmulator) -> None:
    before = emulator.counters["addList"]
    with pytest.raises(ValueError, match=r"Invoice.itemList.item\[0\].bogus: not a field of InvoiceItem"):
        client.add_list([NsRecord("Invoice", {"itemList": [{"bogus": 1}]})])
    assert emulator.counters["addList"] == before


def test_an_item_is_a_sub_item_only_of_an_existing_item_of_its_own_type(client: NetSuiteClient) -> None:
    [parent] = client.add_list([NsRecord("InventoryItem", {"itemId": "Hardware"}, "p-inv")])
    parent_ref = RecordRef(internal_id=str(parent.internal_id))
    child, stranger, orphan = client.add_list(
        [
            NsRecord("InventoryItem", {"itemId": "Hardware Annual", "parent": parent_ref}, "c-inv"),
            NsRecord("ServiceSaleItem", {"itemId": "Hardware Support", "parent": parent_ref}, "c-svc"),
            NsRecord("InventoryItem", {"itemId": "Nowhere", "parent": RecordRef(internal_id="31337")}, "c-none"),
        ]
    )
    assert child.success
    for refused, key in ((stranger, parent.internal_id), (orphan, "31337")):
        assert (refused.code, refused.message) == ("INVALID_KEY_OR_REF", f"Invalid parent reference key {key}.")


def test_every_save_moves_last_modified_date_and_searches_select_on_it(
    client: NetSuiteClient, emulator: NetSuiteEmulator, customers: list[str]
) -> None:
    alpha, beta = customers
    first = emulator.store.get("Customer", alpha) or {}
    assert first["lastModifiedDate"] < (emulator.store.get("Customer", beta) or {})["lastModifiedDate"]
    since = dt.datetime.fromisoformat((emulator.store.get("Customer", beta) or {})["lastModifiedDate"])
    assert client.update(NsRecord("Customer", {"comments": "saved"}, internal_id=alpha)).success

    def found(operator: str, value: dt.datetime) -> list[str]:
        criteria = {"lastModifiedDate": {"operator": operator, "searchValue": value}}
        return sorted(str(r["internalId"]) for r in client.search("customer", criteria=criteria))

    assert found("after", since) == [alpha]  # saved again since: a status written by an integration moves it too
    assert found("onOrAfter", since) == sorted([alpha, beta])
    assert found("before", since) == []
    assert found("notAfter", since) == [beta]


def test_custom_fields_of_any_type_and_the_type_a_defined_field_takes(
    client: NetSuiteClient, emulator: NetSuiteEmulator, customers: list[str]
) -> None:
    alpha, _ = customers
    emulator.store.custom_field_types.update(custentityseats="integer", custentitynote="text")
    values = {
        "custentitynote": "R&D <north>",
        "custentityseats": 12,
        "custentityvip": True,
        "custentityrate": Decimal("1.5"),
        "custentityrenewal": dt.date(2027, 1, 31),
        "custentitybundle": "any type, not defined",
    }
    assert client.update(NsRecord("Customer", {"customFieldList": values}, internal_id=alpha)).success
    [read] = client.get_list([RecordRef(internal_id=alpha, type="customer")])
    held = (read.record or {})["customFieldList"]
    assert held["custentitynote"] == "R&D <north>" and held["custentityseats"] == 12 and held["custentityvip"] is True
    assert held["custentityrate"] == 1.5 and str(held["custentityrenewal"])[:10] == "2027-01-31"
    refused = client.update(NsRecord("Customer", {"customFieldList": {"custentityseats": "12"}}, internal_id=alpha))
    assert not refused.success and refused.code == "INVALID_CSTM_FIELD_DATA_TYP"
    assert custom_value(emulator, alpha, "custentityseats") == 12  # refused whole: nothing changed


def custom_value(emulator: NetSuiteEmulator, customer: str, script_id: str) -> Any:
    return ((emulator.store.get("Customer", customer) or {}).get("customFieldList") or {}).get(script_id)


def test_item_lines_are_numbered_and_updated_by_number(
    client: NetSuiteClient, emulator: NetSuiteEmulator, ref: dict[str, Any], customers: list[str]
) -> None:
    """The item sublist is keyed by `line`: NetSuite numbers the lines of a new transaction; an update with
    replaceAll false changes the lines it names and keeps the others; a line that does not exist is refused."""
    (added,) = client.add_list([_invoice(customers[0], ref, "inv-lines", "10.00", "20.00", "30.00")])
    invoice = str(added.internal_id)
    lines = emulator.store.get("Invoice", invoice)["itemList"]["item"]  # type: ignore[index]
    assert [line["line"] for line in lines] == [1, 2, 3]
    deferred = {"line": 2, "deferRevRec": False, "revRecStartDate": dt.date(2024, 5, 3)}
    update = {"itemList": {"item": [deferred], "replaceAll": False}}
    (done,) = client.update_list([NsRecord("Invoice", update, internal_id=invoice)])
    assert done.success, done.message
    after = emulator.store.get("Invoice", invoice)["itemList"]["item"]  # type: ignore[index]
    assert after[0] == lines[0] and after[2] == lines[2]
    assert after[1]["deferRevRec"] is False and after[1]["amount"] == lines[1]["amount"]
    assert emulator.store.get("Invoice", invoice)["total"] == 60.0  # type: ignore[index]
    missing = {"itemList": {"item": [{"line": 9, "deferRevRec": False}], "replaceAll": False}}
    (refused,) = client.update_list([NsRecord("Invoice", missing, internal_id=invoice)])
    assert not refused.success and refused.code == "USER_ERROR"
    assert emulator.store.get("Invoice", invoice)["itemList"]["item"] == after  # type: ignore[index]
    project = {"itemList": {"item": [{"line": 1, "job": RecordRef(internal_id="424242")}], "replaceAll": False}}
    (unknown,) = client.update_list([NsRecord("Invoice", project, internal_id=invoice)])
    assert not unknown.success and unknown.code == "INVALID_KEY_OR_REF"  # a project (job) that does not exist
