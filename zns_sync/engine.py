"""One pass of one flow: select, validate, claim, recover, write, complete, step by step (product.md section 2).

The reader (the calling thread) streams source pages and plans them a slice at a time; a pool of workers takes
each chunk of plans through recovery and then, step after step, the claim in the source and the write to the
destination, while the destination's `Window` keeps its configured number of requests on the wire; a completer
thread writes outcomes back to the source in its batch size. The design and why each guarantee holds:
docs/architecture.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any, Protocol, TypeVar

from zns_sync.config import Settings
from zns_sync.destinations import (
    EXISTS,
    REFUSED,
    UNKNOWN,
    WRITTEN,
    Destination,
    NetSuiteDestination,
    Window,
    ZuoraDestination,
)
from zns_sync.errors import UsageError
from zns_sync.flows import TYPES, flow_class
from zns_sync.flows.base import Excluded, Flow, FlowContext, Plan, Refusal, Unbound, Write
from zns_sync.flows.classifications import default_names
from zns_sync.journal import Attempt, Journal
from zns_sync.netsuite import NetSuiteClient
from zns_sync.ranked import ranked
from zns_sync.sources import (
    NetSuiteSource,
    Progress,
    Scope,
    Source,
    StatusWrite,
    ZuoraRestSource,
    ZuoraSource,
    with_counterpart_fields,
)
from zns_sync.status import COMPLETE, TTA, Action, Phase, Status, check_transition
from zns_sync.zuora import ZuoraClient

log = logging.getLogger(__name__)

# Flow.source and Flow.destination name one of these.
SYSTEM_NAMES = {"zuora": "Zuora", "zuora-rest": "Zuora", "netsuite": "NetSuite"}  # a source or destination, as named
SOURCES: dict[str, Callable[[Flow, FlowContext], Source]] = {
    "zuora": ZuoraSource,
    "zuora-rest": ZuoraRestSource,
    "netsuite": NetSuiteSource,
}
_T = TypeVar("_T")
_U = TypeVar("_U")
# Completions (write-backs) a pass keeps in flight at once, each a call of the source's batch size. Neither their
# order nor the claims' is kept (claims answered in any order send chunks to the destination in any order, and its
# ids differ from run to run): nothing may depend on it. (With 4 the crash test's outcome once differed from its
# clean run's: the demo data's NetSuite credit memo and payment exceeded a Zuora invoice's balance together, so
# whichever reached Zuora last failed; fixed in the demo, docs/benchmarks.md.)
STATUS_WRITERS = 4
# Claims a pass keeps in flight at once, each a call of the source's batch size: a chunk's claims go together, and
# never wait behind the completer's write-backs (a claim and a completion never concern the same record at once).
CLAIM_WRITERS = 4
# About the fewest records a chunk is cut to when a pass has few (`_chunks`): each request costs NetSuite a fixed time
# (about 200 ms in make bench's model, more in real accounts), which four requests of five items pay four times.
MIN_CHUNK = 25
# Slices a pass reads and looks up (`Flow.lookups`) ahead of the one it plans, at most: one, and more while the
# reader still waits for them (a memo's REST reads take longer than its planning; an invoice's queries do not).
READ_AHEAD = 4
# Chunks a pass keeps in progress beyond the destination's window: claimed and rendered while the window's requests
# are on the wire, ready when a slot frees. Each holds its plans, rendered records and request: memory, not speed.
SPARE = 2
# Records a pass holds at most while they wait for records of a type still on their way (`_Holds`): its reading
# waits beyond. Each holds its source row (an invoice's: about 1.5 KB), so that memory stays flat in N.
MAX_HELD = 4000
# How long a pass waits for more held records to be released once one is: a completion's batch releases those
# waiting for its records together, and they are looked up and planned together.
GATHER_SECONDS = 0.05
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # a first run with new_and_modified reads every synced record (4.1)
WATERMARK_MARGIN = dt.timedelta(minutes=10)  # the overlap of two runs' modified passes (Engine._modified)
VERBS = {Action.CREATING: "create", Action.UPDATING: "update", Action.LINKING: "link"}


@dataclass(frozen=True)
class Mode:
    """What a pass may do: select which records, write what, preview or not."""

    name: str
    scope: Scope
    dry: bool  # writes nothing anywhere
    recover_only: bool  # looks up and links what exists; creates nothing

    @property
    def writes(self) -> bool:
        """Claims and destination writes happen."""
        return not self.dry and not self.recover_only


RUN = Mode("run", Scope.OPEN, dry=False, recover_only=False)
DRY_RUN = Mode("dry-run", Scope.OPEN, dry=True, recover_only=False)
RECOVER = Mode("recover", Scope.RECOVERY, dry=False, recover_only=True)
RECOVER_DRY_RUN = Mode("recover-dry-run", Scope.RECOVERY, dry=True, recover_only=True)


@dataclass
class Counts:
    """What one pass did, per outcome."""

    selected: int = 0
    created: int = 0
    linked: int = 0
    updated: int = 0  # synced records modified since the last run, updated in the destination (new_and_modified)
    skipped: int = 0
    blocked: int = 0
    errors: int = 0
    unknown: int = 0
    excluded: int = 0
    seconds: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        """Both passes of one type (its new records, then its modified ones) as one."""
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def per_second(self) -> float:
        done = self.created + self.linked + self.updated
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
    number: str | None  # the document number (InvoiceNumber ...), where the type has one
    action: str  # create, update, link, recover, skip, blocked, excluded, not found
    status: str | None
    reason: str | None = None
    payload: dict[str, Any] | None = None


class Observer(Protocol):
    """Where the engine reports progress and previews; the CLI renders them."""

    def pass_started(self, flow_name: str) -> None: ...

    def advanced(self, flow_name: str, records: int) -> None: ...

    def preview(self, item: Preview) -> None: ...


class _Quiet:
    """Shows nothing; keeps the previews when given a list."""

    def __init__(self, previews: list[Preview] | None = None) -> None:
        self.previews = previews

    def pass_started(self, flow_name: str) -> None:
        pass

    def advanced(self, flow_name: str, records: int) -> None:
        pass

    def preview(self, item: Preview) -> None:
        if self.previews is not None:
            self.previews.append(item)


@dataclass(frozen=True)
class _Cursor:
    """A record on its way: the plan, the step it is at, and its status in the source now."""

    plan: Plan
    index: int
    status: Status
    before: Status  # the status before this step's claim, as the journal tells it
    done: tuple[str | None, ...] = ()  # the id each earlier step wrote or found (None: not known)
    wrote: bool = False  # an earlier step of this pass created a record (the record counts as created)

    @cached_property
    def write(self) -> Write:
        """This step's write, naming what the earlier steps wrote."""
        return self.plan.writes[self.index].bound(self.done)

    @property
    def last(self) -> bool:
        return self.index == len(self.plan.writes) - 1


