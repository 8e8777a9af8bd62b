"""NetSuite -> Zuora end to end: NetSuite-master customers and NetSuite payments, through the real CLI and clients
against both emulators over real sockets (NetSuite requests checked against the real 2023_2 XSDs, Zuora requests
against Zuora's OpenAPI)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from checks import (
    FIELDS,
    assert_netsuite_origin_consistent,
    custom,
    netsuite_statuses,
    problems,
    set_sync,
    zns,
)
from zuora_conformance import SPECS, check_request

from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox

# What NetSuite's transactions need from Zuora first (the demo's customers are linked already).
FIRST = ["item", "invoice", "payment"]
# Zuora requests of this direction and the OpenAPI operation each one must follow.
OPERATIONS = {
    "/v1/action/create": "actions",
    "/v1/action/update": "actions",
    "/v1/action/query": "actions",
    "/v1/payments": "payments",
    "/v1/payments/{paymentKey}/refunds": "payments",
}


def history(state: Path, source_id: str, flow: str) -> list[tuple[str, str, str | None, str | None]]:
    with Journal(state) as journal:
        return [
            (a.action, a.outcome, a.status_before, a.status_after)
            for _, a, _ in journal.attempts(source_id=source_id)
            if a.type == flow
        ]


def assert_zuora_requests_follow_openapi(box: Sandbox, *templates: str) -> None:
    """Every recorded request to these paths validates against its operation in Zuora's OpenAPI."""
    if not SPECS.is_dir():
        pytest.skip(f"Zuora OpenAPI files not found at {SPECS}")
    patterns = {t: re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(t)) + r"\Z") for t in templates}
    seen = {t: [r for r in box.zuora.requests_seen if p.match(r.path)] for t, p in patterns.items()}
    assert all(seen.values()), f"a request of this direction was not seen: {[t for t, r in seen.items() if not r]}"
    for template, requests in seen.items():
        for request in requests:
            assert check_request(OPERATIONS[template], template, request.method, request) >= 1, request.path


def test_netsuite_customers_become_active_zuora_accounts_with_two_contacts(
    ns_box: Sandbox, ns_config: Path, tmp_path: Path
) -> None:
    odd, zuora = ns_box.netsuite_awkward, ns_box.zuora.store
    ran = zns(ns_config, "run", "--json", "--type", "customer")
    assert ran.returncode == 1, ran.stderr  # the awkward customers need a person
    counts = json.loads(ran.stdout)["types"]["customer"]
    assert (counts["skipped"], counts["blocked"], counts["errors"], counts["linked"]) == (4, 1, 2, 1)
    held = problems(tmp_path / "state")
    for label in ("no_batch", "no_bill_cycle_day", "no_billing_address", "shipping_without_addressee"):
        assert held[odd[f"customer_{label}"]] == "skipped", label
    assert held[odd["customer_child_of_unsynced"]] == "blocked"
    # Zuora refuses what it does not know (a currency, a payment term): Error, with Zuora's message in the log.
    for label, words in (("currency_not_in_zuora", "currency JPY"), ("term_not_in_zuora", "payment term: Net 60")):
        record = ns_box.netsuite.store.get("Customer", odd[f"customer_{label}"]) or {}
        assert custom(record, FIELDS.customer_integration_status) == "Error Creating Customer Account"
        with Journal(tmp_path / "state") as journal:
            assert words in ([a.message for _, a, _ in journal.attempts(source_id=record["internalId"])][-1] or "")
    # Never selected: Send To Zuora not ticked, a lead, an inactive customer.
    for label in ("not_sent", "lead", "inactive"):
        assert history(tmp_path / "state", odd[f"customer_{label}"], "customer") == []
    complete = assert_netsuite_origin_consistent(ns_box)
    individual = zuora.get("Account", custom(ns_box.netsuite.store.get("Customer", odd["customer_individual"]) or {},
                                             FIELDS.customer_zuora_id)) or {}  # fmt: skip
    assert individual["Name"] == "Marie Curie" and individual["Batch"] and individual["BillCycleDay"]
    bill_to, sold_to = zuora.get("Contact", individual["BillToId"]), zuora.get("Contact", individual["SoldToId"])
    assert bill_to and sold_to and bill_to["Id"] != sold_to["Id"]  # two contacts even for one address (4.2)
    assert (bill_to["Description"], sold_to["Description"]) == ("Bill To Contact", "Sold To Contact")
    assert bill_to["Address1"] == sold_to["Address1"] and "Origin__NS" not in individual
    assert history(tmp_path / "state", odd["customer_individual"], "customer") == [
        ("create", "created", None, "Creating Customer Account"),
        ("create", "created", "Creating Customer Account", "Creating Customer Account"),
        ("create", "created", "Creating Customer Account", "Creating Customer Account"),
        ("create", "created", "Creating Customer Account", "Sync Complete"),
    ]
    linked = ns_box.netsuite.store.get("Customer", odd["customer_linked_by_zuora_id"]) or {}
    account = zuora.get("Account", custom(linked, FIELDS.customer_zuora_id)) or {}
    assert account["IntegrationId__NS"] == linked["internalId"] and account["CustomerId__NS"] == linked["entityId"]
    # The child waited for its parent; the next run creates it under the parent's account.
    again = json.loads(zns(ns_config, "run", "--json", "--type", "customer").stdout)["types"]["customer"]
    assert again["created"] == 1 and again["blocked"] == 0
    child = ns_box.netsuite.store.get("Customer", odd["customer_child_of_unsynced"]) or {}
    parent = ns_box.netsuite.store.get("Customer", child["parent"]["internalId"]) or {}
    child_account = zuora.get("Account", custom(child, FIELDS.customer_zuora_id)) or {}
    assert child_account["ParentId"] == custom(parent, FIELDS.customer_zuora_id)
    assert assert_netsuite_origin_consistent(ns_box)["Customer"] == complete["Customer"] + 1
    written = ns_box.zuora.counters["objects_written"]
    third = json.loads(zns(ns_config, "run", "--json", "--type", "customer").stdout)["types"]["customer"]
    assert third["created"] == third["linked"] == 0 and ns_box.zuora.counters["objects_written"] == written
    assert_zuora_requests_follow_openapi(ns_box, "/v1/action/create", "/v1/action/update", "/v1/action/query")


