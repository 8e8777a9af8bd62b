"""Our NetSuite client against our emulator, over real sockets: records, lists, search, faults and retries."""

from __future__ import annotations

import datetime as dt
import gc
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from zeep.xsd.valueobjects import CompoundValue

from zns_sync.netsuite import (
    LIMITS,
    CustomFieldCondition,
    NetSuiteClient,
    NsRecord,
    RecordRef,
)
from zns_sync.sandbox.netsuite_server import NetSuiteEmulator


def customer(n: int | str, subsidiary: str, **extra: Any) -> NsRecord:
    fields = {
        "companyName": f"Customer {n}",
        "isPerson": False,
        "subsidiary": RecordRef(internal_id=subsidiary),
        "customFieldList": {"custentityzuoraid": f"Z-{n}"},
        **extra,
    }
    return NsRecord("Customer", fields, external_id=f"zuora-account-{n}")


def invoice(n: int, customer_id: str, ref: dict[str, Any], amounts: tuple[str, ...] = ("60.00", "40.50")) -> NsRecord:
    lines = [
        {
            "item": RecordRef(internal_id=ref["tax_item"]),
            "description": f"line {i}",
            "amount": Decimal(amount),
            "quantity": 1,
            "customFieldList": {"custcolzuoraid": f"L-{n}-{i}", "custcolzuorachargedate": dt.date(2024, 1, 1)},
        }
        for i, amount in enumerate(amounts)
    ]
    return NsRecord(
        "Invoice",
        {
            "entity": RecordRef(internal_id=customer_id),
            "tranDate": dt.date(2024, 1, 15),
            "currency": RecordRef(internal_id=ref["currencies"]["USD"]),
            "terms": RecordRef(internal_id=ref["terms"]["Net 30"]),
            "memo": "Zuora <invoice> & more",
            "itemList": {"item": lines, "replaceAll": False},
            "customFieldList": {
                "custbodyzuoraid": f"INV-{n}",
                "custbodyzuorataxamount": 0.0,
                "custbodyzuoraflag": True,
            },
        },
        external_id=f"zuora-invoice-{n}",
    )


@pytest.fixture
def ref(emulator: NetSuiteEmulator) -> dict[str, Any]:
    return emulator.seed_reference_data()


@pytest.fixture
def customer_id(client: NetSuiteClient, ref: dict[str, Any]) -> str:
    result = client.add(customer("base", ref["subsidiary"]))
    assert result.success and result.internal_id
    return result.internal_id


def test_invoice_round_trip_keeps_fields_sublists_and_custom_fields(
    client: NetSuiteClient, emulator: NetSuiteEmulator, ref: dict[str, Any], customer_id: str
) -> None:
    [result] = client.add_list([invoice(1, customer_id, ref)])
    assert result.success and result.external_id == "zuora-invoice-1"

    stored = emulator.store.find_by_external_id("Invoice", "zuora-invoice-1")
    assert stored is not None and stored["total"] == 100.5 and stored["status"] == "Open"
    assert stored["customFieldList"]["custbodyzuoraflag"] is True

    [read] = client.get_list([RecordRef(external_id="zuora-invoice-1", type="invoice")])
    record = read.record
    assert read.success and record is not None
    assert record["recordType"] == "Invoice" and record["internalId"] == result.internal_id
    assert record["entity"] == RecordRef(internal_id=customer_id)
    assert record["tranDate"] == dt.datetime(2024, 1, 15)
    assert record["memo"] == "Zuora <invoice> & more"
    assert record["amountRemaining"] == 100.5
    assert record["customFieldList"] == {
        "custbodyzuoraid": "INV-1",
        "custbodyzuorataxamount": 0.0,
        "custbodyzuoraflag": True,
    }
    lines = record["itemList"]["item"]
    assert [line["amount"] for line in lines] == [60.0, 40.5]
    assert lines[1]["customFieldList"] == {
        "custcolzuoraid": "L-1-1",
        "custcolzuorachargedate": dt.datetime(2024, 1, 1),
    }


def test_duplicate_external_id_and_per_record_errors_do_not_abort_the_list(
    client: NetSuiteClient, ref: dict[str, Any], customer_id: str
) -> None:
    bad_currency = invoice(3, customer_id, ref)
    bad_currency = NsRecord("Invoice", {**bad_currency.fields, "currency": RecordRef(internal_id="999999")}, "x-3")
    results = client.add_list(
        [
            invoice(2, customer_id, ref),
            invoice(2, customer_id, ref),
            bad_currency,
            customer("long", ref["subsidiary"], companyName="N" * 84),
        ]
    )
    assert [r.success for r in results] == [True, False, False, False]
    assert results[1].code == "DUP_RCRD" and results[1].message == "This record already exists"
    assert results[2].code == "INVALID_KEY_OR_REF" and "currency" in (results[2].message or "")
    assert results[3].message == (
        "The field companyName contained more than the maximum number ( 83 ) of characters allowed."
    )
    missing = client.get(RecordRef(internal_id="424242", type="invoice"))
    assert not missing.success and missing.code == "RCRD_DSNT_EXIST"


