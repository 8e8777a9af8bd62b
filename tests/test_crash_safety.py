"""Crash safety: SIGKILL `zns-sync run` at random moments, then run to completion; nothing duplicated or lost.

CI kills 10 times per variant (20 in all); `make chaos` sets ZNS_CHAOS_KILLS (default 100) per variant.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from checks import assert_consistent, statuses, zns

from zns_sync.sandbox import Sandbox

KILLS = int(os.environ.get("ZNS_CHAOS_KILLS", "10"))
INVOICES = 120
SEED = 11


def control_outcome(tmp_path: Path) -> dict[str, dict[str, int]]:
    """What a clean run of the same tenant ends with: per Zuora object, records per final status."""
    with Sandbox(invoices=INVOICES, seed=SEED) as box:
        config = tmp_path / "control.yaml"
        box.write_config(config, tmp_path / "control-state")
        assert zns(config, "run", "--quiet").returncode == 1
        return {t: dict(statuses(box, t)) for t in ("Account", "ProductRatePlanCharge", "Invoice")}


def kill_repeatedly(box: Sandbox, config: Path, kills: int, rng: random.Random) -> int:
    """Start a run and SIGKILL it after a random delay, `kills` times; returns how many died mid-run."""
    killed = 0
    for _ in range(kills):
        child = subprocess.Popen(
            [sys.executable, "-m", "zns_sync", "--config", str(config), "run", "--quiet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.4, 3.5))  # the interpreter and zeep start in about half a second
        if child.poll() is None:
            child.kill()
            killed += 1
        child.wait()
    return killed


def run_to_completion(config: Path) -> None:
    for _ in range(5):
        done = zns(config, "run", "--quiet")
        assert done.returncode in (0, 1), done.stderr
        again = zns(config, "run", "--json")
        if '"created": 0' in again.stdout and '"unknown": 0' in again.stdout and '"linked": 0' in again.stdout:
            return
    raise AssertionError("the tenant did not settle after five clean runs")


@pytest.mark.parametrize("lost_responses", [False, True], ids=["sigkill", "sigkill+lost-responses"])
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path, lost_responses: bool) -> None:
    expected = control_outcome(tmp_path)
    rng = random.Random(f"{SEED}-{lost_responses}")
    with Sandbox(invoices=INVOICES, seed=SEED) as box:
        # Slow enough that a kill lands in every phase: claims, NetSuite writes, write-backs.
        box.netsuite.faults.latency_per_request = 0.05
        box.netsuite.faults.latency_per_record = 0.004
        box.zuora.faults.latency_seconds = 0.01
        if lost_responses:
            box.netsuite.faults.lost_response_rate = 0.15
        config = tmp_path / "zns-sync.yaml"
        box.write_config(config, tmp_path / "state")
        killed = kill_repeatedly(box, config, KILLS, rng)
        assert killed >= KILLS // 2, "too few kills landed mid-run to prove anything"
        box.netsuite.faults.lost_response_rate = 0.0
        run_to_completion(config)
        assert_consistent(box)
        final = {t: dict(statuses(box, t)) for t in ("Account", "ProductRatePlanCharge", "Invoice")}
    assert final == expected
