"""Crash safety: SIGKILL `zns-sync run` at random moments, then run to completion; nothing duplicated or lost.

The two Zuora -> NetSuite variants cover both Invoice Settlement modes (memos and their REST source on,
adjustments off), one of them with lost NetSuite responses too; half their kills land in runs of the mode's own
types. CI kills 10 times per variant of the Zuora -> NetSuite direction and 3 times per NetSuite -> Zuora phase
(customers; payments, credit memos and refunds); `make chaos` sets ZNS_CHAOS_KILLS (default 100) per variant, a
third of it per phase.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from checks import (
    FIELDS,
    ZUORA_OBJECTS,
    assert_consistent,
    assert_netsuite_origin_consistent,
    custom,
    engine,
    netsuite_statuses,
    set_sync,
    statuses,
    zns,
)

from zns_sync.config import SyncSettings
from zns_sync.engine import Engine
from zns_sync.flows import FLOWS
from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox
from zns_sync.sandbox.demo_netsuite import record_netsuite_sales_orders

KILLS = int(os.environ.get("ZNS_CHAOS_KILLS", "10"))
INVOICES = 120
SEED = 11


def control_outcome(tmp_path: Path, invoice_settlement: bool) -> dict[str, dict[str, int]]:
    """What a clean run of the same tenant ends with: per Zuora object, records per final status."""
    with Sandbox(invoices=INVOICES, seed=SEED, invoice_settlement=invoice_settlement) as box:
        config = tmp_path / "control.yaml"
        box.write_config(config, tmp_path / "control-state")
        assert zns(config, "run", "--quiet").returncode == 1
        return {t: dict(statuses(box, t)) for t in ZUORA_OBJECTS}


def reopen_some(box: Sandbox, rng: random.Random) -> None:
    """Blank the status of a fifth of the synced records by hand, as a person might: they must link, not duplicate."""
    for object_type in ("Account", "Invoice", "Payment", "Refund", "CreditMemo", "DebitMemo", "InvoiceItemAdjustment"):
        for row in box.zuora.store.all(object_type):
            if row.get("IntegrationStatus__NS") == "Sync Complete" and rng.random() < 0.2:
                fields = {"IntegrationStatus__NS": None, "IntegrationId__NS": None}
                if object_type != "Account":
                    fields["TransferredToAccounting"] = None  # null reads as No (product.md 8)
                box.zuora.store.set(object_type, row["Id"], fields)


def start_run(config: Path, *types: str) -> subprocess.Popen[bytes]:
    """A `zns-sync run` (of `types`, else all) in a child process, its output discarded."""
    chosen = [arg for name in types for arg in ("--type", name)]
    return subprocess.Popen(
        [sys.executable, "-m", "zns_sync", "--config", str(config), "run", "--quiet", *chosen],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def start_run_until_written(box: Sandbox, config: Path, *types: str) -> subprocess.Popen[bytes]:
    """A run started in a child process, returned once NetSuite took its first record (or after a minute)."""
    written = box.netsuite.counters["records_written"]
    child = start_run(config, *types)
    deadline = time.monotonic() + 60
    while box.netsuite.counters["records_written"] == written and time.monotonic() < deadline:
        time.sleep(0.005)
    return child


def kill_repeatedly(
    box: Sandbox,
    config: Path,
    kills: int,
    rng: random.Random,
    reopen: Callable[[Sandbox, random.Random], None],
    *types: str,
    within: float = 3.0,
) -> int:
    """Start runs (of `types`, else all) and SIGKILL each after a random delay (at most `within` seconds) until
    `kills` landed mid-run; returns the kills landed."""
    killed = started = 0
    while killed < kills and started < 3 * kills:
        started += 1
        child = start_run(config, *types)
        time.sleep(rng.uniform(0.5, within))  # the interpreter and zeep start in about half a second
        if child.poll() is None:
            child.kill()
            killed += 1
        else:
            reopen(box, rng)  # the run finished: give the next one work again
        child.wait()
    return killed


def small_batches(config: Path) -> None:
    data = yaml.safe_load(config.read_text())
    data["netsuite"]["batch_size"] = 15
    config.write_text(yaml.safe_dump(data))


def run_to_completion(config: Path, invoice_settlement: bool = True, types: tuple[str, ...] = ()) -> None:
    """Run (`types`, else the configured ones) until a run writes nothing for any type and leaves no outcome
    unknown."""
    sync = yaml.safe_load(config.read_text())["sync"]
    configured = types or sync.get("types") or SyncSettings(invoice_settlement=invoice_settlement).types
    chosen = [arg for name in types for arg in ("--type", name)]
    for _ in range(5):
        done = zns(config, "run", "--quiet", *chosen)
        assert done.returncode in (0, 1), done.stderr
        again = zns(config, "run", "--json", *chosen)
        types = json.loads(again.stdout)["types"]
        assert set(types) == set(configured), types
        if all(c["created"] == c["linked"] == c["unknown"] == 0 for c in types.values()):
            return
    raise AssertionError("the tenant did not settle after five clean runs")


@pytest.mark.parametrize(
    ("invoice_settlement", "lost_responses"),
    [(True, True), (False, False)],
    ids=["IS-on-sigkill+lost-responses", "IS-off-sigkill"],
)
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    tmp_path: Path, invoice_settlement: bool, lost_responses: bool
) -> None:
    expected = control_outcome(tmp_path, invoice_settlement)
    rng = random.Random(f"{SEED}-{lost_responses}")
    with Sandbox(invoices=INVOICES, seed=SEED, invoice_settlement=invoice_settlement) as box:
        # Slow enough that a kill lands in every phase: claims, NetSuite writes, write-backs.
        box.netsuite.faults.latency_per_request = 0.05
        box.netsuite.faults.latency_per_record = 0.01
        box.zuora.faults.latency_seconds = 0.01
        if lost_responses:
            box.netsuite.faults.lost_response_rate = 0.15
        config = tmp_path / "zns-sync.yaml"
        box.write_config(config, tmp_path / "state")
        small_batches(config)  # many claims and writes in flight: kills land between every kind of step
        first = KILLS // 2
        landed = kill_repeatedly(box, config, first, rng, reopen_some)
        assert landed == first, "too few kills landed mid-run to prove anything"
        # The types of both modes synced, the other kills land in runs of each of this mode's own types in turn
        # (debit and credit memos with Invoice Settlement, adjustments without), which come late in a full run.
        configured = SyncSettings(invoice_settlement=invoice_settlement).types  # the default types that run
        both = list(dict.fromkeys(f.name for f in FLOWS if f.settlement is None and f.name in configured))
        assert zns(config, "run", "--quiet", *[arg for name in both for arg in ("--type", name)]).returncode in (0, 1)
        own = [f.name for f in FLOWS if f.settlement is invoice_settlement and f.name in configured]
        box.netsuite.faults.latency_per_request = 0.5  # a run of one type is short: its writes take long enough
        for index, name in enumerate(own):
            share = (KILLS - first) // len(own) + (index < (KILLS - first) % len(own))
            landed = kill_repeatedly(box, config, share, rng, reopen_some, name, within=1.5)
            assert landed == share, f"too few kills landed mid-run of {name}"
        box.netsuite.faults.latency_per_request = 0.0
        box.netsuite.faults.lost_response_rate = 0.0
        run_to_completion(config, invoice_settlement)
        assert_consistent(box)
        final = {t: dict(statuses(box, t)) for t in ZUORA_OBJECTS}
    assert final == expected


@pytest.mark.parametrize("lost_responses", [False, True], ids=["sigkill", "sigkill+lost-responses"])
def test_a_refund_killed_between_its_two_steps_resumes_at_the_second(tmp_path: Path, lost_responses: bool) -> None:
    with Sandbox(invoices=INVOICES, seed=SEED) as box:
        config = tmp_path / "zns-sync.yaml"
        box.write_config(config, tmp_path / "state")
        assert (
            zns(config, "run", "--quiet", "--type", "customer", "--type", "item", "--type", "invoice").returncode == 1
        )
        assert zns(config, "run", "--quiet", "--type", "payment").returncode == 1
        refunds_before = box.netsuite.store.count("CustomerRefund")
        assert refunds_before == 0
        box.netsuite.faults.latency_per_request = 0.5  # each step's write takes long enough to kill between them
        child = start_run_until_written(box, config, "refund")
        child.kill()  # the payment was updated (step 1); the refund is not created yet
        child.wait()
        assert box.netsuite.store.count("CustomerRefund") == 0
        between = statuses(box, "Refund")
        assert between.get("Updating Payment", 0) + between.get("Creating Refund", 0) >= 1, between
        box.netsuite.faults.latency_per_request = 0.0
        if lost_responses:
            box.netsuite.faults.lost_response_rate = 0.3
        zns(config, "run", "--quiet", "--type", "refund")
        box.netsuite.faults.lost_response_rate = 0.0
        run_to_completion(config)
        assert_consistent(box)  # one NetSuite refund per refund; each payment applies Zuora's net amounts
        assert statuses(box, "Refund")["Sync Complete"] == box.netsuite.store.count("CustomerRefund") >= 2


CATALOG_PRODUCTS = 60


def add_catalog(box: Sandbox, products: int) -> None:
    """More products, two rate plans each: catalog runs long enough for kills to land in them."""
    effective = {"EffectiveStartDate": dt.date(2020, 1, 1), "EffectiveEndDate": dt.date(2099, 12, 31)}
    for index in range(products):
        item_type = ("Inventory", "Non Inventory", "Service")[index % 3]
        name = f"Chaos Product {index}"
        product_id = box.zuora.store.add("Product", {"Name": name, "ItemType__NS": item_type, **effective})
        for plan in ("Monthly", "Annual"):
            box.zuora.store.add(
                "ProductRatePlan",
                {"Name": f"{name} {plan}", "ProductId": product_id, "ItemType__NS": item_type,
                 "Price__NS": f"{index + 10}.50", **effective},
            )  # fmt: skip


def reopen_catalog(object_type: str) -> Callable[[Sandbox, random.Random], None]:
    """Blank a fifth of the synced records of `object_type` by hand: they must link, not duplicate."""

    def reopen(box: Sandbox, rng: random.Random) -> None:
        for row in box.zuora.store.all(object_type):
            if row.get("IntegrationStatus__NS") == "Sync Complete" and rng.random() < 0.2:
                box.zuora.store.set(object_type, row["Id"], {"IntegrationStatus__NS": None, "IntegrationId__NS": None})

    return reopen


@pytest.mark.parametrize("lost_responses", [False, True], ids=["sigkill", "sigkill+lost-answers"])
def test_catalog_runs_killed_at_random_moments_leave_one_item_per_product_and_plan(
    tmp_path: Path, lost_responses: bool
) -> None:
    rng = random.Random(f"{SEED}-catalog-{lost_responses}")
    with Sandbox(invoices=10, seed=SEED) as box:
        add_catalog(box, CATALOG_PRODUCTS)
        # A catalog run's writes take long enough to kill in (with 0.3 s, once a run's first names went out before
        # the WSDL had loaded, a rate plan run ended before most kills: 2 of 5 landed).
        box.netsuite.faults.latency_per_request = 0.5
        if lost_responses:  # NetSuite's answers to the adds, and Zuora's to the claims and completions
            box.netsuite.faults.lost_response_rate = 0.15
            box.zuora.faults.drop_after_rate = 0.1
        config = tmp_path / "zns-sync.yaml"
        box.write_config(config, tmp_path / "state")
        small_batches(config)
        set_sync(config, force_catalog_sync=True)
        # Products first (a rate plan waits for its product's item), then rate plans, each killed in its runs.
        for name, object_type in (("product", "Product"), ("rate-plan", "ProductRatePlan")):
            share = max(2, KILLS // 2)
            landed = kill_repeatedly(box, config, share, rng, reopen_catalog(object_type), name, within=1.5)
            assert landed == share, f"too few kills landed mid-run of {name}"
            if name == "product":
                run_to_completion(config, types=("product",))
        box.netsuite.faults.latency_per_request = 0.0
        box.netsuite.faults.lost_response_rate = 0.0
        box.zuora.faults.drop_after_rate = 0.0
        run_to_completion(config, types=("product", "rate-plan"))
        synced = assert_consistent(box)  # one item per product and plan, each plan's under its product's
        products, plans = box.zuora.store.count("Product"), box.zuora.store.count("ProductRatePlan")
        assert (synced["Product"], synced["ProductRatePlan"]) == (products, plans) and products > CATALOG_PRODUCTS


# The NetSuite -> Zuora direction: NetSuite the customer master, NetSuite payments to Zuora.
NS_TYPES = ["customer", "item", "invoice", "payment", "refund", "ns-payment", "ns-credit-memo", "ns-refund"]
NS_SYNC = {"types": tuple(NS_TYPES), "invoice_settlement": False}  # the three-step payments, and credit memos
# Invoice Settlement: one REST create per payment, applied to invoices and debit memos (no credit memo flow).
NS_SYNC_IS = {
    "types": ("customer", "item", "invoice", "debit-memo", "payment", "refund", "ns-payment", "ns-refund"),
    "invoice_settlement": True,
}
NS_INVOICES = 40
NS_KILLS = max(2, KILLS // 3)  # per NetSuite -> Zuora flow: its runs are short, each kill lands in its few steps


def netsuite_master(
    box: Sandbox, tmp_path: Path, name: str, sync: dict[str, Any] | None = None, **zuora: object
) -> Path:
    config = tmp_path / f"{name}.yaml"
    box.write_config(config, tmp_path / f"{name}-state")
    data = yaml.safe_load(config.read_text())
    sync = sync or NS_SYNC
    data["sync"].update(types=list(sync["types"]), invoice_settlement=sync["invoice_settlement"])
    data["zuora"].update(zuora)
    config.write_text(yaml.safe_dump(data))
    return config


def netsuite_outcome(box: Sandbox) -> dict[str, dict[str, int]]:
    return {t: dict(netsuite_statuses(box, t)) for t in ("Customer", "CustomerPayment", "CustomerRefund", "CreditMemo")}


def clearing(*record_types: str) -> Callable[[Sandbox, random.Random], None]:
    """Clear the status and Zuora ID of a fifth of the complete NetSuite records of these types, as a person might:
    they must link. Only types the test's runs sync: a cleared customer waits for a customer run."""
    fields = {
        "Customer": (FIELDS.customer_integration_status, FIELDS.customer_zuora_id),
        "CustomerPayment": (FIELDS.transaction_integration_status, FIELDS.transaction_zuora_id),
        "CustomerRefund": (FIELDS.transaction_integration_status, FIELDS.transaction_zuora_id),
        "SalesOrder": (FIELDS.transaction_integration_status, FIELDS.transaction_zuora_id),
    }

    def clear(box: Sandbox, rng: random.Random) -> None:
        for record_type in record_types:
            status, zuora_id = fields[record_type]
            for record in box.netsuite.store.all(record_type):
                if (
                    custom(record, status) == "Sync Complete"
                    and rng.random() < 0.2
                    and custom(record, "custbodyzuoraorigin") != "ZUORA"
                ):
                    cleared = {status: "", zuora_id: ""}
                    box.netsuite.store.update(
                        record_type, {"internalId": record["internalId"], "customFieldList": cleared}
                    )

    return clear