def test_dry_run_previews_the_four_steps_and_writes_nothing(ns_box: Sandbox, ns_config: Path) -> None:
    done = zns(ns_config, "run", "--dry-run", "--json", "--type", "customer")
    assert done.returncode == 1, done.stderr
    records = json.loads(done.stdout)["records"]
    steps = [r for r in records if r["source_id"] == ns_box.netsuite_awkward["customer_individual"]]
    assert [(r["action"], r["reason"]) for r in steps] == [
        ("create", f"step {n} of 4: Creating Customer Account") for n in range(1, 5)
    ]
    assert [s["payload"]["objectType"] for s in steps] == ["Account", "Contact", "Contact", "Account"]
    assert steps[1]["payload"]["AccountId"] == "(the id step 1 writes)"
    assert steps[3]["payload"]["SoldToId"] == "(the id step 3 writes)" and steps[3]["payload"]["Status"] == "Active"
    assert ns_box.zuora.counters.get("objects_written", 0) == 0
    assert netsuite_statuses(ns_box, "Customer")["Creating Customer Account"] == 0


def test_customers_whose_status_was_cleared_by_hand_link_and_never_duplicate(ns_box: Sandbox, ns_config: Path) -> None:
    zns(ns_config, "run", "--quiet", "--type", "customer")
    before = assert_netsuite_origin_consistent(ns_box)
    created = [
        c for c in ns_box.netsuite.store.all("Customer")
        if custom(c, FIELDS.customer_integration_status) == "Sync Complete" and c["entityId"].startswith("C-NS-")
    ]  # fmt: skip
    for customer in created[:3]:  # both fields cleared, as the reference's resync procedure says (3.6)
        fields = {FIELDS.customer_integration_status: "", FIELDS.customer_zuora_id: ""}
        ns_box.netsuite.store.update("Customer", {"internalId": customer["internalId"], "customFieldList": fields})
    accounts, contacts = ns_box.zuora.store.count("Account"), ns_box.zuora.store.count("Contact")
    ran = json.loads(zns(ns_config, "run", "--json", "--type", "customer").stdout)["types"]["customer"]
    assert ran["linked"] == 3 and ran["created"] == 1  # and the child, whose parent synced in the first run
    assert (ns_box.zuora.store.count("Account"), ns_box.zuora.store.count("Contact")) == (accounts + 1, contacts + 2)
    assert assert_netsuite_origin_consistent(ns_box) == {"Customer": before["Customer"] + 1}


