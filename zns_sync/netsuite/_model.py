"""Plain data the NetSuite client takes and gives: records, references, per-record results and limits."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

# NetSuite's synchronous list limits (reference netsuite-suitetalk.md 5.2).
LIMITS: Mapping[str, int] = MappingProxyType(
    {"addList": 200, "updateList": 100, "upsertList": 100, "deleteList": 200, "getList": 1000, "searchPageSize": 1000}
)

# SuiteTalk type name -> namespace area (`urn:<area>_<version>.…`); one place for every type we build.
RECORD_NAMESPACES: Mapping[str, str] = MappingProxyType(
    {
        "Customer": "relationships.lists",
        "CustomerAddressbookList": "relationships.lists",
        "CustomerAddressbook": "relationships.lists",
        "InventoryItem": "accounting.lists",
        "NonInventorySaleItem": "accounting.lists",
        "ServiceSaleItem": "accounting.lists",
        "Currency": "accounting.lists",
        "Term": "accounting.lists",
        "PaymentMethod": "accounting.lists",
        "Subsidiary": "accounting.lists",
        "Account": "accounting.lists",
        "Department": "accounting.lists",
        "Classification": "accounting.lists",
        "Location": "accounting.lists",
        "RevRecTemplate": "accounting.lists",
        "SalesTaxItem": "accounting.lists",
        "Invoice": "sales.transactions",
        "SalesOrder": "sales.transactions",
        "CreditMemo": "customers.transactions",
        "CustomerPayment": "customers.transactions",
        "CustomerRefund": "customers.transactions",
        "Address": "common.platform",
        "CustomerSearchBasic": "common.platform",
        "ItemSearchBasic": "common.platform",
        "TransactionSearchBasic": "common.platform",
        "TermSearchBasic": "common.platform",
        "PaymentMethodSearchBasic": "common.platform",
        "AccountSearchBasic": "common.platform",
        "SubsidiarySearchBasic": "common.platform",
        "DepartmentSearchBasic": "common.platform",
        "ClassificationSearchBasic": "common.platform",
        "LocationSearchBasic": "common.platform",
        "RevRecTemplateSearchBasic": "common.platform",
        "SalesTaxItemSearchBasic": "common.platform",
    }
)

# The `search` kinds the client offers and the SearchBasic type each one uses.
SEARCH_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "customer": "CustomerSearchBasic",
        "item": "ItemSearchBasic",
        "transaction": "TransactionSearchBasic",
        "term": "TermSearchBasic",
        "paymentMethod": "PaymentMethodSearchBasic",
        "account": "AccountSearchBasic",
        "subsidiary": "SubsidiarySearchBasic",
        "department": "DepartmentSearchBasic",
        "classification": "ClassificationSearchBasic",
        "location": "LocationSearchBasic",
        "revRecTemplate": "RevRecTemplateSearchBasic",
        "salesTaxItem": "SalesTaxItemSearchBasic",
    }
)
# SuiteTalk record type -> the `search` kind that finds it.
SEARCH_KIND_OF: Mapping[str, str] = MappingProxyType(
    {
        "Customer": "customer",
        "InventoryItem": "item",
        "NonInventorySaleItem": "item",
        "ServiceSaleItem": "item",
        "Invoice": "transaction",
        "CreditMemo": "transaction",
        "CustomerPayment": "transaction",
        "CustomerRefund": "transaction",
        "SalesOrder": "transaction",
    }
)
# Reference lists 2023_2's getAll does not offer (its GetAllRecordType has neither): `get_all` searches them.
LISTED_BY_SEARCH = ("term", "paymentMethod")


def record_type_enum(type_name: str) -> str:
    """The RecordType enum value of a SuiteTalk type name: `CustomerPayment` -> `customerPayment`."""
    return type_name[:1].lower() + type_name[1:]


@dataclasses.dataclass(frozen=True)
class RecordRef:
    """A reference to a NetSuite record by internalId or externalId (`type` is the RecordType enum, e.g. invoice)."""

    internal_id: str | None = None
    external_id: str | None = None
    type: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.internal_id is None and self.external_id is None and self.name is None:
            raise ValueError("RecordRef needs internal_id or external_id")


@dataclasses.dataclass(frozen=True)
class CustomFieldCondition:
    """One custom-field criterion of a search: a checkbox equal to `value` (a bool), or a text field compared with
    `operator` (is, isNot, empty, notEmpty, startsWith ...; SearchStringFieldOperator)."""

    script_id: str
    operator: str = "is"
    value: str | bool | None = None


@dataclasses.dataclass(frozen=True)
class NsRecord:
    """One record to write: its SuiteTalk type name, its fields by XSD element name, and its keys."""

    record_type: str
    fields: Mapping[str, Any]
    external_id: str | None = None
    internal_id: str | None = None

    def values(self) -> dict[str, Any]:
        """The fields and the keys (`externalId`, `internalId` attributes), as the record's type names them."""
        keys = {"externalId": self.external_id, "internalId": self.internal_id}
        return {**self.fields, **{name: key for name, key in keys.items() if key is not None}}


@dataclasses.dataclass(frozen=True)
class WriteResult:
    """The outcome of writing one record; partial failure of a list is data, not an exception."""

    success: bool
    internal_id: str | None
    external_id: str | None
    code: str | None = None
    message: str | None = None


@dataclasses.dataclass(frozen=True)
class ReadResult:
    """The outcome of reading one record; `record` is a plain dict (see NetSuiteClient.get_list)."""

    success: bool
    record: dict[str, Any] | None
    code: str | None = None
    message: str | None = None
