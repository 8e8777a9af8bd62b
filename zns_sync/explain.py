"""`explain TYPE ID`: why one record is or is not selected, rule by rule, what the next run would do with it, and
its history from the sync log (product.md 4, 8: a record held back keeps its status; the log and explain tell why).

Every answer comes from the code a run uses: the source's selection rules, the flow's lookups, exclusion,
dependencies and validation, and the engine's own dry run for this one record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from zns_sync.engine import Engine, Preview
from zns_sync.flows.base import Dependency
from zns_sync.journal import Attempt
from zns_sync.sources import Rule


@dataclass(frozen=True)
class Explanation:
    """One record: where it stands, the rules, its dependencies, the next run's word on it, its history."""

    type: str
    source_id: str
    number: str | None
    status: str | None
    counterpart_id: str | None
    selected: bool  # the next run's query selects it (it may still be excluded, blocked or skipped)
    rules: list[Rule]
    dependencies: list[Dependency]
    next_run: list[Preview]  # the dry run's lines for it; empty when it is not selected
    history: list[tuple[int, Attempt, str]]  # (run, attempt, time), oldest first

    @property
    def verdict(self) -> str:
        """The next run's word on the record, in one line."""
        if not self.selected:
            unmet = [r.rule for r in self.rules if not r.met]
            return f"not selected: {unmet[0]} does not hold" if unmet else "not selected"
        words = [f"{p.action}: {p.reason}" if p.reason else p.action for p in self.next_run]
        return "; then ".join(words) or "selected"

    def as_dict(self) -> dict[str, Any]:
        """Plain data for --json."""
        return {
            "type": self.type,
            "source_id": self.source_id,
            "number": self.number,
            "status": self.status,
            "counterpart_id": self.counterpart_id,
            "selected": self.selected,
            "verdict": self.verdict,
            "rules": [asdict(r) for r in self.rules],
            "dependencies": [{**asdict(d), "status": d.status.text, "name": d.name} for d in self.dependencies],
            "next_run": [asdict(p) for p in self.next_run],
            "history": [{"run": run, "at": at, **asdict(a)} for run, a, at in self.history],
        }


def explain(engine: Engine, name: str, key: str) -> Explanation:
    """Explain the `name` record whose id or document number is `key` (a UsageError when there is none)."""
    row = engine.find(name, key)
    flow = engine.flow(name)
    rules = engine.source(flow).rules(row)
    if flow.modified(row) and flow.modified_field:  # selected as modified instead (sync.new_and_modified)
        since = engine.watermark(flow, dt.datetime.now(dt.UTC))
        changed = _moment(row.get(flow.modified_field))
        rules[0] = Rule(
            f"Sync Complete and {flow.modified_field} after the watermark {since.isoformat(timespec='seconds')} "
            "(sync.new_and_modified: its counterpart is updated)",
            str(row.get(flow.modified_field) or "null"),
            changed is not None and changed > since,
        )
    selected = all(rule.met for rule in rules)
    page = flow.lookups([row])
    dependencies = list(flow.dependencies(row, page))
    excluded = flow.exclusion(row, page)
    rules.append(Rule("no rule on a related record excludes it", excluded or "none does", excluded is None))
    if excluded is None:
        unsynced = [d.name for d in dependencies if not d.synced]
        rules.append(Rule("every dependency is synced", "; ".join(unsynced) or "yes", not unsynced))
        if not unsynced:  # as a run, validation of the record's own data follows its dependencies
            problem = flow.problem(row, page)
            rules.append(
                Rule("its own data maps to the destination", problem.reason if problem else "yes", not problem)
            )
    history = list(engine.journal.attempts(type_=name, source_id=row["Id"]))
    status = flow.status_of(row).text
    counterpart = flow.counterpart_id(row)
    return Explanation(
        name, row["Id"], flow.number_of(row), status, counterpart, selected, rules, dependencies,
        engine.preview(name, [row]) if selected else [], history,
    )  # fmt: skip


def _moment(value: Any) -> dt.datetime | None:
    """A modified date as the source gives it (a Zuora dateTime string, a NetSuite datetime), as an aware datetime."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
