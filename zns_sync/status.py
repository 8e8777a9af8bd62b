"""The Integration Status vocabulary and its legal transitions (product.md section 2, reference 3.2-3.4).

Pure code: no I/O. The strings are exactly the connector's, so that tenants moving from the hosted
connector keep their data meaning the same thing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

SYNC_COMPLETE = "Sync Complete"
IGNORE = "Ignore"
CUSTOM_FIELDS = "custom fields"  # the noun of custom field sync (reference 4.18): `Updating custom fields`
# The revenue-recognition follow-up's noun: `Updating Revenue Recognition`, `Error Updating Revenue Recognition`
# (reference 3.3, named on the Zuora custom-fields page only).
REVENUE_RECOGNITION = "Revenue Recognition"


class Phase(enum.Enum):
    """What a status says about a record, whatever the record type."""

    NEW = "new"  # blank: never attempted
    IN_FLIGHT = "in-flight"  # Creating/Updating/Linking: interrupted if no run is active
    ERROR = "error"  # Error Creating/Updating: the destination refused it
    COMPLETE = "complete"
    IGNORED = "ignored"


class Action(enum.Enum):
    """The verb of an in-flight status."""

    CREATING = "Creating"
    UPDATING = "Updating"
    LINKING = "Linking"


@dataclass(frozen=True)
class Status:
    """One Integration Status value, parsed."""

    phase: Phase
    action: Action | None = None
    noun: str | None = None  # "Invoice", "Credit Memo", "Customer", ...

    @property
    def text(self) -> str | None:
        """The exact string stored on the record (None for blank)."""
        if self.phase is Phase.NEW:
            return None
        if self.phase is Phase.COMPLETE:
            return SYNC_COMPLETE
        if self.phase is Phase.IGNORED:
            return IGNORE
        assert self.action is not None and self.noun is not None
        words = f"{self.action.value} {self.noun}"
        if self.phase is not Phase.ERROR:
            return words
        # The connector spells this one error in lower case (reference 3.3); `parse` reads either case.
        return f"Error {words.lower()}" if self.noun == CUSTOM_FIELDS else f"Error {words}"

    @property
    def needs_recovery(self) -> bool:
        """An in-flight or error status: the destination may already hold the record (reference 3.5)."""
        return self.phase in (Phase.IN_FLIGHT, Phase.ERROR)

    @property
    def selectable(self) -> bool:
        return self.phase not in (Phase.COMPLETE, Phase.IGNORED)


BLANK = Status(Phase.NEW)
COMPLETE = Status(Phase.COMPLETE)
IGNORED = Status(Phase.IGNORED)


def in_flight(action: Action, noun: str) -> Status:
    """`Creating Invoice`, `Linking Customer`, ..."""
    return Status(Phase.IN_FLIGHT, action, noun)


def error(action: Action, noun: str) -> Status:
    """`Error Creating Invoice`, ..."""
    return Status(Phase.ERROR, action, noun)


def parse(text: str | None) -> Status:
    """Parse a stored status string; unknown non-blank values are treated as in-flight (recover first)."""
    value = (text or "").strip()
    if not value:
        return BLANK
    if value == SYNC_COMPLETE:
        return COMPLETE
    if value == IGNORE:
        return IGNORED
    is_error = value.startswith("Error ")
    words = value[len("Error ") :] if is_error else value
    verb, _, noun = words.partition(" ")
    for action in Action:
        if verb.lower() == action.value.lower() and noun:
            return Status(Phase.ERROR if is_error else Phase.IN_FLIGHT, action, noun)
    # "Error", "Processing", "Syncing customer" and other legacy values: never trust them as done.
    return Status(Phase.ERROR if value.startswith("Error") else Phase.IN_FLIGHT, None, value)


class IllegalTransition(ValueError):
    """A status change the model forbids; a programming error, never a user error."""


# From phase -> phases a run may move a record to.
_LEGAL: dict[Phase, frozenset[Phase]] = {
    Phase.NEW: frozenset({Phase.IN_FLIGHT}),
    Phase.IN_FLIGHT: frozenset({Phase.IN_FLIGHT, Phase.COMPLETE, Phase.ERROR}),
    Phase.ERROR: frozenset({Phase.IN_FLIGHT, Phase.COMPLETE}),
    Phase.COMPLETE: frozenset({Phase.IN_FLIGHT}),  # only a person's resync (TTA No) re-opens it
    Phase.IGNORED: frozenset(),
}


def check_transition(before: Status, after: Status) -> None:
    """Raise IllegalTransition unless a run may move a record from `before` to `after`."""
    if after.phase not in _LEGAL[before.phase]:
        raise IllegalTransition(f"{before.text or 'blank'} -> {after.text or 'blank'}")
    if before.phase is Phase.IN_FLIGHT and after.phase is Phase.ERROR and before.action != after.action:
        raise IllegalTransition(f"{before.text} -> {after.text}: an error must name the attempted action")


class TTA(enum.StrEnum):
    """Zuora's Transferred To Accounting values (reference 3.4); null reads as No."""

    NO = "No"
    PROCESSING = "Processing"
    YES = "Yes"
    ERROR = "Error"
    IGNORE = "Ignore"


# Transactions are selected while TTA is one of these (null included as No).
TTA_SELECTABLE = (TTA.NO, TTA.ERROR, TTA.PROCESSING)