def settle(clean: Engine) -> None:
    """Run in this process until a run writes nothing and leaves no outcome unknown."""
    for _ in range(5):
        if not any(c.created or c.linked or c.unknown for c in clean.run(clean.settings.sync.types).values()):
            return
    raise AssertionError("the tenant did not settle after five clean runs")


@pytest.mark.parametrize("sync", [NS_SYNC, NS_SYNC_IS], ids=["IS-off", "IS-on"])
def test_netsuite_to_zuora_killed_at_random_with_lost_answers_and_cleared_statuses(
    tmp_path: Path, sync: dict[str, Any]
) -> None:
    """SIGKILL during customer and payment syncs, Zuora answers lost after it committed, statuses cleared by hand:
    in the end, the same NetSuite statuses as a clean run, each Zuora record once, none without its NetSuite record.
    With Invoice Settlement, payments applied to debit memos too (the demo records one)."""
    settlement = bool(sync["invoice_settlement"])
    tenant = {"invoices": NS_INVOICES, "seed": SEED, "invoice_settlement": settlement, "customer_master": "netsuite"}
    netsuite_flows = tuple(name for name in sync["types"] if name.startswith("ns-"))
    with (
        Sandbox(**tenant) as control,
        engine(control, tmp_path / "control", sync) as clean,
    ):  # a clean run in this process: the outcome to match
        settle(clean)
        control.record_in_netsuite(6)
        settle(clean)
        expected = netsuite_outcome(control)
    rng = random.Random(f"{SEED}-netsuite")
    with Sandbox(**tenant) as box:
        # One retry: a lost answer is mostly replayed under its Idempotency-Key, sometimes lost twice (looked up).
        config = netsuite_master(box, tmp_path, "chaos", sync, max_retries=1)
        for flows in (("customer",), netsuite_flows):
            box.zuora.faults.latency_seconds = 0.15  # long enough that a kill lands between the steps
            box.zuora.faults.drop_after_rate = 0.3  # applied, then the answer lost
            reopen = clearing("Customer", "CustomerPayment", "CustomerRefund")
            assert kill_repeatedly(box, config, NS_KILLS, rng, reopen, *flows, within=2.0) == NS_KILLS
            box.zuora.faults.latency_seconds = box.zuora.faults.drop_after_rate = 0.0
            with engine(box, tmp_path / "chaos-state", sync) as clean:  # no more kills: in this process
                settle(clean)
            if flows == ("customer",):
                box.record_in_netsuite(6)
        assert assert_netsuite_origin_consistent(box)["CustomerPayment"] > 0
        assert netsuite_outcome(box) == expected
        if settlement:  # a NetSuite payment applied to a debit memo's NetSuite invoice reached Zuora
            assert any(p.get("DebitMemoId") for p in box.zuora.store.all("PaymentPart"))


