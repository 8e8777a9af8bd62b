"""The ZOQL builder: DNF rendering, escaping, literals, the 200-condition limit, select_in splitting; and
conditions judging records read through REST."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from zns_sync.zuora import zoql


def test_where_renders_a_disjunction_of_conjunctions_with_lower_case_keywords() -> None:
    text = zoql.select(
        "Invoice",
        ["Id", "Amount"],
        where=[[zoql.eq("Status", "Posted"), zoql.is_null("IntegrationStatus__NS")], [zoql.eq("Id", "x1")]],
    )
    assert text == (
        "select Id, Amount from Invoice where Status = 'Posted' and IntegrationStatus__NS = null or Id = 'x1'"
    )


def test_select_without_where() -> None:
    assert zoql.select("Account", ["Id"]) == "select Id from Account"
    assert zoql.select("Account", ["Id"], where=[]) == "select Id from Account"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('O\'Brien, "Smith" & Co.', "'O\\'Brien, \"Smith\" & Co.'"),
        ("back\\slash", "'back\\\\slash'"),
        ("line\nbreak\ttab", "'line\\nbreak\\ttab'"),
        ("株式会社テスト", "'株式会社テスト'"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (1e-7, "0.0000001"),
        (19.99, "19.99"),
        (Decimal("1E+3"), "1000"),
        (dt.date(2024, 1, 31), "'2024-01-31'"),
        (dt.datetime(2024, 1, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-8))), "'2024-02-01T07:00:00Z'"),
    ],
)
def test_literals(value: zoql.Value, expected: str) -> None:
    assert zoql.literal(value) == expected


def test_naive_datetimes_and_bad_names_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        zoql.literal(dt.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="field name"):
        zoql.eq("Name or Id", "x")
    with pytest.raises(ValueError, match="object name"):
        zoql.select("Account; drop", ["Id"])
    with pytest.raises(ValueError, match="null"):
        zoql.gt("Amount", None)
    with pytest.raises(TypeError):
        zoql.literal(object())  # type: ignore[arg-type]


def test_null_helpers_and_operators() -> None:
    rendered = [c.render() for c in (zoql.not_null("A"), zoql.ne("B", "x"), zoql.ge("C", 1), zoql.lt("D", 2.5))]
    assert rendered == ["A != null", "B != 'x'", "C >= 1", "D < 2.5"]
    assert zoql.le("E", 3).render() == "E <= 3" and zoql.gt("F", 0).render() == "F > 0"
    assert zoql.like("Name", "Acme%").render() == "Name like 'Acme%'"


def test_more_than_200_conditions_are_refused() -> None:
    where = [[zoql.eq("Id", str(i))] for i in range(200)]
    assert zoql.select("Invoice", ["Id"], where).count(" or ") == 199
    with pytest.raises(ValueError, match="200"):
        zoql.select("Invoice", ["Id"], [*where, [zoql.eq("Id", "one-too-many")]])


def test_select_in_splits_to_stay_within_200_conditions_and_dedupes() -> None:
    values = [f"id{i}" for i in range(450)] + ["id0"]
    queries = list(zoql.select_in("InvoiceItem", ["Id", "InvoiceId"], "InvoiceId", values))
    assert [q.count("InvoiceId = ") for q in queries] == [200, 200, 50]
    also = [zoql.eq("ProcessingType", 0)]
    queries = list(zoql.select_in("InvoiceItem", ["Id"], "InvoiceId", values, also=also))
    assert [q.count("InvoiceId = ") for q in queries] == [100, 100, 100, 100, 50]
    assert queries[0].startswith("select Id from InvoiceItem where InvoiceId = 'id0' and ProcessingType = 0 or ")
    assert list(zoql.select_in("InvoiceItem", ["Id"], "InvoiceId", [])) == []


@pytest.mark.parametrize(
    ("condition", "record", "matches"),
    [
        (zoql.is_null("IntegrationStatus__NS"), {}, True),
        (zoql.is_null("IntegrationStatus__NS"), {"IntegrationStatus__NS": ""}, True),
        (zoql.is_null("IntegrationStatus__NS"), {"IntegrationStatus__NS": "Ignore"}, False),
        (zoql.not_null("IntegrationStatus__NS"), {"IntegrationStatus__NS": "Ignore"}, True),
        (zoql.ne("IntegrationStatus__NS", "Sync Complete"), {}, False),  # != never matches null (product.md 8)
        (zoql.ne("IntegrationStatus__NS", "Sync Complete"), {"IntegrationStatus__NS": "Creating Invoice"}, True),
        (zoql.eq("Status", "Posted"), {"Status": "Posted"}, True),
        (zoql.eq("Status", "Posted"), {"Status": "Draft"}, False),
        (zoql.ge("InvoiceDate", dt.date(2024, 1, 1)), {"InvoiceDate": "2024-01-01"}, True),
        (zoql.ge("InvoiceDate", dt.date(2024, 1, 1)), {"InvoiceDate": "2023-12-31T23:00:00Z"}, False),
        (zoql.lt("UpdatedDate", dt.datetime(2024, 1, 1, tzinfo=dt.UTC)), {"UpdatedDate": "2023-12-31T23:00:00Z"}, True),
        (zoql.gt("Amount", 10), {"Amount": 10.5}, True),
        (zoql.le("Amount", Decimal("10.10")), {"Amount": "10.1"}, True),
        (zoql.eq("AutoPay", True), {"AutoPay": "true"}, True),
        (zoql.like("Name", "Acme%"), {"Name": "Acme Labs"}, True),
        (zoql.like("Name", "Acme%"), {"Name": "The Acme"}, False),
        (zoql.gt("Amount", 10), {"Amount": "not a number"}, False),
    ],
)
def test_a_condition_evaluates_on_a_record_as_zuora_would(
    condition: zoql.Condition, record: dict[str, object], matches: bool
) -> None:
    assert condition.matches(record) is matches


def test_conditions_judge_records_already_read_as_zuora_would() -> None:
    memo = {"Status": "Posted", "MemoDate": "2024-03-01", "Amount": 12.5, "UpdatedDate": "2024-03-02 10:00:00"}
    assert zoql.eq("Status", "Posted").matches(memo) and not zoql.ne("Status", "Posted").matches(memo)
    assert zoql.ge("MemoDate", dt.date(2024, 3, 1)).matches(memo)
    assert not zoql.gt("MemoDate", dt.date(2024, 3, 1)).matches(memo)
    assert zoql.lt("Amount", 13).matches(memo) and zoql.ge("Amount", Decimal("12.50")).matches(memo)
    assert zoql.lt("UpdatedDate", dt.datetime(2024, 3, 2, 11, tzinfo=dt.UTC)).matches(
        memo | {"UpdatedDate": "2024-03-02T10:00:00Z"}
    )
    # null: only `= null` and `!= null` say anything; `!= 'NETSUITE'` never matches an empty field (product.md 8).
    assert zoql.is_null("Origin__NS").matches(memo) and not zoql.not_null("Origin__NS").matches(memo)
    assert not zoql.ne("Origin__NS", "NETSUITE").matches(memo)
    assert zoql.ne("Origin__NS", "NETSUITE").matches(memo | {"Origin__NS": "ZUORA"})
