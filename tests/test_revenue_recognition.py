"""Revenue recognition end to end (reference 4.7.2): the real CLI and clients against both emulators over real
sockets; NetSuite requests checked against the real 2023_2 XSDs (the `box` fixture).

Lines of charges with a RevRecCode go deferred while Zuora has no trigger date; once it has one, the
revenue-recognition type updates those NetSuite lines by their line number, and a second run sends nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from checks import FIELDS, assert_consistent, problems, set_sync, zns
from test_cli import assert_one_line_error

from zns_sync.sandbox import Sandbox

SUBSCRIPTION_END = dt.date(2026, 12, 31)


def busiest_charges(box: Sandbox, count: int) -> list[str]:
    """The synced product charges billed by the most invoice items."""
    zuora = box.zuora.store
    product_of = {r["Id"]: r["ProductRatePlanChargeId"] for r in zuora.all("RatePlanCharge")}
    billed = Counter(product_of[i["RatePlanChargeId"]] for i in zuora.all("InvoiceItem"))
    usable = [c for c, _ in billed.most_common() if zuora.get("ProductRatePlanCharge", c).get("ItemType__NS")]
    return usable[:count]


def items_of(box: Sandbox, charge_id: str) -> list[dict[str, Any]]:
    zuora = box.zuora.store
    plan = {r["Id"] for r in zuora.all("RatePlanCharge") if r["ProductRatePlanChargeId"] == charge_id}
    return [i for i in zuora.all("InvoiceItem") if i["RatePlanChargeId"] in plan]


def charge_of(box: Sandbox, memo_item: dict[str, Any]) -> str | None:
    """The product charge a memo item bills (through its subscription charge or invoice item, or itself)."""
    zuora, kind, key = box.zuora.store, memo_item.get("SourceItemType"), str(memo_item.get("SourceItemId"))
    if kind == "InvoiceDetail":
        key, kind = zuora.get("InvoiceItem", key)["RatePlanChargeId"], "SubscriptionComponent"  # type: ignore[index]
    if kind == "SubscriptionComponent":
        return str(zuora.get("RatePlanCharge", key)["ProductRatePlanChargeId"])  # type: ignore[index]
    return key if kind == "ProductRatePlanCharge" else None


def subscribe(box: Sandbox, items: list[dict[str, Any]], **fields: Any) -> str:
    """A subscription the items belong to."""
    subscription = box.zuora.store.add(
        "Subscription", {"Name": "A-S0001", "Status": "Active", "SubscriptionEndDate": SUBSCRIPTION_END, **fields}
    )
    for item in items:
        box.zuora.store.set("InvoiceItem", item["Id"], {"SubscriptionId": subscription})
    return subscription


def netsuite_lines(box: Sandbox) -> dict[str, dict[str, Any]]:
    """Every NetSuite transaction line by its Zuora ID, with the record's internalId under `_record`."""
    found = {}
    for record_type in ("Invoice", "CreditMemo"):
        for record in box.netsuite.store.all(record_type):
            for line in record["itemList"]["item"]:
                found[line["customFieldList"][FIELDS.line_zuora_id]] = {**line, "_record": record["internalId"]}
    return found


def day(value: Any) -> str:
    return str(value)[:10]


