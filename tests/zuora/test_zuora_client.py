"""The Zuora client against the emulator over real sockets: auth, paging, retries, idempotency, batches."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest

from zns_sync.config import Secret
from zns_sync.sandbox.zuora_server import ZuoraEmulator
from zns_sync.zuora import ZuoraAuthError, ZuoraClient, ZuoraError, ZuoraQueryError, zoql

ClientFactory = Callable[..., ZuoraClient]


def _accounts(emulator: ZuoraEmulator, count: int) -> list[str]:
    return [emulator.store.add("Account", {"Name": f"Account {i}", "Currency": "USD"}) for i in range(count)]


def _posted_invoice(emulator: ZuoraEmulator, status: str = "Posted") -> str:
    return emulator.store.add("Invoice", {"InvoiceNumber": "INV1", "Status": status, "Amount": 10.0})


def test_token_is_cached_then_refreshed_shortly_before_expiry(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    _accounts(emulator, 1)
    emulator.faults.token_ttl_seconds = 1
    assert len(list(client.query("select Id from Account"))) == 1
    assert len(list(client.query("select Id from Account"))) == 1
    assert emulator.counters["POST /oauth/token"] == 1
    time.sleep(1.0)
    assert len(list(client.query("select Id from Account"))) == 1
    assert emulator.counters["POST /oauth/token"] == 2


def test_a_revoked_token_is_refreshed_once_and_the_call_replayed(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    _accounts(emulator, 2)
    assert len(list(client.query("select Id from Account"))) == 2
    emulator.revoke_tokens()
    assert len(list(client.query("select Id from Account"))) == 2
    counters = emulator.counters
    assert counters["POST /oauth/token"] == 2
    assert counters["POST /v1/action/query"] == 3


def test_bad_credentials_raise_auth_error_naming_zuora_without_the_secret(
    emulator: ZuoraEmulator, make_client: ClientFactory, client_secret: str
) -> None:
    wrong = "Wr0ng-secret-that-must-never-leak-000"
    client = make_client(client_secret=Secret(wrong))
    with pytest.raises(ZuoraAuthError) as caught:
        list(client.query("select Id from Account"))
    text = str(caught.value)
    assert "Zuora" in text and emulator.url in text and "401" in text
    assert wrong not in text and client_secret not in text
    assert caught.value.exit_code == 2
    assert emulator.counters.get("POST /v1/action/query", 0) == 0


def test_query_streams_across_query_more_pages(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    ids = _accounts(emulator, 4500)
    pages = list(client.query_pages("select Id, Name from Account"))
    assert [len(p) for p in pages] == [2000, 2000, 500]
    assert sorted(r["Id"] for p in pages for r in p) == sorted(ids)
    counters = emulator.counters
    assert counters["POST /v1/action/query"] == 1 and counters["POST /v1/action/queryMore"] == 2
    assert sum(1 for _ in client.query("select Id from Account where Name like 'Account 1%'")) == 1111


def test_page_size_is_sent_as_conf_batch_size(emulator: ZuoraEmulator, make_client: ClientFactory) -> None:
    _accounts(emulator, 20)
    pages = list(make_client(page_size=7).query_pages("select Id from Account"))
    assert [len(p) for p in pages] == [7, 7, 6]


def test_429_is_retried_after_the_retry_after_delay(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    _accounts(emulator, 3)
    emulator.faults.retry_after_seconds = 1
    emulator.faults.script = [429]
    started = time.monotonic()
    assert len(list(client.query("select Id from Account"))) == 3
    assert time.monotonic() - started >= 1.0
    assert emulator.counters["rate_limited"] == 1
    assert emulator.counters["POST /v1/action/query"] == 2


def test_5xx_and_dropped_connections_are_retried(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    _accounts(emulator, 3)
    emulator.faults.script = [503, "drop", 502, 500]
    assert len(list(client.query("select Id from Account"))) == 3
    counters = emulator.counters
    assert counters["errors_injected"] == 3 and counters["dropped"] == 1
    assert counters["POST /v1/action/query"] == 5


def test_retries_are_bounded_then_a_zuora_error_is_raised(emulator: ZuoraEmulator, make_client: ClientFactory) -> None:
    client = make_client(max_retries=2)
    emulator.faults.error_every = 1
    with pytest.raises(ZuoraError) as caught:
        list(client.query("select Id from Account"))
    assert caught.value.status == 503 and "3 attempts" in str(caught.value)
    assert emulator.counters["POST /v1/action/query"] == 3


def test_random_faults_with_a_seed_still_converge(emulator: ZuoraEmulator, make_client: ClientFactory) -> None:
    ids = _accounts(emulator, 30)
    emulator.faults.seed = 3
    emulator.faults.error_rate = 0.2
    emulator.faults.drop_rate = 0.1
    emulator.faults.rate_limit_rate = 0.1
    emulator.faults.retry_after_seconds = 0
    client = make_client(max_retries=10, page_size=5)
    assert sorted(r["Id"] for r in client.query("select Id from Account")) == sorted(ids)


def test_a_lost_create_response_is_retried_with_the_same_key_and_applied_once(
    emulator: ZuoraEmulator, client: ZuoraClient
) -> None:
    account = _accounts(emulator, 1)[0]
    method = emulator.store.add("PaymentMethod", {"AccountId": account, "Type": "Check"})
    emulator.faults.script = ["drop-after"]
    payment = {"AccountId": account, "Amount": 12.5, "Type": "External", "EffectiveDate": "2024-02-01",
               "PaymentMethodId": method}  # fmt: skip
    results = client.create("Payment", [payment])
    assert [r.success for r in results] == [True]
    assert emulator.store.count("Payment") == 1
    assert emulator.store.get("Payment", str(results[0].id)) is not None
    creates = [r for r in emulator.requests_seen if r.path == "/v1/action/create"]
    assert len(creates) == 2
    assert creates[0].headers["idempotency-key"] == creates[1].headers["idempotency-key"]
    assert emulator.counters["idempotent_replays"] == 1 and emulator.counters["objects_written"] == 1


def test_51_objects_are_sent_in_two_calls_with_distinct_keys(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    results = client.create("Account", [{"Name": f"New {i}", "Currency": "EUR", "BillCycleDay": 1} for i in range(51)])
    assert len(results) == 51 and all(r.success for r in results)
    assert len({r.id for r in results}) == 51
    assert emulator.counters["POST /v1/action/create"] == 2
    keys = {r.headers["idempotency-key"] for r in emulator.requests_seen if r.path == "/v1/action/create"}
    assert len(keys) == 2
    names = [emulator.store.get("Account", str(r.id))["Name"] for r in results]  # type: ignore[index]
    assert names == [f"New {i}" for i in range(51)]


def test_per_object_failures_are_save_results_in_order(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    posted, draft = _posted_invoice(emulator), _posted_invoice(emulator, "Draft")
    results = client.update(
        "Invoice",
        [
            {"Id": posted, "TransferredToAccounting": "Processing", "IntegrationStatus__NS": "Creating"},
            {"Id": "2c92c0f9602fb240016049ac7e0b0000", "IntegrationStatus__NS": "Creating"},
            {"Id": draft, "TransferredToAccounting": "Processing"},
            {"Id": posted, "IntegrationId__NS": "x" * 256},
            {"Id": posted, "TransferredToAccounting": "No"},
        ],
    )
    assert [r.success for r in results] == [True, False, False, False, False]
    assert results[0].id == posted and results[0].message == ""
    assert results[1].errors[0].code == "INVALID_ID" and results[1].id == "2c92c0f9602fb240016049ac7e0b0000"
    assert "Posted" in results[2].message
    assert "255" in results[3].message and "TransferredToAccounting" in results[4].message
    assert emulator.counters["POST /v1/action/update"] == 1  # the last two were refused before sending
    stored = emulator.store.get("Invoice", posted)
    assert stored is not None and stored["TransferredToAccounting"] == "Processing"
    assert "IntegrationId__NS" not in stored


@pytest.mark.parametrize(
    ("query", "code", "fragment"),
    [
        ("SELECT Id FROM Account", "MALFORMED_QUERY", "lower case"),
        ("select * from Account", "MALFORMED_QUERY", "wildcard"),
        ("select Id from Account where (Name = 'a' or Name = 'b')", "MALFORMED_QUERY", "parentheses"),
        ("select Id, Nonsense from Account", "INVALID_FIELD", "Nonsense"),
        ("select Id from Nowhere", "MALFORMED_QUERY", "Nowhere"),
        ("select Id from Invoice where InvoiceDate = '2024-01-01T00:00:00Z'", "INVALID_VALUE", "InvoiceDate"),
        ("select Id from Account where Name = AccountNumber", "MALFORMED_QUERY", "two fields"),
        ("select Id from CreditMemo", "MALFORMED_QUERY", "CreditMemo"),
    ],
)
def test_zoql_errors_surface_as_query_errors_with_zuoras_message(
    client: ZuoraClient, query: str, code: str, fragment: str
) -> None:
    with pytest.raises(ZuoraQueryError) as caught:
        list(client.query(query))
    assert caught.value.code == code and caught.value.status == 400
    assert fragment in str(caught.value) and "Zuora rejected the query" in str(caught.value)
    assert caught.value.zuora_message and caught.value.zuora_message in str(caught.value)


def test_get_returns_a_flat_object_or_none(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    account = _accounts(emulator, 1)[0]
    record = client.get("Account", account)
    assert record is not None and record["Name"] == "Account 0" and record["Id"] == account
    assert client.get("Account", "2c92c0f9602fb240016049ac7e0b0000") is None
    charge = emulator.store.add("ProductRatePlanCharge", {"Name": "Gold"})
    assert client.get("ProductRatePlanCharge", charge) is not None
    assert emulator.counters["GET /v1/object/product-rate-plan-charge"] == 1


def test_put_updates_one_object_and_moves_updated_date(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    invoice = _posted_invoice(emulator)
    before = emulator.store.get("Invoice", invoice)
    assert before is not None
    result = client.put("Invoice", invoice, {"TransferredToAccounting": "Yes", "SyncDate__NS": "2024-02-01"})
    after = emulator.store.get("Invoice", invoice)
    assert result.success and result.id == invoice
    assert after is not None and after["TransferredToAccounting"] == "Yes"
    assert after["UpdatedDate"] > before["UpdatedDate"]
    assert not client.put("Invoice", invoice, {"TransferredToAccounting": "Maybe"}).success
    draft = _posted_invoice(emulator, "Draft")
    refused = client.put("Invoice", draft, {"TransferredToAccounting": "Yes"})
    assert not refused.success and refused.errors[0].code == "INVALID_VALUE"
    missing = client.put("Invoice", "2c92c0f9602fb240016049ac7e0b0000", {"Comments": "x"})
    assert not missing.success and missing.errors[0].code == "NOT_FOUND"


def test_concurrent_callers_share_one_token(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    _accounts(emulator, 10)
    emulator.faults.latency_seconds = 0.01
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                assert len(list(client.query("select Id from Account"))) == 10
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert emulator.counters["POST /oauth/token"] == 1
    assert emulator.counters["max_in_flight"] > 1


def test_no_secret_or_token_in_debug_logs(
    emulator: ZuoraEmulator, client: ZuoraClient, caplog: pytest.LogCaptureFixture, client_secret: str
) -> None:
    _accounts(emulator, 1)
    caplog.set_level(logging.DEBUG)
    list(client.query(zoql.select("Account", ["Id"], [[zoql.eq("Name", "Account 0")]])))
    emulator.revoke_tokens()
    client.update("Account", [{"Id": emulator.store.all("Account")[0]["Id"], "Notes": "n"}])
    assert "Zuora POST /v1/action/query -> 200" in caplog.text
    assert client_secret not in caplog.text
    for record in emulator.requests_seen:
        token = record.headers.get("authorization", "").removeprefix("Bearer ")
        if token:
            assert token not in caplog.text


def test_unreachable_zuora_is_a_transport_error(make_client: ClientFactory) -> None:
    client = make_client(base_url="http://127.0.0.1:9", max_retries=1)
    with pytest.raises(ZuoraError, match="cannot reach Zuora"):
        client.get("Account", "x")


def test_none_values_clear_fields_through_fields_to_null(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    invoice = emulator.store.add(
        "Invoice", {"Status": "Posted", "IntegrationStatus__NS": "Error", "IntegrationId__NS": "12"}
    )
    (result,) = client.update(
        "Invoice",
        [{"Id": invoice, "IntegrationStatus__NS": None, "Comments": "retry", "DueDate": dt.date(2024, 3, 1),
          "Amount": Decimal("10.50"), "PostedDate": dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)}],
    )  # fmt: skip
    assert result.success
    stored = emulator.store.get("Invoice", invoice)
    assert stored is not None and "IntegrationStatus__NS" not in stored
    assert stored["DueDate"] == dt.date(2024, 3, 1) and stored["Amount"] == 10.5
    assert stored["PostedDate"] == dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)
    assert stored["IntegrationId__NS"] == "12" and stored["Comments"] == "retry"
    rows = list(client.query(zoql.select("Invoice", ["Id"], [[zoql.is_null("IntegrationStatus__NS")]])))
    assert [r["Id"] for r in rows] == [invoice]


def test_the_emulator_accepts_dozens_of_connections_opened_at_once(emulator: ZuoraEmulator) -> None:
    """A run opens up to `zuora.max_connections` (40) connections at once: the emulators' listen backlog takes them
    all (socketserver's default of 5 left the 6th onwards waiting for a SYN resent a second later)."""
    host, port = emulator.url.removeprefix("http://").split(":")
    took: list[float] = []

    def connect() -> None:
        began = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=5):
            took.append(time.monotonic() - began)

    threads = [threading.Thread(target=connect) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(took) == 64 and max(took) < 0.5


@pytest.mark.parametrize("max_connections", [None, 6])
def test_many_callers_share_kept_alive_connections_within_zuoras_concurrency_limit(
    emulator: ZuoraEmulator, make_client: Callable[..., ZuoraClient], max_connections: int | None
) -> None:
    """A run's lookups, REST reads, claims and write-backs call Zuora from many threads at once: each connection is
    kept alive (never opened again per request: a TLS handshake each against Zuora), and no more requests are in
    flight than `zuora.max_connections`: by default Zuora's default tenant limit of 40 (more would answer 429)."""
    client = make_client() if max_connections is None else make_client(max_connections=max_connections)
    limit = max_connections or 40
    emulator.store.add("Account", {"Name": "A"})
    emulator.faults.latency_seconds = 0.02
    emulator.reset_counters()
    callers = 48

    def call(_: int) -> None:
        for _ in range(4):
            assert len(list(client.query("select Id from Account"))) == 1

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counters = emulator.counters
    assert counters["max_in_flight"] <= limit
    if max_connections is not None:  # the cap, not the callers, held it back
        assert counters["max_in_flight"] == limit
    assert counters["connections"] <= limit + 1  # (the token's, if it was not asked for before)
