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
def box() -> Iterator[Sandbox]:
    """A sandbox (Zuora the customer master) whose NetSuite requests are checked against the real XSDs."""
    with validated(Sandbox(invoices=40, seed=5)) as sandbox:
        yield sandbox


@pytest.fixture
def ns_box() -> Iterator[Sandbox]:
    """A sandbox with NetSuite the customer master (NetSuite-origin customers), checked the same way."""
    with validated(Sandbox(invoices=40, seed=5, customer_master="netsuite")) as sandbox:
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
