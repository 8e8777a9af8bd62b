"""NetSuite's limits and failures as the client meets them: throttling, lost responses, hostile XML, bad logins."""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from zns_sync.config import Secret
from zns_sync.errors import AuthError, TransportError, UntrustedResponseError
from zns_sync.netsuite import NetSuiteAuthError, NetSuiteClient, NetSuiteError, NsRecord, OutcomeUnknownError, RecordRef
from zns_sync.redact import redact
from zns_sync.sandbox.netsuite_schema import NAMESPACES
from zns_sync.sandbox.netsuite_server import NetSuiteEmulator


def customers(prefix: str, count: int, subsidiary: str) -> list[NsRecord]:
    return [
        NsRecord(
            "Customer",
            {"companyName": f"{prefix} {n}", "subsidiary": RecordRef(internal_id=subsidiary)},
            external_id=f"{prefix}-{n}",
        )
        for n in range(count)
    ]


@pytest.fixture
def subsidiary(emulator: NetSuiteEmulator) -> str:
    return str(emulator.seed_reference_data()["subsidiary"])


def test_concurrency_limit_is_retried_with_backoff_and_reported(
    client: NetSuiteClient, emulator: NetSuiteEmulator, throttles: Any, subsidiary: str
) -> None:
    emulator.faults.concurrency_limit = 2
    emulator.faults.latency_per_request = 0.05
    batches = [customers(f"t{i}", 3, subsidiary) for i in range(6)]
    results: list[Any] = []
    lock = threading.Lock()

    def write(batch: list[NsRecord]) -> None:
        out = client.add_list(batch)
        with lock:
            results.extend(out)

    threads = [threading.Thread(target=write, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 18 and all(r.success for r in results)
    assert emulator.counters.rejected["concurrency"] >= 1
    assert throttles.calls == emulator.counters.rejected["concurrency"]
    assert emulator.counters["max_in_flight"] <= 2
    assert emulator.store.count("Customer") == 18


def test_throttling_beyond_max_retries_raises_netsuite_error(
    emulator: NetSuiteEmulator, tmp_path: Path, settings_for: Any, throttles: Any
) -> None:
    emulator.faults.concurrency_limit = 0
    with (
        NetSuiteClient(
            settings_for(emulator, max_retries=2), cache_dir=tmp_path, on_throttle=throttles, backoff_base=0.001
        ) as ns,
        pytest.raises(NetSuiteError) as caught,
    ):
        ns.get_integration_governance_info()
    assert isinstance(caught.value, TransportError)
    assert caught.value.code == "WS_REQUEST_BLOCKED" and "concurrent request limit" in str(caught.value)
    assert throttles.calls == 3


def test_unexpected_errors_are_retried_for_the_failed_records_only(
    client: NetSuiteClient, emulator: NetSuiteEmulator, subsidiary: str
) -> None:
    emulator.faults.seed = 3
    emulator.faults.unexpected_error_rate = 0.3
    records = customers("u", 40, subsidiary)
    results = client.add_list(records)
    assert all(r.success for r in results), [r for r in results if not r.success]
    assert [r.external_id for r in results] == [r.external_id for r in records]
    assert emulator.counters["addList"] > 1
    assert emulator.store.count("Customer") == 40


def test_lost_response_on_a_write_is_outcome_unknown_and_the_record_exists(
    client: NetSuiteClient, emulator: NetSuiteEmulator, subsidiary: str
) -> None:
    emulator.faults.lose_next_n_responses = 1
    with pytest.raises(OutcomeUnknownError) as caught:
        client.add_list(customers("lost", 3, subsidiary))
    assert isinstance(caught.value, TransportError)
    assert emulator.counters["addList"] == 1  # never resent blindly
    assert emulator.store.find_by_external_id("Customer", "lost-1") is not None
    # Resending is safe: externalIds make the adds idempotent.
    assert {r.code for r in client.add_list(customers("lost", 3, subsidiary))} == {"DUP_RCRD"}


def test_lost_response_on_a_read_is_retried(client: NetSuiteClient, emulator: NetSuiteEmulator) -> None:
    emulator.faults.lose_next_n_responses = 1
    assert len(client.get_all("currency")) == 5
    assert emulator.counters["getAll"] == 2


def test_hostile_and_non_xml_responses_are_refused(
    client: NetSuiteClient, emulator: NetSuiteEmulator, tmp_path: Path, settings_for: Any
) -> None:
    emulator.faults.hostile_next_n = 1
    with pytest.raises(UntrustedResponseError) as caught:
        client.get_all("currency")
    assert "\n" not in str(caught.value) and "DTD" in str(caught.value)

    not_soap = NetSuiteEmulator().start()
    try:
        settings = settings_for(emulator, endpoint_url=not_soap.url + "/wsdl/v2023_2_0/nothing")
        with NetSuiteClient(settings, cache_dir=tmp_path) as ns, pytest.raises(UntrustedResponseError) as caught:
            ns.get_all("currency")
    finally:
        not_soap.stop()
    assert "not SOAP XML" in str(caught.value)


def test_bad_credentials_raise_auth_error_after_one_retry(
    emulator: NetSuiteEmulator, tmp_path: Path, settings_for: Any
) -> None:
    secret = "definitely-wrong-secret-value"
    settings = settings_for(emulator, token_secret=Secret(secret))
    ns = NetSuiteClient(settings, cache_dir=tmp_path, backoff_base=0.001)
    with ns, pytest.raises(NetSuiteAuthError) as caught:
        ns.get_integration_governance_info()
    assert isinstance(caught.value, AuthError)
    assert "Invalid login attempt." in str(caught.value) and secret not in str(caught.value)
    assert emulator.counters.rejected["auth"] == 2
    assert secret not in redact(repr(caught.value.args))


def test_account_id_is_case_sensitive(emulator: NetSuiteEmulator, tmp_path: Path, settings_for: Any) -> None:
    ns = NetSuiteClient(settings_for(emulator, account="123456_sb1"), cache_dir=tmp_path, backoff_base=0.001)
    with ns, pytest.raises(NetSuiteAuthError):
        ns.get_all("currency")


def test_per_call_timeout_on_a_write_is_outcome_unknown(
    emulator: NetSuiteEmulator, tmp_path: Path, settings_for: Any
) -> None:
    emulator.faults.latency_per_request = 1.5
    subsidiary = str(emulator.seed_reference_data()["subsidiary"])
    ns = NetSuiteClient(settings_for(emulator, timeout_seconds=1.0), cache_dir=tmp_path)
    with ns, pytest.raises(OutcomeUnknownError):
        ns.add(customers("slow", 1, subsidiary)[0])
    emulator.faults.latency_per_request = 0
    time.sleep(0.6)
    assert emulator.store.find_by_external_id("Customer", "slow-0") is not None


def test_wsdl_cache_warm_start(
    emulator: NetSuiteEmulator, tmp_path: Path, settings_for: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(emulator)
    cache = tmp_path / "state"
    started = time.perf_counter()
    with NetSuiteClient(settings, cache_dir=cache) as ns:
        ns.get_integration_governance_info()
    cold = time.perf_counter() - started
    downloads = emulator.counters["wsdl_downloads"]
    assert downloads == len(NAMESPACES) + 1 and (cache / "netsuite-wsdl-cache.sqlite").is_file()  # XSDs + WSDL
    started = time.perf_counter()
    with NetSuiteClient(settings, cache_dir=cache) as ns:
        ns.get_integration_governance_info()
    warm = time.perf_counter() - started
    assert emulator.counters["wsdl_downloads"] == downloads  # everything came from the SqliteCache
    with capsys.disabled():
        print(f"\nNetSuite client: cold start to first answer {cold:.3f}s, warm start (SqliteCache) {warm:.3f}s")
    assert warm < 5


def test_unwritable_cache_dir_falls_back_to_memory(
    emulator: NetSuiteEmulator, tmp_path: Path, settings_for: Any
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with NetSuiteClient(settings_for(emulator), cache_dir=blocker / "sub") as ns:
        assert ns.get_integration_governance_info()["integrationConcurrencyLimit"] == 5


def test_debug_logs_carry_no_token_or_signature(
    client: NetSuiteClient, credentials: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        client.get_all("currency")
    raw = caplog.text
    assert credentials["token_id"] in raw and "HMAC-SHA256" in raw  # zeep logs the envelope at DEBUG ...
    shown = redact(raw)  # ... and the CLI's RedactingFilter masks what matters
    for secret in (credentials["token_id"], credentials["consumer_key"], credentials["token_secret"]):
        assert secret not in shown
    assert re.search(r'algorithm="HMAC-SHA256">\*{8}<', shown)
