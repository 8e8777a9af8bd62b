"""YAML configuration -> typed, frozen settings (product.md section 5).

`${VAR}` in any string is replaced from the environment; unknown keys and bad values are rejected with the
key path (`netsuite.concurrency: must be an integer >= 1`). The file is found via `--config`, then
`ZNS_SYNC_CONFIG`, then `./zns-sync.yaml`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from zns_sync.errors import ConfigError
from zns_sync.redact import MASK, register_secret

CONFIG_ENV = "ZNS_SYNC_CONFIG"
DEFAULT_CONFIG_FILE = "zns-sync.yaml"

# Zuora REST base URLs (reference zuora-rest.md section 1).
ZUORA_PRESETS: dict[str, str] = {
    "us-test": "https://rest.test.zuora.com",
    "us-sandbox": "https://rest.sandbox.na.zuora.com",
    "us-apisandbox": "https://rest.apisandbox.zuora.com",
    "us-production": "https://rest.na.zuora.com",
    "us-cloud2-production": "https://rest.zuora.com",
    "eu-test": "https://rest.test.eu.zuora.com",
    "eu-sandbox": "https://rest.sandbox.eu.zuora.com",
    "eu-production": "https://rest.eu.zuora.com",
    "apac-test": "https://rest.test.ap.zuora.com",
    "apac-production": "https://rest.ap.zuora.com",
}

# Every record type of product.md section 3, in the documented order.
ALL_TYPES = (
    "customer",
    "product",
    "rate-plan",
    "item",
    "invoice",
    "debit-memo",
    "credit-memo",
    "payment",
    "refund",
    "adjustment",
    "revenue-recognition",
    "ns-payment",
    "ns-refund",
    "ns-credit-memo",
    "sales-order",
)


def supported_types() -> tuple[str, ...]:
    """The record types this version implements, in the documented order: the flow registry's (flows/__init__)."""
    from zns_sync.flows import TYPES  # imported late: the flows import the clients, which import this module

    return TYPES


def default_types() -> tuple[str, ...]:
    """The record types synced when sync.types is not given (the NetSuite -> Zuora ones are opt-in, reference 7.2)."""
    from zns_sync.flows import DEFAULT_TYPES

    return DEFAULT_TYPES


