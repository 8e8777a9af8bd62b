"""Names to NetSuite records, by exact name, read once a run (reference 7.5).

Zuora and the connector's preferences name NetSuite records: a currency by its symbol, a term, a payment method,
a subsidiary, department, class or location by its full name (`Parent : Child`, reference 7.4), a GL account of
a given type by its full name, a revenue recognition template, a tax code. Small lists are read whole once
(`getAll`, or a search where getAll has none); the others are searched a name at a time with the SearchBasic
field that holds the full name (`name`: `nameNoHierarchy` holds the record's own; platform.common.xsd 2023_2).
Every answer, a miss too, is kept for the run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from zns_sync.netsuite import NetSuiteClient


@dataclass(frozen=True)
class NetSuiteList:
    """A NetSuite list records are named in: how a message names it, and how a name is looked up."""

    label: str  # "department", "income account": how a message names the list
    kind: str  # the client's search kind, or the getAll record type of a list read whole
    field: str = "name"  # the field holding the name
    whole: bool = False  # read whole once (a small list), else searched a name at a time
    types: tuple[str, ...] = ()  # accounts: the account types (AccountSearchBasic `type`) that may match
    matched_by: str = "full name"  # how a message says names are matched: a tree list's full name, a name, a symbol

    def miss(self, name: str, where: str) -> str:
        """The reason a record naming `name` in `where` is skipped."""
        return f"{where} {name!r} matches no NetSuite {self.label} by {self.matched_by}"


CURRENCY = NetSuiteList("currency", "currency", field="symbol", whole=True, matched_by="symbol")
TERM = NetSuiteList("term", "term", whole=True, matched_by="name")
PAYMENT_METHOD = NetSuiteList("payment method", "paymentMethod", whole=True, matched_by="name")
SUBSIDIARY = NetSuiteList("subsidiary", "subsidiary")
DEPARTMENT = NetSuiteList("department", "department")
CLASS = NetSuiteList("class", "classification")
LOCATION = NetSuiteList("location", "location")
INCOME_ACCOUNT = NetSuiteList("income account", "account", types=("_income", "_otherIncome"))
DEFERRED_REVENUE_ACCOUNT = NetSuiteList("deferred revenue account", "account", types=("_deferredRevenue",))
REV_REC_TEMPLATE = NetSuiteList("revenue recognition template", "revRecTemplate", matched_by="name")
TAX_CODE = NetSuiteList("tax code", "salesTaxItem", field="itemId", matched_by="name")


class NetSuiteNames:
    """The internalIds of NetSuite records by name, looked up once a run; thread-safe."""

    def __init__(self, client: NetSuiteClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._whole: dict[NetSuiteList, dict[str, str]] = {}
        self._found: dict[tuple[NetSuiteList, str], str | None] = {}

    def all(self, listed: NetSuiteList) -> Mapping[str, str]:
        """A small list read whole: {name: internalId}."""
        if not listed.whole:
            raise ValueError(f"the NetSuite {listed.label} list is searched by name, not read whole")
        with self._lock:
            if listed not in self._whole:
                rows = self._client.get_all(listed.kind)
                self._whole[listed] = {
                    str(row[listed.field]): str(row["internalId"]) for row in rows if row.get(listed.field) is not None
                }
            return self._whole[listed]

    def resolve(self, listed: NetSuiteList, names: Iterable[str]) -> dict[str, str]:
        """{name: internalId} of the names that match a record of the list (a name that matches none is left out)."""
        wanted = {name for name in names if name}
        if listed.whole:
            known = self.all(listed)
            return {name: known[name] for name in wanted if name in known}
        found = {}
        for name in sorted(wanted):
            internal_id = self._search(listed, name)
            if internal_id is not None:
                found[name] = internal_id
        return found

    def id(self, listed: NetSuiteList, name: str) -> str | None:
        """The internalId of the record named `name`, or None."""
        return self.resolve(listed, [name]).get(name)

    def _search(self, listed: NetSuiteList, name: str) -> str | None:
        with self._lock:
            if (listed, name) in self._found:
                return self._found[(listed, name)]
        criteria: dict[str, object] = {listed.field: {"operator": "is", "searchValue": name}}
        if listed.types:
            criteria["type"] = {"operator": "anyOf", "searchValue": list(listed.types)}
        hit = next(iter(self._client.search(listed.kind, criteria=criteria)), None)
        internal_id = str(hit["internalId"]) if hit is not None else None
        with self._lock:
            self._found[(listed, name)] = internal_id
        return internal_id
