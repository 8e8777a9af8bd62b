"""The record flows, in the documented sync order (reference section 2): adding a type is one module and one line."""

from zns_sync.flows.base import Flow, FlowContext
from zns_sync.flows.customer import CustomerFlow
from zns_sync.flows.invoice import InvoiceFlow
from zns_sync.flows.item import ItemFlow
from zns_sync.flows.payment import PaymentFlow
from zns_sync.flows.refund import RefundFlow

FLOWS: dict[str, type[Flow]] = {
    flow.name: flow for flow in (CustomerFlow, ItemFlow, InvoiceFlow, PaymentFlow, RefundFlow)
}

__all__ = ["FLOWS", "Flow", "FlowContext"]
