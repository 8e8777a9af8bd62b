"""Zuora Product Rate Plan Charge -> NetSuite item of the type `ItemType__NS` names (reference 4.5, 6.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zns_sync.flows.catalog import CatalogFlow
from zns_sync.netsuite import RecordRef


class ItemFlow(CatalogFlow):
    """Creates one NetSuite item per charge (no price: each invoice line carries its amount)."""

    name = "item"
    source_object = "ProductRatePlanCharge"
    external_id_kind = "charge"
    zuora_type = "CHARGE"
    id_label = "Charge"
    number_field = "ProductRatePlanChargeNumber"
    fields = (
        "Id", "ProductRatePlanChargeNumber", "Name", "Description", "ProductRatePlanId", "ChargeModel", "ChargeType",
        "ItemType__NS", "IntegrationId__NS", "IntegrationStatus__NS", "UpdatedDate",
    )  # fmt: skip

    # -- mapping (reference 6.5) ----------------------------------------------------------------------------
    def zuora_fields(self, row: Mapping[str, Any], page: None) -> dict[str, Any]:
        ids = self.settings.netsuite_fields
        fields = super().zuora_fields(row, page)
        for zuora_name, script_id in (("ChargeModel", ids.item_charge_model), ("ChargeType", ids.item_charge_type)):
            if row.get(zuora_name):
                fields[script_id] = row[zuora_name]
        return fields

    def item_fields(self, row: Mapping[str, Any], page: None) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if row.get("Description"):
            fields["salesDescription"] = row["Description"]
        if self.settings.netsuite_defaults.income_account:
            fields["incomeAccount"] = RecordRef(internal_id=self.settings.netsuite_defaults.income_account)
        if self.settings.sync.standard_invoice_sync:
            fields["isTaxable"] = False
        return fields
