"""Fixtures of the end-to-end tests: a sandbox (both emulators, the demo tenant) and a config pointing at it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from netsuite_conformance import RealXsdValidator, find_real_specs

from zns_sync.sandbox import Sandbox


@contextlib.contextmanager
def validated(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox running, its NetSuite emulator checking every request against the real 2023_2 XSDs."""
    spec_dir = find_real_specs()
    validator = RealXsdValidator(spec_dir) if spec_dir else None
    with sandbox:
        if validator is not None:
            validator.install(sandbox.netsuite)
        yield sandbox
    if validator is not None:
        assert validator.validated > 0
        validator.assert_clean()


@pytest.fixture
def box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A sandbox (Zuora the customer master) whose NetSuite requests are checked against the real XSDs; its Zuora
    tenant has Invoice Settlement unless the test parametrizes `box` indirectly with False."""
    with validated(Sandbox(invoices=40, seed=5, invoice_settlement=getattr(request, "param", True))) as sandbox:
        yield sandbox


@pytest.fixture
def ns_box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A sandbox with NetSuite the customer master (NetSuite-origin customers), checked the same way; Invoice
    Settlement as for `box`, or (invoice_settlement, invoices) when a test needs more invoices."""
    param = getattr(request, "param", True)
    settlement, invoices = param if isinstance(param, tuple) else (param, 40)
    tenant = Sandbox(invoices=invoices, seed=5, invoice_settlement=settlement, customer_master="netsuite")
    with validated(tenant) as sandbox:
        yield sandbox


@pytest.fixture
def config(box: Sandbox, tmp_path: Path) -> Path:
    path = tmp_path / "zns-sync.yaml"
    box.write_config(path, tmp_path / "state")
    return path


@pytest.fixture
def ns_config(ns_box: Sandbox, tmp_path: Path) -> Path:
    path = tmp_path / "zns-sync.yaml"
    ns_box.write_config(path, tmp_path / "state")
    return path
