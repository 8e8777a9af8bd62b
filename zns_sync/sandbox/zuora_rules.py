"""The Zuora emulator's business rules for the objects zns-sync creates: accounts and contacts, payments and their
applications, refunds, invoice item adjustments (docs/zuora.md).

Simple stand-ins for Zuora's own rules, enough for every refusal a sync can meet: an account becomes Active only
with a bill-to and a sold-to contact of its own; a payment applies at most an invoice's open balance and at most
its own amount, and (Invoice Settlement off) is Processed only once its applications add up to it; a refund takes
at most what is left of its payment; an adjustment takes at most the invoice's balance. Each check runs under the
store's lock, and its effects (balances) are applied only when the write is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zns_sync.sandbox.zuora_store import ZuoraStore

Effect = Callable[[str], None]  # applied with the stored object's Id once the write is stored
PAYMENT_TYPES = ("External", "Electronic")
ADJUSTMENT_TYPES = ("Credit", "Charge")


class Refused(Exception):
    """Zuora's refusal of one object: its error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _nothing(_: str) -> None:
    """No effect on other objects."""


def _required(fields: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if fields.get(name) in (None, ""):
            raise Refused("MISSING_REQUIRED_VALUE", f"{name} is required")


def _money(value: Any) -> float:
    return round(float(value or 0.0), 2)


class TenantRules:
    """What one tenant accepts: its currencies and payment terms, and the rules above."""

    def __init__(self, store: ZuoraStore, invoice_settlement: bool = True) -> None:
        self.store = store
        # Invoice Settlement on: a payment's applications are PaymentPart rows; off: InvoicePayment rows.
        self.invoice_settlement = invoice_settlement

    def _get(self, object_type: str, object_id: Any, what: str) -> dict[str, Any]:
        found = self.store.get(object_type, str(object_id)) if object_id else None
        if found is None:
            raise Refused("INVALID_ID", f"invalid {what}: {object_id}")
        return found

    def create(self, object_type: str, fields: dict[str, Any]) -> Effect:
        """Check a new object (`fields` may gain defaults) and return its effect; Refused when Zuora would refuse."""
        check = getattr(self, f"_create_{object_type}", None)
        return check(fields) if check is not None else _nothing

    def update(self, object_type: str, existing: Mapping[str, Any], fields: dict[str, Any]) -> Effect:
        """Check changes to an object and return their effect."""
        check = getattr(self, f"_update_{object_type}", None)
        return check(existing, fields) if check is not None else _nothing

    # -- accounts and contacts -------------------------------------------------------------------------------------
    def _create_Account(self, fields: dict[str, Any]) -> Effect:
        _required(fields, "Name", "Currency", "BillCycleDay")
        if fields["Currency"] not in self.store.currencies:
            raise Refused("INVALID_VALUE", f"The currency {fields['Currency']} is not enabled in this tenant.")
        if fields.get("PaymentTerm") and fields["PaymentTerm"] not in self.store.payment_terms:
            raise Refused("INVALID_VALUE", f"Invalid payment term: {fields['PaymentTerm']}")
        if not 1 <= int(fields["BillCycleDay"]) <= 31:
            raise Refused("INVALID_VALUE", "BillCycleDay must be between 1 and 31")
        number = fields.get("AccountNumber")
        if number and any(a.get("AccountNumber") == number for a in self.store.rows("Account")):
            raise Refused("DUPLICATE_VALUE", f"The account number {number} is already used.")
        fields.setdefault("Status", "Draft")
        self._active_needs_contacts(None, fields)
        return _nothing

    def _update_Account(self, existing: Mapping[str, Any], fields: dict[str, Any]) -> Effect:
        if fields.get("Status", existing.get("Status")) != existing.get("Status") or fields.keys() & {
            "BillToId",
            "SoldToId",
        }:
            self._active_needs_contacts(str(existing["Id"]), {**existing, **fields})
        return _nothing

    def _active_needs_contacts(self, account_id: str | None, account: Mapping[str, Any]) -> None:
        """An Active account names a bill-to and a sold-to contact, both its own."""
        if account.get("Status") not in ("Draft", "Active", "Canceled"):
            raise Refused("INVALID_VALUE", f"invalid account status: {account.get('Status')}")
        for role in ("BillToId", "SoldToId"):
            contact_id = account.get(role)
            if contact_id:
                contact = self._get("Contact", contact_id, role)
                if account_id is None or contact.get("AccountId") != account_id:
                    raise Refused("INVALID_VALUE", f"{role} {contact_id} is not a contact of this account")
            elif account.get("Status") == "Active":
                raise Refused("MISSING_REQUIRED_VALUE", f"an Active account needs {role}: a contact of its own")

    def _create_Contact(self, fields: dict[str, Any]) -> Effect:
        _required(fields, "AccountId", "FirstName", "LastName")
        self._get("Account", fields["AccountId"], "AccountId")
        return _nothing

    # -- payments and their applications (Invoice Settlement off: Draft, InvoicePayments, Processed) ----------------
    def _create_Payment(self, fields: dict[str, Any]) -> Effect:
        _required(fields, "AccountId", "Amount", "EffectiveDate", "Type", "PaymentMethodId")
        self._get("Account", fields["AccountId"], "AccountId")
        self._get("PaymentMethod", fields["PaymentMethodId"], "PaymentMethodId")
        if fields["Type"] not in PAYMENT_TYPES or _money(fields["Amount"]) <= 0:
            raise Refused("INVALID_VALUE", "a payment needs a positive Amount and Type External or Electronic")
        fields.setdefault("Status", "Processed")
        if fields["Status"] not in ("Draft", "Processed"):
            raise Refused("INVALID_VALUE", f"a payment is created Draft or Processed, not {fields['Status']}")
        fields.setdefault("PaymentNumber", self.store.next_number("P-"))
        return _nothing

    def _update_Payment(self, existing: Mapping[str, Any], fields: dict[str, Any]) -> Effect:
        if fields.get("Status") == "Processed" and existing.get("Status") == "Draft":
            applied = sum(_money(a.get("Amount")) for a in self._applications(str(existing["Id"])))
            if round(applied, 2) != _money(existing.get("Amount")):
                raise Refused(
                    "INVALID_VALUE",
                    f"The payment amount {_money(existing.get('Amount')):.2f} must equal the amount applied to "
                    f"invoices ({applied:.2f}).",
                )
        return _nothing

    def _applications(self, payment_id: str) -> list[dict[str, Any]]:
        return [a for a in self.store.rows("InvoicePayment") if a.get("PaymentId") == payment_id]

    def _create_InvoicePayment(self, fields: dict[str, Any]) -> Effect:
        _required(fields, "PaymentId", "InvoiceId", "Amount")
        payment = self._get("Payment", fields["PaymentId"], "PaymentId")
        invoice = self._get("Invoice", fields["InvoiceId"], "InvoiceId")
        amount = _money(fields["Amount"])
        applied = sum(_money(a.get("Amount")) for a in self._applications(str(payment["Id"])))
        self._check_application(payment["AccountId"], invoice, amount)
        if round(applied + amount, 2) > _money(payment.get("Amount")):
            raise Refused("INVALID_VALUE", "The applied amounts exceed the payment amount.")
        return lambda _: self._apply(invoice, amount)

    def _check_application(
        self, account_id: Any, invoice: Mapping[str, Any], amount: float, kind: str = "invoice"
    ) -> None:
        """A payment applies to a posted document of its account, at most its open balance."""
        if invoice.get("AccountId") != account_id or invoice.get("Status") != "Posted":
            raise Refused("INVALID_VALUE", f"{kind} {invoice['Id']} is not a posted {kind} of the payment's account")
        if amount <= 0 or amount > _money(invoice.get("Balance")):
            number = invoice.get("InvoiceNumber") or invoice.get("MemoNumber") or invoice["Id"]
            raise Refused(
                "INVALID_VALUE",
                f"The applied amount {amount:.2f} exceeds the open balance {_money(invoice.get('Balance')):.2f} "
                f"of {kind} {number}.",
            )

    def _apply(self, invoice: Mapping[str, Any], amount: float) -> None:
        current = self.store.get("Invoice", str(invoice["Id"])) or {}
        self.store.set(
            "Invoice",
            str(invoice["Id"]),
            {
                "Balance": round(_money(current.get("Balance")) - amount, 2),
                "PaymentAmount": round(_money(current.get("PaymentAmount")) + amount, 2),
            },
        )

    def create_refund(self, payment_key: str, fields: dict[str, Any]) -> Effect:
        """POST /v1/payments/{paymentKey}/refunds (Invoice Settlement): a refund of that payment."""
        payment = self.store.get("Payment", payment_key) or next(
            (p for p in self.store.rows("Payment") if p.get("PaymentNumber") == payment_key), None
        )
        fields["PaymentId"] = payment["Id"] if payment is not None else payment_key
        return self._create_Refund(fields)

    def create_payment(self, body: Mapping[str, Any], fields: dict[str, Any]) -> Effect:
        """POST /v1/payments (Invoice Settlement): a Processed payment with its invoice and debit memo applications
        (CreatePaymentType `invoices` and `debitMemos`, each at most the document's open balance)."""
        account = self._get("Account", body.get("accountId"), "accountId")
        if body.get("currency") != account.get("Currency"):
            raise Refused("INVALID_VALUE", f"the currency must be the account's ({account.get('Currency')})")
        amount = _money(body.get("amount"))
        if amount <= 0 or body.get("type") not in PAYMENT_TYPES:
            raise Refused("INVALID_VALUE", "a payment needs a positive amount and type External or Electronic")
        applications = []
        for line in body.get("invoices") or []:
            invoice = self._get("Invoice", line.get("invoiceId"), "invoiceId")
            self._check_application(account["Id"], invoice, _money(line.get("amount")))
            applications.append((invoice, _money(line.get("amount"))))
        memos = []
        for line in body.get("debitMemos") or []:
            if not self.invoice_settlement:  # debit memos are Invoice Settlement documents
                raise Refused("INVALID_VALUE", "debitMemos needs the Invoice Settlement feature")
            memo = self._get("DebitMemo", line.get("debitMemoId"), "debitMemoId")
            self._check_application(account["Id"], memo, _money(line.get("amount")), "debit memo")
            memos.append((str(memo["Id"]), _money(line.get("amount"))))
        if round(sum(a for _, a in applications) + sum(a for _, a in memos), 2) > amount:
            raise Refused("INVALID_VALUE", "The applied amounts exceed the payment amount.")
        if body.get("paymentMethodId"):
            self._get("PaymentMethod", body["paymentMethodId"], "paymentMethodId")
        fields.update(Status="Processed", PaymentNumber=self.store.next_number("P-"), AccountId=account["Id"])

        def effect(payment_id: str) -> None:
            for invoice, applied in applications:
                if self.invoice_settlement:
                    part = {"PaymentId": payment_id, "InvoiceId": invoice["Id"], "Amount": applied}
                    self.store.add("PaymentPart", part)
                else:
                    link = {"PaymentId": payment_id, "InvoiceId": invoice["Id"], "Amount": applied, "RefundAmount": 0.0}
                    self.store.add("InvoicePayment", link)
                self._apply(invoice, applied)
            for memo_id, applied in memos:
                self.store.add("PaymentPart", {"PaymentId": payment_id, "DebitMemoId": memo_id, "Amount": applied})
                balance = _money((self.store.get("DebitMemo", memo_id) or {}).get("Balance"))
                self.store.set("DebitMemo", memo_id, {"Balance": round(balance - applied, 2)})

        return effect

    # -- refunds and adjustments -------------------------------------------------------------------------------------
    def _create_Refund(self, fields: dict[str, Any]) -> Effect:
        _required(fields, "PaymentId", "Amount", "Type")
        payment = self._get("Payment", fields["PaymentId"], "PaymentId")
        if fields["Type"] == "External":
            _required(fields, "MethodType")
        amount = _money(fields["Amount"])
        left = round(_money(payment.get("Amount")) - _money(payment.get("RefundAmount")), 2)
        if payment.get("Status") != "Processed" or amount <= 0 or amount > left:
            raise Refused(
                "INVALID_VALUE",
                f"The refund amount {amount:.2f} exceeds what is left of payment "
                f"{payment.get('PaymentNumber') or payment['Id']} ({left:.2f}).",
            )
        fields.update(AccountId=payment.get("AccountId"), SourceType="Payment")
        fields.setdefault("Status", "Processed")
        fields.setdefault("RefundNumber", self.store.next_number("R-"))
        refunded = round(_money(payment.get("RefundAmount")) + amount, 2)
        payment_id = str(payment["Id"])

        def effect(_: str) -> None:
            self.store.set("Payment", payment_id, {"RefundAmount": refunded})

        return effect

    def _create_InvoiceItemAdjustment(self, fields: dict[str, Any]) -> Effect:
        _required(fields, "InvoiceId", "Amount", "Type", "AdjustmentDate", "SourceType")
        invoice = self._get("Invoice", fields["InvoiceId"], "InvoiceId")
        amount, balance = _money(fields["Amount"]), _money(invoice.get("Balance"))
        if fields["Type"] not in ADJUSTMENT_TYPES or amount <= 0:
            raise Refused("INVALID_VALUE", "an adjustment needs a positive Amount and Type Credit or Charge")
        # A credit takes at most the open balance; a charge on a negative invoice at most what brings it to zero.
        most = balance if fields["Type"] == "Credit" else -balance if balance < 0 else None
        if most is not None and amount > most:
            raise Refused(
                "INVALID_VALUE",
                f"The adjustment amount {amount:.2f} exceeds the balance {balance:.2f} of invoice "
                f"{invoice.get('InvoiceNumber') or invoice['Id']}.",
            )
        fields.update(AccountId=invoice.get("AccountId"), InvoiceNumber=invoice.get("InvoiceNumber"))
        fields.setdefault("Status", "Processed")
        fields.setdefault("AdjustmentNumber", self.store.next_number("IIA-"))
        delta = -amount if fields["Type"] == "Credit" else amount
        invoice_id = str(invoice["Id"])

        def effect(_: str) -> None:
            current = self.store.get("Invoice", invoice_id) or {}
            self.store.set(
                "Invoice",
                invoice_id,
                {
                    "Balance": round(_money(current.get("Balance")) + delta, 2),
                    "AdjustmentAmount": round(_money(current.get("AdjustmentAmount")) - delta, 2),
                },
            )

        return effect