def catalog_types() -> tuple[str, ...]:
    """The product catalog's record types: they run only with the catalog sync on (reference 4.3)."""
    from zns_sync.flows import CATALOG_TYPES

    return CATALOG_TYPES


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Secret:
    """A secret string: never shown by repr or str; `reveal()` gives the value to the code that signs with it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _meta(doc: str, *, minimum: float | None = None, url: bool = False, choices: tuple[str, ...] = ()) -> Any:
    return {"doc": doc, "minimum": minimum, "url": url, "choices": choices}


@dataclasses.dataclass(frozen=True)
class ZuoraSettings:
    """How to reach Zuora's REST API."""

    client_id: str = dataclasses.field(metadata=_meta("OAuth client id"))
    client_secret: Secret = dataclasses.field(metadata=_meta("OAuth client secret"))
    base_url: str = dataclasses.field(
        default="https://rest.apisandbox.zuora.com", metadata=_meta("URL or preset name", url=True)
    )
    timeout_seconds: float = dataclasses.field(default=60.0, metadata=_meta("read timeout", minimum=1))
    connect_timeout_seconds: float = dataclasses.field(default=10.0, metadata=_meta("connect", minimum=0.1))
    max_retries: int = dataclasses.field(default=5, metadata=_meta("retries of 429/5xx", minimum=0))
    page_size: int = dataclasses.field(default=2000, metadata=_meta("query batch size", minimum=1))
    concurrency: int = dataclasses.field(default=8, metadata=_meta("writes and lookups in flight", minimum=1))
    max_connections: int = dataclasses.field(
        default=40, metadata=_meta("requests in flight at most, every kind together", minimum=1)
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", ZUORA_PRESETS.get(self.base_url, self.base_url).rstrip("/"))
        if self.page_size > 2000:
            raise ConfigError("zuora.page_size: must be at most 2000 (Zuora's query limit)")


@dataclasses.dataclass(frozen=True)
class NetSuiteSettings:
    """How to reach NetSuite SuiteTalk SOAP web services with token-based authentication."""

    account: str = dataclasses.field(metadata=_meta("account id, e.g. 123456_SB1"))
    consumer_key: str = dataclasses.field(metadata=_meta("integration record consumer key"))
    consumer_secret: Secret = dataclasses.field(metadata=_meta("integration record consumer secret"))
    token_id: str = dataclasses.field(metadata=_meta("access token id"))
    token_secret: Secret = dataclasses.field(metadata=_meta("access token secret"))
    api_version: str = dataclasses.field(default="2023_2", metadata=_meta("SuiteTalk version"))
    wsdl_url: str | None = dataclasses.field(default=None, metadata=_meta("WSDL URL", url=True))
    endpoint_url: str | None = dataclasses.field(default=None, metadata=_meta("SOAP endpoint", url=True))
    concurrency: int = dataclasses.field(default=4, metadata=_meta("requests in flight", minimum=1))
    batch_size: int = dataclasses.field(default=200, metadata=_meta("records per list request", minimum=1))
    timeout_seconds: float = dataclasses.field(default=300.0, metadata=_meta("per call", minimum=1))
    wsdl_timeout_seconds: float = dataclasses.field(default=60.0, metadata=_meta("WSDL load", minimum=1))
    max_retries: int = dataclasses.field(default=5, metadata=_meta("retries", minimum=0))

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{4}_\d", self.api_version):
            raise ConfigError(f"netsuite.api_version: must look like 2023_2, got {self.api_version!r}")
        if self.batch_size > 200:
            raise ConfigError("netsuite.batch_size: must be at most 200 (NetSuite's addList limit)")
        if not re.fullmatch(r"[A-Za-z0-9_]+", self.account):
            raise ConfigError(f"netsuite.account: must be a NetSuite account id like 123456_SB1, got {self.account!r}")

    @property
    def account_slug(self) -> str:
        """The account id as it appears in host names: `123456_SB1` -> `123456-sb1`."""
        return self.account.lower().replace("_", "-")

    @property
    def version_path(self) -> str:
        """The version as it appears in URLs: `2023_2` -> `v2023_2_0`."""
        return f"v{self.api_version}_0"

    @property
    def resolved_wsdl_url(self) -> str:
        return self.wsdl_url or (
            f"https://{self.account_slug}.suitetalk.api.netsuite.com/wsdl/{self.version_path}/netsuite.wsdl"
        )

    @property
    def resolved_endpoint_url(self) -> str:
        return self.endpoint_url or (
            f"https://{self.account_slug}.suitetalk.api.netsuite.com/services/NetSuitePort_{self.api_version}"
        )


@dataclasses.dataclass(frozen=True)
class NetSuiteFields:
    """Script ids of the connector bundle's NetSuite custom fields (never published; set them to your account's)."""

    customer_zuora_id: str = dataclasses.field(default="custentityzuoraid", metadata=_meta("Customer Zuora ID"))
    customer_integration_status: str = dataclasses.field(
        default="custentityzuoraintegrationstatus", metadata=_meta("NetSuite-master customers' status")
    )
    customer_sync_date: str = dataclasses.field(default="custentityzuorasyncdate", metadata=_meta("sync date"))
    customer_send_to_zuora: str = dataclasses.field(
        default="custentityzuorasendtozuora", metadata=_meta("checkbox: select for NetSuite -> Zuora")
    )
    customer_batch: str = dataclasses.field(default="custentityzuorabatch", metadata=_meta("Zuora Batch"))
    customer_bill_cycle_day: str = dataclasses.field(
        default="custentityzuorabillcycleday", metadata=_meta("Zuora Bill Cycle Day")
    )
    customer_account_number: str = dataclasses.field(
        default="custentityzuoraaccountnumber", metadata=_meta("Zuora Account Number")
    )
    customer_bill_to_id: str = dataclasses.field(default="custentityzuorabilltoid", metadata=_meta("Bill To ID"))
    customer_sold_to_id: str = dataclasses.field(default="custentityzuorasoldtoid", metadata=_meta("Sold To ID"))
    customer_auto_pay: str = dataclasses.field(default="custentityzuoraautopay", metadata=_meta("Auto Pay"))
    item_zuora_id: str = dataclasses.field(default="custitemzuoraid", metadata=_meta("Item Zuora ID"))
    item_zuora_type: str = dataclasses.field(default="custitemzuoratype", metadata=_meta("Item Zuora Type"))
    item_sync_date: str = dataclasses.field(default="custitemzuorasyncdate", metadata=_meta("sync date"))
    item_charge_model: str = dataclasses.field(default="custitemzuorachargemodel", metadata=_meta("charge model"))
    item_charge_type: str = dataclasses.field(default="custitemzuorachargetype", metadata=_meta("charge type"))
    transaction_zuora_id: str = dataclasses.field(default="custbodyzuoraid", metadata=_meta("body Zuora ID"))
    transaction_integration_status: str = dataclasses.field(
        default="custbodyzuoraintegrationstatus", metadata=_meta("NetSuite-originated transactions' status")
    )
    transaction_zuora_type: str = dataclasses.field(default="custbodyzuoratype", metadata=_meta("body type"))
    transaction_origin: str = dataclasses.field(default="custbodyzuoraorigin", metadata=_meta("body origin"))
    transaction_customer_id_payments: str = dataclasses.field(
        default="custbodyzuoracustomeridpayments", metadata=_meta("Zuora Customer ID (Payments)")
    )
    transaction_customer_id_sales: str = dataclasses.field(
        default="custbodyzuoracustomeridsales", metadata=_meta("Zuora Customer ID (Sales)")
    )
    transaction_sync_updates: str = dataclasses.field(
        default="custbodyzuorasyncupdates", metadata=_meta("Invoice Settlement: NetSuite payments with Yes sync")
    )
    credit_memo_create_zuora_refund: str = dataclasses.field(
        default="custbodyzuoracreatezuorarefund", metadata=_meta("checkbox: refund in Zuora (reference 4.13)")
    )
    credit_memo_refund_payment_reference: str = dataclasses.field(
        default="custbodyzuorarefundpaymentref", metadata=_meta("the Zuora payment Id to refund")
    )
    transaction_reference_number: str = dataclasses.field(
        default="custbodyzuorareferencenumber", metadata=_meta("Zuora Reference Number")
    )
    transaction_sync_date: str = dataclasses.field(default="custbodyzuorasyncdate", metadata=_meta("sync date"))
    transaction_send_to_zuora: str = dataclasses.field(
        default="custbodyzuorasendtozuora", metadata=_meta("checkbox: sales orders selected for NetSuite -> Zuora")
    )
    sales_order_auto_renew: str = dataclasses.field(
        default="custbodyzuoraautorenew", metadata=_meta("Zuora Auto Renew (Yes/No)")
    )
    sales_order_initial_term: str = dataclasses.field(
        default="custbodyzuorainitialterm", metadata=_meta("Zuora Initial Term (months)")
    )
    sales_order_renewal_term: str = dataclasses.field(
        default="custbodyzuorarenewalterm", metadata=_meta("Zuora Renewal Term (months)")
    )
    sales_order_term_setting: str = dataclasses.field(
        default="custbodyzuoratermsetting", metadata=_meta("Zuora Term Setting (TERMED/EVERGREEN)")
    )
    sales_order_term_start_date: str = dataclasses.field(
        default="custbodyzuoratermstartdate", metadata=_meta("Zuora Term Start Date")
    )
    sales_order_contract_effective_date: str = dataclasses.field(
        default="custbodyzuoracontracteffectivedate", metadata=_meta("Zuora Contract Effective Date")
    )
    sales_order_customer_acceptance_date: str = dataclasses.field(
        default="custbodyzuoracustomeracceptancedate", metadata=_meta("Zuora Customer Acceptance Date")
    )
    sales_order_subscription_number: str = dataclasses.field(
        default="custbodyzuorasubscriptionnumber", metadata=_meta("Zuora Subscription Number (blank: Zuora's)")
    )
    transaction_tax_amount: str = dataclasses.field(default="custbodyzuorataxamount", metadata=_meta("tax"))
    transaction_amount_without_tax: str = dataclasses.field(
        default="custbodyzuoraamountwithouttax", metadata=_meta("amount without tax")
    )
    transaction_related_transaction: str = dataclasses.field(
        default="custbodyzuorarelatedtransaction", metadata=_meta("Zuora Related Transaction (charge adjustments)")
    )
    line_zuora_id: str = dataclasses.field(default="custcolzuoraid", metadata=_meta("line Zuora ID"))
    line_item_type: str = dataclasses.field(default="custcolzuoratype", metadata=_meta("line Zuora Type"))
    line_charge_date: str = dataclasses.field(default="custcolzuorachargedate", metadata=_meta("charge date"))


@dataclasses.dataclass(frozen=True)
class NetSuiteDefaults:
    """NetSuite internal ids used where the Zuora record names none (the connector's preferences)."""

    subsidiary: str | None = dataclasses.field(default=None, metadata=_meta("Customer/item subsidiary (OneWorld)"))
    income_account: str | None = dataclasses.field(default=None, metadata=_meta("item income account"))
    tax_schedule: str | None = dataclasses.field(default=None, metadata=_meta("item tax schedule"))
    entity_status: str | None = dataclasses.field(default=None, metadata=_meta("customer status"))


LINE_SOURCES = ("account", "charge")


@dataclasses.dataclass(frozen=True)
class Classifications:
    """Subsidiary, department, class and location by NetSuite full name (`Parent : Child`, reference 7.4)."""

    use_subsidiaries: bool | None = dataclasses.field(
        default=None, metadata=_meta("OneWorld: subsidiaries sent and checked (null: when a default is set)")
    )
    default_subsidiary: str | None = dataclasses.field(default=None, metadata=_meta("new customers and items"))
    default_department: str | None = dataclasses.field(default=None, metadata=_meta("customers, items, transactions"))
    default_class: str | None = dataclasses.field(default=None, metadata=_meta("customers, items, transactions"))
    default_location: str | None = dataclasses.field(default=None, metadata=_meta("customers, items, transactions"))
    invoice_line_department: str = dataclasses.field(
        default="charge", metadata=_meta("lines: the account's, or the item's", choices=LINE_SOURCES)
    )
    invoice_line_class: str = dataclasses.field(
        default="charge", metadata=_meta("lines: the account's, or the item's", choices=LINE_SOURCES)
    )
    invoice_line_location: str = dataclasses.field(
        default="charge", metadata=_meta("lines: the account's, or the item's", choices=LINE_SOURCES)
    )


CUSTOM_FIELD_TYPES = ("text", "integer", "decimal", "checkbox", "date", "datetime")


@dataclasses.dataclass(frozen=True)
class CustomField:
    """One row of custom field sync (reference 4.18): a Zuora field copied to a NetSuite custom field."""

    zuora: str = dataclasses.field(metadata=_meta("the Zuora field (Region__c, or a standard field)"))
    netsuite: str = dataclasses.field(metadata=_meta("the NetSuite custom field's script id"))
    type: str = dataclasses.field(
        default="text", metadata=_meta("the NetSuite field's type", choices=CUSTOM_FIELD_TYPES)
    )

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", self.zuora):
            raise ValueError(f"zuora: {self.zuora!r} is not a Zuora field name")
        if not re.fullmatch(r"cust[a-z]*[a-z0-9_]+", self.netsuite):
            raise ValueError(f"netsuite: {self.netsuite!r} is not a NetSuite custom field script id (custentity...)")


@dataclasses.dataclass(frozen=True)
class SyncSettings:
    """What to sync and how."""

    types: tuple[str, ...] = dataclasses.field(
        default=(),
        metadata=_meta(
            "record types, run in the documented order (none: the default ones that run as set)", choices=ALL_TYPES
        ),
    )
    invoice_settlement: bool = dataclasses.field(default=True, metadata=_meta("Invoice Settlement enabled"))
    customer_master: str = dataclasses.field(default="zuora", metadata=_meta("master", choices=("zuora", "netsuite")))
    cutover_dates: dict[str, dt.date] = dataclasses.field(
        default_factory=dict, metadata=_meta("per type: first date synced", choices=ALL_TYPES)
    )
    external_id_prefix: str = dataclasses.field(default="zuora", metadata=_meta("externalId prefix"))
    use_account_number_as_entity_id: bool = dataclasses.field(
        default=True, metadata=_meta("Customer ID from AccountNumber (else NetSuite auto-numbers)")
    )
    customer_entity_id: str | None = dataclasses.field(
        default=None,
        metadata=_meta(
            "Customer ID from the account's number, its name, or NetSuite's auto-number (null: as "
            "use_account_number_as_entity_id says)",
            choices=("number", "name", "auto"),
        ),
    )
    customer_type: str = dataclasses.field(
        default="company",
        metadata=_meta("new customers when CustomerType__NS is empty", choices=("company", "individual")),
    )
    transaction_numbers: str = dataclasses.field(
        default="auto", metadata=_meta("tranId: NetSuite's number, or the Zuora one", choices=("auto", "source"))
    )
    default_tax_code: str | None = dataclasses.field(
        default=None, metadata=_meta("taxItem of customers and billing documents, a NetSuite tax code by name")
    )
    standard_invoice_sync: bool = dataclasses.field(
        default=True, metadata=_meta("Zuora calculates tax; false: NetSuite does, and only billing types run")
    )
    force_catalog_sync: bool = dataclasses.field(
        default=False, metadata=_meta("sync products and rate plans to NetSuite items (types product, rate-plan)")
    )
    item_id_mapping: str = dataclasses.field(
        default="name", metadata=_meta("item Item ID: the Zuora name, or 'Zuora <Type> <Id>'", choices=("name", "id"))
    )
    new_and_modified: dict[str, bool] = dataclasses.field(
        default_factory=dict,
        metadata=_meta("per type: update synced master records modified since the last run", choices=ALL_TYPES),
    )
    custom_fields: dict[str, tuple[CustomField, ...]] = dataclasses.field(
        default_factory=dict,
        metadata=_meta("per type: Zuora fields copied to NetSuite custom fields after a create", choices=ALL_TYPES),
    )
    revenue_recognition: bool = dataclasses.field(
        default=False,
        metadata=_meta("NetSuite uses revenue recognition: billing lines carry rev rec dates and deferral (4.7.2)"),
    )

    def __post_init__(self) -> None:
        for index, name in enumerate(self.types):
            if name not in supported_types():
                raise ConfigError(
                    f"sync.types[{index}]: {name!r} is not supported by this version "
                    f"(supported: {', '.join(supported_types())})"
                )
            reason = self.refusal(name)
            if reason is not None:
                raise ConfigError(f"sync.types[{index}]: {name!r} {reason}")
        if not self.types:  # the default types (NetSuite -> Zuora ones are opt-in, reference 7.2) that run as set
            object.__setattr__(self, "types", tuple(n for n in default_types() if self.refusal(n) is None))
        if self.catalog_sync:  # the catalog sync brings its types (reference 4.3)
            object.__setattr__(self, "types", (*self.types, *(n for n in catalog_types() if n not in self.types)))
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", self.external_id_prefix):
            raise ConfigError("sync.external_id_prefix: must be 1 to 40 letters, digits, '.', '_' or '-'")
        from zns_sync.flows import custom_field_types, modifiable_types  # imported late, as in supported_types

        for name in self.new_and_modified:
            if name not in modifiable_types():
                raise ConfigError(
                    f"sync.new_and_modified.{name}: only master data is updated when modified "
                    f"(types: {', '.join(modifiable_types())})"
                )
        for name in self.custom_fields:
            if name not in custom_field_types():
                raise ConfigError(
                    f"sync.custom_fields.{name}: custom field sync covers {', '.join(custom_field_types())} "
                    "(reference 4.18)"
                )
        if any(self.custom_fields.values()) and not self.invoice_settlement:
            raise ConfigError(
                "sync.custom_fields: custom field sync runs only with Invoice Settlement on (reference 4.18)"
            )

    @property
    def entity_id_source(self) -> str:
        """Where a customer's ID comes from: `number`, `name` or `auto` (reference 6.1, 6.2)."""
        if self.customer_entity_id is not None:
            return self.customer_entity_id
        return "number" if self.use_account_number_as_entity_id else "auto"

    @property
    def catalog_sync(self) -> bool:
        """Products and rate plans sync (reference 4.3, 4.6): with the sales-order sync, or forced."""
        return self.force_catalog_sync or "sales-order" in self.types

    def refusal(self, name: str) -> str | None:
        """Why record type `name` cannot run with invoice_settlement, standard_invoice_sync and revenue_recognition
        as set, if it cannot."""
        from zns_sync.flows import refusal  # imported late, as in supported_types

        return refusal(
            name,
            self.invoice_settlement,
            self.standard_invoice_sync,
            catalog_sync=self.catalog_sync,
            revenue_recognition=self.revenue_recognition,
        )


@dataclasses.dataclass(frozen=True)
class Settings:
    """The whole configuration, typed and frozen."""

    zuora: ZuoraSettings
    netsuite: NetSuiteSettings
    sync: SyncSettings = dataclasses.field(default_factory=SyncSettings)
    netsuite_fields: NetSuiteFields = dataclasses.field(default_factory=NetSuiteFields)
    netsuite_defaults: NetSuiteDefaults = dataclasses.field(default_factory=NetSuiteDefaults)
    classifications: Classifications = dataclasses.field(default_factory=Classifications)
    state_dir: Path = dataclasses.field(default=Path("~/.local/state/zns-sync"), metadata=_meta("state folder"))
    source: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state_dir", Path(os.path.expanduser(str(self.state_dir))))

    @property
    def uses_subsidiaries(self) -> bool:
        """OneWorld: subsidiaries are sent and checked (reference 7.1 "NetSuite Use Subsidiaries"); unless said,
        when a default subsidiary is set (by name, or by internal id in netsuite_defaults)."""
        said = self.classifications.use_subsidiaries
        if said is not None:
            return said
        return bool(self.classifications.default_subsidiary or self.netsuite_defaults.subsidiary)


def effective_config(settings: Settings) -> dict[str, Any]:
    """The settings as a config mapping: every key with the value in effect (defaults filled in, the NetSuite
    URLs resolved), secrets masked; it loads back as the same settings once the secrets are given again."""
    data: dict[str, Any] = _plain(settings)
    data["netsuite"].update(
        wsdl_url=settings.netsuite.resolved_wsdl_url, endpoint_url=settings.netsuite.resolved_endpoint_url
    )
    return data


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "source"}
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Path | dt.date):
        return str(value)
    return value


