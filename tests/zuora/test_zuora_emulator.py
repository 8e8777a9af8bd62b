"""The Zuora emulator behaves like Zuora where zns-sync depends on it: ZOQL semantics, Actions, CRUD, auth."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import httpx
import pytest

from zns_sync.sandbox.zuora_server import ZuoraEmulator
from zns_sync.zuora import ZuoraClient, ZuoraQueryError, zoql

ClientFactory = Callable[..., ZuoraClient]


@pytest.fixture
def invoices(emulator: ZuoraEmulator) -> dict[str, str]:
    """Five invoices covering nulls, statuses, amounts and dates."""
    add = emulator.store.add
    return {
        "a": add("Invoice", {"InvoiceNumber": "A", "Status": "Posted", "Amount": 100.0, "InvoiceDate": "2024-01-05",
                             "IntegrationStatus__NS": "Sync Complete", "TransferredToAccounting": "Yes"}),
        "b": add("Invoice", {"InvoiceNumber": "B", "Status": "Posted", "Amount": 0.0, "InvoiceDate": "2023-12-31"}),
        "c": add("Invoice", {"InvoiceNumber": "C", "Status": "Draft", "Amount": -20.5, "InvoiceDate": "2024-02-01",
                             "IntegrationStatus__NS": "Error"}),
        "d": add("Invoice", {"InvoiceNumber": "D", "Status": "Posted", "Amount": 250.0, "InvoiceDate": "2024-03-01",
                             "TransferredToAccounting": "No", "Comments": "O'Brien, \"Smith\" & Co.\\"}),
        "e": add("Invoice", {"InvoiceNumber": "E", "Status": "Canceled", "Amount": 5.0, "InvoiceDate": "2024-01-01",
                             "PostedDate": dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)}),
    }  # fmt: skip


def _numbers(client: ZuoraClient, where: str) -> list[str]:
    return sorted(r["InvoiceNumber"] for r in client.query(f"select InvoiceNumber from Invoice where {where}"))


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Status = 'Posted' and Amount > 50 or InvoiceNumber = 'C'", ["A", "C", "D"]),
        ("InvoiceNumber = 'C' or Status = 'Posted' and Amount > 50", ["A", "C", "D"]),
        ("Status = 'Draft' or Status = 'Posted' and Amount = 0 and InvoiceDate < '2024-01-01'", ["B", "C"]),
        ("IntegrationStatus__NS != 'Sync Complete'", ["C"]),
        ("IntegrationStatus__NS = null", ["B", "D", "E"]),
        ("IntegrationStatus__NS != null", ["A", "C"]),
        ("TransferredToAccounting != 'Yes'", ["D"]),
        ("Amount < 0", ["C"]),
        ("Amount >= 100", ["A", "D"]),
        ("InvoiceDate >= '2024-01-01' and InvoiceDate <= '2024-02-01'", ["A", "C", "E"]),
        ("PostedDate > '2024-01-01T11:59:59Z'", ["E"]),
        ("PostedDate > '2024-01-01T12:00:00+00:00'", []),
        ("PostedDate < '2024-01-01T04:00:01'", ["E"]),  # no offset: the tenant's zone (UTC-8)
        ("InvoiceNumber like 'A%'", ["A"]),
        ("Comments like '%Co.\\\\'", ["D"]),
        ("Comments = 'O\\'Brien, \"Smith\" & Co.\\\\'", ["D"]),
        ("status = 'Posted' and amount = 0", ["B"]),  # field names are case-insensitive
        ("Status = 'posted'", []),  # string values are not
    ],
)
def test_filters_follow_zoql_semantics(
    client: ZuoraClient, invoices: dict[str, str], where: str, expected: list[str]
) -> None:
    assert _numbers(client, where) == expected


def test_builder_output_round_trips_awkward_strings(client: ZuoraClient, invoices: dict[str, str]) -> None:
    text = zoql.select("Invoice", ["InvoiceNumber"], [[zoql.eq("Comments", 'O\'Brien, "Smith" & Co.\\')]])
    assert [r["InvoiceNumber"] for r in client.query(text)] == ["D"]
    on = dt.datetime(2024, 1, 1, 11, 0, tzinfo=dt.UTC)
    assert _numbers(client, zoql.ge("PostedDate", on).render()) == ["E"]
    assert _numbers(client, zoql.eq("InvoiceDate", dt.date(2024, 3, 1)).render()) == ["D"]


def test_records_leave_out_nulls_and_use_zuora_renderings(client: ZuoraClient, invoices: dict[str, str]) -> None:
    rows = {r["InvoiceNumber"]: r for r in client.query("select invoicenumber, amount, postedDate, Comments, "
                                                         "InvoiceDate from Invoice")}  # fmt: skip
    assert set(rows["B"]) == {"Id", "InvoiceNumber", "Amount", "InvoiceDate"}  # Id always; nulls omitted
    assert rows["B"]["InvoiceDate"] == "2023-12-31" and rows["C"]["Amount"] == -20.5
    assert re.fullmatch(r"2024-01-01T04:00:00\.000-08:00", rows["E"]["PostedDate"])


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("select Id from Invoice Where Status = 'Posted'", "MALFORMED_QUERY"),
        ("select Id from Invoice where Status = 'Posted' AND Amount > 1", "MALFORMED_QUERY"),
        ("select Id from Invoice where Status = 'Posted' order by Amount", "MALFORMED_QUERY"),
        ("select Id from Invoice where Amount > null", "MALFORMED_QUERY"),
        ("select Id from Invoice where Amount = 'ten'", "INVALID_VALUE"),
        ("select Id from Invoice where InvoiceDate > '2024-13-45'", "INVALID_VALUE"),
        ("select Id from Invoice where PostedDate > '2024-01-01'", "INVALID_VALUE"),
        ("select Id from Invoice where InvoiceNumber like '%A%'", "INVALID_VALUE"),
        ("select Id from Invoice where Currency = 'USD'", "INVALID_FIELD"),
        ("select AppliedAmount from Payment", "INVALID_FIELD"),
        ("select Id from DebitMemo", "MALFORMED_QUERY"),
        ("select Id from Invoice where", "MALFORMED_QUERY"),
    ],
)
def test_queries_zuora_refuses(client: ZuoraClient, query: str, code: str) -> None:
    with pytest.raises(ZuoraQueryError) as caught:
        list(client.query(query))
    assert caught.value.code == code


def test_at_most_200_conditions(client: ZuoraClient, invoices: dict[str, str]) -> None:
    conditions = " or ".join(f"InvoiceNumber = '{i}'" for i in range(199))
    assert _numbers(client, conditions + " or InvoiceNumber = 'A'") == ["A"]
    with pytest.raises(ZuoraQueryError, match="200"):
        list(client.query(f"select Id from Invoice where {conditions} or Id = 'x' or Id = 'y'"))


def test_size_is_the_total_and_pages_follow_batch_size(emulator: ZuoraEmulator, raw: httpx.Client) -> None:
    for i in range(5):
        emulator.store.add("Account", {"Name": f"N{i}"})
    first = raw.post("/v1/action/query", json={"queryString": "select Name from Account", "conf": {"batchSize": 2}})
    body = first.json()
    assert (len(body["records"]), body["size"], body["done"]) == (2, 5, False)
    assert re.fullmatch(r"[0-9a-f]{32}-2", body["queryLocator"])
    more = raw.post("/v1/action/queryMore", json={"queryLocator": body["queryLocator"], "conf": {"batchSize": 5000}})
    assert (len(more.json()["records"]), more.json()["done"]) == (3, True) and "queryLocator" not in more.json()
    stale = raw.post("/v1/action/queryMore", json={"queryLocator": body["queryLocator"]})
    assert stale.status_code == 400 and stale.json()["FaultCode"] == "INVALID_QUERY_LOCATOR"


def test_invoice_item_and_taxation_item_fields_the_engine_reads(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    add = emulator.store.add
    item = add("InvoiceItem", {"InvoiceId": "inv1", "RatePlanChargeId": "rpc1", "ChargeAmount": 10.0,
                               "Quantity": 2.0, "ChargeDate": "2024-01-05T08:00:00Z", "ServiceStartDate": "2024-01-05",
                               "ServiceEndDate": "2024-02-04", "ProcessingType": 0, "ChargeName": "Gold"})  # fmt: skip
    add("TaxationItem", {"InvoiceId": "inv1", "InvoiceItemId": item, "TaxAmount": 0.83, "AccountingCode": "-8",
                         "TaxRate": 0.0825, "TaxRateType": "Percentage", "TaxRateDescription": "Sales Tax 8.25%",
                         "TaxDate": "2024-01-05", "Name": "Sales Tax"})  # fmt: skip
    fields = ["Id", "InvoiceId", "RatePlanChargeId", "ChargeAmount", "Quantity", "ChargeDate",
              "ServiceStartDate", "ServiceEndDate", "ProcessingType", "ChargeName"]  # fmt: skip
    (row,) = client.query(next(zoql.select_in("InvoiceItem", fields, "InvoiceId", ["inv1"])))
    assert row["RatePlanChargeId"] == "rpc1" and row["ChargeDate"] == "2024-01-05T00:00:00.000-08:00"
    tax_fields = ["Id", "InvoiceId", "InvoiceItemId", "TaxAmount", "AccountingCode", "TaxRate", "TaxRateType",
                  "TaxRateDescription", "TaxDate", "Name"]  # fmt: skip
    (tax,) = client.query(zoql.select("TaxationItem", tax_fields, [[zoql.eq("InvoiceId", "inv1")]]))
    assert tax["InvoiceItemId"] == item and tax["TaxAmount"] == 0.83 and tax["TaxDate"] == "2024-01-05"


def test_strict_mode_refuses_product_rate_plan_charge_id_on_invoice_item(client_secret: str) -> None:
    with ZuoraEmulator(client_id="c" * 36, client_secret=client_secret, lenient_invoice_item_fields=False) as strict:
        session = httpx.Client(base_url=strict.url)
        form = {"client_id": "c" * 36, "client_secret": client_secret, "grant_type": "client_credentials"}
        token = session.post("/oauth/token", data=form).json()["access_token"]
        answer = session.post("/v1/action/query", headers={"Authorization": f"Bearer {token}"},
                              json={"queryString": "select ProductRatePlanChargeId from InvoiceItem"})  # fmt: skip
        session.close()
    assert answer.status_code == 400 and answer.json()["FaultCode"] == "INVALID_FIELD"


def test_actions_limits_and_per_object_rules(emulator: ZuoraEmulator, raw: httpx.Client) -> None:
    too_many = raw.post("/v1/action/create", json={"type": "Account", "objects": [{"Name": "x"}] * 51})
    assert too_many.status_code == 400 and "50" in too_many.json()["FaultMessage"]
    unknown = raw.post("/v1/action/update", json={"type": "Nothing", "objects": []})
    assert unknown.status_code == 400 and unknown.json()["FaultCode"] == "INVALID_TYPE"
    memo = raw.post("/v1/action/update", json={"type": "CreditMemo", "objects": []})
    assert memo.status_code == 400
    invoice = emulator.store.add("Invoice", {"Status": "Posted", "Amount": 1.0})
    results = raw.post("/v1/action/update", json={"type": "Invoice", "objects": [
        {"Id": invoice, "TransferredToAccounting": "No"},
        {"Id": invoice, "IntegrationStatus__NS": "é" * 256},
        {"Id": invoice, "Amount": "lots"},
        {"IntegrationStatus__NS": "no id"},
        {"Id": invoice, "IntegrationStatus__NS": "é" * 255, "UnknownField": 1, "Comments": None},
    ]}).json()  # fmt: skip
    assert [r["Success"] for r in results] == [False, False, False, False, True]
    assert [r.get("Errors", [{}])[0].get("Code") for r in results[:4]] == [
        "INVALID_VALUE", "INVALID_VALUE", "INVALID_VALUE", "MISSING_REQUIRED_VALUE"]  # fmt: skip
    assert emulator.counters["objects_written"] == 1


def test_idempotency_replays_and_refuses_reuse_elsewhere(emulator: ZuoraEmulator, raw: httpx.Client) -> None:
    body = {"type": "Account", "objects": [{"Name": "Once", "Currency": "USD", "BillCycleDay": 1}]}
    first = raw.post("/v1/action/create", json=body, headers={"Idempotency-Key": "k-1"})
    again = raw.post("/v1/action/create", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.json() == again.json() and emulator.store.count("Account") == 1
    elsewhere = raw.post("/v1/action/update", json=body, headers={"Idempotency-Key": "k-1"})
    assert elsewhere.status_code == 422


def test_crud_shapes(emulator: ZuoraEmulator, raw: httpx.Client) -> None:
    missing = raw.get("/v1/object/invoice/2c92c0f9602fb240016049ac7e0b0000")
    assert missing.status_code == 404 and missing.json() == {"records": [], "size": 0, "done": True}
    invoice = emulator.store.add("Invoice", {"Status": "Posted", "InvoiceNumber": "INV9", "Amount": 3.0})
    picked = raw.get(f"/v1/object/invoice/{invoice}", params={"fields": "InvoiceNumber,Amount"}).json()
    assert picked == {"InvoiceNumber": "INV9", "Amount": 3.0}
    refused = raw.put(f"/v1/object/invoice/{invoice}", json={"IntegrationId__NS": "1" * 256})
    assert refused.status_code == 400 and refused.json()["Success"] is False
    assert raw.put(f"/v1/object/invoice/{invoice}", json={"IntegrationId__NS": "77"}).json() == {
        "Success": True, "Id": invoice}  # fmt: skip


def test_auth_answers_like_zuora(emulator: ZuoraEmulator, client_secret: str) -> None:
    with httpx.Client(base_url=emulator.url) as session:
        bad_grant = session.post(
            "/oauth/token", data={"client_id": "x", "client_secret": "y", "grant_type": "password"}
        )
        bad_secret = session.post(
            "/oauth/token", data={"client_id": "x", "client_secret": "nope", "grant_type": "client_credentials"}
        )
        no_token = session.post("/v1/action/query", json={"queryString": "select Id from Account"})
        stale = session.get("/v1/object/account/x", headers={"Authorization": "Bearer 0123456789abcdef"})
    assert bad_grant.status_code == 400 and bad_secret.status_code == 401
    assert no_token.status_code == 401 and no_token.json() == {"message": "Authentication error"}
    assert "Bearer realm=Zuora API" in no_token.headers["WWW-Authenticate"]
    assert stale.status_code == 401


def test_every_response_carries_zuora_headers(raw: httpx.Client) -> None:
    answer = raw.post("/v1/action/query", json={"queryString": "select Id from Account"},
                      headers={"Zuora-Track-Id": "track-123"})  # fmt: skip
    assert answer.status_code == 200 and answer.json() == {"records": [], "size": 0, "done": True}
    assert len(answer.headers["Zuora-Request-Id"]) == 36 and answer.headers["Zuora-Track-Id"] == "track-123"
    assert answer.headers["ratelimit-limit"].count(";w=") == 3
    assert int(answer.headers["Concurrency-Limit-Remaining"]) <= int(answer.headers["Concurrency-Limit-Limit"])


def test_rate_limit_every_nth_call(emulator: ZuoraEmulator, raw: httpx.Client) -> None:
    emulator.faults.rate_limit_every = 3
    emulator.faults.retry_after_seconds = 7
    statuses = [raw.post("/v1/action/query", json={"queryString": "select Id from Account"}) for _ in range(6)]
    assert [s.status_code for s in statuses] == [200, 200, 429, 200, 200, 429]
    limited = statuses[2]
    assert limited.headers["Retry-After"] == "7" and limited.headers["ratelimit-remaining"] == "0"


def test_concurrency_limit_and_shuffled_results(emulator: ZuoraEmulator, raw: httpx.Client) -> None:
    ids = [emulator.store.add("Account", {"Name": f"N{i}"}) for i in range(30)]
    emulator.faults.seed = 5
    emulator.faults.shuffle_results = True
    body = raw.post("/v1/action/query", json={"queryString": "select Id from Account"}).json()
    got = [r["Id"] for r in body["records"]]
    assert sorted(got) == sorted(ids) and got != ids
    emulator.faults.concurrency_limit = 0
    crowded = raw.post("/v1/action/query", json={"queryString": "select Id from Account"})
    assert crowded.status_code == 429 and crowded.headers["Retry-After"]
