"""Zuora Account (+ bill-to and sold-to contacts) -> NetSuite Customer with its address book (reference 4.1, 6.1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zns_sync.flows.base import (
    ACCOUNT_NUMBER,
    INTEGRATION_ID_FIELD,
    STATUS_FIELD,
    Dependency,
    Flow,
    Problem,
    Step,
    Write,
    dependency,
    skipped,
)
from zns_sync.netsuite import RecordRef
from zns_sync.status import Action
from zns_sync.zuora import zoql

SYNC_FLAG = "SynctoNetSuite__NS"
CREATING = Step(Action.CREATING, "Customer")
LINKING = Step(Action.LINKING, "Customer")

CONTACT_FIELDS = (
    "Id", "FirstName", "LastName", "Address1", "Address2", "City", "State", "Country", "PostalCode",
    "WorkEmail", "WorkPhone", "Fax",
)  # fmt: skip


@dataclass(frozen=True)
class _Page:
    contacts: Mapping[str, Mapping[str, Any]]
    currencies: Mapping[str, str]
    terms: Mapping[str, str]
    parents: Mapping[str, Mapping[str, Any]]


class CustomerFlow(Flow):
    """Creates a NetSuite customer per active Zuora account, or links the one its IntegrationId__NS names."""

    name = "customer"
    depends_on = ()  # the first records of the order (reference 2.3)
    customer_master = "zuora"
    source_object = "Account"
    external_id_kind = "account"
    counterpart_types = ("Customer",)
    number_field = ACCOUNT_NUMBER
    fields = (
        "Id", "AccountNumber", "Name", "Currency", "PaymentTerm", "Status", "BillToId", "SoldToId", "AutoPay",
        "Notes", "ParentId", "IntegrationId__NS", "IntegrationStatus__NS", "SynctoNetSuite__NS", "CustomerType__NS",
        "UpdatedDate",
    )  # fmt: skip
    steps = (CREATING, LINKING)

    # -- selection (reference 4.1) --------------------------------------------------------------------------
    def own_criteria(self) -> list[list[zoql.Condition]]:
        active = zoql.eq("Status", "Active")
        return [[active, zoql.eq(SYNC_FLAG, "Yes")], [active, zoql.is_null(SYNC_FLAG)]]

    def rule_note(self, field: str) -> str | None:
        return "the account's sync flag" if field == SYNC_FLAG else None

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx = self.context
        creating = any(not r.get(INTEGRATION_ID_FIELD) for r in rows)
        return _Page(
            contacts=ctx.zuora_by_id(
                "Contact", CONTACT_FIELDS, [r.get("BillToId", "") for r in rows] + [r.get("SoldToId", "") for r in rows]
            ),
            currencies=ctx.netsuite_names("currency", "symbol") if creating else {},
            terms=ctx.netsuite_names("term", "name") if creating else {},
            parents=ctx.zuora_by_id(
                "Account",
                ("Id", ACCOUNT_NUMBER, INTEGRATION_ID_FIELD, STATUS_FIELD),
                [r.get("ParentId", "") for r in rows],
            ),
        )

    # -- validations (reference 4.1, 7.5) -------------------------------------------------------------------
    def dependencies(self, row: Mapping[str, Any], page: _Page) -> list[Dependency]:
        if row.get(INTEGRATION_ID_FIELD) or not row.get("ParentId"):
            return []  # a link writes only the Zuora fields: no parent needed
        parent = str(row["ParentId"])
        return [dependency("parent account", "customer", parent, page.parents.get(parent), ACCOUNT_NUMBER)]

    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        if row.get(INTEGRATION_ID_FIELD):
            return None  # a link writes only the Zuora fields
        if str(row.get("Currency", "")) not in page.currencies:
            return skipped(f"currency {row.get('Currency')!r} matches no NetSuite currency symbol")
        if row.get("PaymentTerm") and str(row["PaymentTerm"]) not in page.terms:
            return skipped(f"payment term {row['PaymentTerm']!r} matches no NetSuite term by name")
        return None

    # -- mapping (reference 6.1) ----------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        bill_to = page.contacts.get(str(row.get("BillToId", "")))
        sold_to = page.contacts.get(str(row.get("SoldToId", "")))
        zuora_fields = self._zuora_fields(row, bill_to, sold_to)
        if row.get(INTEGRATION_ID_FIELD):
            # Link: adopt the NetSuite customer the account already names; only the Zuora fields are written.
            return [self.update(LINKING, "Customer", str(row[INTEGRATION_ID_FIELD]), {"customFieldList": zuora_fields})]
        fields: dict[str, Any] = {
            "companyName": row.get("Name", ""),
            "currency": RecordRef(internal_id=page.currencies[str(row.get("Currency", ""))]),
        }
        if row.get("PaymentTerm"):
            fields["terms"] = RecordRef(internal_id=page.terms[str(row["PaymentTerm"])])
        if row.get("ParentId"):
            fields["parent"] = RecordRef(internal_id=str(page.parents[str(row["ParentId"])][INTEGRATION_ID_FIELD]))
        if self.settings.sync.use_account_number_as_entity_id and row.get("AccountNumber"):
            fields["entityId"] = row["AccountNumber"]
        if row.get("CustomerType__NS") == "Individual":
            fields["isPerson"] = True
        defaults = self.settings.netsuite_defaults
        if defaults.subsidiary:
            fields["subsidiary"] = RecordRef(internal_id=defaults.subsidiary)
        if defaults.entity_status:
            fields["entityStatus"] = RecordRef(internal_id=defaults.entity_status)
        if row.get("Notes"):
            fields["comments"] = row["Notes"]
        if bill_to:
            for zuora_name, ns_name in (("WorkEmail", "email"), ("WorkPhone", "phone"), ("Fax", "fax")):
                if bill_to.get(zuora_name):
                    fields[ns_name] = bill_to[zuora_name]
        addresses = [
            _address(contact, str(row.get("Name", "")), label, billing)
            for contact, label, billing in (
                (bill_to, "Zuora Bill To Address", True),
                (sold_to, "Zuora Sold To Address", False),
            )
            if contact
        ]
        if addresses:
            fields["addressbookList"] = {"addressbook": addresses, "replaceAll": True}
        fields["customFieldList"] = zuora_fields
        return [self.create(CREATING, "Customer", fields, row["Id"])]

    def _zuora_fields(
        self, row: Mapping[str, Any], bill_to: Mapping[str, Any] | None, sold_to: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        ids = self.settings.netsuite_fields
        zuora_fields: dict[str, Any] = {
            ids.customer_zuora_id: row["Id"],
            ids.customer_account_number: row.get("AccountNumber") or "",
        }
        if bill_to:
            zuora_fields[ids.customer_bill_to_id] = bill_to["Id"]
        if sold_to:
            zuora_fields[ids.customer_sold_to_id] = sold_to["Id"]
        if "AutoPay" in row:
            zuora_fields[ids.customer_auto_pay] = str(row["AutoPay"]).lower() == "true"
        return zuora_fields


def _address(contact: Mapping[str, Any], company: str, label: str, billing: bool) -> dict[str, Any]:
    """One address book entry: Attention is the person, Addressee the company; State only for the US."""
    person = " ".join(str(contact[k]) for k in ("FirstName", "LastName") if contact.get(k))
    address: dict[str, Any] = {"addressee": company}
    if person:
        address["attention"] = person
    for zuora_name, ns_name in (
        ("Address1", "addr1"),
        ("Address2", "addr2"),
        ("City", "city"),
        ("PostalCode", "zip"),
        ("WorkPhone", "addrPhone"),
    ):
        if contact.get(zuora_name):
            address[ns_name] = contact[zuora_name]
    country = _country_code(contact.get("Country"))
    if country:
        address["country"] = country
        if country == "_unitedStates" and contact.get("State"):
            address["state"] = contact["State"]
    entry: dict[str, Any] = {"label": label, "addressbookAddress": address}
    entry["defaultBilling" if billing else "defaultShipping"] = True
    return entry


# Zuora country names -> NetSuite's Country enum (a static cross-reference, reference 6.1).
_COUNTRIES = {
    "united states": "_unitedStates", "usa": "_unitedStates", "us": "_unitedStates",
    "canada": "_canada", "ca": "_canada", "united kingdom": "_unitedKingdom", "gb": "_unitedKingdom",
    "germany": "_germany", "de": "_germany", "france": "_france", "fr": "_france", "japan": "_japan",
    "jp": "_japan", "switzerland": "_switzerland", "ch": "_switzerland", "ireland": "_ireland", "ie": "_ireland",
    "australia": "_australia", "au": "_australia", "netherlands": "_netherlands", "nl": "_netherlands",
    "spain": "_spain", "es": "_spain", "italy": "_italy", "it": "_italy",
}  # fmt: skip


def _country_code(name: Any) -> str | None:
    return _COUNTRIES.get(str(name or "").strip().lower())
