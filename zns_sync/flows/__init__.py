"""The record flows, in the documented sync order (reference section 2): adding a type is one module and one line.

`customer` runs one way or the other (reference 4.1, 4.2): `flow_class` picks the one sync.customer_master names.
"""

from zns_sync.flows.base import Flow, FlowContext
from zns_sync.flows.customer import CustomerFlow
from zns_sync.flows.invoice import InvoiceFlow
from zns_sync.flows.item import ItemFlow
from zns_sync.flows.ns_credit_memo import NetSuiteCreditMemoFlow
from zns_sync.flows.ns_customer import NetSuiteCustomerFlow
from zns_sync.flows.ns_payment import NetSuitePaymentFlow
from zns_sync.flows.ns_refund import NetSuiteRefundFlow
from zns_sync.flows.payment import PaymentFlow
from zns_sync.flows.refund import RefundFlow

FLOWS: tuple[type[Flow], ...] = (
    CustomerFlow,
    NetSuiteCustomerFlow,
    ItemFlow,
    InvoiceFlow,
    PaymentFlow,
    RefundFlow,
    NetSuitePaymentFlow,
    NetSuiteCreditMemoFlow,
    NetSuiteRefundFlow,
)
TYPES: tuple[str, ...] = tuple(dict.fromkeys(flow.name for flow in FLOWS))  # the --type names, in run order
DEFAULT_TYPES: tuple[str, ...] = tuple(dict.fromkeys(flow.name for flow in FLOWS if flow.enabled_by_default))


def flow_class(name: str, customer_master: str) -> type[Flow]:
    """The flow that syncs record type `name` when `customer_master` is the customer master."""
    for flow in FLOWS:
        if flow.name == name and flow.customer_master in (None, customer_master):
            return flow
    raise KeyError(f"no {name} flow for customer_master {customer_master}")


__all__ = ["DEFAULT_TYPES", "FLOWS", "TYPES", "Flow", "FlowContext", "flow_class"]
