"""New and modified master data (sync.new_and_modified, reference 1.3, 4.1-4.5): a synced account, charge or
NetSuite-master customer modified since the last run updates its counterpart, its status untouched, and a run with
nothing modified sends nothing; through the real CLI against both emulators over real sockets."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from checks import FIELDS, custom, problems, set_sync, zns

from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox


def synced(box: Sandbox, object_type: str) -> list[dict[str, Any]]:
    return [r for r in box.zuora.store.all(object_type) if r.get("IntegrationStatus__NS") == "Sync Complete"]


def watermark(state: Path, process: str) -> dt.datetime | None:
    with Journal(state) as journal:
        return journal.watermark(process)


def run(config: Path) -> dict[str, Any]:
    done = zns(config, "run", "--json")
    assert done.returncode in (0, 1), done.stderr
    return dict(json.loads(done.stdout)["types"])


def test_a_modified_account_updates_its_customer_and_keeps_its_status(
    box: Sandbox, config: Path, tmp_path: Path
) -> None:
    set_sync(config, types=["customer", "item"], new_and_modified={"customer": True, "item": True})
    state = tmp_path / "state"
    first = run(config)
    assert first["customer"]["created"] >= 8 and first["customer"]["updated"] == 0
    since = watermark(state, "zuora:customer")
    assert since is not None and since > dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    # Our own write-backs (status, sync date) made every account modified: the next run finds nothing to send.
    written = box.netsuite.counters["records_written"]
    again = run(config)
    assert again["customer"]["updated"] == again["customer"]["created"] == 0
    assert box.netsuite.counters["records_written"] == written

    store = box.zuora.store
    account = synced(box, "Account")[0]
    customer_id = account["IntegrationId__NS"]
    before = box.netsuite.store.get("Customer", customer_id)
    assert before is not None
    store.set("Contact", account["BillToId"], {"City": "Lyon <&> Villeurbanne", "Address1": "1 rue & Co"})
    store.set("Account", account["Id"], {"Name": "Renamed & <Co>", "Notes": "a note"})
    updated_at = store.get("Account", account["Id"])["UpdatedDate"]  # type: ignore[index]
    written = box.netsuite.counters["records_written"]

    preview = zns(config, "run", "--dry-run", "--json", "--type", "customer")
    [update] = [r for r in json.loads(preview.stdout)["records"] if r["action"] == "update"]
    assert update["source_id"] == account["Id"] and update["status"] == "Sync Complete"
    assert update["payload"]["companyName"] == "Renamed & <Co>" and "currency" not in update["payload"]
    assert box.netsuite.counters["records_written"] == written
    explained = json.loads(zns(config, "explain", "customer", account["Id"], "--json").stdout)
    assert explained["selected"] and explained["verdict"].startswith("update")
    assert "after the watermark" in explained["rules"][0]["rule"] and explained["rules"][0]["met"]

    third = run(config)
    assert third["customer"]["updated"] == 1 and third["customer"]["created"] == 0
    assert box.netsuite.counters["records_written"] == written + 1
    after = box.netsuite.store.get("Customer", customer_id)
    assert after is not None
    assert after["companyName"] == "Renamed & <Co>" and after["comments"] == "a note"
    lines = after["addressbookList"]["addressbook"]
    assert len(lines) == len(before["addressbookList"]["addressbook"])  # replaced, not appended
    billing = next(line for line in lines if line.get("defaultBilling"))
    assert billing["addressbookAddress"]["city"] == "Lyon <&> Villeurbanne"
    assert billing["addressbookAddress"]["addressee"] == "Renamed & <Co>"
    # Nothing was written back to Zuora: the status stays, the account is not modified again (reference 1.3).
    now = store.get("Account", account["Id"])
    assert now is not None and now["IntegrationStatus__NS"] == "Sync Complete" and now["UpdatedDate"] == updated_at
    with Journal(state) as journal:
        updates = [a for _, a, _ in journal.attempts(source_id=account["Id"]) if a.outcome == "updated"]
    assert [(u.action, u.status_before, u.status_after) for u in updates] == [
        ("update", "Sync Complete", "Sync Complete")
    ]

    # The watermark moved on and survives runs; a run after the update sends nothing.
    later = watermark(state, "zuora:customer")
    assert later is not None and later > since
    written = box.netsuite.counters["records_written"]
    assert run(config)["customer"]["updated"] == 0
    assert box.netsuite.counters["records_written"] == written

    # A cancelled account makes its customer inactive.
    store.set("Account", account["Id"], {"Status": "Canceled"})
    assert run(config)["customer"]["updated"] == 1
    inactive = box.netsuite.store.get("Customer", customer_id)
    assert inactive is not None and inactive["isInactive"] is True

    # A modified charge updates its item the same way.
    charge = synced(box, "ProductRatePlanCharge")[0]
    store.set("ProductRatePlanCharge", charge["Id"], {"Description": "new words"})
    assert run(config)["item"]["updated"] == 1
    item = next(
        box.netsuite.store.get(t, charge["IntegrationId__NS"])
        for t in ("NonInventorySaleItem", "ServiceSaleItem")
        if box.netsuite.store.get(t, charge["IntegrationId__NS"])
    )
    assert item is not None and item["salesDescription"] == "new words"


def test_a_modified_netsuite_customer_updates_its_account_and_contacts(
    ns_box: Sandbox, ns_config: Path, tmp_path: Path
) -> None:
    set_sync(ns_config, types=["customer"])
    state, store, zuora = tmp_path / "state", ns_box.netsuite.store, ns_box.zuora.store
    run(ns_config)
    run(ns_config)  # a child customer waits one run for its parent
    # Switched on after runs without it: the watermark becomes now, and that run selects nothing (reference 4.1).
    set_sync(ns_config, types=["customer"], new_and_modified={"customer": True})
    written = ns_box.zuora.counters["objects_written"]
    assert run(ns_config)["customer"]["updated"] == 0
    assert ns_box.zuora.counters["objects_written"] == written
    assert watermark(state, "netsuite:customer") is not None

    customer_id = ns_box.netsuite_awkward["customer_individual"]
    customer = store.get("Customer", customer_id)
    assert customer is not None and custom(customer, FIELDS.customer_integration_status) == "Sync Complete"
    lines = customer["addressbookList"]["addressbook"]
    lines[0]["addressbookAddress"]["city"] = "Saint-Malo & <Dinard>"
    store.touch("Customer", customer_id, {"comments": "moved", "addressbookList": {"addressbook": lines}})
    modified_at = (store.get("Customer", customer_id) or {})["lastModifiedDate"]

    assert run(ns_config)["customer"]["updated"] == 1
    account = zuora.get("Account", custom(customer, FIELDS.customer_zuora_id))
    assert account is not None and account["Notes"] == "moved"
    bill_to = zuora.get("Contact", account["BillToId"])
    assert bill_to is not None and bill_to["City"] == "Saint-Malo & <Dinard>"
    after = store.get("Customer", customer_id) or {}
    assert custom(after, FIELDS.customer_integration_status) == "Sync Complete"
    assert after["lastModifiedDate"] == modified_at  # nothing written back to NetSuite: no loop (reference 1.3)

    written = ns_box.zuora.counters["objects_written"]
    assert run(ns_config)["customer"]["updated"] == 0
    assert ns_box.zuora.counters["objects_written"] == written


def test_custom_field_sync_after_the_create_with_its_statuses(box: Sandbox, config: Path, tmp_path: Path) -> None:
    zuora, netsuite = box.zuora.store, box.netsuite.store
    netsuite.custom_field_types.update(
        custentityregion="text", custentityseats="integer", custentityrenewal="date", custbodyprojectno="integer"
    )
    for account in zuora.all("Account"):
        zuora.set(
            "Account", account["Id"], {"Region__c": "EMEA & <North>", "Seats__c": 12, "RenewalDate__c": "2027-01-31"}
        )
    for invoice in zuora.all("Invoice"):
        zuora.set("Invoice", invoice["Id"], {"Region__c": "42"})
    fractional = zuora.all("Account")[-1]["Id"]
    zuora.set("Account", fractional, {"Seats__c": 12.5})  # not an integer: the account is skipped, untouched
    mapping = {
        "customer": [
            {"zuora": "Region__c", "netsuite": "custentityregion"},
            {"zuora": "Seats__c", "netsuite": "custentityseats", "type": "integer"},
            {"zuora": "RenewalDate__c", "netsuite": "custentityrenewal", "type": "date"},
        ],
        # NetSuite's field is an integer; sent as text it is refused: the invoice is created, its custom fields not.
        "invoice": [{"zuora": "Region__c", "netsuite": "custbodyprojectno", "type": "text"}],
    }
    set_sync(config, types=["customer", "item", "invoice"], custom_fields=mapping)
    state = tmp_path / "state"
    run(config)

    assert problems(state)[fractional] == "skipped"
    assert not (zuora.get("Account", fractional) or {}).get("IntegrationStatus__NS")
    with Journal(state) as journal:
        [why] = [a.message for _, a, _ in journal.attempts(source_id=fractional)]
    assert why == "Seats__c 12.5 does not fit custentityseats (type integer) (sync.custom_fields.customer)"
    account = synced(box, "Account")[0]
    customer = netsuite.get("Customer", account["IntegrationId__NS"])
    assert customer is not None
    assert custom(customer, "custentityregion") == "EMEA & <North>"  # escaped on the wire, kept as is
    assert custom(customer, "custentityseats") == 12
    assert str(custom(customer, "custentityrenewal"))[:10] == "2027-01-31"
    with Journal(state) as journal:
        steps = [(a.action, a.status_before, a.status_after) for _, a, _ in journal.attempts(source_id=account["Id"])]
    assert steps == [("create", None, "Updating custom fields"), ("update", "Updating custom fields", "Sync Complete")]

    refused = [r for r in zuora.all("Invoice") if r.get("IntegrationStatus__NS") == "Error updating custom fields"]
    assert refused and not [r for r in zuora.all("Invoice") if r.get("IntegrationStatus__NS") == "Sync Complete"]
    invoice = refused[0]
    created = netsuite.get("Invoice", invoice["IntegrationId__NS"])  # created; its id kept with the error
    assert created is not None and custom(created, "custbodyprojectno") is None
    assert invoice["TransferredToAccounting"] == "Error"
    with Journal(state) as journal:
        last = [a for _, a, _ in journal.attempts(source_id=invoice["Id"])][-1]
    assert last.outcome == "error" and "INVALID_CSTM_FIELD_DATA_TYP" in (last.message or "")

    # The mapping fixed, the next run sends the custom fields again (the connector cannot retry) and completes.
    mapping["invoice"] = [{"zuora": "Region__c", "netsuite": "custbodyprojectno", "type": "integer"}]
    set_sync(config, custom_fields=mapping)
    invoices = netsuite.count("Invoice")
    again = run(config)["invoice"]
    assert again["linked"] == len(refused) and again["created"] == again["errors"] == 0
    assert netsuite.count("Invoice") == invoices  # nothing created twice
    done = zuora.get("Invoice", invoice["Id"])
    assert done is not None and done["IntegrationStatus__NS"] == "Sync Complete"
    assert done["IntegrationId__NS"] == invoice["IntegrationId__NS"] and done["TransferredToAccounting"] == "Yes"
    assert custom(netsuite.get("Invoice", invoice["IntegrationId__NS"]) or {}, "custbodyprojectno") == 42
