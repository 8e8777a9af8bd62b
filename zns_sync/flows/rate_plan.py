"""Zuora Product Rate Plan -> NetSuite item, a sub-item of its product's item (reference 4.4, 6.4).

Rate plan items are what a person picks on a NetSuite sales order (`sales-order` sends those lines to Zuora). The
price `Price__NS` (the default currency's) is the item's `rate`; the income account is the default one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from zns_sync.flows.base import INTEGRATION_ID_FIELD, Dependency, Problem, dependency, skipped
from zns_sync.flows.catalog import EffectiveCatalogFlow
from zns_sync.flows.product import ProductFlow
from zns_sync.netsuite import RecordRef

PRICE_FIELD = "Price__NS"


class RatePlanFlow(EffectiveCatalogFlow):
    """Creates one NetSuite item per rate plan effective today, under its product's item (Subitem Of)."""

    name = "rate-plan"
    depends_on = ("product",)  # its item is a sub-item of its product's (reference 2.3)
    source_object = "ProductRatePlan"
    external_id_kind = "rate-plan"
    zuora_type = "RATE_PLAN"
    id_label = "Rate Plan"
    fields = (
        "Id", "Name", "Description", "ProductId", "EffectiveStartDate", "EffectiveEndDate", "ItemType__NS",
        PRICE_FIELD, "IntegrationId__NS", "IntegrationStatus__NS", "UpdatedDate",
    )  # fmt: skip

    def lookups(self, rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The rows' products, by Id."""
        return self.context.zuora_by_id("Product", ProductFlow.fields, [str(r["ProductId"]) for r in rows])

    def dependencies(self, row: Mapping[str, Any], page: Mapping[str, dict[str, Any]]) -> Sequence[Dependency]:
        """The product's item is this one's parent (reference 2.3: the product must have an IntId)."""
        product_id = str(row["ProductId"])
        return [dependency("product", ProductFlow.name, product_id, page.get(product_id))]

    def validate(self, row: Mapping[str, Any], page: Mapping[str, dict[str, Any]]) -> Problem | None:
        problem = super().validate(row, page)
        if problem is not None:
            return problem
        if _price(row) is None:
            return skipped(f"{PRICE_FIELD} {row[PRICE_FIELD]!r} is not an amount (the default currency's price)")
        product_type = page[str(row["ProductId"])].get("ItemType__NS")
        if row.get(INTEGRATION_ID_FIELD) is None and product_type != row["ItemType__NS"]:
            # A NetSuite item is a sub-item only of an item of its own type.
            return skipped(
                f"ItemType__NS {row['ItemType__NS']!r} differs from its product's ({product_type!r}): the plan's item "
                f"must be of its product item's type to be its sub-item"
            )
        return None

    # -- mapping (reference 6.4) ----------------------------------------------------------------------------
    def item_fields(self, row: Mapping[str, Any], page: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        product = page[str(row["ProductId"])]
        fields: dict[str, Any] = {"parent": RecordRef(internal_id=str(product["IntegrationId__NS"]))}
        if row.get("Description"):
            fields["salesDescription"] = row["Description"]
        if self.settings.netsuite_defaults.income_account:
            fields["incomeAccount"] = RecordRef(internal_id=self.settings.netsuite_defaults.income_account)
        price = _price(row)
        if price:
            fields["rate"] = price
        return fields


def _price(row: Mapping[str, Any]) -> Decimal | None:
    """The plan's Price__NS as an amount (empty: zero); None when it is not one."""
    text = str(row.get(PRICE_FIELD) or "0").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
