"""NetSuite Customer Refund -> Zuora Refund of a Zuora payment (reference 4.13, 6.11; opt-in).

The NetSuite procedure: a standalone credit memo with Create Zuora Refund ticked and the Zuora payment to refund as
its Zuora Refund Payment Reference, then a customer refund applying that credit memo alone, in full. One Zuora refund
(External, SourceType Payment, already in the GL) per credit memo, under `Creating Refund`: through the Actions with
Invoice Settlement off, `POST /v1/payments/{key}/refunds` with it on. Both NetSuite records end `Sync Complete`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zns_sync.flows.base import (
    ORIGIN_FIELD,
    TTA_FIELD,
    Problem,
    Step,
    Write,
    money,
    skipped,
    without_none,
    zuora_date,
)
from zns_sync.flows.from_netsuite import NETSUITE, NetSuiteFlow, Search, applied, custom, ref_id, text
from zns_sync.flows.names import PAYMENT_METHOD
from zns_sync.netsuite import CustomFieldCondition
from zns_sync.status import TTA, Action

CREATING_REFUND = Step(Action.CREATING, "Refund")
# Refund.MethodType: how an External refund was paid out (zuora-refunds-api-openapi.yml, PostRefundType).
METHOD_TYPES = frozenset({"ACH", "Cash", "Check", "CreditCard", "PayPal", "WireTransfer", "DebitCard",
                          "CreditCardReferenceTransaction", "BankTransfer", "Other"})  # fmt: skip
PAYMENT_FIELDS = ("Id", "PaymentNumber", "AccountId", "Amount", "Status")


@dataclass(frozen=True)
class _Page:
    credit_memos: Mapping[str, Mapping[str, Any]]  # the applied NetSuite credit memos by internalId ({}: not one)
    payments: Mapping[str, Mapping[str, Any]]  # the Zuora payments the credit memos name, by Id
    netsuite_methods: Mapping[str, str]  # NetSuite payment method internalId -> name


class NetSuiteRefundFlow(NetSuiteFlow):
    """NetSuite customer refunds of synced customers paying out a credit memo flagged Create Zuora Refund."""

    name = "ns-refund"
    netsuite_lists = (PAYMENT_METHOD,)
    enabled_by_default = False
    source_object = "CustomerRefund"
    counterpart_types = ("Refund",)
    amount_field = "total"
    steps = (CREATING_REFUND,)

    def search(self) -> Search:
        ids = self.settings.netsuite_fields
        return self.transaction_search(
            "_customerRefund",
            CustomFieldCondition(ids.transaction_customer_id_payments, "notEmpty"),
            companion_type="CreditMemo",  # the credit memo ends Sync Complete too (reference 4.13)
        )

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx, ids = self.context, self.settings.netsuite_fields
        memos = self.applied_documents(rows, "creditMemo")
        references = [text(custom(m, ids.credit_memo_refund_payment_reference)) for m in memos.values()]
        return _Page(
            credit_memos=memos,
            payments=ctx.zuora_by_id("Payment", PAYMENT_FIELDS, references),
            netsuite_methods={v: k for k, v in ctx.names.all(PAYMENT_METHOD).items()},
        )

    def _memos(self, row: Mapping[str, Any], page: _Page) -> list[Mapping[str, Any]]:
        return [page.credit_memos.get(str(line["doc"]), {}) for line in applied(row)]

    def _payment(self, row: Mapping[str, Any], page: _Page) -> Mapping[str, Any]:
        (memo,) = self._memos(row, page)
        return page.payments.get(
            text(custom(memo, self.settings.netsuite_fields.credit_memo_refund_payment_reference)), {}
        )

    # -- selection (reference 4.13) ---------------------------------------------------------------------------------
    def exclusion(self, row: Mapping[str, Any], page: _Page) -> str | None:
        ids = self.settings.netsuite_fields
        if text(custom(row, ids.transaction_origin)) == "ZUORA":
            return "Zuora Origin is ZUORA: the refund came from Zuora"
        if money(row.get("total")) != sum((money(line.get("amount")) for line in applied(row)), money(0)):
            return "not fully applied"
        if not any(custom(memo, ids.credit_memo_create_zuora_refund) is True for memo in self._memos(row, page)):
            return "applied to no credit memo with Create Zuora Refund ticked"
        return None

    # -- validations (reference 4.13) -------------------------------------------------------------------------------
    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        memos = self._memos(row, page)
        if len(memos) != 1 or not memos[0]:
            return skipped(f"applied to {len(memos)} transactions: a Zuora refund pays out exactly one credit memo")
        payment = self._payment(row, page)
        reference = text(custom(memos[0], self.settings.netsuite_fields.credit_memo_refund_payment_reference))
        account = text(custom(row, self.settings.netsuite_fields.transaction_customer_id_payments))
        if payment.get("Status") != "Processed" or payment.get("AccountId") != account:
            return skipped(f"Zuora Refund Payment Reference {reference!r} is no processed payment of account {account}")
        # Against the payment's amount, not what is left of it: this refund's own write lowers that.
        if money(row.get("total")) > money(payment.get("Amount")):
            return skipped(
                f"refunds {row.get('total')}, more than payment {payment['PaymentNumber']} ({payment['Amount']})"
            )
        method = page.netsuite_methods.get(ref_id(row.get("paymentMethod")), "")
        if method not in METHOD_TYPES:
            return skipped(f"payment method {method!r} is not a Zuora refund method type")
        return None

    def completes_also(self, row: Mapping[str, Any], page: _Page) -> tuple[str, ...]:
        return tuple(str(line["doc"]) for line in applied(row))

    # -- mapping (reference 6.11) -----------------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        payment = self._payment(row, page)
        method = page.netsuite_methods[ref_id(row.get("paymentMethod"))]
        origin = {**self.back_reference(row), ORIGIN_FIELD: NETSUITE}
        if self.settings.sync.invoice_settlement:
            body = {
                "totalAmount": money(row.get("total")),
                "type": "External",
                "methodType": method,
                "refundDate": zuora_date(row.get("tranDate")),
                "comment": row.get("memo"),
                "financeInformation": {"transferredToAccounting": TTA.YES.value},  # already in the GL
                **origin,
            }
            path = f"/v1/payments/{payment['Id']}/refunds"
            return [self.zuora_create(CREATING_REFUND, "Refund", without_none(body), rest=path)]
        refund = {
            "PaymentId": payment["Id"],
            "Amount": money(row.get("total")),
            "RefundDate": zuora_date(row.get("tranDate")),
            "Type": "External",
            "MethodType": method,
            "SourceType": "Payment",
            "Comment": row.get("memo"),
            TTA_FIELD: TTA.YES.value,
            **origin,
        }
        return [self.zuora_create(CREATING_REFUND, "Refund", without_none(refund))]
