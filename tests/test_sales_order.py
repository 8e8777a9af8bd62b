"""NetSuite sales orders -> Zuora subscriptions end to end (reference 4.6, 6.6): through the real CLI and clients
against both emulators over real sockets, the NetSuite requests checked against the real 2023_2 XSDs."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from checks import FIELDS, assert_netsuite_origin_consistent, custom, problems, zns
from netsuite_conformance import RealXsdValidator

from zns_sync.destinations import Window, ZuoraDestination, ZuoraRecord
from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox
from zns_sync.sandbox.demo_netsuite import record_netsuite_sales_orders
from zns_sync.zuora import ZuoraClient

CATALOG = ("--type", "product", "--type", "rate-plan")
SALES_ORDER = ("--type", "sales-order")


@pytest.fixture
def orders(ns_box: Sandbox, ns_config: Path) -> dict[str, str]:
    """The catalog synced to NetSuite items, then the demo's sales orders of rate-plan items, by label."""
    done = zns(ns_config, "run", "--quiet", *CATALOG)
    assert done.returncode in (0, 1), done.stderr
    made = record_netsuite_sales_orders(ns_box.netsuite.store, ns_box.zuora.store)
    assert len(made) == 6
    return made


def order(box: Sandbox, internal_id: str) -> dict[str, Any]:
    return box.netsuite.store.get("SalesOrder", internal_id) or {}


def counts(config: Path, *args: str) -> dict[str, int]:
    ran = zns(config, "run", "--json", *SALES_ORDER, *args)
    assert ran.returncode in (0, 1), ran.stderr
    result: dict[str, int] = json.loads(ran.stdout)["types"]["sales-order"]
    return result


def clear(box: Sandbox, internal_id: str) -> None:
    """A person blanks the status, Zuora ID and reference number (reference 4.6: how a sales order is sent again)."""
    fields = {name: "" for name in (FIELDS.transaction_integration_status, FIELDS.transaction_zuora_id,
                                    FIELDS.transaction_reference_number)}  # fmt: skip
    box.netsuite.store.update("SalesOrder", {"internalId": internal_id, "customFieldList": fields})


def test_the_sales_order_sync_turns_the_catalog_on_and_runs_after_it(ns_config: Path) -> None:
    data = yaml.safe_load(ns_config.read_text())
    assert "sales-order" in data["sync"]["types"]  # the demo's NetSuite-origin types
    shown = zns(ns_config, "run", "--dry-run", "--json", "--type", "product", "--type", "sales-order")
    assert shown.returncode in (0, 1), shown.stderr  # product runs: sales-order brings the catalog sync
    data["sync"]["types"] = ["customer", "product"]
    ns_config.write_text(yaml.safe_dump(data))
    refused = zns(ns_config, "run", "--type", "product")
    assert refused.returncode == 2 and "sales-order is not in sync.types" in refused.stderr


def test_dry_run_shows_one_subscription_per_order_and_writes_nothing(
    ns_box: Sandbox, ns_config: Path, orders: dict[str, str]
) -> None:
    written = ns_box.zuora.counters.get("objects_written", 0)
    shown = zns(ns_config, "run", "--dry-run", "--json", *SALES_ORDER)
    assert shown.returncode == 1, shown.stderr  # one order is held back
    records = {r["source_id"]: r for r in json.loads(shown.stdout)["records"]}
    plan = records[orders["sales_order_two_plans"]]
    assert plan["action"] == "create" and plan["payload"]["operation"] == "POST /v1/subscriptions"
    body = plan["payload"]
    assert body["objectType"] == "Subscription" and len(body["subscribeToRatePlans"]) == 2
    assert body["invoiceCollect"] is False and body["termType"] == "TERMED" and body["initialTerm"] == 12
    assert records[orders["sales_order_without_initial_term"]]["action"] == "skip"
    # explain: by the order's number, and an order with no rate-plan line held out by the flow's own rule
    two = order(ns_box, orders["sales_order_two_plans"])
    why = json.loads(zns(ns_config, "explain", "sales-order", two["tranId"], "--json").stdout)
    assert why["source_id"] == two["internalId"] and all(r["met"] for r in why["rules"])
    outside = zns(ns_config, "explain", "sales-order", orders["sales_order_without_rate_plan_line"], "--json")
    assert [r["met"] for r in json.loads(outside.stdout)["rules"]][-1] is False
    assert ns_box.zuora.counters.get("objects_written", 0) == written
    assert ns_box.zuora.store.count("Subscription") == 0


