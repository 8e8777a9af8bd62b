"""The config contract (product.md section 5): interpolation, defaults, validation with key paths."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from zns_sync.config import Secret, find_config_path, load_settings
from zns_sync.errors import ConfigError

ENV = {
    "ZUORA_CLIENT_ID": "zid",
    "ZUORA_CLIENT_SECRET": "zuora-very-secret",
    "NETSUITE_CONSUMER_KEY": "ck",
    "NETSUITE_CONSUMER_SECRET": "ns-consumer-secret",
    "NETSUITE_TOKEN_ID": "tid",
    "NETSUITE_TOKEN_SECRET": "ns-token-secret",
}

MINIMAL = """
zuora:
  client_id: ${ZUORA_CLIENT_ID}
  client_secret: ${ZUORA_CLIENT_SECRET}
netsuite:
  account: "123456_SB1"
  consumer_key: ${NETSUITE_CONSUMER_KEY}
  consumer_secret: ${NETSUITE_CONSUMER_SECRET}
  token_id: ${NETSUITE_TOKEN_ID}
  token_secret: ${NETSUITE_TOKEN_SECRET}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "zns-sync.yaml"
    path.write_text(text)
    return path


def test_example_config_is_valid_and_documents_every_key() -> None:
    settings = load_settings(Path(__file__).parents[1] / "config.example.yaml", ENV)
    assert settings.zuora.client_secret.reveal() == "zuora-very-secret"
    assert settings.netsuite.concurrency == 4
    assert settings.sync.cutover_dates == {"invoice": dt.date(2024, 1, 1)}
    assert settings.sync.new_and_modified == {"customer": False, "item": False}
    assert settings.sync.custom_fields == {}


def test_defaults_and_derived_urls(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL), ENV)
    assert settings.zuora.base_url == "https://rest.apisandbox.zuora.com"
    assert settings.netsuite.account_slug == "123456-sb1"
    assert settings.netsuite.resolved_wsdl_url == (
        "https://123456-sb1.suitetalk.api.netsuite.com/wsdl/v2023_2_0/netsuite.wsdl"
    )
    assert settings.netsuite.resolved_endpoint_url == (
        "https://123456-sb1.suitetalk.api.netsuite.com/services/NetSuitePort_2023_2"
    )
    assert settings.sync.types == ("customer", "item", "invoice", "debit-memo", "credit-memo", "payment", "refund")
    assert settings.state_dir == Path("~/.local/state/zns-sync").expanduser()


@pytest.mark.parametrize(
    ("sync", "types"),
    [
        ("{invoice_settlement: false}", ("customer", "item", "invoice", "payment", "refund", "adjustment")),
        ("{standard_invoice_sync: false}", ("customer", "item", "invoice", "debit-memo")),
        ("{invoice_settlement: false, standard_invoice_sync: false}", ("customer", "item", "invoice")),
        # The catalog sync brings products and rate plans, which the run order puts before the charges (reference 2).
        (
            "{force_catalog_sync: true, standard_invoice_sync: false}",
            ("customer", "item", "invoice", "debit-memo", "product", "rate-plan"),
        ),
        ("{force_catalog_sync: true, types: [customer, rate-plan]}", ("customer", "rate-plan", "product")),
    ],
)
def test_the_default_types_follow_the_documented_order_of_each_mode(
    tmp_path: Path, sync: str, types: tuple[str, ...]
) -> None:
    settings = load_settings(write(tmp_path, MINIMAL + f"sync: {sync}\n"), ENV)
    assert settings.sync.types == types  # reference 2.1 and 2.2; Use Standard Invoice Sync No stops after billing


def test_preset_base_url(tmp_path: Path) -> None:
    text = MINIMAL.replace("zuora:\n", "zuora:\n  base_url: eu-production\n")
    assert load_settings(write(tmp_path, text), ENV).zuora.base_url == "https://rest.eu.zuora.com"


