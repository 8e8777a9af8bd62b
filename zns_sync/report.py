"""Rendering: rich tables and progress for people, JSON for machines. Nothing below the CLI prints.

Output a person can search: every row about a record names its id and its document number, each in a column of
its own that never wraps; written to a pipe or a file, a table is as wide as those columns need (only messages
wrap), so `grep INV00000036` finds the whole row.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Column, Table
from rich.text import Text

from zns_sync.engine import Counts, PassResult, Preview
from zns_sync.explain import Explanation
from zns_sync.journal import Attempt, RunRow
from zns_sync.reconcile import Reconciliation, Totals
from zns_sync.sources import Progress as RecordProgress

COUNT_COLUMNS = ("selected", "created", "linked", "updated", "skipped", "blocked", "errors", "unknown")
# Where output is not a terminal (cron mail, a pipe, a log file) tables may be wider than rich's default 80.
PIPE_WIDTH = 132
# Column kinds: a key (an id, a number, a name: one word, never wrapped), a count (right-aligned), free text.
KEY, COUNT, TEXT = "key", "count", "text"
TEXT_WIDTH = 30  # text wraps at no fewer characters than this on a pipe (fewer when it is shorter)


def make_console(*, stderr: bool = False) -> Console:
    """A console for people: the terminal's width, or PIPE_WIDTH when writing to a file or pipe."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else PIPE_WIDTH)


def show(console: Console, table: Table) -> None:
    """Print a table; to a pipe or a file, with every key whole and only text wrapping, between words."""
    if console.is_terminal:
        console.print(table)
        return
    width = console.width
    console.width = max(width, _fit(table, width))
    try:
        console.print(table)
    finally:
        console.width = width


def _fit(table: Table, target: int) -> int:
    """Fix each column's width: a key column as wide as its longest value, text columns at least as wide as
    their longest word and sharing what is left of `target`; returns the table's width."""
    overhead = 3 * len(table.columns) + 1  # rich's default box and padding: a rule and a space either side
    fixed = 0
    text_columns: list[tuple[Column, int, int]] = []  # (column, its longest word, its longest line)
    for column in table.columns:
        lines = [line for cell in column.cells if isinstance(cell, Text) for line in cell.plain.splitlines()]
        words = [*str(column.header).split(), *(word for line in lines for word in line.split())]
        longest_word = max(map(len, words), default=1)
        if column.no_wrap:
            column.width = max([len(str(column.header)), *map(len, lines)])
            fixed += column.width
        else:
            longest_line = max([longest_word, *map(len, lines)])
            text_columns.append((column, max(longest_word, min(longest_line, TEXT_WIDTH)), longest_line))
    widths = [least for _, least, _ in text_columns]
    spare = target - overhead - fixed - sum(widths)
    while spare > 0 and any(w < most for w, (_, _, most) in zip(widths, text_columns, strict=True)):
        for index, (_, _, most) in enumerate(text_columns):
            if spare > 0 and widths[index] < most:
                widths[index] += 1
                spare -= 1
    for (column, _, _), column_width in zip(text_columns, widths, strict=True):
        column.width = column_width
    return overhead + fixed + sum(widths)


def show_text(console: Console, text: str) -> None:
    """Print text as it is: no markup, no highlighting, no wrapping (payloads, names with brackets)."""
    console.print(Text(text), soft_wrap=True)


def _table(title: str, columns: Sequence[tuple[str, str]]) -> Table:
    table = Table(title=title)
    for name, kind in columns:
        if kind == KEY:
            table.add_column(name, no_wrap=True)
        elif kind == COUNT:
            table.add_column(name, justify="right", no_wrap=True)
        else:
            table.add_column(name, overflow="fold")
    return table


def _row(table: Table, *cells: object) -> None:
    """Add a row of plain text: data is never read as rich markup (a name like `[EU] Acme` stays whole)."""
    table.add_row(*(Text("" if cell is None else str(cell)) for cell in cells))


