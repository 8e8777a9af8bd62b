"""The connector's settings that name NetSuite records (reference 7.4, 7.5, 6.1, 6.5, 7.1), end to end: the real CLI
and clients against both emulators, every NetSuite request checked against the real 2023_2 XSDs."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from checks import custom, netsuite_records, zns

from zns_sync.config import NetSuiteFields
from zns_sync.destinations import Window
from zns_sync.errors import UntrustedResponseError
from zns_sync.flows.names import CLASS, CURRENCY, DEPARTMENT, INCOME_ACCOUNT, NamesPending, NetSuiteNames
from zns_sync.journal import Journal
from zns_sync.netsuite import NetSuiteClient, NsRecord, RecordRef
from zns_sync.sandbox import Sandbox

FIELDS = NetSuiteFields()


def configure(config: Path, section: str, **values: object) -> None:
    """Set keys of one section of a config file."""
    data = yaml.safe_load(config.read_text())
    data.setdefault(section, {}).update(values)
    config.write_text(yaml.safe_dump(data))


def reasons(state: Path) -> dict[str, str]:
    """Zuora id -> the message of every record the last run held back or NetSuite refused."""
    with Journal(state) as journal:
        run_id = journal.runs(1)[0].id
        return {a.source_id: str(a.message) for _, a, _ in journal.attempts(run_id=run_id, errors_only=True)}


def by_zuora_id(box: Sandbox, record_type: str, script_id: str = FIELDS.transaction_zuora_id) -> dict[str, Any]:
    return {custom(r, script_id): r for r in netsuite_records(box, record_type) if custom(r, script_id)}


def item_ids(box: Sandbox) -> set[str]:
    """The charges the demo tenant's catalog can sync (one has no ItemType__NS on purpose)."""
    return {c["Id"] for c in box.zuora.store.all("ProductRatePlanCharge") if c.get("ItemType__NS")}


def ref(record: dict[str, Any], field: str) -> str | None:
    value = record.get(field)
    return str(value["internalId"]) if isinstance(value, dict) else None


def plain_accounts(box: Sandbox) -> list[dict[str, Any]]:
    """Active accounts the demo tenant holds back for nothing of their own (no awkward name, term or flag)."""
    assert box.summary is not None
    awkward = set(box.summary.awkward.values())
    return [
        a for a in box.zuora.store.all("Account")
        if a["Status"] == "Active" and a["Id"] not in awkward and not a.get("ParentId") and len(a["Name"]) <= 83
    ]  # fmt: skip


def busiest_account(box: Sandbox) -> dict[str, Any]:
    """The plain account with the most posted invoices."""
    plain = {a["Id"]: a for a in plain_accounts(box)}
    counts = Counter(
        r["AccountId"] for r in box.zuora.store.all("Invoice") if r["Status"] == "Posted" and float(r["Amount"]) > 0
    )
    return next(plain[a] for a, _ in counts.most_common() if a in plain)


