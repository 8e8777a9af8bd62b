"""Plain Python values <-> zeep objects of the SuiteTalk schema.

Fields are given by XSD element name. A RecordRef-typed field takes a `RecordRef`; a complex field or sublist
takes a mapping (`{"item": [{...}, ...], "replaceAll": False}`; a bare list is shorthand for the sublist's one
repeated element); `customFieldList` takes `{scriptId: value}` at any level and the CustomFieldRef type is chosen
from the value's Python type.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from zeep.xsd import ComplexType
from zeep.xsd.valueobjects import CompoundValue

from zns_sync.netsuite._model import RecordRef

TypeLookup = Callable[[str], Any]  # local name in the core namespace -> zeep type
CUSTOM_FIELD_KINDS = (
    "StringCustomFieldRef", "LongCustomFieldRef", "DoubleCustomFieldRef", "BooleanCustomFieldRef",
    "DateCustomFieldRef", "SelectCustomFieldRef", "MultiSelectCustomFieldRef",
)  # fmt: skip


def _local(qname: Any) -> str:
    text = str(getattr(qname, "localname", "") or "")
    return text


class RecordBuilder:
    """Builds zeep objects from plain values for one zeep Client (types looked up once, by full QName)."""

    def __init__(self, core_type: TypeLookup) -> None:
        self._core_type = core_type
        self._shapes: dict[int, tuple[dict[str, Any], frozenset[str]]] = {}
        self._classes: dict[int, Any] = {}  # the value class zeep generates per complex type
        self._record_ref = core_type("RecordRef")
        self._list_or_record_ref = core_type("ListOrRecordRef")
        self._custom_field_list = core_type("CustomFieldList")
        self._custom = {name: core_type(name) for name in CUSTOM_FIELD_KINDS}

    def _shape(self, xsd_type: Any) -> tuple[dict[str, Any], frozenset[str]]:
        key = id(xsd_type)
        shape = self._shapes.get(key)
        if shape is None:
            elements = {name: element for name, element in xsd_type.elements}
            attributes = frozenset(name for name, _ in xsd_type.attributes)
            shape = (elements, attributes)
            self._shapes[key] = shape
        return shape

    def build(self, xsd_type: Any, data: Mapping[str, Any], path: str) -> Any:
        """A zeep object of complex type `xsd_type` from a mapping of element/attribute names to plain values."""
        elements, attributes = self._shape(xsd_type)
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if value is None:
                continue
            if key in attributes:
                kwargs[key] = str(value) if not isinstance(value, bool) else value
                continue
            element = elements.get(key)
            if element is None:
                raise ValueError(f"{path}.{key}: not a field of {_local(xsd_type.qname)}")
            kwargs[key] = self._value(element, value, f"{path}.{key}")
        return self.new(xsd_type, kwargs)

    def new(self, xsd_type: Any, values: Mapping[str, Any]) -> Any:
        """`xsd_type(**values)` for already-converted values, without zeep's per-call signature processing.

        zeep's constructor fills every element of the type with its default (most of the client's CPU and memory
        on big records: an Invoice has about 150 elements, a line about 40); zeep renders an absent key as
        NotSet, which an optional element skips, so only the values given are kept. Keys were checked by `build`.
        """
        cls = self._classes.get(id(xsd_type))
        if cls is None:
            cls = self._classes[id(xsd_type)] = xsd_type().__class__
        obj = cls.__new__(cls)
        obj.__values__ = OrderedDict(values)
        return obj

    def _value(self, element: Any, value: Any, path: str) -> Any:
        repeated = element.max_occurs != 1
        if repeated and isinstance(value, Sequence) and not isinstance(value, str | bytes):
            return [self._single(element.type, item, f"{path}[{i}]") for i, item in enumerate(value)]
        return self._single(element.type, value, path)

    def _single(self, xsd_type: Any, value: Any, path: str) -> Any:
        if not isinstance(xsd_type, ComplexType):
            return simple_value(value, _local(xsd_type.qname))
        name = _local(xsd_type.qname)
        if name == "RecordRef":
            return self.record_ref(value, path)
        if name == "CustomFieldList":
            return self.custom_field_list(value, path)
        if name == "RecordRefList":
            if isinstance(value, Mapping):
                value = value.get("recordRef", [])
            return xsd_type(recordRef=[self.record_ref(v, path) for v in value])
        return self.build(xsd_type, complex_value(xsd_type, value, path), path)

    def record_ref(self, value: Any, path: str = "ref") -> Any:
        """A zeep RecordRef from a RecordRef (or an internalId string)."""
        value = as_record_ref(value, path)
        return self.new(
            self._record_ref,
            {"name": value.name, "internalId": value.internal_id, "externalId": value.external_id, "type": value.type},
        )

    def _list_ref(self, value: RecordRef) -> Any:
        return self._list_or_record_ref(name=value.name, internalId=value.internal_id, externalId=value.external_id)

    def custom_field_list(self, values: Any, path: str) -> Any:
        """A zeep CustomFieldList from `{scriptId: value}`; the CustomFieldRef type follows the value's type."""
        if not isinstance(values, Mapping):
            raise ValueError(f"{path}: customFieldList must be a mapping of scriptId to value")
        fields = []
        for script_id, value in values.items():
            if value is None:
                continue
            fields.append(self._custom_field(str(script_id), value, f"{path}.{script_id}"))
        return self._custom_field_list(customField=fields)

    def _custom_field(self, script_id: str, value: Any, path: str) -> Any:
        kind = custom_field_kind(value, path)
        if kind == "DateCustomFieldRef":
            value = as_datetime(value)
        elif kind == "SelectCustomFieldRef":
            value = self._list_ref(value)
        elif kind == "MultiSelectCustomFieldRef":
            value = [self._list_ref(v) for v in value]
        return self.new(self._custom[kind], {"scriptId": script_id, "value": value})