class ProgressObserver:
    """Shows a live line per record type on a terminal; silent elsewhere (cron, pipes)."""

    def __init__(self, console: Console, *, enabled: bool, previews: list[Preview] | None = None) -> None:
        self.previews = previews
        self._progress: Progress | None = None
        self._tasks: dict[str, Any] = {}
        if enabled and console.is_terminal:
            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=None),
                TextColumn("{task.completed} records"), TimeElapsedColumn(), console=console, transient=True,
            )  # fmt: skip

    def __enter__(self) -> ProgressObserver:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def pass_started(self, flow_name: str) -> None:
        if self._progress is not None:
            self._tasks[flow_name] = self._progress.add_task(flow_name, total=None)

    def advanced(self, flow_name: str, records: int) -> None:
        if self._progress is not None and flow_name in self._tasks:
            self._progress.advance(self._tasks[flow_name], records)

    def preview(self, item: Preview) -> None:
        if self.previews is not None:
            self.previews.append(item)


def summary_table(results: Mapping[str, Counts], *, title: str) -> Table:
    """Per type: selected, created, linked, updated, skipped, blocked, errors, unknown, seconds, records per second."""
    table = _table(title, [("type", KEY), *((c, COUNT) for c in COUNT_COLUMNS), ("seconds", COUNT), ("rec/s", COUNT)])
    for name, counts in results.items():
        cells = (getattr(counts, column) for column in COUNT_COLUMNS)
        _row(table, name, *cells, f"{counts.seconds:.1f}", f"{counts.per_second:.1f}")
    return table


def preview_table(previews: Iterable[Preview], *, title: str) -> Table:
    """A dry run's per-record plan, one line a step: type, id, number, action, status and why."""
    table = _table(title, [("type", KEY), ("id", KEY), ("number", KEY), ("action", KEY), ("status", TEXT),
                           ("why", TEXT)])  # fmt: skip
    for item in previews:
        _row(table, item.type, item.source_id, item.number, item.action, item.status, item.reason)
    return table


def payloads_text(previews: Iterable[Preview]) -> Iterable[str]:
    """Each payload a dry run would send, headed by its record's line, as indented JSON."""
    for item in previews:
        if item.payload is not None:
            head = " ".join(v for v in (item.type, item.source_id, item.number, item.action) if v)
            yield f"{head}:\n{json.dumps(item.payload, indent=2, ensure_ascii=False, default=str)}"


def recover_table(results: Mapping[str, PassResult]) -> Table:
    """Records found in the destination (linked) and not found (the next run creates them)."""
    table = _table("Recovery", [("type", KEY), ("id", KEY), ("number", KEY), ("result", TEXT),
                                ("counterpart id", KEY)])  # fmt: skip
    for name, result in results.items():
        for source_id, internal_id in result.recovered:
            _row(table, name, source_id, result.numbers.get(source_id), "found: linked", internal_id)
        for source_id in result.not_found:
            _row(table, name, source_id, result.numbers.get(source_id), "not found", "")
    return table


def status_table(report: Mapping[str, tuple[Counter[str], RecordProgress | None]]) -> Table:
    """Per type, the count of each Integration Status; beside its status, the oldest in-flight record, if any."""
    in_flight = any(oldest is not None for _, oldest in report.values())
    oldest_columns = [("oldest in flight", KEY), ("number", KEY), ("updated", KEY)] if in_flight else []
    table = _table("Integration Status", [("type", KEY), ("status", TEXT), ("records", COUNT), *oldest_columns])
    for name, (counts, oldest) in report.items():
        for status, count in sorted(counts.items()):
            if oldest is not None and status == oldest.status.text:
                _row(table, name, status, count, oldest.source_id, oldest.number, oldest.updated)
            else:
                _row(table, name, status, count, *([""] * len(oldest_columns)))
    return table