def find_config_path(explicit: str | None) -> Path:
    """The config file: `--config`, then `$ZNS_SYNC_CONFIG`, then `./zns-sync.yaml`."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return Path(DEFAULT_CONFIG_FILE)


def load_settings(path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, interpolate and validate the YAML file at `path`."""
    environ = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file not found: {path} (give --config PATH, set {CONFIG_ENV}, or create ./{DEFAULT_CONFIG_FILE})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping with the keys zuora, netsuite, sync, state_dir")
    settings = settings_from_mapping(_interpolate(data, "", environ))
    return dataclasses.replace(settings, source=path)


def settings_from_mapping(data: Mapping[str, Any]) -> Settings:
    """Validate an already-interpolated mapping into Settings."""
    data = {k: v for k, v in data.items() if k != "source"}
    result = _build(Settings, data, "")
    assert isinstance(result, Settings)
    return result


def _interpolate(value: Any, path: str, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise ConfigError(f"{path or 'config'}: environment variable {name} is not set")
            return environ[name]

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, dict):
        return {k: _interpolate(v, _join(path, str(k)), environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{path}[{i}]", environ) for i, v in enumerate(value)]
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _build(cls: type, data: Any, path: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path or 'config'}: must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    hints = typing.get_type_hints(cls)
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{_join(path, str(key))}: unknown key (known keys here: {known})")
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        key_path = _join(path, name)
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], key_path, field.metadata)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            if dataclasses.is_dataclass(hints[name]):
                kwargs[name] = _build(hints[name], {}, key_path)
            else:
                raise ConfigError(f"{key_path}: required")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path or 'config'}: {exc}") from None


