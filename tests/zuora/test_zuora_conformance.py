"""The requests our client sends validate against Zuora's published OpenAPI (Swagger 2.0) request schemas."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest
from zuora_conformance import SPECS, check_request, spec

from zns_sync.sandbox.zuora_server import ZuoraEmulator
from zns_sync.zuora import ZuoraClient, ZuoraError

pytestmark = pytest.mark.skipif(
    not SPECS.is_dir(), reason=f"Zuora OpenAPI files not found at {SPECS} (the shared folder beside the repo)"
)


def test_requests_validate_against_zuoras_openapi(emulator: ZuoraEmulator, make_client: Any) -> None:
    client: ZuoraClient = make_client(page_size=2)
    for i in range(5):
        emulator.store.add("Account", {"Name": f"N{i}"})
    charge = emulator.store.add("ProductRatePlanCharge", {"Name": "Gold"})
    list(client.query("select Id, Name from Account"))
    created = client.create("Account", [{"Name": "New", "Currency": "USD", "BillCycleDay": 1}])
    client.update("Account", [{"Id": created[0].id, "Notes": "hi", "CrmId": None}])
    client.put("ProductRatePlanCharge", charge, {"IntegrationStatus__NS": "Sync Complete", "Description": None})

    operations = {
        "/oauth/token": ("oauth", "/oauth/token"),
        "/v1/action/query": ("actions", "/v1/action/query"),
        "/v1/action/queryMore": ("actions", "/v1/action/queryMore"),
        "/v1/action/create": ("actions", "/v1/action/create"),
        "/v1/action/update": ("actions", "/v1/action/update"),
        f"/v1/object/product-rate-plan-charge/{charge}": (
            "product-rate-plan-charges",
            "/v1/object/product-rate-plan-charge/{id}",
        ),
    }
    seen: dict[str, int] = {}
    for request in emulator.requests_seen:
        spec, path = operations[request.path]
        assert check_request(spec, path, request.method, request) >= 2, request.path
        seen[path] = seen.get(path, 0) + 1
        if request.method == "POST" and request.path in ("/v1/action/create", "/v1/action/update"):
            assert request.headers["idempotency-key"]
    assert seen == {
        "/oauth/token": 1,
        "/v1/action/query": 1,
        "/v1/action/queryMore": 2,
        "/v1/action/create": 1,
        "/v1/action/update": 1,
        "/v1/object/product-rate-plan-charge/{id}": 1,
    }
    update = next(r for r in emulator.requests_seen if r.path == "/v1/action/update")
    assert json.loads(update.body)["objects"][0]["fieldsToNull"] == ["CrmId"]


def test_client_sends_a_pinned_zuora_version(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    list(client.query("select Id from Account"))
    (query,) = [r for r in emulator.requests_seen if r.path == "/v1/action/query"]
    assert query.headers["zuora-version"] == "2025-08-12"
    assert json.loads(query.body) == {"queryString": "select Id from Account", "conf": {"batchSize": 2000}}
    token = next(r for r in emulator.requests_seen if r.path == "/oauth/token")
    assert "authorization" not in token.headers


def test_payment_parts_requests_and_answers_follow_zuoras_openapi(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    payment = emulator.store.add("Payment", {"PaymentNumber": "P-00000042", "Status": "Processed", "Amount": 41.0})
    for _ in range(41):
        invoice = emulator.store.add("Invoice", {"Status": "Posted", "Amount": 1.0})
        emulator.store.add("PaymentPart", {"InvoiceId": invoice, "PaymentId": payment, "Amount": 1.0})
    assert len(client.payment_parts(payment)) == len(client.payment_parts("P-00000042")) == 41

    template = "/v1/payments/{paymentKey}/parts"
    requests = [r for r in emulator.requests_seen if r.path != "/oauth/token"]
    assert [(r.method, r.path, r.query) for r in requests] == [
        ("GET", f"/v1/payments/{key}/parts", query)
        for key in (payment, "P-00000042")
        for query in ("pageSize=40", "page=2&pageSize=40")
    ]
    for request in requests:
        assert check_request("payments", template, request.method, request) >= 4, request.query

    document = spec("payments")
    schema = document["paths"][template]["get"]["responses"]["200"]["schema"]
    validator = jsonschema.Draft4Validator({**schema, "definitions": document["definitions"]})
    with httpx.Client(base_url=emulator.url, headers={"Authorization": requests[0].headers["authorization"]}) as raw:
        for query in ("pageSize=40", "page=2&pageSize=40"):
            answer = raw.get(f"/v1/payments/{payment}/parts?{query}").json()
            # Swagger 2.0 cannot say "string or null"; Zuora's own example answers "debitMemoId": null.
            assert all(part["debitMemoId"] is None for part in answer["parts"])
            validator.validate({**answer, "parts": [_without_nulls(part) for part in answer["parts"]]})


def _without_nulls(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if value is not None}


def test_refund_reads_follow_zuoras_openapi(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    payment = emulator.store.add("Payment", {"PaymentNumber": "P-7", "Status": "Processed", "Amount": 10.0})
    refund = emulator.store.add(
        "Refund",
        {"RefundNumber": "R-7", "Amount": 4.0, "Status": "Processed", "PaymentId": payment, "RefundDate": "2024-02-01"},
    )
    read = client.refund(refund)
    assert (read["id"], read["number"], read["paymentId"], read["amount"]) == (refund, "R-7", payment, 4.0)
    assert client.refund("R-7")["id"] == refund
    template = "/v1/refunds/{refundKey}"
    requests = [r for r in emulator.requests_seen if r.path != "/oauth/token"]
    assert [r.path for r in requests] == [f"/v1/refunds/{refund}", "/v1/refunds/R-7"]
    for request in requests:
        check_request("refunds", template, request.method, request)
    document = spec("refunds")
    schema = document["paths"][template]["get"]["responses"]["200"]["schema"]
    validator = jsonschema.Draft4Validator({**schema, "definitions": document["definitions"]})
    with httpx.Client(base_url=emulator.url, headers={"Authorization": requests[0].headers["authorization"]}) as raw:
        validator.validate(_without_nulls(raw.get(f"/v1/refunds/{refund}").json()))
    with pytest.raises(ZuoraError) as unknown:
        client.refund("R-404")
    assert unknown.value.code == "50000040"


def test_credit_memo_requests_and_answers_follow_zuoras_openapi(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    store = emulator.store
    account = store.add("Account", {"Name": "Acme", "AccountNumber": "A-9"})
    invoice = store.add("Invoice", {"Status": "Posted", "Amount": 50.0})
    memos = []
    for n in range(41):
        memo = store.add("CreditMemo", {"AccountId": account, "MemoNumber": f"CM{n:03d}", "Amount": 5.0,
                                        "Status": "Posted", "MemoDate": "2024-04-01"})  # fmt: skip
        item = store.add("CreditMemoItem", {"CreditMemoId": memo, "Amount": 5.0, "AmountWithoutTax": 4.5,
                                            "SourceItemType": "InvoiceDetail", "SourceItemId": "ii-1"})  # fmt: skip
        store.add("CreditTaxationItem", {"CreditMemoId": memo, "CreditMemoItemId": item, "TaxAmount": 0.5,
                                         "AccountingCode": "-8", "TaxDate": "2024-04-01"})  # fmt: skip
        store.add("CreditMemoPart", {"CreditMemoId": memo, "InvoiceId": invoice, "Amount": 1.0})
        memos.append(memo)
    listed = [m for page in client.memos("creditmemos", {"status": "Posted", "transferredToAccounting": "No"})
              for m in page]  # fmt: skip
    assert len(listed) == 41
    assert client.memo_items("creditmemos", memos[0])[0]["taxationItems"]["data"][0]["taxAmount"] == 0.5
    assert client.credit_memo_parts(memos[0])[0]["invoiceId"] == invoice
    assert client.memo("creditmemos", "CM001")["id"] == memos[1]
    results = client.update_memos("creditmemos", [
        {"id": m, "IntegrationStatus__NS": "Sync Complete", "IntegrationId__NS": "77",
         "SyncDate__NS": "2024-05-01T00:00:00Z", "transferredToAccounting": "Yes"} for m in memos])  # fmt: skip
    assert all(r.success for r in results)

    operations = {
        "/v1/creditmemos": "/v1/creditmemos",
        "/v1/creditmemos/bulk": "/v1/creditmemos/bulk",
        f"/v1/creditmemos/{memos[0]}/items": "/v1/creditmemos/{creditMemoKey}/items",
        f"/v1/creditmemos/{memos[0]}/parts": "/v1/creditmemos/{creditMemoKey}/parts",
        "/v1/creditmemos/CM001": "/v1/creditmemos/{creditMemoKey}",
    }
    requests = [r for r in emulator.requests_seen if r.path != "/oauth/token"]
    assert [(r.method, r.path) for r in requests] == [
        ("GET", "/v1/creditmemos"), ("GET", "/v1/creditmemos"), ("GET", f"/v1/creditmemos/{memos[0]}/items"),
        ("GET", f"/v1/creditmemos/{memos[0]}/parts"), ("GET", "/v1/creditmemos/CM001"),
        ("PUT", "/v1/creditmemos/bulk")]  # fmt: skip
    for request in requests:
        assert check_request("credit-memos", operations[request.path], request.method, request) >= 2, request.path
    assert len(json.loads(requests[-1].body)["memos"]) == 41

    document = spec("credit-memos")
    with httpx.Client(base_url=emulator.url, headers={"Authorization": requests[0].headers["authorization"]}) as raw:
        for path, template in operations.items():
            if path.endswith("/bulk"):
                continue
            schema = document["paths"][template]["get"]["responses"]["200"]["schema"]
            validator = jsonschema.Draft4Validator({**schema, "definitions": document["definitions"]})
            validator.validate(_deep_without_nulls(raw.get(path, headers={"Zuora-Version": "2025-08-12"}).json()))


def _deep_without_nulls(value: Any) -> Any:
    """Swagger 2.0 cannot say "or null": Zuora's own examples answer nulls for absent values."""
    if isinstance(value, dict):
        return {k: _deep_without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_deep_without_nulls(v) for v in value]
    return value
