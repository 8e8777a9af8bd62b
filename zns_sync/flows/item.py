"""Zuora Product Rate Plan Charge -> NetSuite item of the type `ItemType__NS` names (reference 4.5, 6.5).

With sync.new_and_modified.item, a charge synced already and modified since the last run (UpdatedDate) updates its
item: the name, description and Zuora fields that differ from the item's; its status stays Sync Complete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from zns_sync.flows.base import INTEGRATION_ID_FIELD, Problem, Step, Write, changed, record_name, skipped
from zns_sync.flows.catalog import ITEM_TYPES, CatalogFlow
from zns_sync.flows.classifications import INCLUDE_CHILDREN_FIELD, ZUORA_FIELDS, Classified
from zns_sync.flows.names import DEFERRED_REVENUE_ACCOUNT as DEFERRED_REVENUE
from zns_sync.flows.names import INCOME_ACCOUNT, REV_REC_TEMPLATE
from zns_sync.netsuite import RecordRef, record_type_enum
from zns_sync.status import Action

# The charge's GL accounts by full name (reference 5.1, 6.5).
RECOGNIZED_REVENUE_ACCOUNT = "RecognizedRevAccount__NS"
DEFERRED_REVENUE_ACCOUNT = "DeferredRevAccount__NS"
UPDATING = Step(Action.UPDATING, "Item", silent=True)  # a modified charge (reference 4.5: status untouched)


class ItemFlow(CatalogFlow):
    """Creates one NetSuite item per charge (no price: each invoice line carries its amount)."""

    name = "item"
    depends_on = ()  # a charge needs no other record (reference 2.3: a customer and an item are independent)
    source_object = "ProductRatePlanCharge"
    external_id_kind = "charge"
    zuora_type = "CHARGE"
    id_label = "Charge"
    number_field = "ProductRatePlanChargeNumber"
    fields = (
        "Id", "ProductRatePlanChargeNumber", "Name", "Description", "ProductRatePlanId", "ChargeModel", "ChargeType",
        "ItemType__NS", "IntegrationId__NS", "IntegrationStatus__NS", "UpdatedDate", "AccountingCode", "RevRecCode",
        RECOGNIZED_REVENUE_ACCOUNT, DEFERRED_REVENUE_ACCOUNT, INCLUDE_CHILDREN_FIELD, *ZUORA_FIELDS,
    )  # fmt: skip
    steps = (*CatalogFlow.steps, UPDATING)
    modified_field = "UpdatedDate"
    takes_custom_fields = True

    def lookups(self, rows: Sequence[dict[str, Any]]) -> dict[str, Mapping[str, Any]]:
        """The NetSuite items of modified charges, by internalId (read as the type ItemType__NS names)."""
        modified = [r for r in rows if self.modified(r) and r.get(INTEGRATION_ID_FIELD) and _item_type(r)]
        refs = [RecordRef(internal_id=str(r[INTEGRATION_ID_FIELD]), type=_item_type(r)) for r in modified]
        reads = self.context.netsuite.get_list(refs) if refs else []
        return {str(ref.internal_id): read.record for ref, read in zip(refs, reads, strict=True) if read.record}

    # -- validation (reference 4.5) ---------------------------------------------------------------------------
    def validate(self, row: Mapping[str, Any], page: Mapping[str, Mapping[str, Any]]) -> Problem | None:
        item_type = super().validate(row, page)
        if item_type is not None:
            return item_type
        if self.modified(row):
            if str(row.get(INTEGRATION_ID_FIELD) or "") not in page:
                return skipped(
                    f"no {row['ItemType__NS']} item {row.get(INTEGRATION_ID_FIELD)} in NetSuite: deleted, or its "
                    "ItemType__NS changed after sync (reference 4.3: delete the item, clear the charge's status)"
                )
            return None
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
        if self.settings.sync.revenue_recognition:
            if row.get(DEFERRED_REVENUE_ACCOUNT):
                value, where = str(row[DEFERRED_REVENUE_ACCOUNT]), f"{DEFERRED_REVENUE_ACCOUNT} of {what}"
                named.append(self.classifier.record("deferredRevenueAccount", value, DEFERRED_REVENUE, where))
            if row.get("RevRecCode"):
                value, where = str(row["RevRecCode"]), f"RevRecCode of {what}"
                named.append(self.classifier.record("revRecSchedule", value, REV_REC_TEMPLATE, where))
        return named

    # -- mapping (reference 6.5) ----------------------------------------------------------------------------
    def zuora_fields(self, row: Mapping[str, Any], page: Any) -> dict[str, Any]:
        ids = self.settings.netsuite_fields
        fields = super().zuora_fields(row, page)
        for zuora_name, script_id in (("ChargeModel", ids.item_charge_model), ("ChargeType", ids.item_charge_type)):
            if row.get(zuora_name):
                fields[script_id] = row[zuora_name]
        return fields

    def item_fields(self, row: Mapping[str, Any], page: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if row.get("Description"):
            fields["salesDescription"] = row["Description"]
        for named in self._named(row):
            fields.update(named.fields)
        if "subsidiary" in fields:  # an item has a list of subsidiaries (OneWorld), and may reach their children
            fields["subsidiaryList"] = {"recordRef": [fields.pop("subsidiary")]}
            if row.get(INCLUDE_CHILDREN_FIELD) in ("Yes", "No"):
                fields["includeChildren"] = row[INCLUDE_CHILDREN_FIELD] == "Yes"
        if self.settings.sync.standard_invoice_sync:
            fields["isTaxable"] = False
        return fields

    def changes(self, row: Mapping[str, Any], page: Mapping[str, Mapping[str, Any]]) -> list[Write]:
        """A modified charge: its item's Item ID, description and Zuora fields (not its display name, which is set
        on create only, reference 6.5), as far as they differ."""
        internal_id = str(row[INTEGRATION_ID_FIELD])
        fields: dict[str, Any] = {"itemId": self.item_id(row), "customFieldList": self.zuora_fields(row, page)}
        if row.get("Description"):
            fields["salesDescription"] = row["Description"]
        update = changed(fields, page[internal_id])
        return [self.update(UPDATING, ITEM_TYPES[str(row["ItemType__NS"])], internal_id, update)] if update else []


def _item_type(row: Mapping[str, Any]) -> str | None:
    """The RecordType enum value of the item an ItemType__NS names (nonInventorySaleItem), if it names one."""
    record_type = ITEM_TYPES.get(str(row.get("ItemType__NS") or ""))
    return record_type_enum(record_type) if record_type else None
