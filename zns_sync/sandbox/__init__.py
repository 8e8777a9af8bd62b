"""The embedded sandbox: both emulators on loopback, NetSuite reference data and a Zuora demo tenant.

The product imports this package only for `zns-sync sandbox` and `zns-sync demo`.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Any

import yaml

from zns_sync.config import Settings, default_types, settings_from_mapping
from zns_sync.sandbox.demo_netsuite import (
    record_netsuite_credit_memos,
    record_netsuite_payments,
    record_netsuite_refunds,
    seed_netsuite_master,
)
from zns_sync.sandbox.demo_tenant import TenantSummary, generate_tenant
from zns_sync.sandbox.netsuite_server import NetSuiteEmulator
from zns_sync.sandbox.zuora_server import ZuoraEmulator

SANDBOX_ACCOUNT = "123456_SB1"
NETSUITE_TYPES = ("ns-payment", "ns-refund")  # synced too when NetSuite is the customer master (opt-in otherwise)


class Sandbox:
    """Starts both emulators with fresh credentials and demo data; `settings()` points a config at them.

    `invoice_settlement` makes the Zuora tenant an Invoice Settlement one (credit and debit memos, payment parts:
    the default) or not (invoice item adjustments, InvoicePayment), and the config says the same. With
    `customer_master` netsuite, NetSuite-origin customers go to Zuora, and NetSuite payments and refunds after them.
    """

    def __init__(
        self,
        *,
        invoices: int = 60,
        seed: int = 7,
        concurrency: int = 4,
        invoice_settlement: bool = True,
        customer_master: str = "zuora",
    ) -> None:
        self.invoices = invoices
        self.seed = seed
        self.concurrency = concurrency
        self.invoice_settlement = invoice_settlement
        self.customer_master = customer_master
        self.credentials = {
            "zuora_client_id": f"sandbox-{secrets.token_hex(4)}",
            "zuora_client_secret": secrets.token_hex(16),
            "consumer_key": secrets.token_hex(16),
            "consumer_secret": secrets.token_hex(16),
            "token_id": secrets.token_hex(16),
            "token_secret": secrets.token_hex(16),
        }
        self.zuora = ZuoraEmulator(
            client_id=self.credentials["zuora_client_id"],
            client_secret=self.credentials["zuora_client_secret"],
            invoice_settlement=invoice_settlement,
        )
        self.netsuite = NetSuiteEmulator(
            account=SANDBOX_ACCOUNT,
            consumer_key=self.credentials["consumer_key"],
            consumer_secret=self.credentials["consumer_secret"],
            token_id=self.credentials["token_id"],
            token_secret=self.credentials["token_secret"],
        )
        self.reference: dict[str, Any] = {}
        self.summary: TenantSummary | None = None
        self.netsuite_awkward: dict[str, str] = {}  # NetSuite-origin awkward records (NetSuite master) by label
        self._stopped = threading.Event()

    def start(self) -> Sandbox:
        self.zuora.start()
        self.netsuite.start()
        self.reference = self.netsuite.seed_reference_data()
        self.summary = generate_tenant(
            self.zuora.store,
            invoices=self.invoices,
            seed=self.seed,
            tax_item_id=str(self.reference["tax_item"]),
            invoice_settlement=self.invoice_settlement,
        )
        if self.customer_master == "netsuite":
            self.netsuite_awkward = seed_netsuite_master(
                self.netsuite.store,
                self.zuora.store,
                self.reference,
                customers=max(4, self.invoices // 10),
                seed=self.seed,
            )
        return self

    def stop(self) -> None:
        self.zuora.stop()
        self.netsuite.stop()
        self._stopped.set()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until interrupted (the `sandbox` command's foreground)."""
        while not self._stopped.wait(1.0):
            pass

    def config_mapping(self, state_dir: Path) -> dict[str, Any]:
        """The config keys of product.md section 5, pointing at the emulators."""
        c = self.credentials
        return {
            "zuora": {"base_url": self.zuora.url, "client_id": c["zuora_client_id"],
                      "client_secret": c["zuora_client_secret"]},
            "netsuite": {
                "account": SANDBOX_ACCOUNT, "consumer_key": c["consumer_key"], "consumer_secret": c["consumer_secret"],
                "token_id": c["token_id"], "token_secret": c["token_secret"], "api_version": "2023_2",
                "wsdl_url": self.netsuite.wsdl_url, "endpoint_url": self.netsuite.endpoint_url,
                "concurrency": self.concurrency,
            },
            "sync": {"invoice_settlement": self.invoice_settlement, "cutover_dates": {"invoice": "2024-01-01"},
                     "customer_master": self.customer_master,
                     **({"types": self._netsuite_master_types()} if self.customer_master == "netsuite" else {})},
            "classifications": {"default_subsidiary": "Parent Company"},  # by full name, as the connector names it
            "state_dir": str(state_dir),
        }  # fmt: skip

    def _netsuite_master_types(self) -> list[str]:
        """The default types and the NetSuite -> Zuora ones the demo shows, those that run as the tenant is set."""
        from zns_sync.flows import refusal

        wanted = [*default_types(), *NETSUITE_TYPES]
        return [
            name
            for name in wanted
            if refusal(name, self.invoice_settlement, True, catalog_sync=False, revenue_recognition=False) is None
        ]

    def settings(self, state_dir: Path) -> Settings:
        return settings_from_mapping(self.config_mapping(state_dir))

    def write_config(self, path: Path, state_dir: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        header = "# Written by `zns-sync sandbox`: points at the local emulators; valid while they run.\n"
        path.write_text(header + yaml.safe_dump(self.config_mapping(state_dir.resolve()), sort_keys=False))

    def record_in_netsuite(self, payments: int = 4) -> dict[str, str]:
        """What a clerk records in NetSuite once a run synced the invoices (demo_netsuite): customer payments, refunds
        of Zuora payments through credit memos, credit memos against invoices from Zuora; the records by label, added
        to `netsuite_awkward`."""
        stores = self.netsuite.store, self.zuora.store, self.reference
        made = record_netsuite_credit_memos(*stores)  # first: they leave the invoices open for the payments
        made.update(record_netsuite_payments(*stores, payments=payments, seed=self.seed))
        made.update(record_netsuite_refunds(*stores))
        self.netsuite_awkward.update(made)
        return made

    def netsuite_counts(self) -> dict[str, int]:
        """How many records of each type the NetSuite emulator holds."""
        return self.netsuite.store.count_by_type()
