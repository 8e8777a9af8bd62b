"""Rendering: rich tables and progress for people, JSON for machines. Nothing below the CLI prints."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from zns_sync.engine import Counts, PassResult, Preview
from zns_sync.journal import Attempt, RunRow

COUNT_COLUMNS = ("selected", "created", "linked", "skipped", "blocked", "errors", "unknown")
# Where output is not a terminal (cron mail, a pipe, a log file) tables may be wider than rich's default 80.
PIPE_WIDTH = 132


def make_console(*, stderr: bool = False) -> Console:
    """A console for people: the terminal's width, or PIPE_WIDTH when writing to a file or pipe."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else PIPE_WIDTH)


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
    """Per type: selected, created, linked, skipped, blocked, errors, seconds, records per second."""
    table = Table(title=title)
    table.add_column("type")
    for name in COUNT_COLUMNS:
        table.add_column(name, justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("rec/s", justify="right")
    for name, counts in results.items():
        table.add_row(
            name,
            *(str(getattr(counts, column)) for column in COUNT_COLUMNS),
            f"{counts.seconds:.1f}",
            f"{counts.per_second:.1f}",
        )
    return table


def preview_table(previews: Iterable[Preview], *, title: str) -> Table:
    """A dry run's per-record plan: action, status, reason and the payload it would send."""
    table = Table(title=title, show_lines=False)
    for column in ("type", "source id", "action", "status", "why / payload"):
        table.add_column(column, overflow="fold")
    for item in previews:
        detail = item.reason or ""
        if item.payload is not None:
            detail = json.dumps(item.payload, ensure_ascii=False, default=str)
        table.add_row(item.type, item.source_id, item.action, item.status or "", detail)
    return table


def recover_table(results: Mapping[str, PassResult]) -> Table:
    """Records found in the destination (linked) and not found (the next run creates them)."""
    table = Table(title="Recovery")
    for column in ("type", "source id", "result", "counterpart id"):
        table.add_column(column)
    for name, result in results.items():
        for source_id, internal_id in result.recovered:
            table.add_row(name, source_id, "found: linked", internal_id)
        for source_id in result.not_found:
            table.add_row(name, source_id, "not found", "")
    return table


def status_table(report: Mapping[str, tuple[Counter[str], tuple[str, str] | None]]) -> Table:
    """Per type, the count of each Integration Status and the oldest in-flight record."""
    table = Table(title="Integration Status")
    for column in ("type", "status", "records"):
        table.add_column(column, justify="right" if column == "records" else "left")
    for name, (counts, oldest) in report.items():
        for status, count in sorted(counts.items()):
            table.add_row(name, status, str(count))
        if oldest is not None:
            table.add_row(name, f"oldest in flight: {oldest[0]} (updated {oldest[1]})", "")
    return table


def runs_table(runs: Iterable[RunRow]) -> Table:
    table = Table(title="Runs")
    for column in ("run", "command", "types", "started", "ended", "exit", "selected", "done", "problems"):
        table.add_column(column)
    for run in runs:
        totals: Counter[str] = Counter()
        for counts in run.counts.values():
            totals.update({k: v for k, v in counts.items() if isinstance(v, int)})
        problems = sum(totals[k] for k in ("skipped", "blocked", "errors", "unknown"))
        table.add_row(
            str(run.id), run.command + (" --dry-run" if run.dry_run else ""), run.types, run.started_at,
            run.ended_at or "(running or killed)", "" if run.exit_code is None else str(run.exit_code),
            str(totals["selected"]), str(totals["created"] + totals["linked"]), str(problems),
        )  # fmt: skip
    return table


def attempts_table(rows: Iterable[tuple[int, Attempt, str]], *, title: str) -> Table:
    table = Table(title=title)
    for column in (
        "run",
        "at",
        "type",
        "source id",
        "action",
        "outcome",
        "status before",
        "status after",
        "counterpart id",
        "message",
    ):
        table.add_column(column, overflow="fold")
    for run_id, a, at in rows:
        table.add_row(
            str(run_id),
            at,
            a.type,
            a.source_id,
            a.action,
            a.outcome,
            a.status_before or "",
            a.status_after or "",
            a.counterpart_id or "",
            a.message or "",
        )
    return table


def held_back_table(rows: Iterable[tuple[int, Attempt, str]]) -> Table:
    """What a run could not sync, one line per reason: the records a person must look at."""
    reasons: dict[tuple[str, str, str], list[str]] = {}
    for _, attempt, _ in rows:
        reasons.setdefault((attempt.type, attempt.outcome, attempt.message or ""), []).append(attempt.source_id)
    table = Table(title="Held back (zns-sync log --errors lists every record)")
    for column in ("type", "outcome", "records", "why (first record)"):
        table.add_column(column, overflow="fold")
    for (type_, outcome, message), ids in reasons.items():
        table.add_row(type_, outcome, str(len(ids)), f"{message} ({ids[0]})")
    return table


def print_json(data: Any) -> None:
    """JSON on stdout, alone (with --json everything else goes to stderr)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
