"""Payments and two-step refunds end to end: the real CLI and clients against both emulators over real sockets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from checks import applications, assert_consistent, engine, money, problems, statuses, zns

from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox

FIRST = ("--type", "customer", "--type", "item", "--type", "invoice")


def awkward(box: Sandbox) -> dict[str, str]:
    """The demo tenant's awkward records by label (zns_sync.sandbox.demo_tenant)."""
    assert box.summary is not None
    return box.summary.awkward


def history(state: Path, source_id: str) -> list[tuple[str, str, str | None, str | None]]:
    with Journal(state) as journal:
        return [
            (a.action, a.outcome, a.status_before, a.status_after) for _, a, _ in journal.attempts(source_id=source_id)
        ]


@pytest.mark.parametrize("box", [True, False], indirect=True, ids=["IS-on", "IS-off"])
def test_payments_and_refunds_sync_with_their_applications(box: Sandbox, config: Path, tmp_path: Path) -> None:
    invoice_settlement = box.invoice_settlement
    first = zns(config, "run", "--json")
    assert first.returncode == 1, first.stderr
    report = json.loads(first.stdout)["types"]
    synced = assert_consistent(box)  # also: each payment's applications are Zuora's minus what was refunded
    assert synced["Payment"] >= 5 and synced["Refund"] >= 2
    assert report["payment"]["created"] == synced["Payment"] and report["refund"]["created"] == synced["Refund"]
    odd = awkward(box)
    held_back = problems(tmp_path / "state")
    zuora = box.zuora.store
    # The PayPal payment has no NetSuite payment method: skipped; its refund waits for it: blocked.
    assert held_back[odd["payment_unmatched_method"]] == "skipped"
    assert held_back[odd["refund_of_unsyncable_payment"]] == "blocked"
    for key in ("payment_unmatched_method", "refund_of_unsyncable_payment"):
        assert not (zuora.get("Payment", odd[key]) or zuora.get("Refund", odd[key]) or {}).get("IntegrationStatus__NS")
    # Voided payments and cancelled refunds are never selected.
    for object_type, key in (("Payment", "payment_voided"), ("Refund", "refund_canceled")):
        assert not zuora.get(object_type, odd[key]).get("IntegrationStatus__NS")
        assert history(tmp_path / "state", odd[key]) == []
    # A payment over several invoices is one NetSuite payment with one application per invoice.
    several = zuora.get("Payment", odd["payment_over_several_invoices"])
    if several.get("IntegrationStatus__NS") == "Sync Complete":
        record = box.netsuite.store.get("CustomerPayment", several["IntegrationId__NS"])
        assert len(applications(record)) >= 2 and "account" not in record  # never a deposit account
    # A fully refunded application: IS off, the payment syncs its applications and the refund takes them back;
    # IS on, the payment has no parts left, so it does not sync (reference 4.10) and its refund waits.
    full = zuora.get("Refund", odd["refund_full"])
    if invoice_settlement:
        assert held_back[full["Id"]] == "blocked" and not full.get("IntegrationStatus__NS")
        full = zuora.get("Refund", odd["refund"])
    assert full["IntegrationStatus__NS"] == "Sync Complete"
    # The refund's history names both steps, each with the status it moved to.
    steps = history(tmp_path / "state", full["Id"])
    assert steps == [
        ("update", "updated", None, "Creating Refund"),
        ("create", "created", "Creating Refund", "Sync Complete"),
    ]
    refund = box.netsuite.store.get("CustomerRefund", full["IntegrationId__NS"])
    assert money(refund["total"]) == money(full["Amount"])

    writes = box.netsuite.counters["records_written"]
    again = json.loads(zns(config, "run", "--json").stdout)["types"]
    assert all(c["created"] == c["linked"] == 0 for c in again.values())
    assert box.netsuite.counters["records_written"] == writes


