"""One pass of one flow: select, validate, claim, recover, write, complete (product.md section 2).

The reader (the calling thread) streams Zuora pages and plans them a slice at a time; a pool of workers takes
each chunk of up to 200 plans through recovery, the claim in Zuora and the NetSuite write, while the NetSuite
client's gate (`Window`) keeps `netsuite.concurrency` requests on the wire; a completer thread writes outcomes
back to Zuora in batches of 50. Duplicates are impossible because every NetSuite record carries a
deterministic externalId: an add NetSuite refuses with DUP_RCRD is looked up and linked.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Protocol

from zns_sync.config import Settings
from zns_sync.flows import FLOWS
from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    STATUS_FIELD,
    SYNC_DATE_FIELD,
    TTA_FIELD,
    Excluded,
    Flow,
    FlowContext,
    Plan,
    Refusal,
)
from zns_sync.journal import Attempt, Journal
from zns_sync.netsuite import (
    LIMITS,
    NetSuiteClient,
    NsRecord,
    OutcomeUnknownError,
    ReadResult,
    RecordRef,
    WriteResult,
)
from zns_sync.status import COMPLETE, TTA, Action, Phase, Status, check_transition
from zns_sync.status import parse as parse_status
from zns_sync.zuora import ZuoraClient, zoql

log = logging.getLogger(__name__)
ZUORA_UPDATE_BATCH = 50
# Per-record codes that say nothing about the record's data: the outcome is unknown, the next run recovers.
UNKNOWN_OUTCOME_CODES = frozenset({"UNEXPECTED_ERROR", "WS_REQUEST_BLOCKED", "SSS_REQUEST_LIMIT_EXCEEDED"})


@dataclass
class Counts:
    """What one pass did, per outcome."""

    selected: int = 0
    created: int = 0
    linked: int = 0
    skipped: int = 0
    blocked: int = 0
    errors: int = 0
    unknown: int = 0
    excluded: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        done = self.created + self.linked
        return done / self.seconds if self.seconds > 0 else 0.0

    @property
    def failed(self) -> bool:
        """Records a person must look at: the run exits 1 (product.md 8)."""
        return bool(self.skipped or self.blocked or self.errors or self.unknown)

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["seconds"] = round(self.seconds, 3)
        data["per_second"] = round(self.per_second, 1)
        return data


@dataclass(frozen=True)
class Preview:
    """A dry run's word on one record: the action and the payload it would send."""

    type: str
    source_id: str
    action: str  # create, link, recover, skip, blocked, excluded
    status: str | None
    reason: str | None = None
    payload: dict[str, Any] | None = None


class Observer(Protocol):
    """Where the engine reports progress and previews; the CLI renders them."""

    def pass_started(self, flow_name: str) -> None: ...

    def advanced(self, flow_name: str, records: int) -> None: ...

    def preview(self, item: Preview) -> None: ...


class _Quiet:
    def pass_started(self, flow_name: str) -> None:
        pass

    def advanced(self, flow_name: str, records: int) -> None:
        pass

    def preview(self, item: Preview) -> None:
        pass


