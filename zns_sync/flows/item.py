"""Zuora Product Rate Plan Charge -> NetSuite item of the type `ItemType__NS` names (reference 4.5, 6.5)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from zns_sync.flows.base import INTEGRATION_ID_FIELD, Excluded, Flow, Plan, Refusal
from zns_sync.netsuite import RecordRef
from zns_sync.zuora import zoql

# ItemType__NS -> the SuiteTalk record type created; Inventory items are not supported by this version.
ITEM_TYPES = {"Non Inventory": "NonInventorySaleItem", "Service": "ServiceSaleItem"}


class ItemFlow(Flow):
    """Creates one NetSuite item per charge (no price: each invoice line carries its amount)."""

    name = "item"
    zuora_object = "ProductRatePlanCharge"
    external_id_kind = "charge"
    fields = (
        "Id", "Name", "Description", "ProductRatePlanId", "ChargeModel", "ChargeType", "ItemType__NS",
        "IntegrationId__NS", "IntegrationStatus__NS", "UpdatedDate",
    )  # fmt: skip
    noun = "Item"

    def own_criteria(self) -> list[list[zoql.Condition]]:
        return [[]]

    def plan_page(self, rows: Sequence[dict[str, Any]]) -> Iterator[Plan | Refusal | Excluded]:
        for row in rows:
            yield self._plan(row)

    def _plan(self, row: Mapping[str, Any]) -> Plan | Refusal:
        status = self.status_of(row)
        ids = self.settings.netsuite_fields
        zuora_fields: dict[str, Any] = {
            ids.item_zuora_id: row["Id"],
            ids.item_zuora_type: "CHARGE",
        }
        for zuora_name, script_id in (
            ("ChargeModel", ids.item_charge_model),
            ("ChargeType", ids.item_charge_type),
        ):
            if row.get(zuora_name):
                zuora_fields[script_id] = row[zuora_name]
        item_type = ITEM_TYPES.get(str(row.get("ItemType__NS") or ""))
        if row.get(INTEGRATION_ID_FIELD):
            if item_type is None:
                return Refusal(row["Id"], status, "skipped", _item_type_problem(row))
            return self.link(row, item_type, zuora_fields)
        if item_type is None:
            return Refusal(row["Id"], status, "skipped", _item_type_problem(row))
        name = str(row.get("Name") or f"Zuora Charge {row['Id']}")
        fields: dict[str, Any] = {"itemId": name, "displayName": name}
        if row.get("Description"):
            fields["salesDescription"] = row["Description"]
        defaults = self.settings.netsuite_defaults
        if defaults.income_account:
            fields["incomeAccount"] = RecordRef(internal_id=defaults.income_account)
        if defaults.subsidiary:
            fields["subsidiaryList"] = {"recordRef": [RecordRef(internal_id=defaults.subsidiary)]}
        if defaults.tax_schedule:
            fields["taxSchedule"] = RecordRef(internal_id=defaults.tax_schedule)
        if self.settings.sync.standard_invoice_sync:
            fields["isTaxable"] = False
        fields["customFieldList"] = zuora_fields
        return self.create(row, item_type, fields)


def _item_type_problem(row: Mapping[str, Any]) -> str:
    value = row.get("ItemType__NS")
    if not value:
        return "ItemType__NS is empty: set it to 'Non Inventory' or 'Service'"
    return f"ItemType__NS {value!r} is not supported (use 'Non Inventory' or 'Service')"
