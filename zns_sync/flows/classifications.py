"""Subsidiary, department, class and location by NetSuite full name (reference 7.4, 6.1, 6.5, 6.7).

The values are NetSuite names with the whole path (`Americas : North America : Eastern`): a Zuora record's own
(`Department__NS`, `Class__NS`, `Location__NS`, `Subsidiary__NS` on the account or the product charge), else the
connector's default (`classifications.default_*`). A name that matches no NetSuite record holds the record back
(skipped, naming the value and the list); its status stays untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zns_sync.config import Settings
from zns_sync.flows.names import CLASS, DEPARTMENT, LOCATION, SUBSIDIARY, TAX_CODE, NetSuiteList, NetSuiteNames
from zns_sync.netsuite import RecordRef

SUBSIDIARY_FIELD = "Subsidiary__NS"
INCLUDE_CHILDREN_FIELD = "IncludeChildren__NS"


@dataclass(frozen=True)
class Classification:
    """One of department, class and location: its NetSuite field, its Zuora field and its list."""

    netsuite: str  # the field of NetSuite's transactions, lines and items
    zuora: str  # the custom field of Zuora's Account and ProductRatePlanCharge (reference 5.1)
    listed: NetSuiteList

    def default(self, settings: Settings) -> str | None:
        """The connector's default name (`classifications.default_<field>`)."""
        value = getattr(settings.classifications, f"default_{self.netsuite}")
        return str(value) if value else None

    def line_source(self, settings: Settings) -> str:
        """Invoice Line X Mapping: `account` (the account's value, no default) or `charge` (the item's)."""
        return str(getattr(settings.classifications, f"invoice_line_{self.netsuite}"))


CLASSIFICATIONS = (
    Classification("department", "Department__NS", DEPARTMENT),
    Classification("class", "Class__NS", CLASS),
    Classification("location", "Location__NS", LOCATION),
)
# The Zuora fields a record carrying classifications is read with.
ZUORA_FIELDS = (*(c.zuora for c in CLASSIFICATIONS), SUBSIDIARY_FIELD)


@dataclass(frozen=True)
class Classified:
    """NetSuite fields resolved from names, or why a name does not resolve."""

    fields: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None


class Classifier:
    """Resolves the names a NetSuite record needs (classifications, subsidiary, tax code, GL accounts) into
    references, through the run's `names`."""

    def __init__(self, settings: Settings, names: NetSuiteNames) -> None:
        self.settings = settings
        self.names = names

    def record(self, netsuite: str, name: str, listed: NetSuiteList, where: str) -> Classified:
        """`{netsuite: RecordRef}` of the record of `listed` named `name`, or why there is none (`where` says which
        field or setting named it)."""
        internal_id = self.names.id(listed, name)
        if internal_id is None:
            return Classified(problem=listed.miss(name, where))
        return Classified({netsuite: RecordRef(internal_id=internal_id)})

    def records(self, wanted: Iterable[tuple[str, str, NetSuiteList, str]]) -> Classified:
        """`record` of each (field, name, list, where), all together, or the first reason one cannot be."""
        fields: dict[str, Any] = {}
        for netsuite, name, listed, where in wanted:
            found = self.record(netsuite, name, listed, where)
            if found.problem is not None:
                return found
            fields.update(found.fields)
        return Classified(fields)

    def warm(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Start looking up the department, class and location names these records give (without waiting)."""
        self.names.warm(
            (), {(c.listed, name) for r in records for c in CLASSIFICATIONS if (name := _text(r.get(c.zuora)))}
        )

    def header(self, record: Mapping[str, Any], what: str) -> Classified:
        """Department, class and location of a transaction or an item: `record`'s value, else the default."""
        wanted = []
        for kind in CLASSIFICATIONS:
            own = _text(record.get(kind.zuora))
            name = own or kind.default(self.settings)
            if name:
                where = f"{kind.zuora} of {what}" if own else f"classifications.default_{kind.netsuite}"
                wanted.append((kind.netsuite, name, kind.listed, where))
        return self.records(wanted)

    def lines(self, account: Mapping[str, Any], what: str) -> Classified:
        """The classifications every line of a billing document carries: with Invoice Line X Mapping `account`, the
        account's value, even blank (no default; NetSuite then takes the item's); with `charge`, none."""
        return self.records(
            (kind.netsuite, name, kind.listed, f"{kind.zuora} of {what}")
            for kind in CLASSIFICATIONS
            if kind.line_source(self.settings) == "account" and (name := _text(account.get(kind.zuora)))
        )

    def subsidiary(self, record: Mapping[str, Any], what: str) -> Classified:
        """The subsidiary of a new customer or item (OneWorld only): `record`'s, else the default by name, else the
        default by internal id (netsuite_defaults.subsidiary), as `{"subsidiary": RecordRef}`."""
        if not self.settings.uses_subsidiaries:
            return Classified()
        own = _text(record.get(SUBSIDIARY_FIELD))
        name = own or self.settings.classifications.default_subsidiary
        if name:
            where = f"{SUBSIDIARY_FIELD} of {what}" if own else "classifications.default_subsidiary"
            return self.record("subsidiary", name, SUBSIDIARY, where)
        default_id = self.settings.netsuite_defaults.subsidiary  # an internal id: sent as is
        return Classified({"subsidiary": RecordRef(internal_id=default_id)} if default_id else {})

    def tax_item(self) -> Classified:
        """The connector's Default Tax Code (`sync.default_tax_code`) as `{"taxItem": RecordRef}`: customers, invoices,
        credit memos and adjustments carry it (reference 7.1)."""
        name = self.settings.sync.default_tax_code
        return self.record("taxItem", name, TAX_CODE, "sync.default_tax_code") if name else Classified()


def default_names(settings: Settings) -> list[tuple[str, str, NetSuiteList]]:
    """The NetSuite records the config names as defaults (classifications, the subsidiary, the tax code): the
    setting, the name and its list, for those set."""
    wanted = [(f"classifications.default_{c.netsuite}", c.default(settings), c.listed) for c in CLASSIFICATIONS]
    if settings.uses_subsidiaries:
        wanted.append(("classifications.default_subsidiary", settings.classifications.default_subsidiary, SUBSIDIARY))
    wanted.append(("sync.default_tax_code", settings.sync.default_tax_code, TAX_CODE))
    return [(key, value, listed) for key, value, listed in wanted if value]


def _text(value: Any) -> str | None:
    """A Zuora text field's value, None when empty."""
    text = str(value).strip() if value is not None else ""
    return text or None