def test_update_upsert_and_custom_field_search(client: NetSuiteClient, ref: dict[str, Any], customer_id: str) -> None:
    updated = client.update(
        NsRecord(
            "Customer",
            {"email": "ap@example.com", "customFieldList": {"custentityzuorasyncdate": dt.date(2024, 2, 1)}},
            internal_id=customer_id,
        )
    )
    assert updated.success and updated.internal_id == customer_id
    upserts = client.upsert_list([customer("base", ref["subsidiary"], phone="555"), customer("new", ref["subsidiary"])])
    assert all(r.success for r in upserts) and upserts[0].internal_id == customer_id

    [found] = list(client.search("customer", custom_fields=[CustomFieldCondition("custentityzuoraid", "is", "Z-base")]))
    assert found["internalId"] == customer_id and found["email"] == "ap@example.com" and found["phone"] == "555"
    assert found["customFieldList"]["custentityzuorasyncdate"] == dt.datetime(2024, 2, 1)
    assert (
        client.update(NsRecord("Customer", {"email": "x@example.com"}, internal_id="777777")).code == "RCRD_DSNT_EXIST"
    )


def test_search_pages_through_search_more_with_id(
    client: NetSuiteClient, emulator: NetSuiteEmulator, ref: dict[str, Any], customer_id: str
) -> None:
    records = [invoice(n, customer_id, ref, ("10.00",)) for n in range(23)]
    assert all(r.success for r in client.add_list(records))
    wanted = [f"zuora-invoice-{n}" for n in range(23)] + ["zuora-invoice-missing"]
    pages = list(client.search_pages("transaction", external_ids=wanted, transaction_types=["_invoice"], page_size=5))
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert sorted(r["externalId"] for page in pages for r in page) == sorted(wanted[:-1])
    assert emulator.counters["searchMoreWithId"] == 4
    assert list(client.search("transaction", external_ids=["zuora-invoice-1"], transaction_types=["_creditMemo"])) == []
    items = list(
        client.search(
            "item",
            internal_ids=[ref["tax_item"]],
            criteria={"type": {"operator": "anyOf", "searchValue": ["_nonInventoryItem"]}},
        )
    )
    assert [i["recordType"] for i in items] == ["NonInventorySaleItem"]
    assert "itemList" not in pages[0][0]  # bodyFieldsOnly (the default) leaves sublists out
    [full] = client.search("transaction", external_ids=["zuora-invoice-7"], body_fields_only=False)
    assert len(full["itemList"]["item"]) == 1


def test_reference_lists_and_governance(client: NetSuiteClient, ref: dict[str, Any]) -> None:
    currencies = {c["symbol"]: c["internalId"] for c in client.get_all("currency")}
    assert currencies == ref["currencies"]
    terms = {t["name"]: t["internalId"] for t in client.get_all("term")}
    assert terms == ref["terms"]
    methods = client.get_all("paymentMethod")
    assert {m["name"]: m["internalId"] for m in methods} == ref["payment_methods"]
    assert set(ref["payment_methods"]) == {
        "ACH",
        "Cash",
        "Check",
        "CreditCard",
        "Other",
        "WireTransfer",
        "DebitCard",
        "CreditCardReferenceTransaction",
    }  # no PayPal: the demo tenant's PayPal payment must find no match
    assert {m["recordType"] for m in methods} == {"PaymentMethod"}
    assert client.get_integration_governance_info() == {
        "integrationConcurrencyLimit": 5,
        "limitType": "_integrationSpecific",
    }
    with pytest.raises(ValueError, match="get_all supports"):
        client.get_all("department")


def test_lists_are_split_at_netsuite_limits(
    client: NetSuiteClient, emulator: NetSuiteEmulator, ref: dict[str, Any]
) -> None:
    records = [customer(n, ref["subsidiary"]) for n in range(LIMITS["addList"] * 2 + 10)]
    results = client.add_list(records)
    assert len(results) == 410 and all(r.success for r in results)
    assert [r.external_id for r in results] == [r.external_id for r in records]
    assert emulator.counters["addList"] == 3
    assert (
        len(
            client.update_list([NsRecord("Customer", {"phone": "1"}, internal_id=r.internal_id) for r in results[:150]])
        )
        == 150
    )
    assert emulator.counters["updateList"] == 2
    refs = [RecordRef(internal_id=r.internal_id, type="customer") for r in results] * 3
    reads = client.get_list(refs)
    assert len(reads) == 1230 and all(r.success for r in reads) and emulator.counters["getList"] == 2
    assert emulator.counters["records_written"] == 410 + 150


class _LiveInvoices:
    """A gate (NetSuite's slots) that notes, each time a request takes a slot, how many zeep Invoice objects are
    alive in the process."""

    def __init__(self) -> None:
        self.alive: list[int] = []

    def __enter__(self) -> None:
        gc.collect()
        self.alive.append(
            sum(1 for o in gc.get_objects() if isinstance(o, CompoundValue) and type(o).__name__ == "Invoice")
        )

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_request_waiting_for_a_slot_holds_its_bytes_not_its_zeep_objects(
    emulator: NetSuiteEmulator, ref: dict[str, Any], customer_id: str, settings_for: Any
) -> None:
    gate = _LiveInvoices()
    with NetSuiteClient(settings_for(emulator), gate=gate) as client:
        results = client.add_list([invoice(n, customer_id, ref) for n in range(5)])
    assert [r.success for r in results] == [True] * 5
    assert gate.alive == [0]


def test_a_client_closed_at_once_writes_nothing_in_its_state_folder_after(
    emulator: NetSuiteEmulator, tmp_path: Path, settings_for: Any
) -> None:
    """The WSDL loads on a thread of its own and fills the cache in the state folder; a command that needs no NetSuite
    call (`status`) closes the client at once. Closing waits for the loader, so nothing is written in the folder
    afterwards (the demo removes its folder then: a file appearing meanwhile failed it)."""
    cache = tmp_path / "cache"
    NetSuiteClient(settings_for(emulator), cache_dir=cache).close()
    written = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in cache.iterdir())
    time.sleep(1.0)  # the WSDL and its XSDs take about 0.5 s to load and cache
    assert sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in cache.iterdir()) == written
