"""The Zuora emulator's in-memory tenant: objects by type then Id, with Zuora's field names and types."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# A field's type decides how ZOQL literals and written values are parsed and how values are rendered.
ID, STRING, DATE, DATETIME, DECIMAL, INTEGER, BOOLEAN = (
    "id",
    "string",
    "date",
    "datetime",
    "decimal",
    "integer",
    "boolean",
)

_COMMON = "Id:id CreatedDate:datetime UpdatedDate:datetime CreatedById:id UpdatedById:id"
_NS_TRIO = "IntegrationId__NS IntegrationStatus__NS SyncDate__NS"
# A memo item names what it bills by SourceItemType and SourceItemId (SubscriptionComponent: a RatePlanCharge,
# InvoiceDetail: an InvoiceItem, ProductRatePlanCharge: itself); its taxes carry the tax code's accounting code.
_MEMO_ITEM = (
    "Amount:decimal AmountWithoutTax:decimal SourceItemType SourceItemId:id ServiceStartDate:date "
    "ServiceEndDate:date Quantity:decimal UnitPrice:decimal SKU ProcessingType SubscriptionId:id"
)
_MEMO_TAX = "TaxAmount:decimal AccountingCode TaxDate:date Name TaxRate:decimal TaxRateType TaxRateDescription"

# The demo tenant's own custom fields (Settings > Custom Fields: text, number, date, picklist), as a tenant adds them
# to the objects custom field sync covers (reference 4.18); Zuora names them `<Name>__c`.
_TENANT_CUSTOM = "Region__c Seats__c:decimal RenewalDate__c:date"
# Field lists per object (reference zuora-rest.md section 7, zuora-connector.md section 5.1); untyped = string.
_SCHEMA_TEXT: dict[str, str] = {
    "Account": f"{_COMMON} {_NS_TRIO} AccountNumber Name Currency PaymentTerm Status BillToId:id SoldToId:id "
    "Balance:decimal CreditBalance:decimal TotalInvoiceBalance:decimal AutoPay:boolean Batch "
    "BillCycleDay:integer CrmId Notes ParentId:id PurchaseOrderNumber DefaultPaymentMethodId:id "
    "SynctoNetSuite__NS Subsidiary__NS Class__NS Department__NS Location__NS CustomerType__NS CustomerId__NS "
    f"AllowInvoiceEdit:boolean {_TENANT_CUSTOM}",
    "Contact": f"{_COMMON} AccountId:id FirstName LastName Address1 Address2 City State Country PostalCode County "
    "WorkEmail PersonalEmail WorkPhone Fax NickName TaxRegion Description",
    "Product": f"{_COMMON} {_NS_TRIO} Name Description SKU ProductNumber Category EffectiveStartDate:date "
    "EffectiveEndDate:date ItemType__NS",
    "ProductRatePlan": f"{_COMMON} {_NS_TRIO} Name Description ProductId:id EffectiveStartDate:date "
    "EffectiveEndDate:date ItemType__NS BillingPeriod__NS Price__NS",
    "ProductRatePlanCharge": f"{_COMMON} {_NS_TRIO} Name Description ProductRatePlanId:id ChargeModel ChargeType "
    "BillingPeriod AccountingCode TaxCode TaxMode Taxable:boolean UOM ProductRatePlanChargeNumber "
    "DeferredRevenueAccount RecognizedRevenueAccount RevRecCode RevRecTriggerCondition RevRecStart__NS RevRecEnd__NS "
    "RevRecTemplateType__NS ItemType__NS Class__NS Department__NS Location__NS Subsidiary__NS IncludeChildren__NS "
    f"RecognizedRevAccount__NS DeferredRevAccount__NS {_TENANT_CUSTOM}",
    "RatePlanCharge": f"{_COMMON} Name ChargeNumber ChargeModel ChargeType ProductRatePlanChargeId:id "
    "SubscriptionId:id RevRecCode RevRecTriggerCondition",
    # SOAP object reference, Subscription (docs.zuora.com .../soap-api-object-reference/subscription); Project__NS and
    # SalesOrder__NS: reference zuora-connector.md 5.1.
    "Subscription": f"{_COMMON} {_NS_TRIO} AccountId:id Name Status Notes ContractEffectiveDate:date "
    "ServiceActivationDate:date ContractAcceptanceDate:date SubscriptionStartDate:date SubscriptionEndDate:date "
    "TermStartDate:date TermEndDate:date TermType Project__NS SalesOrder__NS",
    "Invoice": f"{_COMMON} {_NS_TRIO} AccountId:id InvoiceNumber InvoiceDate:date DueDate:date TargetDate:date "
    "Amount:decimal AmountWithoutTax:decimal TaxAmount:decimal TaxExemptAmount:decimal Balance:decimal "
    "PaymentAmount:decimal RefundAmount:decimal AdjustmentAmount:decimal CreditMemoAmount:decimal "
    "CreditBalanceAdjustmentAmount:decimal Currency Status TransferredToAccounting Comments "
    f"PostedDate:datetime PostedBy SourceType AutoPay:boolean PaymentTerm {_TENANT_CUSTOM}",
    "InvoiceItem": f"{_COMMON} IntegrationId__NS InvoiceId:id ChargeAmount:decimal TaxAmount:decimal "
    "ChargeDate:datetime ChargeName ChargeNumber ChargeId:id RatePlanChargeId:id ProductRatePlanChargeId:id "
    "ServiceStartDate:date ServiceEndDate:date Quantity:decimal UnitPrice:decimal UOM SKU ProductId:id "
    "ProductName AccountingCode TaxCode TaxMode ProcessingType:integer SubscriptionId:id SubscriptionNumber "
    "RevRecStartDate:date",
    "TaxationItem": f"{_COMMON} InvoiceId:id InvoiceItemId:id TaxAmount:decimal AccountingCode TaxRate:decimal "
    "TaxRateType TaxRateDescription TaxDate:date Name Jurisdiction LocationCode TaxCode TaxMode "
    "ExemptAmount:decimal",
    "Payment": f"{_COMMON} {_NS_TRIO} AccountId:id PaymentNumber Amount:decimal EffectiveDate:date Type Status "
    "PaymentMethodId:id ReferenceId Comment AccountingCode RefundAmount:decimal AppliedAmount:decimal "
    f"TransferredToAccounting Origin__NS Transaction__NS {_TENANT_CUSTOM}",
    "InvoicePayment": f"{_COMMON} InvoiceId:id PaymentId:id Amount:decimal RefundAmount:decimal",
    # Not in the reference's section 7; Zuora's SOAP object reference (docs.zuora.com .../soap-api-object-reference/
    # paymentmethod/field-descriptions) gives these fields "Query" and "Filter", so ZOQL reads them.
    "PaymentMethod": f"{_COMMON} AccountId:id Type Name PaymentMethodStatus CreditCardType CreditCardMaskNumber "
    "CreditCardHolderName CreditCardExpirationMonth:integer CreditCardExpirationYear:integer AchBankName "
    "AchAccountType AchAccountNumberMask PaypalEmail",
    "Refund": f"{_COMMON} {_NS_TRIO} RefundNumber AccountId:id Amount:decimal RefundDate:date Type MethodType "
    "SourceType Status TransferredToAccounting ReasonCode ReferenceID Comment PaymentId:id PaymentMethodId:id "
    "Origin__NS SynctoNetSuite__NS Transaction__NS",
    "RefundInvoicePayment": f"{_COMMON} RefundId:id InvoicePaymentId:id InvoiceId:id RefundAmount:decimal",
    # Invoice Settlement objects (reference zuora-rest.md section 7; names from the API name table of Zuora's OpenAPI
    # description): served through REST only, never through ZOQL or Actions.
    "CreditMemo": f"{_COMMON} {_NS_TRIO} AccountId:id MemoNumber Amount:decimal AppliedAmount:decimal "
    "UnappliedAmount:decimal RefundAmount:decimal TaxAmount:decimal TotalTaxExemptAmount:decimal MemoDate:date "
    "TargetDate:date PostedOn:datetime Status TransferredToAccounting ReferredInvoiceId:id ReasonCode Currency "
    f"Comment Source SourceType Origin__NS Transaction__NS {_TENANT_CUSTOM}",
    "DebitMemo": f"{_COMMON} {_NS_TRIO} AccountId:id MemoNumber Amount:decimal Balance:decimal TaxAmount:decimal "
    "TotalTaxExemptAmount:decimal MemoDate:date DueDate:date TargetDate:date PostedOn:datetime Status "
    "TransferredToAccounting ReferredInvoiceId:id ReasonCode Currency Comment SourceType",
    "CreditMemoItem": f"{_COMMON} CreditMemoId:id {_MEMO_ITEM}",
    "DebitMemoItem": f"{_COMMON} DebitMemoId:id {_MEMO_ITEM}",
    "CreditTaxationItem": f"{_COMMON} CreditMemoId:id CreditMemoItemId:id Jurisdiction {_MEMO_TAX}",
    "DebitTaxationItem": f"{_COMMON} DebitMemoId:id DebitMemoItemId:id Jurisdiction {_MEMO_TAX}",
    "CreditMemoPart": f"{_COMMON} CreditMemoId:id InvoiceId:id DebitMemoId:id Amount:decimal",
    "PaymentPart": f"{_COMMON} PaymentId:id InvoiceId:id DebitMemoId:id Amount:decimal",
    "InvoiceItemAdjustment": f"{_COMMON} {_NS_TRIO} AccountId:id InvoiceId:id InvoiceNumber SourceId:id SourceType "
    "Type Amount:decimal AdjustmentDate:date AdjustmentNumber AccountingCode Comment ReasonCode ReferenceId Status "
    "TransferredToAccounting ServiceStartDate:date ServiceEndDate:date Origin__NS Transaction__NS",
}

# The tenant's currencies and payment terms (Settings > Billing); JPY and Net 60 are not enabled on purpose.
TENANT_CURRENCIES = ("USD", "EUR", "GBP", "CAD")
TENANT_PAYMENT_TERMS = ("Due on receipt", "Net 15", "Net 30", "Net 45", "Net 97")

# Objects the Action query and Actions refuse (Invoice Settlement objects; reference section 3 and 7).
NOT_ACTION_OBJECTS = frozenset(
    {"CreditMemo", "DebitMemo", "CreditMemoItem", "DebitMemoItem", "CreditTaxationItem", "DebitTaxationItem",
     "CreditMemoPart", "PaymentPart"}
)  # fmt: skip
# With Invoice Settlement on, these are deprecated (reference section 7): the tenant keeps PaymentPart instead.
SETTLEMENT_DEPRECATED = frozenset({"InvoicePayment", "RefundInvoicePayment"})
# Selectable but not filterable, and filterable but not selectable (reference section 7).
NOT_FILTERABLE = {"Invoice": frozenset({"Currency", "CreditBalanceAdjustmentAmount"})}
NOT_SELECTABLE = {"Payment": frozenset({"AppliedAmount"})}
# Fields no write may set.
SYSTEM_FIELDS = frozenset({"Id", "CreatedDate", "UpdatedDate", "CreatedById", "UpdatedById"})


@dataclass(frozen=True)
class ObjectSchema:
    """One Zuora object type: its canonical field names and their types."""

    name: str
    fields: dict[str, str]
    by_lower: dict[str, str]

    def canonical(self, field: str) -> str | None:
        """The canonical PascalCase name of a field (field names are case-insensitive), or None."""
        return self.by_lower.get(field.lower())


def _schema(name: str, text: str) -> ObjectSchema:
    fields: dict[str, str] = {}
    for item in text.split():
        field, _, kind = item.partition(":")
        fields[field] = kind or STRING
    return ObjectSchema(name, fields, {f.lower(): f for f in fields})


SCHEMAS: dict[str, ObjectSchema] = {name: _schema(name, text) for name, text in _SCHEMA_TEXT.items()}
_SCHEMA_BY_LOWER = {name.lower(): schema for name, schema in SCHEMAS.items()}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?\Z")


def schema_for(object_type: str) -> ObjectSchema | None:
    """The schema of an object type, matched case-insensitively."""
    return _SCHEMA_BY_LOWER.get(object_type.lower())


class InvalidValue(ValueError):
    """A value does not fit its field's type."""