def test_dry_run_previews_both_refund_steps_with_their_payloads(box: Sandbox, config: Path) -> None:
    assert zns(config, "run", "--quiet", *FIRST, "--type", "payment").returncode == 1
    before = statuses(box, "Refund")
    done = zns(config, "run", "--dry-run", "--json", "--type", "refund")
    assert done.returncode == 1, done.stderr  # a refund of the unsyncable payment would be blocked
    records = json.loads(done.stdout)["records"]
    full = awkward(box)["refund"]
    update, create = [r for r in records if r["source_id"] == full]
    assert (update["action"], update["reason"]) == ("update", "step 1 of 2: Updating Payment")
    assert update["payload"]["recordType"] == "CustomerPayment"
    assert update["payload"]["applyList"]["replaceAll"] is False
    assert (create["action"], create["reason"]) == ("create", "step 2 of 2: Creating Refund")
    assert create["payload"]["recordType"] == "CustomerRefund"
    assert create["payload"]["externalId"] == f"zuora-refund-{full}"
    assert statuses(box, "Refund") == before and box.netsuite.store.count("CustomerRefund") == 0


def test_recover_and_run_resume_a_refund_at_the_step_it_stopped_in(box: Sandbox, config: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    zns(config, "run", "--quiet")
    done = [r for r in box.zuora.store.all("Refund") if r.get("IntegrationStatus__NS") == "Sync Complete"]
    created, lost = done[:2]
    # A crash after the refund was created but before its status was written, with step 1's status left.
    box.zuora.store.set(
        "Refund",
        created["Id"],
        {
            "IntegrationStatus__NS": "Updating Payment",
            "IntegrationId__NS": None,
            "TransferredToAccounting": "Processing",
        },
    )
    # A crash after step 1's write: the NetSuite refund does not exist.
    box.netsuite.store.delete("CustomerRefund", lost["IntegrationId__NS"])
    box.zuora.store.set(
        "Refund",
        lost["Id"],
        {
            "IntegrationStatus__NS": "Creating Refund",
            "IntegrationId__NS": None,
            "TransferredToAccounting": "Processing",
        },
    )
    with engine(box, state) as e:
        result = e.recover(["refund"])["refund"]
    assert dict(result.recovered) == {created["Id"]: created["IntegrationId__NS"]}
    assert result.not_found == [lost["Id"]]
    assert box.zuora.store.get("Refund", created["Id"])["IntegrationStatus__NS"] == "Sync Complete"
    updates = box.netsuite.counters["calls"].get("updateList", 0)
    ran = json.loads(zns(config, "run", "--json", "--type", "refund").stdout)["types"]["refund"]
    assert ran["created"] == 1 and ran["linked"] == 0
    assert box.netsuite.counters["calls"].get("updateList", 0) == updates  # resumed at step 2: no payment update
    assert history(state, lost["Id"])[-1] == ("create", "created", "Creating Refund", "Sync Complete")
    assert_consistent(box)


def test_a_blanked_refund_links_and_its_payment_keeps_its_applications(box: Sandbox, config: Path) -> None:
    zns(config, "run", "--quiet")
    synced = assert_consistent(box)
    victim = next(r for r in box.zuora.store.all("Refund") if r.get("IntegrationStatus__NS") == "Sync Complete")
    box.zuora.store.set(
        "Refund",
        victim["Id"],
        {"IntegrationStatus__NS": None, "IntegrationId__NS": None, "TransferredToAccounting": None},
    )
    ran = json.loads(zns(config, "run", "--json", "--type", "refund").stdout)["types"]["refund"]
    assert ran["linked"] == 1 and ran["created"] == 0  # step 1 sent again (absolute amounts), step 2 DUP_RCRD
    assert box.zuora.store.get("Refund", victim["Id"])["IntegrationId__NS"] == victim["IntegrationId__NS"]
    assert assert_consistent(box) == synced


def test_a_refund_larger_than_the_unapplied_cash_ends_in_error_with_netsuites_message(
    box: Sandbox, config: Path, tmp_path: Path
) -> None:
    zns(config, "run", "--quiet", *FIRST, "--type", "payment")
    refund_id = awkward(box)["refund"]
    # The Zuora refund claims more than its payment's unapplied cash: NetSuite refuses the refund step.
    box.zuora.store.set(
        "Refund", refund_id, {"Amount": float(box.zuora.store.get("Refund", refund_id)["Amount"]) + 1000}
    )
    assert zns(config, "run", "--quiet", "--type", "refund").returncode == 1
    row = box.zuora.store.get("Refund", refund_id)
    assert row["IntegrationStatus__NS"] == "Error Creating Refund" and row["TransferredToAccounting"] == "Error"
    with Journal(tmp_path / "state") as journal:
        message = [a.message for _, a, _ in journal.attempts(source_id=refund_id)][-1] or ""
    assert message.startswith("USER_ERROR"), message


def test_two_refunds_of_one_payment_sync_in_one_run_one_after_the_other(box: Sandbox, config: Path) -> None:
    zns(config, "run", "--quiet", *FIRST, "--type", "payment")
    store = box.zuora.store
    payment = next(
        p for p in store.all("Payment") if p.get("IntegrationStatus__NS") == "Sync Complete" and not p["RefundAmount"]
    )
    part = next(a for a in store.all("PaymentPart") if a["PaymentId"] == payment["Id"] and a.get("InvoiceId"))
    shares = [round(float(part["Amount"]) / 4, 2), round(float(part["Amount"]) / 3, 2)]
    for share in shares:
        store.add(
            "Refund",
            {
                "RefundNumber": f"R-T{share}", "AccountId": payment["AccountId"], "Amount": share,
                "RefundDate": payment["EffectiveDate"], "Type": "External", "MethodType": "Check",
                "SourceType": "Payment", "Status": "Processed", "PaymentId": payment["Id"],
            },
        )  # fmt: skip
    # With Invoice Settlement the refunds take the cash back from the payment's part: what stays applied shrinks.
    store.set("PaymentPart", part["Id"], {"Amount": round(float(part["Amount"]) - sum(shares), 2)})
    store.set("Payment", payment["Id"], {"RefundAmount": round(sum(shares), 2)})
    ran = json.loads(zns(config, "run", "--json", "--type", "refund").stdout)["types"]["refund"]
    assert ran["errors"] == ran["unknown"] == 0 and ran["created"] >= 2
    mine = [r for r in store.all("Refund") if str(r.get("RefundNumber", "")).startswith("R-T")]
    assert [r["IntegrationStatus__NS"] for r in mine] == ["Sync Complete", "Sync Complete"]
    record = box.netsuite.store.get("CustomerPayment", payment["IntegrationId__NS"])
    doc = str(store.get("Invoice", part["InvoiceId"])["IntegrationId__NS"])
    assert applications(record)[doc] == money(part["Amount"]) - money(round(sum(shares), 2))
    assert_consistent(box)


@pytest.mark.parametrize("max_connections", [40, 12])
def test_records_are_read_one_rest_call_each_as_many_at_once_as_zuoras_connections_leave(
    tmp_path: Path, max_connections: int
) -> None:
    """A payment's parts and a memo and its items are one REST call a record: their reads keep
    `zuora.max_connections` less the 8 lookup threads in flight (32 by default; 16 once, and memos were read more
    slowly than NetSuite writes them)."""
    with Sandbox(invoices=40, seed=5) as box:
        payment = next(iter(box.zuora.store.all("Payment")))["Id"]
        with engine(box, tmp_path / "state", zuora={"max_connections": max_connections}) as e:
            context = e.context
            context.zuora.payment_parts(payment)  # the token, first
            box.zuora.faults.latency_seconds = 0.1
            box.zuora.reset_counters()
            read = context.each(lambda _: context.zuora.payment_parts(payment), [str(i) for i in range(48)])
        assert len(read) == 48
        assert box.zuora.counters["max_in_flight"] == max_connections - 8


def test_a_pass_whose_lookups_read_each_record_looks_them_up_in_slices_of_half_a_write(tmp_path: Path) -> None:
    """A payment's parts are a REST call each, so a payment pass's first wave is read at about the pace it is
    written, and a chunk goes once the slices holding its plans are looked up: slices of half a write let the first
    requests go sooner. Each slice looks up its payments' methods in one query, so the queries count the slices."""
    with Sandbox(invoices=200, seed=5) as box, engine(box, tmp_path / "state", batch_size=40) as e:
        e.run(("customer", "item", "invoice"))
        box.zuora.reset_counters()
        counts = e.run(("payment",))["payment"]
        read = counts.selected + counts.excluded
        requests = box.zuora.counters["requests"]
        methods = [
            r for r in box.zuora.requests_seen if r.path == "/v1/action/query" and b"from PaymentMethod" in r.body
        ]
    assert counts.created > 40 and requests < 1000  # the pass's every request is in the emulator's last 1000
    assert len(methods) == -(-read // 20)  # 5 for 100 payments; 3 in slices of a whole write
