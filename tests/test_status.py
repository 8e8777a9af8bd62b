"""The Integration Status vocabulary and its transitions, as a table (product.md section 2)."""

from __future__ import annotations

import pytest

from zns_sync import status
from zns_sync.status import Action, IllegalTransition, Phase

CREATING_INVOICE = status.in_flight(Action.CREATING, "Invoice")
ERROR_INVOICE = status.error(Action.CREATING, "Invoice")
LINKING_CUSTOMER = status.in_flight(Action.LINKING, "Customer")


@pytest.mark.parametrize(
    ("text", "phase", "recover"),
    [
        (None, Phase.NEW, False),
        ("", Phase.NEW, False),
        ("Creating Invoice", Phase.IN_FLIGHT, True),
        ("Creating Credit Memo", Phase.IN_FLIGHT, True),
        ("Linking Customer", Phase.IN_FLIGHT, True),
        ("Updating Payment", Phase.IN_FLIGHT, True),
        ("Error Creating Invoice", Phase.ERROR, True),
        ("Error Updating Payment", Phase.ERROR, True),
        ("Sync Complete", Phase.COMPLETE, False),
        ("Ignore", Phase.IGNORED, False),
        ("Error", Phase.ERROR, True),
        ("Syncing customer", Phase.IN_FLIGHT, True),  # legacy value: never trusted as done
        ("Updating custom fields", Phase.IN_FLIGHT, True),  # custom field sync (reference 3.3, 4.18)
        ("Error updating custom fields", Phase.ERROR, True),  # spelled in lower case by the connector
    ],
)
def test_parse(text: str | None, phase: Phase, recover: bool) -> None:
    parsed = status.parse(text)
    assert parsed.phase is phase
    assert parsed.needs_recovery is recover
    if text and phase in (Phase.IN_FLIGHT, Phase.ERROR) and parsed.action is not None:
        assert parsed.text == text  # the exact connector string round-trips


def test_exact_strings() -> None:
    assert CREATING_INVOICE.text == "Creating Invoice"
    assert ERROR_INVOICE.text == "Error Creating Invoice"
    assert status.in_flight(Action.CREATING, "Credit Memo").text == "Creating Credit Memo"
    assert LINKING_CUSTOMER.text == "Linking Customer"
    assert status.COMPLETE.text == "Sync Complete"
    assert status.IGNORED.text == "Ignore"
    assert status.BLANK.text is None


LEGAL = [
    (status.BLANK, CREATING_INVOICE),
    (CREATING_INVOICE, status.COMPLETE),
    (CREATING_INVOICE, ERROR_INVOICE),
    (CREATING_INVOICE, CREATING_INVOICE),  # a claim repeated after a crash
    (ERROR_INVOICE, CREATING_INVOICE),
    (ERROR_INVOICE, status.COMPLETE),  # recovery found it
    (LINKING_CUSTOMER, status.COMPLETE),
    (status.COMPLETE, CREATING_INVOICE),  # a person's resync
]
ILLEGAL = [
    (status.BLANK, status.COMPLETE),  # never complete without a claim
    (status.BLANK, ERROR_INVOICE),
    (status.IGNORED, CREATING_INVOICE),
    (status.IGNORED, status.COMPLETE),
    (status.COMPLETE, ERROR_INVOICE),
    (ERROR_INVOICE, ERROR_INVOICE),  # an error follows an attempt
    (LINKING_CUSTOMER, status.error(Action.CREATING, "Customer")),  # the error names the attempted action
    (CREATING_INVOICE, status.BLANK),
]


@pytest.mark.parametrize(("before", "after"), LEGAL)
def test_legal(before: status.Status, after: status.Status) -> None:
    status.check_transition(before, after)


@pytest.mark.parametrize(("before", "after"), ILLEGAL)
def test_illegal(before: status.Status, after: status.Status) -> None:
    with pytest.raises(IllegalTransition):
        status.check_transition(before, after)


def test_the_table_agrees_with_every_phase_pair() -> None:
    samples = {
        Phase.NEW: status.BLANK, Phase.IN_FLIGHT: CREATING_INVOICE, Phase.ERROR: ERROR_INVOICE,
        Phase.COMPLETE: status.COMPLETE, Phase.IGNORED: status.IGNORED,
    }  # fmt: skip
    for before in samples.values():
        for after in samples.values():
            try:
                status.check_transition(before, after)
            except IllegalTransition:
                assert (before, after) not in LEGAL
            else:
                assert (before, after) not in ILLEGAL


def test_tta_selection_excludes_yes_and_ignore() -> None:
    assert {t.value for t in status.TTA_SELECTABLE} == {"No", "Error", "Processing"}