def test_deferred_lines_are_updated_once_zuora_has_the_trigger_date(box: Sandbox, config: Path) -> None:
    zuora = box.zuora.store
    deferred, variable = busiest_charges(box, 2)
    zuora.set("ProductRatePlanCharge", deferred, {
        "RevRecCode": "Straight Line Monthly", "RevRecTemplateType__NS": "Standard",
        "RevRecStart__NS": "Rev Rec Trigger Date", "RevRecEnd__NS": "Subscription End Date",
    })  # fmt: skip
    zuora.set(
        "ProductRatePlanCharge", variable, {"RevRecCode": "Percent Complete", "RevRecTemplateType__NS": "Variable"}
    )
    project = box.netsuite.store.insert("Job", {"companyName": "Rollout", "entityId": "PRJ-1"}).internal_id
    subscribe(box, items_of(box, deferred))
    subscribe(box, items_of(box, variable), Project__NS=project)
    set_sync(config, revenue_recognition=True)

    first = zns(config, "run", "--json")
    assert first.returncode == 1, first.stderr  # the demo tenant's awkward records
    assert "revenue-recognition" in json.loads(first.stdout)["types"]
    assert_consistent(box)
    lines = netsuite_lines(box)
    waiting = [i for i in items_of(box, deferred) if i["Id"] in lines]
    assert len(waiting) >= 3
    for item in waiting:  # no trigger date yet: deferred, the service start for now, the subscription's end
        line = lines[item["Id"]]
        assert line["deferRevRec"] is True
        assert day(line["revRecStartDate"]) == str(item["ServiceStartDate"])
        assert day(line["revRecEndDate"]) == str(SUBSCRIPTION_END)
    projects = [lines[i["Id"]] for i in items_of(box, variable) if i["Id"] in lines]
    assert projects and all(line["job"]["internalId"] == project for line in projects)
    assert all(line["deferRevRec"] is False and "revRecStartDate" not in line for line in projects)
    other = next(line for zuora_id, line in lines.items() if line["customFieldList"][FIELDS.line_item_type] == "Charge"
                 and zuora_id not in {i["Id"] for i in items_of(box, deferred) + items_of(box, variable)})  # fmt: skip
    assert other["deferRevRec"] is False and other["revRecStartDate"] and other["revRecEndDate"]

    # Zuora now has the trigger date of some items (one before its service start: the service start is used).
    one_per_invoice: dict[str, dict[str, Any]] = {}
    for item in waiting:
        one_per_invoice.setdefault(lines[item["Id"]]["_record"], item)
    triggered = list(one_per_invoice.values())[:3]
    assert len(triggered) == 3
    triggers = {
        triggered[0]["Id"]: triggered[0]["ServiceStartDate"] + dt.timedelta(days=4),
        triggered[1]["Id"]: triggered[1]["ServiceStartDate"] + dt.timedelta(days=9),
        triggered[2]["Id"]: triggered[2]["ServiceStartDate"] - dt.timedelta(days=20),
    }
    for item_id, trigger in triggers.items():
        zuora.set("InvoiceItem", item_id, {"RevRecStartDate": trigger})
    before = {line["_record"]: box.netsuite.store.get("Invoice", line["_record"]) for line in lines.values()}
    synced_on = {i["Id"]: i.get("SyncDate__NS") for i in zuora.all("Invoice")}
    update = zns(config, "run", "--type", "revenue-recognition", "--json")
    assert update.returncode == 0, update.stderr
    report = json.loads(update.stdout)["types"]["revenue-recognition"]
    invoices = {lines[i]["_record"] for i in triggers}
    assert report["errors"] == 0 and report["selected"] == len(invoices), report
    after = netsuite_lines(box)
    expected = {
        triggered[0]["Id"]: triggers[triggered[0]["Id"]],
        triggered[1]["Id"]: triggers[triggered[1]["Id"]],
        triggered[2]["Id"]: triggered[2]["ServiceStartDate"],  # the trigger is before the service start
    }
    for item_id, start in expected.items():
        line = after[item_id]
        assert line["deferRevRec"] is False and day(line["revRecStartDate"]) == str(start)
        assert day(line["revRecEndDate"]) == str(SUBSCRIPTION_END)
        assert (line["line"], line["amount"], line["item"]) == (
            lines[item_id]["line"], lines[item_id]["amount"], lines[item_id]["item"])  # fmt: skip
    for zuora_id, line in after.items():  # every other line as it was (replaceAll false: none dropped)
        if zuora_id not in triggers:
            assert line == lines[zuora_id], zuora_id
    for internal_id, record in before.items():
        now = box.netsuite.store.get("Invoice", internal_id)
        if record is not None and now is not None:
            assert now["total"] == record["total"] and len(now["itemList"]["item"]) == len(record["itemList"]["item"])
    for invoice in zuora.all("Invoice"):
        if invoice.get("IntegrationId__NS") in invoices:  # complete again; its first sync date kept
            assert invoice["IntegrationStatus__NS"] == "Sync Complete" and invoice["TransferredToAccounting"] == "Yes"
            assert invoice["SyncDate__NS"] == synced_on[invoice["Id"]]

    writes = box.netsuite.counters["records_written"]
    again = zns(config, "run", "--type", "revenue-recognition", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["types"]["revenue-recognition"]["selected"] == 0
    assert box.netsuite.counters["records_written"] == writes
    assert netsuite_lines(box) == after
    # Left in flight (a run killed after its claim): sent again, absolute values; with no line to update any more (its
    # trigger date removed): held back, with the way out.
    interrupted = [lines[i]["_record"] for i in triggers]
    by_netsuite = {i.get("IntegrationId__NS"): i for i in zuora.all("Invoice")}
    resent, stuck = by_netsuite[interrupted[0]], by_netsuite[interrupted[2]]
    for invoice in (resent, stuck):
        zuora.set("Invoice", invoice["Id"], {"IntegrationStatus__NS": "Updating Revenue Recognition"})
    for item_id in [i for i in triggers if lines[i]["_record"] == interrupted[2]]:
        zuora.set("InvoiceItem", item_id, {"RevRecStartDate": None})
    held = zns(config, "run", "--type", "revenue-recognition", "--json")
    assert held.returncode == 1 and json.loads(held.stdout)["types"]["revenue-recognition"]["skipped"] == 1
    assert zuora.get("Invoice", resent["Id"])["IntegrationStatus__NS"] == "Sync Complete"  # type: ignore[index]
    assert netsuite_lines(box) == after
    assert f"resync invoice {stuck['InvoiceNumber']}" in zns(config, "log", "--errors").stdout
    assert zns(config, "resync", "invoice", stuck["InvoiceNumber"]).returncode == 0
    assert zuora.get("Invoice", stuck["Id"])["IntegrationStatus__NS"] == "Sync Complete"  # type: ignore[index]
    number = next(i["InvoiceNumber"] for i in zuora.all("Invoice") if i.get("IntegrationId__NS") in invoices)
    for procedure in ("resync", "ignore"):  # the invoice's own procedures: the follow-up has no records of its own
        assert_one_line_error(zns(config, procedure, "revenue-recognition", number), 2, "resync them as invoice"
                              if procedure == "resync" else "ignore them as invoice")  # fmt: skip


def test_without_revenue_recognition_nothing_is_sent_and_the_type_is_refused(box: Sandbox, config: Path) -> None:
    assert zns(config, "run", "--quiet", "--type", "customer", "--type", "item", "--type", "invoice").returncode == 1
    lines = netsuite_lines(box)
    assert lines and not [line for line in lines.values() if {"deferRevRec", "revRecStartDate", "job"} & set(line)]
    refused = zns(config, "run", "--type", "revenue-recognition")
    assert_one_line_error(refused, 2, "--type revenue-recognition: runs only when NetSuite uses revenue recognition")
    set_sync(config, types=["invoice", "revenue-recognition"])
    assert_one_line_error(zns(config, "run"), 2, "sync.types[1]: 'revenue-recognition' runs only when NetSuite uses")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"RevRecCode": "Percent Complete", "RevRecTemplateType__NS": "Variable"}, "has no Project__NS"),
        ({"RevRecCode": "Straight Line Monthly", "RevRecStart__NS": "Whenever"}, "RevRecStart__NS is 'Whenever'"),
    ],
)
def test_a_charge_whose_rev_rec_cannot_map_holds_its_invoices_back(
    box: Sandbox, config: Path, tmp_path: Path, fields: dict[str, str], reason: str
) -> None:
    (charge,) = busiest_charges(box, 1)
    box.zuora.store.set("ProductRatePlanCharge", charge, fields)
    set_sync(config, revenue_recognition=True)
    zns(config, "run", "--quiet", "--type", "customer", "--type", "item")
    result = zns(config, "run", "--type", "invoice", "--json")
    assert result.returncode == 1
    billed = {i["InvoiceId"] for i in items_of(box, charge)}
    held = problems(tmp_path / "state")
    assert [i for i in billed if held.get(i) == "skipped"]
    log = zns(config, "log", "--errors", "--json")
    assert reason in log.stdout