@pytest.mark.parametrize("ns_box", [True, False], ids=["IS-on", "IS-off"], indirect=True)
def test_netsuite_payments_and_refunds_reach_zuora(ns_box: Sandbox, ns_config: Path, tmp_path: Path) -> None:
    invoice_settlement = ns_box.invoice_settlement  # the tenant's, and the config's
    first = [*FIRST, "debit-memo"] if invoice_settlement else FIRST  # IS: payments apply to debit memos too
    set_sync(ns_config, invoice_settlement=invoice_settlement, types=[*first, "ns-payment", "ns-refund"])
    assert zns(ns_config, "run", "--quiet").returncode == 1
    odd = ns_box.record_in_netsuite(4)
    ran = zns(ns_config, "run", "--json", "--type", "ns-payment")
    assert ran.returncode == 1, ran.stderr  # two payments need a person
    counts = json.loads(ran.stdout)["types"]["ns-payment"]
    complete = assert_netsuite_origin_consistent(ns_box)
    # IS on: partly applied and unapplied payments sync (the rest unapplied in Zuora); IS off: only fully applied.
    synced = [label for label in odd if re.fullmatch(r"ns_payment_\d", label)] + ["ns_payment_over_several_invoices"]
    synced += (
        ["ns_payment_partly_applied", "ns_payment_unapplied", "ns_payment_to_debit_memo"] if invoice_settlement else []
    )
    synced += [] if invoice_settlement else ["ns_payment_sync_updates_no"]  # Sync Updates gates IS only
    assert counts["created"] == complete["CustomerPayment"] == len(synced)
    for label in synced:
        record = ns_box.netsuite.store.get("CustomerPayment", odd[label]) or {}
        assert custom(record, FIELDS.transaction_integration_status) == "Sync Complete", label
    held = problems(tmp_path / "state")
    assert held[odd["ns_payment_method_not_in_zuora"]] == "skipped"
    # More than the Zuora invoice's open balance: Zuora refuses the application (with Invoice Settlement off, after
    # the draft payment, which the next attempt finds again once a person has corrected the amount).
    assert held[odd["ns_payment_more_than_zuora_balance"]] == "error"
    with Journal(tmp_path / "state") as journal:
        attempts = list(journal.attempts(source_id=odd["ns_payment_more_than_zuora_balance"]))
    assert "exceeds the open balance" in (attempts[-1][1].message or "")
    for label in ("ns_payment_from_zuora", "ns_payment_to_netsuite_invoice"):
        assert history(tmp_path / "state", odd[label], "ns-payment") == []
    several = ns_box.netsuite.store.get("CustomerPayment", odd["ns_payment_over_several_invoices"]) or {}
    payment = ns_box.zuora.store.get("Payment", custom(several, FIELDS.transaction_zuora_id)) or {}
    assert payment["Type"] == "External" and payment["IntegrationId__NS"] == several["internalId"]
    if invoice_settlement:
        partly = ns_box.netsuite.store.get("CustomerPayment", odd["ns_payment_partly_applied"]) or {}
        partial = ns_box.zuora.store.get("Payment", custom(partly, FIELDS.transaction_zuora_id)) or {}
        assert partial["Amount"] == partly["payment"]  # the unapplied 25.00 stays unapplied in Zuora
        to_memo = ns_box.netsuite.store.get("CustomerPayment", odd["ns_payment_to_debit_memo"]) or {}
        memo_payment = custom(to_memo, FIELDS.transaction_zuora_id)
        parts = [p for p in ns_box.zuora.store.all("PaymentPart") if p["PaymentId"] == memo_payment]
        assert any(p.get("DebitMemoId") for p in parts), parts  # applied to the debit memo (checks: the amounts)
        assert_zuora_requests_follow_openapi(ns_box, "/v1/payments")
    else:
        steps = history(tmp_path / "state", several["internalId"], "ns-payment")
        assert [s[1] for s in steps] == ["created", "created", "created", "created"]  # draft, 2 applications, Processed
        assert_zuora_requests_follow_openapi(ns_box, "/v1/action/create", "/v1/action/update")
    # Refunds of Zuora payments through NetSuite credit memos flagged Create Zuora Refund (reference 4.13).
    refunds = json.loads(zns(ns_config, "run", "--json", "--type", "ns-refund").stdout)["types"]["ns-refund"]
    assert refunds["created"] == assert_netsuite_origin_consistent(ns_box)["CustomerRefund"] == 1
    assert custom(ns_box.netsuite.store.get("CustomerRefund", odd["ns_refund"]) or {},
                  FIELDS.transaction_integration_status) == "Sync Complete"  # fmt: skip
    held = problems(tmp_path / "state")
    for label in ("more_than_payment", "of_two_credit_memos", "without_payment_reference"):
        assert held[odd[f"ns_refund_{label}"]] == "skipped", label
    assert history(tmp_path / "state", odd["ns_refund_without_create_flag"], "ns-refund") == []
    if invoice_settlement:
        assert_zuora_requests_follow_openapi(ns_box, "/v1/payments/{paymentKey}/refunds")
    written = ns_box.zuora.counters["objects_written"]
    again = json.loads(zns(ns_config, "run", "--json").stdout)["types"]
    assert all(c["created"] == c["linked"] == 0 for c in again.values()), again
    assert ns_box.zuora.counters["objects_written"] == written


