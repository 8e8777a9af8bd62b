"""List writes are rendered without zeep (`netsuite/_render.EnvelopeWriter`): the same XML as zeep's rendering of the
same records, every namespace declared once, and NetSuite's real 2023_2 XSDs accept it (the emulator fixture validates
every request it receives)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from zns_sync.netsuite import NetSuiteClient, NsRecord, RecordRef
from zns_sync.netsuite._auth import ALGORITHM
from zns_sync.netsuite._model import SEARCH_TYPES
from zns_sync.sandbox.netsuite_server import NetSuiteEmulator

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
PASSPORT = {
    "account": "123456_SB1", "consumerKey": "ck", "token": "tk", "nonce": "n0nce", "timestamp": 1700000000,
    "signature": "c2lnbmF0dXJl", "algorithm": ALGORITHM,
}  # fmt: skip

# Every shape a flow sends: attributes, RecordRefs with a type or a name, sublists given as a mapping or a bare list,
# RecordRefList, every CustomFieldRef kind, booleans, dates, decimals, floats, enums, text that needs escaping.
RECORDS = [
    NsRecord(
        "Customer",
        {
            "companyName": "Ünïcode & <Sons>",
            "isPerson": False,
            "entityId": "A-1",
            "subsidiary": RecordRef("1"),
            "currency": RecordRef(internal_id="1", name="USD"),
            "terms": RecordRef("2"),
            "addressbookList": {
                "addressbook": [
                    {
                        "defaultBilling": True,
                        "label": "Bill To",
                        "addressbookAddress": {"country": "_unitedStates", "addr1": "1 Main St", "zip": "94105"},
                    },
                ],
                "replaceAll": True,
            },
            "customFieldList": {
                "custentityzuoraid": "A00001",
                "custentitycount": 3,
                "custentityflag": True,
                "custentityratio": Decimal("1.25"),
                "custentitysince": dt.date(2024, 1, 31),
                "custentityowner": RecordRef(internal_id="7"),
                "custentityregions": [RecordRef(internal_id="1"), RecordRef(external_id="x-2")],
                "custentityscore": 0.5,
            },
        },
        external_id="zuora-account-1",
    ),
    NsRecord(
        "Invoice",
        {
            "entity": RecordRef(external_id="zuora-account-1", type="customer"),
            "tranDate": dt.date(2024, 2, 1),
            "memo": 'a "quoted" <memo>',
            "department": RecordRef("3"),
            "itemList": [
                {
                    "item": RecordRef("10"),
                    "amount": Decimal("255.33"),
                    "quantity": 9.0,
                    "isTaxable": False,
                    "revRecStartDate": dt.date(2024, 2, 1),
                    "customFieldList": {"custcolzuoraid": "L1"},
                },
                {"item": RecordRef("11"), "amount": Decimal("-1.00"), "description": "credit"},
            ],
        },
        external_id="zuora-invoice-1",
    ),
    NsRecord(
        "CustomerPayment",
        {
            "customer": RecordRef("5"),
            "payment": Decimal("10.5"),
            "applyList": {"apply": [{"doc": 42, "apply": True, "amount": Decimal("10.5")}], "replaceAll": False},
        },
        external_id="zuora-payment-1",
    ),
    NsRecord(
        "ServiceSaleItem",
        {
            "itemId": "Gold",
            "subsidiaryList": {"recordRef": [RecordRef("1"), RecordRef("2")]},
            "includeChildren": True,
            "rate": "12.50",
            "incomeAccount": RecordRef("54"),
        },
        external_id="zuora-charge-1",
    ),
    NsRecord("Invoice", {"customFieldList": {"custbodyzuorastatus": "Sync Complete"}}, internal_id="77"),
]


def canonical(body: bytes) -> Any:
    """The request's Header and Body as nested tuples: namespaced tags, attributes (an xsi:type as its namespaced
    type), text, children; prefixes and where namespaces are declared do not matter."""

    def walk(element: Any) -> Any:
        attributes = {}
        for name, value in element.attrib.items():
            if name == XSI_TYPE:
                prefix, _, local = value.rpartition(":")
                value = f"{{{element.nsmap[prefix or None]}}}{local}"
            attributes[name] = value
        text = (element.text or "").strip()
        return element.tag, tuple(sorted(attributes.items())), text, tuple(walk(child) for child in element)

    root = etree.fromstring(body)
    return tuple(walk(part) for part in root if part.tag in (f"{{{SOAP_ENV}}}Header", f"{{{SOAP_ENV}}}Body"))


def zeep_request(client: NetSuiteClient, operation: str, headers: dict[str, Any], **params: Any) -> bytes:
    """What zeep's service proxy sends for this operation, signed with PASSPORT: the reference."""
    wsdl = client._loaded()
    fields = {key: value for key, value in PASSPORT.items() if key not in ("signature", "algorithm")}
    passport = wsdl.passport_type(signature=wsdl.signature_type(PASSPORT["signature"], algorithm=ALGORITHM), **fields)
    service = wsdl.service
    envelope, _ = service._binding._create(
        operation, (), {**params, "_soapheaders": {"tokenPassport": passport, **headers}}, client=wsdl.zeep,
        options=service._binding_options,
    )  # fmt: skip
    return bytes(etree.tostring(envelope))


