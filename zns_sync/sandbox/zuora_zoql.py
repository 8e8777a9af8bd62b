"""A ZOQL parser and evaluator for the Zuora emulator: Zuora's query() dialect, errors as Zuora reports them."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

from zns_sync.sandbox.zuora_store import (
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    INTEGER,
    NOT_ACTION_OBJECTS,
    NOT_FILTERABLE,
    NOT_SELECTABLE,
    InvalidValue,
    ObjectSchema,
    parse_date,
    parse_datetime,
    schema_for,
)

MAX_CONDITIONS = 200
KEYWORDS = frozenset({"select", "from", "where", "and", "or", "like", "null", "true", "false"})
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:\\.|[^'\\])*')|(?P<number>-?\d+(?:\.\d+)?)(?![A-Za-z_])|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>!=|<=|>=|=|<|>)|(?P<comma>,)|(?P<other>\S))"
)
_UNESCAPE = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


class ZoqlError(Exception):
    """A query Zuora would refuse: a FaultCode (`MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_VALUE`) and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Condition:
    """One parsed comparison, its value already converted to the field's type."""

    field: str
    op: str
    value: Any

    def matches(self, record: dict[str, Any]) -> bool:
        """Whether a stored record satisfies the condition (SQL semantics: `!=` never matches null)."""
        actual = record.get(self.field)
        if self.value is None:
            return (actual is None) if self.op == "=" else (actual is not None)
        if actual is None:
            return False
        if self.op == "like":
            return bool(self.value.match(actual)) if isinstance(actual, str) else False
        try:
            if self.op == "=":
                return bool(actual == self.value)
            if self.op == "!=":
                return bool(actual != self.value)
            if self.op == "<":
                return bool(actual < self.value)
            if self.op == "<=":
                return bool(actual <= self.value)
            if self.op == ">":
                return bool(actual > self.value)
            return bool(actual >= self.value)
        except TypeError:
            return False


@dataclass(frozen=True)
class Query:
    """A parsed `select fields from Object where a and b or c`: `where` is a list of and-groups."""

    object: ObjectSchema
    fields: tuple[str, ...]
    where: tuple[tuple[Condition, ...], ...]

    def matches(self, record: dict[str, Any]) -> bool:
        """Whether a record is selected (`and` binds tighter than `or`)."""
        if not self.where:
            return True
        keyed = self.keyed_groups
        if keyed is not None:
            field, groups = keyed
            candidates = groups.get(record.get(field))
            return candidates is not None and any(all(c.matches(record) for c in g) for g in candidates)
        return any(all(c.matches(record) for c in group) for group in self.where)

    @functools.cached_property
    def keyed_groups(self) -> tuple[str, dict[Any, list[tuple[Condition, ...]]]] | None:
        """When every and-group pins one field with `=` (an id list split into `or`s), the groups by that value.

        Zuora answers such queries from an index; matching them group by group would make the emulator
        quadratic (200 conditions times every row), so they are looked up by value instead.
        """
        if len(self.where) < 2:
            return None
        for pinned in self.where[0]:
            if pinned.op != "=" or pinned.value is None:
                continue
            groups: dict[Any, list[tuple[Condition, ...]]] = {}
            for group in self.where:
                value = next(
                    (c.value for c in group if c.field == pinned.field and c.op == "=" and c.value is not None), None
                )
                if value is None:
                    break
                groups.setdefault(value, []).append(group)
            else:
                return pinned.field, groups
        return None


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        kind = match.lastgroup
        assert kind is not None
        token = match.group(kind)
        if kind == "other":
            if token == "*":
                raise ZoqlError("MALFORMED_QUERY", "the wildcard * is not supported: list the fields to select")
            if token in "()":
                raise ZoqlError("MALFORMED_QUERY", "parentheses are not supported in ZOQL filters")
            raise ZoqlError("MALFORMED_QUERY", f"unexpected character {token!r} in query")
        if kind == "name" and token.lower() in KEYWORDS:
            if token != token.lower():
                raise ZoqlError("MALFORMED_QUERY", f"ZOQL keywords must be lower case: {token!r}")
            kind = token
        tokens.append(_Tok(kind, token))
    return tokens


