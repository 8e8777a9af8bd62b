"""Zuora's product catalog -> NetSuite items (reference 4.3-4.5, 6.3-6.5): what products, rate plans and charges
share.

Each catalog record becomes one NetSuite item of the type its `ItemType__NS` names, found again by its
deterministic externalId (`zuora-product-<Id>`, `zuora-rate-plan-<Id>`, `zuora-charge-<Id>`). An item whose
`IntegrationId__NS` is already set is linked: only its Zuora fields are written. The Item ID is the record's name,
or `Zuora <Type> <Id>` (`sync.item_id_mapping`; the connector's "Item ID Mapping" preference).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from zns_sync.flows.base import INTEGRATION_ID_FIELD, Flow, Problem, Step, Write, skipped
from zns_sync.netsuite import RecordRef
from zns_sync.status import Action
from zns_sync.zuora import zoql

# ItemType__NS -> the SuiteTalk record type created (reference 5.1: Inventory, Non Inventory, Service).
ITEM_TYPES = {"Inventory": "InventoryItem", "Non Inventory": "NonInventorySaleItem", "Service": "ServiceSaleItem"}
CREATING = Step(Action.CREATING, "Item")
LINKING = Step(Action.LINKING, "Item")


class CatalogFlow(Flow):
    """A Zuora catalog record -> one NetSuite item (create, or link when IntegrationId__NS is set)."""

    zuora_type: ClassVar[str]  # the item's Zuora Type custom field: PRODUCT, RATE_PLAN, CHARGE
    id_label: ClassVar[str]  # the Item ID by id: `Zuora <id_label> <Id>` (Product, Rate Plan, Charge)
    counterpart_types = tuple(ITEM_TYPES.values())
    steps: ClassVar[tuple[Step, ...]] = (CREATING, LINKING)

    def validate(self, row: Mapping[str, Any], page: Any) -> Problem | None:
        if str(row.get("ItemType__NS") or "") not in ITEM_TYPES:
            return skipped(_item_type_problem(row))
        return None

    def item_id(self, row: Mapping[str, Any]) -> str:
        """The NetSuite Item ID (reference 6.3-6.5, Item ID Mapping): the record's name, or `Zuora <Type> <Id>`
        with `sync.item_id_mapping: id` (and when the name is empty)."""
        if self.settings.sync.item_id_mapping == "name" and row.get("Name"):
            return str(row["Name"])
        return f"Zuora {self.id_label} {row['Id']}"

    def zuora_fields(self, row: Mapping[str, Any], page: Any) -> dict[str, Any]:
        """The item's Zuora custom fields, written on create and on link."""
        ids = self.settings.netsuite_fields
        return {ids.item_zuora_id: row["Id"], ids.item_zuora_type: self.zuora_type}

    def item_fields(self, row: Mapping[str, Any], page: Any) -> dict[str, Any]:
        """The type's own fields of a new item (sales description, income account, parent, price...)."""
        return {}

    def writes(self, row: Mapping[str, Any], page: Any) -> list[Write]:
        item_type = ITEM_TYPES[str(row["ItemType__NS"])]
        custom = {"customFieldList": self.zuora_fields(row, page)}
        if row.get(INTEGRATION_ID_FIELD):
            return [self.update(LINKING, item_type, str(row[INTEGRATION_ID_FIELD]), custom)]
        item_id = self.item_id(row)
        fields: dict[str, Any] = {"itemId": item_id, "displayName": str(row.get("Name") or item_id)}
        fields.update(self.item_fields(row, page))
        defaults = self.settings.netsuite_defaults
        if defaults.subsidiary and "subsidiaryList" not in fields:  # a charge's own Subsidiary__NS comes first
            fields["subsidiaryList"] = {"recordRef": [RecordRef(internal_id=defaults.subsidiary)]}
        if defaults.tax_schedule:
            fields["taxSchedule"] = RecordRef(internal_id=defaults.tax_schedule)
        fields.update(custom)
        return [self.create(CREATING, item_type, fields, row["Id"])]


class EffectiveCatalogFlow(CatalogFlow):
    """A product or rate plan: runs only with sales-order sync or a forced catalog sync, and selects the records
    effective now (reference 4.3: EffectiveStartDate <= today <= EffectiveEndDate)."""

    catalog = True
    enabled_by_default = False  # sync.types gains it with sales-order sync or sync.force_catalog_sync

    def own_criteria(self) -> list[list[zoql.Condition]]:
        today = dt.datetime.now(dt.UTC).date()
        return [[zoql.le("EffectiveStartDate", today), zoql.ge("EffectiveEndDate", today)]]

    def rule_note(self, field: str) -> str | None:
        if field in ("EffectiveStartDate", "EffectiveEndDate"):
            return "effective today (reference 4.3)"
        return None


def _item_type_problem(row: Mapping[str, Any]) -> str:
    value = row.get("ItemType__NS")
    choices = ", ".join(repr(name) for name in ITEM_TYPES)
    if not value:
        return f"ItemType__NS is empty: set it to {choices}"
    return f"ItemType__NS {value!r} is not supported (use {choices})"
