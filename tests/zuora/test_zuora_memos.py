"""Credit and debit memos over REST (Invoice Settlement): the emulator's answers and the client's paging and bulk
updates, over real sockets; and the Invoice Settlement switch of the tenant."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs

import httpx
import pytest

from zns_sync.sandbox.zuora_server import ZuoraEmulator
from zns_sync.zuora import ZUORA_VERSION, ZuoraClient, ZuoraError, ZuoraQueryError

MODERN = {"Zuora-Version": ZUORA_VERSION}


def _credit_memo(emulator: ZuoraEmulator, number: str, **fields: object) -> str:
    """A Posted credit memo of 10 with one item (and its tax) applied to a new invoice for 6."""
    store = emulator.store
    account = store.add("Account", {"Name": "Acme", "AccountNumber": "A-1"})
    memo = store.add("CreditMemo", {"AccountId": account, "MemoNumber": number, "Amount": 10.0, "Status": "Posted",
                                    "MemoDate": dt.date(2024, 3, 1), **fields})  # fmt: skip
    item = store.add("CreditMemoItem", {"CreditMemoId": memo, "Amount": 9.0, "AmountWithoutTax": 9.0,
                                        "SourceItemType": "SubscriptionComponent",
                                        "SourceItemId": "rpc-1"})  # fmt: skip
    store.add("CreditTaxationItem", {"CreditMemoId": memo, "CreditMemoItemId": item, "TaxAmount": 1.0,
                                     "AccountingCode": "-8", "Name": "VAT"})  # fmt: skip
    invoice = store.add("Invoice", {"Status": "Posted", "Amount": 20.0})
    store.add("CreditMemoPart", {"CreditMemoId": memo, "InvoiceId": invoice, "Amount": 6.0})
    return memo


def test_memos_page_by_forty_with_their_filters_and_read_no_for_a_blank_tta(
    emulator: ZuoraEmulator, client: ZuoraClient
) -> None:
    for n in range(45):
        _credit_memo(emulator, f"CM{n:05d}", TransferredToAccounting="Yes" if n % 9 == 0 else None)
    _credit_memo(emulator, "CM-DRAFT", Status="Draft")
    pages = list(client.memos("creditmemos", {"status": "Posted", "transferredToAccounting": "No"}))
    assert [len(p) for p in pages] == [40]
    assert {m["status"] for m in pages[0]} == {"Posted"} and {m["transferredToAccounting"] for m in pages[0]} == {"No"}
    everything = [m for page in client.memos("creditmemos", {"status": "Posted"}) for m in page]
    assert len(everything) == 45 and len({m["id"] for m in everything}) == 45
    seen = [r for r in emulator.requests_seen if r.path == "/v1/creditmemos"]
    assert [parse_qs(r.query) for r in seen[1:]] == [
        {"status": ["Posted"], "pageSize": ["40"], "page": ["1"]},
        {"status": ["Posted"], "pageSize": ["40"], "page": ["2"]},
    ]
    assert client.memo_page("creditmemos", {"status": "Posted"}, 2) == (everything[40:], False)
    assert client.memo_page("creditmemos", {"status": "Posted"}, 1) == (everything[:40], True)
    first = everything[0]
    assert (first["number"], first["accountNumber"], first["amount"], first["creditMemoDate"]) == (
        "CM00000", "A-1", 10.0, "2024-03-01")  # fmt: skip
    assert first["IntegrationStatus__NS"] is None and "Origin__NS" in first
    assert client.memo("creditmemos", "CM00001")["id"] == everything[1]["id"]
    assert list(client.memos("creditmemos", {"transferredToAccounting": None})) == [[]]  # blank reads No


def test_items_carry_their_taxation_items_by_version_and_parts_name_what_the_memo_pays(
    emulator: ZuoraEmulator, client: ZuoraClient, raw: httpx.Client
) -> None:
    memo = _credit_memo(emulator, "CM1")
    (item,) = client.memo_items("creditmemos", "CM1")
    assert (item["amountWithoutTax"], item["sourceItemType"], item["sourceItemId"]) == (
        9.0, "SubscriptionComponent", "rpc-1")  # fmt: skip
    (tax,) = item["taxationItems"]["data"]
    assert tax["taxAmount"] == 1.0 and tax["financeInformation"] == {"salesTaxPayableAccountingCode": "-8"}
    legacy = raw.get(f"/v1/creditmemos/{memo}/items").json()["items"][0]  # no Zuora-Version: 186.0
    assert "taxationItems" not in legacy and legacy["creditTaxItems"][0]["taxAmount"] == 1.0
    (part,) = client.credit_memo_parts(memo)
    invoice = emulator.store.all("Invoice")[0]["Id"]
    assert (part["invoiceId"], part["debitMemoId"], part["amount"]) == (invoice, None, 6.0)


def test_bulk_updates_go_fifty_a_call_and_report_each_memo(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    memos = [_credit_memo(emulator, f"CM{n}") for n in range(52)]
    updates = [{"id": m, "IntegrationStatus__NS": "Creating Credit Memo", "transferredToAccounting": "Processing"}
               for m in memos]  # fmt: skip
    updates[3] = {"id": "2c92c0f9602fb240016049ac7e0b0000", "IntegrationStatus__NS": "Sync Complete"}
    updates[51] = {"id": memos[51], "transferredToAccounting": "Maybe"}
    results = client.update_memos("creditmemos", updates)
    assert [r.success for r in results] == [i not in (3, 51) for i in range(52)]
    assert results[3].id == updates[3]["id"] and "50000040" in results[3].message
    assert "transferredToAccounting" in results[51].message
    assert emulator.counters["PUT /v1/creditmemos/bulk"] == 2
    stored = emulator.store.get("CreditMemo", memos[0])
    assert stored is not None
    assert stored["IntegrationStatus__NS"] == "Creating Credit Memo"
    assert stored["TransferredToAccounting"] == "Processing"
    assert not client.update_memos("creditmemos", [{"id": memos[0], "IntegrationId__NS": "x" * 256}])[0].success
    assert emulator.counters["PUT /v1/creditmemos/bulk"] == 2  # refused before sending


def test_debit_memos_are_served_the_same_way(emulator: ZuoraEmulator, client: ZuoraClient) -> None:
    memo = emulator.store.add("DebitMemo", {"MemoNumber": "DM1", "Amount": 25.0, "Status": "Posted",
                                            "MemoDate": dt.date(2024, 2, 1),
                                            "DueDate": dt.date(2024, 3, 1)})  # fmt: skip
    emulator.store.add("DebitMemoItem", {"DebitMemoId": memo, "AmountWithoutTax": 25.0, "SourceItemId": "prpc",
                                         "SourceItemType": "ProductRatePlanCharge"})  # fmt: skip
    ((read,),) = client.memos("debitmemos", {"status": "Posted"})
    assert (read["id"], read["debitMemoDate"], read["dueDate"], read["transferredToAccounting"]) == (
        memo, "2024-02-01", "2024-03-01", "No")  # fmt: skip
    assert client.memo_items("debitmemos", "DM1")[0]["taxationItems"] == {"data": []}
    (result,) = client.update_memos("debitmemos", [{"id": memo, "IntegrationId__NS": "901", "SyncDate__NS": "now"}])
    assert result.success and emulator.store.get("DebitMemo", memo)["IntegrationId__NS"] == "901"  # type: ignore[index]


def test_unknown_memos_and_bad_pages_are_rest_errors(client: ZuoraClient, raw: httpx.Client) -> None:
    with pytest.raises(ZuoraError) as unknown:
        client.memo_items("creditmemos", "CM-404")
    assert unknown.value.status == 404 and unknown.value.code == "50000040"
    answer = raw.get("/v1/debitmemos?pageSize=41", headers=MODERN)
    assert answer.status_code == 400 and answer.json()["reasons"][0]["code"] == 50000020


@pytest.mark.parametrize("emulator", [False], indirect=True, ids=["IS-off"])
def test_a_tenant_without_invoice_settlement_refuses_memos_and_parts_and_keeps_invoice_payments(
    emulator: ZuoraEmulator, client: ZuoraClient
) -> None:
    emulator.store.add("InvoicePayment", {"Amount": 1.0})
    for call in (lambda: list(client.memos("creditmemos", {})), lambda: client.payment_parts("P-1"),
                 lambda: client.refund("R-1")):  # fmt: skip
        with pytest.raises(ZuoraError) as refused:
            call()
        assert refused.value.status == 403 and refused.value.code == "50000010"
    assert len(list(client.query("select Id, Amount from InvoicePayment"))) == 1


def test_a_tenant_with_invoice_settlement_refuses_the_deprecated_objects_and_memos_in_zoql(
    client: ZuoraClient,
) -> None:
    for name in ("InvoicePayment", "RefundInvoicePayment", "CreditMemo", "DebitMemo", "PaymentPart"):
        with pytest.raises(ZuoraQueryError) as refused:
            list(client.query(f"select Id from {name}"))
        assert refused.value.code == "MALFORMED_QUERY"
    assert list(client.query("select Id from InvoiceItemAdjustment")) == []
