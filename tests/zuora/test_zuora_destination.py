"""The Zuora destination over a real socket: Idempotency-Keys derived from what is created, Zuora's 409 and lost
answers as outcomes for their records, lookups by back-reference 200 values a query."""

from __future__ import annotations

import threading
from typing import Any

from zns_sync.destinations import UNKNOWN, WRITTEN, Window, ZuoraDestination, ZuoraRecord, ZuoraRef, idempotency_key
from zns_sync.sandbox.zuora_server import ZuoraEmulator


def account(name: str, netsuite_id: str, sync_date: str = "2024-01-01T00:00:00Z") -> ZuoraRecord:
    fields = {"Name": name, "Currency": "USD", "BillCycleDay": 1, "IntegrationId__NS": netsuite_id,
              "SyncDate__NS": sync_date}  # fmt: skip
    return ZuoraRecord("Account", fields)


def test_the_key_is_what_is_created_whatever_the_time_of_the_attempt() -> None:
    assert idempotency_key(account("A", "1")) == idempotency_key(account("A", "1", "2025-06-01T10:00:00Z"))
    assert idempotency_key(account("A", "1")) != idempotency_key(account("A", "2"))
    assert idempotency_key(account("A", "1")) != idempotency_key(account("A corrected", "1"))
    assert len(idempotency_key(account("A", "1"))) < 255


def test_a_create_still_in_flight_under_its_key_is_an_unknown_outcome(
    emulator: ZuoraEmulator, make_client: Any
) -> None:
    """Two hosts sending the same create: Zuora answers the second 409 while the first runs; never a duplicate."""
    emulator.faults.processing_seconds = 1.0
    destination = ZuoraDestination(make_client(max_retries=0), Window(4))  # no waiting the 409 out
    outcomes: list[Any] = []

    def send() -> None:
        outcomes.extend(destination.create([account("Twice", "7")]))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.kind for o in outcomes) == [UNKNOWN, WRITTEN], outcomes
    assert emulator.store.count("Account") == 1


def test_a_lost_answer_is_looked_up_and_a_repeat_is_replayed(emulator: ZuoraEmulator, make_client: Any) -> None:
    destination = ZuoraDestination(make_client(max_retries=0), Window(4))
    records = [account("Lost", "11"), account("Also lost", "12")]
    emulator.faults.script = ["drop-after", "drop-after"]
    assert destination.create(records) == [None, None]  # the answers were lost: the records may exist
    ids = destination.find([ZuoraRef("Account", (("IntegrationId__NS", n),)) for n in ("11", "12", "13")])
    assert ids[0] and ids[1] and ids[2] is None
    again = destination.create(records)  # the same request: Zuora replays the answer, creates nothing
    assert [o.counterpart_id for o in again if o is not None] == ids[:2]
    assert emulator.store.count("Account") == 2 and emulator.counters["idempotent_replays"] == 2


def test_lookups_go_200_values_a_query_and_compare_every_field(emulator: ZuoraEmulator, make_client: Any) -> None:
    owner = emulator.store.add("Account", {"Name": "Owner", "IntegrationId__NS": "0"})
    bill_to = emulator.store.add("Contact", {"AccountId": owner, "Description": "Bill To Contact"})
    for n in range(1, 251):
        emulator.store.add("Account", {"Name": f"N{n}", "IntegrationId__NS": str(n)})
    destination = ZuoraDestination(make_client(), Window(2))
    emulator.reset_counters()
    found = destination.find([ZuoraRef("Account", (("IntegrationId__NS", str(n)),)) for n in range(251)])
    assert all(found) and found[0] == owner and emulator.counters["POST /v1/action/query"] == 2
    contacts = [ZuoraRef("Contact", (("AccountId", owner), ("Description", role))) for role in ("Bill To Contact",
                "Sold To Contact")]  # fmt: skip
    assert destination.find(contacts) == [bill_to, None]
