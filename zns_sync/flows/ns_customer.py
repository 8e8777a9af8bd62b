"""NetSuite Customer -> Zuora Account + bill-to and sold-to Contacts, NetSuite being the customer master (reference
4.2, 6.2).

Four steps, all under the status `Creating Customer Account`: a Draft account carrying IntegrationId__NS, the bill-to
contact, the sold-to contact, then the account made Active with BillToId and SoldToId. Each step is found again by
what it wrote (the draft by its IntegrationId__NS, each contact by its account and Description), so a run killed
after any step resumes at the next one, and a customer whose status was cleared by hand is linked, never duplicated.
A customer whose Zuora ID is already set is linked (`Linking Customer Account`): only the NetSuite fields of that
Zuora account are written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zns_sync.flows.base import INTEGRATION_ID_FIELD, Earlier, Problem, Step, Write, blocked, skipped, without_none
from zns_sync.flows.from_netsuite import NetSuiteFlow, Search, custom, ref_id, ref_name, text
from zns_sync.netsuite import CustomFieldCondition, RecordRef
from zns_sync.status import Action

CREATING = Step(Action.CREATING, "Customer Account")
ACTIVATING = Step(Action.CREATING, "Customer Account", updates=True)  # the fourth step: the draft made Active
LINKING = Step(Action.LINKING, "Customer Account")
BILL_TO, SOLD_TO = "Bill To Contact", "Sold To Contact"  # Contact.Description: how each contact is found again
ACCOUNT, BILL_TO_STEP, SOLD_TO_STEP = 0, 1, 2  # the steps whose ids the later ones name


@dataclass(frozen=True)
class _Page:
    currencies: Mapping[str, str]  # NetSuite currency internalId -> symbol (the Zuora currency code)
    terms: Mapping[str, str]  # NetSuite term internalId -> name (the Zuora payment term)
    parents: Mapping[str, Mapping[str, Any]]  # parent customers by internalId


class NetSuiteCustomerFlow(NetSuiteFlow):
    """Active NetSuite customers with Send To Zuora ticked (Stage Customer) become Zuora accounts with two contacts."""

    name = "customer"
    depends_on = ()  # the first records of the order (reference 2.3)
    customer_master = "netsuite"
    source_object = "Customer"
    number_field = "entityId"
    date_field = None
    counterpart_types = ("Account",)
    steps = (CREATING, ACTIVATING, LINKING)

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
        return _Page(
            currencies={v: k for k, v in ctx.netsuite_names("currency", "symbol").items()},
            terms={v: k for k, v in ctx.netsuite_names("term", "name").items()},
            parents={i: read.record or {} for i, read in zip(parents, reads, strict=True)},
        )

    # -- validations (reference 4.2) --------------------------------------------------------------------------------
    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        ids = self.settings.netsuite_fields
        if text(custom(row, ids.customer_zuora_id)):
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
        if self.settings.netsuite_defaults.subsidiary and not ref_name(row.get("subsidiary")):
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
        parent = ref_id(row.get("parent"))
        account = {
            "Name": _name(row),
            "AccountNumber": row.get("entityId") if self.settings.sync.use_account_number_as_entity_id else None,
            "Currency": page.currencies[ref_id(row.get("currency"))],
            "PaymentTerm": page.terms[ref_id(row.get("terms"))],
            "Batch": text(custom(row, ids.customer_batch)),
            "BillCycleDay": _bill_cycle_day(custom(row, ids.customer_bill_cycle_day)),
            "Notes": row.get("comments"),
            "ParentId": text(custom(page.parents[parent], ids.customer_zuora_id)) if parent else None,
            "Subsidiary__NS": ref_name(row.get("subsidiary")),
            "AllowInvoiceEdit": True,
            "Status": "Draft",
            **netsuite_fields,
        }
        billing = _address(row, "defaultBilling") or {}
        shipping = _address(row, "defaultShipping") or billing  # two contacts, even for one address (4.2)
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

    def _contact(self, row: Mapping[str, Any], address: Mapping[str, Any], role: str, account_id: Earlier) -> Write:
        first, last = _split(str(address.get("addressee") or ""))
        contact = {
            "AccountId": account_id,
            "Description": role,
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
        return self.zuora_create(
            CREATING, "Contact", without_none(contact), {"AccountId": account_id, "Description": role}
        )


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
