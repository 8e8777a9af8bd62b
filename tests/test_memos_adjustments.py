"""Credit and debit memos (Invoice Settlement on) and invoice item adjustments (off) end to end: the real CLI and
clients against both emulators over real sockets; and the run order each mode allows."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import yaml
from checks import FIELDS, applications, assert_consistent, engine, money, problems, zns
from test_cli import assert_one_line_error

from zns_sync import sources
from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox
from zns_sync.zuora import ZuoraError

IS_ON = ("customer", "item", "invoice", "debit-memo", "credit-memo", "payment", "refund")
IS_OFF = ("customer", "item", "invoice", "payment", "refund", "adjustment")


def awkward(box: Sandbox) -> dict[str, str]:
    assert box.summary is not None
    return box.summary.awkward


def history(state: Path, source_id: str) -> list[tuple[str, str]]:
    with Journal(state) as journal:
        return [(a.action, a.outcome) for _, a, _ in journal.attempts(source_id=source_id)]


def second_run_writes_nothing(box: Sandbox, config: Path) -> None:
    writes = box.netsuite.counters["records_written"]
    again = json.loads(zns(config, "run", "--json").stdout)["types"]
    assert all(c["created"] == c["linked"] == 0 for c in again.values()), again
    assert box.netsuite.counters["records_written"] == writes


def test_memos_sync_as_netsuite_invoices_and_applied_credit_memos(box: Sandbox, config: Path, tmp_path: Path) -> None:
    first = zns(config, "run", "--json")
    assert first.returncode == 1, first.stderr
    report = json.loads(first.stdout)["types"]
    assert tuple(report) == IS_ON  # reference 2.2
    synced = assert_consistent(box)  # types, amounts, customers, applications of every synced memo
    assert synced["DebitMemo"] >= 2 and synced["CreditMemo"] >= 3
    assert report["debit-memo"]["created"] == synced["DebitMemo"]
    odd, zuora, netsuite = awkward(box), box.zuora.store, box.netsuite.store
    # A credit memo that came from NetSuite is never selected (reference 4.9).
    assert not zuora.get("CreditMemo", odd["credit_memo_from_netsuite"]).get("IntegrationStatus__NS")
    assert history(tmp_path / "state", odd["credit_memo_from_netsuite"]) == []
    # An unapplied credit memo syncs with its whole amount unapplied in NetSuite.
    unapplied = netsuite.get("CreditMemo", zuora.get("CreditMemo", odd["credit_memo_unapplied"])["IntegrationId__NS"])
    assert not applications(unapplied) and money(unapplied["unapplied"]) == money(unapplied["total"])
    # A debit memo is a NetSuite invoice, settled there by the credit memo and the payment Zuora applied to it.
    memo = zuora.get("DebitMemo", odd["debit_memo"])
    invoice = netsuite.get("Invoice", memo["IntegrationId__NS"])
    assert invoice["externalId"] == f"zuora-debit-memo-{memo['Id']}" and invoice["dueDate"]
    assert money(invoice["amountRemaining"]) == 0  # its payment applied all of it
    payment = zuora.get("Payment", odd["payment_of_debit_memo"])
    paid = netsuite.get("CustomerPayment", payment["IntegrationId__NS"])
    assert applications(paid) == {memo["IntegrationId__NS"]: money(memo["Amount"])}
    credited = zuora.get("CreditMemo", odd["credit_memo_on_debit_memo"])
    on_memo = netsuite.get("CreditMemo", credited["IntegrationId__NS"])
    assert list(applications(on_memo)) == [next(
        zuora.get("DebitMemo", p["DebitMemoId"])["IntegrationId__NS"]
        for p in zuora.all("CreditMemoPart") if p["CreditMemoId"] == credited["Id"])]  # fmt: skip
    # Tax lines go to the tax item, non-taxable (Zuora calculated the tax).
    lines = [line for r in netsuite.all("CreditMemo") + netsuite.all("Invoice") for line in r["itemList"]["item"]
             if line["customFieldList"][FIELDS.line_item_type] == "Tax"]  # fmt: skip
    assert lines and {line["item"]["internalId"] for line in lines} == {str(box.reference["tax_item"])}
    # Memos are read 40 a page with the filters their lists take, and written back through PUT /bulk.
    lists = [r for r in box.zuora.requests_seen if r.path in ("/v1/creditmemos", "/v1/debitmemos")]
    assert {parse_qs(r.query)["pageSize"][0] for r in lists} == {"40"}
    assert {parse_qs(r.query)["status"][0] for r in lists} == {"Posted"}
    assert not [r for r in lists if r.path == "/v1/debitmemos" and "transferredToAccounting" in r.query]
    assert box.zuora.counters["PUT /v1/creditmemos/bulk"] >= 2 and box.zuora.counters["PUT /v1/debitmemos/bulk"] >= 2
    second_run_writes_nothing(box, config)


@pytest.mark.parametrize("box", [False], indirect=True, ids=["IS-off"])
def test_adjustments_sync_as_credit_memos_and_invoices(box: Sandbox, config: Path, tmp_path: Path) -> None:
    first = zns(config, "run", "--json")
    assert first.returncode == 1, first.stderr
    report = json.loads(first.stdout)["types"]
    assert tuple(report) == IS_OFF  # reference 2.1
    synced = assert_consistent(box)  # credit: applied to its invoice; charge: soft link; amounts and customers
    assert synced["InvoiceItemAdjustment"] >= 4 and report["adjustment"]["created"] == synced["InvoiceItemAdjustment"]
    odd, zuora, netsuite = awkward(box), box.zuora.store, box.netsuite.store
    statuses = {label: zuora.get("InvoiceItemAdjustment", odd[label]) for label in odd if label.startswith("adjust")}
    assert statuses["adjustment_credit"]["IntegrationStatus__NS"] == "Sync Complete"
    charge = statuses["adjustment_charge"]
    assert charge["IntegrationStatus__NS"] == "Sync Complete"
    assert netsuite.get("Invoice", charge["IntegrationId__NS"])["externalId"] == f"zuora-adjustment-{charge['Id']}"
    tax = statuses["adjustment_of_tax"]
    record = netsuite.get("CreditMemo", tax["IntegrationId__NS"])
    (line,) = record["itemList"]["item"]
    assert line["item"]["internalId"] == str(box.reference["tax_item"]) and line["isTaxable"] is False
    held_back = problems(tmp_path / "state")
    assert held_back[odd["adjustment_of_negative_invoice"]] == "skipped"
    assert not statuses["adjustment_canceled"].get("IntegrationStatus__NS")
    assert history(tmp_path / "state", odd["adjustment_canceled"]) == []
    second_run_writes_nothing(box, config)


def test_payments_and_credit_memos_wait_for_what_they_settle_and_refunds_reach_debit_memos(
    box: Sandbox, config: Path, tmp_path: Path
) -> None:
    odd = awkward(box)
    assert zns(config, "run", "--quiet", "--type", "customer", "--type", "item", "--type", "payment").returncode == 1
    state = tmp_path / "state"
    assert problems(state)[odd["payment_of_debit_memo"]] == "blocked"
    with Journal(state) as journal:
        (waiting,) = [a.message for _, a, _ in journal.attempts(source_id=odd["payment_of_debit_memo"])]
    number = box.zuora.store.get("DebitMemo", odd["debit_memo"])["MemoNumber"]
    assert waiting == f"debit memo {number} ({odd['debit_memo']}) is not synced to NetSuite yet"
    assert zns(config, "run", "--quiet", "--type", "credit-memo").returncode == 1
    assert problems(state)[odd["credit_memo_on_debit_memo"]] == "blocked"
    assert problems(state)[odd["credit_memo"]] == "blocked"  # its invoice is not synced yet
    assert zns(config, "run", "--quiet").returncode == 1
    for object_type, key in (("Payment", "payment_of_debit_memo"), ("CreditMemo", "credit_memo_on_debit_memo")):
        assert box.zuora.store.get(object_type, odd[key])["IntegrationStatus__NS"] == "Sync Complete"
    assert_consistent(box)
    # A refund of part of that payment takes it back from the debit memo: what stays applied is the part now.
    store = box.zuora.store
    payment = store.get("Payment", odd["payment_of_debit_memo"])
    (part,) = [p for p in store.all("PaymentPart") if p["PaymentId"] == payment["Id"]]
    share = round(float(part["Amount"]) / 2, 2)
    store.add("Refund", {"RefundNumber": "R-DM", "AccountId": payment["AccountId"], "Amount": share,
                         "RefundDate": payment["EffectiveDate"], "Type": payment["Type"], "SourceType": "Payment",
                         "MethodType": store.get("PaymentMethod", payment["PaymentMethodId"])["Type"],
                         "Status": "Processed", "PaymentId": payment["Id"]})  # fmt: skip
    store.set("PaymentPart", part["Id"], {"Amount": round(float(part["Amount"]) - share, 2)})
    store.set("Payment", payment["Id"], {"RefundAmount": share})
    ran = json.loads(zns(config, "run", "--json", "--type", "refund").stdout)["types"]["refund"]
    assert ran["created"] == 1 and ran["errors"] == 0
    paid = box.netsuite.store.get("CustomerPayment", payment["IntegrationId__NS"])
    memo = store.get("DebitMemo", odd["debit_memo"])
    assert applications(paid) == {memo["IntegrationId__NS"]: money(part["Amount"]) - money(share)}
    assert_consistent(box)


def test_memos_recover_link_and_preview_like_every_record(box: Sandbox, config: Path, tmp_path: Path) -> None:
    preview = json.loads(zns(config, "run", "--dry-run", "--json", "--type", "credit-memo").stdout)["records"]
    assert {r["action"] for r in preview} == {"blocked", "excluded"}  # accounts not synced yet; or never synced
    zns(config, "run", "--quiet")
    synced = assert_consistent(box)
    store = box.zuora.store
    lost, blanked = [m for m in store.all("CreditMemo") if m.get("IntegrationStatus__NS") == "Sync Complete"][:2]
    # A crash after NetSuite committed, before the status came back; and a status blanked by hand.
    store.set("CreditMemo", lost["Id"], {"IntegrationStatus__NS": "Creating Credit Memo", "IntegrationId__NS": None,
                                         "TransferredToAccounting": "Processing"})  # fmt: skip
    store.set("CreditMemo", blanked["Id"], {"IntegrationStatus__NS": None, "IntegrationId__NS": None,
                                            "TransferredToAccounting": None})  # fmt: skip
    recovered = json.loads(zns(config, "recover", "--json", "--type", "credit-memo").stdout)["credit-memo"]
    assert (recovered["found"], recovered["not_found"]) == ({lost["Id"]: lost["IntegrationId__NS"]}, [])
    ran = json.loads(zns(config, "run", "--json", "--type", "credit-memo").stdout)["types"]["credit-memo"]
    assert (ran["linked"], ran["created"]) == (1, 0)  # DUP_RCRD on the externalId: linked, never twice
    assert assert_consistent(box) == synced
    status = json.loads(zns(config, "status", "--json", "--type", "credit-memo").stdout)["credit-memo"]
    in_scope = [m for m in store.all("CreditMemo") if m["Status"] == "Posted" and m.get("Origin__NS") != "NETSUITE"]
    assert status["statuses"]["Sync Complete"] == synced["CreditMemo"]
    assert sum(status["statuses"].values()) == len(in_scope) < store.count("CreditMemo")


def test_a_type_the_configuration_cannot_run_is_refused_and_the_order_stops_after_billing(tmp_path: Path) -> None:
    with Sandbox(invoices=4, seed=1) as box:
        config = tmp_path / "zns-sync.yaml"
        box.write_config(config, tmp_path / "state")
        _refused_and_ordered(config)


def _refused_and_ordered(config: Path) -> None:
    adjustment = zns(config, "status", "--type", "adjustment")
    assert_one_line_error(adjustment, 2, "--type adjustment: runs only with Invoice Settlement off")
    for settlement, order in ((True, IS_ON[:4]), (False, IS_OFF[:3])):  # reference 2.1, 2.2, 7.2
        data = yaml.safe_load(config.read_text())
        data["sync"].update(invoice_settlement=settlement, standard_invoice_sync=False)
        config.write_text(yaml.safe_dump(data))
        status = zns(config, "status", "--json")
        assert tuple(json.loads(status.stdout)) == order, status.stderr
        refused = zns(config, "run", "--type", "payment")
        assert_one_line_error(refused, 2, "--type payment: does not run when NetSuite calculates tax")


def test_more_memos_than_a_list_page_sync_in_one_run_each_once(box: Sandbox, config: Path, tmp_path: Path) -> None:
    assert zns(config, "run", "--quiet", "--type", "customer", "--type", "item").returncode == 1
    data = yaml.safe_load(config.read_text())
    data["netsuite"]["batch_size"] = 10  # claims land while the next list page is read
    config.write_text(yaml.safe_dump(data))
    store = box.zuora.store
    account = next(a for a in store.all("Account") if a.get("IntegrationStatus__NS") == "Sync Complete")
    charge = next(c for c in store.all("ProductRatePlanCharge") if c.get("IntegrationStatus__NS") == "Sync Complete")
    added = []
    for n in range(95):  # more than two pages of 40, whose lists shrink as the run claims them
        memo = store.add("CreditMemo", {"AccountId": account["Id"], "MemoNumber": f"CM-X{n}", "Amount": 1.0 + n,
                                        "Status": "Posted", "MemoDate": "2024-06-01",
                                        "TransferredToAccounting": "Error" if n % 7 == 0 else None})  # fmt: skip
        store.add("CreditMemoItem", {"CreditMemoId": memo, "AmountWithoutTax": 1.0 + n, "SourceItemId": charge["Id"],
                                     "SourceItemType": "ProductRatePlanCharge"})  # fmt: skip
        added.append(memo)
    ran = json.loads(zns(config, "run", "--json", "--type", "credit-memo").stdout)["types"]["credit-memo"]
    assert ran["created"] >= 95 and ran["linked"] == 0
    with Journal(tmp_path / "state") as journal:
        attempts = [a for _, a, _ in journal.attempts() if a.source_id in added]
    assert sorted(a.source_id for a in attempts) == sorted(added)  # each claimed and written once
    assert {store.get("CreditMemo", m)["IntegrationStatus__NS"] for m in added} == {"Sync Complete"}
    again = json.loads(zns(config, "run", "--json", "--type", "credit-memo").stdout)["types"]["credit-memo"]
    assert again["created"] == again["linked"] == 0


def test_a_memo_list_is_read_several_pages_at_once_each_memo_once_in_order(tmp_path: Path) -> None:
    """Zuora's memo lists give no total: page 1 alone, then 2, 4, 8, 16 pages at once, until the first page with no
    nextPage. 600 memos were 15 pages one after another (0.9 s of Zuora calls at 10,000 invoices)."""
    with Sandbox(invoices=20, seed=5) as box:
        store = box.zuora.store
        account = next(iter(store.all("Account")))["Id"]
        for n in range(601):
            store.add("DebitMemo", {"AccountId": account, "MemoNumber": f"DM-X{n:04d}", "Amount": 1.0,
                                    "Status": "Posted", "MemoDate": "2024-06-01"})  # fmt: skip
        with engine(box, tmp_path / "state") as e:
            zuora, context = e.context.zuora, e.context
            one_by_one = [m["id"] for page in zuora.memos("debitmemos", {"status": "Posted"}) for m in page]
            pages = -(-len(one_by_one) // 40)
            assert len(one_by_one) == len(set(one_by_one)) >= 601 and pages >= 16
            box.zuora.faults.latency_seconds = 0.1
            box.zuora.reset_counters()
            read = functools.partial(zuora.memo_page, "debitmemos", {"status": "Posted"})
            listed = [m["id"] for page in context.paged(read) for m in page]
        assert listed == one_by_one
        counters = box.zuora.counters
        assert 8 < counters["max_in_flight"] <= 16  # LIST_AHEAD
        assert pages <= counters["GET /v1/debitmemos"] < pages + 16  # the last round's pages past the end, at most


def test_pages_past_a_lists_last_are_dropped_unread_and_an_error_before_it_is_raised(tmp_path: Path) -> None:
    def read(failing: int, last: int, n: int) -> tuple[list[int], bool]:
        if n == failing:
            raise ZuoraError(f"page {n}: Zuora answers no page past the last in any documented way")
        return [n], n < last

    with Sandbox(invoices=20, seed=5) as box, engine(box, tmp_path / "state") as e:
        for last in (1, 2, 3, 7, 8, 40):  # at the end of a round and within one
            assert list(e.context.paged(functools.partial(read, last + 1, last))) == [[n] for n in range(1, last + 1)]
        with pytest.raises(ZuoraError, match="page 5"):
            list(e.context.paged(functools.partial(read, 5, 9)))


@pytest.mark.parametrize("kept", [sources.MAX_LISTED_ROWS, 3])
def test_a_memo_pass_writes_from_its_lists_rows_and_reads_again_by_id_only_those_beyond_what_it_keeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int
) -> None:
    """A read by Id was one of a debit memo's two REST calls; past MAX_LISTED_ROWS a pass keeps Ids alone."""
    monkeypatch.setattr(sources, "MAX_LISTED_ROWS", kept)
    with Sandbox(invoices=120, seed=5) as box, engine(box, tmp_path / "state") as e:
        e.run(("customer", "item"))
        box.zuora.reset_counters()
        counts = e.run(("debit-memo",))["debit-memo"]
        store = box.zuora.store
        synced = [m for m in store.all("DebitMemo") if m.get("IntegrationStatus__NS") == "Sync Complete"]
        assert counts.created == len(synced) > 3  # each written once
        assert box.zuora.counters.get("GET /v1/debitmemos/{memoKey}", 0) == max(0, counts.selected - kept)


