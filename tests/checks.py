"""Whole-system assertions shared by the end-to-end and crash-safety tests: read both emulators' stores."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from zns_sync.config import NetSuiteFields
from zns_sync.sandbox import Sandbox

FIELDS = NetSuiteFields()
# Zuora object -> (NetSuite record types it may become, the custom field holding the Zuora Id).
COUNTERPARTS = {
    "Account": (("Customer",), FIELDS.customer_zuora_id),
    "ProductRatePlanCharge": (("NonInventorySaleItem", "ServiceSaleItem"), FIELDS.item_zuora_id),
    "Invoice": (("Invoice", "CreditMemo"), FIELDS.transaction_zuora_id),
}


def zns(config: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "zns_sync", "--config", str(config), *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def netsuite_records(box: Sandbox, record_type: str) -> list[dict[str, Any]]:
    return box.netsuite.store.all(record_type)


def line_total(record: dict[str, Any]) -> Decimal:
    lines = (record.get("itemList") or {}).get("item") or []
    return sum((Decimal(str(line.get("amount") or 0)) for line in lines), Decimal(0))


def statuses(box: Sandbox, object_type: str) -> Counter[str]:
    return Counter(str(r.get("IntegrationStatus__NS") or "(blank)") for r in box.zuora.store.all(object_type))


def assert_consistent(box: Sandbox) -> dict[str, int]:
    """No NetSuite record twice; every `Sync Complete` Zuora record points at its own NetSuite record; amounts equal.

    Returns the number of synced records per Zuora object.
    """
    synced: dict[str, int] = {}
    for zuora_object, (ns_types, zuora_id_field) in COUNTERPARTS.items():
        by_internal_id: dict[str, dict[str, Any]] = {}
        zuora_ids: Counter[str] = Counter()
        for ns_type in ns_types:
            for record in netsuite_records(box, ns_type):
                zuora_id = (record.get("customFieldList") or {}).get(zuora_id_field)
                if zuora_id is None:
                    continue  # reference data seeded in NetSuite (the tax item), not ours
                by_internal_id[str(record["internalId"])] = record
                zuora_ids[str(zuora_id)] += 1
        duplicated = {k: v for k, v in zuora_ids.items() if v > 1}
        assert not duplicated, f"{zuora_object}: NetSuite holds duplicates {duplicated}"
        complete = 0
        for row in box.zuora.store.all(zuora_object):
            status = row.get("IntegrationStatus__NS")
            if status != "Sync Complete":
                assert row["Id"] not in zuora_ids or row.get("IntegrationStatus__NS", "").startswith(
                    ("Creating", "Linking", "Error")
                ), f"{zuora_object} {row['Id']} exists in NetSuite but is {status!r}"
                continue
            complete += 1
            internal_id = str(row.get("IntegrationId__NS"))
            assert internal_id in by_internal_id, f"{zuora_object} {row['Id']}: IntegrationId__NS {internal_id} missing"
            record = by_internal_id[internal_id]
            assert (record.get("customFieldList") or {}).get(zuora_id_field) == row["Id"]
            if zuora_object == "Invoice":
                assert row.get("TransferredToAccounting") == "Yes"
                assert line_total(record) == abs(Decimal(str(row["Amount"]))), f"invoice {row['Id']} amounts differ"
        assert complete == sum(zuora_ids.values()), f"{zuora_object}: NetSuite records without a complete source"
        synced[zuora_object] = complete
    return synced
