"""Zuora Product -> NetSuite item, the parent of its rate plans' items (reference 4.3, 6.3).

The product item has no income account, on purpose: it cannot be used on a transaction, it only groups the rate
plan items under it. It runs only with sales-order sync or `sync.force_catalog_sync` (`EffectiveCatalogFlow`).
"""

from __future__ import annotations

from zns_sync.flows.catalog import EffectiveCatalogFlow


class ProductFlow(EffectiveCatalogFlow):
    """Creates one NetSuite item per product effective today."""

    name = "product"
    depends_on = ()  # the root of the catalog (reference 2.3)
    source_object = "Product"
    external_id_kind = "product"
    zuora_type = "PRODUCT"
    id_label = "Product"
    fields = (
        "Id", "Name", "SKU", "EffectiveStartDate", "EffectiveEndDate", "ItemType__NS", "IntegrationId__NS",
        "IntegrationStatus__NS", "UpdatedDate",
    )  # fmt: skip
