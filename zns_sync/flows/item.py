"""Zuora Product Rate Plan Charge -> NetSuite item of the type `ItemType__NS` names (reference 4.5, 6.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zns_sync.flows.base import INTEGRATION_ID_FIELD, Flow, Problem, Step, Write, skipped
from zns_sync.netsuite import RecordRef
from zns_sync.status import Action
from zns_sync.zuora import zoql

# ItemType__NS -> the SuiteTalk record type created; Inventory items are not supported by this version.
ITEM_TYPES = {"Non Inventory": "NonInventorySaleItem", "Service": "ServiceSaleItem"}
CREATING = Step(Action.CREATING, "Item")
LINKING = Step(Action.LINKING, "Item")


class ItemFlow(Flow):
    """Creates one NetSuite item per charge (no price: each invoice line carries its amount)."""

    name = "item"
    depends_on = ()  # a charge needs no other record (reference 2.3: a customer and an item are independent)
    source_object = "ProductRatePlanCharge"
    external_id_kind = "charge"
    counterpart_types = tuple(ITEM_TYPES.values())
    number_field = "ProductRatePlanChargeNumber"
    fields = (
        "Id", "ProductRatePlanChargeNumber", "Name", "Description", "ProductRatePlanId", "ChargeModel", "ChargeType",
        "ItemType__NS", "IntegrationId__NS", "IntegrationStatus__NS", "UpdatedDate",
    )  # fmt: skip
    steps = (CREATING, LINKING)

    # -- selection and validation (reference 4.5) -----------------------------------------------------------
    def own_criteria(self) -> list[list[zoql.Condition]]:
        return [[]]

    def validate(self, row: Mapping[str, Any], page: None) -> Problem | None:
        if str(row.get("ItemType__NS") or "") not in ITEM_TYPES:
            return skipped(_item_type_problem(row))
        return None

    # -- mapping (reference 6.5) ----------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: None) -> list[Write]:
        ids = self.settings.netsuite_fields
        item_type = ITEM_TYPES[str(row["ItemType__NS"])]
        zuora_fields: dict[str, Any] = {ids.item_zuora_id: row["Id"], ids.item_zuora_type: "CHARGE"}
        for zuora_name, script_id in (("ChargeModel", ids.item_charge_model), ("ChargeType", ids.item_charge_type)):
            if row.get(zuora_name):
                zuora_fields[script_id] = row[zuora_name]
        if row.get(INTEGRATION_ID_FIELD):
            return [self.update(LINKING, item_type, str(row[INTEGRATION_ID_FIELD]), {"customFieldList": zuora_fields})]
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
        return [self.create(CREATING, item_type, fields, row["Id"])]


def _item_type_problem(row: Mapping[str, Any]) -> str:
    value = row.get("ItemType__NS")
    if not value:
        return "ItemType__NS is empty: set it to 'Non Inventory' or 'Service'"
    return f"ItemType__NS {value!r} is not supported (use 'Non Inventory' or 'Service')"
