"""The product catalog, Zuora -> NetSuite (reference 4.3-4.5, 6.3-6.5): products and rate plans become NetSuite
items when the catalog sync is on, a rate plan's item a sub-item of its product's; the Item ID mapping applies to
them and to the charges' items."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from checks import FIELDS, ITEMS, assert_consistent, custom, engine, netsuite_records, problems, set_sync, zns

from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox

CATALOG = ["--type", "product", "--type", "rate-plan"]


def items(box: Sandbox) -> dict[str, dict[str, object]]:
    """NetSuite items by externalId, with their record type."""
    return {
        str(r["externalId"]): {**r, "recordType": t}
        for t in ITEMS
        for r in netsuite_records(box, t)
        if str(r.get("externalId")).startswith("zuora-")  # not the tax item seeded in NetSuite
    }


def test_a_catalog_type_is_refused_without_the_catalog_sync(box: Sandbox, config: Path) -> None:
    refused = zns(config, "run", "--type", "product")
    assert refused.returncode == 2 and "--type product: runs only with the product catalog sync" in refused.stderr
    set_sync(config, force_catalog_sync=True)
    assert zns(config, "run", "--quiet", "--type", "product").returncode == 0


@pytest.mark.parametrize("box", [True, False], ids=["IS-on", "IS-off"], indirect=True)
def test_products_and_rate_plans_become_items_and_a_second_run_writes_nothing(
    box: Sandbox, config: Path, tmp_path: Path
) -> None:
    store = box.zuora.store
    products, plans = store.all("Product"), store.all("ProductRatePlan")
    inventory = products[0]
    store.set("Product", inventory["Id"], {"ItemType__NS": "Inventory"})
    for plan in plans:  # a sub-item is of its parent's type
        if plan["ProductId"] == inventory["Id"]:
            store.set("ProductRatePlan", plan["Id"], {"ItemType__NS": "Inventory"})
    expired = next(p for p in plans if p["ProductId"] != inventory["Id"])
    store.set("ProductRatePlan", expired["Id"], {"EffectiveEndDate": dt.date(2021, 12, 31)})
    set_sync(config, force_catalog_sync=True)

    # Before its product, a rate plan is blocked; the dry run shows what would be sent.
    preview = zns(config, "run", "--dry-run", "--json", *CATALOG)
    assert preview.returncode == 1, preview.stderr
    records = json.loads(preview.stdout)["records"]
    product_plan = next(r for r in records if r["type"] == "product" and r["source_id"] == inventory["Id"])
    assert product_plan["action"] == "create" and product_plan["payload"]["recordType"] == "InventoryItem"
    assert {r["action"] for r in records if r["type"] == "rate-plan"} == {"blocked"}
    assert box.netsuite.counters["records_written"] == 0

    first = zns(config, "run", "--json", *CATALOG)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)["types"]
    assert report["product"]["created"] == len(products)
    assert report["rate-plan"]["created"] == len(plans) - 1  # the expired plan is not selected
    synced = assert_consistent(box)
    assert synced["Product"] == len(products) and synced["ProductRatePlan"] == len(plans) - 1
    assert not store.get("ProductRatePlan", expired["Id"]).get("IntegrationStatus__NS")

    made = items(box)
    product_item = made[f"zuora-product-{inventory['Id']}"]
    assert product_item["recordType"] == "InventoryItem" and product_item["itemId"] == inventory["Name"]
    assert "incomeAccount" not in product_item  # the product item only groups its plans (reference 4.3)
    assert custom(product_item, FIELDS.item_zuora_type) == "PRODUCT"
    for plan in plans:
        if plan["Id"] == expired["Id"]:
            continue
        item = made[f"zuora-rate-plan-{plan['Id']}"]
        assert item["itemId"] == plan["Name"] and float(item["rate"]) == float(plan["Price__NS"])
        assert custom(item, FIELDS.item_zuora_type) == "RATE_PLAN" and custom(item, FIELDS.item_zuora_id) == plan["Id"]

    writes = box.netsuite.counters["records_written"]
    again = json.loads(zns(config, "run", "--json", *CATALOG).stdout)["types"]
    assert all(c["created"] == c["linked"] == 0 for c in again.values())
    assert box.netsuite.counters["records_written"] == writes
    assert assert_consistent(box) == synced


def test_a_blanked_status_links_and_a_bad_price_is_skipped(box: Sandbox, tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = box.zuora.store
    wrong, other = store.all("ProductRatePlan")[:2]
    store.set("ProductRatePlan", wrong["Id"], {"Price__NS": "twelve"})
    other_type = "Inventory"  # its product's is Non Inventory or Service
    store.set("ProductRatePlan", other["Id"], {"ItemType__NS": other_type})
    with engine(box, state, {"force_catalog_sync": True}) as e:
        counts = e.run(["product", "rate-plan"])
    assert counts["rate-plan"].skipped == 2
    reasons = " ".join(problems_reasons(state))
    assert "Price__NS 'twelve' is not an amount" in reasons
    assert f"ItemType__NS '{other_type}' differs from its product's" in reasons
    synced = assert_consistent(box)
    product = store.all("Product")[0]
    plan = next(p for p in store.all("ProductRatePlan") if p.get("IntegrationStatus__NS") == "Sync Complete")
    ids = product["IntegrationId__NS"], plan["IntegrationId__NS"]
    for object_type, row in (("Product", product), ("ProductRatePlan", plan)):
        store.set(object_type, row["Id"], {"IntegrationStatus__NS": None, "IntegrationId__NS": None})
    with engine(box, state, {"force_catalog_sync": True}) as e:
        counts = e.run(["product", "rate-plan"])
    assert counts["product"].linked == counts["rate-plan"].linked == 1
    assert counts["product"].created == counts["rate-plan"].created == 0
    assert (store.get("Product", product["Id"])["IntegrationId__NS"], plan["IntegrationId__NS"]) == ids
    assert assert_consistent(box) == synced


def problems_reasons(state: Path) -> list[str]:
    """The messages of the records the last run could not sync."""
    with Journal(state) as journal:
        run_id = journal.runs(1)[0].id
        return [a.message or "" for _, a, _ in journal.attempts(run_id=run_id, errors_only=True)]


def test_item_id_mapping_by_id_names_every_catalog_item_by_its_zuora_id(box: Sandbox, tmp_path: Path) -> None:
    with engine(box, tmp_path / "state", {"force_catalog_sync": True, "item_id_mapping": "id"}) as e:
        e.run(["product", "rate-plan", "item"])
    assert problems(tmp_path / "state")  # the demo's charge without ItemType__NS
    made = items(box)
    kinds = {"product": "Product", "rate-plan": "Rate Plan", "charge": "Charge"}
    seen = set()
    for external_id, item in made.items():
        kind = next(k for k in kinds if external_id.startswith(f"zuora-{k}-"))
        zuora_id = external_id[len(f"zuora-{kind}-") :]
        assert item["itemId"] == f"Zuora {kinds[kind]} {zuora_id}", item
        seen.add(kind)
    assert seen == set(kinds)
    assert_consistent(box)