def test_classifications_by_full_name_land_on_items_transactions_and_lines(
    box: Sandbox, config: Path, tmp_path: Path
) -> None:
    ref_data = box.reference
    configure(
        config,
        "classifications",
        default_department="Sales : EMEA",
        default_class="Services",
        default_location="EMEA : London",
        invoice_line_class="account",  # lines take the account's class; department and location: the item's
    )
    account = busiest_account(box)
    box.zuora.store.set(
        "Account",
        account["Id"],
        {
            "Class__NS": "Subscription : SMB",
            "Location__NS": "Americas : North America : Eastern",
            "Department__NS": None,
        },
    )
    charge = next(c for c in box.zuora.store.all("ProductRatePlanCharge") if c.get("ItemType__NS"))
    box.zuora.store.set("ProductRatePlanCharge", charge["Id"], {"Department__NS": "Engineering"})

    done = zns(config, "run", "--type", "customer", "--type", "item", "--type", "invoice", "--type", "payment")
    assert done.returncode in (0, 1), done.stderr

    # Items: the charge's own value, else the default (reference 6.5).
    items = {**by_zuora_id(box, "NonInventorySaleItem", FIELDS.item_zuora_id),
             **by_zuora_id(box, "ServiceSaleItem", FIELDS.item_zuora_id)}  # fmt: skip
    assert ref(items[charge["Id"]], "department") == ref_data["departments"]["Engineering"]
    others = [item for zuora_id, item in items.items() if zuora_id != charge["Id"]]
    assert others and {ref(i, "department") for i in others} == {ref_data["departments"]["Sales : EMEA"]}
    assert {ref(i, "class") for i in items.values()} == {ref_data["classes"]["Services"]}
    assert {ref(i, "location") for i in items.values()} == {ref_data["locations"]["EMEA : London"]}

    # Transaction headers: the account's value, else the default (reference 6.7, 6.8).
    invoices = by_zuora_id(box, "Invoice")
    mine = [invoices[r["Id"]] for r in box.zuora.store.all("Invoice") if r["Id"] in invoices
            and r["AccountId"] == account["Id"]]  # fmt: skip
    smb = ref_data["classes"]["Subscription : SMB"]
    eastern = ref_data["locations"]["Americas : North America : Eastern"]
    assert mine
    for invoice in mine:
        assert (ref(invoice, "class"), ref(invoice, "location")) == (smb, eastern)
        assert ref(invoice, "department") == ref_data["departments"]["Sales : EMEA"]
        charges = [line for line in invoice["itemList"]["item"] if custom(line, FIELDS.line_item_type) == "Charge"]
        # Invoice Line Class Mapping `account`: the account's class; department and location `charge`: none sent.
        assert charges and all(ref(line, "class") == smb for line in charges)
        assert not any(ref(line, "department") or ref(line, "location") for line in charges)
    accounts = {a["Id"]: a for a in box.zuora.store.all("Account")}
    own_class: Counter[bool] = Counter()
    for row in box.zuora.store.all("Invoice"):
        if row["Id"] in invoices and row["AccountId"] != account["Id"]:
            named = accounts[row["AccountId"]].get("Class__NS")  # the demo tenant names some accounts' class
            own_class[bool(named)] += 1
            invoice = invoices[row["Id"]]
            assert ref(invoice, "class") == ref_data["classes"][named or "Services"]
            lines = [ref(line, "class") for line in invoice["itemList"]["item"]
                     if custom(line, FIELDS.line_item_type) == "Charge"]  # fmt: skip
            assert set(lines) == ({ref_data["classes"][named]} if named else {None})  # blank on the account: none
    assert own_class[True] and own_class[False]
    payments = by_zuora_id(box, "CustomerPayment")
    paid = [payments[r["Id"]] for r in box.zuora.store.all("Payment") if r["Id"] in payments
            and r["AccountId"] == account["Id"]]  # fmt: skip
    assert paid and {(ref(p, "class"), ref(p, "location")) for p in paid} == {(smb, eastern)}


def test_a_name_that_matches_nothing_skips_the_record_naming_value_and_list(
    box: Sandbox, config: Path, tmp_path: Path
) -> None:
    account = busiest_account(box)
    box.zuora.store.set("Account", account["Id"], {"Department__NS": "Sales : Mars"})
    charges = [c for c in box.zuora.store.all("ProductRatePlanCharge") if c.get("ItemType__NS")]
    # A deferred revenue account is no income account: the account type counts, not only the name.
    box.zuora.store.set("ProductRatePlanCharge", charges[0]["Id"], {"AccountingCode": "Deferred Revenue"})
    box.zuora.store.set("ProductRatePlanCharge", charges[1]["Id"], {"RecognizedRevAccount__NS": "Revenue : Services"})
    box.zuora.store.set("ProductRatePlanCharge", charges[2]["Id"], {"Class__NS": "Subscription : Gold"})

    done = zns(config, "run", "--type", "customer", "--type", "item", "--type", "invoice")
    assert done.returncode == 1, done.stderr
    why = reasons(tmp_path / "state")
    assert why[charges[0]["Id"]].endswith("'Deferred Revenue' matches no NetSuite income account by full name")
    assert why[charges[0]["Id"]].startswith("AccountingCode of product charge")
    assert why[charges[2]["Id"]].endswith("'Subscription : Gold' matches no NetSuite class by full name")
    assert charges[1]["Id"] not in why  # RecognizedRevAccount first: an income account that exists
    items = {**by_zuora_id(box, "NonInventorySaleItem", FIELDS.item_zuora_id),
             **by_zuora_id(box, "ServiceSaleItem", FIELDS.item_zuora_id)}  # fmt: skip
    assert ref(items[charges[1]["Id"]], "incomeAccount") == box.reference["accounts"]["Revenue : Services"]
    assert ref(items[charges[3]["Id"]], "incomeAccount") == box.reference["accounts"][charges[3]["AccountingCode"]]
    # Skipped records keep their status; the account's invoices say which department of which account.
    for charge in (charges[0], charges[2]):
        assert not (box.zuora.store.get("ProductRatePlanCharge", charge["Id"]) or {}).get("IntegrationStatus__NS")
    held = [r for r in box.zuora.store.all("Invoice") if r["AccountId"] == account["Id"] and r["Id"] in why]
    assert held
    mars = f"Department__NS of account {account['AccountNumber']} ({account['Id']}) 'Sales : Mars' matches no"
    assert any(why[r["Id"]].startswith(mars) for r in held), [why[r["Id"]] for r in held]
    assert all(not r.get("IntegrationStatus__NS") for r in held if why[r["Id"]].startswith(mars))
    # `explain` says the same, rule by rule.
    invoice = next(r for r in held if why[r["Id"]].startswith(mars))
    told = json.loads(zns(config, "explain", "invoice", invoice["InvoiceNumber"], "--json").stdout)
    rule = next(r for r in told["rules"] if r["rule"] == "its own data maps to the destination")
    assert not rule["met"] and rule["seen"] == why[invoice["Id"]]
    assert told["verdict"] == f"skip: {why[invoice['Id']]}"