def _convert(hint: Any, value: Any, path: str, meta: Mapping[str, Any]) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, path, meta)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _build(hint, value, path)
    if hint is Secret:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: must be a non-empty string (use ${{ENV_VAR}} to keep it out of the file)")
        return Secret(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: must be true or false")
        return value
    if hint is int:
        minimum = meta.get("minimum")
        if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
            bound = f" >= {int(minimum)}" if minimum is not None else ""
            raise ConfigError(f"{path}: must be an integer{bound}")
        return value
    if hint is float:
        minimum = meta.get("minimum")
        if isinstance(value, bool) or not isinstance(value, int | float) or (minimum is not None and value < minimum):
            bound = f" >= {minimum:g}" if minimum is not None else ""
            raise ConfigError(f"{path}: must be a number{bound}")
        return float(value)
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: must be a folder path")
        return Path(value)
    if hint is dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(f"{path}: must be a date like 2024-01-01") from None
    if hint is str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfigError(f"{path}: must be a string")
        text = str(value)
        choices = meta.get("choices") or ()
        if choices and text not in choices:
            raise ConfigError(f"{path}: must be one of {', '.join(repr(c) for c in choices)}")
        if meta.get("url"):
            _check_url(text, path)
        return text
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: must be a list")
        items = [_convert(args[0], v, f"{path}[{i}]", meta) for i, v in enumerate(value)]
        if len(set(items)) != len(items):
            raise ConfigError(f"{path}: lists a value twice")
        return tuple(items)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: must be a mapping")
        choices = meta.get("choices") or ()
        converted = {}
        for key, item in value.items():
            if choices and key not in choices:
                raise ConfigError(f"{_join(path, str(key))}: unknown record type")
            converted[str(key)] = _convert(args[1], item, _join(path, str(key)), {})
        return converted
    raise TypeError(f"unsupported config type {hint!r}")  # pragma: no cover - a programming error


def _check_url(text: str, path: str) -> None:
    if text in ZUORA_PRESETS:
        return
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        presets = f" or a preset ({', '.join(ZUORA_PRESETS)})" if path.startswith("zuora.") else ""
        raise ConfigError(f"{path}: must be an http(s) URL{presets}, got {text!r}")