SO_SYNC = {"types": ("sales-order",), "invoice_settlement": False}  # the catalog types come with it


def test_sales_orders_killed_at_random_with_lost_answers_and_cleared_statuses(tmp_path: Path) -> None:
    """SIGKILL at random moments of sales-order runs, Zuora answers lost after it committed, statuses cleared by
    hand: in the end the same sales-order statuses as a clean run, exactly one subscription per order, none lost."""
    tenant = {"invoices": 8, "seed": SEED, "invoice_settlement": False, "customer_master": "netsuite"}

    def prepared(box: Sandbox, state: Path) -> None:
        with engine(box, state, SO_SYNC) as clean:
            settle(clean)  # the catalog: the rate-plan items the sales orders pick
        for _ in range(4):
            assert record_netsuite_sales_orders(box.netsuite.store, box.zuora.store)

    with Sandbox(**tenant) as control:
        prepared(control, tmp_path / "control")
        with engine(control, tmp_path / "control", SO_SYNC) as clean:
            settle(clean)
        expected = dict(netsuite_statuses(control, "SalesOrder"))
    assert expected["Sync Complete"] == 12
    rng = random.Random(f"{SEED}-sales-order")
    with Sandbox(**tenant) as box:
        config = netsuite_master(box, tmp_path, "chaos", SO_SYNC, max_retries=1)
        prepared(box, tmp_path / "chaos-state")
        box.zuora.faults.latency_seconds = 0.15  # long enough that a kill lands mid-run
        box.zuora.faults.drop_after_rate = 0.3  # applied, then the answer lost
        reopen = clearing("SalesOrder")  # its runs sync sales orders only
        assert kill_repeatedly(box, config, NS_KILLS, rng, reopen, "sales-order", within=2.0) == NS_KILLS
        box.zuora.faults.latency_seconds = box.zuora.faults.drop_after_rate = 0.0
        with engine(box, tmp_path / "chaos-state", SO_SYNC) as clean:
            settle(clean)
        assert assert_netsuite_origin_consistent(box)["SalesOrder"] == 12
        assert dict(netsuite_statuses(box, "SalesOrder")) == expected
        assert box.zuora.store.count("Subscription") == 12