def parse_date(text: str) -> dt.date:
    """A `YYYY-MM-DD` string as a date (InvalidValue otherwise)."""
    if not _DATE.match(text):
        raise InvalidValue(f"invalid date value {text!r}: expected YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"invalid date value {text!r}") from None


def parse_datetime(text: str, tz: dt.tzinfo) -> dt.datetime:
    """A `YYYY-MM-DDThh:mm:ss[Z|+hh:mm]` string as an aware datetime; no offset means the tenant's zone."""
    if not _DATETIME.match(text):
        raise InvalidValue(f"invalid dateTime value {text!r}: expected YYYY-MM-DDThh:mm:ss with an optional offset")
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue(f"invalid dateTime value {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def coerce(kind: str, value: Any, tz: dt.tzinfo) -> Any:
    """A written value converted to the stored Python type of a field of type `kind` (InvalidValue if it cannot)."""
    if value is None:
        return None
    if kind in (STRING, ID):
        if isinstance(value, str):
            return value
        raise InvalidValue(f"expected a string, got {value!r}")
    if kind == DATE:
        if isinstance(value, dt.datetime):
            raise InvalidValue(f"expected a date, got the dateTime {value!r}")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            return parse_date(value)
    elif kind == DATETIME:
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=tz)
        if isinstance(value, str):
            return parse_datetime(value, tz)
    elif kind == DECIMAL:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return round(float(value), 6)
    elif kind == INTEGER:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind == BOOLEAN and isinstance(value, bool):
        return value
    raise InvalidValue(f"invalid {kind} value {value!r}")


def render(value: Any, tz: dt.tzinfo) -> Any:
    """A stored value as Zuora renders it in JSON: dates `YYYY-MM-DD`, dateTimes `...T..:..:...000-08:00`."""
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).isoformat(timespec="milliseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class ZuoraStore:
    """A thread-safe in-memory Zuora tenant: `store.add(type, fields) -> id`, `get`, `all`, `update`."""

    def __init__(self, timezone: dt.tzinfo | None = None) -> None:
        # Zuora tenants default to Pacific time; a fixed offset keeps the emulator deterministic.
        self.timezone: dt.tzinfo = timezone or dt.timezone(dt.timedelta(hours=-8))
        # The tenant's settings that account creates are checked against (sandbox/zuora_rules.py).
        self.currencies = set(TENANT_CURRENCIES)
        self.payment_terms = set(TENANT_PAYMENT_TERMS)
        self._numbers = itertools.count(90_000_001)  # numbers of objects the emulator creates (P-90000001 ...)
        self._lock = threading.RLock()
        self._objects: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in SCHEMAS}
        self._ids = itertools.count(1)
        self._last_write = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    def next_number(self, prefix: str) -> str:
        """A number for an object Zuora numbers itself (a payment's PaymentNumber ...)."""
        return f"{prefix}{next(self._numbers):08d}"

    # -- helpers for tests and the demo ----------------------------------------------------------------------
    def new_id(self) -> str:
        """A fresh 32-hex-digit Zuora-style Id (deterministic: a counter)."""
        return f"8a8aa0{next(self._ids):026x}"

    def now(self) -> dt.datetime:
        """The write time: the current UTC time to the millisecond, strictly later than the previous write."""
        with self._lock:
            now = dt.datetime.now(dt.UTC)
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            if now <= self._last_write:
                now = self._last_write + dt.timedelta(milliseconds=1)
            self._last_write = now
            return now

    def add(self, object_type: str, fields: Mapping[str, Any]) -> str:
        """Insert an object (values as Python types or Zuora strings) and return its Id; no business rules."""
        schema = self._schema(object_type)
        record: dict[str, Any] = {}
        for name, value in fields.items():
            field = schema.canonical(name)
            if field is None:
                raise KeyError(f"{schema.name} has no field {name!r}")
            if value is not None:
                record[field] = coerce(schema.fields[field], value, self.timezone)
        with self._lock:
            record.setdefault("Id", self.new_id())
            stamp = record.get("CreatedDate") or self.now()
            record.setdefault("CreatedDate", stamp)
            record.setdefault("UpdatedDate", stamp)
            self._objects[schema.name][record["Id"]] = record
        return str(record["Id"])

    def add_many(self, object_type: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Insert several objects; their Ids in order."""
        return [self.add(object_type, row) for row in rows]

    def get(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        """A copy of one object (Python-typed values), or None."""
        schema = self._schema(object_type)
        with self._lock:
            record = self._objects[schema.name].get(object_id)
            return dict(record) if record is not None else None

    def all(self, object_type: str) -> list[dict[str, Any]]:
        """Copies of every object of a type, in insertion order."""
        schema = self._schema(object_type)
        with self._lock:
            return [dict(r) for r in self._objects[schema.name].values()]

    def count(self, object_type: str) -> int:
        """How many objects of a type the tenant holds."""
        schema = self._schema(object_type)
        with self._lock:
            return len(self._objects[schema.name])

    def set(self, object_type: str, object_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Overwrite fields of an existing object (None clears), bump UpdatedDate, and return a copy."""
        schema = self._schema(object_type)
        with self._lock:
            record = self._objects[schema.name][object_id]
            for name, value in fields.items():
                field = schema.canonical(name)
                if field is None:
                    raise KeyError(f"{schema.name} has no field {name!r}")
                if value is None:
                    record.pop(field, None)
                else:
                    record[field] = coerce(schema.fields[field], value, self.timezone)
            record["UpdatedDate"] = self.now()
            return dict(record)

    def rows(self, object_type: str) -> list[dict[str, Any]]:
        """The live records of a type (not copies) for the query engine; call under `lock`."""
        return list(self._objects[self._schema(object_type).name].values())

    @property
    def lock(self) -> threading.RLock:
        """The store's lock, for callers that need several reads to be consistent."""
        return self._lock

    def _schema(self, object_type: str) -> ObjectSchema:
        schema = schema_for(object_type)
        if schema is None:
            raise KeyError(f"unknown Zuora object type {object_type!r}")
        return schema