class Window:
    """How many NetSuite requests may be in flight: halves on a concurrency fault, grows back by one slowly."""

    def __init__(self, limit: int, grow_after: int = 8) -> None:
        self.limit = limit
        self.size = limit
        self._in_flight = 0
        self._successes = 0
        self._grow_after = grow_after
        self._cond = threading.Condition()
        self.peak = 0
        self.throttles = 0

    def __enter__(self) -> Window:
        with self._cond:
            while self._in_flight >= self.size:
                self._cond.wait()
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._in_flight -= 1
            if exc[0] is None:
                self._successes += 1
                if self._successes >= self._grow_after * self.size and self.size < self.limit:
                    self.size += 1
                    self._successes = 0
            self._cond.notify_all()

    def throttled(self) -> None:
        """NetSuite refused a request for concurrency: keep half as many in flight."""
        with self._cond:
            self.throttles += 1
            self.size = max(1, self.size // 2)
            self._successes = 0


@dataclass
class _Done:
    """A record's final word for this pass, waiting to be written back to Zuora."""

    plan_id: str
    status_before: Status
    outcome: str  # created, linked, error, unknown
    action: str
    zuora_fields: dict[str, Any] | None  # None: nothing to write (status stays in flight)
    status_after: str | None
    netsuite_id: str | None = None
    message: str | None = None


@dataclass
class PassResult:
    """One flow's pass: counts, and for `recover` the records found and not found."""

    counts: Counts = field(default_factory=Counts)
    recovered: list[tuple[str, str]] = field(default_factory=list)  # (source id, NetSuite id)
    not_found: list[str] = field(default_factory=list)


class Engine:
    """Runs flows against Zuora and NetSuite, recording every attempt in the journal."""

    def __init__(
        self,
        settings: Settings,
        zuora: ZuoraClient,
        netsuite: NetSuiteClient,
        journal: Journal,
        observer: Observer | None = None,
        window: Window | None = None,
    ) -> None:
        self.settings = settings
        self.zuora = zuora
        self.netsuite = netsuite
        self.journal = journal
        self.observer = observer or _Quiet()
        self.window = window or Window(settings.netsuite.concurrency)
        self.context = FlowContext(settings, zuora, netsuite)

    def close(self) -> None:
        """Stop the lookup threads."""
        self.context.close()

    def flow(self, name: str) -> Flow:
        return FLOWS[name](self.context)

    def run(self, types: Sequence[str], *, dry_run: bool = False, limit: int | None = None) -> dict[str, Counts]:
        """One pass over each type, in the documented order."""
        results: dict[str, Counts] = {}
        for name in _ordered(types):
            results[name] = (
                _Pass(self, self.flow(name), mode="dry-run" if dry_run else "run", limit=limit).execute().counts
            )
        return results

    def recover(self, types: Sequence[str], *, dry_run: bool = False) -> dict[str, PassResult]:
        """For every record in an in-flight or Error status: look in NetSuite, link what exists."""
        return {
            name: _Pass(self, self.flow(name), mode="recover-dry-run" if dry_run else "recover", limit=None).execute()
            for name in _ordered(types)
        }

    def status(self, types: Sequence[str]) -> dict[str, tuple[Counter[str], tuple[str, str] | None]]:
        """Per type, how many source records are in each Integration Status, and the oldest in-flight one."""
        report: dict[str, tuple[Counter[str], tuple[str, str] | None]] = {}
        for name in _ordered(types):
            flow = self.flow(name)
            counts: Counter[str] = Counter()
            oldest: tuple[str, str] | None = None
            scope = [group for group in flow.scope() if group] or None
            query = zoql.select(flow.zuora_object, ("Id", STATUS_FIELD, "UpdatedDate"), where=scope)
            for row in self.zuora.query(query):
                status = parse_status(row.get(STATUS_FIELD))
                counts[status.text or "(blank)"] += 1
                if status.phase is Phase.IN_FLIGHT:
                    updated = str(row.get("UpdatedDate", ""))
                    if oldest is None or updated < oldest[1]:
                        oldest = (row["Id"], updated)
            report[name] = (counts, oldest)
        return report


def _ordered(types: Sequence[str]) -> list[str]:
    return [name for name in FLOWS if name in types]


class _Pass:
    """One pass of one flow (see the module docstring)."""

    def __init__(self, engine: Engine, flow: Flow, *, mode: str, limit: int | None) -> None:
        self.engine = engine
        self.flow = flow
        self.mode = mode
        self.limit = limit
        self.result = PassResult()
        self.counts = self.result.counts
        self._counts_lock = threading.Lock()
        self._fatal: BaseException | None = None
        self._done: queue.Queue[_Done | None] = queue.Queue()
        self.writes = mode == "run"

    # -- the pass -------------------------------------------------------------------------------------
    def execute(self) -> PassResult:
        start = time.monotonic()
        self.engine.observer.pass_started(self.flow.name)
        concurrency = self.engine.settings.netsuite.concurrency
        completer = threading.Thread(target=self._complete_loop, name=f"complete-{self.flow.name}", daemon=True)
        completer.start()
        slots = threading.BoundedSemaphore(3 * concurrency)  # backpressure keeps memory flat
        # Twice as many workers as NetSuite slots: while one wave of requests is on the wire (the client's gate
        # holds `concurrency` of them), the next wave is claimed in Zuora and rendered, ready to go.
        try:
            with ThreadPoolExecutor(2 * concurrency, thread_name_prefix=f"sync-{self.flow.name}") as pool:
                for chunk in self._chunks():
                    slots.acquire()
                    self._raise_fatal()
                    future = pool.submit(self._guard, self._process, chunk)
                    future.add_done_callback(lambda _: slots.release())
        finally:
            self._done.put(None)
            completer.join()
            self.counts.seconds = time.monotonic() - start
        self._raise_fatal()
        return self.result

    def _raise_fatal(self) -> None:
        if self._fatal is not None:
            raise self._fatal

    def _guard(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # auth, transport, untrusted response, or a bug: abort the pass, re-raised
            self._fatal = self._fatal or exc

    def _selection_query(self) -> str:
        if self.mode.startswith("recover"):
            in_recovery = [
                [
                    zoql.not_null(STATUS_FIELD),
                    zoql.ne(STATUS_FIELD, "Sync Complete"),
                    zoql.ne(STATUS_FIELD, "Ignore"),
                ]
            ]
            where = [own + rec for own in self.flow.own_criteria() for rec in in_recovery]
            return zoql.select(self.flow.zuora_object, self.flow.fields, where=where)
        return self.flow.query()

    def _slices(self) -> Iterator[list[dict[str, Any]]]:
        """Selected source rows, streamed page by page, in write-sized slices (and at most --limit of them)."""
        size = min(LIMITS["addList"], self.engine.settings.netsuite.batch_size)
        taken = 0
        for page in self.engine.zuora.query_pages(self._selection_query()):
            self._raise_fatal()
            if self.limit is not None:
                page = page[: max(0, self.limit - taken)]
                taken += len(page)
            for start in range(0, len(page), size):
                yield page[start : start + size]
            if self.limit is not None and taken >= self.limit:
                return

    def _chunks(self) -> Iterator[list[Plan]]:
        """Validated plans in full write-sized chunks (refused records leave gaps that the next slice fills)."""
        size = min(LIMITS["addList"], self.engine.settings.netsuite.batch_size)
        pending: list[Plan] = []
        for plans in self._planned_slices():
            pending.extend(plans)
            while len(pending) >= size:
                yield pending[:size]
                pending = pending[size:]
        if pending:
            yield pending

    def _planned_slices(self) -> Iterator[list[Plan]]:
        """Validated plans a slice at a time, so NetSuite work starts after one slice, not one page.

        A slice is one `select_in` query's worth of ids, so planning by slice costs no extra Zuora calls.
        Refusals and exclusions are recorded on the way.
        """
        for rows in self._slices():
            plans: list[Plan] = []
            refusals: list[Attempt] = []
            for item in self.flow.plan_page(rows):
                if isinstance(item, Excluded):
                    self._count("excluded")
                    self._preview(item.source_id, "excluded", None, item.reason)
                    continue
                self._count("selected")
                if isinstance(item, Refusal):
                    self._count(item.outcome)
                    action = "skip" if item.outcome == "skipped" else "blocked"
                    self._preview(item.source_id, action, item.status_before.text, item.reason)
                    before = item.status_before.text
                    refusals.append(
                        Attempt(
                            self.flow.name, item.source_id, "validate", item.outcome, before, before, None, item.reason
                        )
                    )
                else:
                    plans.append(item)
            if self.mode in ("run", "recover"):
                self.engine.journal.record(refusals)
            self.engine.observer.advanced(self.flow.name, len(refusals))
            if plans:
                yield plans

    def _process(self, chunk: list[Plan]) -> None:
        """Recover, then claim, then write one chunk (a worker's task)."""
        remaining = self._recover(chunk)
        if self.writes and remaining:
            for batch in self._split_by_action(self._claim(remaining)):
                self._write(batch, 1)

    def _split_by_action(self, plans: list[Plan]) -> Iterator[list[Plan]]:
        creating = [p for p in plans if p.action is Action.CREATING]
        linking = [p for p in plans if p.action is Action.LINKING]
        if creating:
            yield creating
        size = min(LIMITS["updateList"], self.engine.settings.netsuite.batch_size)
        for start in range(0, len(linking), size):
            yield linking[start : start + size]

    # -- recover ---------------------------------------------------------------------------------------
    def _recover(self, plans: list[Plan]) -> list[Plan]:
        """Look up in NetSuite the records a previous attempt may have created; link what exists."""
        dry = self.mode in ("dry-run", "recover-dry-run")
        recovering = self.mode.startswith("recover")
        # A dry run looks every create up, so that its preview says link where NetSuite already has it.
        suspects = [p for p in plans if p.action is Action.CREATING and (p.status_before.needs_recovery or dry)]
        found = self._find(suspects) if suspects else {}
        remaining: list[Plan] = []
        for plan in plans:
            internal_id = found.get(plan.source_id)
            if internal_id is not None:
                if recovering:
                    self.result.recovered.append((plan.source_id, internal_id))
                if dry:
                    self._count("linked")
                    self._preview(
                        plan.source_id,
                        "link",
                        plan.status_before.text,
                        f"already in NetSuite as internalId {internal_id}",
                    )
                else:
                    self._finish(plan, "linked", "recover", internal_id)
                continue
            if recovering:
                if plan.action is Action.LINKING:
                    self._preview(
                        plan.source_id,
                        "link",
                        plan.status_before.text,
                        "NetSuite id known; the next run links it",
                    )
                else:
                    self.result.not_found.append(plan.source_id)
                    self._preview(plan.source_id, "not found", plan.status_before.text, "the next run creates it")
                continue
            if dry:
                self._count("created" if plan.action is Action.CREATING else "linked")
                self._preview(
                    plan.source_id,
                    "create" if plan.action is Action.CREATING else "link",
                    plan.status_before.text,
                    None,
                    payload(plan.record),
                )
                continue
            remaining.append(plan)
        return remaining

    def _find(self, plans: Sequence[Plan]) -> dict[str, str]:
        """NetSuite internalIds of the plans' records that exist, by source id (getList, 1000 refs a call)."""
        reads: list[ReadResult] = self.engine.netsuite.get_list([p.ref for p in plans])
        return {
            plan.source_id: str(read.record["internalId"])
            for plan, read in zip(plans, reads, strict=True)
            if read.success and read.record is not None
        }

    # -- claim -----------------------------------------------------------------------------------------
    def _claim(self, plans: list[Plan]) -> list[Plan]:
        """Write the in-flight status (and TTA Processing) to Zuora before NetSuite is touched."""
        updates = []
        for plan in plans:
            check_transition(plan.status_before, plan.in_flight)
            update: dict[str, Any] = {"Id": plan.source_id, STATUS_FIELD: plan.in_flight.text}
            if self.flow.transactional:
                update[TTA_FIELD] = TTA.PROCESSING.value
            updates.append(update)
        results = self.engine.zuora.update(self.flow.zuora_object, updates)
        claimed: list[Plan] = []
        refused: list[Attempt] = []
        for plan, saved in zip(plans, results, strict=True):
            if saved.success:
                claimed.append(plan)
            else:
                self._count("errors")
                refused.append(
                    Attempt(
                        self.flow.name,
                        plan.source_id,
                        "claim",
                        "error",
                        plan.status_before.text,
                        plan.status_before.text,
                        None,
                        f"Zuora refused the claim: {saved.message}",
                    )
                )
        self.engine.journal.record(refused)
        return claimed

    # -- write -----------------------------------------------------------------------------------------
    def _write(self, batch: list[Plan], attempt: int) -> None:
        netsuite = self.engine.netsuite
        creating = batch[0].action is Action.CREATING
        records = [p.record for p in batch]
        try:
            began = time.monotonic()
            results: list[WriteResult] | None = (
                netsuite.add_list(records) if creating else netsuite.update_list(records)
            )
            log.debug("%s: %d records written in %.2f s", self.flow.name, len(records), time.monotonic() - began)
        except OutcomeUnknownError:
            results = None  # the response was lost: NetSuite may or may not have committed
        verb = "create" if creating else "link"
        if results is None and not creating:
            # An update is idempotent: send it again once, else leave the claim for the next run.
            if attempt == 1:
                self._write(batch, attempt + 1)
            else:
                for plan in batch:
                    self._leave_in_flight(plan, verb, "NetSuite's answer to the update was lost twice")
            return
        lookups: list[Plan] = []
        for index, plan in enumerate(batch):
            result = results[index] if results is not None else None
            if result is None or result.code == "DUP_RCRD":
                lookups.append(plan)
            elif result.success:
                self._finish(plan, "created" if creating else "linked", verb, result.internal_id)
            elif result.code in UNKNOWN_OUTCOME_CODES:
                self._leave_in_flight(plan, verb, f"{result.code}: {result.message}")
            else:
                self._fail(plan, verb, f"{result.code}: {result.message}")
        if not lookups:
            return
        found = self._find(lookups)
        retry: list[Plan] = []
        for plan in lookups:
            if plan.source_id in found:
                self._finish(plan, "linked", verb, found[plan.source_id])
            elif creating and attempt == 1:
                retry.append(plan)  # not there: the lost add never committed, and its externalId guards a retry
            else:
                self._leave_in_flight(plan, verb, "NetSuite's answer was lost and the record was not found")
        if retry:
            self._write(retry, attempt + 1)

    # -- complete --------------------------------------------------------------------------------------
    def _finish(self, plan: Plan, outcome: str, action: str, internal_id: str | None) -> None:
        check_transition(plan.in_flight, COMPLETE)
        update: dict[str, Any] = {
            "Id": plan.source_id,
            STATUS_FIELD: COMPLETE.text,
            INTEGRATION_ID_FIELD: internal_id,
            SYNC_DATE_FIELD: _now(),
        }
        if self.flow.transactional:
            update[TTA_FIELD] = TTA.YES.value
        self._done.put(_Done(plan.source_id, plan.status_before, outcome, action, update, COMPLETE.text, internal_id))

    def _fail(self, plan: Plan, action: str, message: str) -> None:
        after = plan.failed
        check_transition(plan.in_flight, after)
        update: dict[str, Any] = {"Id": plan.source_id, STATUS_FIELD: after.text}
        if self.flow.transactional:
            update[TTA_FIELD] = TTA.ERROR.value
        self._done.put(_Done(plan.source_id, plan.status_before, "error", action, update, after.text, None, message))

    def _leave_in_flight(self, plan: Plan, action: str, message: str) -> None:
        self._done.put(
            _Done(
                plan.source_id,
                plan.status_before,
                "unknown",
                action,
                None,
                plan.in_flight.text,
                None,
                f"{message}; left '{plan.in_flight.text}' for recovery",
            )
        )

    def _complete_loop(self) -> None:
        """Write outcomes back to Zuora 50 at a time; runs until the pass ends."""
        batch: list[_Done] = []
        closing = False
        while not closing:
            try:
                item = self._done.get(timeout=0.05 if batch else None)
            except queue.Empty:
                item = None if not batch else _FLUSH
            if item is None:
                closing = True
            elif item is not _FLUSH:
                batch.append(item)
                if len(batch) < ZUORA_UPDATE_BATCH:
                    continue
            if batch:
                self._guard(self._write_back, batch)
                batch = []

    def _write_back(self, batch: list[_Done]) -> None:
        writes = [d for d in batch if d.zuora_fields is not None]
        saved = self.engine.zuora.update(self.flow.zuora_object, [d.zuora_fields for d in writes if d.zuora_fields])
        refused = {d.plan_id: r.message for d, r in zip(writes, saved, strict=True) if not r.success}
        attempts = []
        for done in batch:
            outcome, message, after = done.outcome, done.message, done.status_after
            if done.plan_id in refused:
                outcome = "unknown"
                message = f"NetSuite id {done.netsuite_id}; Zuora refused the status write: {refused[done.plan_id]}"
                after = None
            self._count({"created": "created", "linked": "linked", "error": "errors"}.get(outcome, "unknown"))
            attempts.append(
                Attempt(
                    self.flow.name,
                    done.plan_id,
                    done.action,
                    outcome,
                    done.status_before.text,
                    after,
                    done.netsuite_id,
                    message,
                )
            )
        self.engine.journal.record(attempts)
        self.engine.observer.advanced(self.flow.name, len(batch))

    # -- bookkeeping -----------------------------------------------------------------------------------
    def _count(self, name: str) -> None:
        with self._counts_lock:
            setattr(self.counts, name, getattr(self.counts, name) + 1)

    def _preview(
        self,
        source_id: str,
        action: str,
        status: str | None,
        reason: str | None,
        body: dict[str, Any] | None = None,
    ) -> None:
        if self.mode != "run":
            self.engine.observer.preview(Preview(self.flow.name, source_id, action, status, reason, body))


_FLUSH = _Done("", Status(Phase.NEW), "", "", None, None)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def payload(record: NsRecord) -> dict[str, Any]:
    """A NetSuite record as plain JSON-able data, for previews."""
    body: dict[str, Any] = {"recordType": record.record_type}
    if record.external_id:
        body["externalId"] = record.external_id
    if record.internal_id:
        body["internalId"] = record.internal_id
    body.update({k: _plain(v) for k, v in record.fields.items()})
    return body


def _plain(value: Any) -> Any:
    if isinstance(value, RecordRef):
        return {
            k: v
            for k, v in (
                ("internalId", value.internal_id),
                ("externalId", value.external_id),
                ("type", value.type),
                ("name", value.name),
            )
            if v is not None
        }
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