def test_sales_orders_become_subscriptions_with_their_rate_plans(
    ns_box: Sandbox, ns_config: Path, orders: dict[str, str], tmp_path: Path
) -> None:
    found = counts(ns_config)
    assert (found["created"], found["skipped"], found["errors"]) == (3, 1, 0), found
    held = problems(tmp_path / "state")
    assert held[orders["sales_order_without_initial_term"]] == "skipped"
    assert orders["sales_order_not_sent"] not in held and orders["sales_order_without_rate_plan_line"] not in held
    assert assert_netsuite_origin_consistent(ns_box)["SalesOrder"] == 3
    zuora = ns_box.zuora.store
    two = order(ns_box, orders["sales_order_two_plans"])
    subscription = zuora.get("Subscription", custom(two, FIELDS.transaction_zuora_id)) or {}
    assert custom(two, FIELDS.transaction_integration_status) == "Sync Complete"
    assert custom(two, FIELDS.transaction_reference_number) == subscription["Name"]
    assert subscription["Name"].startswith("A-S") and subscription["IntegrationId__NS"] == two["internalId"]
    assert (subscription["TermType"], subscription["InitialTerm"], subscription["AutoRenew"]) == ("TERMED", 12, True)
    assert len([p for p in zuora.all("RatePlan") if p["SubscriptionId"] == subscription["Id"]]) == 2
    evergreen = order(ns_box, orders["sales_order_evergreen"])
    forever = zuora.get("Subscription", custom(evergreen, FIELDS.transaction_zuora_id)) or {}
    assert forever["TermType"] == "EVERGREEN" and "InitialTerm" not in forever  # the same plan twice: two plans
    assert len([p for p in zuora.all("RatePlan") if p["SubscriptionId"] == forever["Id"]]) == 2
    not_sent = order(ns_box, orders["sales_order_not_sent"])
    assert custom(not_sent, FIELDS.transaction_integration_status) is None
    # A second run writes nothing.
    written = ns_box.zuora.counters["objects_written"]
    again = counts(ns_config)
    assert again["created"] == again["linked"] == 0 and ns_box.zuora.counters["objects_written"] == written
    # A status blanked by hand links the subscription found by IntegrationId__NS: no second one.
    clear(ns_box, orders["sales_order_one_plan"])
    linked = counts(ns_config)
    assert (linked["created"], linked["linked"]) == (0, 1) and zuora.count("Subscription") == 3
    one = order(ns_box, orders["sales_order_one_plan"])
    assert custom(one, FIELDS.transaction_integration_status) == "Sync Complete"
    assert custom(one, FIELDS.transaction_reference_number), one  # the number of the subscription found
    # `resync` of an order cleared by hand links the same way, with the number.
    clear(ns_box, orders["sales_order_evergreen"])
    resynced = zns(ns_config, "resync", "sales-order", orders["sales_order_evergreen"], "--json")
    assert resynced.returncode == 0, resynced.stderr
    again_evergreen = order(ns_box, orders["sales_order_evergreen"])
    assert custom(again_evergreen, FIELDS.transaction_reference_number) == forever["Name"]
    assert custom(again_evergreen, FIELDS.transaction_zuora_id) == forever["Id"]
    assert_netsuite_origin_consistent(ns_box)
    # The person fixes the Initial Term: the next run creates it.
    fix = {FIELDS.sales_order_initial_term: 24}
    ns_box.netsuite.store.update(
        "SalesOrder", {"internalId": orders["sales_order_without_initial_term"], "customFieldList": fix}
    )
    assert counts(ns_config)["created"] == 1
    assert assert_netsuite_origin_consistent(ns_box)["SalesOrder"] == 4


