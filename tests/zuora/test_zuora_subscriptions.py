"""The emulator's `POST /v1/subscriptions` (Zuora's "Create a subscription", not in the vendored OpenAPI): Zuora's
rules for a new subscription, its generated number, its rate plans in ZOQL, Idempotency-Key replay."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest

from zns_sync.sandbox.zuora_server import ZuoraEmulator
from zns_sync.zuora import ZuoraClient, ZuoraError

ClientFactory = Callable[..., ZuoraClient]


@pytest.fixture
def tenant(emulator: ZuoraEmulator) -> dict[str, str]:
    add = emulator.store.add
    product = add("Product", {"Name": "Platform"})
    return {
        "active": add("Account", {"Name": "Active", "Currency": "USD", "Status": "Active"}),
        "draft": add("Account", {"Name": "Draft", "Currency": "USD", "Status": "Draft"}),
        "plan": add("ProductRatePlan", {"Name": "Starter", "ProductId": product,
                                        "EffectiveStartDate": "2020-01-01", "EffectiveEndDate": "2099-12-31"}),
        "old_plan": add("ProductRatePlan", {"Name": "Legacy", "ProductId": product,
                                            "EffectiveStartDate": "2010-01-01", "EffectiveEndDate": "2015-12-31"}),
    }  # fmt: skip


def body(tenant: dict[str, str], **changes: Any) -> dict[str, Any]:
    data = {
        "accountKey": tenant["active"], "termType": "TERMED", "initialTerm": 12, "renewalTerm": 12, "autoRenew": True,
        "contractEffectiveDate": "2025-01-01", "invoiceCollect": False,
        "subscribeToRatePlans": [{"productRatePlanId": tenant["plan"]}, {"productRatePlanId": tenant["plan"]}],
        "SalesOrder__NS": "SO1001", "IntegrationId__NS": "77",
    }  # fmt: skip
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_subscription_is_numbered_with_a_rate_plan_per_plan_and_queryable(
    emulator: ZuoraEmulator, make_client: ClientFactory, tenant: dict[str, str]
) -> None:
    client = make_client()
    made = client.rest_create("/v1/subscriptions", body(tenant), idempotency_key="k-1")
    assert made.success and made.id
    (row,) = client.query(
        "select Id, Name, AccountId, Status, TermType, InitialTerm, RenewalTerm, AutoRenew, ContractEffectiveDate, "
        "SalesOrder__NS from Subscription where IntegrationId__NS = '77'"
    )
    assert row["Id"] == made.id and re.fullmatch(r"A-S\d{8}", row["Name"]) and row["Status"] == "Active"
    assert (row["TermType"], row["InitialTerm"], row["AutoRenew"], row["SalesOrder__NS"]) == (
        "TERMED",
        12,
        True,
        "SO1001",
    )
    plans = list(client.query(f"select Id, ProductRatePlanId from RatePlan where SubscriptionId = '{made.id}'"))
    assert [p["ProductRatePlanId"] for p in plans] == [tenant["plan"], tenant["plan"]]
    again = client.rest_create("/v1/subscriptions", body(tenant), idempotency_key="k-1")  # replayed, not repeated
    assert again.id == made.id and emulator.store.count("Subscription") == 1
    other = client.rest_create("/v1/subscriptions", body(tenant, IntegrationId__NS="78"), idempotency_key="k-2")
    second = (emulator.store.get("Subscription", str(other.id)) or {})["Name"]
    assert re.fullmatch(r"A-S\d{8}", second) and second != row["Name"]
    assert dt.date(2025, 1, 1) == (emulator.store.get("Subscription", made.id) or {})["TermStartDate"]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"accountKey": "draft"}, "is not Active"),
        ({"accountKey": "8a8aa0ffffffffffffffffffffffffff"}, "invalid accountKey"),
        ({"initialTerm": None}, "InitialTerm is required"),
        ({"contractEffectiveDate": None}, "ContractEffectiveDate is required"),
        ({"termType": "MONTHLY"}, "invalid termType"),
        ({"subscribeToRatePlans": []}, "subscribeToRatePlans is required"),
        ({"subscribeToRatePlans": [{"productRatePlanId": "old_plan"}]}, "is not effective on 2025-01-01"),
        ({"subscriptionNumber": "SUB-1"}, "already used"),
    ],
)
def test_zuora_refuses_what_it_would_refuse(
    make_client: ClientFactory, tenant: dict[str, str], changes: dict[str, Any], words: str
) -> None:
    client = make_client()
    first = body(tenant, IntegrationId__NS="1", subscriptionNumber="SUB-1")
    assert client.rest_create("/v1/subscriptions", first, idempotency_key="first").success
    named = {k: tenant.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    if "subscribeToRatePlans" in named:
        named["subscribeToRatePlans"] = [{"productRatePlanId": tenant[p["productRatePlanId"]]}
                                         for p in changes["subscribeToRatePlans"]]  # fmt: skip
    refused = client.rest_create("/v1/subscriptions", body(tenant, **named), idempotency_key="second")
    assert not refused.success and words in " ".join(e.message for e in refused.errors), refused


def test_an_evergreen_subscription_needs_no_terms_and_the_actions_do_not_create_subscriptions(
    make_client: ClientFactory, tenant: dict[str, str]
) -> None:
    client = make_client()
    evergreen = body(tenant, termType="EVERGREEN", initialTerm=None, renewalTerm=None, autoRenew=None)
    assert client.rest_create("/v1/subscriptions", evergreen, idempotency_key="e").success
    with pytest.raises(ZuoraError, match="subscribe instead"):
        client.create("Subscription", [{"AccountId": tenant["active"], "Name": "S"}])