def runs_table(runs: Iterable[RunRow]) -> Table:
    table = _table("Runs", [("run", KEY), ("command", TEXT), ("types", TEXT), ("user", KEY), ("started", KEY),
                            ("ended", TEXT), ("exit", COUNT), ("selected", COUNT), ("done", COUNT),
                            ("problems", COUNT)])  # fmt: skip
    for run in runs:
        totals: Counter[str] = Counter()
        for counts in run.counts.values():
            totals.update({k: v for k, v in counts.items() if isinstance(v, int)})
        problems = sum(totals[k] for k in ("skipped", "blocked", "errors", "unknown"))
        _row(
            table, run.id, run.command + (" --dry-run" if run.dry_run else ""), run.types.replace(",", ", "), run.user,
            run.started_at,
            run.ended_at or "(running or killed)", "" if run.exit_code is None else run.exit_code,
            totals["selected"], totals["created"] + totals["linked"] + totals["updated"], problems,
        )  # fmt: skip
    return table


# The columns of what a pass or a procedure did with one record.
ATTEMPT_COLUMNS = (
    ("type", KEY), ("id", KEY), ("number", KEY), ("action", KEY), ("outcome", KEY), ("status before", TEXT),
    ("status after", TEXT), ("counterpart id", KEY), ("message", TEXT),
)  # fmt: skip


def _attempt_cells(a: Attempt) -> tuple[object, ...]:
    return (a.type, a.source_id, a.number, a.action, a.outcome, a.status_before, a.status_after, a.counterpart_id,
            a.message)  # fmt: skip


def attempts_table(rows: Iterable[tuple[int, Attempt, str]], *, title: str) -> Table:
    """Per-record attempts: when, what, the outcome, the status before and after, and the destination's word."""
    table = _table(title, [("run", KEY), ("at", KEY), *ATTEMPT_COLUMNS])
    for run_id, attempt, at in rows:
        _row(table, run_id, at, *_attempt_cells(attempt))
    return table


def outcomes_table(attempts: Iterable[Attempt], *, title: str) -> Table:
    """What a manual procedure did (or would do) with each record."""
    table = _table(title, ATTEMPT_COLUMNS)
    for attempt in attempts:
        _row(table, *_attempt_cells(attempt))
    return table


def held_back_table(rows: Iterable[tuple[int, Attempt, str]]) -> Table:
    """What a run could not sync, one line per reason: the records a person must look at."""
    reasons: dict[tuple[str, str, str], list[Attempt]] = {}
    for _, attempt, _ in rows:
        reasons.setdefault((attempt.type, attempt.outcome, attempt.message or ""), []).append(attempt)
    table = _table("Held back (zns-sync log --errors lists every record)", [
        ("type", KEY), ("outcome", KEY), ("records", COUNT), ("why", TEXT), ("first record", KEY), ("number", KEY),
    ])  # fmt: skip
    for (type_, outcome, message), attempts in reasons.items():
        _row(table, type_, outcome, len(attempts), message, attempts[0].source_id, attempts[0].number)
    return table


def show_explanation(console: Console, explanation: Explanation) -> None:
    """`explain`: where the record stands, its rules, its dependencies, the next run's word, its history."""
    e = explanation
    show_text(console, " ".join(v for v in (e.type, e.source_id, e.number) if v))
    show_text(console, f"Integration Status: {e.status or 'blank'}; counterpart id: {e.counterpart_id or 'none'}")
    rules = _table("Selection rules", [("met", KEY), ("rule", TEXT), ("the record has", TEXT)])
    for rule in e.rules:
        _row(rules, "yes" if rule.met else "NO", rule.rule, rule.seen)
    show(console, rules)
    if e.dependencies:
        needed = _table("Dependencies", [("synced", KEY), ("type", KEY), ("id", KEY), ("number", KEY),
                                         ("status", TEXT), ("counterpart id", KEY), ("what", TEXT)])  # fmt: skip
        for d in e.dependencies:
            _row(needed, "yes" if d.synced else "NO", d.type, d.source_id, d.number, d.status.text or "blank",
                 d.counterpart_id, d.kind)  # fmt: skip
        show(console, needed)
        for d in e.dependencies:
            if not d.synced and d.type:
                show_text(console, f"Why {d.name} is not synced: zns-sync explain {d.type} {d.source_id}")
    show_text(console, f"The next run: {e.verdict}")
    if e.next_run:
        show(console, preview_table(e.next_run, title="The next run, as a dry run sees it"))
        for text in payloads_text(e.next_run):
            show_text(console, text)
    if e.history:
        show(console, attempts_table(e.history, title="History in the sync log"))
    else:
        show_text(console, "History: no attempt in the sync log.")