def as_record_ref(value: Any, path: str) -> RecordRef:
    """A RecordRef field's value: a RecordRef, or an internalId; ValueError naming `path` else."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        return RecordRef(internal_id=str(value))
    if not isinstance(value, RecordRef):
        raise ValueError(f"{path}: expected a RecordRef, got {type(value).__name__}")
    return value


def complex_value(xsd_type: Any, value: Any, path: str) -> Mapping[str, Any]:
    """The mapping of a complex field's value: as given, or a bare list for a sublist's one repeated element (`item`,
    `apply`, `addressbook` ...); ValueError naming `path` else."""
    name = _local(xsd_type.qname)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        repeated = [n for n, e in xsd_type.elements if e.max_occurs != 1]
        if len(repeated) != 1:
            raise ValueError(f"{path}: give a mapping for {name}")
        value = {repeated[0]: value}
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected a mapping for {name}, got {type(value).__name__}")
    return value


def custom_field_kind(value: Any, path: str) -> str:
    """The CustomFieldRef type a custom field's value takes, by its Python type; ValueError naming `path` else."""
    if isinstance(value, bool):
        return "BooleanCustomFieldRef"
    if isinstance(value, int):
        return "LongCustomFieldRef"
    if isinstance(value, float | Decimal):
        return "DoubleCustomFieldRef"
    if isinstance(value, dt.date):
        return "DateCustomFieldRef"
    if isinstance(value, RecordRef):
        return "SelectCustomFieldRef"
    if isinstance(value, Sequence) and not isinstance(value, str) and all(isinstance(v, RecordRef) for v in value):
        return "MultiSelectCustomFieldRef"
    if isinstance(value, str):
        return "StringCustomFieldRef"
    raise ValueError(f"{path}: unsupported custom field value type {type(value).__name__}")


def as_datetime(value: dt.date) -> dt.datetime:
    """xsd:dateTime needs a time: a date becomes midnight of that date."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time())


def simple_value(value: Any, xsd_name: str) -> Any:
    """A plain value ready for zeep's simple type `xsd_name` (dates widened, decimals kept exact)."""
    if xsd_name == "dateTime" and isinstance(value, dt.date):
        return as_datetime(value)
    if xsd_name == "string" and not isinstance(value, str):
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    if xsd_name == "long" and isinstance(value, str):
        return int(value)
    return value


def to_plain(value: Any) -> Any:
    """A zeep response value as plain Python: dicts without empty fields, RecordRef, {scriptId: value}."""
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if not isinstance(value, CompoundValue):
        return value
    type_name = _local(getattr(value, "_xsd_type", None) and value._xsd_type.qname)
    data = value.__values__
    if type_name in ("RecordRef", "ListOrRecordRef", "CustomRecordRef"):
        return RecordRef(
            internal_id=data.get("internalId"),
            external_id=data.get("externalId"),
            type=data.get("type"),
            name=data.get("name"),
        )
    if type_name == "CustomFieldList":
        return {field.scriptId: to_plain(field.value) for field in (data.get("customField") or [])}
    if type_name == "RecordRefList":
        return [to_plain(v) for v in data.get("recordRef") or []]
    out: dict[str, Any] = {}
    for key, item in data.items():
        if item is None or item == []:
            continue
        out[key] = to_plain(item)
    return out


def record_to_plain(record: Any) -> dict[str, Any]:
    """A zeep Record as a plain dict with `recordType` (the SuiteTalk type name) added."""
    plain = to_plain(record)
    if not isinstance(plain, dict):  # pragma: no cover - a Record is always complex
        raise TypeError("not a record")
    plain["recordType"] = _local(record._xsd_type.qname)
    return plain
