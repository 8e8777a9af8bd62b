"""Conformance with NetSuite's REAL SuiteTalk 2023_2 WSDL and XSDs (read from ../shared/vendor-specs).

1. Our schema is an ordered subset of the real one (names, types, element order, enum values).
2. A zeep client built from the REAL WSDL talks to our emulator: addList, add (DUP_RCRD), getList by externalId,
   search with searchMoreWithId paging, and is refused on a bad signature, a stale timestamp and a reused nonce.
3. Our own client, loading the REAL WSDL over HTTP, writes and reads through the emulator.
(Every request of every test in this folder is also validated against the real XSDs by the `emulator` fixture.)
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import http.server
import secrets
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree
from netsuite_conformance import find_real_specs

from zns_sync.netsuite import CustomFieldCondition, NetSuiteClient, NsRecord, RecordRef
from zns_sync.sandbox.netsuite_schema import NAMESPACES, VERSION, WSDL_DIR
from zns_sync.sandbox.netsuite_server import NetSuiteEmulator

XS = "{http://www.w3.org/2001/XMLSchema}"
SPECS = find_real_specs()
pytestmark = pytest.mark.skipif(
    SPECS is None, reason="NetSuite's real 2023_2 WSDL/XSDs not found at ../shared/vendor-specs/netsuite-2023_2"
)


def ns(name: str, area: str) -> str:
    return f"urn:{name}_{VERSION}.{area}.webservices.netsuite.com"


CORE, MSGS = ns("core", "platform"), ns("messages", "platform")
COMMON, REL = ns("common", "platform"), ns("relationships", "lists")


def _schema_index(files: list[Path]) -> tuple[dict[tuple[str, str], Any], dict[tuple[str, str], list[str]]]:
    types: dict[tuple[str, str], Any] = {}
    enums: dict[tuple[str, str], list[str]] = {}
    for path in files:
        root = etree.parse(str(path)).getroot()
        target = root.get("targetNamespace")
        for node in root:
            if node.tag == f"{XS}complexType":
                elements = [
                    (e.get("name") or e.get("ref"), (e.get("type") or "").split(":")[-1])
                    for e in node.iter(f"{XS}element")
                ]
                attributes = {a.get("name"): (a.get("type") or "").split(":")[-1] for a in node.iter(f"{XS}attribute")}
                types[(target, node.get("name"))] = (elements, attributes)
            elif node.tag == f"{XS}simpleType":
                enums[(target, node.get("name"))] = [e.get("value") for e in node.iter(f"{XS}enumeration")]
    return types, enums


def test_our_schema_is_an_ordered_subset_of_the_real_one() -> None:
    assert SPECS is not None
    ours, our_enums = _schema_index([WSDL_DIR / f for _, f in NAMESPACES.values()])
    real, real_enums = _schema_index(sorted((SPECS / "xsd").glob("*.xsd")))
    problems = []
    for key, (elements, attributes) in ours.items():
        if key not in real:
            problems.append(f"{key[1]}: no such type in {key[0]}")
            continue
        real_elements, real_attributes = real[key]
        positions = {name: i for i, (name, _) in enumerate(real_elements)}
        last = -1
        for name, type_name in elements:
            real_name = name.split(":")[-1] if name else name
            matches = [i for i, (n, _) in enumerate(real_elements) if (n or "").split(":")[-1] == real_name]
            if not matches:
                problems.append(f"{key[1]}.{name}: not in the real type")
                continue
            index = matches[0]
            if index <= last:
                problems.append(f"{key[1]}.{name}: out of the real order")
            if real_elements[index][1] != type_name:
                problems.append(f"{key[1]}.{name}: type {type_name}, real {real_elements[index][1]}")
            last = index
        del positions
        for name, type_name in attributes.items():
            if real_attributes.get(name) != type_name:
                problems.append(f"{key[1]}@{name}: {type_name} vs real {real_attributes.get(name)}")
    for key, values in our_enums.items():
        missing = set(values) - set(real_enums.get(key, []))
        if missing:
            problems.append(f"{key[1]}: values not in the real enum: {sorted(missing)}")
    assert not problems, "\n".join(problems)
    assert len(ours) > 60


class RealWsdlClient:
    """A zeep client on the REAL 2023_2 WSDL with its own TBA passport (independent of our client code)."""

    def __init__(self, emulator: NetSuiteEmulator, credentials: dict[str, str]) -> None:
        assert SPECS is not None
        self.client = zeep.Client(str(SPECS / "netsuite.wsdl"))
        self.service = self.client.create_service(
            f"{{urn:platform_{VERSION}.webservices.netsuite.com}}NetSuiteBinding", emulator.endpoint_url
        )
        self.credentials = credentials

    def type(self, namespace: str, name: str) -> Any:
        return self.client.get_type(f"{{{namespace}}}{name}")

    def passport(self, *, signature: str | None = None, timestamp: int | None = None, nonce: str | None = None) -> Any:
        c = self.credentials
        nonce = nonce or secrets.token_hex(12)
        timestamp = int(time.time()) if timestamp is None else timestamp
        message = "&".join((c["account"], c["consumer_key"], c["token_id"], nonce, str(timestamp)))
        key = f"{c['consumer_secret']}&{c['token_secret']}".encode()
        good = base64.b64encode(hmac.new(key, message.encode(), hashlib.sha256).digest()).decode()
        return self.type(CORE, "TokenPassport")(
            account=c["account"],
            consumerKey=c["consumer_key"],
            token=c["token_id"],
            nonce=nonce,
            timestamp=timestamp,
            signature=self.type(CORE, "TokenPassportSignature")(signature or good, algorithm="HMAC-SHA256"),
        )

    def customer(self, n: int, subsidiary: str) -> Any:
        custom = self.type(CORE, "CustomFieldList")(
            customField=[self.type(CORE, "StringCustomFieldRef")(scriptId="custentityzuoraid", value=f"Z{n}")]
        )
        return self.type(REL, "Customer")(
            externalId=f"real-{n}",
            companyName=f"Real Co {n}",
            isPerson=False,
            subsidiary=self.type(CORE, "RecordRef")(internalId=subsidiary),
            customFieldList=custom,
        )


@pytest.fixture
def real(emulator: NetSuiteEmulator, credentials: dict[str, str]) -> RealWsdlClient:
    return RealWsdlClient(emulator, credentials)


def test_real_wsdl_client_add_list_dup_get_list_and_paged_search(
    real: RealWsdlClient, emulator: NetSuiteEmulator
) -> None:
    subsidiary = str(emulator.seed_reference_data()["subsidiary"])
    response = real.service.addList(
        record=[real.customer(n, subsidiary) for n in range(12)], _soapheaders={"tokenPassport": real.passport()}
    )
    writes = response.body.writeResponseList.writeResponse
    assert [w.status.isSuccess for w in writes] == [True] * 12
    assert writes[3].baseRef.externalId == "real-3" and writes[3].baseRef.type == "customer"
    assert response.header.documentInfo.nsId

    dup = real.service.add(record=real.customer(3, subsidiary), _soapheaders={"tokenPassport": real.passport()})
    status = dup.body.writeResponse.status
    assert status.isSuccess is False
    assert (status.statusDetail[0].code, status.statusDetail[0].message) == ("DUP_RCRD", "This record already exists")

    ref = real.type(CORE, "RecordRef")
    got = real.service.getList(
        baseRef=[ref(externalId="real-5", type="customer"), ref(externalId="nope", type="customer")],
        _soapheaders={"tokenPassport": real.passport()},
    )
    reads = got.body.readResponseList.readResponse
    assert reads[0].status.isSuccess and reads[0].record.companyName == "Real Co 5"
    assert reads[0].record.customFieldList.customField[0].value == "Z5"
    assert reads[0].record.internalId == writes[5].baseRef.internalId
    assert not reads[1].status.isSuccess and reads[1].status.statusDetail[0].code == "RCRD_DSNT_EXIST"

    criteria = real.type(COMMON, "CustomerSearchBasic")(
        externalId=real.type(CORE, "SearchMultiSelectField")(
            operator="anyOf", searchValue=[ref(externalId=f"real-{n}") for n in range(12)]
        )
    )
    prefs = real.type(MSGS, "SearchPreferences")(bodyFieldsOnly=True, returnSearchColumns=False, pageSize=5)
    first = real.service.search(
        searchRecord=criteria, _soapheaders={"tokenPassport": real.passport(), "searchPreferences": prefs}
    ).body.searchResult
    assert (first.totalRecords, first.totalPages, first.pageIndex, first.pageSize) == (12, 3, 1, 5)
    seen = [r.externalId for r in first.recordList.record]
    for page in (2, 3):
        more = real.service.searchMoreWithId(
            searchId=first.searchId, pageIndex=page, _soapheaders={"tokenPassport": real.passport()}
        ).body.searchResult
        assert more.pageIndex == page
        seen += [r.externalId for r in more.recordList.record]
    assert sorted(seen) == sorted(f"real-{n}" for n in range(12))
    beyond = real.service.searchMoreWithId(
        searchId=first.searchId, pageIndex=4, _soapheaders={"tokenPassport": real.passport()}
    ).body.searchResult
    assert beyond.status.statusDetail[0].code == "INVALID_SEARCH_PAGE_INDEX"


@pytest.mark.parametrize("problem", ["signature", "timestamp", "nonce-reuse"])
def test_real_wsdl_client_is_refused_on_bad_passports(real: RealWsdlClient, problem: str) -> None:
    if problem == "nonce-reuse":
        real.service.getIntegrationGovernanceInfo(
            _soapheaders={"tokenPassport": real.passport(nonce="abcdefabcdefabcdefab12")}
        )
        passport = real.passport(nonce="abcdefabcdefabcdefab12")
    elif problem == "signature":
        passport = real.passport(signature=base64.b64encode(b"x" * 32).decode())
    else:
        passport = real.passport(timestamp=int(time.time()) - 3600)
    with pytest.raises(zeep.exceptions.Fault) as caught:
        real.service.getIntegrationGovernanceInfo(_soapheaders={"tokenPassport": passport})
    assert caught.value.message == "Invalid login attempt."
    detail = caught.value.detail[0]
    assert etree.QName(detail).localname == "invalidCredentialsFault"


@pytest.fixture
def real_wsdl_url() -> Iterator[str]:
    """The vendored real WSDL served over HTTP (so zeep's SqliteCache applies, as with NetSuite)."""
    assert SPECS is not None
    handler = functools.partial(_QuietHandler, directory=str(SPECS))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/netsuite.wsdl"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_our_client_on_the_real_wsdl(
    emulator: NetSuiteEmulator,
    real_wsdl_url: str,
    settings_for: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ref = emulator.seed_reference_data()
    settings = settings_for(emulator, wsdl_url=real_wsdl_url)
    started = time.perf_counter()
    with NetSuiteClient(settings, cache_dir=tmp_path) as ns_client:
        customer = ns_client.add(
            NsRecord(
                "Customer",
                {
                    "companyName": "Acme",
                    "subsidiary": RecordRef(internal_id=str(ref["subsidiary"])),
                    "customFieldList": {"custentityzuoraid": "A-1"},
                },
                external_id="acme",
            )
        )
        cold = time.perf_counter() - started
        invoice = NsRecord(
            "Invoice",
            {
                "entity": RecordRef(internal_id=customer.internal_id),
                "tranDate": dt.date(2024, 3, 1),
                "itemList": {
                    "item": [
                        {
                            "item": RecordRef(internal_id=str(ref["tax_item"])),
                            "amount": Decimal("12.34"),
                            "rate": Decimal("12.34"),
                            "customFieldList": {"custcolzuoraid": "L1", "custcolflag": False},
                        },
                    ]
                },
                "customFieldList": {"custbodyzuoraid": "I-1", "custbodycount": 3},
            },
            external_id="inv-real",
        )
        [written] = ns_client.add_list([invoice])
        assert written.success
        [read] = ns_client.get_list([RecordRef(external_id="inv-real", type="invoice")])
        assert read.record is not None and read.record["total"] == 12.34
        assert read.record["itemList"]["item"][0]["customFieldList"] == {"custcolzuoraid": "L1", "custcolflag": False}
        assert read.record["customFieldList"] == {"custbodyzuoraid": "I-1", "custbodycount": 3}
        assert [
            r["internalId"]
            for r in ns_client.search(
                "customer", custom_fields=[CustomFieldCondition("custentityzuoraid", "is", "A-1")]
            )
        ] == [customer.internal_id]
        # paymentMethod is not in the real GetAllRecordType: listed by a PaymentMethodSearchBasic search.
        methods = {m["name"]: m["internalId"] for m in ns_client.get_all("paymentMethod")}
        assert methods == ref["payment_methods"]
    started = time.perf_counter()
    with NetSuiteClient(settings, cache_dir=tmp_path) as ns_client:
        ns_client.get_integration_governance_info()
    warm = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nReal 2023_2 WSDL: cold start to first answer {cold:.2f}s, warm start (SqliteCache) {warm:.2f}s")
    assert warm < 3


def test_answers_about_payments_refunds_and_payment_methods_conform_to_the_real_xsd(
    client: NetSuiteClient, real: RealWsdlClient, emulator: NetSuiteEmulator, validator: Any
) -> None:
    ref = emulator.seed_reference_data()
    check = RecordRef(internal_id=ref["payment_methods"]["Check"])
    customer = client.add(
        NsRecord("Customer", {"companyName": "Payer", "subsidiary": RecordRef(internal_id=ref["subsidiary"])}, "payer")
    )
    who = RecordRef(internal_id=customer.internal_id)
    invoice = client.add(
        NsRecord(
            "Invoice",
            {"entity": who, "itemList": [{"item": RecordRef(internal_id=ref["tax_item"]), "amount": 80.0}]},
            "payer-inv",
        )
    )
    doc = int(str(invoice.internal_id))
    payment = client.add(
        NsRecord(
            "CustomerPayment",
            {
                "customer": who,
                "payment": 80.0,
                "paymentMethod": check,
                "applyList": {"apply": [{"doc": doc, "apply": True, "amount": 80.0}]},
            },
            "payer-pay",
        )
    )
    unapply = {"apply": [{"doc": doc, "apply": True, "amount": 30.0}], "replaceAll": False}
    assert client.update(NsRecord("CustomerPayment", {"applyList": unapply}, internal_id=payment.internal_id)).success
    refund_lines = {"apply": [{"doc": int(str(payment.internal_id)), "apply": True, "amount": 50.0}]}
    assert client.add(
        NsRecord("CustomerRefund", {"customer": who, "paymentMethod": check, "applyList": refund_lines}, "payer-ref")
    ).success

    ref_type = real.type(CORE, "RecordRef")
    requests_ = {
        "getList": {
            "baseRef": [
                ref_type(internalId=payment.internal_id, type="customerPayment"),
                ref_type(externalId="payer-ref", type="customerRefund"),
                ref_type(internalId=invoice.internal_id, type="invoice"),
            ],
            "_soapheaders": {"tokenPassport": real.passport()},
        },
        "search": {
            "searchRecord": real.type(COMMON, "PaymentMethodSearchBasic")(
                name=real.type(CORE, "SearchStringField")(operator="startsWith", searchValue="Credit")
            ),
            "_soapheaders": {
                "tokenPassport": real.passport(),
                "searchPreferences": real.type(MSGS, "SearchPreferences")(bodyFieldsOnly=False, pageSize=10),
            },
        },
    }
    for operation, params in requests_.items():
        body = etree.tostring(real.client.create_message(real.service, operation, **params))
        answer = requests.post(
            emulator.endpoint_url,
            data=body,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{operation}"'},
            timeout=10,
        )
        assert answer.status_code == 200 and b'isSuccess="false"' not in answer.content
        assert validator.validate(answer.content) == [], operation
    assert b"CreditCardReferenceTransaction" in answer.content


def test_list_limits_are_faults_for_any_client(real: RealWsdlClient, emulator: NetSuiteEmulator) -> None:
    subsidiary = str(emulator.seed_reference_data()["subsidiary"])
    with pytest.raises(zeep.exceptions.Fault) as caught:
        real.service.addList(
            record=[real.customer(n, subsidiary) for n in range(201)], _soapheaders={"tokenPassport": real.passport()}
        )
    assert etree.QName(caught.value.detail[0]).localname == "exceededRecordCountFault"
    assert emulator.store.count("Customer") == 0


def test_the_real_xsd_validator_catches_a_non_conforming_request(
    client: NetSuiteClient, validator: Any, emulator: NetSuiteEmulator
) -> None:
    client.get_all("currency")
    assert validator.validated == 1 and validator.errors == []
    bad = (
        f'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Body>'
        f'<m:addList xmlns:m="{MSGS}"><m:record xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:r="{REL}" xsi:type="r:Customer"><r:companyName>x</r:companyName><r:entityId>late</r:entityId>'
        f"</m:record></m:addList></soap-env:Body></soap-env:Envelope>"
    ).encode()
    problems = validator.validate(bad)
    assert problems and "entityId" in problems[0]


def test_requests_of_another_version_and_mixed_credentials_are_refused(
    real: RealWsdlClient, emulator: NetSuiteEmulator
) -> None:
    app_info = real.client.get_element(f"{{{MSGS}}}applicationInfo")(applicationId="X")
    with pytest.raises(zeep.exceptions.Fault) as caught:
        real.service.getIntegrationGovernanceInfo(
            _soapheaders={"tokenPassport": real.passport(), "applicationInfo": app_info}
        )
    assert caught.value.message == "Invalid login attempt."
    body = etree.tostring(real.client.create_message(real.service, "getServerTime")).replace(
        b"messages_2023_2", b"messages_2019_1"
    )
    emulator.request_hook = None  # deliberately not 2023_2: keep it away from the real-XSD validator
    status, answer, _ = emulator.handle_soap(body)
    assert status == 500 and b"INVALID_WS_VERSION" in answer