@dataclass(frozen=True)
class _StepResult:
    kind: str  # written, refused, unknown
    counterpart_id: str | None = None
    found: bool = False  # it existed: linked through a lookup
    message: str | None = None


@dataclass
class _Done:
    """A record's final word for this pass, waiting to be written back to the source."""

    source_id: str
    number: str | None
    status_before: Status
    outcome: str  # created, linked, error, unknown
    action: str
    write: StatusWrite | None  # None: nothing to write (the status stays in flight)
    counterpart_id: str | None = None
    message: str | None = None


@dataclass
class PassResult:
    """One flow's pass: counts, and for `recover` the records found and not found."""

    counts: Counts = field(default_factory=Counts)
    recovered: list[tuple[str, str]] = field(default_factory=list)  # (source id, counterpart id)
    not_found: list[str] = field(default_factory=list)
    numbers: dict[str, str | None] = field(default_factory=dict)  # the document numbers of the two lists' records


class Engine:
    """Runs flows from their sources to their destinations, recording every attempt in the journal."""

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
        self.journal = journal
        self.observer = observer or _Quiet()
        self.window = window or Window(settings.netsuite.concurrency)
        self.context = FlowContext(settings, zuora, netsuite)
        self.zuora_destination = ZuoraDestination(zuora, Window(settings.zuora.concurrency))
        self.destinations: dict[str, Destination] = {
            "netsuite": NetSuiteDestination(netsuite, self.window, settings.netsuite.batch_size),
            "zuora": self.zuora_destination,
        }

    def close(self) -> None:
        """Stop the lookup and create threads."""
        self.context.close()
        self.zuora_destination.close()

    def flow(self, name: str) -> Flow:
        return flow_class(name, self.settings.sync.customer_master)(self.context)

    def source(self, flow: Flow) -> Source:
        return SOURCES[flow.source](flow, self.context)

    def run(self, types: Sequence[str], *, dry_run: bool = False, limit: int | None = None) -> dict[str, Counts]:
        """The passes of each type (`_passes`), in the documented order: a type's start once those of every type
        before it have ended, except that types whose records do not depend on each other run at the same time
        (`stages`), sharing the destinations' windows (each keeps a NetSuite slot until its first request there:
        `Window.reserve`), and that a type waits for the types it waits for record by
        record (`Flow.waits_for`) only until their first pass has selected every record (`_Running`). A dry run:
        one after the other, so that its previews come in order. The first pass's error is raised; the types after
        it do not start."""
        mode = DRY_RUN if dry_run else RUN
        flows = [self.flow(name) for name in ordered(types)]
        self._warm_names(flows)
        if dry_run:
            return {flow.name: self._passes(flow, mode, limit) for flow in flows}
        runs = {flow.name: _Running(any(_waits(other, flow) for other in flows)) for flow in flows}
        gates: dict[str, list[tuple[_Running, threading.Event]]] = {}
        waits: dict[str, dict[str, _Running]] = {}
        earlier: list[Flow] = []
        for stage in stages(flows):
            if len(stage) > 1:  # passes side by side: each keeps a NetSuite slot until its first request
                self.window.reserve(f.name for f in stage if f.destination == "netsuite")
            for flow in stage:
                gates[flow.name] = [
                    (runs[e.name], runs[e.name].selected if _waits(flow, e) else runs[e.name].ended) for e in earlier
                ]
                waits[flow.name] = {e.name: runs[e.name] for e in earlier if _waits(flow, e)}
            earlier += stage
        with ThreadPoolExecutor(max(1, len(flows)), thread_name_prefix="pass") as passes:
            futures = [
                passes.submit(self._gated, flow, mode, limit, runs[flow.name], gates[flow.name], waits[flow.name])
                for flow in flows
            ]
            wait(futures)
        return {flow.name: future.result() for flow, future in zip(flows, futures, strict=True)}

    def _gated(
        self,
        flow: Flow,
        mode: Mode,
        limit: int | None,
        running: _Running,
        gate: Sequence[tuple[_Running, threading.Event]],
        waits: Mapping[str, _Running],
    ) -> Counts:
        """A type's passes once its gate opens (`run`); none when a type before it failed."""
        try:
            for before, event in gate:
                event.wait()
                if before.failed:
                    raise _NotRun(flow.name)
            return self._passes(flow, mode, limit, running, waits)
        except BaseException:
            running.failed = True
            raise
        finally:
            self.window.served(flow.name)
            running.release()
            running.ended.set()

    def _warm_names(self, flows: Sequence[Flow]) -> None:
        """Start reading the NetSuite lists and default names the flows need, while their first pages are read."""
        lists = {listed for flow in flows for listed in flow.netsuite_lists}
        to_netsuite = any(flow.destination == "netsuite" for flow in flows)
        defaults = [(listed, name) for _, name, listed in default_names(self.settings)] if to_netsuite else []
        self.context.names.warm(lists, defaults)

    def _passes(
        self,
        flow: Flow,
        mode: Mode,
        limit: int | None,
        running: _Running | None = None,
        waits: Mapping[str, _Running] | None = None,
    ) -> Counts:
        """A type's pass, and for master data with sync.new_and_modified a second pass over its synced records
        modified since the last run. The first pass tells `running` what it selects and completes, and its records
        wait for those of `waits` (`run`)."""
        counts = _Pass(self, flow, mode, limit, running=running, waits=waits).execute().counts
        if flow.modified_field is not None:
            modified = self._modified(flow, mode, limit)
            if modified is not None:
                counts += modified
        return counts

    def watermark(self, flow: Flow, now: dt.datetime) -> dt.datetime:
        """Where the next pass over the process's modified records starts (`_modified`), at `now`."""
        since = self.journal.watermark(_process(flow))
        if since is not None:
            return since
        switched = self.journal.watermark_off(_process(flow)) or self.journal.ran_before(flow.name)
        return now if switched else EPOCH

    def _modified(self, flow: Flow, mode: Mode, limit: int | None) -> Counts | None:
        """The pass over a master-data process's synced records modified after its watermark (reference 4.1).

        The watermark is kept per process in the journal. First run: 1970. Switched on after runs without it: now
        (that run selects nothing; re-save a record to send it). Then the start of the last pass in which every
        selected record was updated or found unchanged, less WATERMARK_MARGIN, and never back before where it was
        (a switch-on's now holds). The margin: records a person saves during a pass, after the source read them,
        and clocks (ours and the source's) that differ by less than the margin are caught by the next run. The
        overlap costs nothing: a record whose counterpart already holds its values sends nothing (`Flow.changes`),
        which is also why our own write-backs (a status, a sync date), which make a record modified in its system,
        never loop. A pass with a record that failed, was refused, or whose outcome is unknown, a pass cut by
        --limit, a dry run or a crash keeps the watermark where it was: those records are selected again. None
        when the setting is off (recorded, so that switching it on later starts from now).
        """
        process = _process(flow)
        journal = self.journal
        started = dt.datetime.now(dt.UTC)
        if not self.settings.sync.new_and_modified.get(flow.name, False):
            if not mode.dry:
                journal.set_watermark(process, None)
            return None
        since = self.watermark(flow, started)
        if journal.watermark(process) is None and not mode.dry:
            journal.set_watermark(process, since)  # a first run's 1970, a switch-on's now: kept if this pass fails
        counts = _Pass(self, flow, mode, limit, pages=self.source(flow).modified(since)).execute().counts
        if not mode.dry and limit is None and not counts.failed:
            journal.set_watermark(process, max(since, started - WATERMARK_MARGIN))  # never back before a switch-on
        return counts

    def preview(self, name: str, rows: list[dict[str, Any]]) -> list[Preview]:
        """What a run would do with these source records, read already: a dry run over them alone."""
        previews: list[Preview] = []
        _Pass(self, self.flow(name), DRY_RUN, None, pages=[rows], observer=_Quiet(previews)).execute()
        return previews

    def find(self, name: str, key: str) -> dict[str, Any]:
        """The `name` record whose id or document number is `key`; else a UsageError that names its real type."""
        flow = self.flow(name)
        row = self.source(flow).find(key)
        if row is not None:
            return row
        for other in TYPES:
            found = self.source(self.flow(other)).find(key) if other != name else None
            if found is not None:
                number = self.flow(other).number_of(found)
                hint = f"zns-sync explain {other} {key}"
                raise UsageError(f"{key} is of type {other}{f' ({number})' if number else ''}, not {name}: {hint}")
        also = f" or {flow.number_field}" if flow.number_field else ""
        raise UsageError(f"{name}: no {flow.source_object} with Id{also} {key!r} in {SYSTEM_NAMES[flow.source]}")

    def recover(self, types: Sequence[str], *, dry_run: bool = False) -> dict[str, PassResult]:
        """For every record in an in-flight or Error status: look in the destination, link what exists."""
        mode = RECOVER_DRY_RUN if dry_run else RECOVER
        return {name: _Pass(self, self.flow(name), mode, None).execute() for name in ordered(types)}

    def status(self, types: Sequence[str]) -> dict[str, tuple[Counter[str], Progress | None]]:
        """Per type, how many source records are in each Integration Status, and the oldest in-flight one."""
        report: dict[str, tuple[Counter[str], Progress | None]] = {}
        for name in ordered(types):
            counts: Counter[str] = Counter()
            oldest: Progress | None = None
            for record in self.source(self.flow(name)).statuses():
                counts[record.status.text or "(blank)"] += 1
                if record.status.phase is Phase.IN_FLIGHT and (oldest is None or record.updated < oldest.updated):
                    oldest = record
            report[name] = (counts, oldest)
        return report