def test_subsidiaries_by_name_on_create_and_include_children(box: Sandbox, config: Path, tmp_path: Path) -> None:
    subsidiaries = box.reference["subsidiaries"]
    configure(config, "classifications", default_subsidiary="Parent Company : Americas")
    accounts = plain_accounts(box)
    box.zuora.store.set("Account", accounts[0]["Id"], {"Subsidiary__NS": "Parent Company : EMEA : UK"})
    box.zuora.store.set("Account", accounts[1]["Id"], {"Subsidiary__NS": "EMEA : UK"})  # not the full name
    charge = next(c for c in box.zuora.store.all("ProductRatePlanCharge") if c.get("ItemType__NS"))
    box.zuora.store.set(
        "ProductRatePlanCharge", charge["Id"], {"Subsidiary__NS": "Parent Company : EMEA", "IncludeChildren__NS": "Yes"}
    )

    done = zns(config, "run", "--type", "customer", "--type", "item")
    assert done.returncode == 1, done.stderr
    customers = by_zuora_id(box, "Customer", FIELDS.customer_zuora_id)
    assert ref(customers[accounts[0]["Id"]], "subsidiary") == subsidiaries["Parent Company : EMEA : UK"]
    assert {ref(c, "subsidiary") for k, c in customers.items() if k != accounts[0]["Id"]} == {
        subsidiaries["Parent Company : Americas"]
    }
    assert accounts[1]["Id"] not in customers
    why = reasons(tmp_path / "state")[accounts[1]["Id"]]
    name = f"account {accounts[1]['AccountNumber']} ({accounts[1]['Id']})"
    assert why == f"Subsidiary__NS of {name} 'EMEA : UK' matches no NetSuite subsidiary by full name"
    items = by_zuora_id(box, "NonInventorySaleItem", FIELDS.item_zuora_id)
    items.update(by_zuora_id(box, "ServiceSaleItem", FIELDS.item_zuora_id))
    item = items[charge["Id"]]
    assert [r["internalId"] for r in item["subsidiaryList"]["recordRef"]] == [subsidiaries["Parent Company : EMEA"]]
    assert item["includeChildren"] is True


def test_an_internal_id_that_does_not_exist_is_refused_by_netsuite(box: Sandbox, config: Path, tmp_path: Path) -> None:
    configure(config, "classifications", default_subsidiary=None)  # the sandbox names its subsidiary
    configure(config, "netsuite_defaults", subsidiary="99999")
    done = zns(config, "run", "--type", "customer")
    assert done.returncode == 1, done.stderr
    assert netsuite_records(box, "Customer") == []
    assert "INVALID_KEY_OR_REF: Invalid subsidiary reference key 99999." in set(reasons(tmp_path / "state").values())
    errors = {r.get("IntegrationStatus__NS") for r in box.zuora.store.all("Account")}
    assert "Error Creating Customer" in errors

    configure(config, "netsuite_defaults", subsidiary=str(box.reference["subsidiary"]))
    # The default income account is an internal id sent as is: a deferred revenue account is no income account.
    for charge in box.zuora.store.all("ProductRatePlanCharge"):
        box.zuora.store.set("ProductRatePlanCharge", charge["Id"], {"AccountingCode": None})
    configure(config, "netsuite_defaults", income_account=str(box.reference["accounts"]["Deferred Revenue"]))
    done = zns(config, "run", "--type", "item")
    assert done.returncode == 1
    refused = set(reasons(tmp_path / "state").values())
    deferred = box.reference["accounts"]["Deferred Revenue"]
    assert f"INVALID_KEY_OR_REF: Invalid incomeAccount reference key {deferred}." in refused


