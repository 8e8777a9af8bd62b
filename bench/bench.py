"""`make bench`: whole runs and each flow on its own against the emulators, with a modelled latency; figures.

NetSuite is modelled at 200 ms per request + 20 ms per record with an account concurrency limit of 5, and Zuora at
50 ms per call; the client keeps `netsuite.concurrency: 4` requests in flight. The bound of any flow is therefore
4 / 20 ms = 200 records/s.

- **Whole run**: one `zns-sync run --type customer --type item --type invoice`, timed from process start, at each
  of `--sizes` invoices (200, 2,000 and 10,000 by default): records synced, share of the bound, peak RSS.
- **Each flow on its own** (`--flows-invoices`, 2,000 by default): customers and items first (not timed), then
  invoice, debit-memo, credit-memo, payment and refund, each one `zns-sync run --type <flow>`, against its own
  bound: 200 of its records/s, less where NetSuite writes a record more than once (a refund updates its payment,
  then is created: 100/s).
- **The hosted connector's way** (one record per request, one request at a time) on `--connector-invoices`, for
  the speed-up; 0 leaves it out.

Every sync runs as a child process, so its CPU time and peak RSS are the client's alone; the emulators run here.
`--repeat N` runs each case N times, each on a fresh tenant, and prints the range: two runs of one version differ by
about two points of the bound.
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zns_sync.sandbox import Sandbox

NS_PER_REQUEST = 0.200
NS_PER_RECORD = 0.020
NS_LIMIT = 5  # the account's limit (the emulator refuses more)
CLIENT_CONCURRENCY = 4  # netsuite.concurrency
ZUORA_PER_CALL = 0.050
BOUND = CLIENT_CONCURRENCY / NS_PER_RECORD  # records/s
# NetSuite's real WSDL and XSDs (about 33 MB in zeep), served by the emulator in place of its own subset, so that
# the client's start-up and memory are those against a real account.
REAL_WSDL = Path(__file__).resolve().parents[1].parent / "shared" / "vendor-specs" / "netsuite-2023_2"

WHOLE_RUN = ("customer", "item", "invoice")
# Each flow timed on its own, after the flows it depends on (the demo tenant has Invoice Settlement: memos).
TIMED = ("invoice", "debit-memo", "credit-memo", "payment", "refund")


@dataclass
class Measure:
    records: int
    seconds: float
    netsuite_calls: int
    zuora_calls: int
    cpu_seconds: float
    peak_rss_mb: float
    bound: float = BOUND  # records/s: a flow's own (`Bench.run`)

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    def line(self, label: str) -> str:
        bound = "the bound" if self.bound == BOUND else f"its bound of {self.bound:.0f}/s"
        return (
            f"{label}: {self.records} in {self.seconds:.1f} s = {self.rate:.1f}/s ({self.rate / self.bound:.1%} of "
            f"{bound}); NetSuite calls/record {self.netsuite_calls / self.records:.4f}; Zuora calls/record "
            f"{self.zuora_calls / self.records:.4f}; client CPU {self.cpu_seconds / self.records * 1000:.2f} "
            f"ms/record; peak RSS {self.peak_rss_mb:.0f} MB"
        )


@dataclass
class Child:
    report: dict[str, Any]
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float


def run_child(config: Path, command: str, *args: str) -> Child:
    """Run `zns-sync COMMAND ARGS --json` as a child: its report, wall seconds from process start, CPU seconds and
    peak RSS (its alone).

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
    seconds = time.monotonic() - start
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode not in (0, 1):
        raise SystemExit(f"zns-sync failed ({child.returncode}): {err.strip()}")
    cpu = usage.ru_utime + usage.ru_stime - _children_cpu[0]
    _children_cpu[0] = usage.ru_utime + usage.ru_stime
    return Child(json.loads(out), seconds, cpu, peak[0] / 1024)


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


def _calls(box: Sandbox) -> tuple[int, int]:
    return sum(box.netsuite.counters.calls.values()), int(box.zuora.counters.get("requests", 0))