def test_skip_reasons(ns_box: Sandbox, ns_config: Path, orders: dict[str, str], tmp_path: Path) -> None:
    changes = {
        "sales_order_two_plans": {FIELDS.sales_order_auto_renew: ""},
        "sales_order_one_plan": {FIELDS.sales_order_term_setting: {"internalId": "9", "name": "MONTHLY"}},
        "sales_order_evergreen": {FIELDS.transaction_customer_id_sales: "8a8aa0ffffffffffffffffffffffffff"},
    }
    for label, fields in changes.items():
        ns_box.netsuite.store.update("SalesOrder", {"internalId": orders[label], "customFieldList": fields})
    found = counts(ns_config)
    assert found["created"] == 0 and found["skipped"] == 4, found
    with Journal(tmp_path / "state") as journal:
        messages = {a.source_id: a.message or "" for _, a, _ in journal.attempts() if a.type == "sales-order"}
    assert "Auto Renew is empty" in messages[orders["sales_order_two_plans"]]
    assert "Term Setting 'MONTHLY' is not TERMED or EVERGREEN" in messages[orders["sales_order_one_plan"]]
    assert "names no Zuora account" in messages[orders["sales_order_evergreen"]]
    assert "Initial Term is empty" in messages[orders["sales_order_without_initial_term"]]
    assert ns_box.zuora.store.count("Subscription") == 0


def test_a_create_still_in_flight_is_unknown_and_the_next_run_links(
    ns_box: Sandbox, ns_config: Path, orders: dict[str, str], tmp_path: Path
) -> None:
    """Another host sends the same create (same Idempotency-Key) and Zuora is still processing it: this run's answer
    is a 409, the order stays `Creating Subscription` (unknown); the next run finds the subscription by
    IntegrationId__NS and links it, with its number."""
    data = yaml.safe_load(ns_config.read_text())
    data["zuora"]["max_retries"] = 0  # no waiting the 409 out
    ns_config.write_text(yaml.safe_dump(data))
    shown = zns(ns_config, "run", "--dry-run", "--json", *SALES_ORDER)
    target = orders["sales_order_one_plan"]
    payload = next(r["payload"] for r in json.loads(shown.stdout)["records"] if r["source_id"] == target)
    fields = {k: v for k, v in payload.items() if k not in ("objectType", "operation")}
    other_host = ZuoraDestination(ZuoraClient(ns_box.settings(tmp_path / "other").zuora), Window(1))
    release = threading.Event()
    ns_box.zuora.faults.processing_gate = release  # the other host's create stays in flight during this run
    sent = threading.Thread(
        target=other_host.create, args=([ZuoraRecord("Subscription", fields, "/v1/subscriptions")],)
    )
    sent.start()
    try:
        deadline = time.monotonic() + 60
        while ns_box.zuora.counters.get("creates_held", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ns_box.zuora.counters.get("creates_held", 0) == 1, "the other host's create never arrived"
        ns_box.zuora.faults.processing_gate = None  # this run's other creates go through at once
        first = counts(ns_config)
    finally:
        release.set()
        sent.join()
        other_host.close()
    assert (first["created"], first["unknown"]) == (2, 1), first
    assert custom(order(ns_box, target), FIELDS.transaction_integration_status) == "Creating Subscription"
    assert ns_box.zuora.store.count("Subscription") == 3
    after = counts(ns_config)
    assert (after["created"], after["linked"]) == (0, 1), after
    assert ns_box.zuora.store.count("Subscription") == 3
    done = order(ns_box, target)
    assert custom(done, FIELDS.transaction_integration_status) == "Sync Complete"
    assert assert_netsuite_origin_consistent(ns_box)["SalesOrder"] == 3


def test_sales_order_requests_follow_the_real_xsds(ns_box: Sandbox, ns_config: Path, orders: dict[str, str]) -> None:
    """The SalesOrder search (TransactionSearchBasic `_salesOrder`, custom fields), the items' search and the status
    writes with the subscription number validate against NetSuite's real 2023_2 XSDs."""
    validator = RealXsdValidator.load_or_skip()
    seen: list[bytes] = []

    def hook(body: bytes) -> None:
        seen.append(body)
        validator(body)

    ns_box.netsuite.request_hook = hook
    assert counts(ns_config)["created"] == 3
    assert any(b"_salesOrder" in body for body in seen)
    assert any(b"updateList" in body and FIELDS.transaction_reference_number.encode() in body for body in seen)
    validator.assert_clean()
    assert validator.validated == len(seen)
