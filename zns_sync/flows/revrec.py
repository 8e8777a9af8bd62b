"""Revenue recognition of one billing line (reference 4.7.2, 5.1, 6.7): pure code, no I/O.

The NetSuite line fields `revRecStartDate`, `revRecEndDate`, `deferRevRec` and, for project-based (Variable)
templates, `job`, from the setting "NetSuite uses revenue recognition" (`sync.revenue_recognition`), the product
charge's RevRecCode and connector fields (`RevRecTemplateType__NS`, `RevRecStart__NS`, `RevRecEnd__NS`), the line's
service dates, its subscription's end date and project (`Project__NS`) and the rev rec trigger date
(InvoiceItem.RevRecStartDate: the date Zuora says revenue recognition is triggered).

Decisions where the reference is silent (inferred):
- An empty `RevRecTemplateType__NS` reads as `Standard` (the only other value is project based).
- An empty `RevRecStart__NS` reads as `Charge Period Start`, an empty `RevRecEnd__NS` as `Charge Period End`:
  the line's own service period, as for a charge without a RevRecCode.
- The API enum of `RevRecEnd__NS` repeats the start values (reference 5.1, 10.6); a tenant whose field was created
  from it holds one of those. They are read by position, as the documented end values they stand for:
  `Charge Period Start` -> `Charge Period End`, `Rev Rec Trigger Date` -> `Subscription End Date`,
  `Use NetSuite Rev Rec Template` -> itself.
- Any other value is refused (`RevRecSettingError`): the line is skipped with the value named, never guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# RevRecTemplateType__NS (reference 5.1)
STANDARD = "Standard"
VARIABLE = "Variable"  # project based: NetSuite recognizes revenue from the project (job)
# RevRecStart__NS
CHARGE_PERIOD_START = "Charge Period Start"
TRIGGER_DATE = "Rev Rec Trigger Date"
TEMPLATE = "Use NetSuite Rev Rec Template"  # also an end option: no date sent, NetSuite computes it
# RevRecEnd__NS, as the documentation names the values
CHARGE_PERIOD_END = "Charge Period End"
SUBSCRIPTION_END = "Subscription End Date"
# The API enum's start values in the end field, read by position (reference 10.6).
_END_BY_API_VALUE = {CHARGE_PERIOD_START: CHARGE_PERIOD_END, TRIGGER_DATE: SUBSCRIPTION_END, TEMPLATE: TEMPLATE}
_STARTS = (CHARGE_PERIOD_START, TRIGGER_DATE, TEMPLATE)
_ENDS = (CHARGE_PERIOD_END, SUBSCRIPTION_END, TEMPLATE)
_TEMPLATE_TYPES = (STANDARD, VARIABLE)
# The product charge's fields this reads (ZOQL names, ProductRatePlanCharge; reference 5.1, zuora-rest.md 7).
CHARGE_FIELDS = ("RevRecCode", "RevRecTemplateType__NS", "RevRecStart__NS", "RevRecEnd__NS")


class RevRecSettingError(ValueError):
    """A product charge's rev rec field holds a value the connector does not define."""


@dataclass(frozen=True)
class RevRecSettings:
    """A product charge's revenue recognition settings, checked."""

    code: str | None  # RevRecCode: the NetSuite rev rec template's name
    template_type: str  # Standard or Variable
    start: str  # one of _STARTS
    end: str  # one of _ENDS

    @classmethod
    def of(cls, charge: Mapping[str, Any]) -> RevRecSettings:
        """The settings of a ProductRatePlanCharge row (CHARGE_FIELDS); RevRecSettingError on a value not defined."""
        code = _text(charge.get("RevRecCode"))
        template_type = _text(charge.get("RevRecTemplateType__NS")) or STANDARD
        start = _text(charge.get("RevRecStart__NS")) or CHARGE_PERIOD_START
        given_end = _text(charge.get("RevRecEnd__NS")) or CHARGE_PERIOD_END
        end = given_end if given_end in _ENDS else _END_BY_API_VALUE.get(given_end, given_end)
        for field, value, allowed in (
            ("RevRecTemplateType__NS", template_type, _TEMPLATE_TYPES),
            ("RevRecStart__NS", start, _STARTS),
            ("RevRecEnd__NS", end, _ENDS),
        ):
            if value not in allowed:
                raise RevRecSettingError(f"{field} is {value!r}, not one of {', '.join(allowed)}")
        return cls(code, template_type, start, end)


@dataclass(frozen=True)
class LineRevenue:
    """What a NetSuite line carries for revenue recognition."""

    start: dt.date | None  # revRecStartDate; None: not sent
    end: dt.date | None  # revRecEndDate; None: not sent
    defer: bool  # deferRevRec
    job: str | None = None  # the NetSuite project's internalId (Variable templates)


def line_revenue(
    enabled: bool,
    settings: RevRecSettings,
    *,
    service_start: dt.date | None,
    service_end: dt.date | None,
    subscription_end: dt.date | None,
    trigger: dt.date | None,
    project: str | None,
) -> LineRevenue | None:
    """The rev rec fields of one line (reference 4.7.2); None when NetSuite does not use revenue recognition (the
    preference No: nothing is sent, NetSuite's defaults stand)."""
    if not enabled:
        return None
    if settings.code and settings.template_type == VARIABLE:
        # Project based: NetSuite recognizes revenue from the project's status; no dates, no deferral.
        return LineRevenue(None, None, False, project)
    end = _end(settings.end, service_end, subscription_end)
    if not settings.code:
        return LineRevenue(service_start, end, False)
    if trigger is None:
        # No trigger date yet: deferred, with the service start for now (the later update sets the real one).
        return LineRevenue(service_start, end, True)
    if settings.start == TEMPLATE:
        start = None  # NetSuite computes it from the template
    elif service_start is not None and trigger < service_start:
        start = service_start
    elif settings.start == TRIGGER_DATE:
        start = trigger
    else:
        start = service_start
    return LineRevenue(start, end, False)


def _end(option: str, service_end: dt.date | None, subscription_end: dt.date | None) -> dt.date | None:
    if option == TEMPLATE:
        return None
    if option == SUBSCRIPTION_END:
        return subscription_end
    return service_end


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None