TOTALS_COLUMNS = ("source", "source_amount", "synced", "synced_amount", "destination", "destination_amount")
FINDING_COLUMNS = ("source_id", "number", "counterpart_id", "detail")


def _totals_cells(totals: Totals) -> list[object]:
    """The totals in TOTALS_COLUMNS order; no amounts (None) for master data."""
    return [getattr(totals, c) if totals.amounts or not c.endswith("amount") else None for c in TOTALS_COLUMNS]


def reconciliation_data(result: Reconciliation) -> dict[str, Any]:
    """`reconcile --json`: totals per type and month, and the findings."""
    return {
        "off": result.off,
        "totals": [
            {"type": name, "month": month, **dict(zip(TOTALS_COLUMNS, _totals_cells(t), strict=True))}
            for (name, month), t in result.totals.items()
        ],
        "findings": [asdict(f) for f in result.findings],
        "skipped": dict(result.skipped),
    }


def write_reconciliation_csv(path: Path, result: Reconciliation) -> None:
    """`reconcile --csv`: one row per type and month (`totals`), then one per finding, in one sheet."""
    blank_totals = [""] * len(TOTALS_COLUMNS)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("type", "month", "kind", *TOTALS_COLUMNS, *FINDING_COLUMNS))
        for (name, month), totals in result.totals.items():
            writer.writerow((name, month, "totals", *_totals_cells(totals), *([""] * len(FINDING_COLUMNS))))
        for f in result.findings:
            writer.writerow((f.type, "", f.kind, *blank_totals, *(getattr(f, c) for c in FINDING_COLUMNS)))


def show_reconciliation(console: Console, result: Reconciliation) -> None:
    """`reconcile`: the totals of both sides, then every record that is off."""
    table = _table("Reconciliation: source and destination, per type and month", [
        ("type", KEY), ("month", KEY), ("source", COUNT), ("source amount", COUNT), ("synced", COUNT),
        ("synced amount", COUNT), ("destination", COUNT), ("destination amount", COUNT), ("difference", COUNT),
    ])  # fmt: skip
    for (name, month), s in result.totals.items():
        difference = f"{s.synced - s.destination:+d}" + (
            f" / {s.synced_amount - s.destination_amount:+}" if s.amounts else ""
        )
        _row(table, name, month or "all", *_totals_cells(s), difference)
    show(console, table)
    for name, why in result.skipped.items():
        show_text(console, f"{name}: {why}")
    if not result.findings:
        show_text(
            console, "Nothing is off: every synced record has its counterpart, with the same amount and customer."
        )
        return
    findings = _table("Off", [("type", KEY), ("kind", KEY), ("id", KEY), ("number", KEY), ("counterpart id", KEY),
                              ("detail", TEXT)])  # fmt: skip
    for f in result.findings:
        _row(findings, f.type, f.kind, f.source_id, f.number, f.counterpart_id, f.detail)
    show(console, findings)
    show_text(console, f"{len(result.findings)} records are off.")


def print_json(data: Any) -> None:
    """JSON on stdout, alone (with --json everything else goes to stderr)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
