"""Zuora Account (+ bill-to and sold-to contacts) -> NetSuite Customer with its address book (reference 4.1, 6.1).

With sync.new_and_modified.customer, an account synced already and modified since the last run (UpdatedDate) updates
its customer: the standard fields and the Zuora custom fields that differ from the customer's (the address book,
replaced whole when any line differs), `isInactive` from a Canceled account; its status stays Sync Complete.
"""

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
    changed,
    dependency,
    record_name,
    skipped,
)
from zns_sync.flows.classifications import SUBSIDIARY_FIELD
from zns_sync.flows.names import CURRENCY, TERM
from zns_sync.netsuite import RecordRef
from zns_sync.status import Action
from zns_sync.zuora import zoql

SYNC_FLAG = "SynctoNetSuite__NS"
CREATING = Step(Action.CREATING, "Customer")
LINKING = Step(Action.LINKING, "Customer")
UPDATING = Step(Action.UPDATING, "Customer", silent=True)  # a modified account (reference 4.1: status untouched)

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
    customers: Mapping[str, Mapping[str, Any]]  # the NetSuite customers of modified accounts, by internalId


class CustomerFlow(Flow):
    """Creates a NetSuite customer per active Zuora account, or links the one its IntegrationId__NS names."""

    name = "customer"
    netsuite_lists = (CURRENCY, TERM)
    depends_on = ()  # the first records of the order (reference 2.3)
    customer_master = "zuora"
    source_object = "Account"
    external_id_kind = "account"
    counterpart_types = ("Customer",)
    number_field = ACCOUNT_NUMBER
    fields = (
        "Id", "AccountNumber", "Name", "Currency", "PaymentTerm", "Status", "BillToId", "SoldToId", "AutoPay",
        "Notes", "ParentId", "IntegrationId__NS", "IntegrationStatus__NS", "SynctoNetSuite__NS", "CustomerType__NS",
        "UpdatedDate", SUBSIDIARY_FIELD,
    )  # fmt: skip
    steps = (CREATING, LINKING, UPDATING)
    modified_field = "UpdatedDate"
    takes_custom_fields = True

    # -- selection (reference 4.1) --------------------------------------------------------------------------
    def own_criteria(self) -> list[list[zoql.Condition]]:
        active = zoql.eq("Status", "Active")
        return [[active, zoql.eq(SYNC_FLAG, "Yes")], [active, zoql.is_null(SYNC_FLAG)]]

    def modified_criteria(self) -> list[list[zoql.Condition]]:
        """Active accounts, and Canceled ones: a cancellation makes the customer inactive (reference 6.1)."""
        return [
            [zoql.eq("Status", status), flag]
            for status in ("Active", "Canceled")
            for flag in (zoql.eq(SYNC_FLAG, "Yes"), zoql.is_null(SYNC_FLAG))
        ]

    def rule_note(self, field: str) -> str | None:
        return "the account's sync flag" if field == SYNC_FLAG else None

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx = self.context
        modified = [str(r[INTEGRATION_ID_FIELD]) for r in rows if self.modified(r) and r.get(INTEGRATION_ID_FIELD)]
        creating = bool(modified) or any(not r.get(INTEGRATION_ID_FIELD) for r in rows)
        reads = ctx.netsuite.get_list([RecordRef(internal_id=i, type="customer") for i in modified]) if modified else []
        return _Page(
            contacts=ctx.zuora_by_id(
                "Contact", CONTACT_FIELDS, [r.get("BillToId", "") for r in rows] + [r.get("SoldToId", "") for r in rows]
            ),
            currencies=ctx.names.all(CURRENCY) if creating else {},
            terms=ctx.names.all(TERM) if creating else {},
            parents=ctx.zuora_by_id(
                "Account",
                ("Id", ACCOUNT_NUMBER, INTEGRATION_ID_FIELD, STATUS_FIELD),
                [r.get("ParentId", "") for r in rows],
            ),
            customers={i: read.record for i, read in zip(modified, reads, strict=True) if read.success and read.record},
        )

    # -- validations (reference 4.1, 7.5) -------------------------------------------------------------------
    def dependencies(self, row: Mapping[str, Any], page: _Page) -> list[Dependency]:
        if (row.get(INTEGRATION_ID_FIELD) and not self.modified(row)) or not row.get("ParentId"):
            return []  # a link writes only the Zuora fields: no parent needed
        parent = str(row["ParentId"])
        return [dependency("parent account", "customer", parent, page.parents.get(parent), ACCOUNT_NUMBER)]

    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        if self.modified(row):
            if not row.get(INTEGRATION_ID_FIELD):
                return skipped("Sync Complete without an IntegrationId__NS (reference 4.1): clear its status to resync")
            if str(row[INTEGRATION_ID_FIELD]) not in page.customers:
                return skipped(f"its NetSuite customer {row[INTEGRATION_ID_FIELD]} is not found (deleted?)")
        elif row.get(INTEGRATION_ID_FIELD):
            return None  # a link writes only the Zuora fields
        if str(row.get("Currency", "")) not in page.currencies:
            return skipped(CURRENCY.miss(str(row.get("Currency") or ""), "currency"))
        if row.get("PaymentTerm") and str(row["PaymentTerm"]) not in page.terms:
            return skipped(TERM.miss(str(row["PaymentTerm"]), "payment term"))
        name = record_name("account", row["Id"], row.get(ACCOUNT_NUMBER))
        for classified in (self.classifier.subsidiary(row, name), self.classifier.tax_item()):
            if classified.problem is not None:
                return skipped(classified.problem)
        return None

    # -- mapping (reference 6.1) ----------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        if row.get(INTEGRATION_ID_FIELD):
            # Link: adopt the NetSuite customer the account already names; only the Zuora fields are written.
            zuora_fields = self._zuora_fields(row, *self._contacts(row, page))
            return [self.update(LINKING, "Customer", str(row[INTEGRATION_ID_FIELD]), {"customFieldList": zuora_fields})]
        fields = self._customer(row, page)
        name = record_name("account", row["Id"], row.get(ACCOUNT_NUMBER))
        fields.update(self.classifier.subsidiary(row, name).fields)  # on create only: it never changes (6.1, 7.4)
        defaults = self.settings.netsuite_defaults
        if defaults.entity_status:
            fields["entityStatus"] = RecordRef(internal_id=defaults.entity_status)
        return [self.create(CREATING, "Customer", fields, row["Id"])]

    def changes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        internal_id = str(row[INTEGRATION_ID_FIELD])
        fields = self._customer(row, page)
        fields["isInactive"] = row.get("Status") == "Canceled"
        update = changed(fields, page.customers[internal_id])
        return [self.update(UPDATING, "Customer", internal_id, update)] if update else []

    def _contacts(
        self, row: Mapping[str, Any], page: _Page
    ) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
        return page.contacts.get(str(row.get("BillToId", ""))), page.contacts.get(str(row.get("SoldToId", "")))

    def _customer(self, row: Mapping[str, Any], page: _Page) -> dict[str, Any]:
        """The customer's fields from the account, on create and on update (reference 6.1)."""
        bill_to, sold_to = self._contacts(row, page)
        fields: dict[str, Any] = {
            "companyName": row.get("Name", ""),
            "currency": RecordRef(internal_id=page.currencies[str(row.get("Currency", ""))]),
        }
        if row.get("PaymentTerm"):
            fields["terms"] = RecordRef(internal_id=page.terms[str(row["PaymentTerm"])])
        if row.get("ParentId"):
            fields["parent"] = RecordRef(internal_id=str(page.parents[str(row["ParentId"])][INTEGRATION_ID_FIELD]))
        # Customer Account Number Mapping (reference 6.1): number, name, or nothing (NetSuite auto-numbers).
        entity_id = {"number": row.get(ACCOUNT_NUMBER), "name": row.get("Name")}.get(
            self.settings.sync.entity_id_source
        )
        if entity_id:
            fields["entityId"] = entity_id
        if self._individual(row):
            fields["isPerson"] = True
            person = bill_to or {}
            for zuora_name, ns_name in (("FirstName", "firstName"), ("LastName", "lastName")):
                if person.get(zuora_name):
                    fields[ns_name] = person[zuora_name]
        fields.update(self.classifier.tax_item().fields)
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
        if addresses:  # every address of the customer is replaced by the Zuora contacts (reference 4.1, 6.1)
            fields["addressbookList"] = {"addressbook": addresses, "replaceAll": True}
        fields["customFieldList"] = self._zuora_fields(row, bill_to, sold_to)
        return fields

    def _individual(self, row: Mapping[str, Any]) -> bool:
        """A person rather than a company (`isPerson`): CustomerType__NS says, else `sync.customer_type`."""
        said = row.get("CustomerType__NS")
        return said == "Individual" if said else self.settings.sync.customer_type == "individual"

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
