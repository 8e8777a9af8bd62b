"""The command line's contract: help, version, exit codes, one-line errors, secrets never shown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from checks import ZUORA_OBJECTS, zns

from zns_sync import __version__
from zns_sync.journal import Journal
from zns_sync.sandbox import Sandbox


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zns_sync", *args], capture_output=True, text=True, timeout=60)


def assert_one_line_error(done: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    """The CLI's contract for errors a person must act on: the exit code, one line naming it, no traceback."""
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_help_lists_the_commands() -> None:
    done = cli("--help")
    assert done.returncode == 0
    for command in ("run", "recover", "status", "log", "check", "sandbox", "demo"):
        assert f"  {command} " in done.stdout


def test_version() -> None:
    done = cli("--version")
    assert done.returncode == 0 and __version__ in done.stdout


def test_unknown_option_is_a_usage_error() -> None:
    done = cli("run", "--no-such-option")
    assert done.returncode == 2
    assert "No such option" in done.stderr


@pytest.fixture
def box() -> Sandbox:
    with Sandbox(invoices=12, seed=2) as sandbox:
        yield sandbox  # type: ignore[misc]


def test_refused_credentials_are_one_line_exit_2_without_the_secret(box: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "cfg.yaml"
    box.write_config(config, tmp_path / "state")
    data = yaml.safe_load(config.read_text())
    data["zuora"]["client_secret"] = "wrong-secret-4242"
    config.write_text(yaml.safe_dump(data))
    done = zns(config, "run")
    assert_one_line_error(done, 2, "Zuora")
    assert "wrong-secret-4242" not in done.stderr + done.stdout

    data["zuora"]["client_secret"] = box.credentials["zuora_client_secret"]
    data["netsuite"]["token_secret"] = "wrong-token-secret-4242"
    config.write_text(yaml.safe_dump(data))
    done = zns(config, "run")
    assert_one_line_error(done, 2, "Invalid login attempt")
    assert "wrong-token-secret-4242" not in done.stderr


def test_debug_logs_show_no_secret_or_token(box: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "cfg.yaml"
    box.write_config(config, tmp_path / "state")
    done = zns(config, "--debug", "run", "--dry-run")
    assert done.returncode == 1, done.stderr
    assert "DEBUG" in done.stderr  # there is something to leak into
    output = done.stdout + done.stderr
    for name in ("zuora_client_secret", "consumer_secret", "token_secret"):
        assert box.credentials[name] not in output, name
    assert "Bearer " not in output.replace("Bearer ********", "")


def test_quiet_prints_nothing_on_success_and_json_is_pure(box: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "cfg.yaml"
    box.write_config(config, tmp_path / "state")
    zns(config, "run", "--quiet")
    # Everything that can sync has; mark what the demo holds back as Ignore so the next run is clean.
    for object_type in ZUORA_OBJECTS:
        for row in box.zuora.store.all(object_type):
            if row.get("IntegrationStatus__NS") != "Sync Complete":
                box.zuora.store.set(object_type, row["Id"], {"IntegrationStatus__NS": "Ignore"})
    quiet = zns(config, "run", "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == ""
    as_json = zns(config, "run", "--json")
    assert as_json.returncode == 0
    assert yaml.safe_load(as_json.stdout)["exit_code"] == 0


def test_unreachable_zuora_aborts_with_exit_4(box: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "cfg.yaml"
    box.write_config(config, tmp_path / "state")
    data = yaml.safe_load(config.read_text())
    box.zuora.stop()  # nothing listens there any more
    data["zuora"]["max_retries"] = 1
    config.write_text(yaml.safe_dump(data))
    done = zns(config, "run")
    assert_one_line_error(done, 4, "Zuora")


def test_a_hostile_netsuite_response_aborts_with_exit_4(box: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "cfg.yaml"
    box.write_config(config, tmp_path / "state")
    box.netsuite.faults.hostile_next_n = 1000
    done = zns(config, "run")
    assert_one_line_error(done, 4, "NetSuite")
    with Journal(tmp_path / "state") as journal:
        assert journal.runs(1)[0].exit_code == 4


def test_jsonl_streams_the_sync_log(box: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "cfg.yaml"
    box.write_config(config, tmp_path / "state")
    stream = tmp_path / "events.jsonl"
    zns(config, "--jsonl", str(stream), "run", "--quiet")
    events = [json.loads(line) for line in stream.read_text().splitlines()]
    assert events[0]["event"] == "run-start" and events[-1]["event"] == "run-end"
    attempts = [e for e in events if e["event"] == "attempt"]
    with Journal(tmp_path / "state") as journal:
        assert len(attempts) == len(list(journal.attempts()))
    assert {a["outcome"] for a in attempts} >= {"created", "blocked"}


def test_sandbox_command_serves_a_config_that_syncs(tmp_path: Path) -> None:
    config = tmp_path / "sandbox.yaml"
    server = subprocess.Popen(
        [sys.executable, "-m", "zns_sync", "sandbox", "--write-config", str(config), "--records", "8",
         "--no-invoice-settlement"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not config.exists() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.1)
        assert config.exists(), server.stderr.read() if server.stderr else ""
        check = zns(config, "check")
        assert check.returncode == 0, check.stderr
        assert "Zuora" in check.stdout and "authenticated" in check.stdout and "concurrency limit 5" in check.stdout
        assert yaml.safe_load(config.read_text())["sync"]["invoice_settlement"] is False
        done = zns(config, "run", "--json")
        assert done.returncode == 1, done.stderr
        types = json.loads(done.stdout)["types"]
        assert types["invoice"]["created"] > 0 and "adjustment" in types and "credit-memo" not in types
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=90)  # drains the pipes: a full one would block the server's exit
    assert server.returncode == 0, err


def test_the_sync_log_is_private(tmp_path: Path) -> None:
    config = tmp_path / "cfg.yaml"
    state = tmp_path / "deep" / "state"
    netsuite = {"account": "1_SB1", "consumer_key": "k", "consumer_secret": "cs", "token_id": "t", "token_secret": "ts"}
    zuora = {"client_id": "id", "client_secret": "s3cret-value"}
    config.write_text(yaml.safe_dump({"zuora": zuora, "netsuite": netsuite, "state_dir": str(state)}))
    done = zns(config, "log")
    assert done.returncode == 0, done.stderr
    assert state.stat().st_mode & 0o777 == 0o700
    assert (state / "sync-log.sqlite").stat().st_mode & 0o777 == 0o600
    for sidecar in state.glob("sync-log.sqlite-*"):  # SQLite's -wal and -shm follow the log's mode
        assert sidecar.stat().st_mode & 0o077 == 0, sidecar


def test_demo_shows_the_netsuite_to_zuora_direction() -> None:
    done = cli("demo", "--customer-master", "netsuite", "--records", "8")
    assert done.returncode == 0, done.stderr
    assert "NetSuite is the customer master" in done.stdout and "customer_currency_not_in_zuora" in done.stdout
    assert "the NetSuite payments, credit memos, refunds and sales orders go to Zuora" in done.stdout
    assert "ns-payment" in done.stdout and "ns-refund" in done.stdout and "sales_order_two_plans" in done.stdout
    assert "sales-order" in done.stdout