def test_a_pass_whose_lookups_read_each_record_goes_in_two_waves_at_least(tmp_path: Path) -> None:
    """A memo's items are a REST call each: in one wave, the last of a pass's four requests would go only once all
    its memos are read. 220 debit memos, 4 slots: eight requests of about 28, not four of 55."""
    with Sandbox(invoices=40, seed=5) as box, engine(box, tmp_path / "state", concurrency=4) as e:
        e.run(("customer", "item"))
        store = box.zuora.store
        account, charge = (
            next(r for r in store.all(kind) if r.get("IntegrationStatus__NS") == "Sync Complete")
            for kind in ("Account", "ProductRatePlanCharge")
        )
        for n in range(220):
            memo = store.add("DebitMemo", {"AccountId": account["Id"], "MemoNumber": f"DM-W{n}", "Amount": 2.0,
                                           "Status": "Posted", "MemoDate": "2024-06-01"})  # fmt: skip
            store.add("DebitMemoItem", {"DebitMemoId": memo, "AmountWithoutTax": 2.0, "SourceItemId": charge["Id"],
                                        "SourceItemType": "ProductRatePlanCharge"})  # fmt: skip
        box.netsuite.counters.reset()
        counts = e.run(("debit-memo",))["debit-memo"]
        assert counts.created >= 220
        assert box.netsuite.counters["addList"] == 8
