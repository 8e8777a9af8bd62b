"""The record flows, in the documented sync order (reference section 2): adding a type is one module and one line.

The registry's order holds both of the reference's sequences: with Invoice Settlement on (2.2) the types that run
only without it drop out, and the other way round (2.1).
"""

from zns_sync.flows.adjustment import AdjustmentFlow
from zns_sync.flows.base import Flow, FlowContext
from zns_sync.flows.customer import CustomerFlow
from zns_sync.flows.invoice import InvoiceFlow
from zns_sync.flows.item import ItemFlow
from zns_sync.flows.memo import CreditMemoFlow, DebitMemoFlow
from zns_sync.flows.payment import PaymentFlow
from zns_sync.flows.refund import RefundFlow

FLOWS: dict[str, type[Flow]] = {
    flow.name: flow
    for flow in (
        CustomerFlow, ItemFlow, InvoiceFlow, DebitMemoFlow, CreditMemoFlow, PaymentFlow, RefundFlow, AdjustmentFlow
    )
}  # fmt: skip


def refusal(name: str, invoice_settlement: bool, standard_invoice_sync: bool) -> str | None:
    """Why record type `name` cannot run as set, if it cannot (reference 2.1, 2.2, 7.2).

    A type may run only with Invoice Settlement on (memos) or off (invoice item adjustments). When NetSuite
    calculates tax (`standard_invoice_sync` false: Use Standard Invoice Sync No), the order stops after the last
    billing type: invoices, and with Invoice Settlement debit memos; payments, refunds, credit memos and
    adjustments would leave balances that differ.
    """
    flow = FLOWS[name]
    if flow.settlement is not None and flow.settlement != invoice_settlement:
        wanted, step = ("on", "2.2") if flow.settlement else ("off", "2.1")
        return (
            f"runs only with Invoice Settlement {wanted}, and sync.invoice_settlement is "
            f"{str(invoice_settlement).lower()} (reference {step})"
        )
    if not standard_invoice_sync:
        order = [n for n, f in FLOWS.items() if f.settlement in (None, invoice_settlement)]
        last_billing = max(i for i, n in enumerate(order) if FLOWS[n].bills)
        if order.index(name) > last_billing:
            return (
                f"does not run when NetSuite calculates tax (sync.standard_invoice_sync is false: the run stops "
                f"after {order[last_billing]}; reference 2.1, 2.2)"
            )
    return None


__all__ = ["FLOWS", "Flow", "FlowContext", "refusal"]
