"""`reconcile`: both systems, counted and added up per type (and per month for transactions), and every record
whose counterpart disagrees with it.

Two streams, a page at a time, so memory stays flat however many records there are:
1. the source's records of the process (`Scope.ANY`), each page's synced ones with their counterparts (one
   destination search per page): a `Sync Complete` record whose counterpart is gone, amounts and customers
   that differ;
2. the destination's records that carry the flow's keys (externalId prefix), each page with the source records
   they came from (one source lookup per page): a record no source record links (an orphan), and one whose
   source record the process no longer covers (voided, canceled).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from zns_sync.engine import SYSTEM_NAMES, Engine, ordered
from zns_sync.flows.base import Flow, money
from zns_sync.sources import Scope, Source
from zns_sync.status import Phase

CENT = Decimal("0.01")


@dataclass
class Totals:
    """One type's counts and amounts on both sides (for transactions, one month's)."""

    amounts: bool  # the type has amounts (transactions); master data has counts only
    source: int = 0  # records of the process
    source_amount: Decimal = Decimal("0.00")
    synced: int = 0  # of them, Sync Complete
    synced_amount: Decimal = Decimal("0.00")
    destination: int = 0  # records in the destination with the flow's keys
    destination_amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Finding:
    """One record whose two sides disagree."""

    type: str
    kind: str  # orphan, gone, amount, customer, outside
    source_id: str | None
    number: str | None
    counterpart_id: str | None
    detail: str


@dataclass
class Reconciliation:
    """Totals by (type, month: `YYYY-MM`, or "" for master data), and what disagrees."""

    totals: dict[tuple[str, str], Totals] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # Types not compared, with why: the NetSuite -> Zuora ones (their counterparts are Zuora records, which carry
    # no key of ours to list them by; `status` and `explain` cover them).
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def off(self) -> bool:
        return bool(self.findings)


def reconcile(engine: Engine, types: Sequence[str], since: dt.date | None = None) -> Reconciliation:
    """Compare both systems for each type, in the documented order; `since` limits it to records dated since."""
    result = Reconciliation()
    names = ordered(types)
    for name in names:
        flow = engine.flow(name)
        if flow.follows is not None:
            result.skipped[name] = f"not reconciled: it updates what {flow.follows} creates (reconcile {flow.follows})"
            continue
        if flow.destination != "netsuite":
            result.skipped[name] = (
                f"not reconciled: {SYSTEM_NAMES[flow.source]} -> {SYSTEM_NAMES[flow.destination]} "
                "(see status and explain)"
            )
            continue
        _Pass(engine, flow, since, result).run()
    result.totals = dict(sorted(result.totals.items(), key=lambda item: (names.index(item[0][0]), item[0][1])))
    return result


class _Pass:
    def __init__(self, engine: Engine, flow: Flow, since: dt.date | None, result: Reconciliation) -> None:
        self.flow = flow
        self.source: Source = engine.source(flow)
        self.destination = engine.destinations[flow.destination]
        self.since = since
        self.result = result
        self.source_name = SYSTEM_NAMES[flow.source]

    def run(self) -> None:
        for page in self.source.pages(Scope.ANY, self.since):
            self._source_page(page)
        for records in self.destination.records(self.flow.counterpart_types, key_prefix=self.flow.key_prefix):
            self._destination_page(records)

    # -- 1: source records, and the counterparts of the synced ones -------------------------------------------
    def _source_page(self, rows: list[dict[str, Any]]) -> None:
        flow = self.flow
        synced = [row for row in rows if flow.status_of(row).phase is Phase.COMPLETE]
        held = sorted({c for c in map(flow.counterpart_id, synced) if c is not None})
        found = {
            str(record["internalId"]): record
            for page in (self.destination.records(flow.counterpart_types, ids=held) if held else [])
            for record in page
        }
        customers = flow.expected_customers(synced) if synced else {}
        for row in rows:
            totals = self._totals(_month(row.get(flow.date_field) if flow.date_field else None))
            amount = _money(row.get(flow.amount_field)) if flow.amount_field else Decimal(0)
            totals.source += 1
            totals.source_amount += amount
            if flow.status_of(row).phase is not Phase.COMPLETE:
                continue
            totals.synced += 1
            totals.synced_amount += amount
            counterpart = flow.counterpart_id(row)
            record = found.get(counterpart) if counterpart is not None else None
            if record is None:
                where = f"its counterpart {counterpart}" if counterpart else "no counterpart id"
                fix = f"zns-sync resync {flow.name} {row['Id']}"
                self._find("gone", row, counterpart, f"Sync Complete with {where} in {self.destination.name}: {fix}")
                continue
            theirs = flow.counterpart_amount(record)
            if flow.amount_field and theirs is not None and _money(theirs) != amount:
                detail = f"{self.source_name} {amount}, {self.destination.name} {_money(theirs)}"
                self._find("amount", row, counterpart, detail)
            expected = customers.get(row["Id"])
            customer = flow.counterpart_customer(record)
            if row["Id"] in customers and customer != expected:
                detail = f"{self.destination.name} customer {customer}; the account's counterpart is {expected}"
                self._find("customer", row, counterpart, detail)

    # -- 2: destination records with our keys, and the source records they came from -------------------------
    def _destination_page(self, records: Iterable[Mapping[str, Any]]) -> None:
        flow = self.flow
        dated = [(r, flow.counterpart_date(r)) for r in records]
        kept = [(r, day) for r, day in dated if self.since is None or day is None or day >= self.since]
        rows = self.source.lookup([i for i in (flow.source_id_of(r) for r, _ in kept) if i is not None])
        for record, day in kept:
            totals = self._totals(_month(day))
            totals.destination += 1
            totals.destination_amount += _money(flow.counterpart_amount(record))
            internal_id = str(record["internalId"])
            source_id = flow.source_id_of(record)
            row = rows.get(source_id or "")
            if row is None:
                what = f"no {self.source_name} {flow.source_object} has Id {source_id}"
                self.result.findings.append(Finding(flow.name, "orphan", source_id, None, internal_id, what))
                continue
            status = flow.status_of(row)
            linked = flow.counterpart_id(row)
            if status.phase is not Phase.COMPLETE:
                fix = "the next run links it" if status.phase is Phase.NEW else f"zns-sync recover --type {flow.name}"
                self._find("orphan", row, internal_id, f"its source record is {status.text or 'blank'}: {fix}")
            elif linked != internal_id:
                self._find("orphan", row, internal_id, f"its source record links {linked} instead: a duplicate")
            elif (outside := self.source.outside(row)) is not None:
                self._find("outside", row, internal_id, f"the process no longer covers its source record: {outside}")

    def _totals(self, month: str) -> Totals:
        return self.result.totals.setdefault((self.flow.name, month), Totals(self.flow.amount_field is not None))

    def _find(self, kind: str, row: Mapping[str, Any], counterpart: str | None, detail: str) -> None:
        finding = Finding(self.flow.name, kind, row["Id"], self.flow.number_of(row), counterpart, detail)
        self.result.findings.append(finding)


def _month(value: Any) -> str:
    """`YYYY-MM` of a date or a Zuora date string; "" without one (master data)."""
    return str(value)[:7] if value not in (None, "") else ""


def _money(value: Any) -> Decimal:
    return money(value).quantize(CENT)
