"""NetSuite Customer -> Zuora Account + bill-to and sold-to Contacts, NetSuite being the customer master (reference
4.2, 6.2).

Four steps, all under the status `Creating Customer Account`: a Draft account carrying IntegrationId__NS, the bill-to
contact, the sold-to contact, then the account made Active with BillToId and SoldToId. Each step is found again by
what it wrote (the draft by its IntegrationId__NS, each contact by its account and Description), so a run killed
after any step resumes at the next one, and a customer whose status was cleared by hand is linked, never duplicated.
A customer whose Zuora ID is already set is linked (`Linking Customer Account`): only the NetSuite fields of that
Zuora account are written.

With sync.new_and_modified.customer, a customer synced already and modified since the last run (lastModifiedDate)
updates its bill-to contact, its sold-to contact, then its account (reference 4.2), each with the values that differ
from Zuora's; its status stays Sync Complete.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    Earlier,
    Problem,
    Step,
    Write,
    blocked,
    changed,
    skipped,
    without_none,
)
from zns_sync.flows.from_netsuite import NetSuiteFlow, Search, custom, ref_id, ref_name, text
from zns_sync.flows.names import CURRENCY, TERM
from zns_sync.netsuite import CustomFieldCondition, RecordRef
from zns_sync.status import Action

CREATING = Step(Action.CREATING, "Customer Account")
ACTIVATING = Step(Action.CREATING, "Customer Account", updates=True)  # the fourth step: the draft made Active
LINKING = Step(Action.LINKING, "Customer Account")
UPDATING = Step(Action.UPDATING, "Customer Account", silent=True)  # a modified customer (4.2: status untouched)
BILL_TO, SOLD_TO = "Bill To Contact", "Sold To Contact"  # Contact.Description: how each contact is found again
ACCOUNT, BILL_TO_STEP, SOLD_TO_STEP = 0, 1, 2  # the steps whose ids the later ones name
ACCOUNT_FIELDS = (
    "Id", "Name", "AccountNumber", "Currency", "PaymentTerm", "Batch", "BillCycleDay", "Notes", "ParentId",
    "CustomerId__NS", "BillToId", "SoldToId",
)  # fmt: skip
CONTACT_FIELDS = (
    "Id", "FirstName", "LastName", "Address1", "Address2", "City", "State", "PostalCode", "Country", "WorkPhone",
    "Fax", "WorkEmail",
)  # fmt: skip


@dataclass(frozen=True)
class _Page:
    currencies: Mapping[str, str]  # NetSuite currency internalId -> symbol (the Zuora currency code)
    terms: Mapping[str, str]  # NetSuite term internalId -> name (the Zuora payment term)
    parents: Mapping[str, Mapping[str, Any]]  # parent customers by internalId
    accounts: Mapping[str, Mapping[str, Any]]  # the Zuora accounts of modified customers, by Id
    contacts: Mapping[str, Mapping[str, Any]]  # their bill-to and sold-to contacts, by Id


class NetSuiteCustomerFlow(NetSuiteFlow):
    """Active NetSuite customers with Send To Zuora ticked (Stage Customer) become Zuora accounts with two contacts."""

    name = "customer"
    netsuite_lists = (CURRENCY, TERM)
    depends_on = ()  # the first records of the order (reference 2.3)
    customer_master = "netsuite"
    source_object = "Customer"
    number_field = "entityId"
    date_field = None
    counterpart_types = ("Account",)
    steps = (CREATING, ACTIVATING, LINKING, UPDATING)
    modified_field = "lastModifiedDate"

    def search(self) -> Search:
        ids = self.settings.netsuite_fields
        return Search(
            kind="customer",
            status_field=ids.customer_integration_status,
            counterpart_field=ids.customer_zuora_id,
            sync_date_field=ids.customer_sync_date,
            conditions=(CustomFieldCondition(ids.customer_send_to_zuora, value=True),),
            criteria={
                "isInactive": {"searchValue": False},
                "stage": {"operator": "anyOf", "searchValue": ["_customer"]},
            },
            sublists=True,  # the address book
        )

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx = self.context
        parents = sorted({str(r["parent"].internal_id) for r in rows if isinstance(r.get("parent"), RecordRef)})
        reads = ctx.netsuite.get_list([RecordRef(internal_id=i, type="customer") for i in parents]) if parents else []
        ids = self.settings.netsuite_fields
        modified = [text(custom(r, ids.customer_zuora_id)) for r in rows if self.modified(r)]
        accounts = ctx.zuora_by_id("Account", ACCOUNT_FIELDS, modified) if modified else {}
        contact_ids = [str(a.get(k) or "") for a in accounts.values() for k in ("BillToId", "SoldToId")]
        return _Page(
            currencies={v: k for k, v in ctx.names.all(CURRENCY).items()},
            terms={v: k for k, v in ctx.names.all(TERM).items()},
            parents={i: read.record or {} for i, read in zip(parents, reads, strict=True)},
            accounts=accounts,
            contacts=ctx.zuora_by_id("Contact", CONTACT_FIELDS, contact_ids) if accounts else {},
        )

    # -- validations (reference 4.2) --------------------------------------------------------------------------------
    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        ids = self.settings.netsuite_fields
        zuora_id = text(custom(row, ids.customer_zuora_id))
        if self.modified(row):
            if zuora_id not in page.accounts:
                return skipped(f"its Zuora account {zuora_id!r} is not found (Sync Complete needs the Zuora ID)")
        elif zuora_id:
            return None  # a link writes only the NetSuite fields of the Zuora account
        if not text(custom(row, ids.customer_batch)):
            return skipped("Zuora Batch is empty")
        if _bill_cycle_day(custom(row, ids.customer_bill_cycle_day)) is None:
            return skipped(f"Zuora Bill Cycle Day {text(custom(row, ids.customer_bill_cycle_day))!r} is not 1 to 31")
        billing, shipping = _address(row, "defaultBilling"), _address(row, "defaultShipping")
        if billing is None or not billing.get("addressee"):
            return skipped("no default billing address with an Addressee (the bill-to contact)")
        if shipping is not None and not shipping.get("addressee"):
            return skipped("the default shipping address has no Addressee (the sold-to contact)")
        if ref_id(row.get("currency")) not in page.currencies:
            return skipped(f"currency {ref_id(row.get('currency'))!r} is not a NetSuite currency with a symbol")
        if ref_id(row.get("terms")) not in page.terms:
            return skipped(f"terms {ref_id(row.get('terms'))!r} match no NetSuite term by name")
        if self.settings.uses_subsidiaries and not ref_name(row.get("subsidiary")):
            return skipped("no subsidiary name (NetSuite OneWorld)")
        parent = ref_id(row.get("parent"))
        if parent and not text(custom(page.parents.get(parent, {}), ids.customer_zuora_id)):
            return blocked(f"parent customer {parent} is not synced to Zuora yet")
        return None

    # -- mapping (reference 6.2) ------------------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        ids = self.settings.netsuite_fields
        netsuite_fields = {**self.back_reference(row), "CustomerId__NS": row.get("entityId")}
        zuora_id = text(custom(row, ids.customer_zuora_id))
        found_by = {INTEGRATION_ID_FIELD: str(row["Id"])}
        if zuora_id:
            return [self.zuora_update(LINKING, "Account", zuora_id, without_none(netsuite_fields), found_by)]
        account = {
            **self._account(row, page),
            "Subsidiary__NS": ref_name(row.get("subsidiary")),  # create only (OneWorld)
            "AllowInvoiceEdit": True,
            "Status": "Draft",
            **netsuite_fields,
        }
        billing, shipping = _addresses(row)
        account_id = Earlier(ACCOUNT)
        return [
            self.zuora_create(CREATING, "Account", without_none(account)),
            self._contact(row, billing, BILL_TO, account_id),
            self._contact(row, shipping, SOLD_TO, account_id),
            self.zuora_update(
                ACTIVATING,
                "Account",
                account_id,
                {"Status": "Active", "BillToId": Earlier(BILL_TO_STEP), "SoldToId": Earlier(SOLD_TO_STEP)},
                {**found_by, "Status": "Active"},  # Active: Zuora allows it only with both contacts
            ),
        ]

    def changes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        """The bill-to contact, the sold-to contact, then the account, each when it differs (reference 4.2)."""
        account_id = text(custom(row, self.settings.netsuite_fields.customer_zuora_id))
        account = page.accounts[account_id]
        writes: list[Write] = []
        contacts: list[str] = []
        for address, contact_field in zip(_addresses(row), ("BillToId", "SoldToId"), strict=True):
            contact_id = str(account.get(contact_field) or "")
            if contact_id and contact_id not in contacts:  # one contact both bill-to and sold-to: the bill-to's
                contacts.append(contact_id)
                update = changed(self._contact_fields(row, address), page.contacts.get(contact_id) or {})
                if update:
                    writes.append(self.zuora_update(UPDATING, "Contact", contact_id, update))
        update = changed({**self._account(row, page), "CustomerId__NS": row.get("entityId")}, account)
        if update:
            writes.append(self.zuora_update(UPDATING, "Account", account_id, update))
        return writes

    def _account(self, row: Mapping[str, Any], page: _Page) -> dict[str, Any]:
        """The account's fields from the customer, on create and on update (reference 6.2)."""
        ids = self.settings.netsuite_fields
        parent = ref_id(row.get("parent"))
        return {
            "Name": _name(row),
            # Account Number Mapping (reference 6.2): the Customer ID, the name, or Zuora's own number.
            "AccountNumber": {"number": row.get("entityId"), "name": _name(row)}.get(
                self.settings.sync.entity_id_source
            ),
            "Currency": page.currencies[ref_id(row.get("currency"))],
            "PaymentTerm": page.terms[ref_id(row.get("terms"))],
            "Batch": text(custom(row, ids.customer_batch)),
            "BillCycleDay": _bill_cycle_day(custom(row, ids.customer_bill_cycle_day)),
            "Notes": row.get("comments"),
            "ParentId": text(custom(page.parents[parent], ids.customer_zuora_id)) if parent else None,
        }

    def _contact(self, row: Mapping[str, Any], address: Mapping[str, Any], role: str, account_id: Earlier) -> Write:
        contact = {"AccountId": account_id, "Description": role, **self._contact_fields(row, address)}
        return self.zuora_create(
            CREATING, "Contact", without_none(contact), {"AccountId": account_id, "Description": role}
        )

    @staticmethod
    def _contact_fields(row: Mapping[str, Any], address: Mapping[str, Any]) -> dict[str, Any]:
        first, last = _split(str(address.get("addressee") or ""))
        return {
            "FirstName": first,
            "LastName": last,
            "Address1": address.get("addr1"),
            "Address2": address.get("addr2"),
            "City": address.get("city"),
            "State": address.get("state"),
            "PostalCode": address.get("zip"),
            "Country": _country(address.get("country")),
            "WorkPhone": address.get("addrPhone") or row.get("phone"),
            "Fax": row.get("fax"),
            "WorkEmail": row.get("email"),
        }