def _process(flow: Flow) -> str:
    """A process's name in the journal's watermarks: its source and type (customer runs one way or the other)."""
    return f"{flow.source}:{flow.name}"


def ordered(types: Sequence[str]) -> list[str]:
    """The named types in the documented sync order (the registry's)."""
    return [name for name in TYPES if name in types]


def _waits(flow: Flow, other: Flow) -> bool:
    """`flow`'s records wait for `other`'s one by one in a run (`Flow.waits_for`): only a type read from the same
    system, whose record ids are the ones `flow`'s dependencies name."""
    return other.name in flow.waits_for and other.source == flow.source


class _NotRun(Exception):
    """A type's passes did not start: a type before it failed (whose error the run raises first)."""


# The states of a record of another type a held record waits for (`_Running.state`).
ON_ITS_WAY, DONE, ABSENT = "on its way", "done", "absent"


class _Running:
    """A type's passes in a run, as the types after it see them (`Engine.run`): whether its first pass has selected
    every record and whether its passes have ended; and, `tracked` when a type waits for its records one by one
    (`Flow.waits_for`), which records its first pass planned and which of them have no final word yet."""

    def __init__(self, tracked: bool) -> None:
        self.tracked = tracked
        self.selected = threading.Event()
        self.ended = threading.Event()
        self.failed = False
        self._lock = threading.Lock()
        self._planned: set[str] = set()
        self._on_its_way: dict[str, list[Callable[[], None]]] = {}  # planned, no final word yet -> who waits for it

    def planned(self, source_ids: Iterable[str]) -> None:
        if self.tracked:
            with self._lock:
                for source_id in source_ids:
                    self._planned.add(source_id)
                    self._on_its_way.setdefault(source_id, [])

    def finished(self, source_ids: Iterable[str]) -> None:
        """These records' final word is written (in the source, where it is a status): those waiting go on."""
        if self.tracked:
            with self._lock:
                waiting = [call for i in source_ids for call in self._on_its_way.pop(i, [])]
            for call in waiting:
                call()

    def release(self) -> None:
        """The first pass has ended (or failed): nothing more is on its way."""
        self.selected.set()
        with self._lock:
            waiting = [call for calls in self._on_its_way.values() for call in calls]
            self._on_its_way.clear()
        for call in waiting:
            call()

    def state(self, source_id: str, then: Callable[[], None]) -> str:
        """ON_ITS_WAY (and `then` is called once it is done), DONE (it had its final word), or ABSENT (not selected
        by this run)."""
        with self._lock:
            if source_id in self._on_its_way:
                self._on_its_way[source_id].append(then)
                return ON_ITS_WAY
            return DONE if source_id in self._planned else ABSENT