def test_a_customer_killed_between_its_four_steps_resumes_at_the_next(tmp_path: Path) -> None:
    """Kill the customer sync right after each of its steps lands in Zuora; every run goes on where the last stopped,
    and no account or contact is created twice."""
    with Sandbox(invoices=8, seed=SEED, invoice_settlement=False, customer_master="netsuite") as box:
        config = netsuite_master(box, tmp_path, "steps")
        zuora = box.zuora.store
        accounts, contacts = zuora.count("Account"), zuora.count("Contact")
        box.zuora.faults.processing_seconds = 0.3  # each create takes long enough to kill the run after it
        for object_type, landed in (("Account", 1), ("Contact", 1), ("Contact", 2)):
            written = zuora.count(object_type)
            child = subprocess.Popen(
                [sys.executable, "-m", "zns_sync", "--config", str(config), "run", "--quiet", "--type", "customer"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            deadline = time.monotonic() + 60
            while zuora.count(object_type) < written + landed and time.monotonic() < deadline:
                time.sleep(0.005)
            child.kill()  # this step is in Zuora; the next one may be on its way
            child.wait()
            time.sleep(0.4)  # the request the kill interrupted completes in Zuora all the same
            assert_netsuite_origin_consistent(box, settled=False)
            assert netsuite_statuses(box, "Customer")["Creating Customer Account"] >= 1
        box.zuora.faults.processing_seconds = 0.0
        objects = zuora.count("Account"), zuora.count("Contact")
        recovered = zns(config, "recover", "--json", "--type", "customer")  # finds what exists, creates nothing
        found = json.loads(recovered.stdout)["customer"]
        assert recovered.returncode == 1 and found["not_found"], recovered.stderr  # some stopped before step 4
        assert (zuora.count("Account"), zuora.count("Contact")) == objects
        run_to_completion(config)
        created = zuora.count("Account") - accounts
        assert created >= 5 and zuora.count("Contact") - contacts == 2 * created  # found again, never made twice
        assert_netsuite_origin_consistent(box)
        with Journal(tmp_path / "steps-state") as journal:
            resumed = [a for _, a, _ in journal.attempts() if a.status_before == "Creating Customer Account"]
        assert resumed, "no run resumed a customer in flight"


def test_two_hosts_running_at_once_create_each_zuora_record_once(tmp_path: Path) -> None:
    """Two runs with their own state dirs (two hosts, two locks) over the same records: each Zuora create request is
    the same on both, so Zuora replays it, or answers 409 while the first runs: nothing is created twice."""
    with Sandbox(invoices=NS_INVOICES, seed=SEED, invoice_settlement=False, customer_master="netsuite") as box:
        hosts = [netsuite_master(box, tmp_path, name, max_retries=8) for name in ("host-a", "host-b")]

        def both(flow: str) -> None:
            box.zuora.faults.processing_seconds = 0.2  # the two hosts' requests overlap in Zuora
            runs = [
                subprocess.Popen(
                    [sys.executable, "-m", "zns_sync", "--config", str(config), "run", "--quiet", "--type", flow],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for config in hosts
            ]
            for run in runs:
                _, errors = run.communicate(timeout=120)
                assert run.returncode in (0, 1), errors
            box.zuora.faults.processing_seconds = 0.0

        both("customer")
        with engine(box, tmp_path / "host-a-state", NS_SYNC) as clean:
            settle(clean)
        box.record_in_netsuite(6)
        both("ns-payment")
        with engine(box, tmp_path / "host-b-state", NS_SYNC) as clean:
            settle(clean)
        complete = assert_netsuite_origin_consistent(box)
        assert complete["Customer"] >= 5 and complete["CustomerPayment"] >= 6
        assert box.zuora.counters.get("idempotent_replays", 0) > 0  # the second host's requests were replayed


def test_updates_of_modified_master_data_killed_at_random_land_once_on_the_next_run(tmp_path: Path) -> None:
    """sync.new_and_modified and custom field sync under SIGKILL: runs killed while they create customers (and
    update their custom fields) and while they update modified ones; in the end each account has one customer, with
    its custom fields and the account's last values, every status is Sync Complete, and a last run sends nothing."""
    rng = random.Random(f"{SEED}-modified")
    with Sandbox(invoices=20, seed=SEED) as box:
        zuora, netsuite = box.zuora.store, box.netsuite.store
        for account in zuora.all("Account"):
            zuora.set("Account", account["Id"], {"Region__c": f"EMEA & <{account['Id'][-4:]}>"})
        config = tmp_path / "zns-sync.yaml"
        box.write_config(config, tmp_path / "state")
        data = yaml.safe_load(config.read_text())
        data["netsuite"].update(batch_size=1, concurrency=1)  # one update a request: a kill lands between them
        data["sync"].update(
            types=["customer"],
            new_and_modified={"customer": True},
            custom_fields={"customer": [{"zuora": "Region__c", "netsuite": "custentityregion"}]},
        )
        config.write_text(yaml.safe_dump(data))
        box.netsuite.faults.latency_per_request = 0.3
        half = max(1, KILLS // 2)
        assert kill_repeatedly(box, config, half, rng, lambda *_: None, "customer", within=2.0) == half
        rounds = iter(range(1, 10 * KILLS))

        def modify(box: Sandbox, rng: random.Random) -> None:
            """Rename most synced accounts (a new UpdatedDate): the next run has updates to send."""
            number = next(rounds)
            for account in zuora.all("Account"):
                if account.get("IntegrationStatus__NS") == "Sync Complete" and rng.random() < 0.8:
                    zuora.set("Account", account["Id"], {"Name": f"{account['Id'][-4:]} round {number}"})

        run_to_completion(config)
        for _ in range(KILLS - half):  # each run killed once its first updates landed, the others on their way
            modify(box, rng)
            written = box.netsuite.counters["records_written"]
            child = start_run_until_written(box, config, "customer")
            time.sleep(rng.uniform(0, 0.3))
            child.kill()
            child.wait()
            assert box.netsuite.counters["records_written"] > written, "the run was killed before it updated"
        box.netsuite.faults.latency_per_request = 0.0
        run_to_completion(config)
        written = box.netsuite.counters["records_written"]
        last = json.loads(zns(config, "run", "--json").stdout)["types"]["customer"]
        assert last["created"] == last["updated"] == last["linked"] == 0
        assert box.netsuite.counters["records_written"] == written
        synced = [a for a in zuora.all("Account") if a.get("IntegrationStatus__NS") == "Sync Complete"]
        customers = [c for c in netsuite.all("Customer") if str(c.get("externalId", "")).startswith("zuora-account-")]
        assert len(synced) >= 5 and len(customers) == len(synced)  # one customer each, nothing created twice
        assert not [a for a in zuora.all("Account") if "custom fields" in str(a.get("IntegrationStatus__NS"))]
        for account in synced:
            customer = netsuite.get("Customer", account["IntegrationId__NS"]) or {}
            assert customer["externalId"] == f"zuora-account-{account['Id']}"
            assert customer["companyName"] == account["Name"]  # the last modification landed
            assert custom(customer, "custentityregion") == account["Region__c"]


# The revenue-recognition follow-up (reference 4.7.2): updates of lines already in NetSuite, killed at random.
def rev_rec_lines(box: Sandbox) -> dict[str, tuple[str, dict[str, object]]]:
    """Every NetSuite invoice line by its Zuora ID: (the record's internalId, the line)."""
    return {
        str(custom(line, FIELDS.line_zuora_id)): (record["internalId"], line)
        for record in box.netsuite.store.all("Invoice")
        for line in record["itemList"]["item"]
    }


def test_revenue_recognition_killed_at_random_updates_each_line_once(tmp_path: Path) -> None:
    with Sandbox(invoices=INVOICES, seed=SEED) as box:
        zuora = box.zuora.store
        product_of = {r["Id"]: r["ProductRatePlanChargeId"] for r in zuora.all("RatePlanCharge")}
        charges = {c["Id"] for c in zuora.all("ProductRatePlanCharge") if c.get("ItemType__NS")}
        for charge in charges:
            zuora.set(
                "ProductRatePlanCharge",
                charge,
                {"RevRecCode": "Straight Line Monthly", "RevRecStart__NS": "Rev Rec Trigger Date"},
            )
        config = tmp_path / "zns-sync.yaml"
        box.write_config(config, tmp_path / "state")
        data = yaml.safe_load(config.read_text())
        data["sync"]["revenue_recognition"] = True
        data["netsuite"]["batch_size"] = 5  # several updateList calls a run: kills land between them
        config.write_text(yaml.safe_dump(data))
        assert (
            zns(config, "run", "--quiet", "--type", "customer", "--type", "item", "--type", "invoice").returncode == 1
        )
        before = rev_rec_lines(box)
        deferred = [
            i for i in zuora.all("InvoiceItem") if i["Id"] in before and product_of[i["RatePlanChargeId"]] in charges
        ]
        assert len(deferred) >= 40 and all(before[i["Id"]][1]["deferRevRec"] is True for i in deferred)
        rng = random.Random(f"{SEED}-revenue-recognition")
        untriggered = list(deferred)
        rng.shuffle(untriggered)

        def trigger_more(box: Sandbox, rng: random.Random) -> None:
            """Zuora gets the trigger dates of a few more items (the last run updated what it had)."""
            for item in [untriggered.pop() for _ in range(min(40, len(untriggered)))]:
                zuora.set(
                    "InvoiceItem",
                    item["Id"],
                    {"RevRecStartDate": item["ServiceStartDate"] + dt.timedelta(days=rng.randint(1, 9))},
                )

        trigger_more(box, rng)
        # The reads and updates of a run take seconds: kills land before, between and after its updateList calls.
        box.netsuite.faults.latency_per_request = 0.1
        box.netsuite.faults.latency_per_record = 0.15
        box.netsuite.faults.lost_response_rate = 0.15
        kills = max(3, KILLS // 2)
        landed = kill_repeatedly(box, config, kills, rng, trigger_more, "revenue-recognition", within=6.0)
        assert landed == kills, "too few kills landed mid-run of revenue-recognition"
        box.netsuite.faults.latency_per_request = box.netsuite.faults.latency_per_record = 0.0
        box.netsuite.faults.lost_response_rate = 0.0
        for _ in range(3):
            done = json.loads(zns(config, "run", "--json", "--type", "revenue-recognition").stdout)
            if done["types"]["revenue-recognition"]["selected"] == 0:
                break
        else:
            raise AssertionError("revenue-recognition did not settle after three clean runs")
        after = rev_rec_lines(box)
        assert after.keys() == before.keys()  # no line added or dropped, no record created
        assert box.netsuite.store.count("Invoice") == len({record for record, _ in before.values()})
        for item in zuora.all("InvoiceItem"):
            if item["Id"] not in before:
                continue
            old, new = before[item["Id"]][1], after[item["Id"]][1]
            assert (new["line"], new["amount"]) == (old["line"], old["amount"])
            if item.get("RevRecStartDate"):
                assert new["deferRevRec"] is False and str(new["revRecStartDate"])[:10] == str(item["RevRecStartDate"])
            else:
                assert new == old
        assert not [s for s in statuses(box, "Invoice") if "Revenue Recognition" in s]
