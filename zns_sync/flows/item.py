"""Zuora Product Rate Plan Charge -> NetSuite item of the type `ItemType__NS` names (reference 4.5, 6.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zns_sync.flows.base import INTEGRATION_ID_FIELD, Flow, Problem, Step, Write, record_name, skipped
from zns_sync.flows.classifications import INCLUDE_CHILDREN_FIELD, ZUORA_FIELDS, Classified
from zns_sync.flows.names import DEFERRED_REVENUE_ACCOUNT as DEFERRED_REVENUE
from zns_sync.flows.names import INCOME_ACCOUNT, REV_REC_TEMPLATE
from zns_sync.netsuite import RecordRef
from zns_sync.status import Action
from zns_sync.zuora import zoql

# ItemType__NS -> the SuiteTalk record type created; Inventory items are not supported by this version.
ITEM_TYPES = {"Non Inventory": "NonInventorySaleItem", "Service": "ServiceSaleItem"}
# The charge's GL accounts by full name (reference 5.1, 6.5).
RECOGNIZED_REVENUE_ACCOUNT = "RecognizedRevAccount__NS"
DEFERRED_REVENUE_ACCOUNT = "DeferredRevAccount__NS"
CREATING = Step(Action.CREATING, "Item")
LINKING = Step(Action.LINKING, "Item")


class ItemFlow(Flow):
    """Creates one NetSuite item per charge (no price: each invoice line carries its amount)."""

    name = "item"
    source_object = "ProductRatePlanCharge"
    external_id_kind = "charge"
    counterpart_types = tuple(ITEM_TYPES.values())
    number_field = "ProductRatePlanChargeNumber"
    fields = (
        "Id", "ProductRatePlanChargeNumber", "Name", "Description", "ProductRatePlanId", "ChargeModel", "ChargeType",
        "ItemType__NS", "IntegrationId__NS", "IntegrationStatus__NS", "UpdatedDate", "AccountingCode", "RevRecCode",
        RECOGNIZED_REVENUE_ACCOUNT, DEFERRED_REVENUE_ACCOUNT, INCLUDE_CHILDREN_FIELD, *ZUORA_FIELDS,
    )  # fmt: skip
    steps = (CREATING, LINKING)

    # -- selection and validation (reference 4.5) -----------------------------------------------------------
    def own_criteria(self) -> list[list[zoql.Condition]]:
        return [[]]

    def validate(self, row: Mapping[str, Any], page: None) -> Problem | None:
        if str(row.get("ItemType__NS") or "") not in ITEM_TYPES:
            return skipped(_item_type_problem(row))
        if row.get(INTEGRATION_ID_FIELD):
            return None  # a link writes only the Zuora fields (reference 4.5: validations skipped on link)
        problem = next((c.problem for c in self._named(row) if c.problem is not None), None)
        return skipped(problem) if problem is not None else None

    def _named(self, row: Mapping[str, Any]) -> list[Classified]:
        """What the item names in NetSuite by name (reference 6.5): classifications, subsidiary, GL accounts, the
        revenue recognition template; each resolved, or why not."""
        what = record_name("product charge", row["Id"], row.get(self.number_field or ""))
        named = [self.classifier.header(row, what), self.classifier.subsidiary(row, what)]
        # Income Account: RecognizedRevAccount, else AccountingCode, else the default (an internal id, or NetSuite's).
        for field in (RECOGNIZED_REVENUE_ACCOUNT, "AccountingCode"):
            if row.get(field):
                named.append(
                    self.classifier.record("incomeAccount", str(row[field]), INCOME_ACCOUNT, f"{field} of {what}")
                )
                break
        else:
            default = self.settings.netsuite_defaults.income_account
            named.append(Classified({"incomeAccount": RecordRef(internal_id=default)} if default else {}))
        if self.settings.sync.use_revenue_recognition:
            if row.get(DEFERRED_REVENUE_ACCOUNT):
                value, where = str(row[DEFERRED_REVENUE_ACCOUNT]), f"{DEFERRED_REVENUE_ACCOUNT} of {what}"
                named.append(self.classifier.record("deferredRevenueAccount", value, DEFERRED_REVENUE, where))
            if row.get("RevRecCode"):
                value, where = str(row["RevRecCode"]), f"RevRecCode of {what}"
                named.append(self.classifier.record("revRecSchedule", value, REV_REC_TEMPLATE, where))
        return named

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
        for named in self._named(row):
            fields.update(named.fields)
        if "subsidiary" in fields:  # an item has a list of subsidiaries (OneWorld), and may reach their children
            fields["subsidiaryList"] = {"recordRef": [fields.pop("subsidiary")]}
            if row.get(INCLUDE_CHILDREN_FIELD) in ("Yes", "No"):
                fields["includeChildren"] = row[INCLUDE_CHILDREN_FIELD] == "Yes"
        defaults = self.settings.netsuite_defaults
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