class _Holds:
    """A pass's records blocked on records of a type still on their way in this run (`Flow.waits_for`): held
    until those are done, then planned again with fresh lookups; planned as they stand when those are not in this
    run, or once planned again."""

    def __init__(self, waits: Mapping[str, _Running]) -> None:
        self._waits = waits
        self._changed = threading.Condition()
        self._held: dict[str, list[Any]] = {}  # record id -> [row, what it still waits for]
        self._ready: list[dict[str, Any]] = []
        self._again: set[str] = set()  # held once already: planned as they stand unless still waiting
        self._handed = 0  # slices handed to the planner
        self._planned = 0  # of which it has planned (and held what it holds)
        self._closed = False
        self._outstanding: set[str] = set()  # held and not planned again since

    def __len__(self) -> int:
        with self._changed:
            return len(self._held) + len(self._ready)

    def hold(self, row: dict[str, Any], waits_on: Sequence[tuple[str, str]]) -> bool:
        """Whether the blocked record is held (else it is refused as it stands)."""
        source_id = str(row["Id"])
        again = source_id in self._again
        with self._changed:
            self._held[source_id] = [row, 1]  # 1: until every wait is registered
        states = []
        for kind, key in waits_on:
            if kind not in self._waits:
                continue
            with self._changed:
                self._held[source_id][1] += 1  # before it is registered: its record may be done at once
            states.append(self._waits[kind].state(key, lambda: self._arrived(source_id)))
            if states[-1] != ON_ITS_WAY:
                self._arrived(source_id)
        if ON_ITS_WAY not in states and (again or DONE not in states):
            with self._changed:
                del self._held[source_id]
            self._again.discard(source_id)
            return False
        self._again.add(source_id)
        with self._changed:
            self._outstanding.add(source_id)
        self._arrived(source_id)
        return True

    def _arrived(self, source_id: str) -> None:
        with self._changed:
            entry = self._held[source_id]
            entry[1] -= 1
            if not entry[1]:
                del self._held[source_id]
                self._ready.append(entry[0])
                self._changed.notify_all()

    @property
    def outstanding(self) -> int:
        """Records held and not planned since (held, released, or on their way to the planner)."""
        with self._changed:
            return len(self._outstanding)

    def slice_planned(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """The planner has planned these rows (and held again those it holds)."""
        with self._changed:
            self._planned += 1
            self._outstanding -= {str(row["Id"]) for row in rows} - self._held.keys()
            self._changed.notify_all()

    def released(self, *, wait: bool, gather: int) -> list[dict[str, Any]]:
        """The records whose waits are over, handed to the planner as a slice or more; with `wait`, at least one
        unless none is held once the planner has planned every slice handed to it, and once one is, those arriving
        within GATHER_SECONDS more, up to `gather` (a completion's records release theirs together)."""
        with self._changed:
            if wait:
                self._changed.wait_for(lambda: self._ready or self._closed or self._idle)
                deadline = time.monotonic() + GATHER_SECONDS
                while self._held and len(self._ready) < gather and (left := deadline - time.monotonic()) > 0:
                    self._changed.wait(left)
            ready, self._ready = ([], []) if self._closed else (self._ready, [])
            return ready

    @property
    def _idle(self) -> bool:
        """Nothing held, and nothing handed to the planner that it may still hold."""
        return not self._held and self._planned == self._handed

    def handed(self, slices: int) -> None:
        """Slices handed to the planner, which says when it has planned each (`slice_planned`)."""
        with self._changed:
            self._handed += slices

    def close(self) -> None:
        """The pass is over (or failed): nothing more is released."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()


def stages(flows: Sequence[Flow]) -> list[list[Flow]]:
    """Flows in run order, grouped into stages that run at the same time: a flow joins the stage before it when it
    depends on none of that stage's flows (`depends_on`; None: on every flow before it)."""
    grouped: list[list[Flow]] = []
    for flow in flows:
        stage = grouped[-1] if grouped else []
        independent = flow.depends_on is not None and not {f.name for f in stage} & set(flow.depends_on)
        if stage and independent:
            stage.append(flow)
        else:
            grouped.append([flow])
    return grouped


class _Pass:
    """One pass of one flow (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        flow: Flow,
        mode: Mode,
        limit: int | None,
        *,
        pages: Iterable[list[dict[str, Any]]] | None = None,  # records read already, else the source's
        observer: Observer | None = None,
        running: _Running | None = None,  # told what this pass plans and completes (`Engine.run`)
        waits: Mapping[str, _Running] | None = None,  # the types whose records this pass's wait for one by one
    ) -> None:
        self.engine = engine
        self.flow = flow
        self.mode = mode
        self.limit = limit
        self.observer = observer or engine.observer
        self.source = engine.source(flow)
        self.pages = pages
        self.destination = engine.destinations[flow.destination]
        self.result = PassResult()
        self.counts = self.result.counts
        self._counts_lock = threading.Lock()
        self._fatal: BaseException | None = None
        self._done: queue.Queue[_Done | None] = queue.Queue()
        self._writers = ThreadPoolExecutor(STATUS_WRITERS, thread_name_prefix=f"status-{flow.name}")
        self._claimers = ThreadPoolExecutor(CLAIM_WRITERS, thread_name_prefix=f"claim-{flow.name}")
        self._rows = 0  # source records planned so far
        self._plans = 0  # of which went on to be written (not refused, not excluded)
        self._groups: set[str] = set()  # groups with a plan in this round
        self._deferred: list[Plan] = []  # plans whose group already writes in this round
        self.running = running
        self._holds = _Holds(waits) if waits else None

    # -- the pass -------------------------------------------------------------------------------------
    def execute(self) -> PassResult:
        start = time.monotonic()
        self.observer.pass_started(self.flow.name)
        concurrency = self.destination.window.limit
        completer = threading.Thread(target=self._complete_loop, name=f"complete-{self.flow.name}", daemon=True)
        completer.start()
        # SPARE workers beyond the destination's slots: while the window holds `concurrency` requests on the wire,
        # the next chunks are claimed and rendered, ready when a slot frees.
        try:
            with ThreadPoolExecutor(concurrency + SPARE, thread_name_prefix=f"sync-{self.flow.name}") as pool:
                self._run_chunks(pool, self._chunks(self._admitted(self._planned_slices())), concurrency + SPARE)
                while self._deferred:  # the next plan of each group, once the last one's writes are done
                    waiting, self._deferred = self._deferred, []
                    self._groups.clear()
                    self._run_chunks(pool, self._chunks(self._admitted([waiting]), every=True), concurrency + SPARE)
        finally:
            self._done.put(None)
            completer.join()
            self._writers.shutdown()
            self._claimers.shutdown()
            if self.running is not None:
                self.running.release()
            if self._holds is not None:
                self._holds.close()
            self.counts.seconds = time.monotonic() - start
        self._raise_fatal()
        return self.result

    def _run_chunks(self, pool: ThreadPoolExecutor, chunks: Iterable[list[Plan]], backlog: int) -> None:
        """Process chunks on the pool, at most `backlog` queued (memory stays flat); return when all are done."""
        slots = threading.BoundedSemaphore(backlog)
        futures: list[Future[None]] = []
        for chunk in chunks:
            slots.acquire()
            self._raise_fatal()
            future = pool.submit(self._guard, self._process, chunk)
            future.add_done_callback(lambda _: slots.release())
            futures = [f for f in futures if not f.done()] + [future]
        wait(futures)

    def _raise_fatal(self) -> None:
        if self._fatal is not None:
            raise self._fatal

    def _guard(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # auth, transport, untrusted response, or a bug: abort the pass, re-raised
            self._fatal = self._fatal or exc

    def _slices(self) -> Iterator[list[dict[str, Any]]]:
        """Selected source rows, streamed page by page, in slices (`_slice`; at most --limit rows); then,
        with records held (`_Holds`), those released: between slices, and once the source is read until none is
        held (the reading waits while MAX_HELD are)."""
        size = self._slice
        holds = self._holds
        taken = 0
        for page in self.pages if self.pages is not None else self.source.pages(self.mode.scope):
            self._raise_fatal()
            if self.limit is not None:
                page = page[: max(0, self.limit - taken)]
                taken += len(page)
            for start in range(0, len(page), size):
                if holds is None:
                    yield page[start : start + size]
                    continue
                holds.handed(1)
                yield page[start : start + size]
                while ready := holds.released(wait=len(holds) >= MAX_HELD, gather=size):
                    yield from self._handed(holds, ready)
            if self.limit is not None and taken >= self.limit:
                break
        while holds is not None and (ready := holds.released(wait=True, gather=size)):
            yield from self._handed(holds, ready)

    @property
    def _slice(self) -> int:
        """Records looked up and planned together: a write's worth (`create_batch`), or half of it for a pass whose
        lookups read each record (`Flow.reads_each_record`). Such a pass's first wave is read at about the pace it is
        written, and a chunk goes once the slices holding its plans are looked up: with slices of 100, a payment pass
        at 2,000 invoices sent its four first requests at 0.99-1.71 s instead of 1.16-1.85 s (its lookups make twice
        the ZOQL queries, a few per slice, beside one REST call per record)."""
        return max(1, self.destination.create_batch // (2 if self.flow.reads_each_record else 1))

    def _handed(self, holds: _Holds, rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """Released records, in slices (`_slice`), handed to the planner (`_slices`)."""
        self._raise_fatal()
        slices = _batched(rows, self._slice)
        holds.handed(len(slices))
        yield from slices

    def _planned_slices(self) -> Iterator[list[Plan]]:
        """Validated plans a slice at a time, so destination work starts after one slice, not one page.

        A slice (`_slice`) is at most one `select_in` query's worth of ids, so planning by slice costs few extra source
        calls. The next slice is read and looked up (`Flow.lookups`) on a thread of its own while this one is planned.
        Refusals and exclusions are recorded on the way. Once every slice is planned, the pass has selected every
        record (its `running` says so).
        """
        waited = time.monotonic()
        for (_, rows), page in read_ahead(enumerate(self._slices()), self._looked_up, READ_AHEAD):
            yield from self._planned(rows, page, waited)
            waited = time.monotonic()
        if self.running is not None:
            self.running.selected.set()

    def _looked_up(self, numbered: tuple[int, list[dict[str, Any]]]) -> Any:
        """A slice's lookups, whose calls rank by the slice's place in the pass (`zns_sync.ranked`): the slices
        looked up at once finish in turn, not together."""
        number, rows = numbered
        with ranked(number):
            return self.flow.lookups(rows)

    def _planned(self, rows: list[dict[str, Any]], page: Any, waited: float) -> Iterator[list[Plan]]:
        """One slice's plans (`_planned_slices`), after its lookups, which the pass waited for since `waited`."""
        began = time.monotonic()
        by_id = {str(row["Id"]): row for row in rows} if self._holds is not None else {}
        plans: list[Plan] = []
        refusals: list[Attempt] = []
        held = 0
        for item in self.flow.plan_page(rows, page):
            if isinstance(item, Refusal) and self._held(item, by_id):
                held += 1
                continue
            if isinstance(item, Excluded):
                self._count("excluded")
                self._preview(item.source_id, item.number, "excluded", None, item.reason)
                continue
            self._count("selected")
            if isinstance(item, Refusal):
                self._count(item.outcome)
                action = "skip" if item.outcome == "skipped" else "blocked"
                before = item.status_before.text
                self._preview(item.source_id, item.number, action, before, item.reason)
                refusals.append(
                    Attempt(
                        self.flow.name, item.source_id, "validate", item.outcome, before, before, None, item.reason,
                        item.number,
                    )
                )  # fmt: skip
            else:
                plans.append(item)
        if self._holds is not None:
            self._holds.slice_planned(rows)
        self._rows += len(rows) - held
        self._plans += len(plans)
        if self.running is not None:
            self.running.planned(plan.source_id for plan in plans)
        if not self.mode.dry:
            self.engine.journal.record(refusals)
        self.observer.advanced(self.flow.name, len(refusals))
        log.debug(
            "%s: %d records read and looked up (waited %.2f s), planned in %.2f s%s",
            self.flow.name, len(rows), began - waited, time.monotonic() - began, f", {held} held" if held else "",
        )  # fmt: skip
        if plans:
            yield plans

    def _held(self, refusal: Refusal, rows: Mapping[str, dict[str, Any]]) -> bool:
        """The record is blocked on records of another type still on their way in this run: held (`_Holds`)."""
        holds = self._holds
        return bool(refusal.waits_on) and holds is not None and holds.hold(rows[refusal.source_id], refusal.waits_on)

    def _admitted(self, slices: Iterable[list[Plan]]) -> Iterator[list[Plan]]:
        """Plans whose group writes nothing else in this round; the others wait for the next round."""
        for plans in slices:
            admitted = []
            for plan in plans:
                if plan.group is None:
                    admitted.append(plan)
                elif plan.group in self._groups:
                    self._deferred.append(plan)
                else:
                    self._groups.add(plan.group)
                    admitted.append(plan)
            yield admitted

    def _chunks(self, slices: Iterable[list[Plan]], every: bool = False) -> Iterator[list[Plan]]:
        """Plans in chunks of an even size (refused records leave gaps that the next slice fills).

        Once the first slice is planned, the pass knows how many plans to expect: those given (`every`: the slices
        hold every plan, a deferred round), or else the records the source says it reads, refused in the share the
        slices planned so far were. They are cut into the fewest waves of `concurrency` requests of at most
        `create_batch` records, and each chunk takes an even share of the plans still expected over the chunks still
        to cut, so that the last wave ends together instead of leaving one request with a remnant while the other
        slots idle. A pass whose lookups read each record with a REST call (`Flow.reads_each_record`) is cut into
        two waves at least: its first wave's last request would otherwise go only once every record is read (a debit
        memo pass of 599 records at 10,000 invoices: 5.8 -> 5.2 s). A small pass is cut into fewer chunks, of about
        MIN_CHUNK records at least: a request's fixed cost would outweigh its records, and the slots it leaves serve
        the pass beside it.
        """
        batch, slots = self.destination.create_batch, self.destination.window.limit
        left: int | None = None  # chunks still to cut
        pending: list[Plan] = []
        for plans in slices:
            pending.extend(plans)
            while pending:
                expected = len(pending) if every else self._expected(len(pending))
                if expected is None:
                    if len(pending) < batch:
                        break
                    size = batch
                else:
                    if left is None or left * batch < expected:  # (re)counted in whole waves, a request a chunk
                        fewest = -(-expected // batch)
                        waves = max(-(-fewest // slots), 2 if self.flow.reads_each_record else 1)
                        left = max(fewest, min(slots * waves, round(expected / MIN_CHUNK)))
                    size = -(-expected // left)
                    if len(pending) < size:
                        break
                    left = max(1, left - 1)
                yield pending[:size]
                pending = pending[size:]
        if pending:
            yield pending

    def _expected(self, pending: int) -> int | None:
        """The plans not yet cut into chunks, as far as the source's count tells: `pending` and those still to plan."""
        expected = self.source.expected if self.pages is None else None
        if expected is None or not self._rows:
            return None
        if self.limit is not None:
            expected = min(expected, self.limit)
        # Refused in the same share; a record held for a parent on its way (`_Holds`) and not planned since counts as
        # planned: most are, while the first rows planned are those whose parents are not in this run.
        held = self._holds.outstanding if self._holds is not None else 0
        to_plan = max(0, expected - self._rows) * (self._plans + held) / (self._rows + held)
        return pending + round(to_plan)

    def _process(self, chunk: list[Plan]) -> None:
        """Recover, then take each record through its steps: claim, write (a worker's task)."""
        with self.destination.window.serving(self.flow.name):
            cursors = self._recover(chunk)
            while cursors:
                cursors = self._step(self._claim(cursors))

    # -- recover ---------------------------------------------------------------------------------------
    def _recover(self, plans: list[Plan]) -> list[_Cursor]:
        """Find in the destination what a previous attempt may have created; resume each record after it.

        A record in flight or in error (in a dry run, and with a destination that keeps no unique key, every record)
        is looked up by the keys of its steps from the one it resumes at (every create, and an update whose result
        shows: an account made Active): the furthest step found is done, and so is every step before it.
        """
        lookup_all = self.mode.dry or self.destination.lookup_before_create
        found = self._found([p for p in plans if lookup_all or p.status_before.needs_recovery])
        cursors: list[_Cursor] = []
        linked: list[tuple[_Cursor, str]] = []
        for plan in plans:
            before = plan.status_before
            cursor = _Cursor(plan, plan.start, before, before)
            if plan.source_id in found:
                index, ids = found[plan.source_id]
                if index == len(plan.writes) - 1:
                    linked.append((_Cursor(plan, index, before, before, tuple(ids[:index])), str(ids[index])))
                    continue
                cursor = _Cursor(plan, index + 1, before, before, tuple(ids[: index + 1]))
            if self.mode.recover_only:
                self._not_recovered(cursor)
            elif self.mode.dry:
                rest = plan.writes[cursor.index :]
                creates, silent = any(w.step.creates for w in rest), all(w.step.silent for w in rest)
                self._count("created" if creates else "updated" if silent else "linked")
                for step in range(cursor.index, len(plan.writes)):
                    self._preview_write(replace(cursor, index=step))
            else:
                cursors.append(cursor)
        self._link(linked)
        return cursors

    def _link(self, found: list[tuple[_Cursor, str]]) -> None:
        """Complete records found in the destination; a blank one (its status cleared by hand) is claimed first,
        since no record becomes complete without a claim."""
        counterparts = {cursor.plan.source_id: counterpart for cursor, counterpart in found}
        blank = [c for c, _ in found if c.status.phase is Phase.NEW and self.mode.writes]
        ready = [c for c, _ in found if c.status.phase is not Phase.NEW or not self.mode.writes]
        for cursor in [*ready, *(self._claim(blank) if blank else [])]:
            self._recovered(cursor, counterparts[cursor.plan.source_id])

    def _found(self, plans: list[Plan]) -> dict[str, tuple[int, list[str | None]]]:
        """Per record with any found: the furthest step found, and the id found for each step up to it.

        The steps are looked up one at a time, batched over the records, since a step's key may name what an earlier
        step wrote (a contact is found by its account); a key naming a step not found is not looked up.
        """
        ids: dict[str, list[str | None]] = {p.source_id: [None] * p.start for p in plans}
        furthest: dict[str, int] = {}
        for index in range(max((len(p.writes) for p in plans), default=0)):
            asked: list[tuple[Plan, Any]] = []
            for plan in plans:
                if not plan.start <= index < len(plan.writes):
                    continue
                write = plan.writes[index]
                try:
                    if write.ref is not None:
                        asked.append((plan, write.bound(ids[plan.source_id]).ref))
                        continue
                except Unbound:
                    pass
                ids[plan.source_id].append(None)
            answers = self.destination.find([ref for _, ref in asked]) if asked else []
            for (plan, _), counterpart in zip(asked, answers, strict=True):
                ids[plan.source_id].append(counterpart)
                if counterpart is not None:
                    furthest[plan.source_id] = index
        return {source_id: (index, ids[source_id]) for source_id, index in furthest.items()}

    def _recovered(self, cursor: _Cursor, counterpart: str) -> None:
        plan = cursor.plan
        if self.mode.recover_only:
            self.result.recovered.append((plan.source_id, counterpart))
            self.result.numbers[plan.source_id] = plan.number
        if self.mode.dry:
            self._count("linked")
            found = f"already in {self.destination.name} as {counterpart}"
            self._preview(plan.source_id, plan.number, "link", plan.status_before.text, found)
        else:
            self._finish(cursor, "linked", "recover", counterpart)

    def _not_recovered(self, cursor: _Cursor) -> None:
        plan = cursor.plan
        if cursor.write.step.action is Action.LINKING:
            reason = f"{self.destination.name} id known; the next run links it"
            self._preview(plan.source_id, plan.number, "link", plan.status_before.text, reason)
            return
        self.result.not_found.append(plan.source_id)
        self.result.numbers[plan.source_id] = plan.number
        reason = f"the next run resumes at '{cursor.write.step.in_flight.text}'"
        self._preview(plan.source_id, plan.number, "not found", plan.status_before.text, reason)

    # -- claim -----------------------------------------------------------------------------------------
    def _claim(self, cursors: list[_Cursor]) -> list[_Cursor]:
        """Write each record's in-flight status for its step (and TTA Processing) before the destination's write.

        A record whose status already names the step (the steps of one status, a claim of an earlier run) is not
        written again.
        """
        claimed = [c for c in cursors if c.status == c.write.step.in_flight or c.write.step.silent]
        writes = []
        for cursor in cursors:
            if cursor.status != cursor.write.step.in_flight and not cursor.write.step.silent:
                check_transition(cursor.status, cursor.write.step.in_flight)
                status = StatusWrite(cursor.plan.source_id, cursor.write.step.in_flight, self._tta(TTA.PROCESSING))
                writes.append((cursor, status))
        refused: list[Attempt] = []
        batches = _batched(writes, self.source.write_batch)
        answers = self._claimers.map(lambda batch: self.source.write([w for _, w in batch]), batches)
        for batch, saved_all in zip(batches, answers, strict=True):
            for (cursor, _), saved in zip(batch, saved_all, strict=True):
                if saved.success:
                    claimed.append(replace(cursor, status=cursor.write.step.in_flight))
                    continue
                self._count("errors")
                refused.append(
                    Attempt(
                        self.flow.name,
                        cursor.plan.source_id,
                        "claim",
                        "error",
                        cursor.before.text,
                        cursor.status.text,
                        None,
                        f"the source refused the claim: {saved.message}",
                        cursor.plan.number,
                    )
                )
        self.engine.journal.record(refused)
        if self.running is not None:
            self.running.finished(attempt.source_id for attempt in refused)
        return claimed

    # -- write -----------------------------------------------------------------------------------------
    def _step(self, cursors: list[_Cursor]) -> list[_Cursor]:
        """Write each claimed record's step; returns the records that go on to their next step."""
        creates = [c for c in cursors if c.write.step.creates]
        updates = [c for c in cursors if not c.write.step.creates]
        batches = [*_batched(creates, self.destination.create_batch), *_batched(updates, self.destination.update_batch)]
        following: list[_Cursor] = []
        for batch in batches:
            began = time.monotonic()
            results = self._write(batch, 1)
            log.debug("%s: %d records written in %.2f s", self.flow.name, len(batch), time.monotonic() - began)
            for cursor in batch:
                following.extend(self._after(cursor, results[cursor.plan.source_id]))
        return following

    def _after(self, cursor: _Cursor, result: _StepResult) -> list[_Cursor]:
        """What a step's result means for the record: its next step, or its final word."""
        verb = VERBS[cursor.write.step.action]
        if result.kind == REFUSED:
            self._fail(cursor, verb, result.message or "")
        elif result.kind == UNKNOWN:
            self._leave_in_flight(cursor, verb, result.message or "")
        elif not cursor.last:
            nxt_status = cursor.plan.writes[cursor.index + 1].step.in_flight
            done = (*cursor.done, result.counterpart_id)
            following = _Cursor(
                cursor.plan, cursor.index + 1, cursor.status, nxt_status, done, self._wrote(cursor, result)
            )
            nxt = nxt_status.text
            message = f"step {cursor.index + 1} of {len(cursor.plan.writes)} done; next: {nxt}"
            self.engine.journal.record(
                [
                    Attempt(
                        self.flow.name,
                        cursor.plan.source_id,
                        verb,
                        "linked" if result.found else "updated" if verb == "update" else "created",
                        cursor.before.text,
                        nxt,
                        result.counterpart_id,
                        message,
                        cursor.plan.number,
                    )
                ]
            )
            return [following]
        else:
            self._finish(cursor, "created" if self._wrote(cursor, result) else "linked", verb, result.counterpart_id)
        return []

    @staticmethod
    def _wrote(cursor: _Cursor, result: _StepResult) -> bool:
        """This step or an earlier one of this pass created a record (else everything was found: linked)."""
        return cursor.wrote or (cursor.write.step.creates and not result.found)

    def _write(self, batch: list[_Cursor], attempt: int) -> dict[str, _StepResult]:
        """Send one batch; a lost answer or a duplicate is looked up, and a create not found is sent once more."""
        creating = batch[0].write.step.creates
        records = [c.write.record for c in batch]
        outcomes = self.destination.create(records) if creating else self.destination.update(records)
        if outcomes is None and not creating:
            # An update carries absolute values: send it again once, else leave the claim for the next run.
            if attempt == 1:
                return self._write(batch, attempt + 1)
            lost = _StepResult(UNKNOWN, message=f"{self.destination.name}'s answer to the update was lost twice")
            return {c.plan.source_id: lost for c in batch}
        results: dict[str, _StepResult] = {}
        lookups: list[_Cursor] = []
        for index, cursor in enumerate(batch):
            outcome = outcomes[index] if outcomes is not None else None
            if outcome is None or outcome.kind == EXISTS:
                lookups.append(cursor)
            elif outcome.kind == WRITTEN:
                results[cursor.plan.source_id] = _StepResult(WRITTEN, outcome.counterpart_id)
            else:
                results[cursor.plan.source_id] = _StepResult(outcome.kind, message=outcome.message)
        if not lookups:
            return results
        retry: list[_Cursor] = []
        for cursor, counterpart in zip(lookups, self.destination.find([c.write.ref for c in lookups]), strict=True):
            if counterpart is not None:
                results[cursor.plan.source_id] = _StepResult(WRITTEN, counterpart, found=True)
            elif creating and attempt == 1:
                retry.append(cursor)  # not there: the lost create never committed, and its key guards a retry
            else:
                message = f"{self.destination.name}'s answer was lost and the record was not found"
                results[cursor.plan.source_id] = _StepResult(UNKNOWN, message=message)
        if retry:
            results.update(self._write(retry, attempt + 1))
        return results

    # -- complete --------------------------------------------------------------------------------------
    def _tta(self, value: TTA) -> TTA | None:
        return value if self.flow.transactional else None

    def _finish(self, cursor: _Cursor, outcome: str, action: str, counterpart: str | None) -> None:
        if cursor.write.step.silent:  # its status stays Sync Complete: nothing is written back (reference 1.3)
            plan = cursor.plan
            self._done.put(_Done(plan.source_id, plan.number, cursor.before, "updated", action, None, counterpart))
            return
        check_transition(cursor.status, COMPLETE)
        counterpart = cursor.plan.counterpart or counterpart
        extra = dict(self.flow.completion_fields)
        plan = cursor.plan
        write = StatusWrite(plan.source_id, COMPLETE, self._tta(TTA.YES), counterpart, extra, plan.also)
        self._done.put(_Done(plan.source_id, plan.number, cursor.before, outcome, action, write, counterpart))

    def _fail(self, cursor: _Cursor, action: str, message: str) -> None:
        if cursor.write.step.silent:  # the status stays Sync Complete; the watermark keeps the record selected
            plan = cursor.plan
            note = f"{message}; the status stays {cursor.status.text}, the next run sends the update again"
            self._done.put(_Done(plan.source_id, plan.number, cursor.before, "error", action, None, None, note))
            return
        after = cursor.write.step.failed
        check_transition(cursor.status, after)
        created = cursor.done[-1] if cursor.write.step.after_create and cursor.done else None
        write = StatusWrite(cursor.plan.source_id, after, self._tta(TTA.ERROR), created)
        plan = cursor.plan
        self._done.put(_Done(plan.source_id, plan.number, cursor.before, "error", action, write, created, message))

    def _leave_in_flight(self, cursor: _Cursor, action: str, message: str) -> None:
        if cursor.write.step.silent:
            note = f"{message}; the status stays {cursor.status.text}, the next run sends the update again"
        else:
            note = f"{message}; left '{cursor.status.text}' for recovery"
        plan = cursor.plan
        self._done.put(_Done(plan.source_id, plan.number, cursor.before, "unknown", action, None, None, note))

    def _complete_loop(self) -> None:
        """Write outcomes back to the source in its batch size, STATUS_WRITERS calls at once; runs until the pass
        ends and its last write-back is done."""
        batch: list[_Done] = []
        closing = False
        sent: list[Future[None]] = []
        while not closing:
            try:
                item = self._done.get(timeout=0.05 if batch else None)
            except queue.Empty:
                item = None if not batch else _FLUSH
            if item is None:
                closing = True
            elif item is not _FLUSH:
                batch.append(item)
                if len(batch) < self.source.write_batch:
                    continue
            if batch:
                sent = [f for f in sent if not f.done()]
                sent.append(self._writers.submit(self._guard, self._write_back, batch))
                batch = []
        wait(sent)

    def _write_back(self, batch: list[_Done]) -> None:
        writes = [d for d in batch if d.write is not None]
        statuses = [d.write for d in writes if d.write is not None]
        saved = self.source.write(with_counterpart_fields(self.flow, self.destination, statuses))
        refused = {d.source_id: r.message for d, r in zip(writes, saved, strict=True) if not r.success}
        attempts = []
        for done in batch:
            outcome, message = done.outcome, done.message
            after = done.write.status.text if done.write is not None else None
            if done.outcome == "updated":  # a modified record's update: its status stays as it was
                after = done.status_before.text
            if done.source_id in refused:
                outcome, after = "unknown", None
                message = (
                    f"{self.destination.name} id {done.counterpart_id}; "
                    f"the source refused the status write: {refused[done.source_id]}"
                )
            counted = {"created": "created", "linked": "linked", "updated": "updated", "error": "errors"}
            self._count(counted.get(outcome, "unknown"))
            attempts.append(
                Attempt(
                    self.flow.name,
                    done.source_id,
                    done.action,
                    outcome,
                    done.status_before.text,
                    after,
                    done.counterpart_id,
                    message,
                    done.number,
                )
            )
        self.engine.journal.record(attempts)
        if self.running is not None:
            self.running.finished(done.source_id for done in batch)
        self.observer.advanced(self.flow.name, len(batch))

    # -- bookkeeping -----------------------------------------------------------------------------------
    def _count(self, name: str) -> None:
        with self._counts_lock:
            setattr(self.counts, name, getattr(self.counts, name) + 1)

    def _preview_write(self, cursor: _Cursor) -> None:
        steps = len(cursor.plan.writes)
        write = cursor.plan.writes[cursor.index].bound(cursor.done, preview=True)
        reason = f"step {cursor.index + 1} of {steps}: {write.step.in_flight.text}" if steps > 1 else None
        payload = self.destination.preview(write.record)
        plan = cursor.plan
        self._preview(plan.source_id, plan.number, VERBS[write.step.action], cursor.status.text, reason, payload)

    def _preview(
        self,
        source_id: str,
        number: str | None,
        action: str,
        status: str | None,
        reason: str | None,
        body: dict[str, Any] | None = None,
    ) -> None:
        if self.mode is not RUN:
            self.observer.preview(Preview(self.flow.name, source_id, number, action, status, reason, body))


_FLUSH = _Done("", None, Status(Phase.NEW), "", "", None)


def read_ahead(items: Iterator[_T], fn: Callable[[_T], _U], depth: int) -> Iterator[tuple[_T, _U]]:
    """`(item, fn(item))` in the items' order, while the caller works: the items are read one after another on a
    thread of their own, and `fn` runs ahead of the caller for two items from the start (the second is read and
    looked up while the first is: a pass's first wave of writes waits for both), or for more, up to `depth` at
    once, while the caller still finds the next one not ready (no more: they would take the source's calls and the
    CPU the first ones need)."""
    end = object()

    def ready(read: Future[Any]) -> tuple[_T, _U] | object:
        item = read.result()
        return end if item is end else (item, fn(item))

    with (
        ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as reader,
        ThreadPoolExecutor(depth, thread_name_prefix="look-ahead") as looker,
    ):
        ahead, first = min(2, depth), True
        pending: deque[Future[Any]] = deque()

        def top_up() -> None:
            while len(pending) < ahead:
                pending.append(looker.submit(ready, reader.submit(next, items, end)))

        try:
            top_up()
            while True:
                head = pending.popleft()
                if not head.done() and not first:
                    ahead = min(depth, ahead + 1)  # the caller waits: look further ahead
                if (done := head.result()) is end:
                    return
                first = False
                top_up()
                yield done
        finally:  # the caller stopped (the end, --limit, an error): nothing more is read
            reader.shutdown(cancel_futures=True)
            looker.shutdown(cancel_futures=True)


def _batched(items: list[_T], size: int) -> list[list[_T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
