"""`make bench`: sync N invoices (and their memos and payments) against the emulators with a modelled latency; report
figures.

NetSuite is modelled at 200 ms per request + 20 ms per record with an account concurrency limit of 5, and
Zuora at 50 ms per call. The bound for each flow is concurrency / per-record time = 250 records/s. The sync
runs as a child process (`zns-sync run`), so its CPU time and peak RSS are the client's alone; the emulators
run here. The hosted connector's way (one record per request, one request at a time) is measured on a
smaller N for the speed-up.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zns_sync.sandbox import Sandbox

NS_PER_REQUEST = 0.200
NS_PER_RECORD = 0.020
NS_LIMIT = 5
ZUORA_PER_CALL = 0.050


# Each flow timed on its own, after the flows it depends on (the demo tenant has Invoice Settlement: memos).
TIMED = ("invoice", "debit-memo", "credit-memo", "payment")


@dataclass
class Measure:
    records: int
    seconds: float
    netsuite_calls: int
    zuora_calls: int
    cpu_seconds: float
    peak_rss_mb: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds


@dataclass
class Child:
    report: dict[str, Any]
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float


def run_child(config: Path, command: str, *args: str) -> Child:
    """Run `zns-sync COMMAND ARGS --json` as a child: its report, wall seconds, CPU seconds and peak RSS (its
    alone).

    The peak RSS is sampled from /proc: the kernel's ru_maxrss of a forked child also counts the parent's
    pages from before exec, and the parent here holds both emulators.
    """
    start = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "zns_sync", "--config", str(config), command, *args, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = [0]
    sampler = threading.Thread(target=_sample_rss, args=(child.pid, peak), daemon=True)
    sampler.start()
    out, err = child.communicate()
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode not in (0, 1):
        raise SystemExit(f"zns-sync failed ({child.returncode}): {err.strip()}")
    cpu = usage.ru_utime + usage.ru_stime - _children_cpu[0]
    _children_cpu[0] = usage.ru_utime + usage.ru_stime
    return Child(json.loads(out), time.monotonic() - start, cpu, peak[0] / 1024)


_children_cpu = [0.0]  # CPU of the children already reaped, to take each child's own share


def _sample_rss(pid: int, peak: list[int]) -> None:
    """Track the highest VmRSS (kB) of process `pid` until it exits, 20 times a second."""
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = status.read_text()
        except OSError:
            return
        for line in text.splitlines():
            if line.startswith("VmRSS:"):
                peak[0] = max(peak[0], int(line.split()[1]))
        if "State:\tZ" in text:
            return
        time.sleep(0.05)


def netsuite_calls(box: Sandbox) -> int:
    return sum(box.netsuite.counters.calls.values())


def zuora_calls(box: Sandbox) -> int:
    return int(box.zuora.counters["requests"])


def measure(invoices: int, *, concurrency: int, batch_size: int, seed: int) -> dict[str, Measure]:
    with (
        Sandbox(invoices=invoices, seed=seed, concurrency=concurrency) as box,
        tempfile.TemporaryDirectory() as tmp,
    ):
        config = Path(tmp) / "bench.yaml"
        box.write_config(config, Path(tmp) / "state")
        data = yaml.safe_load(config.read_text())
        data["netsuite"]["batch_size"] = batch_size
        config.write_text(yaml.safe_dump(data))
        box.netsuite.faults.concurrency_limit = NS_LIMIT
        box.netsuite.faults.latency_per_request = NS_PER_REQUEST
        box.netsuite.faults.latency_per_record = NS_PER_RECORD
        box.zuora.faults.latency_seconds = ZUORA_PER_CALL
        # Customers and items first (not timed), so that every invoice is eligible; then each flow on its own.
        run_child(config, "run", "--type", "customer", "--type", "item")
        measures: dict[str, Measure] = {}
        for flow in TIMED:
            ns_before, zuora_before = netsuite_calls(box), zuora_calls(box)
            child = run_child(config, "run", "--type", flow)
            counts = child.report["types"][flow]
            measures[flow] = Measure(
                records=counts["created"] + counts["linked"],
                seconds=child.seconds,
                netsuite_calls=netsuite_calls(box) - ns_before,
                zuora_calls=zuora_calls(box) - zuora_before,
                cpu_seconds=child.cpu_seconds,
                peak_rss_mb=child.peak_rss_mb,
            )
        return measures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=2_000, help="a smaller N, to show RSS does not grow with N")
    parser.add_argument("--connector-invoices", type=int, default=100, help="N for the hosted connector's way")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    bound = NS_LIMIT / NS_PER_RECORD

    print(
        f"model: NetSuite {NS_PER_REQUEST * 1000:.0f} ms/request + {NS_PER_RECORD * 1000:.0f} ms/record, "
        f"concurrency {NS_LIMIT}; Zuora {ZUORA_PER_CALL * 1000:.0f} ms/call; bound {bound:.0f} records/s per flow"
    )
    rows = [measure(n, concurrency=NS_LIMIT, batch_size=200, seed=args.seed) for n in (args.small, args.invoices)]
    hosted = measure(args.connector_invoices, concurrency=1, batch_size=1, seed=args.seed)
    for label, measures in [
        (f"zns-sync N={args.small}", rows[0]),
        (f"zns-sync N={args.invoices}", rows[1]),
        (f"hosted connector's way (1 record/request, 1 in flight) N={args.connector_invoices}", hosted),
    ]:
        for flow, m in measures.items():
            print(
                f"{label} {flow}: {m.records} in {m.seconds:.1f} s = {m.rate:.1f}/s "
                f"({m.rate / bound:.1%} of the bound); "
                f"NetSuite calls/record {m.netsuite_calls / m.records:.4f}; "
                f"Zuora calls/record {m.zuora_calls / m.records:.4f}; "
                f"client CPU {m.cpu_seconds / m.records * 1000:.2f} ms/record; peak RSS {m.peak_rss_mb:.0f} MB"
            )
    for flow in TIMED:
        print(f"{flow}: speed-up over the connector's way: {rows[-1][flow].rate / hosted[flow].rate:.0f}x")


if __name__ == "__main__":
    main()
