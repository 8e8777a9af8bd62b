"""`ignore` and `resync`: the connector's manual procedures (reference 3.6), done so that they cannot duplicate.

Both look for the record's counterpart in the destination first (its deterministic externalId in every type it
may become, then the id the source record holds):
- `ignore` marks a record `Ignore` (and TTA `Ignore` on transactions) so that no run selects it again; it refuses
  a record whose counterpart exists, which `Ignore` would hide (`resync` links it), and one in flight, whose
  interrupted attempt may have written (`recover` first).
- `resync` links a record whose counterpart exists (`Sync Complete`, never a second record), and resets one whose
  counterpart is gone (status, counterpart id and sync date cleared, TTA null: product.md 8) so that the next run
  creates it, once.
Each runs under the run lock and is a run in the sync log: who, when, and per record what changed.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zns_sync.engine import SYSTEM_NAMES, Engine
from zns_sync.errors import UsageError
from zns_sync.flows.base import Flow
from zns_sync.journal import Attempt, current_user
from zns_sync.sources import StatusWrite
from zns_sync.status import BLANK, COMPLETE, IGNORED, TTA, Phase


class Procedure(enum.Enum):
    """A manual procedure, named as its command."""

    IGNORE = "ignore"
    RESYNC = "resync"


@dataclass(frozen=True)
class _Decision:
    row: dict[str, Any]
    outcome: str  # ignored, linked, reset, unchanged, refused
    write: StatusWrite | None
    counterpart_id: str | None
    message: str


def apply(engine: Engine, procedure: Procedure, name: str, keys: Sequence[str], *, dry_run: bool) -> list[Attempt]:
    """Apply a procedure to the `name` records with these ids or numbers; one Attempt each, in order.

    Every key is found first: an unknown one, or one of another type, is a UsageError and nothing is written; so is
    a follow-up type (revenue-recognition), whose records are another type's.
    """
    follows = engine.flow(name).follows
    if follows is not None:
        raise UsageError(
            f"{procedure.value} {name}: its records are {follows} records; {procedure.value} them as {follows}"
        )
    rows = list({row["Id"]: row for row in (engine.find(name, key) for key in keys)}.values())
    flow = engine.flow(name)
    refs = [flow.counterpart_refs(row) for row in rows]
    ids = engine.destinations[flow.destination].find([ref for group in refs for ref in group])
    existing: list[str | None] = []
    for group in refs:  # a record's counterpart: the first of its references found
        existing.append(next((i for i in ids[: len(group)] if i is not None), None))
        ids = ids[len(group) :]
    decide = _ignore if procedure is Procedure.IGNORE else _resync
    decisions = [decide(flow, row, counterpart) for row, counterpart in zip(rows, existing, strict=True)]
    saved = _write(engine, flow, [d.write for d in decisions if d.write is not None]) if not dry_run else {}
    who = f"by {current_user()}" + (" (dry run: nothing written)" if dry_run else "")
    attempts = []
    for decision in decisions:
        row, outcome, message = decision.row, decision.outcome, f"{decision.message}; {who}"
        if row["Id"] in saved and saved[row["Id"]] is not None:
            outcome, message = "refused", f"{SYSTEM_NAMES[flow.source]} refused the write: {saved[row['Id']]}; {who}"
        before = flow.status_of(row).text
        after = decision.write.status.text if decision.write is not None and outcome != "refused" else before
        attempts.append(
            Attempt(name, row["Id"], procedure.value, outcome, before, after, decision.counterpart_id, message,
                    flow.number_of(row))
        )  # fmt: skip
    return attempts


def exit_code(attempts: Sequence[Attempt]) -> int:
    """1 when a record was refused (it needs a person), else 0."""
    return 1 if any(a.outcome == "refused" for a in attempts) else 0


def record(engine: Engine, procedure: Procedure, name: str, attempts: Sequence[Attempt]) -> None:
    """Journal a procedure's attempts as a run of its own: who, when, and per record what changed."""
    engine.journal.start_run(procedure.value, [name], False)
    engine.journal.record(attempts)
    outcomes = Counter(a.outcome for a in attempts)
    counts = {"selected": len(attempts), "errors": outcomes["refused"], **outcomes}  # as `log` sums a run's
    engine.journal.end_run(exit_code(attempts), {name: counts})


def _ignore(flow: Flow, row: dict[str, Any], counterpart: str | None) -> _Decision:
    status = flow.status_of(row)
    if counterpart is not None:
        if status.phase is Phase.COMPLETE and flow.counterpart_id(row) == counterpart:
            why = f"it is synced, as {counterpart} in the destination: Ignore would hide it"
        else:
            why = f"it exists in the destination as {counterpart}: zns-sync resync {flow.name} {row['Id']} links it"
        return _Decision(row, "refused", None, counterpart, why)
    if status.phase is Phase.IN_FLIGHT:  # an attempt was cut short: what it wrote is not known yet
        why = f"it is {status.text}: zns-sync recover --type {flow.name} first (or resync it)"
        return _Decision(row, "refused", None, None, why)
    if status.phase is Phase.IGNORED:
        return _Decision(row, "unchanged", None, None, "it is Ignore already")
    tta = TTA.IGNORE if flow.transactional else None
    return _Decision(row, "ignored", StatusWrite(row["Id"], IGNORED, tta), None, "no run selects it again")


def _resync(flow: Flow, row: dict[str, Any], counterpart: str | None) -> _Decision:
    status = flow.status_of(row)
    if counterpart is not None:
        if status.phase is Phase.COMPLETE and flow.counterpart_id(row) == counterpart:
            note = "to create it again with new data, delete it in the destination first, then resync"
            return _Decision(row, "unchanged", None, counterpart, f"it is Sync Complete with {counterpart}: {note}")
        tta = TTA.YES if flow.transactional else None
        write = StatusWrite(row["Id"], COMPLETE, tta, counterpart, dict(flow.completion_fields))
        return _Decision(row, "linked", write, counterpart, f"found in the destination as {counterpart}: linked")
    if status.phase is Phase.NEW and flow.counterpart_id(row) is None:
        return _Decision(row, "unchanged", None, None, "it is blank already: the next run creates it")
    reset = StatusWrite(row["Id"], BLANK)
    return _Decision(row, "reset", reset, None, "not in the destination: the next run creates it")


def _write(engine: Engine, flow: Flow, writes: list[StatusWrite]) -> dict[str, str | None]:
    """Write the statuses; {source id: None when saved, else the source's message}."""
    source = engine.source(flow)
    results = source.write(writes) if writes else []
    return {w.source_id: None if r.success else r.message for w, r in zip(writes, results, strict=True)}
