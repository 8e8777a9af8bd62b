"""NetSuite-origin demo records, for NetSuite as the customer master (the NetSuite -> Zuora direction).

The Zuora demo tenant's accounts are linked to NetSuite customers, as if they had come from NetSuite, except one
that a NetSuite customer names by its Zuora ID only (to be linked). New NetSuite customers have Send To Zuora
ticked, some awkward on purpose: an individual with one address, no Zuora Batch, no Bill Cycle Day, no billing
address, a shipping address without addressee, a currency and a payment term Zuora lacks, a child of a customer
not synced yet, and customers not to select (not sent, a lead, inactive).

The custom fields use the connector bundle's script ids as zns-sync's config defaults name them.
"""

from __future__ import annotations

import random
from typing import Any

from zns_sync.sandbox.netsuite_store import NetSuiteStore
from zns_sync.sandbox.zuora_store import ZuoraStore

ZUORA_ID, STATUS, SEND = "custentityzuoraid", "custentityzuoraintegrationstatus", "custentityzuorasendtozuora"
BATCH, BILL_CYCLE_DAY = "custentityzuorabatch", "custentityzuorabillcycleday"
_CITIES = (("Springfield", "IL", "_unitedStates"), ("Toronto", "ON", "_canada"), ("Leeds", None, "_unitedKingdom"))
_PEOPLE = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra", "Barbara Liskov")


class _Customers:
    def __init__(self, store: NetSuiteStore, reference: dict[str, Any], seed: int) -> None:
        self.store = store
        self.reference = reference
        self.rng = random.Random(seed)
        self.count = 0

    def address(self, addressee: str | None, *, billing: bool, shipping: bool) -> dict[str, Any]:
        city, state, country = self.rng.choice(_CITIES)
        address = {"addr1": f"{self.rng.randint(1, 999)} Market Street", "city": city, "zip": "62701",
                   "country": country, "state": state, "addressee": addressee}  # fmt: skip
        return {"defaultBilling": billing, "defaultShipping": shipping, "label": "Main",
                "addressbookAddress": {k: v for k, v in address.items() if v is not None}}  # fmt: skip

    def add(self, **changes: Any) -> str:
        """A NetSuite-origin customer ready for Zuora, with `changes` (None removes a field)."""
        self.count += 1
        person = self.rng.choice(_PEOPLE)
        fields: dict[str, Any] = {"send": True, "batch": f"Batch{1 + self.count % 3}", "bcd": str(1 + self.count % 28)}
        fields.update({k: changes.pop(k) for k in list(changes) if k in fields})
        custom: dict[str, Any] = {SEND: fields["send"]}
        if fields["batch"]:
            custom[BATCH] = {"internalId": fields["batch"][5:], "name": fields["batch"]}
        if fields["bcd"]:
            custom[BILL_CYCLE_DAY] = {"internalId": fields["bcd"], "name": fields["bcd"]}
        record: dict[str, Any] = {
            "entityId": f"C-NS-{self.count:04d}",
            "companyName": f"Northwind Trading {self.count}",
            "isPerson": False,
            "stage": "_customer",
            "isInactive": False,
            "email": f"ap{self.count}@northwind.example",
            "phone": "+1 555 0199",
            "currency": {"internalId": self.reference["currencies"][self.rng.choice(("USD", "EUR", "GBP", "CAD"))]},
            "terms": {"internalId": self.reference["terms"][self.rng.choice(("Net 30", "Net 15"))]},
            "subsidiary": {"internalId": self.reference["subsidiary"], "name": "Parent Company"},
            "addressbookList": {
                "addressbook": [
                    self.address(person, billing=True, shipping=False),
                    self.address(f"{person} (Receiving)", billing=False, shipping=True),
                ]
            },
            "customFieldList": custom,
        }
        record.update(changes)
        return self.store.add("Customer", {k: v for k, v in record.items() if v is not None}).internal_id


def seed_netsuite_master(
    netsuite: NetSuiteStore, zuora: ZuoraStore, reference: dict[str, Any], *, customers: int, seed: int
) -> dict[str, str]:
    """Link the Zuora demo accounts to NetSuite customers and add `customers` plain NetSuite-origin ones plus the
    awkward cases; the awkward records' internalIds by label."""
    accounts = zuora.all("Account")
    to_link = accounts[5] if len(accounts) > 5 else accounts[-1]
    for account in accounts:
        if account is to_link:
            continue
        custom = {ZUORA_ID: account["Id"], STATUS: "Sync Complete", SEND: True}
        written = netsuite.add("Customer", {
            "entityId": account["AccountNumber"], "companyName": account["Name"][:83], "stage": "_customer",
            "currency": {"internalId": reference["currencies"][account["Currency"]]},
            "subsidiary": {"internalId": reference["subsidiary"]}, "customFieldList": custom,
        })  # fmt: skip
        zuora.set("Account", account["Id"], {"IntegrationId__NS": written.internal_id,
                                             "IntegrationStatus__NS": "Sync Complete"})  # fmt: skip
    made = _Customers(netsuite, reference, seed)
    plain = [made.add() for _ in range(customers)]
    billing_only = {"addressbook": [made.address("Marie Curie", billing=True, shipping=True)]}
    return {
        "customer_individual": made.add(
            isPerson=True, firstName="Marie", lastName="Curie", companyName=None, addressbookList=billing_only
        ),
        "customer_no_batch": made.add(batch=None),
        "customer_no_bill_cycle_day": made.add(bcd=None),
        "customer_no_billing_address": made.add(
            addressbookList={"addressbook": [made.address("Someone", billing=False, shipping=True)]}
        ),
        "customer_shipping_without_addressee": made.add(
            addressbookList={
                "addressbook": [
                    made.address("Pat Doe", billing=True, shipping=False),
                    made.address(None, billing=False, shipping=True),
                ]
            }
        ),
        "customer_currency_not_in_zuora": made.add(currency={"internalId": reference["currencies"]["JPY"]}),
        "customer_term_not_in_zuora": made.add(terms={"internalId": reference["terms"]["Net 60"]}),
        "customer_child_of_unsynced": made.add(parent={"internalId": plain[-1] if plain else made.add()}),
        "customer_linked_by_zuora_id": made.add(
            entityId=to_link["AccountNumber"], customFieldList={ZUORA_ID: to_link["Id"], SEND: True}
        ),
        "customer_not_sent": made.add(send=False),
        "customer_lead": made.add(stage="_lead"),
        "customer_inactive": made.add(isInactive=True),
    }
