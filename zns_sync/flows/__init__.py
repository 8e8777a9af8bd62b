"""The record flows, in the documented sync order (reference section 2): adding a type is one module and one line.

The registry's order holds both of the reference's sequences: with Invoice Settlement on (2.2) the types that run
only without it drop out, and the other way round (2.1). `customer` runs one way or the other (reference 4.1, 4.2):
`flow_class` picks the one sync.customer_master names. The catalog types (`product`, `rate-plan`) run only when the
catalog sync is on (reference 4.3: sales-order sync or "Force Zuora Product Catalog sync"): `refusal` says so
otherwise, and the config adds them to sync.types when it is on.
"""

from zns_sync.flows.adjustment import AdjustmentFlow
from zns_sync.flows.base import Flow, FlowContext
from zns_sync.flows.customer import CustomerFlow
from zns_sync.flows.invoice import InvoiceFlow
from zns_sync.flows.item import ItemFlow
from zns_sync.flows.memo import CreditMemoFlow, DebitMemoFlow
from zns_sync.flows.ns_credit_memo import NetSuiteCreditMemoFlow
from zns_sync.flows.ns_customer import NetSuiteCustomerFlow
from zns_sync.flows.ns_payment import NetSuitePaymentFlow
from zns_sync.flows.ns_refund import NetSuiteRefundFlow
from zns_sync.flows.payment import PaymentFlow
from zns_sync.flows.product import ProductFlow
from zns_sync.flows.rate_plan import RatePlanFlow
from zns_sync.flows.refund import RefundFlow
from zns_sync.flows.revenue_recognition import RevenueRecognitionFlow

FLOWS: tuple[type[Flow], ...] = (
    CustomerFlow,
    NetSuiteCustomerFlow,
    ProductFlow,
    RatePlanFlow,
    ItemFlow,
    InvoiceFlow,
    RevenueRecognitionFlow,
    DebitMemoFlow,
    CreditMemoFlow,
    PaymentFlow,
    RefundFlow,
    AdjustmentFlow,
    NetSuitePaymentFlow,
    NetSuiteCreditMemoFlow,
    NetSuiteRefundFlow,
)
TYPES: tuple[str, ...] = tuple(dict.fromkeys(flow.name for flow in FLOWS))  # the --type names, in run order
DEFAULT_TYPES: tuple[str, ...] = tuple(dict.fromkeys(flow.name for flow in FLOWS if flow.enabled_by_default))
CATALOG_TYPES: tuple[str, ...] = tuple(dict.fromkeys(flow.name for flow in FLOWS if flow.catalog))


def flow_class(name: str, customer_master: str) -> type[Flow]:
    """The flow that syncs record type `name` when `customer_master` is the customer master."""
    for flow in FLOWS:
        if flow.name == name and flow.customer_master in (None, customer_master):
            return flow
    raise KeyError(f"no {name} flow for customer_master {customer_master}")


def modifiable_types() -> tuple[str, ...]:
    """The types whose synced records are updated when modified (a flow of the type declares `modified_field`)."""
    return tuple(name for name in TYPES if any(f.modified_field for f in FLOWS if f.name == name))


def custom_field_types() -> tuple[str, ...]:
    """The types whose new records take the custom fields sync.custom_fields maps (reference 4.18)."""
    return tuple(name for name in TYPES if any(f.takes_custom_fields for f in FLOWS if f.name == name))


def _any_flow(name: str) -> type[Flow]:
    """A flow of type `name`: its run-order attributes (`settlement`, `bills`) hold for every customer master."""
    return next(flow for flow in FLOWS if flow.name == name)


def refusal(
    name: str, invoice_settlement: bool, standard_invoice_sync: bool, *, catalog_sync: bool, revenue_recognition: bool
) -> str | None:
    """Why record type `name` cannot run as set, if it cannot (reference 2.1, 2.2, 4.3, 4.7.2, 7.2).

    A catalog type (products, rate plans) runs only with the catalog sync on (`catalog_sync`).

    A type may run only with Invoice Settlement on (memos) or off (invoice item adjustments, NetSuite credit
    memos); the revenue-recognition follow-up only when NetSuite uses revenue recognition. When NetSuite calculates
    tax (`standard_invoice_sync` false: Use Standard Invoice Sync No), the order stops after the last billing type:
    invoices, and with Invoice Settlement debit memos; payments, refunds, credit memos and adjustments (either way)
    would leave balances that differ.
    """
    flow = _any_flow(name)
    if flow.catalog and not catalog_sync:
        return "runs only with the product catalog sync, and sync.force_catalog_sync is false (reference 4.3)"
    if flow.revenue_recognition and not revenue_recognition:
        return "runs only when NetSuite uses revenue recognition, and sync.revenue_recognition is false (4.7.2)"
    if flow.settlement is not None and flow.settlement != invoice_settlement:
        wanted, step = ("on", "2.2") if flow.settlement else ("off", "2.1")
        return (
            f"runs only with Invoice Settlement {wanted}, and sync.invoice_settlement is "
            f"{str(invoice_settlement).lower()} (reference {step})"
        )
    if not standard_invoice_sync:
        order = [n for n in TYPES if _any_flow(n).settlement in (None, invoice_settlement)]
        last_billing = max(i for i, n in enumerate(order) if _any_flow(n).bills)
        if order.index(name) > last_billing:
            return (
                f"does not run when NetSuite calculates tax (sync.standard_invoice_sync is false: the run stops "
                f"after {order[last_billing]}; reference 2.1, 2.2)"
            )
    return None


__all__ = [
    "CATALOG_TYPES",
    "DEFAULT_TYPES",
    "FLOWS",
    "TYPES",
    "Flow",
    "FlowContext",
    "custom_field_types",
    "flow_class",
    "modifiable_types",
    "refusal",
]