def test_revenue_recognition_names_and_the_default_tax_code(box: Sandbox, config: Path, tmp_path: Path) -> None:
    ref_data = box.reference
    configure(config, "sync", revenue_recognition=True, default_tax_code="Not Taxable")
    charges = [c for c in box.zuora.store.all("ProductRatePlanCharge") if c.get("ItemType__NS")]
    rev_rec = {"RevRecCode": "Straight Line Monthly", "DeferredRevAccount__NS": "Deferred Revenue : Subscriptions"}
    box.zuora.store.set("ProductRatePlanCharge", charges[0]["Id"], rev_rec)
    box.zuora.store.set("ProductRatePlanCharge", charges[1]["Id"], {"RevRecCode": "Daily Magic"})

    done = zns(config, "run", "--type", "customer", "--type", "item", "--type", "invoice")
    assert done.returncode == 1, done.stderr
    items = {**by_zuora_id(box, "NonInventorySaleItem", FIELDS.item_zuora_id),
             **by_zuora_id(box, "ServiceSaleItem", FIELDS.item_zuora_id)}  # fmt: skip
    assert ref(items[charges[0]["Id"]], "revRecSchedule") == ref_data["rev_rec_templates"]["Straight Line Monthly"]
    deferred = ref_data["accounts"]["Deferred Revenue : Subscriptions"]
    assert ref(items[charges[0]["Id"]], "deferredRevenueAccount") == deferred
    assert reasons(tmp_path / "state")[charges[1]["Id"]].endswith(
        "'Daily Magic' matches no NetSuite revenue recognition template by name"
    )
    tax_code = ref_data["tax_codes"]["Not Taxable"]
    customers = netsuite_records(box, "Customer")
    invoices = netsuite_records(box, "Invoice")
    assert customers and {ref(c, "taxItem") for c in customers} == {tax_code}
    assert invoices and {ref(i, "taxItem") for i in invoices} == {tax_code}


def test_without_revenue_recognition_the_charge_rev_rec_fields_are_not_sent(
    box: Sandbox, config: Path, tmp_path: Path
) -> None:
    charge = next(c for c in box.zuora.store.all("ProductRatePlanCharge") if c.get("ItemType__NS"))
    box.zuora.store.set("ProductRatePlanCharge", charge["Id"], {"RevRecCode": "Daily Magic"})
    done = zns(config, "run", "--type", "item", "--json")
    assert charge["Id"] not in reasons(tmp_path / "state"), done.stdout
    item = {**by_zuora_id(box, "NonInventorySaleItem", FIELDS.item_zuora_id),
            **by_zuora_id(box, "ServiceSaleItem", FIELDS.item_zuora_id)}[charge["Id"]]  # fmt: skip
    assert "revRecSchedule" not in item and "deferredRevenueAccount" not in item
    assert json.loads(done.stdout)["types"]["item"]["created"] == len(item_ids(box))


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"customer_entity_id": "name"}, "Name"),
        ({"customer_entity_id": "auto"}, None),
        ({"customer_entity_id": "number", "use_account_number_as_entity_id": False}, "AccountNumber"),
        ({"use_account_number_as_entity_id": False}, None),  # the older key keeps working
    ],
)
def test_customer_id_from_number_name_or_netsuite(
    box: Sandbox, config: Path, keys: dict[str, object], expected: str | None
) -> None:
    configure(config, "sync", customer_type="individual", **keys)
    company, person, blank = plain_accounts(box)[:3]
    for account, kind in ((company, "Company"), (person, "Individual"), (blank, None)):
        box.zuora.store.set("Account", account["Id"], {"CustomerType__NS": kind})
    assert zns(config, "run", "--type", "customer").returncode in (0, 1)
    customers = by_zuora_id(box, "Customer", FIELDS.customer_zuora_id)
    for account in box.zuora.store.all("Account"):
        if account["Id"] in customers:
            wanted = account.get(expected) if expected else None
            assert customers[account["Id"]].get("entityId") == wanted
    # Individual versus company: CustomerType__NS says, else sync.customer_type.
    assert customers[company["Id"]].get("isPerson") is None
    for individual in (person, blank):
        record = customers[individual["Id"]]
        assert record["isPerson"] is True
        contact = box.zuora.store.get("Contact", individual["BillToId"]) or {}
        assert (record.get("firstName"), record.get("lastName")) == (contact.get("FirstName"), contact.get("LastName"))