@pytest.mark.parametrize("invoice_settlement", [False, True], ids=["IS-off", "IS-on"])
def test_what_a_clerk_records_in_netsuite_fits_each_zuora_balance(tmp_path: Path, invoice_settlement: bool) -> None:
    """The demo's NetSuite credit memos and payments together apply at most a Zuora invoice's (or debit memo's) balance
    to it, but for the two meant to exceed it: else Zuora refuses whichever lands last (reference 4.15), and which
    one fails depends on the order they reach Zuora (the crash suite compares a killed run's outcome with a clean
    run's). The crash suite's tenant: Zuora payments and adjustments that NetSuite lacks leave Zuora balances below
    NetSuite's amounts remaining, and some invoices get both a credit memo and a payment."""
    with Sandbox(invoices=40, seed=11, invoice_settlement=invoice_settlement, customer_master="netsuite") as box:
        config = tmp_path / "zns-sync.yaml"
        box.write_config(config, tmp_path / "state")
        types = [*FIRST, "debit-memo"] if invoice_settlement else FIRST
        set_sync(config, invoice_settlement=invoice_settlement, types=types)
        assert zns(config, "run", "--quiet").returncode == 1
        made = box.record_in_netsuite(6)
        exceeding = {made.get("ns_payment_more_than_zuora_balance"), made.get("ns_credit_memo_more_than_zuora_balance")}
        kinds = {"INVOICE": "Invoice", "DEBIT_MEMO": "DebitMemo"}
        documents = {
            i["internalId"]: (kinds[kind], custom(i, FIELDS.transaction_zuora_id))
            for i in box.netsuite.store.all("Invoice")
            if (kind := custom(i, FIELDS.transaction_zuora_type)) in kinds
        }
        applied: dict[tuple[str, str], float] = {}
        for record_type in ("CreditMemo", "CustomerPayment"):
            for record in box.netsuite.store.all(record_type):
                if record["internalId"] not in set(made.values()) - exceeding:
                    continue
                for line in (record.get("applyList") or {}).get("apply") or []:
                    if (document := documents.get(str(line["doc"]))) is not None:
                        applied[document] = round(applied.get(document, 0.0) + line["amount"], 2)
        balances = {d: (box.zuora.store.get(*d) or {})["Balance"] for d in applied}
        assert len(applied) > 6  # the plain payments, the credit memos and the awkward payments
        assert {d: (a, balances[d]) for d, a in applied.items() if a > balances[d]} == {}


# Invoice Settlement off, 80 invoices: the demo tenant adjusts its first negative invoice in Zuora (an awkward case
# of the adjustment type), so the NetSuite credit memo of a negative invoice uses the second one.
@pytest.mark.parametrize("ns_box", [(False, 80)], ids=["IS-off"], indirect=True)
def test_netsuite_credit_memos_become_invoice_item_adjustments(
    ns_box: Sandbox, ns_config: Path, tmp_path: Path
) -> None:
    set_sync(ns_config, invoice_settlement=False, types=[*FIRST, "ns-credit-memo"])
    assert zns(ns_config, "run", "--quiet").returncode == 1
    odd = ns_box.record_in_netsuite(1)
    ran = zns(ns_config, "run", "--json", "--type", "ns-credit-memo")
    assert ran.returncode == 1, ran.stderr
    assert json.loads(ran.stdout)["types"]["ns-credit-memo"]["created"] == 2
    assert assert_netsuite_origin_consistent(ns_box)["CreditMemo"] == 2  # also: the amounts and composite ids
    # The negative invoice's credit memo: a charge adjustment brings the negative invoice to zero.
    negative = ns_box.netsuite.store.get("CreditMemo", odd["ns_credit_memo_negative_invoice"]) or {}
    invoice = ns_box.zuora.store.get("Invoice", custom(negative, FIELDS.transaction_zuora_id)) or {}
    assert invoice["Balance"] == 0 and invoice["IntegrationId__NS"] == negative["internalId"]
    held = problems(tmp_path / "state")
    assert held == {odd["ns_credit_memo_more_than_zuora_balance"]: "error"}  # Zuora: more than the balance
    for label in ("partly_applied", "two_zuora_invoices"):
        assert history(tmp_path / "state", odd[f"ns_credit_memo_{label}"], "ns-credit-memo") == []
    written = ns_box.zuora.counters["objects_written"]
    again = json.loads(zns(ns_config, "run", "--json").stdout)["types"]
    assert all(c["created"] == c["linked"] == 0 for c in again.values()), again
    assert ns_box.zuora.counters["objects_written"] == written
    set_sync(ns_config, invoice_settlement=True)
    refused = zns(ns_config, "run")
    assert (
        refused.returncode == 2
        and "'ns-credit-memo' runs only with Invoice Settlement off, and sync.invoice_settlement is true"
        in refused.stderr
    )
    set_sync(ns_config, types=FIRST)
    asked = zns(ns_config, "run", "--type", "ns-credit-memo")
    assert asked.returncode == 2 and "--type ns-credit-memo: runs only with Invoice Settlement off" in asked.stderr


