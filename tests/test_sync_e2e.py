"""The engine end to end: the real CLI and clients against both emulators over real sockets."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from checks import assert_consistent, engine, netsuite_records, problems, statuses, zns
from conftest import validated

from zns_sync import engine as engine_module
from zns_sync.destinations import Window
from zns_sync.engine import MIN_CHUNK, ordered, read_ahead, stages
from zns_sync.flows import TYPES
from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox
from zns_sync.sandbox.netsuite_store import RecordError

COMPLETE = "Sync Complete"
ZUORA_TYPES = ("Account", "ProductRatePlanCharge", "Invoice")


def test_tenant_syncs_in_one_run_and_a_second_run_selects_nothing(box: Sandbox, config: Path, tmp_path: Path) -> None:
    first = zns(config, "run", "--json")
    assert first.returncode == 1, first.stderr  # the demo tenant holds records back on purpose
    report = json.loads(first.stdout)
    synced = assert_consistent(box)
    assert synced["Invoice"] >= 25 and synced["Account"] >= 8 and synced["ProductRatePlanCharge"] >= 5
    assert report["types"]["invoice"]["created"] == synced["Invoice"]
    held_back = problems(tmp_path / "state")
    assert held_back and set(held_back.values()) <= {"skipped", "blocked", "error"}
    # Refused records keep their status untouched (blank); NetSuite's refusals say Error Creating.
    for object_type in ("Account", "ProductRatePlanCharge", "Invoice"):
        for row in box.zuora.store.all(object_type):
            if row["Id"] in held_back and held_back[row["Id"]] in ("skipped", "blocked"):
                assert not row.get("IntegrationStatus__NS"), row
    # A negative invoice became a credit memo.
    assert netsuite_records(box, "CreditMemo")

    writes_before = box.netsuite.counters["records_written"]
    second = zns(config, "run", "--json")
    again = json.loads(second.stdout)
    for counts in again["types"].values():
        assert counts["created"] == counts["linked"] == 0
    assert box.netsuite.counters["records_written"] == writes_before
    assert assert_consistent(box) == synced


def test_dry_run_writes_nothing_and_previews_payloads(box: Sandbox, config: Path) -> None:
    zuora_before = {t: statuses(box, t) for t in ("Account", "Invoice")}
    done = zns(config, "run", "--dry-run", "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert box.netsuite.counters["records_written"] == 0
    assert box.zuora.counters.get("objects_written", 0) == 0
    assert {t: statuses(box, t) for t in ("Account", "Invoice")} == zuora_before
    actions = {r["action"] for r in report["records"]}
    assert {"create", "blocked"} <= actions  # invoices are blocked: their accounts are not synced yet
    customer = next(r for r in report["records"] if r["type"] == "customer" and r["action"] == "create")
    assert customer["payload"]["recordType"] == "Customer"
    assert customer["payload"]["externalId"].startswith("zuora-account-")


def test_lock_makes_a_second_run_exit_3(box: Sandbox, config: Path, tmp_path: Path) -> None:
    box.netsuite.faults.latency_per_request = 0.3
    first = subprocess.Popen(
        [sys.executable, "-m", "zns_sync", "--config", str(config), "run", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lock = tmp_path / "state" / "zns-sync.lock"
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = zns(config, "run")
        assert second.returncode == 3, second.stderr
        assert "another zns-sync run holds the lock" in second.stderr
        assert f"pid {first.pid}" in second.stderr
    finally:
        first.wait(timeout=120)
    assert first.returncode == 1


def test_recovery_of_in_flight_records_with_and_without_the_netsuite_record(box: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "state"
    with engine(box, state) as e:
        e.run(["customer", "item", "invoice"])
    done = [i for i in box.zuora.store.all("Invoice") if i.get("IntegrationStatus__NS") == "Sync Complete"]
    existing, missing = [i for i in done if float(i["Amount"]) > 0][:2]
    # A crash after NetSuite committed (existing), and one after the claim only (missing: no NetSuite record).
    box.netsuite.store.delete("Invoice", missing["IntegrationId__NS"])
    for row in (existing, missing):
        box.zuora.store.set(
            "Invoice",
            row["Id"],
            {
                "IntegrationStatus__NS": "Creating Invoice",
                "IntegrationId__NS": None,
                "TransferredToAccounting": "Processing",
            },
        )
    with engine(box, state) as e:
        preview = e.recover(["invoice"], dry_run=True)["invoice"]
        assert dict(preview.recovered) == {existing["Id"]: existing["IntegrationId__NS"]}
        assert preview.not_found == [missing["Id"]]
        assert box.zuora.store.get("Invoice", existing["Id"])["IntegrationStatus__NS"] == "Creating Invoice"
        result = e.recover(["invoice"])["invoice"]
    assert dict(result.recovered) == {existing["Id"]: existing["IntegrationId__NS"]}
    linked = box.zuora.store.get("Invoice", existing["Id"])
    assert linked["IntegrationStatus__NS"] == "Sync Complete" and linked["TransferredToAccounting"] == "Yes"
    assert linked["IntegrationId__NS"] == existing["IntegrationId__NS"]
    assert box.zuora.store.get("Invoice", missing["Id"])["IntegrationStatus__NS"] == "Creating Invoice"
    with engine(box, state) as e:
        counts = e.run(["invoice"])["invoice"]
    assert counts.created == 1 and counts.linked == 0
    assert box.zuora.store.get("Invoice", missing["Id"])["IntegrationStatus__NS"] == "Sync Complete"
    assert_consistent(box)


@pytest.mark.parametrize("status", ["Creating Invoice", "Error Creating Invoice"])
def test_a_run_recovers_before_it_writes(box: Sandbox, tmp_path: Path, status: str) -> None:
    state = tmp_path / "state"
    with engine(box, state) as e:
        e.run(["customer", "item", "invoice"])
    row = next(i for i in box.zuora.store.all("Invoice") if i.get("IntegrationStatus__NS") == "Sync Complete")
    box.zuora.store.set("Invoice", row["Id"], {"IntegrationStatus__NS": status, "TransferredToAccounting": "Error"})
    calls = box.netsuite.counters["calls"].get("addList", 0)
    with engine(box, state) as e:
        counts = e.run(["invoice"])["invoice"]
    assert counts.linked == 1 and counts.created == 0
    assert box.netsuite.counters["calls"].get("addList", 0) == calls  # found by getList, never re-added
    assert box.zuora.store.get("Invoice", row["Id"])["IntegrationStatus__NS"] == "Sync Complete"


def test_a_blanked_status_links_through_dup_rcrd(box: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "state"
    with engine(box, state) as e:
        e.run(["customer", "item", "invoice"])
    synced = assert_consistent(box)
    victim = next(i for i in box.zuora.store.all("Invoice") if i.get("IntegrationStatus__NS") == "Sync Complete")
    internal_id = victim["IntegrationId__NS"]
    # Someone blanks the status and TTA by hand: the connector would create a duplicate here.
    box.zuora.store.set(
        "Invoice",
        victim["Id"],
        {"IntegrationStatus__NS": None, "IntegrationId__NS": None, "TransferredToAccounting": "No"},
    )
    with engine(box, state) as e:
        counts = e.run(["invoice"])["invoice"]
    assert counts.linked == 1 and counts.created == 0
    assert box.zuora.store.get("Invoice", victim["Id"])["IntegrationId__NS"] == internal_id
    assert assert_consistent(box) == synced


def test_error_creating_then_fixed_record_succeeds(box: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "state"
    account = next(
        a
        for a in box.zuora.store.all("Account")
        if a.get("Status") == "Active"
        and a.get("SynctoNetSuite__NS") != "No"
        and a.get("PaymentTerm") in ("Net 30", "Net 15", "Due on receipt", None)
    )
    long_name = "N" * 120  # longer than NetSuite's companyName allows: an Error, never cut
    box.zuora.store.set("Account", account["Id"], {"Name": long_name})
    with engine(box, state) as e:
        e.run(["customer"])
    row = box.zuora.store.get("Account", account["Id"])
    assert row["IntegrationStatus__NS"] == "Error Creating Customer"
    with Journal(state) as journal:
        messages = [a.message for _, a, _ in journal.attempts(source_id=account["Id"])]
    assert any((m and "companyName" in m) or (m and "83" in m) for m in messages), messages
    box.zuora.store.set("Account", account["Id"], {"Name": "Fixed Name Ltd"})
    with engine(box, state) as e:
        counts = e.run(["customer"])["customer"]
    assert counts.created == 1
    assert box.zuora.store.get("Account", account["Id"])["IntegrationStatus__NS"] == "Sync Complete"
    assert_consistent(box)


def test_linking_customer_updates_only_the_zuora_fields(box: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "state"
    with engine(box, state) as e:
        e.run(["customer"])
    row = next(a for a in box.zuora.store.all("Account") if a.get("IntegrationStatus__NS") == "Sync Complete")
    # The account was adopted from a pre-existing NetSuite customer: IntegrationId__NS set, status blank.
    box.zuora.store.set("Account", row["Id"], {"IntegrationStatus__NS": None})
    with engine(box, state) as e:
        counts = e.run(["customer"])["customer"]
    assert counts.linked == 1 and counts.created == 0
    assert box.zuora.store.get("Account", row["Id"])["IntegrationStatus__NS"] == "Sync Complete"
    with Journal(state) as journal:
        history = [a for _, a, _ in journal.attempts(source_id=row["Id"])]
    assert history[-1].status_before is None and history[-1].status_after == "Sync Complete"
    assert history[-1].action == "link"


def test_concurrency_fault_halves_the_window_and_the_run_completes(box: Sandbox, tmp_path: Path) -> None:
    box.netsuite.faults.concurrency_limit = 2
    box.netsuite.faults.latency_per_request = 0.3  # long enough that four threads always overlap
    with engine(box, tmp_path / "state", concurrency=4, batch_size=3) as e:
        e.run(["customer", "item", "invoice"])
        assert e.window.throttles >= 1
    assert box.netsuite.counters["max_in_flight"] <= 2
    assert_consistent(box)


def test_log_and_status_commands(box: Sandbox, config: Path) -> None:
    zns(config, "run", "--quiet")
    runs = zns(config, "log", "--json")
    assert runs.returncode == 0, runs.stderr
    rows = json.loads(runs.stdout)
    assert rows[0]["command"] == "run" and rows[0]["exit_code"] == 1
    errors = json.loads(zns(config, "log", "--errors", "--json").stdout)
    assert errors and all(e["outcome"] in ("skipped", "blocked", "error", "unknown") for e in errors)
    assert all(e["message"] for e in errors)
    status = zns(config, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["invoice"]["statuses"]["Sync Complete"] >= 25


def test_independent_passes_run_together_within_one_netsuite_window(box: Sandbox, tmp_path: Path) -> None:
    """Customers and items depend on nothing (reference 2.3): their passes run at the same time, every other type
    after the stage before it; together they never keep more than netsuite.concurrency requests in flight."""
    box.netsuite.faults.concurrency_limit = 2
    box.netsuite.faults.latency_per_request = 0.05
    with engine(box, tmp_path / "state", concurrency=2, batch_size=3) as e:
        order = [[flow.name for flow in stage] for stage in stages([e.flow(n) for n in ordered(list(TYPES))])]
        # A rate plan's item needs its product's; a sales order its customer and rate plans, not the charges' items.
        assert order[:3] == [["customer", "product"], ["rate-plan"], ["sales-order", "item"]]
        assert all(len(stage) == 1 for stage in order[3:])
        assert [
            [f.name for f in stage] for stage in stages([e.flow("customer"), e.flow("item"), e.flow("invoice")])
        ] == [
            ["customer", "item"],
            ["invoice"],
        ]
        counts = e.run(["item", "customer", "invoice"])
        assert list(counts) == ["customer", "item", "invoice"]
        assert e.window.throttles == 0
    assert box.netsuite.counters["max_in_flight"] <= 2
    assert_consistent(box)


def _refuse_one_customer(box: Sandbox, account_id: str) -> None:
    """NetSuite refuses the customer of this Zuora account (a per-record error; nothing is written)."""
    add = box.netsuite.store.add

    def refusing(record_type: str, data: dict[str, Any]) -> Any:
        if record_type == "Customer" and str(data.get("externalId", "")).endswith(account_id):
            raise RecordError("INVALID_FLD_VALUE", "refused by the test")
        return add(record_type, data)

    box.netsuite.store.add = refusing  # type: ignore[method-assign]


@pytest.mark.parametrize("held", [engine_module.MAX_HELD, 7], ids=["held-freely", "held-at-most-7"])
def test_an_invoice_waits_for_its_own_customer_and_items_not_for_their_whole_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held: int
) -> None:
    """An invoice goes to NetSuite as soon as its account and its lines' product charges are Sync Complete in Zuora,
    while the customer pass's other records are still on their way (Flow.waits_for), and never before (reference
    2.3). One run ends as a run of customers and items followed by a run of invoices ends, record by record; an
    invoice whose customer NetSuite refuses is blocked, not lost. With few records held at once, the reading of
    invoices waits for them, and the outcome is the same. (The items are synced first, and the invoices' NetSuite
    names looked up: behind the customers' requests, those lookups would end when the customers are nearly done.)"""
    monkeypatch.setattr(engine_module, "MAX_HELD", held)
    tenant = {"invoices": 300, "seed": 5}
    with Sandbox(**tenant) as twin, engine(twin, tmp_path / "twin", concurrency=2, batch_size=10) as e:
        refused = next(a["Id"] for a in twin.zuora.store.all("Account") if a.get("AccountNumber"))
        _refuse_one_customer(twin, refused)
        e.run(["item"])
        e.run(["customer"])
        e.run(["invoice"])
        expected = {t: {r["Id"]: r.get("IntegrationStatus__NS") for r in twin.zuora.store.all(t)} for t in ZUORA_TYPES}
    with validated(Sandbox(**tenant)) as box, engine(box, tmp_path / "state", concurrency=2, batch_size=10) as e:
        _refuse_one_customer(box, refused)
        e.run(["item"])  # (an invoice waits for its items too, but the item pass selects its few records late)
        e.run(["invoice"], dry_run=True)  # the NetSuite names they need, looked up (behind the customers: late)
        box.netsuite.faults.latency_per_record = 0.06  # the customers' requests take a while: invoices go meanwhile
        zuora = box.zuora.store
        written: list[tuple[bool, bool, frozenset[str]]] = []  # per invoice: account complete, items, accounts done
        add = box.netsuite.store.add

        def watched(record_type: str, data: dict[str, Any]) -> Any:
            if record_type == "Invoice":
                box.netsuite.faults.latency_per_record = 0.0  # (the invoices' requests: quick, the test short)
                invoice = zuora.get("Invoice", str(data["externalId"]).rsplit("-", 1)[1]) or {}
                account = zuora.get("Account", str(invoice.get("AccountId"))) or {}
                lines = [
                    line["item"]["internalId"]
                    for line in data["itemList"]["item"]
                    if line["customFieldList"]["custcolzuoratype"] == "Charge"  # not a tax line's tax item
                ]
                charges = {c.get("IntegrationId__NS"): c for c in zuora.all("ProductRatePlanCharge")}
                charged = [charges.get(i) or {} for i in lines]  # the charge whose item it is, as Zuora holds it
                done = frozenset(a["Id"] for a in zuora.all("Account") if a.get("IntegrationStatus__NS") == COMPLETE)
                written.append(
                    (
                        account.get("IntegrationStatus__NS") == COMPLETE,
                        all(c.get("IntegrationStatus__NS") == COMPLETE for c in charged),
                        done,
                    )
                )
            return add(record_type, data)

        box.netsuite.store.add = watched  # type: ignore[method-assign]
        counts = e.run(["customer", "invoice"])
        found = {t: {r["Id"]: r.get("IntegrationStatus__NS") for r in zuora.all(t)} for t in ZUORA_TYPES}
        synced = {a["Id"] for a in zuora.all("Account") if a.get("IntegrationStatus__NS") == COMPLETE}
    assert counts["invoice"].created > 100 and counts["invoice"].blocked
    assert found == expected
    assert expected["Account"][refused] == "Error Creating Customer"
    assert all(account and items for account, items, _ in written)  # never before its parents
    if held > 7:  # (held at most 7, the invoices' reading waits for the customers' pass)
        assert any(done < synced for _, _, done in written)  # written while customers were still on their way


def test_a_pass_shares_its_records_evenly_over_the_window(tmp_path: Path) -> None:
    """Zuora says how many records a query matches with its first page: a pass of fewer records than one wave
    of full addLists sends one addList per NetSuite slot, not one full and the others idle; a small pass (the
    charges' items) sends fewer, of about MIN_CHUNK records at least, since each request costs NetSuite a fixed
    time."""
    with validated(Sandbox(invoices=400, seed=5)) as box, engine(box, tmp_path / "state", concurrency=4) as e:
        counts = e.run(["customer"])["customer"]
        assert round(counts.created / MIN_CHUNK) >= 4  # enough for a chunk per slot
        assert box.netsuite.counters["addList"] == 4
        box.netsuite.counters.reset()
        items = e.run(["item"])["item"]
    assert 10 <= items.created < 1.5 * MIN_CHUNK
    assert box.netsuite.counters["addList"] == 1


def test_a_pass_reads_and_looks_up_its_second_slice_while_its_first_is_looked_up() -> None:
    """A memo's or a payment's lookups are REST calls of its own: the first wave of writes waits for the first two
    slices, so the second is read and looked up from the start, not once the first is planned."""
    second = threading.Event()

    def look_up(item: int) -> int:
        if item == 0:
            assert second.wait(5), "the second slice's lookup did not start while the first's ran"
        elif item == 1:
            second.set()
        return item * 10

    assert list(read_ahead(iter(range(4)), look_up, 4)) == [(0, 0), (1, 10), (2, 20), (3, 30)]


def _until(done: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Whether `done()` holds within `seconds` (asked every 10 ms)."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)
    return done()


def _requests(window: Window, key: str, order: list[str], go: threading.Event) -> threading.Thread:
    """A request made for `key` (a pass) that holds its slot until `go`, in a thread of its own."""

    def request() -> None:
        with window.serving(key), window:
            order.append(key)
            go.wait(5)

    thread = threading.Thread(target=request, daemon=True)  # (one that never gets a slot fails the test, not the run)
    thread.start()
    return thread


@pytest.mark.parametrize("limit", [1, 2])
def test_passes_side_by_side_never_keep_the_windows_last_slot_from_each_other(limit: int) -> None:
    """Each pass keeps a slot for the others until its first request, but never the window's last: with
    `netsuite.concurrency: 1` (the hosted connector's way in make bench), or more passes side by side than slots, or a
    window halved by throttling, the passes each waited for another's first request, and the run hung."""
    window, order, go = Window(limit), list[str](), threading.Event()
    passes = [f"pass-{i}" for i in range(limit + 1)]
    window.reserve(passes)
    first = _requests(window, passes[0], order, go)
    assert _until(lambda: order == passes[:1])
    go.set()
    first.join(5)
    if limit > 1:
        window.throttled()  # halved to one slot, two passes still waiting for their first request
    go.clear()
    second = _requests(window, passes[1], order, go)
    assert _until(lambda: order == passes[:2])
    go.set()
    second.join(5)


@pytest.mark.parametrize("item_writes", [True, False])
def test_passes_side_by_side_leave_a_slot_to_the_one_still_planning(item_writes: bool) -> None:
    """Customers and items share the NetSuite window; the item pass plans its first request after the NetSuite names
    it waits for. Its slot is kept: the customers' requests take the others, never the last one, until the item's
    first request has its slot, or the item pass ends without one; invoices wait for both."""
    window, order, go = Window(4), list[str](), threading.Event()
    window.reserve(["customer", "item"])
    customers = [_requests(window, "customer", order, go) for _ in range(4)]
    assert _until(lambda: len(order) == 3)
    time.sleep(0.1)  # the fourth asks for a slot meanwhile
    assert order == ["customer"] * 3  # it waits: the last slot is the item's
    if item_writes:
        item = _requests(window, "item", order, go)
    else:
        window.served("item")  # the item pass ended without a request
    assert _until(lambda: len(order) == 4)  # the item's request, else the fourth customer's, has the last slot
    go.set()
    for thread in [*customers, *([item] if item_writes else [])]:
        thread.join(5)
    assert order == ["customer"] * 3 + (["item"] if item_writes else []) + ["customer"]