def _addresses(row: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bill-to and sold-to addresses: the default billing and the default shipping one (the billing one when
    there is none: two contacts, even for one address, reference 4.2)."""
    billing = _address(row, "defaultBilling") or {}
    return billing, _address(row, "defaultShipping") or billing


def _address(row: Mapping[str, Any], default: str) -> dict[str, Any] | None:
    """The customer's default billing (or shipping) address from its address book."""
    for entry in (row.get("addressbookList") or {}).get("addressbook") or []:
        if entry.get(default):
            return dict(entry.get("addressbookAddress") or {})
    return None


def _split(addressee: str) -> tuple[str, str]:
    """FirstName and LastName from an Addressee: the first word, then the rest (one word: both)."""
    words = addressee.split(maxsplit=1)
    return (words[0], words[1]) if len(words) == 2 else (addressee, addressee)


def _name(row: Mapping[str, Any]) -> str:
    """Account.Name: first and last name for an individual, else the company name (reference 6.2)."""
    if row.get("isPerson"):
        return " ".join(str(row[k]) for k in ("firstName", "lastName") if row.get(k))
    return str(row.get("companyName") or "")


def _bill_cycle_day(value: Any) -> int | None:
    day = text(value)
    return int(day) if day.isdigit() and 1 <= int(day) <= 31 else None


def _country(value: Any) -> str | None:
    """NetSuite's Country enum as the country name Zuora takes: `_unitedStates` -> `United States`."""
    if not value:
        return None
    return " ".join(word.capitalize() for word in re.sub(r"([A-Z])", r" \1", str(value).lstrip("_")).split())
