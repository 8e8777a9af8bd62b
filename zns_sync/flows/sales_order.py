"""NetSuite Sales Order -> Zuora Subscription (reference 4.6, 6.6; opt-in, with the product catalog sync).

One subscription per sales order, with one rate plan per line whose item is a rate-plan item (Zuora Type
`RATE_PLAN`, its Zuora ID the product rate plan's); other lines are ignored, and so is the quantity. It is created
under `Creating Subscription` with `POST /v1/subscriptions` (Zuora's REST "Create a subscription", the REST form of
the connector's `subscribe()` call; no invoice is generated), carrying `SalesOrder__NS` (the order's number) and
IntegrationId__NS (its internalId), by which it is found again before any create. The sales order then gets the
Zuora ID, the subscription number (Zuora Reference Number), the sync date and `Sync Complete`.

Term Setting TERMED (or blank: the connector's default) needs Auto Renew, Initial Term and Renewal Term; EVERGREEN
needs none of them, since an evergreen subscription has no term to renew (Zuora ignores them) and they are not sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zns_sync.flows.base import Problem, Step, Write, WriteBack, skipped, without_none, zuora_date
from zns_sync.flows.from_netsuite import NetSuiteFlow, Search, custom, ref_id, text
from zns_sync.flows.names import CURRENCY
from zns_sync.netsuite import LIMITS, CustomFieldCondition
from zns_sync.status import Action

CREATING = Step(Action.CREATING, "Subscription")
RATE_PLAN = "RATE_PLAN"  # the Zuora Type of a rate plan's item (flows/rate_plan.py)
TERMED, EVERGREEN = "TERMED", "EVERGREEN"
# Zuora's REST "Create a subscription": https://developer.zuora.com/v1-api-reference/api/operation/POST_Subscription/
SUBSCRIPTIONS = "/v1/subscriptions"


@dataclass(frozen=True)
class _Page:
    items: Mapping[str, Mapping[str, Any]]  # the lines' NetSuite items by internalId
    accounts: Mapping[str, Mapping[str, Any]]  # Zuora accounts by Id
    plans: Mapping[str, Mapping[str, Any]]  # Zuora product rate plans by Id
    currencies: Mapping[str, str]  # NetSuite currency internalId -> symbol (the Zuora currency code)


class SalesOrderFlow(NetSuiteFlow):
    """NetSuite sales orders sent to Zuora, of synced customers, with rate-plan lines, become Zuora subscriptions."""

    name = "sales-order"
    netsuite_lists = (CURRENCY,)
    enabled_by_default = False
    # Its account and its lines' rate-plan items first (reference 2.3); charge items may sync meanwhile.
    depends_on = ("customer", "product", "rate-plan")
    source_object = "SalesOrder"
    counterpart_types = ("Subscription",)
    steps = (CREATING,)

    def search(self) -> Search:
        ids = self.settings.netsuite_fields
        return self.transaction_search(
            "_salesOrder",
            CustomFieldCondition(ids.transaction_send_to_zuora, value=True),
            CustomFieldCondition(ids.transaction_customer_id_sales, "notEmpty"),
        )

    def write_back(self) -> WriteBack:
        """The subscription number, as the Zuora Reference Number (reference 4.6)."""
        return WriteBack("Subscription", {self.settings.netsuite_fields.transaction_reference_number: "Name"})

    def lookups(self, rows: Sequence[dict[str, Any]]) -> _Page:
        ctx = self.context
        wanted = sorted({ref_id(line.get("item")) for row in rows for line in _lines(row)} - {""})
        size = LIMITS["searchPageSize"]
        items = {
            str(item["internalId"]): item
            for start in range(0, len(wanted), size)
            for page in ctx.netsuite.search_pages("item", internal_ids=wanted[start : start + size])
            for item in page
        }
        plan_ids = [self._plan_id(item) for item in items.values() if self._is_plan(item)]
        accounts, plans = ctx.concurrently(
            lambda: ctx.zuora_by_id("Account", ("Id", "Status", "Currency"), [self._account_id(r) for r in rows]),
            lambda: ctx.zuora_by_id("ProductRatePlan", ("Id", "Name"), plan_ids),
        )
        currencies = {v: k for k, v in ctx.names.all(CURRENCY).items()}
        return _Page(items=items, accounts=accounts, plans=plans, currencies=currencies)

    def _account_id(self, row: Mapping[str, Any]) -> str:
        return text(custom(row, self.settings.netsuite_fields.transaction_customer_id_sales))

    def _is_plan(self, item: Mapping[str, Any]) -> bool:
        return text(custom(item, self.settings.netsuite_fields.item_zuora_type)) == RATE_PLAN

    def _plan_id(self, item: Mapping[str, Any]) -> str:
        return text(custom(item, self.settings.netsuite_fields.item_zuora_id))

    def _plan_lines(self, row: Mapping[str, Any], page: _Page) -> list[tuple[str, str]]:
        """(item internalId, product rate plan Id) of each rate-plan line, in order."""
        found = [page.items.get(ref_id(line.get("item"))) for line in _lines(row)]
        return [(str(item["internalId"]), self._plan_id(item)) for item in found if item and self._is_plan(item)]

    def _field(self, row: Mapping[str, Any], key: str) -> str:
        return text(custom(row, getattr(self.settings.netsuite_fields, key))).strip()

    def _term_type(self, row: Mapping[str, Any]) -> str:
        return self._field(row, "sales_order_term_setting").upper() or TERMED

    # -- selection (reference 4.6) ----------------------------------------------------------------------------------
    def exclusion(self, row: Mapping[str, Any], page: _Page) -> str | None:
        if not self._plan_lines(row, page):
            return f"no line's item is a rate-plan item (Zuora Type {RATE_PLAN})"
        return None

    # -- validations (reference 4.6) --------------------------------------------------------------------------------
    def validate(self, row: Mapping[str, Any], page: _Page) -> Problem | None:
        account = page.accounts.get(self._account_id(row))
        if account is None:
            return skipped(f"Zuora Customer ID (Sales) {self._account_id(row)!r} names no Zuora account")
        term = self._term_type(row)
        if term not in (TERMED, EVERGREEN):
            return skipped(f"Zuora Term Setting {term!r} is not {TERMED} or {EVERGREEN}")
        if term == TERMED:
            if self._field(row, "sales_order_auto_renew") not in ("Yes", "No"):
                return skipped("Zuora Auto Renew is empty (Yes or No; needed with Term Setting TERMED)")
            for key, label in (
                ("sales_order_initial_term", "Initial Term"),
                ("sales_order_renewal_term", "Renewal Term"),
            ):
                value = self._field(row, key)
                if not value:
                    return skipped(f"Zuora {label} is empty (needed with Term Setting TERMED)")
                if _months(value) is None:
                    return skipped(f"Zuora {label} {value!r} is not a whole number of months")
        symbol = page.currencies.get(ref_id(row.get("currency")))
        if symbol != account.get("Currency"):
            shown = symbol or f"NetSuite currency {ref_id(row.get('currency'))!r}"
            return skipped(f"currency {shown} is not the Zuora account's ({account.get('Currency')})")
        for item, plan in self._plan_lines(row, page):
            if plan not in page.plans:
                return skipped(f"item {item}'s Zuora ID {plan!r} names no Zuora product rate plan")
        return None

    # -- mapping (reference 6.6) ------------------------------------------------------------------------------------
    def writes(self, row: Mapping[str, Any], page: _Page) -> list[Write]:
        term = self._term_type(row)
        termed = term == TERMED
        contract = zuora_date(custom(row, self.settings.netsuite_fields.sales_order_contract_effective_date))
        body = {
            "accountKey": self._account_id(row),
            "subscriptionNumber": self._field(row, "sales_order_subscription_number") or None,
            "termType": term,
            "autoRenew": self._field(row, "sales_order_auto_renew") == "Yes" if termed else None,
            "initialTerm": _months(self._field(row, "sales_order_initial_term")) if termed else None,
            "renewalTerm": _months(self._field(row, "sales_order_renewal_term")) if termed else None,
            # Required by Zuora; optional on the order (reference 4.6): the order's date then.
            "contractEffectiveDate": contract or zuora_date(row.get("tranDate")),
            "customerAcceptanceDate": self._date(row, "sales_order_customer_acceptance_date"),
            "termStartDate": self._date(row, "sales_order_term_start_date"),
            "invoiceCollect": False,  # the connector's GenerateInvoices=false
            "subscribeToRatePlans": [{"productRatePlanId": plan} for _, plan in self._plan_lines(row, page)],
            "SalesOrder__NS": row.get("tranId"),
            **self.back_reference(row),
        }
        return [self.zuora_create(CREATING, "Subscription", without_none(body), rest=SUBSCRIPTIONS)]

    def _date(self, row: Mapping[str, Any], key: str) -> Any:
        return zuora_date(custom(row, getattr(self.settings.netsuite_fields, key)))


def _lines(row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((row.get("itemList") or {}).get("item") or [])


def _months(value: str) -> int | None:
    """A term in months: a positive whole number (NetSuite may give an integer field as `12` or `12.0`)."""
    number = value[:-2] if value.endswith(".0") else value
    return int(number) if number.isdigit() and int(number) > 0 else None
