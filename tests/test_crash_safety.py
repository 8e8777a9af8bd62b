"""Crash safety: SIGKILL `zns-sync run` at random moments, then run to completion; nothing duplicated or lost.

The two variants cover both Invoice Settlement modes (memos and their REST source on, adjustments off), one of
them with lost NetSuite responses too. CI kills 10 times per variant (20 in all); `make chaos` sets
ZNS_CHAOS_KILLS (default 100) per variant.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from checks import ZUORA_OBJECTS, assert_consistent, statuses, zns

from zns_sync.flows import FLOWS, refusal
from zns_sync.sandbox import Sandbox

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


def kill_repeatedly(
    box: Sandbox, config: Path, kills: int, rng: random.Random, *options: str, longest: float = 3.0
) -> int:
    """Start runs (with `options`) and SIGKILL each after a random delay (at most `longest` seconds) until `kills`
    landed mid-run; returns the kills that landed."""
    killed = started = 0
    while killed < kills and started < 3 * kills:
        started += 1
        child = subprocess.Popen(
            [sys.executable, "-m", "zns_sync", "--config", str(config), "run", "--quiet", *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.5, longest))  # the interpreter and zeep start in about half a second
        if child.poll() is None:
            child.kill()
            killed += 1
        else:
            reopen_some(box, rng)  # the run finished: give the next one work again
        child.wait()
    return killed


def small_batches(config: Path) -> None:
    data = yaml.safe_load(config.read_text())
    data["netsuite"]["batch_size"] = 15
    config.write_text(yaml.safe_dump(data))


def run_to_completion(config: Path, invoice_settlement: bool = True) -> None:
    """Run until a run writes nothing for any type and leaves no outcome unknown."""
    for _ in range(5):
        done = zns(config, "run", "--quiet")
        assert done.returncode in (0, 1), done.stderr
        again = zns(config, "run", "--json")
        types = json.loads(again.stdout)["types"]
        assert set(types) == {name for name in FLOWS if refusal(name, invoice_settlement, True) is None}, types
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
        assert kill_repeatedly(box, config, first, rng) == first, "too few kills landed mid-run to prove anything"
        # The types of both modes synced, the other kills land in runs of each of this mode's own types in turn
        # (debit and credit memos with Invoice Settlement, adjustments without), which come late in a full run.
        both = [arg for name, flow in FLOWS.items() if flow.settlement is None for arg in ("--type", name)]
        zns(config, "run", "--quiet", *both)
        own = [name for name, flow in FLOWS.items() if flow.settlement is invoice_settlement]
        box.netsuite.faults.latency_per_request = 0.5  # a run of one type is short: its writes take long enough
        for index, name in enumerate(own):
            share = (KILLS - first) // len(own) + (index < (KILLS - first) % len(own))
            landed = kill_repeatedly(box, config, share, rng, "--type", name, longest=1.5)
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
        child = subprocess.Popen(
            [sys.executable, "-m", "zns_sync", "--config", str(config), "run", "--quiet", "--type", "refund"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        written = box.netsuite.counters["records_written"]
        deadline = time.monotonic() + 60
        while box.netsuite.counters["records_written"] == written and time.monotonic() < deadline:
            time.sleep(0.005)
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