def zeep_rendering(client: NetSuiteClient, operation: str, records: list[NsRecord]) -> bytes:
    """What zeep's service proxy sends for these records."""
    wsdl = client._loaded()
    objects = [wsdl.builder.build(client.record_type(r.record_type), r.values(), r.record_type) for r in records]
    return zeep_request(client, operation, {}, record=objects)


@pytest.mark.parametrize("operation", ["addList", "updateList", "upsertList"])
def test_a_list_write_renders_what_zeep_renders(client: NetSuiteClient, operation: str) -> None:
    ours = client._loaded().writer.envelope(operation, PASSPORT, RECORDS)
    assert canonical(ours) == canonical(zeep_rendering(client, operation, RECORDS))
    root = etree.fromstring(ours)
    assert ours.count(b"xmlns:") == len(root.nsmap)  # every namespace declared once, on the envelope


def test_records_sent_by_the_client_are_stored_and_conform(client: NetSuiteClient) -> None:
    """Sent through the client: the emulator parses them as NetSuite would (the fixture validates each request
    against the real XSDs): a customer with custom fields and text to escape, an item, an invoice naming both."""
    fields = {"companyName": "Ünïcode & <Sons>", "customFieldList": {"custentityzuoraid": "A1"}}
    item, customer = client.add_list(
        [NsRecord("ServiceSaleItem", {"itemId": "Gold"}, "it-1"), NsRecord("Customer", fields, "c-1")]
    )
    assert item.success and customer.success, (item.message, customer.message)
    line = {"item": RecordRef(item.internal_id), "amount": Decimal("12.34"), "quantity": 2.0}
    entity = RecordRef(external_id="c-1", type="customer")
    [invoice] = client.add_list([NsRecord("Invoice", {"entity": entity, "itemList": [line]}, "i-1")])
    assert invoice.success, invoice.message
    [read] = client.get_list([RecordRef(external_id="c-1", type="customer")])
    assert read.record is not None and read.record["companyName"] == "Ünïcode & <Sons>"


@pytest.mark.parametrize(
    ("kind", "conditions"),
    [
        ("account", [("name", "is", ["Revenue : Usage"]), ("type", "anyOf", ["_income", "_otherIncome"])]),
        ("salesTaxItem", [("itemId", "is", ["CA & <NV>"])]),
        ("term", []),
    ],
)
def test_a_first_lookup_renders_what_zeep_renders(
    client: NetSuiteClient, kind: str, conditions: list[tuple[str, str, list[str]]]
) -> None:
    """A search on plain conditions (`LookupWriter`, rendered without the WSDL) is the request zeep would send, with
    the searchPreferences every search sends."""
    search_type = SEARCH_TYPES[kind]
    ours = client._lookups.search(
        PASSPORT, search_type, client.namespace("common.platform"), conditions, page_size=1000
    )
    criteria = {field: {"operator": operator, "searchValue": values if operator == "anyOf" else values[0]}
                for field, operator, values in conditions}  # fmt: skip
    record = client._loaded().builder.build(client.record_type(search_type), criteria, search_type)
    preferences = client.get_type("messages.platform", "SearchPreferences")(
        bodyFieldsOnly=True, returnSearchColumns=False, pageSize=1000
    )
    reference = zeep_request(client, "search", {"searchPreferences": preferences}, searchRecord=record)
    assert canonical(ours) == canonical(reference)


def test_get_all_renders_what_zeep_renders(client: NetSuiteClient) -> None:
    ours = client._lookups.get_all(PASSPORT, "currency")
    record = client.get_type("core.platform", "GetAllRecord")(recordType="currency")
    assert canonical(ours) == canonical(zeep_request(client, "getAll", {}, record=record))


def test_the_first_lookups_go_out_while_the_wsdl_loads(
    emulator: NetSuiteEmulator, tmp_path: Path, settings_for: Any
) -> None:
    """A run's first NetSuite requests (the lists and names it warms) are rendered without the WSDL, so they are on
    the wire while zeep loads it (about 0.35 s for the real 2023_2 one); only their answers wait for it. The answers
    are zeep's, as any other."""
    emulator.faults.wsdl_latency_seconds = 0.05  # per file: the WSDL and each XSD it imports
    arrived: list[tuple[str, int]] = []
    checked = emulator.request_hook

    def watch(body: bytes) -> None:
        operation = etree.QName(etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body")[0]).localname
        arrived.append((operation, emulator.counters.wsdl_downloads))
        if checked is not None:
            checked(body)

    emulator.request_hook = watch
    with NetSuiteClient(settings_for(emulator), cache_dir=tmp_path / "cache") as client:
        currencies = client.get_all("currency")
        terms = client.get_all("term")
        account = client.find_named("account", "name", "Revenue : Services", ("_income", "_otherIncome"))
        missing = client.find_named("account", "name", "Revenue : Nothing", ("_income",))
    seeded = emulator.seed_reference_data()  # (the ids it seeded, again)
    files = emulator.counters.wsdl_downloads
    assert {c["symbol"]: c["internalId"] for c in currencies} == seeded["currencies"]
    assert {t["name"]: t["internalId"] for t in terms} == seeded["terms"]
    assert account is not None and account["internalId"] == seeded["accounts"]["Revenue : Services"]
    assert missing is None
    operation, downloads = arrived[0]
    assert operation == "getAll" and downloads < files  # sent before the WSDL's last file was served
    assert [operation for operation, _ in arrived] == ["getAll", "search", "search", "search"]
