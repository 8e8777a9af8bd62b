"""The rev rec rules of reference 4.7.2, one test per rule (zns_sync/flows/revrec.py: pure code)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from zns_sync.flows.revrec import LineRevenue, RevRecSettingError, RevRecSettings, line_revenue

SERVICE_START = dt.date(2024, 3, 1)
SERVICE_END = dt.date(2024, 3, 31)
SUBSCRIPTION_END = dt.date(2025, 2, 28)


def settings(**fields: Any) -> RevRecSettings:
    return RevRecSettings.of({"RevRecCode": "Ratable", **fields})


def revenue(
    rules: RevRecSettings, trigger: dt.date | None, *, enabled: bool = True, project: str | None = None
) -> LineRevenue | None:
    return line_revenue(
        enabled,
        rules,
        service_start=SERVICE_START,
        service_end=SERVICE_END,
        subscription_end=SUBSCRIPTION_END,
        trigger=trigger,
        project=project,
    )


def test_preference_no_sends_nothing() -> None:
    assert revenue(settings(RevRecStart__NS="Rev Rec Trigger Date"), dt.date(2024, 3, 5), enabled=False) is None


def test_variable_template_sends_the_project_and_no_dates() -> None:
    rules = settings(RevRecTemplateType__NS="Variable", RevRecStart__NS="Rev Rec Trigger Date")
    assert revenue(rules, None, project="77") == LineRevenue(None, None, False, "77")
    assert revenue(rules, dt.date(2024, 3, 5), project="77") == LineRevenue(None, None, False, "77")


def test_no_rev_rec_code_uses_the_service_period() -> None:
    rules = RevRecSettings.of({"RevRecStart__NS": "Rev Rec Trigger Date"})
    assert revenue(rules, None) == LineRevenue(SERVICE_START, SERVICE_END, False)
    # Variable without a RevRecCode is not project based (the rule names a charge with a RevRecCode).
    assert revenue(RevRecSettings.of({"RevRecTemplateType__NS": "Variable"}), None, project="77") == LineRevenue(
        SERVICE_START, SERVICE_END, False
    )


def test_standard_with_trigger_and_charge_period_start() -> None:
    rules = settings(RevRecTemplateType__NS="Standard", RevRecStart__NS="Charge Period Start")
    assert revenue(rules, dt.date(2024, 3, 5)) == LineRevenue(SERVICE_START, SERVICE_END, False)


def test_standard_with_trigger_and_trigger_date_start() -> None:
    rules = settings(RevRecTemplateType__NS="Standard", RevRecStart__NS="Rev Rec Trigger Date")
    assert revenue(rules, dt.date(2024, 3, 5)) == LineRevenue(dt.date(2024, 3, 5), SERVICE_END, False)


def test_standard_with_trigger_and_template_start_sends_no_start() -> None:
    rules = settings(RevRecStart__NS="Use NetSuite Rev Rec Template")
    assert revenue(rules, dt.date(2024, 3, 5)) == LineRevenue(None, SERVICE_END, False)


def test_trigger_before_the_service_start_starts_at_the_service_start() -> None:
    rules = settings(RevRecStart__NS="Rev Rec Trigger Date")
    assert revenue(rules, dt.date(2024, 2, 10)) == LineRevenue(SERVICE_START, SERVICE_END, False)


def test_no_trigger_date_yet_defers_with_the_service_start() -> None:
    for start in ("Charge Period Start", "Rev Rec Trigger Date", "Use NetSuite Rev Rec Template"):
        assert revenue(settings(RevRecStart__NS=start), None) == LineRevenue(SERVICE_START, SERVICE_END, True)


def test_end_options() -> None:
    trigger = dt.date(2024, 3, 5)
    assert revenue(settings(RevRecEnd__NS="Charge Period End"), trigger).end == SERVICE_END  # type: ignore[union-attr]
    assert revenue(settings(RevRecEnd__NS="Subscription End Date"), trigger).end == SUBSCRIPTION_END  # type: ignore[union-attr]
    assert revenue(settings(RevRecEnd__NS="Use NetSuite Rev Rec Template"), trigger).end is None  # type: ignore[union-attr]
    assert revenue(settings(), trigger).end == SERVICE_END  # type: ignore[union-attr]  # empty: the charge period


def test_the_api_enum_mistake_reads_end_values_by_position() -> None:
    """The API enum of RevRecEnd__NS repeats the start values (reference 5.1, 10.6): read by position."""
    assert settings(RevRecEnd__NS="Charge Period Start").end == "Charge Period End"
    assert settings(RevRecEnd__NS="Rev Rec Trigger Date").end == "Subscription End Date"
    assert settings(RevRecEnd__NS="Use NetSuite Rev Rec Template").end == "Use NetSuite Rev Rec Template"
    trigger = dt.date(2024, 3, 5)
    assert revenue(settings(RevRecEnd__NS="Rev Rec Trigger Date"), trigger).end == SUBSCRIPTION_END  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("field", "value"),
    [("RevRecTemplateType__NS", "Fixed"), ("RevRecStart__NS", "Charge Period End"), ("RevRecEnd__NS", "Whenever")],
)
def test_an_undefined_value_is_refused_with_its_field(field: str, value: str) -> None:
    with pytest.raises(RevRecSettingError, match=field):
        settings(**{field: value})