def test_memo_lines_take_the_trigger_date_of_the_invoice_item_they_credit(box: Sandbox, config: Path) -> None:
    zuora = box.zuora.store
    memo_items = [m for kind in ("CreditMemoItem", "DebitMemoItem") for m in zuora.all(kind)]
    for charge in {charge_of(box, m) for m in memo_items} - {None}:
        zuora.set(
            "ProductRatePlanCharge",
            str(charge),
            {"RevRecCode": "Straight Line Monthly", "RevRecStart__NS": "Rev Rec Trigger Date"},
        )
    credited = [m for m in memo_items if m.get("SourceItemType") == "InvoiceDetail"]
    triggers = {}
    for memo_item in credited:
        item = zuora.get("InvoiceItem", memo_item["SourceItemId"])
        triggers[memo_item["Id"]] = item["ServiceStartDate"] + dt.timedelta(days=6)  # type: ignore[index]
        zuora.set("InvoiceItem", memo_item["SourceItemId"], {"RevRecStartDate": triggers[memo_item["Id"]]})
    set_sync(config, revenue_recognition=True)
    assert zns(config, "run", "--quiet").returncode == 1
    lines = netsuite_lines(box)
    synced = [m for m in memo_items if m["Id"] in lines and charge_of(box, m)]
    assert synced and {m["Id"] for m in synced} & set(triggers)
    for memo_item in synced:
        line = lines[memo_item["Id"]]
        if memo_item["Id"] in triggers:  # the credited item's trigger date (after the memo item's service start)
            start = max(triggers[memo_item["Id"]], memo_item["ServiceStartDate"])
            assert line["deferRevRec"] is False and day(line["revRecStartDate"]) == str(start)
        else:  # no trigger date of its own: deferred, its service start for now
            assert line["deferRevRec"] is True and day(line["revRecStartDate"]) == str(memo_item["ServiceStartDate"])


