"""Fixtures of the end-to-end tests: a sandbox (both emulators, the demo tenant) and a config pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from netsuite_conformance import RealXsdValidator, find_real_specs

from zns_sync.sandbox import Sandbox


@pytest.fixture
def box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A sandbox whose NetSuite emulator checks every request the engine sends against the real 2023_2 XSDs; its
    Zuora tenant has Invoice Settlement unless the test parametrizes `box` indirectly with False."""
    spec_dir = find_real_specs()
    validator = RealXsdValidator(spec_dir) if spec_dir else None
    with Sandbox(invoices=40, seed=5, invoice_settlement=getattr(request, "param", True)) as sandbox:
        if validator is not None:
            validator.install(sandbox.netsuite)
        yield sandbox
    if validator is not None:
        assert validator.validated > 0
        validator.assert_clean()


@pytest.fixture
def config(box: Sandbox, tmp_path: Path) -> Path:
    path = tmp_path / "zns-sync.yaml"
    box.write_config(path, tmp_path / "state")
    return path
