"""NetSuite Customer Payment -> Zuora Payment, External, already in the GL (reference 4.11, 6.9; opt-in).

Invoice Settlement off: a Draft payment, one InvoicePayment per applied Zuora invoice, then the payment Processed,
all under `Creating Payment` (each found again: the payment by IntegrationId__NS, each application by its payment
and invoice). Invoice Settlement on: one `POST /v1/payments` with its invoice and debit memo applications (a NetSuite
invoice that came from a Zuora debit memo, Zuora Type DEBIT_MEMO; CreatePaymentType `debitMemos`). The NetSuite
payment then gets the Zuora ID, the sync date, `Sync Complete` and Zuora Origin `NETSUITE`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zns_sync.flows.base import (
    INTEGRATION_ID_FIELD,
    ORIGIN_FIELD,
    TTA_FIELD,
    Earlier,
    Problem,
    Step,
    Write,
    blocked,
    money,
    skipped,
    without_none,
    zuora_date,
)
from zns_sync.flows.from_netsuite import NETSUITE, NetSuiteFlow, Search, applied, custom, ref_id, text
from zns_sync.flows.names import PAYMENT_METHOD
from zns_sync.netsuite import CustomFieldCondition
from zns_sync.status import TTA, Action

CREATING_PAYMENT = Step(Action.CREATING, "Payment")
PROCESSING_PAYMENT = Step(Action.CREATING, "Payment", updates=True)  # Invoice Settlement off: the draft Processed
INVOICE, DEBIT_MEMO = "INVOICE", "DEBIT_MEMO"  # the Zuora Type of a NetSuite invoice from a Zuora invoice, debit memo
# No balance check here: this payment's own applications lower it, so a resumed payment would hold itself back; more
# than the open balance is Zuora's to refuse (Error Creating Payment, with its message).
ZUORA_INVOICE_FIELDS = ("Id", "InvoiceNumber", "AccountId", INTEGRATION_ID_FIELD)


@dataclass(frozen=True)
class _Page:
    documents: Mapping[str, Mapping[str, Any]]  # the applied NetSuite transactions by internalId ({} when unreadable)
    accounts: Mapping[str, Mapping[str, Any]]  # Zuora accounts by Id
    invoices: Mapping[str, Mapping[str, Any]]  # Zuora invoices by Id
    debit_memos: Mapping[str, Mapping[str, Any]]  # Zuora debit memos by Id (REST fields: accountId ...)
    zuora_methods: Mapping[tuple[str, str], str]  # (Zuora account Id, payment method Type) -> PaymentMethod Id
    netsuite_methods: Mapping[str, str]  # NetSuite payment method internalId -> name


class NetSuitePaymentFlow(NetSuiteFlow):
    """NetSuite customer payments of synced customers, not from Zuora, applied to invoices that came from Zuora."""

    name = "ns-payment"
    netsuite_lists = (PAYMENT_METHOD,)
    enabled_by_default = False
    source_object = "CustomerPayment"
    counterpart_types = ("Payment",)
    amount_field = "payment"
    steps = (CREATING_PAYMENT, PROCESSING_PAYMENT)

    def search(self) -> Search:
        ids = self.settings.netsuite_fields
        return self.transaction_search(
            "_customerPayment",
            CustomFieldCondition(ids.transaction_customer_id_payments, "notEmpty"),
            completion={ids.transaction_origin: NETSUITE},  # reference 4.11: Zuora Origin NETSUITE written back
        )

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx, ids = self.context, self.settings.netsuite_fields
        documents = self.applied_documents(rows, "invoice")
        accounts = [self._account_id(row) for row in rows]
        zuora_ids = [text(custom(d, ids.transaction_zuora_id)) for d in documents.values()]
        found, invoices, methods, memos = ctx.concurrently(
            lambda: ctx.zuora_by_id("Account", ("Id", "Currency"), accounts),
            lambda: ctx.zuora_by_id("Invoice", ZUORA_INVOICE_FIELDS, zuora_ids),
            lambda: ctx.zuora_children("PaymentMethod", ("Id", "AccountId", "Type"), "AccountId", set(accounts)),
            lambda: self._debit_memos(rows, documents),
        )
        return _Page(
            documents=documents,
            accounts=found,
            invoices=invoices,
            debit_memos=memos,
            zuora_methods={(a, str(m.get("Type"))): m["Id"] for a, found_ in methods.items() for m in found_},
            netsuite_methods={v: k for k, v in ctx.names.all(PAYMENT_METHOD).items()},
        )

    def _debit_memos(
        self, rows: Sequence[Mapping[str, Any]], documents: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        """With Invoice Settlement, the debit memos of the accounts whose payments apply to a NetSuite invoice from
        one, by Id (GET /v1/debitmemos?accountId=: ZOQL refuses memos)."""
        if not self.settings.sync.invoice_settlement:
            return {}
        zuora_type = self.settings.netsuite_fields.transaction_zuora_type
        accounts = {
            self._account_id(row)
            for row in rows
            if any(text(custom(documents.get(str(line["doc"]), {}), zuora_type)) == DEBIT_MEMO for line in applied(row))
        }
        zuora = self.context.zuora
        listed = self.context.each(
            lambda a: [m for page in zuora.memos("debitmemos", {"accountId": a}) for m in page], accounts
        )
        return {str(memo["id"]): memo for memos in listed.values() for memo in memos}

    def _account_id(self, row: Mapping[str, Any]) -> str:
        return text(custom(row, self.settings.netsuite_fields.transaction_customer_id_payments))

    # -- selection (reference 4.11) ---------------------------------------------------------------------------------
    def exclusion(self, row: Mapping[str, Any], page: _Page) -> str | None:
        ids = self.settings.netsuite_fields
        if text(custom(row, ids.transaction_origin)) == "ZUORA":
            return "Zuora Origin is ZUORA: the payment came from Zuora"
        settlement = self.settings.sync.invoice_settlement
        if not settlement and money(row.get("unapplied")) != 0:
            return f"not fully applied ({row.get('unapplied')} unapplied): Invoice Settlement is off"
        if settlement and text(custom(row, ids.transaction_sync_updates)) != "Yes":
            return "Zuora Sync Updates is not Yes"
        unapplied_only = settlement and not applied(row)  # with Invoice Settlement, an unapplied payment syncs
        if not unapplied_only and not any(self._zuora_type(page, line) for line in applied(row)):
            return "applied to no invoice that came from Zuora"
        return None

    def _zuora_type(self, page: _Page, line: Mapping[str, Any]) -> str:
        document = page.documents.get(str(line["doc"]), {})
        return text(custom(document, self.settings.netsuite_fields.transaction_zuora_type))

    # -- validations (reference 4.11) -------------------------------------------------------------------------------
    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        ids = self.settings.netsuite_fields
        account = self._account_id(row)
        if account not in page.accounts:
            return blocked(f"Zuora account {account} (Zuora Customer ID) is not in Zuora: the customer is not synced")
        settlement = self.settings.sync.invoice_settlement
        kinds = (INVOICE, DEBIT_MEMO) if settlement else (INVOICE,)
        for line in applied(row):
            doc, kind = str(line["doc"]), self._zuora_type(page, line)
            if kind not in kinds:
                synced = "invoices and debit memos" if settlement else "invoices"
                shown = kind or "no Zuora Type"
                return skipped(f"applied to NetSuite transaction {doc} ({shown}): only {synced} from Zuora are synced")
            zuora_id = text(custom(page.documents[doc], ids.transaction_zuora_id))
            if kind == DEBIT_MEMO:
                memo = page.debit_memos.get(zuora_id, {})
                if str(memo.get(INTEGRATION_ID_FIELD)) != doc or memo.get("accountId") != account:
                    return skipped(
                        f"NetSuite invoice {doc} names no Zuora debit memo of account {account} synced to it"
                    )
                continue
            invoice = page.invoices.get(zuora_id, {})
            if str(invoice.get(INTEGRATION_ID_FIELD)) != doc or invoice.get("AccountId") != account:
                return skipped(f"NetSuite invoice {doc} names no Zuora invoice of account {account} synced to it")
        method = ref_id(row.get("paymentMethod"))
        name = page.netsuite_methods.get(method, "")
        if (account, name) not in page.zuora_methods:
            return skipped(f"payment method {name or method!r} matches no payment method of Zuora account {account}")
        return None

    # -- mapping (reference 6.9) ------------------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        ids = self.settings.netsuite_fields
        account = self._account_id(row)
        applications: list[tuple[str, Decimal]] = []
        memos: list[tuple[str, Decimal]] = []
        for line in applied(row):
            document = page.documents[str(line["doc"])]
            kind = text(custom(document, ids.transaction_zuora_type))
            (memos if kind == DEBIT_MEMO else applications).append(
                (text(custom(document, ids.transaction_zuora_id)), money(line.get("amount")))
            )
        method = page.zuora_methods[(account, page.netsuite_methods[ref_id(row.get("paymentMethod"))])]
        origin = {**self.back_reference(row), ORIGIN_FIELD: NETSUITE, "Transaction__NS": row.get("tranId")}
        if self.settings.sync.invoice_settlement:
            body = {
                "accountId": account,
                "amount": money(row.get("payment")),
                "currency": page.accounts[account].get("Currency"),
                "effectiveDate": zuora_date(row.get("tranDate")),
                "type": "External",
                "paymentMethodId": method,
                "comment": row.get("memo"),
                "invoices": [{"invoiceId": invoice, "amount": amount} for invoice, amount in applications],
                "debitMemos": [{"debitMemoId": memo, "amount": amount} for memo, amount in memos] or None,
                "financeInformation": {"transferredToAccounting": TTA.YES.value},  # already in the GL
                **origin,
            }
            return [self.zuora_create(CREATING_PAYMENT, "Payment", without_none(body), rest="/v1/payments")]
        amount = sum((amount for _, amount in applications), Decimal(0))  # fully applied (selection)
        payment = {
            "AccountId": account,
            "Amount": amount,
            "EffectiveDate": zuora_date(row.get("tranDate")),
            "Type": "External",
            "Status": "Draft",
            "PaymentMethodId": method,
            "Comment": row.get("memo"),
            TTA_FIELD: TTA.YES.value,
            **origin,
        }
        payment_id = Earlier(0)
        return [
            self.zuora_create(CREATING_PAYMENT, "Payment", without_none(payment)),
            *(
                self.zuora_create(
                    CREATING_PAYMENT,
                    "InvoicePayment",
                    {"PaymentId": payment_id, "InvoiceId": invoice, "Amount": amount},
                    {"PaymentId": payment_id, "InvoiceId": invoice},
                )
                for invoice, amount in applications
            ),
            # The amount again: a draft found from an earlier attempt takes today's.
            self.zuora_update(
                PROCESSING_PAYMENT,
                "Payment",
                payment_id,
                {"Amount": amount, "Status": "Processed"},
                {INTEGRATION_ID_FIELD: str(row["Id"]), "Status": "Processed"},
            ),
        ]
