"""GET /v1/payments/{paymentKey}/parts: the emulator's answers and the client's paging, over real sockets."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from zns_sync.config import Secret, ZuoraSettings
from zns_sync.sandbox.zuora_server import ZuoraEmulator
from zns_sync.zuora import ZUORA_VERSION, ZuoraClient, ZuoraError

ClientFactory = Callable[..., ZuoraClient]
MODERN = {"Zuora-Version": ZUORA_VERSION}
UNKNOWN = "2c92c0f9602fb240016049ac7e0b0000"


def _payment(emulator: ZuoraEmulator, applications: list[tuple[float, float]], number: str = "P-00000001") -> str:
    """A Processed payment with one PaymentPart (and its invoice) per (amount applied, amount refunded since): the
    part holds what stays applied."""
    store = emulator.store
    payment = store.add("Payment", {"PaymentNumber": number, "Status": "Processed",
                                    "Amount": sum(a for a, _ in applications)})  # fmt: skip
    for amount, refunded in applications:
        invoice = store.add("Invoice", {"Status": "Posted", "Amount": amount})
        store.add("PaymentPart", {"InvoiceId": invoice, "PaymentId": payment, "Amount": amount - refunded})
    return payment


def test_parts_follow_the_applications_left_after_refunds(emulator: ZuoraEmulator, raw: httpx.Client) -> None:
    payment = _payment(emulator, [(100.0, 0.0), (40.0, 10.5), (25.0, 25.0)])
    links = emulator.store.all("PaymentPart")
    body = raw.get(f"/v1/payments/{payment}/parts").json()
    assert body["success"] is True and "nextPage" not in body
    assert [(p["id"], p["invoiceId"], p["debitMemoId"], p["amount"]) for p in body["parts"]] == [
        (links[0]["Id"], links[0]["InvoiceId"], None, 100.0),
        (links[1]["Id"], links[1]["InvoiceId"], None, 29.5),
    ]  # the fully refunded application has no part
    assert set(body["parts"][0]) == {"id", "invoiceId", "debitMemoId", "amount", "createdDate", "updatedDate"}
    assert len(body["parts"][0]["createdDate"]) == len("2017-03-01 11:30:37")
    assert raw.get("/v1/payments/P-00000001/parts").json() == body
    assert emulator.counters["GET /v1/payments/{paymentKey}/parts"] == 2


def test_answers_on_a_kept_alive_connection_do_not_wait_for_the_clients_delayed_ack(
    emulator: ZuoraEmulator, make_client: ClientFactory
) -> None:
    """Zuora answers with TCP_NODELAY: with Nagle's algorithm on, the body of each GET answer, written after its
    headers, waited for the client's delayed ACK (40 ms on Linux), almost as much as the latency `make bench`
    models."""
    payment = _payment(emulator, [(100.0, 0.0)])
    client = make_client()
    client.payment_parts(payment)  # the token and the connection
    began = time.monotonic()
    for _ in range(20):
        assert len(client.payment_parts(payment)) == 1
    assert time.monotonic() - began < 0.4  # 0.8 s at least if each answer waits for an ACK


def test_a_fully_refunded_payment_has_no_part(emulator: ZuoraEmulator, raw: httpx.Client) -> None:
    payment = _payment(emulator, [(60.0, 60.0), (5.0, 5.0)])
    assert raw.get(f"/v1/payments/{payment}/parts").json() == {"parts": [], "success": True}


def test_parts_page_with_page_size_and_an_absolute_next_page(emulator: ZuoraEmulator, raw: httpx.Client) -> None:
    payment = _payment(emulator, [(float(i), 0.0) for i in range(1, 6)])
    first = raw.get(f"/v1/payments/{payment}/parts", params={"pageSize": 2}).json()
    assert [p["amount"] for p in first["parts"]] == [1.0, 2.0]
    assert first["nextPage"] == f"{emulator.url}/v1/payments/{payment}/parts?page=2&pageSize=2"
    last = raw.get(f"/v1/payments/{payment}/parts", params={"page": 3, "pageSize": 2}).json()
    assert [p["amount"] for p in last["parts"]] == [5.0] and "nextPage" not in last
    assert len(raw.get(f"/v1/payments/{payment}/parts").json()["parts"]) == 5  # default pageSize 20


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [({}, 404, 50000040), ({"pageSize": 41}, 400, 50000020), ({"pageSize": 0}, 400, 50000020),
     ({"page": "x"}, 400, 50000020)],
)  # fmt: skip
def test_errors_are_rest_envelopes_with_version_mapped_statuses(
    emulator: ZuoraEmulator, raw: httpx.Client, params: dict[str, object], status: int, code: int
) -> None:
    key = UNKNOWN if status == 404 else _payment(emulator, [(1.0, 0.0)])
    modern = raw.get(f"/v1/payments/{key}/parts", params=params, headers=MODERN)  # type: ignore[arg-type]
    legacy = raw.get(f"/v1/payments/{key}/parts", params=params)  # type: ignore[arg-type]
    assert (modern.status_code, legacy.status_code) == (status, 200)  # no Zuora-Version means 186.0
    for answer in (modern, legacy):
        body = answer.json()
        assert body["success"] is False and body["processId"]
        assert [r["code"] for r in body["reasons"]] == [code] and body["reasons"][0]["message"]


def test_client_reads_every_part_across_pages(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    applications = [(float(i), 0.5 if i % 10 == 0 else 0.0) for i in range(1, 91)]
    applications[44] = (45.0, 45.0)
    payment = _payment(emulator, applications)
    parts = client.payment_parts(payment)
    assert [p["amount"] for p in parts] == [a - r for a, r in applications if a > r]
    assert len(parts) == 89 and len({p["id"] for p in parts}) == 89
    assert client.payment_parts("P-00000001") == parts
    pages = [r for r in emulator.requests_seen if r.path == f"/v1/payments/{payment}/parts"]
    assert [parse_qs(r.query) for r in pages] == [
        {"pageSize": ["40"]}, {"page": ["2"], "pageSize": ["40"]}, {"page": ["3"], "pageSize": ["40"]}]  # fmt: skip
    assert all(r.headers["zuora-version"] == ZUORA_VERSION for r in pages)


def test_client_returns_no_part_for_a_fully_refunded_payment(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    assert client.payment_parts(_payment(emulator, [(20.0, 20.0)])) == []


def test_client_raises_for_an_unknown_payment_without_retrying(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    with pytest.raises(ZuoraError) as caught:
        client.payment_parts(UNKNOWN)
    assert caught.value.status == 404 and caught.value.code == "50000040"
    assert UNKNOWN in str(caught.value) and "Zuora-Request-Id" in str(caught.value)
    assert emulator.counters["GET /v1/payments/{paymentKey}/parts"] == 1


def test_client_retries_and_reauthenticates_parts_calls(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    payment = _payment(emulator, [(float(i), 0.0) for i in range(1, 46)])
    emulator.faults.retry_after_seconds = 0
    emulator.faults.script = [503, 429, "drop"]
    assert len(client.payment_parts(payment)) == 45
    emulator.revoke_tokens()
    assert len(client.payment_parts(payment)) == 45
    counters = emulator.counters
    assert counters["GET /v1/payments/{paymentKey}/parts"] == 2 + 3 + 1 + 2
    assert counters["POST /oauth/token"] == 2


def _scripted_client(pages: dict[str, object], seen: list[httpx.Request]) -> ZuoraClient:
    """A client whose transport answers the token call and then `pages` by path and query (for answers the
    emulator never gives)."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t0k3n", "token_type": "bearer", "expires_in": 3599})
        key = request.url.path + ("?" + request.url.query.decode() if request.url.query else "")
        return httpx.Response(200, content=json.dumps(pages[key]).encode())

    settings = ZuoraSettings(client_id="c", client_secret=Secret("s3cr3t-for-scripted-parts"),
                             base_url="https://rest.test.zuora.com", max_retries=0)  # fmt: skip
    return ZuoraClient(settings, transport=httpx.MockTransport(answer))


