"""`reconcile` at scale: N synced invoices on both sides, reconciled by a child process; its time and peak RSS.

The emulators run here, seeded directly (one account and its customer, then N invoices and their NetSuite
invoices, one in a thousand with an amount that differs); `zns-sync reconcile --type invoice --json` runs as a
child, so that its peak RSS is its own. Both sides stream a page at a time: the peak should not grow with N.
Usage: .venv/bin/python bench/reconcile_memory.py [N ...]  (default: 10000 100000)
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

from bench import run_child
from zns_sync.sandbox import Sandbox

OFF_EVERY = 1000  # one invoice in this many has a NetSuite amount that differs


def seed(box: Sandbox, invoices: int) -> None:
    """One synced account and `invoices` synced invoices, each with its NetSuite invoice."""
    netsuite, zuora = box.netsuite.store, box.zuora.store
    customer = netsuite.insert("Customer", {"companyName": "Bench Ltd", "externalId": "zuora-account-bench"})
    account = zuora.add("Account", {"Name": "Bench Ltd", "AccountNumber": "A-BENCH", "Status": "Active",
                                    "Currency": "USD", "IntegrationId__NS": customer.internal_id,
                                    "IntegrationStatus__NS": "Sync Complete"})  # fmt: skip
    for index in range(invoices):
        invoice_id = zuora.new_id()
        day = dt.date(2024, 1, 1) + dt.timedelta(days=index % 365)
        amount = round(100 + index % 900 + 0.25, 2)
        counterpart = netsuite.insert("Invoice", {
            "externalId": f"zuora-invoice-{invoice_id}", "entity": {"internalId": customer.internal_id},
            "tranDate": dt.datetime(day.year, day.month, day.day), "total": amount + (index % OFF_EVERY == 0),
        })  # fmt: skip
        zuora.add("Invoice", {
            "Id": invoice_id, "InvoiceNumber": f"INV{index:08d}", "AccountId": account, "InvoiceDate": day,
            "Amount": amount, "Status": "Posted", "TransferredToAccounting": "Yes",
            "IntegrationStatus__NS": "Sync Complete", "IntegrationId__NS": counterpart.internal_id,
        })  # fmt: skip


def measure(invoices: int) -> None:
    with Sandbox(invoices=1, seed=1) as box, tempfile.TemporaryDirectory() as tmp:
        seed(box, invoices)
        config = Path(tmp) / "bench.yaml"
        box.write_config(config, Path(tmp) / "state")
        child = run_child(config, "reconcile", "--type", "invoice")
        totals = [t for t in child.report["totals"] if t["type"] == "invoice"]
        found = len(child.report["findings"])
        print(
            f"N={invoices}: {sum(t['source'] for t in totals)} Zuora and {sum(t['destination'] for t in totals)} "
            f"NetSuite invoices in {len(totals)} months; {found} off; {child.seconds:.1f} s; "
            f"client CPU {child.cpu_seconds:.1f} s; peak RSS {child.peak_rss_mb:.0f} MB"
        )


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [10_000, 100_000]:
        measure(n)