def test_settings_are_frozen_and_secrets_hidden(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, MINIMAL), ENV)
    with pytest.raises(AttributeError):
        settings.netsuite.concurrency = 9  # type: ignore[misc]
    shown = repr(settings)
    for secret in ("zuora-very-secret", "ns-consumer-secret", "ns-token-secret"):
        assert secret not in shown
    assert isinstance(settings.netsuite.token_secret, Secret)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("  account:", "  acount:"), "netsuite.acount: unknown key"),
        (
            ("  token_id: ${NETSUITE_TOKEN_ID}", "  token_id: ${NETSUITE_TOKEN_ID}\n  concurrency: -1"),
            "netsuite.concurrency: must be an integer >= 1",
        ),
        (
            ("  token_id: ${NETSUITE_TOKEN_ID}", "  token_id: ${NETSUITE_TOKEN_ID}\n  concurrency: many"),
            "netsuite.concurrency: must be an integer >= 1",
        ),
        (("zuora:\n", "zuora:\n  base_url: ftp//nowhere\n"), "zuora.base_url: must be an http(s) URL"),
        (
            ("  token_id: ${NETSUITE_TOKEN_ID}", "  token_id: ${NETSUITE_TOKEN_ID}\n  wsdl_url: not a url"),
            "netsuite.wsdl_url: must be an http(s) URL",
        ),
        (
            ("${ZUORA_CLIENT_SECRET}", "${ZUORA_MISSING}"),
            "zuora.client_secret: environment variable ZUORA_MISSING is not set",
        ),
        (('  account: "123456_SB1"\n', ""), "netsuite.account: required"),
        (("netsuite:", "sync:\n  types: [invoice, nonsense]\nnetsuite:"), "sync.types[1]: must be one of"),
        (
            ("netsuite:", "sync:\n  cutover_dates: {invoice: someday}\nnetsuite:"),
            "sync.cutover_dates.invoice: must be a date",
        ),
        (
            ("netsuite:", "sync:\n  invoice_settlement: maybe\nnetsuite:"),
            "sync.invoice_settlement: must be true or false",
        ),
        (("netsuite:", "surprise: 1\nnetsuite:"), "surprise: unknown key"),
        (
            ("netsuite:", "sync:\n  invoice_settlement: false\n  types: [customer, credit-memo]\nnetsuite:"),
            "sync.types[1]: 'credit-memo' runs only with Invoice Settlement on, and sync.invoice_settlement is false",
        ),
        (
            ("netsuite:", "sync:\n  types: [adjustment]\nnetsuite:"),
            "sync.types[0]: 'adjustment' runs only with Invoice Settlement off, and sync.invoice_settlement is true",
        ),
        (
            ("netsuite:", "sync:\n  types: [customer, product]\nnetsuite:"),
            "sync.types[1]: 'product' runs only with the product catalog sync, and sync.force_catalog_sync is false",
        ),
        (
            ("netsuite:", "sync:\n  item_id_mapping: number\nnetsuite:"),
            "sync.item_id_mapping: must be one of",
        ),
        (
            ("netsuite:", "sync:\n  standard_invoice_sync: false\n  types: [invoice, refund]\nnetsuite:"),
            "sync.types[1]: 'refund' does not run when NetSuite calculates tax (sync.standard_invoice_sync is false",
        ),
        (
            ("netsuite:", "sync:\n  new_and_modified: {invoice: true}\nnetsuite:"),
            "sync.new_and_modified.invoice: only master data is updated when modified (types: customer, item",
        ),
        (
            ("netsuite:", "sync:\n  new_and_modified: {customer: yes please}\nnetsuite:"),
            "sync.new_and_modified.customer: must be true or false",
        ),
        (
            ("netsuite:", "sync:\n  custom_fields: {refund: []}\nnetsuite:"),
            "sync.custom_fields.refund: custom field sync covers customer, item, invoice, credit-memo, payment",
        ),
        (
            ("netsuite:", "sync:\n  custom_fields: {customer: [{zuora: Region__c, netsuite: region}]}\nnetsuite:"),
            "sync.custom_fields.customer[0]: netsuite: 'region' is not a NetSuite custom field script id",
        ),
        (
            (
                "netsuite:",
                "sync:\n  custom_fields: {customer: [{zuora: R__c, netsuite: custentityr, type: blob}]}\nnetsuite:",
            ),
            "sync.custom_fields.customer[0].type: must be one of 'text', 'integer', 'decimal', 'checkbox', 'date'",
        ),
        (
            ("netsuite:", "sync:\n  custom_fields: {customer: [{zuora: R__c, netsuit: custentityr}]}\nnetsuite:"),
            "sync.custom_fields.customer[0].netsuit: unknown key",
        ),
        (
            (
                "netsuite:",
                "sync:\n  invoice_settlement: false\n"
                "  custom_fields: {customer: [{zuora: R__c, netsuite: custentityr}]}\nnetsuite:",
            ),
            "sync.custom_fields: custom field sync runs only with Invoice Settlement on (reference 4.18)",
        ),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    text = MINIMAL.replace(*edit)
    assert text != MINIMAL
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), ENV)
    assert message in str(caught.value)


def test_unreadable_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not valid YAML at line 3, column 1: expected ',' or ']'"):
        load_settings(write(tmp_path, "zuora:\n  client_id: [unclosed\n"), ENV)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "absent.yaml", ENV)


def test_config_path_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZNS_SYNC_CONFIG", "/from/env.yaml")
    assert find_config_path("/explicit.yaml") == Path("/explicit.yaml")
    assert find_config_path(None) == Path("/from/env.yaml")
    monkeypatch.delenv("ZNS_SYNC_CONFIG")
    assert find_config_path(None) == Path("zns-sync.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "config file not found"),
        ("zuora: [1, 2\n", "not valid YAML"),
        (MINIMAL.replace("${NETSUITE_TOKEN_SECRET}", "${NOT_SET_ANYWHERE}"), "NOT_SET_ANYWHERE is not set"),
        (MINIMAL + "state_dir: 7\n", "state_dir: must be a folder path"),
    ],
)
def test_cli_bad_config_is_one_line_and_exit_2(tmp_path: Path, text: str | None, expected: str) -> None:
    path = tmp_path / "cfg.yaml"
    if text is not None:
        path.write_text(text)
    env = {"PATH": "/usr/bin:/bin", **ENV}
    done = subprocess.run(
        [sys.executable, "-m", "zns_sync", "--config", str(path), "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], done.stderr
    assert "Traceback" not in done.stderr
