"""The operator's commands through the real CLI against both emulators: output a person can grep, `explain`,
`ignore`, `resync`, `reconcile`, `check --json` and `config show` (issue 11)."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import yaml
from checks import assert_consistent, netsuite_records, zns
from test_cli import assert_one_line_error

from zns_sync.config import settings_from_mapping
from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox

ID = re.compile(r"8a8a[0-9a-f]*")  # the emulator's Zuora ids: 32 hex digits
NUMBER = re.compile(r"\b(?:INV|A|P-|R-|PRPC-)\d+")  # and its document numbers: a prefix and 8 digits


def run_json(config: Path, *args: str, code: int | None = None) -> Any:
    done = zns(config, *args, "--json")
    assert done.returncode == (code if code is not None else done.returncode), done.stderr
    return json.loads(done.stdout)


def explained(config: Path, type_: str, key: str) -> dict[str, Any]:
    data: dict[str, Any] = run_json(config, "explain", type_, key, code=0)
    return data


def assert_searchable(text: str) -> None:
    """No id and no document number is wrapped or cut anywhere in `text`."""
    for token in ID.findall(text):
        assert len(token) == 32, f"an id is cut: {token!r}\n{text}"
    for token in NUMBER.findall(text):
        assert len(re.sub(r"^\D+", "", token)) == 8, f"a number is cut: {token!r}\n{text}"


def test_output_a_person_can_grep_and_explain_says_why(box: Sandbox, config: Path) -> None:
    # A dry run is one line per record; the payloads only on request, apart, as indented JSON.
    plain = zns(config, "run", "--dry-run", "--type", "customer")
    assert plain.returncode == 1 and '"recordType"' not in plain.stdout and "--payloads" in plain.stdout
    payloads = zns(config, "run", "--dry-run", "--payloads", "--type", "customer")
    assert re.search(r'^  "recordType": "Customer",$', payloads.stdout, re.MULTILINE), payloads.stdout
    assert_searchable(payloads.stdout)

    odd = box.summary.awkward if box.summary else {}
    long_name = next(a for a in box.zuora.store.all("Account") if a["Id"] not in odd.values() and a["Name"].isascii())
    box.zuora.store.set("Account", long_name["Id"], {"Name": "N" * 120})  # NetSuite refuses it: Error Creating
    assert zns(config, "run").returncode == 1
    held_back = run_json(config, "log", "--errors", code=0)
    blocked = [a for a in held_back if a["type"] == "invoice" and a["outcome"] == "blocked"]
    assert blocked and all(a["number"].startswith("INV") for a in blocked)
    outputs = {args: zns(config, *args) for args in (("log", "--errors"), ("run", "--dry-run"), ("status",), ("log",))}
    for args, done in outputs.items():
        assert "Traceback" not in done.stderr, (args, done.stderr)
        assert_searchable(done.stdout)
    # The line about an invoice held back names its number beside its id: `grep INV...` finds it, and why.
    for attempt in blocked:
        beside = re.compile(rf"│ invoice +│ {attempt['source_id']} │ {attempt['number']} +│ .*blocked")
        for args in (("log", "--errors"), ("run", "--dry-run")):
            assert beside.search(outputs[args].stdout), (args, attempt)
    # One record's history, by its number or its id.
    number, source_id = blocked[0]["number"], blocked[0]["source_id"]
    history = run_json(config, "log", "--record", number, code=0)
    assert history and {a["source_id"] for a in history} == {source_id}
    assert run_json(config, "log", "--record", source_id, code=0) == history

    # explain, rule by rule: a blocked, a skipped, an errored, an ineligible and a synced record.
    charge = odd["charge_without_item_type"]
    waiting = next(a for a in held_back if "PRPC" in (a["message"] or ""))
    why = explained(config, "invoice", waiting["number"])
    assert why["source_id"] == waiting["source_id"] and why["selected"] and why["verdict"].startswith("blocked")
    assert [d["source_id"] for d in why["dependencies"] if not d["synced"]] == [charge]
    assert [r["rule"] for r in why["rules"] if not r["met"]] == ["every dependency is synced"]
    assert [(a["action"], a["outcome"]) for a in why["history"]] == [("validate", "blocked")]

    skipped = explained(config, "customer", odd["account_unknown_payment_term"])
    assert skipped["verdict"].startswith("skip: payment term 'Net 97'")
    assert [r["seen"] for r in skipped["rules"] if not r["met"]] == [skipped["verdict"].removeprefix("skip: ")]

    errored = explained(config, "customer", long_name["AccountNumber"])
    assert errored["status"] == "Error Creating Customer" and errored["selected"]
    assert [p["action"] for p in errored["next_run"]] == ["create"]  # looked up in NetSuite first: not there
    assert errored["next_run"][0]["payload"]["companyName"] == "N" * 120
    assert "companyName" in (errored["history"][-1]["message"] or "")

    ineligible = explained(config, "invoice", odd["invoice_before_cutover"])
    assert not ineligible["selected"] and not ineligible["next_run"]
    assert [r["rule"].split()[0] for r in ineligible["rules"] if not r["met"]] == ["InvoiceDate"]
    assert ineligible["verdict"].startswith("not selected: InvoiceDate >= '2024-01-01'")

    invoice = next(i for i in box.zuora.store.all("Invoice") if i.get("IntegrationStatus__NS") == "Sync Complete")
    synced = explained(config, "invoice", invoice["Id"])
    assert not synced["selected"] and synced["counterpart_id"] == invoice["IntegrationId__NS"]
    assert {r["rule"].split(":")[0] for r in synced["rules"] if not r["met"]} >= {
        "Integration Status is blank, in flight or in error"
    }
    assert synced["history"][-1]["outcome"] == "created"

    text = zns(config, "explain", "invoice", waiting["number"])
    assert text.returncode == 0, text.stderr
    assert f"invoice {waiting['source_id']} {waiting['number']}" in text.stdout
    assert f"zns-sync explain item {charge}" in text.stdout and "The next run: blocked" in text.stdout
    assert_searchable(text.stdout)
    assert_one_line_error(zns(config, "explain", "payment", waiting["number"]), 2, "is of type invoice")
    assert_one_line_error(zns(config, "explain", "invoice", "INV99999999"), 2, "no Invoice with Id or InvoiceNumber")


def test_ignore_keeps_a_record_out_of_every_run(box: Sandbox, config: Path, tmp_path: Path) -> None:
    assert zns(config, "run").returncode == 1
    odd = box.summary.awkward if box.summary else {}
    charge = odd["charge_without_item_type"]
    held_back = run_json(config, "log", "--errors")
    waiting = [a for a in held_back if charge in (a["message"] or "")]
    ignored, other = waiting[0], waiting[1]

    preview = run_json(config, "ignore", "invoice", ignored["number"], "--dry-run", code=0)
    assert [r["outcome"] for r in preview["records"]] == ["ignored"]
    assert not box.zuora.store.get("Invoice", ignored["source_id"]).get("IntegrationStatus__NS")
    done = run_json(config, "ignore", "invoice", ignored["number"], code=0)
    assert [(r["number"], r["status_after"]) for r in done["records"]] == [(ignored["number"], "Ignore")]
    row = box.zuora.store.get("Invoice", ignored["source_id"])
    assert (row["IntegrationStatus__NS"], row["TransferredToAccounting"]) == ("Ignore", "Ignore")
    with Journal(tmp_path / "state") as journal:
        last = journal.runs(1)[0]
        [(_, attempt, _)] = journal.attempts(run_id=last.id)
    assert last.command == "ignore" and last.user and attempt.outcome == "ignored"

    # The cause is fixed: the run syncs the other invoice it blocked, and leaves the ignored one as it is.
    box.zuora.store.set("ProductRatePlanCharge", charge, {"ItemType__NS": "Service"})
    zns(config, "run")
    assert box.zuora.store.get("Invoice", other["source_id"])["IntegrationStatus__NS"] == "Sync Complete"
    assert box.zuora.store.get("Invoice", ignored["source_id"]) == row
    external_ids = {r.get("externalId") for r in netsuite_records(box, "Invoice")}
    assert f"zuora-invoice-{ignored['source_id']}" not in external_ids

    stuck = next(a for a in held_back if a["type"] == "invoice" and a not in waiting)
    box.zuora.store.set("Invoice", stuck["source_id"], {"IntegrationStatus__NS": "Creating Invoice"})  # cut short
    interrupted = run_json(config, "ignore", "invoice", stuck["number"], code=1)["records"]
    assert interrupted[0]["outcome"] == "refused" and "zns-sync recover --type invoice" in interrupted[0]["message"]
    synced = run_json(config, "ignore", "invoice", other["source_id"], code=1)["records"]
    assert synced[0]["outcome"] == "refused" and "Ignore would hide it" in synced[0]["message"]
    assert box.zuora.store.get("Invoice", other["source_id"])["IntegrationStatus__NS"] == "Sync Complete"
    assert_one_line_error(zns(config, "ignore", "payment", ignored["source_id"]), 2, "is of type invoice")
    assert_one_line_error(zns(config, "ignore", "invoice", other["source_id"], "nope"), 2, "no Invoice")


def test_resync_links_what_exists_and_recreates_what_is_gone(box: Sandbox, config: Path) -> None:
    zns(config, "run")
    paid = {row.get("InvoiceId") for kind in ("InvoicePayment", "PaymentPart") for row in box.zuora.store.all(kind)}
    synced = [i for i in box.zuora.store.all("Invoice") if i.get("IntegrationStatus__NS") == "Sync Complete"]
    kept, gone = [i for i in synced if i["Id"] not in paid][:2]  # NetSuite deletes no invoice a payment applies to
    # Someone set Ignore by hand on a synced invoice and cleared its NetSuite id; the other's NetSuite invoice
    # was deleted, as the connector's procedure says, to send it again.
    box.zuora.store.set("Invoice", kept["Id"], {"IntegrationStatus__NS": "Ignore", "IntegrationId__NS": None})
    box.netsuite.store.delete("Invoice", gone["IntegrationId__NS"])
    invoices = len(netsuite_records(box, "Invoice"))

    preview = run_json(config, "resync", "invoice", kept["InvoiceNumber"], gone["InvoiceNumber"], "--dry-run", code=0)
    assert [r["outcome"] for r in preview["records"]] == ["linked", "reset"]
    assert box.zuora.store.get("Invoice", kept["Id"])["IntegrationStatus__NS"] == "Ignore"

    done = run_json(config, "resync", "invoice", kept["InvoiceNumber"], gone["Id"], code=0)
    assert [(r["outcome"], r["counterpart_id"]) for r in done["records"]] == [
        ("linked", kept["IntegrationId__NS"]),
        ("reset", None),
    ]
    linked = box.zuora.store.get("Invoice", kept["Id"])
    assert (linked["IntegrationStatus__NS"], linked["IntegrationId__NS"]) == (
        "Sync Complete",
        kept["IntegrationId__NS"],
    )
    assert linked["TransferredToAccounting"] == "Yes"
    reset = box.zuora.store.get("Invoice", gone["Id"])
    # product.md 8: TTA is cleared (null reads as No), never written `No`.
    assert [reset.get(f) for f in ("IntegrationStatus__NS", "IntegrationId__NS", "TransferredToAccounting")] == [
        None,
        None,
        None,
    ]
    assert len(netsuite_records(box, "Invoice")) == invoices  # the link made no second record

    zns(config, "run", "--type", "invoice")
    recreated = box.zuora.store.get("Invoice", gone["Id"])
    assert recreated["IntegrationStatus__NS"] == "Sync Complete"
    assert len(netsuite_records(box, "Invoice")) == invoices + 1  # created once
    assert assert_consistent(box)


def test_reconcile_finds_what_is_off_and_nothing_on_a_clean_tenant(box: Sandbox, config: Path, tmp_path: Path) -> None:
    zns(config, "run")
    clean = run_json(config, "reconcile", code=0)
    assert not clean["off"] and not clean["findings"]
    invoices = [t for t in clean["totals"] if t["type"] == "invoice"]
    assert all(t["month"] for t in invoices) and all(t["synced"] == t["destination"] for t in invoices)
    synced = [i for i in box.zuora.store.all("Invoice") if i.get("IntegrationStatus__NS") == "Sync Complete"]
    assert sum(t["synced"] for t in invoices) == len(synced)

    # Planted: a NetSuite invoice with our key whose Zuora invoice does not exist, an amount changed in Zuora after
    # the sync, and a synced payment whose NetSuite payment was deleted.
    orphan = dict(netsuite_records(box, "Invoice")[0])
    del orphan["internalId"]
    orphan_id = "8a8a" + "f" * 28
    orphan["externalId"] = f"zuora-invoice-{orphan_id}"
    box.netsuite.store.insert("Invoice", orphan)
    changed = next(i for i in synced if float(i["Amount"]) > 0)
    box.zuora.store.set("Invoice", changed["Id"], {"Amount": float(changed["Amount"]) + 10})
    payment = next(p for p in box.zuora.store.all("Payment") if p.get("IntegrationStatus__NS") == "Sync Complete")
    box.netsuite.store.delete("CustomerPayment", payment["IntegrationId__NS"])

    sheet = tmp_path / "reconcile.csv"
    off = run_json(config, "reconcile", "--csv", str(sheet), code=1)
    found = {(f["type"], f["kind"], f["source_id"]) for f in off["findings"]}
    assert found == {
        ("invoice", "orphan", orphan_id),
        ("invoice", "amount", changed["Id"]),
        ("payment", "gone", payment["Id"]),
    }
    with sheet.open(newline="") as rows:
        kinds = [row["kind"] for row in csv.DictReader(rows)]
    assert kinds.count("totals") == len(off["totals"]) and sorted(k for k in kinds if k != "totals") == [
        "amount",
        "gone",
        "orphan",
    ]
    text = zns(config, "reconcile", "--type", "payment")
    assert text.returncode == 1 and payment["Id"] in text.stdout and "zns-sync resync payment" in text.stdout
    assert_searchable(text.stdout)
    later = run_json(config, "reconcile", "--type", "invoice", "--since", "2099-01-01", code=0)
    assert not later["findings"] and all(t["month"] == "" or t["source"] == 0 for t in later["totals"])

    report = run_json(config, "check", code=0)
    assert report["concurrency_limit"] == 5 and report["warnings"] == []


def test_config_show_fills_defaults_and_masks_secrets(tmp_path: Path) -> None:
    secrets = {"client_secret": "zuora-s3cret-value", "consumer_secret": "ns-consumer-s3cret", "token_secret": "tk-s3c"}
    zuora = {"client_id": "id", "client_secret": secrets["client_secret"], "base_url": "us-sandbox"}
    netsuite = {"account": "1234_SB1", "consumer_key": "k", "consumer_secret": secrets["consumer_secret"],
                "token_id": "t", "token_secret": secrets["token_secret"]}  # fmt: skip
    config = tmp_path / "cfg.yaml"
    config.write_text(yaml.safe_dump({"zuora": zuora, "netsuite": netsuite, "state_dir": str(tmp_path / "s")}))
    shown = zns(config, "config", "show")
    assert shown.returncode == 0, shown.stderr
    assert not any(s in shown.stdout for s in secrets.values()) and "********" in shown.stdout
    data = yaml.safe_load(shown.stdout)
    assert data["zuora"]["base_url"] == "https://rest.sandbox.na.zuora.com"
    assert data["netsuite"]["concurrency"] == 4 and data["sync"]["types"][0] == "customer"
    assert data["netsuite"]["endpoint_url"].startswith("https://1234-sb1.suitetalk.api.netsuite.com/")
    assert run_json(config, "config", "show", code=0) == data
    data["zuora"]["client_secret"] = secrets["client_secret"]
    data["netsuite"].update(consumer_secret=secrets["consumer_secret"], token_secret=secrets["token_secret"])
    loaded, original = settings_from_mapping(data), settings_from_mapping(yaml.safe_load(config.read_text()))
    unresolved = dataclasses.replace(loaded.netsuite, wsdl_url=None, endpoint_url=None)
    assert dataclasses.replace(loaded, netsuite=unresolved) == original  # it loads back as the same settings