class _Parser:
    def __init__(
        self, text: str, tz: dt.tzinfo, lenient_fields: dict[str, frozenset[str]], unavailable: frozenset[str]
    ) -> None:
        self.unavailable = unavailable
        self.tokens = _tokens(text)
        self.pos = 0
        self.tz = tz
        self.lenient = lenient_fields

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str, what: str) -> _Tok:
        token = self.peek()
        if token is None or token.kind != kind:
            found = repr(token.text) if token else "the end of the query"
            raise ZoqlError("MALFORMED_QUERY", f"expected {what}, found {found}")
        self.pos += 1
        return token

    def parse(self) -> Query:
        self.take("select", "'select'")
        names = [self.take("name", "a field name").text]
        while self.peek() is not None and self.peek().kind == "comma":  # type: ignore[union-attr]
            self.pos += 1
            names.append(self.take("name", "a field name after ','").text)
        self.take("from", "'from'")
        object_name = self.take("name", "an object name").text
        schema = schema_for(object_name)
        if schema is None:
            raise ZoqlError("MALFORMED_QUERY", f"invalid object type: {object_name}")
        if schema.name in self.unavailable:
            raise ZoqlError("MALFORMED_QUERY", f"{schema.name} cannot be queried with the Action query")
        fields = tuple(dict.fromkeys(self.field(schema, n, select=True) for n in names))
        where: list[tuple[Condition, ...]] = []
        if self.peek() is not None:
            self.take("where", "'where' or the end of the query")
            group = [self.condition(schema)]
            count = 1
            while self.peek() is not None:
                joiner = self.peek()
                assert joiner is not None
                if joiner.kind not in ("and", "or"):
                    raise ZoqlError("MALFORMED_QUERY", f"expected 'and' or 'or', found {joiner.text!r}")
                self.pos += 1
                if joiner.kind == "or":
                    where.append(tuple(group))
                    group = []
                group.append(self.condition(schema))
                count += 1
                if count > MAX_CONDITIONS:
                    raise ZoqlError(
                        "MALFORMED_QUERY",
                        f"too many conditions in the where clause (at most {MAX_CONDITIONS})",
                    )
            where.append(tuple(group))
        return Query(schema, fields, tuple(where))

    def field(self, schema: ObjectSchema, name: str, *, select: bool = False) -> str:
        field = schema.canonical(name)
        hidden = (
            NOT_SELECTABLE.get(schema.name, frozenset()) if select else NOT_FILTERABLE.get(schema.name, frozenset())
        )
        lenient = self.lenient.get(schema.name, frozenset())
        if (
            field is None
            or field in hidden
            or (field == "ProductRatePlanChargeId" and schema.name == "InvoiceItem" and field not in lenient)
        ):
            verb = "queried" if select else "filtered on"
            raise ZoqlError("INVALID_FIELD", f"invalid field for {schema.name}: {name} (cannot be {verb})")
        return field

    def condition(self, schema: ObjectSchema) -> Condition:
        field = self.field(schema, self.take("name", "a field name").text)
        token = self.peek()
        if token is None or token.kind not in ("op", "like"):
            raise ZoqlError("MALFORMED_QUERY", f"expected an operator after {field}")
        self.pos += 1
        op = token.text
        value_token = self.peek()
        if value_token is None:
            raise ZoqlError("MALFORMED_QUERY", f"expected a value after {field} {op}")
        self.pos += 1
        if value_token.kind == "name":
            raise ZoqlError(
                "MALFORMED_QUERY", f"comparing two fields is not supported ({field} {op} {value_token.text})"
            )
        kind = schema.fields[field]
        try:
            return Condition(field, op, self.value(field, kind, op, value_token))
        except InvalidValue as exc:
            raise ZoqlError("INVALID_VALUE", f"{schema.name}.{field}: {exc}") from None

    def value(self, field: str, kind: str, op: str, token: _Tok) -> Any:
        if token.kind == "null":
            if op not in ("=", "!="):
                raise ZoqlError("MALFORMED_QUERY", f"null can only be compared with = or != ({field} {op} null)")
            return None
        if op == "like":
            if token.kind != "string" or kind not in ("string", "id"):
                raise InvalidValue("like needs a string field and a quoted pattern")
            return _like(_unquote(token.text))
        if token.kind in ("true", "false"):
            if kind != BOOLEAN:
                raise InvalidValue(f"{token.text} is not a valid value for a {kind} field")
            if op not in ("=", "!="):
                raise InvalidValue(f"booleans can only be compared with = or !=, not {op}")
            return token.kind == "true"
        if token.kind == "number":
            if kind == INTEGER and "." not in token.text:
                return int(token.text)
            if kind in (DECIMAL, INTEGER):
                return float(token.text)
            raise InvalidValue(f"{token.text} is not a valid value for a {kind} field (quote strings)")
        if token.kind != "string":
            raise ZoqlError("MALFORMED_QUERY", f"expected a value after {field} {op}, found {token.text!r}")
        text = _unquote(token.text)
        if kind == DATE:
            return parse_date(text)
        if kind == DATETIME:
            if "T" not in text and " " not in text:
                raise InvalidValue(f"{text!r} is a date; {field} is a dateTime (use YYYY-MM-DDThh:mm:ss)")
            return parse_datetime(text, self.tz)
        if kind in (DECIMAL, INTEGER, BOOLEAN):
            raise InvalidValue(f"'{text}' is not a valid value for a {kind} field")
        return text


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            nxt = body[index + 1]
            if nxt not in _UNESCAPE:
                raise InvalidValue(f"invalid escape sequence \\{nxt}")
            out.append(_UNESCAPE[nxt])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _like(pattern: str) -> re.Pattern[str]:
    percents = pattern.count("%")
    if percents > 1 or (percents == 1 and not (pattern.startswith("%") or pattern.endswith("%"))):
        raise InvalidValue(f"invalid like pattern {pattern!r}: % may appear once, at the start or the end")
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(regex + r"\Z", re.DOTALL)


def parse(
    text: str,
    tz: dt.tzinfo,
    lenient_fields: dict[str, frozenset[str]] | None = None,
    unavailable: frozenset[str] = NOT_ACTION_OBJECTS,
) -> Query:
    """Parse ZOQL in Zuora's query() dialect, raising ZoqlError with Zuora's FaultCode on anything it refuses.

    `unavailable` names the objects the tenant refuses to query (the Invoice Settlement objects, and with
    Invoice Settlement on also the deprecated InvoicePayment and RefundInvoicePayment)."""
    if not text or not text.strip():
        raise ZoqlError("MALFORMED_QUERY", "the query string is empty")
    return _Parser(text, tz, lenient_fields or {}, unavailable).parse()