class Bench:
    """The emulators seeded with N invoices and modelled, and a config pointing at them."""

    def __init__(self, invoices: int, *, concurrency: int, batch_size: int, seed: int) -> None:
        self.box = Sandbox(invoices=invoices, seed=seed, concurrency=concurrency)
        self.tmp = tempfile.TemporaryDirectory()
        self.config = Path(self.tmp.name) / "bench.yaml"

    def __enter__(self) -> Bench:
        self.box.__enter__()
        if not REAL_WSDL.is_dir():
            raise SystemExit(f"NetSuite's real WSDL is not at {REAL_WSDL}")
        self.box.netsuite.serve_wsdl(REAL_WSDL)
        self.box.write_config(self.config, Path(self.tmp.name) / "state")
        faults = self.box.netsuite.faults
        faults.concurrency_limit = NS_LIMIT
        faults.latency_per_request = NS_PER_REQUEST
        faults.latency_per_record = NS_PER_RECORD
        self.box.zuora.faults.latency_seconds = ZUORA_PER_CALL
        return self

    def __exit__(self, *exc: object) -> None:
        self.box.__exit__(None, None, None)
        self.tmp.cleanup()

    def set_batch_size(self, batch_size: int) -> None:
        data = yaml.safe_load(self.config.read_text())
        data["netsuite"]["batch_size"] = batch_size
        self.config.write_text(yaml.safe_dump(data))

    def run(self, types: Sequence[str], *, own_bound: bool = False) -> Measure:
        """One `zns-sync run` of these types, measured. With `own_bound`, against the bound in its own records: a
        record NetSuite writes twice (a refund updates its payment, then is created) halves it."""
        ns_before, zuora_before = _calls(self.box)
        written_before = self.box.netsuite.counters.records_written
        child = run_child(self.config, "run", *(arg for name in types for arg in ("--type", name)))
        ns_after, zuora_after = _calls(self.box)
        written = self.box.netsuite.counters.records_written - written_before
        counts = [child.report["types"][name] for name in types]
        records = sum(c["created"] + c["linked"] for c in counts)
        return Measure(
            records=records,
            seconds=child.seconds,
            netsuite_calls=ns_after - ns_before,
            zuora_calls=zuora_after - zuora_before,
            cpu_seconds=child.cpu_seconds,
            peak_rss_mb=child.peak_rss_mb,
            bound=BOUND * records / written if own_bound and written > records else BOUND,
        )

    def warm(self) -> None:
        """`zns-sync check` once, so the WSDL is in the state folder's cache as on every run but the first."""
        run_child(self.config, "check")


def whole_run(invoices: int, seed: int) -> Measure:
    with Bench(invoices, concurrency=CLIENT_CONCURRENCY, batch_size=200, seed=seed) as bench:
        bench.warm()
        return bench.run(WHOLE_RUN)


def each_flow(invoices: int, *, concurrency: int, batch_size: int, seed: int) -> dict[str, Measure]:
    with Bench(invoices, concurrency=concurrency, batch_size=batch_size, seed=seed) as bench:
        bench.set_batch_size(batch_size)
        bench.run(("customer", "item"))  # not timed: every invoice is eligible
        return {flow: bench.run((flow,), own_bound=True) for flow in TIMED}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", default="200,2000,10000", help="invoices of each whole run, comma-separated (default %(default)s)"
    )
    parser.add_argument("--flows-invoices", type=int, default=2_000, help="N for each flow on its own (0: none)")
    parser.add_argument("--connector-invoices", type=int, default=60, help="N for the hosted connector's way (0: none)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each case (a fresh tenant each), and their range"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]

    print(
        f"model: NetSuite {NS_PER_REQUEST * 1000:.0f} ms/request + {NS_PER_RECORD * 1000:.0f} ms/record, account "
        f"limit {NS_LIMIT}, client concurrency {CLIENT_CONCURRENCY}; Zuora {ZUORA_PER_CALL * 1000:.0f} ms/call; "
        f"bound {BOUND:.0f} records/s",
        flush=True,
    )
    print("whole run (customer, item, invoice; from process start):", flush=True)
    for size in sizes:
        runs = []
        for _ in range(args.repeat):
            runs.append(whole_run(size, args.seed))
            print("  " + runs[-1].line(f"N={size}"), flush=True)
        _print_range(f"N={size}", runs)
    flows: dict[str, Measure] = {}
    if args.flows_invoices:
        print(f"each flow on its own, N={args.flows_invoices}:", flush=True)
        repeats: dict[str, list[Measure]] = {}
        for _ in range(args.repeat):
            flows = each_flow(args.flows_invoices, concurrency=CLIENT_CONCURRENCY, batch_size=200, seed=args.seed)
            for flow, m in flows.items():
                repeats.setdefault(flow, []).append(m)
                print("  " + m.line(flow), flush=True)
        for flow, runs in repeats.items():
            _print_range(flow, runs)
    if args.connector_invoices:
        print(f"hosted connector's way (1 record/request, 1 in flight), N={args.connector_invoices}:", flush=True)
        hosted = each_flow(args.connector_invoices, concurrency=1, batch_size=1, seed=args.seed)
        for flow, m in hosted.items():
            speed_up = f"; speed-up {flows[flow].rate / m.rate:.0f}x" if flow in flows else ""
            print("  " + m.line(flow) + speed_up, flush=True)


def _print_range(label: str, runs: Sequence[Measure]) -> None:
    """With `--repeat`: the range of the runs' seconds and shares (two runs of one main differ by about two points)."""
    if len(runs) < 2:
        return
    seconds = sorted(m.seconds for m in runs)
    shares = sorted(m.rate / m.bound for m in runs)
    print(
        f"  {label}, {len(runs)} runs: {seconds[0]:.2f}-{seconds[-1]:.2f} s, {shares[0]:.1%}-{shares[-1]:.1%} of "
        f"{'the' if runs[0].bound == BOUND else 'its'} bound",
        flush=True,
    )


if __name__ == "__main__":
    main()
