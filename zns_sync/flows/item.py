"""Zuora Product Rate Plan Charge -> NetSuite item of the type `ItemType__NS` names (reference 4.5, 6.5).

With sync.new_and_modified.item, a charge synced already and modified since the last run (UpdatedDate) updates its
item: the name, description and Zuora fields that differ from the item's; its status stays Sync Complete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from zns_sync.flows.base import INTEGRATION_ID_FIELD, Flow, Problem, Step, Write, changed, skipped
from zns_sync.netsuite import RecordRef, record_type_enum
from zns_sync.status import Action
from zns_sync.zuora import zoql

# ItemType__NS -> the SuiteTalk record type created; Inventory items are not supported by this version.
ITEM_TYPES = {"Non Inventory": "NonInventorySaleItem", "Service": "ServiceSaleItem"}
CREATING = Step(Action.CREATING, "Item")
LINKING = Step(Action.LINKING, "Item")
UPDATING = Step(Action.UPDATING, "Item", silent=True)  # a modified charge (reference 4.5: status untouched)


class ItemFlow(Flow):
    """Creates one NetSuite item per charge (no price: each invoice line carries its amount)."""

    name = "item"
    source_object = "ProductRatePlanCharge"
    external_id_kind = "charge"
    counterpart_types = tuple(ITEM_TYPES.values())
    number_field = "ProductRatePlanChargeNumber"
    fields = (
        "Id", "ProductRatePlanChargeNumber", "Name", "Description", "ProductRatePlanId", "ChargeModel", "ChargeType",
        "ItemType__NS", "IntegrationId__NS", "IntegrationStatus__NS", "UpdatedDate",
    )  # fmt: skip
    steps = (CREATING, LINKING, UPDATING)
    modified_field = "UpdatedDate"
    takes_custom_fields = True

    # -- selection and validation (reference 4.5) -----------------------------------------------------------
    def own_criteria(self) -> list[list[zoql.Condition]]:
        return [[]]

    def lookups(self, rows: Sequence[dict[str, Any]]) -> dict[str, Mapping[str, Any]]:
        """The NetSuite items of modified charges, by internalId (read as the type ItemType__NS names)."""
        modified = [r for r in rows if self.modified(r) and r.get(INTEGRATION_ID_FIELD) and _item_type(r)]
        refs = [RecordRef(internal_id=str(r[INTEGRATION_ID_FIELD]), type=_item_type(r)) for r in modified]
        reads = self.context.netsuite.get_list(refs) if refs else []
        return {str(ref.internal_id): read.record for ref, read in zip(refs, reads, strict=True) if read.record}

    def validate(self, row: Mapping[str, Any], page: Mapping[str, Mapping[str, Any]]) -> Problem | None:
        if str(row.get("ItemType__NS") or "") not in ITEM_TYPES:
            return skipped(_item_type_problem(row))
        if self.modified(row) and str(row.get(INTEGRATION_ID_FIELD) or "") not in page:
            return skipped(
                f"no {row['ItemType__NS']} item {row.get(INTEGRATION_ID_FIELD)} in NetSuite: deleted, or its "
                "ItemType__NS changed after sync (reference 4.3: delete the item, clear the charge's status)"
            )
        return None

    # -- mapping (reference 6.5) ----------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: Mapping[str, Mapping[str, Any]]) -> list[Write]:
        item_type = ITEM_TYPES[str(row["ItemType__NS"])]
        if row.get(INTEGRATION_ID_FIELD):
            zuora_fields = self._zuora_fields(row)
            return [self.update(LINKING, item_type, str(row[INTEGRATION_ID_FIELD]), {"customFieldList": zuora_fields})]
        fields = self._item(row)
        defaults = self.settings.netsuite_defaults
        if defaults.income_account:
            fields["incomeAccount"] = RecordRef(internal_id=defaults.income_account)
        if defaults.subsidiary:
            fields["subsidiaryList"] = {"recordRef": [RecordRef(internal_id=defaults.subsidiary)]}
        if defaults.tax_schedule:
            fields["taxSchedule"] = RecordRef(internal_id=defaults.tax_schedule)
        if self.settings.sync.standard_invoice_sync:
            fields["isTaxable"] = False
        return [self.create(CREATING, item_type, fields, row["Id"])]

    def changes(self, row: Mapping[str, Any], page: Mapping[str, Mapping[str, Any]]) -> list[Write]:
        internal_id = str(row[INTEGRATION_ID_FIELD])
        update = changed(self._item(row), page[internal_id])
        return [self.update(UPDATING, ITEM_TYPES[str(row["ItemType__NS"])], internal_id, update)] if update else []

    def _item(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The item's fields from the charge, on create and on update (reference 6.5)."""
        name = str(row.get("Name") or f"Zuora Charge {row['Id']}")
        fields: dict[str, Any] = {"itemId": name, "displayName": name}
        if row.get("Description"):
            fields["salesDescription"] = row["Description"]
        fields["customFieldList"] = self._zuora_fields(row)
        return fields

    def _zuora_fields(self, row: Mapping[str, Any]) -> dict[str, Any]:
        ids = self.settings.netsuite_fields
        zuora_fields: dict[str, Any] = {ids.item_zuora_id: row["Id"], ids.item_zuora_type: "CHARGE"}
        for zuora_name, script_id in (("ChargeModel", ids.item_charge_model), ("ChargeType", ids.item_charge_type)):
            if row.get(zuora_name):
                zuora_fields[script_id] = row[zuora_name]
        return zuora_fields


def _item_type(row: Mapping[str, Any]) -> str | None:
    """The RecordType enum value of the item an ItemType__NS names (nonInventorySaleItem), if it names one."""
    record_type = ITEM_TYPES.get(str(row.get("ItemType__NS") or ""))
    return record_type_enum(record_type) if record_type else None


def _item_type_problem(row: Mapping[str, Any]) -> str:
    value = row.get("ItemType__NS")
    if not value:
        return "ItemType__NS is empty: set it to 'Non Inventory' or 'Service'"
    return f"ItemType__NS {value!r} is not supported (use 'Non Inventory' or 'Service')"