@pytest.mark.parametrize(("entity_id", "expected"), [("name", "companyName"), ("number", "entityId"), ("auto", None)])
def test_netsuite_master_account_number_from_customer_id_name_or_zuora(
    ns_box: Sandbox, ns_config: Path, entity_id: str, expected: str | None
) -> None:
    configure(ns_config, "sync", customer_entity_id=entity_id)
    zns(ns_config, "run", "--type", "customer")
    customers = {c["internalId"]: c for c in ns_box.netsuite.store.all("Customer")}
    created = [a for a in ns_box.zuora.store.all("Account") if a.get("IntegrationId__NS") in customers
               and a.get("Origin__NS") is None and a.get("CustomerId__NS", "").startswith("C-NS-")]  # fmt: skip
    assert created
    for account in created:
        customer = customers[account["IntegrationId__NS"]]
        if expected is None:
            assert account.get("AccountNumber") not in (customer["entityId"], account["Name"])  # Zuora numbers it
        elif expected == "companyName" and customer.get("isPerson"):
            assert account["AccountNumber"] == f"{customer['firstName']} {customer['lastName']}"
        else:
            assert account["AccountNumber"] == customer[expected]


def test_a_bad_setting_is_refused_with_its_key(tmp_path: Path) -> None:
    config = tmp_path / "zns-sync.yaml"
    secrets = {"consumer_secret": "c", "token_secret": "t"}
    netsuite = {"account": "1234_SB1", "consumer_key": "k", "token_id": "t", **secrets}
    config.write_text(yaml.safe_dump({"zuora": {"client_id": "i", "client_secret": "s"}, "netsuite": netsuite}))
    configure(config, "classifications", invoice_line_class="item")
    done = zns(config, "run")
    assert done.returncode == 2
    assert done.stderr.strip() == "zns-sync: classifications.invoice_line_class: must be one of 'account', 'charge'"


def test_transaction_numbers_from_zuora(box: Sandbox, config: Path) -> None:
    configure(config, "sync", transaction_numbers="source")
    types = ("customer", "item", "invoice", "payment", "refund", "credit-memo", "debit-memo")
    zns(config, "run", *[arg for t in types for arg in ("--type", t)])
    numbers = {"Invoice": "InvoiceNumber", "Payment": "PaymentNumber", "Refund": "RefundNumber",
               "CreditMemo": "MemoNumber", "DebitMemo": "MemoNumber"}  # fmt: skip
    records = {
        custom(r, FIELDS.transaction_zuora_id): r
        for t in ("Invoice", "CreditMemo", "CustomerPayment", "CustomerRefund")
        for r in netsuite_records(box, t)
    }
    seen = Counter()
    for zuora_object, number in numbers.items():
        for row in box.zuora.store.all(zuora_object):
            if row["Id"] in records:
                assert records[row["Id"]]["tranId"] == row[number]
                seen[zuora_object] += 1
    assert set(seen) == set(numbers), seen


def test_names_are_looked_up_once_a_run(box: Sandbox, tmp_path: Path) -> None:
    settings = box.settings(tmp_path)
    with NetSuiteClient(settings.netsuite, cache_dir=tmp_path) as client:
        names = NetSuiteNames(client)
        before = box.netsuite.counters["search"]
        assert names.id(DEPARTMENT, "Sales : North America") == box.reference["departments"]["Sales : North America"]
        assert names.id(DEPARTMENT, "North America") is None  # the record's own name is not its full name
        assert names.resolve(CLASS, ["Services", "Services", "Nothing"]) == {
            "Services": box.reference["classes"]["Services"]
        }
        assert names.id(INCOME_ACCOUNT, "Deferred Revenue") is None  # the name exists, with another account type
        for _ in range(3):
            names.id(DEPARTMENT, "Sales : North America")
            names.id(DEPARTMENT, "North America")
            names.id(CLASS, "Nothing")
        assert box.netsuite.counters["search"] - before == 5
        # NetSuite refuses a reference to a department that does not exist.
        result = client.add(NsRecord("ServiceSaleItem", {"itemId": "x", "department": RecordRef(internal_id="99999")}))
        assert (result.success, result.code) == (False, "INVALID_KEY_OR_REF")
        assert result.message == "Invalid department reference key 99999."