def test_client_follows_next_page_only_on_its_own_host() -> None:
    seen: list[httpx.Request] = []
    first = "/v1/payments/P-1/parts?pageSize=40"
    second = "/v1/payments/P-1/parts?page=2&pageSize=40"
    pages = {
        first: {"parts": [{"id": "a", "amount": 1.0}], "success": True,
                "nextPage": "https://elsewhere.example/v1/payments/P-1/parts?page=2&pageSize=40"},
        second: {"parts": [{"id": "b", "amount": 2.0}], "success": True},
    }  # fmt: skip
    with _scripted_client(pages, seen) as client:
        assert [p["id"] for p in client.payment_parts("P-1")] == ["a", "b"]
    assert {urlsplit(str(r.url)).netloc for r in seen} == {"rest.test.zuora.com"}


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ({"success": False, "processId": "X", "reasons": [{"code": 50000040, "message": "Cannot find entity"}]},
         "HTTP 200: 50000040: Cannot find entity"),
        ({"parts": [{"id": "a"}], "success": True, "nextPage": "/v1/payments/P-1/parts?pageSize=40"},
         "nextPage already read"),
        ({"parts": {"id": "a"}, "success": True}, "not a list"),
    ],
)  # fmt: skip
def test_client_refuses_failures_inside_http_200(answer: dict[str, object], fragment: str) -> None:
    client = _scripted_client({"/v1/payments/P-1/parts?pageSize=40": answer}, [])
    with client, pytest.raises(ZuoraError) as caught:
        client.payment_parts("P-1")
    assert fragment in str(caught.value)


def test_a_payment_applies_to_debit_memos_at_most_their_open_balance(
    emulator: ZuoraEmulator, raw: httpx.Client
) -> None:
    store = emulator.store
    account = store.add("Account", {"Name": "Memo Co", "Currency": "USD", "Status": "Active"})
    method = store.add("PaymentMethod", {"AccountId": account, "Type": "Check"})
    invoice = store.add("Invoice", {"AccountId": account, "Status": "Posted", "Amount": 50.0, "Balance": 50.0})
    memo = store.add("DebitMemo", {"AccountId": account, "Status": "Posted", "Amount": 30.0, "Balance": 30.0})
    body = {"accountId": account, "amount": 80.0, "currency": "USD", "effectiveDate": "2024-12-01",
            "type": "External", "paymentMethodId": method, "invoices": [{"invoiceId": invoice, "amount": 50.0}],
            "debitMemos": [{"debitMemoId": memo, "amount": 30.01}]}  # fmt: skip
    refused = raw.post("/v1/payments", json=body).json()
    assert refused["success"] is False and "exceeds the open balance 30.00 of debit memo" in json.dumps(refused)
    assert store.all("Payment") == [] and store.get("Invoice", invoice)["Balance"] == 50.0  # all or nothing
    body["debitMemos"] = [{"debitMemoId": memo, "amount": 30.0}]
    created = raw.post("/v1/payments", json=body).json()
    assert created["success"] is True
    parts = {(p.get("InvoiceId"), p.get("DebitMemoId"), p["Amount"]) for p in store.all("PaymentPart")}
    assert parts == {(invoice, None, 50.0), (None, memo, 30.0)}
    assert (store.get("Invoice", invoice)["Balance"], store.get("DebitMemo", memo)["Balance"]) == (0.0, 0.0)