@pytest.mark.parametrize("box", [False], indirect=True, ids=["IS-off"])
def test_adjustments_take_the_trigger_date_of_the_item_they_adjust(box: Sandbox, config: Path) -> None:
    zuora = box.zuora.store
    adjusted = [a for a in zuora.all("InvoiceItemAdjustment") if a.get("SourceType") == "InvoiceDetail"]
    assert adjusted
    items = {a["SourceId"]: zuora.get("InvoiceItem", a["SourceId"]) for a in adjusted}
    product_of = {r["Id"]: r["ProductRatePlanChargeId"] for r in zuora.all("RatePlanCharge")}
    for charge in {product_of[i["RatePlanChargeId"]] for i in items.values()}:  # type: ignore[index]
        zuora.set(
            "ProductRatePlanCharge",
            charge,
            {"RevRecCode": "Straight Line Monthly", "RevRecStart__NS": "Rev Rec Trigger Date"},
        )
    triggered = adjusted[0]
    trigger = items[triggered["SourceId"]]["ServiceStartDate"] + dt.timedelta(days=3)  # type: ignore[index]
    zuora.set("InvoiceItem", triggered["SourceId"], {"RevRecStartDate": trigger})
    zuora.set("InvoiceItemAdjustment", triggered["Id"], {"ServiceStartDate": trigger - dt.timedelta(days=3)})
    set_sync(config, revenue_recognition=True)
    assert zns(config, "run", "--quiet").returncode == 1
    lines = netsuite_lines(box)
    synced = [a for a in adjusted if a["Id"] in lines]
    assert triggered in synced and len(synced) >= 2
    for adjustment in synced:
        line = lines[adjustment["Id"]]
        if adjustment is triggered:
            assert line["deferRevRec"] is False and day(line["revRecStartDate"]) == str(trigger)
        else:
            assert line["deferRevRec"] is True
