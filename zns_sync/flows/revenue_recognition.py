"""Updating Revenue Recognition: the later rev rec update of synced invoices (reference 4.7.2 "Later update").

A line whose charge has a RevRecCode goes to NetSuite deferred (`deferRevRec` true) while Zuora has no rev rec
trigger date for its invoice item (InvoiceItem.RevRecStartDate). Once Zuora has one, this process updates the
existing NetSuite line: `deferRevRec` false and the dates the rules give now (flows/revrec.py), with
`itemList.replaceAll` false so that no other line changes. The Zuora invoice's status is `Updating Revenue
Recognition` meanwhile (`Error Updating Revenue Recognition` when NetSuite refuses), then `Sync Complete` again.

Selection (the reference does not document it; inferred, as it presumes): Posted invoices already synced
(IntegrationId__NS set) in `Sync Complete` or this process's own statuses, on or after
`sync.cutover_dates.revenue-recognition` (else the invoice type's cutover date); of those, the ones with an item
whose charge has a Standard RevRecCode and whose trigger date is now set are read from NetSuite, one getList per
page, and a line is updated when NetSuite still has it deferred. An invoice with no such line is not selected
(`explain` says why): a second run sends nothing.

Which NetSuite line: the reference targets the line id the connector stored in InvoiceItem.IntegrationId__NS,
which it writes back only with Invoice Settlement off. zns-sync does not write it back; it reads the NetSuite
record instead and matches each line by its "Zuora ID" line field (`netsuite_fields.line_zuora_id`), which every
line it creates carries. The read is needed anyway (only NetSuite knows whether a line is still deferred), it
costs one call per page instead of one Zuora update per invoice item, and it holds for invoices synced by the
hosted connector, which sets the same field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zns_sync.flows.base import INTEGRATION_ID_FIELD, Dependency, Problem, Step, Write, money, skipped
from zns_sync.flows.billing import SUBSCRIPTION_CHARGE, TRIGGER_FIELD, Line, line_problem, revenue_fields
from zns_sync.flows.invoice import InvoiceFlow, InvoicePage
from zns_sync.flows.revrec import VARIABLE, RevRecSettingError, RevRecSettings
from zns_sync.netsuite import ReadResult, RecordRef, record_type_enum
from zns_sync.status import REVENUE_RECOGNITION, Action
from zns_sync.zuora import zoql

UPDATING_REVENUE_RECOGNITION = Step(Action.UPDATING, REVENUE_RECOGNITION)


@dataclass(frozen=True)
class _Page(InvoicePage):
    counterparts: Mapping[str, ReadResult]  # invoice Id -> its NetSuite record, read (only invoices with a candidate)


class RevenueRecognitionFlow(InvoiceFlow):
    """Synced invoices whose deferred NetSuite lines now have a rev rec trigger date in Zuora."""

    name = "revenue-recognition"
    transactional = False  # TransferredToAccounting stays Yes: the invoice is in the books already
    follows = "invoice"
    revenue_recognition = True
    takes_custom_fields = False  # it updates invoices created already (reference 4.18: new records only)
    steps = (UPDATING_REVENUE_RECOGNITION,)

    def scope(self) -> list[list[zoql.Condition]]:
        base = [zoql.eq("Status", self.status_value), zoql.not_null(INTEGRATION_ID_FIELD)]
        cutovers = self.settings.sync.cutover_dates
        cutover = cutovers.get(self.name, cutovers.get("invoice"))
        if cutover is not None:
            base.append(zoql.ge(self.date_field, cutover))
        return [base]

    def own_criteria(self) -> list[list[zoql.Condition]]:
        return self.scope()  # no TTA rule: the invoice is transferred (Yes)

    def rule_note(self, field: str) -> str | None:
        if field == self.date_field:
            return f"the cutover date, sync.cutover_dates.{self.name} (else sync.cutover_dates.invoice)"
        if field == INTEGRATION_ID_FIELD:
            return "synced to NetSuite"
        return None

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        page = super().lookups(rows)
        waiting = [row for row in rows if self._triggered(row, page)]
        reads = self.context.netsuite.get_list([self._counterpart_ref(row) for row in waiting]) if waiting else []
        counterparts = {row["Id"]: read for row, read in zip(waiting, reads, strict=True)}
        return _Page(page.accounts, page.items, page.taxes, page.charges, page.subscriptions, counterparts)

    def _triggered(self, row: Mapping[str, Any], page: InvoicePage) -> set[str]:
        """The invoice's items that may have been sent deferred and now have a trigger date: a Standard RevRecCode
        charge, RevRecStartDate set."""
        found = set()
        for item in page.items.get(row["Id"], []):
            charge = page.charges.get((SUBSCRIPTION_CHARGE, item["RatePlanChargeId"]), {})
            try:
                settings = RevRecSettings.of(charge)
            except RevRecSettingError:
                settings = None  # never sent deferred: the invoice type refused it
            if settings and settings.code and settings.template_type != VARIABLE and item.get(TRIGGER_FIELD):
                found.add(str(item["Id"]))
        return found

    @staticmethod
    def _counterpart_type(row: Mapping[str, Any]) -> str:
        """The invoice's NetSuite record type: Invoice, or Credit Memo for a negative invoice (reference 4.7)."""
        return "CreditMemo" if money(row.get("Amount")) < 0 else "Invoice"

    def _counterpart_ref(self, row: Mapping[str, Any]) -> RecordRef:
        record_type = record_type_enum(self._counterpart_type(row))
        return RecordRef(internal_id=str(row[INTEGRATION_ID_FIELD]), type=record_type)

    def _updates(self, row: Mapping[str, Any], page: InvoicePage) -> list[tuple[int, Line]]:
        """(NetSuite line number, the line as the rules give it now) for each line to update: one NetSuite still
        has deferred whose rules no longer defer it; for an invoice this process left in flight or in error, every
        triggered line (absolute values: sending one again changes nothing)."""
        read = _read(row, page)
        if read is None or read.record is None:
            return []
        triggered = self._triggered(row, page)
        resend = self.status_of(row).needs_recovery
        by_zuora_id = {line.zuora_id: line for line in self._lines(row, page) if line.zuora_id in triggered}
        script_id = self.settings.netsuite_fields.line_zuora_id
        found = []
        for netsuite_line in (read.record.get("itemList") or {}).get("item") or []:
            line = by_zuora_id.get(str((netsuite_line.get("customFieldList") or {}).get(script_id)))
            if line is None or line.revenue is None or line.revenue.defer or netsuite_line.get("line") is None:
                continue
            if resend or netsuite_line.get("deferRevRec"):
                found.append((int(netsuite_line["line"]), line))
        return found

    # -- selection and validations --------------------------------------------------------------------------
    def exclusion(self, row: Mapping[str, Any], page: InvoicePage) -> str | None:
        excluded = super().exclusion(row, page)
        if excluded is not None or self.status_of(row).needs_recovery:
            return excluded  # one left in flight or in error is never dropped silently (validate)
        read = _read(row, page)
        if read is None:
            return "no item has a rev rec trigger date for a charge with a Standard RevRecCode"
        if read.record is not None and not self._updates(row, page):
            return "no NetSuite line is deferred awaiting its rev rec trigger date"
        return None

    def dependencies(self, row: Mapping[str, Any], page: InvoicePage) -> list[Dependency]:
        return []  # the invoice is synced: its account and charges were

    def validate(self, row: Mapping[str, Any], page: InvoicePage) -> Problem | None:
        read = _read(row, page)
        if read is not None and read.record is None:
            ref = self._counterpart_ref(row)
            return skipped(f"its NetSuite {ref.type} {ref.internal_id} cannot be read: {read.code} {read.message}")
        updates = self._updates(row, page)
        if not updates:  # in flight or in error, and no line awaits the update any more (a trigger date removed)
            number = self.number_of(row) or row["Id"]
            return skipped(
                f"it is {self.status_of(row).text} but no NetSuite line awaits a rev rec update any more: "
                f"`zns-sync resync invoice {number}` marks it Sync Complete"
            )
        return line_problem([line for _, line in updates], "invoice")

    # -- mapping (reference 4.7.2, 6.7: itemList.replaceAll false on updates) ----------------------------------
    def writes(self, row: Mapping[str, Any], page: InvoicePage) -> list[Write]:
        lines = []
        for number, line in self._updates(row, page):
            assert line.revenue is not None
            lines.append({"line": number, **revenue_fields(line.revenue)})
        fields = {"itemList": {"item": lines, "replaceAll": False}}
        internal_id = str(row[INTEGRATION_ID_FIELD])
        return [self.update(UPDATING_REVENUE_RECOGNITION, self._counterpart_type(row), internal_id, fields)]


def _read(row: Mapping[str, Any], page: InvoicePage) -> ReadResult | None:
    """The invoice's NetSuite record as read with the page (None: not read, no line awaits a trigger date)."""
    assert isinstance(page, _Page), "the page of this flow's own lookups"
    return page.counterparts.get(row["Id"])