def test_the_netsuite_direction_is_opt_in_and_the_customer_master_is_checked(ns_config: Path) -> None:
    data = yaml.safe_load(ns_config.read_text())
    del data["sync"]["types"]  # the sandbox's config names ns-payment; the default does not
    ns_config.write_text(yaml.safe_dump(data))
    ran = zns(ns_config, "run", "--json")
    assert "ns-payment" not in json.loads(ran.stdout)["types"]  # not in the default sync.types (reference 7.2)
    nothing = zns(ns_config, "run", "--json", "--type", "ns-payment")  # no NetSuite payment recorded yet
    assert nothing.returncode == 0 and json.loads(nothing.stdout)["types"]["ns-payment"]["selected"] == 0
    set_sync(ns_config, customer_master="salesforce")
    refused = zns(ns_config, "run")
    assert refused.returncode == 2 and "sync.customer_master: must be one of 'zuora', 'netsuite'" in refused.stderr


def test_operator_commands_read_the_netsuite_source(ns_box: Sandbox, ns_config: Path) -> None:
    """explain, status, resync and reconcile on the NetSuite -> Zuora direction: the NetSuite search source answers
    main's Source contract (lookup, find, rules, outside, statuses), the Zuora destination finds counterparts."""
    zns(ns_config, "run", "--quiet", "--type", "customer")
    odd = ns_box.netsuite_awkward
    synced = ns_box.netsuite.store.get("Customer", odd["customer_individual"]) or {}
    zuora_id = custom(synced, FIELDS.customer_zuora_id)
    # explain, by internalId and by the customer's number (entityId)
    for key in (synced["internalId"], synced["entityId"]):
        done = zns(ns_config, "explain", "customer", key, "--json")
        assert done.returncode == 0, done.stderr
        why = json.loads(done.stdout)
        assert why["source_id"] == synced["internalId"] and not why["selected"]
        assert why["counterpart_id"] == zuora_id
        assert [r["rule"].split(" (")[0] for r in why["rules"] if not r["met"]] == ["Integration Status"]
    never = ns_box.netsuite.store.get("Customer", odd["customer_not_sent"]) or {}
    outside = json.loads(zns(ns_config, "explain", "customer", never["internalId"], "--json").stdout)
    assert not outside["selected"] and any(not r["met"] for r in outside["rules"])
    missing = zns(ns_config, "explain", "customer", "C-NOT-THERE")
    assert missing.returncode == 2 and "no Customer" in missing.stderr
    # status counts NetSuite records by their Integration Status
    status = zns(ns_config, "status", "--type", "customer", "--json")
    assert status.returncode == 0, status.stderr
    assert "Sync Complete" in status.stdout
    # resync of a customer whose status and Zuora ID were cleared by hand links the Zuora account it has (found by
    # its back-reference), never a second one
    fields = {FIELDS.customer_integration_status: "", FIELDS.customer_zuora_id: ""}
    ns_box.netsuite.store.update("Customer", {"internalId": synced["internalId"], "customFieldList": fields})
    accounts = ns_box.zuora.store.count("Account")
    done = zns(ns_config, "resync", "customer", synced["internalId"], "--json")
    assert done.returncode == 0, done.stderr
    [record] = json.loads(done.stdout)["records"]
    assert record["outcome"] == "linked" and record["counterpart_id"] == zuora_id
    assert ns_box.zuora.store.count("Account") == accounts
    relinked = ns_box.netsuite.store.get("Customer", synced["internalId"]) or {}
    assert custom(relinked, FIELDS.customer_integration_status) == "Sync Complete"
    assert custom(relinked, FIELDS.customer_zuora_id) == zuora_id
    # reconcile leaves the NetSuite -> Zuora types out, saying so
    report = zns(ns_config, "reconcile", "--type", "customer", "--type", "ns-payment", "--json")
    assert report.returncode == 0, report.stderr
    assert set(json.loads(report.stdout)["skipped"]) == {"customer", "ns-payment"}