def test_a_records_new_names_are_looked_up_together_and_a_failed_lookup_is_asked_again(
    box: Sandbox, tmp_path: Path
) -> None:
    """Planning a record inside `deferring`, unanswered names do not wait: each starts its lookup at once (all of
    them in flight together) and a stand-in comes back; a second record asking the same still-unanswered name is
    told to wait (NamesPending). A lookup that failed is forgotten: the next question asks NetSuite again."""
    settings = box.settings(tmp_path)
    with NetSuiteClient(settings.netsuite, cache_dir=tmp_path) as client:
        names = NetSuiteNames(client)
        try:
            box.netsuite.faults.latency_per_request = 0.5  # every lookup is still on the wire when asked again
            box.netsuite.counters.reset()
            with names.deferring() as first:
                assert names.id(DEPARTMENT, "Sales : North America") == ""  # stand-ins
                assert names.id(CLASS, "Services") == ""
                assert names.all(CURRENCY) == {}
            assert first.missed
            with pytest.raises(NamesPending), names.deferring():
                names.id(CLASS, "Services")
            names.wait()
            assert box.netsuite.counters["max_in_flight"] == 3  # the three lookups were on the wire together
            with names.deferring() as second:
                assert (
                    names.id(DEPARTMENT, "Sales : North America")
                    == box.reference["departments"]["Sales : North America"]
                )
                assert names.all(CURRENCY)["USD"]
            assert not second.missed
            box.netsuite.faults.latency_per_request = 0.0
            box.netsuite.faults.hostile_next_n = 1
            with pytest.raises(UntrustedResponseError):
                names.id(DEPARTMENT, "Sales : EMEA")
            assert names.id(DEPARTMENT, "Sales : EMEA") == box.reference["departments"]["Sales : EMEA"]
        finally:
            names.close()


class _Entries(Window):
    """The NetSuite window, telling in which order the requests got a slot (by their threads' names)."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.order: list[str] = []

    def __enter__(self) -> Window:
        entered = super().__enter__()
        self.order.append(threading.current_thread().name)
        return entered


def test_a_name_lookup_goes_before_the_writes_waiting_for_a_netsuite_slot(box: Sandbox, tmp_path: Path) -> None:
    """The planning of a page waits for its NetSuite names, while a write waiting for a slot has its records ready:
    a lookup asked while writes wait gets the next free slot (`Window.urgent`)."""
    settings = box.settings(tmp_path)
    window = _Entries(1)
    with NetSuiteClient(settings.netsuite, cache_dir=tmp_path, gate=window) as client:
        names = NetSuiteNames(client)
        client.get_all("currency")  # the WSDL loaded
        box.netsuite.faults.latency_per_request = 0.3
        window.order.clear()
        income = RecordRef(internal_id=box.reference["accounts"]["Revenue : Services"])
        item = {"itemId": "urgent-test", "incomeAccount": income}
        try:
            with ThreadPoolExecutor(2, thread_name_prefix="write") as writers:
                first = writers.submit(client.add, NsRecord("ServiceSaleItem", item))
                time.sleep(0.1)  # on the wire
                second = writers.submit(client.add, NsRecord("ServiceSaleItem", dict(item, itemId="urgent-test-2")))
                time.sleep(0.1)  # waiting for the slot
                department = names.id(DEPARTMENT, "Sales : EMEA")
                assert first.result().success and second.result().success
        finally:
            names.close()
    assert department == box.reference["departments"]["Sales : EMEA"]
    assert [thread.split("_")[0] for thread in window.order] == ["write", "netsuite-names", "write"]


def test_check_warns_of_default_names_that_match_nothing(box: Sandbox, config: Path) -> None:
    configure(config, "classifications", default_department="Sales : EMEA", default_class="Servicez")
    configure(config, "sync", default_tax_code="VAT 99%")
    done = zns(config, "check", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["warnings"] == [
        "classifications.default_class 'Servicez' matches no NetSuite class by full name",
        "sync.default_tax_code 'VAT 99%' matches no NetSuite tax code by name",
    ]
    assert "warning: classifications.default_class 'Servicez'" in zns(config, "check").stdout
