"""Build ZOQL text for Zuora's Action query: lower-case keywords, escaped literals, at most 200 conditions.

ZOQL has no parentheses and `and` binds tighter than `or`, so a `where` clause is given as a disjunction of
conjunctions: `where=[[a, b], [c]]` renders `a and b or c`.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# Zuora's limit on AND/OR conditions in one WHERE clause (reference zuora-rest.md section 3).
MAX_CONDITIONS = 200

Value = str | int | float | Decimal | bool | dt.date | dt.datetime | None

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


@dataclass(frozen=True)
class Condition:
    """One `field op value` comparison of a ZOQL filter."""

    field: str
    op: str
    value: Value

    def render(self) -> str:
        """The condition as ZOQL text, e.g. `Status = 'Posted'`."""
        return f"{self.field} {self.op} {literal(self.value)}"

    def __str__(self) -> str:
        return self.render()

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether a record as Zuora returns it (JSON values, null fields absent) meets the condition, as ZOQL
        would decide: `= null` matches an empty field, and no other comparison does (product.md 8)."""
        actual = record.get(self.field)
        if actual is None or actual == "":
            return self.op == "=" and self.value is None
        if self.value is None:
            return self.op == "!="
        if self.op == "like":
            pattern = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(self.value))
            return re.fullmatch(pattern, str(actual), re.DOTALL) is not None
        try:
            return bool(_COMPARE[self.op](*_comparable(actual, self.value)))
        except (TypeError, ValueError, ArithmeticError):
            return False  # a value of another type than the field's: Zuora would refuse the query, nothing matches


def _comparable(actual: Any, value: Value) -> tuple[Any, Any]:
    """A JSON field value and a condition value, as two values of the condition value's type."""
    if isinstance(value, bool):
        return str(actual).lower() == "true", value
    if isinstance(value, dt.datetime):
        # Actions answer `2024-03-02T10:00:00.000-08:00`, REST resources `2024-03-02 10:00:00`.
        return dt.datetime.fromisoformat(str(actual).replace(" ", "T").replace("Z", "+00:00")), value
    if isinstance(value, dt.date):
        return dt.date.fromisoformat(str(actual)[:10]), value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(actual)), Decimal(str(value))
    return str(actual), value


def literal(value: Value) -> str:
    """Render a Python value as a ZOQL literal (strings quoted and escaped, dates as Zuora expects)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else value
        if not number.is_finite():
            raise ValueError(f"ZOQL cannot express the number {value!r}")
        return format(number, "f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"ZOQL dateTime {value.isoformat()} needs a time zone (naive times use the tenant's)")
        return "'" + value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") + "'"
    if isinstance(value, dt.date):
        return "'" + value.isoformat() + "'"
    if isinstance(value, str):
        return "'" + "".join(_ESCAPES.get(ch, ch) for ch in value) + "'"
    raise TypeError(f"unsupported ZOQL value type: {type(value).__name__}")


def _name(name: str, what: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a valid ZOQL {what} name: {name!r}")
    return name


def _compare(field: str, op: str, value: Value) -> Condition:
    if value is None and op not in ("=", "!="):
        raise ValueError(f"ZOQL cannot compare {field} {op} null")
    return Condition(_name(field, "field"), op, value)


def eq(field: str, value: Value) -> Condition:
    """`field = value` (`= null` when value is None)."""
    return _compare(field, "=", value)


def ne(field: str, value: Value) -> Condition:
    """`field != value`; like SQL, it does not match records where the field is null."""
    return _compare(field, "!=", value)


def gt(field: str, value: Value) -> Condition:
    """`field > value`."""
    return _compare(field, ">", value)


def ge(field: str, value: Value) -> Condition:
    """`field >= value`."""
    return _compare(field, ">=", value)


def lt(field: str, value: Value) -> Condition:
    """`field < value`."""
    return _compare(field, "<", value)


def le(field: str, value: Value) -> Condition:
    """`field <= value`."""
    return _compare(field, "<=", value)


def like(field: str, pattern: str) -> Condition:
    """`field like 'pattern'` (`%` once, at the start or end; `_` is one character)."""
    return Condition(_name(field, "field"), "like", pattern)


def is_null(field: str) -> Condition:
    """`field = null`."""
    return eq(field, None)


def not_null(field: str) -> Condition:
    """`field != null`."""
    return ne(field, None)


def select(object_name: str, fields: Sequence[str], where: Sequence[Sequence[Condition]] | None = None) -> str:
    """Render `select fields from object [where ...]`, `where` being a list of and-groups joined by `or`."""
    if not fields:
        raise ValueError("a ZOQL select needs at least one field")
    names = ", ".join(_name(f, "field") for f in fields)
    text = f"select {names} from {_name(object_name, 'object')}"
    if not where:
        return text
    groups: list[str] = []
    count = 0
    for group in where:
        if not group:
            raise ValueError("an empty and-group in a ZOQL where clause")
        count += len(group)
        groups.append(" and ".join(c.render() for c in group))
    if count > MAX_CONDITIONS:
        raise ValueError(f"a ZOQL where clause may hold at most {MAX_CONDITIONS} conditions, got {count}")
    return f"{text} where {' or '.join(groups)}"


def select_in(
    object_name: str,
    fields: Sequence[str],
    field: str,
    values: Iterable[Value],
    also: Sequence[Condition] = (),
) -> Iterator[str]:
    """Yield queries selecting records whose `field` equals any of `values` (each value and-ed with `also`).

    ZOQL has no `in`, so each value becomes `field = v and <also...>`, joined by `or`; the values are split
    over as many queries as needed to keep each within 200 conditions. Duplicate values are sent once.
    """
    per_value = 1 + len(also)
    if per_value > MAX_CONDITIONS:
        raise ValueError(f"too many extra conditions for one ZOQL query: {len(also)}")
    chunk = MAX_CONDITIONS // per_value
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), chunk):
        groups = [[eq(field, v), *also] for v in unique[start : start + chunk]]
        yield select(object_name, fields, groups)
