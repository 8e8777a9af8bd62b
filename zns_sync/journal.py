"""The sync log: a SQLite database in state_dir, and on request a JSON-lines stream for log collectors."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from zns_sync.errors import ConfigError
from zns_sync.redact import redact

SCHEMA = """
create table if not exists runs (
    id integer primary key autoincrement,
    command text not null,
    types text not null,
    dry_run integer not null,
    started_at text not null,
    ended_at text,
    exit_code integer,
    counts text,
    host text not null,
    pid integer not null,
    user text
);
create table if not exists attempts (
    id integer primary key autoincrement,
    run_id integer not null references runs(id),
    at text not null,
    type text not null,
    source_id text not null,
    action text not null,
    outcome text not null,
    status_before text,
    status_after text,
    counterpart_id text,
    message text,
    number text
);
create table if not exists watermarks (
    process text primary key,
    since text,
    updated_at text not null
);
create index if not exists attempts_by_source on attempts(type, source_id);
create index if not exists attempts_by_run on attempts(run_id);
"""
# Indexes on columns an earlier version lacked: created once `_migrate` has added them.
INDEXES = "create index if not exists attempts_by_number on attempts(number);"


LOG_FILE = "sync-log.sqlite"


def make_state_dir(state_dir: Path) -> None:
    """Create state_dir for its owner only (0700): the sync log in it holds customer names and messages."""
    if not state_dir.is_dir():
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        state_dir.chmod(0o700)  # mkdir's mode is narrowed by the umask, never widened: say it outright


def current_user() -> str:
    """Who runs this process, for the sync log (a uid where the system has no name for it)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def utc_now() -> str:
    """Now in UTC, ISO 8601 with seconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Attempt:
    """What one pass did with one source record."""

    type: str
    source_id: str
    action: str  # create, link, update, recover, skip, block
    outcome: str  # created, linked, skipped, blocked, error, unknown, would-create, ...
    status_before: str | None = None
    status_after: str | None = None
    counterpart_id: str | None = None  # the record's id in the destination
    message: str | None = None
    number: str | None = None  # the record's document number (InvoiceNumber ...), where its type has one


@dataclass(frozen=True)
class RunRow:
    """One run as stored."""

    id: int
    command: str
    types: str
    dry_run: bool
    started_at: str
    ended_at: str | None
    exit_code: int | None
    counts: dict[str, Any]
    host: str
    pid: int
    user: str | None  # who ran it (the `ignore` and `resync` of a person are runs too)


class Journal:
    """The sync log. Thread-safe: the engine records attempts from its reader and completer threads."""

    def __init__(self, state_dir: Path, jsonl: IO[str] | None = None) -> None:
        try:
            make_state_dir(state_dir)
            path = state_dir / LOG_FILE
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            path.chmod(0o600)  # also a log an earlier version left readable by others; SQLite's -wal follows it
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
            self._db.execute("pragma journal_mode=wal")
            self._db.executescript(SCHEMA)
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"state_dir: cannot open the sync log in {state_dir}: {exc}") from None
        self._lock = threading.Lock()
        self._jsonl = jsonl
        self.run_id: int | None = None

    def _migrate(self) -> None:
        """Bring a sync log written by an earlier version up to this schema."""
        columns = {row[1] for row in self._db.execute("pragma table_info(attempts)")}
        run_columns = {row[1] for row in self._db.execute("pragma table_info(runs)")}
        with self._db:
            if "netsuite_id" in columns:  # 0.1 named the column for its only destination
                self._db.execute("alter table attempts rename column netsuite_id to counterpart_id")
            if "number" not in columns:
                self._db.execute("alter table attempts add column number text")
            if "user" not in run_columns:
                self._db.execute("alter table runs add column user text")
        self._db.executescript(INDEXES)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_run(self, command: str, types: Sequence[str], dry_run: bool) -> int:
        """Open a run row and make it the one attempts are recorded under."""
        with self._lock, self._db:
            cursor = self._db.execute(
                "insert into runs(command, types, dry_run, started_at, host, pid, user) values (?,?,?,?,?,?,?)",
                (command, ",".join(types), int(dry_run), utc_now(), socket.gethostname(), os.getpid(), current_user()),
            )
        self.run_id = int(cursor.lastrowid or 0)
        self._emit({"event": "run-start", "run": self.run_id, "command": command, "types": list(types)})
        return self.run_id

    def end_run(self, exit_code: int, counts: dict[str, Any]) -> None:
        """Close the current run with its exit code and per-type counts."""
        with self._lock, self._db:
            self._db.execute(
                "update runs set ended_at=?, exit_code=?, counts=? where id=?",
                (utc_now(), exit_code, json.dumps(counts), self.run_id),
            )
        self._emit({"event": "run-end", "run": self.run_id, "exit_code": exit_code, "counts": counts})

    def record(self, attempts: Sequence[Attempt]) -> None:
        """Store a batch of attempts in one transaction."""
        if not attempts:
            return
        now = utc_now()
        rows = [
            (
                self.run_id,
                now,
                a.type,
                a.source_id,
                a.action,
                a.outcome,
                a.status_before,
                a.status_after,
                a.counterpart_id,
                redact(a.message) if a.message else None,
                a.number,
            )
            for a in attempts
        ]
        with self._lock, self._db:
            self._db.executemany(
                "insert into attempts(run_id, at, type, source_id, action, outcome, status_before, status_after,"
                " counterpart_id, message, number) values (?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
        for a in attempts:
            self._emit({"event": "attempt", "run": self.run_id, "at": now, **asdict(a)})

    # -- the watermarks of sync.new_and_modified (engine.Engine._modified) -----------------------------------------
    def watermark(self, process: str) -> dt.datetime | None:
        """Where a process's next pass over modified records starts, if it has one (`source:type`)."""
        with self._lock:
            row = self._db.execute("select since from watermarks where process = ?", (process,)).fetchone()
        return dt.datetime.fromisoformat(row[0]) if row and row[0] else None

    def watermark_off(self, process: str) -> bool:
        """Whether the process last ran with new_and_modified off (a row without a watermark)."""
        with self._lock:
            row = self._db.execute("select since from watermarks where process = ?", (process,)).fetchone()
        return row is not None and row[0] is None

    def set_watermark(self, process: str, since: dt.datetime | None) -> None:
        """Store a process's watermark; None records that it ran with new_and_modified off."""
        value = since.astimezone(dt.UTC).isoformat() if since is not None else None
        with self._lock, self._db:
            self._db.execute(
                "insert into watermarks(process, since, updated_at) values (?,?,?)"
                " on conflict(process) do update set since = excluded.since, updated_at = excluded.updated_at",
                (process, value, utc_now()),
            )

    def ran_before(self, type_: str) -> bool:
        """Whether a run before the current one synced this type (not a dry run)."""
        with self._lock:
            row = self._db.execute(
                "select 1 from runs where command in ('run', 'demo') and dry_run = 0 and id != ?"
                " and (',' || types || ',') like ? limit 1",
                (self.run_id or -1, f"%,{type_},%"),
            ).fetchone()
        return row is not None

    def runs(self, limit: int = 20) -> list[RunRow]:
        """The most recent runs, newest first."""
        with self._lock:
            rows = self._db.execute(
                "select id, command, types, dry_run, started_at, ended_at, exit_code, counts, host, pid, user"
                " from runs order by id desc limit ?",
                (limit,),
            ).fetchall()
        return [
            RunRow(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6], json.loads(r[7]) if r[7] else {}, r[8], r[9], r[10])
            for r in rows
        ]

    def attempts(
        self,
        *,
        run_id: int | None = None,
        errors_only: bool = False,
        type_: str | None = None,
        source_id: str | None = None,
        record: str | None = None,
    ) -> Iterator[tuple[int, Attempt, str]]:
        """Stored attempts (run id, attempt, time), oldest first, filtered; `record` is an id or a number."""
        clauses: list[str] = []
        params: list[object] = []
        if run_id is not None:
            clauses.append("run_id = ?")
            params.append(run_id)
        if errors_only:
            clauses.append("outcome in ('error', 'unknown', 'blocked', 'skipped')")
        if type_ is not None:
            clauses.append("type = ?")
            params.append(type_)
        if source_id is not None:
            clauses.append("source_id = ?")
            params.append(source_id)
        if record is not None:
            clauses.append("(source_id = ? or number = ?)")
            params.extend((record, record))
        where = f" where {' and '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._db.execute(
                "select run_id, type, source_id, action, outcome, status_before, status_after, counterpart_id,"
                f" message, number, at from attempts{where} order by id",
                params,
            ).fetchall()
        for r in rows:
            yield r[0], Attempt(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]), r[10]

    def _emit(self, event: dict[str, Any]) -> None:
        if self._jsonl is not None:
            with self._lock:
                self._jsonl.write(json.dumps(event, default=str) + "\n")
                self._jsonl.flush()
