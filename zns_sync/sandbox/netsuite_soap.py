"""SOAP 1.1 plumbing of the NetSuite emulator: the schema index, record parsing and response writing.

Requests are parsed by namespace URI + local name (zeep invents its own prefixes) and `xsi:type` is resolved.
Field order and simple types come from the emulator's own XSDs (zns_sync/sandbox/wsdl/), so responses follow
the XSD sequence that zeep expects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from zns_sync.sandbox.netsuite_schema import NAMESPACES, WSDL_DIR

XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"

# The XSD type of each "simple" kind and how it is read into Python.
_NUMERIC = {"double": float, "long": int, "int": int}
_REF_TYPES = frozenset({"RecordRef", "ListOrRecordRef"})
_CUSTOM_VALUE = {
    "StringCustomFieldRef": "s",
    "LongCustomFieldRef": "l",
    "DoubleCustomFieldRef": "d",
    "BooleanCustomFieldRef": "b",
    "DateCustomFieldRef": "dt",
    "SelectCustomFieldRef": "ref",
    "MultiSelectCustomFieldRef": "refs",
}


def local(tag: Any) -> str:
    """The local name of an lxml tag (`{ns}name` -> name)."""
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def namespace_of(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


@dataclasses.dataclass(frozen=True)
class Field:
    """One element of a complexType's sequence."""

    name: str
    type: str  # local type name (string, double, RecordRef, InvoiceItemList …)
    prefix: str  # prefix of the namespace that declares it
    repeated: bool


@dataclasses.dataclass
class ComplexType:
    """A complexType of our schema: ordered fields, attribute names, base type and namespace prefix."""

    name: str
    prefix: str
    fields: dict[str, Field]
    attributes: tuple[str, ...]
    base: str | None


class SchemaIndex:
    """Every complexType of the emulator's XSDs, with inherited fields flattened in XSD order."""

    def __init__(self, directory: Path = WSDL_DIR) -> None:
        raw: dict[str, tuple[str, list[Field], list[str], str | None]] = {}
        simple: set[str] = set()
        for prefix, (_, file_name) in NAMESPACES.items():
            root = etree.parse(str(directory / file_name)).getroot()
            for node in root.iter(f"{{{XSD}}}simpleType"):
                simple.add(node.get("name", ""))
            for node in root.iter(f"{{{XSD}}}complexType"):
                name = node.get("name", "")
                fields = []
                for element in node.iter(f"{{{XSD}}}element"):
                    ref = element.get("ref")
                    if ref:
                        ref_prefix, ref_name = ref.split(":")
                        fields.append(
                            Field(ref_name, "@" + ref_name, ref_prefix, element.get("maxOccurs") == "unbounded")
                        )
                        continue
                    type_name = element.get("type", "xsd:string").split(":")[-1]
                    fields.append(
                        Field(element.get("name", ""), type_name, prefix, element.get("maxOccurs") == "unbounded")
                    )
                attributes = [a.get("name", "") for a in node.iter(f"{{{XSD}}}attribute")]
                bases = [e.get("base", "") for e in node.iter(f"{{{XSD}}}extension")]
                base = bases[0].split(":")[-1] if bases and not bases[0].startswith("xsd:") else None
                raw[name] = (prefix, fields, attributes, base)
        self.simple_types = frozenset(simple)
        self.types: dict[str, ComplexType] = {}
        for name in raw:
            self.types[name] = self._flatten(name, raw)
        # element name -> type for the global elements referenced with ref= (status, recordList …)
        self.element_types = {
            "status": "Status",
            "recordList": "RecordList",
            "searchRowList": "SearchRowList",
            "searchResult": "SearchResult",
            "getAllResult": "GetAllResult",
            "writeResponse": "WriteResponse",
            "writeResponseList": "WriteResponseList",
            "readResponse": "ReadResponse",
            "readResponseList": "ReadResponseList",
            "getIntegrationGovernanceInfoResult": "GetIntegrationGovernanceInfoResult",
        }

    def _flatten(self, name: str, raw: Mapping[str, tuple[str, list[Field], list[str], str | None]]) -> ComplexType:
        prefix, fields, attributes, base = raw[name]
        all_fields: dict[str, Field] = {}
        all_attributes: list[str] = []
        if base and base in raw:
            parent = self._flatten(base, raw)
            all_fields.update(parent.fields)
            all_attributes.extend(parent.attributes)
        for field in fields:
            all_fields[field.name] = field
        all_attributes.extend(attributes)
        return ComplexType(name, prefix, all_fields, tuple(all_attributes), base)

    def sublists(self, name: str) -> tuple[str, ...]:
        """The sublist fields of a record type (itemList, applyList, addressbookList …)."""
        spec = self.types.get(name)
        if spec is None:
            return ()
        return tuple(
            f.name
            for f in spec.fields.values()
            if f.type.endswith("List") and f.type not in ("CustomFieldList", "RecordRefList", "NullField")
        )

    def is_record(self, name: str) -> bool:
        """True for types that extend platformCore:Record (records and the Address subrecord)."""
        seen = self.types.get(name)
        while seen is not None and seen.base:
            if seen.base == "Record":
                return True
            seen = self.types.get(seen.base)
        return False


def _simple(text: str | None, type_name: str) -> Any:
    value = (text or "").strip()
    if type_name == "boolean":
        return value in ("true", "1")
    convert = _NUMERIC.get(type_name)
    if convert is not None:
        try:
            return convert(value)
        except ValueError:
            return value
    return text or ""


class RecordParser:
    """Reads request XML into plain dicts: fields by local name, RecordRefs as dicts, customFieldList by scriptId."""

    def __init__(self, schema: SchemaIndex) -> None:
        self._schema = schema

    def xsi_type(self, element: Any) -> str | None:
        value = element.get(f"{{{XSI}}}type")
        return value.split(":")[-1] if value else None

    def complex(self, element: Any, type_name: str | None) -> dict[str, Any]:
        """A complex element as a dict (attributes and children by local name)."""
        spec = self._schema.types.get(type_name or "")
        out: dict[str, Any] = {}
        for key, value in element.attrib.items():
            if not key.startswith("{"):
                out[key] = value
        for child in element:
            name = local(child.tag)
            if not name:
                continue
            field = spec.fields.get(name) if spec else None
            value = self.value(child, field.type if field else None)
            if field is not None and field.repeated:
                out.setdefault(name, []).append(value)
            else:
                out[name] = value
        return out

    def value(self, element: Any, type_name: str | None) -> Any:
        """One element's value, typed by its xsi:type or its declared type."""
        type_name = self.xsi_type(element) or type_name
        if type_name in _REF_TYPES:
            return self.ref(element)
        if type_name == "CustomFieldList":
            return self.custom_fields(element)
        if type_name and type_name in self._schema.types:
            return self.complex(element, type_name)
        if type_name in ("boolean", "double", "long", "int"):
            return _simple(element.text, type_name)
        if len(element) or (type_name is None and element.attrib):
            return self.complex(element, None)
        return element.text or ""

    def ref(self, element: Any) -> dict[str, Any]:
        """A RecordRef as `{internalId?, externalId?, type?, name?}`."""
        out = {k: v for k, v in element.attrib.items() if not k.startswith("{")}
        for child in element:
            if local(child.tag) == "name":
                out["name"] = child.text or ""
        return out

    def custom_fields(self, element: Any) -> dict[str, Any]:
        """`customFieldList` as `{scriptId: value}` (Select values as ref dicts, dates as datetimes)."""
        out: dict[str, Any] = {}
        for field in element:
            script_id = field.get("scriptId") or field.get("internalId") or ""
            kind = _CUSTOM_VALUE.get(self.xsi_type(field) or "", "s")
            values = [c for c in field if local(c.tag) == "value"]
            if kind == "refs":
                out[script_id] = [self.ref(v) for v in values]
                continue
            if not values:
                out[script_id] = None
                continue
            node = values[0]
            if kind == "ref":
                out[script_id] = self.ref(node)
            elif kind == "dt":
                out[script_id] = parse_datetime(node.text or "")
            else:
                out[script_id] = _simple(node.text, {"l": "long", "d": "double", "b": "boolean"}.get(kind, "string"))
        return out


def parse_datetime(text: str) -> dt.datetime | str:
    """An xsd:dateTime as a datetime (the text itself when it does not parse)."""
    try:
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return text


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


class ResponseWriter:
    """Writes response XML in XSD order with fixed prefixes declared once on the Envelope."""

    def __init__(self, schema: SchemaIndex, version: str) -> None:
        self._schema = schema
        self.namespaces = {p: ns.format(v=version) for p, (ns, _) in NAMESPACES.items()}
        decls = "".join(f" xmlns:{p}={quoteattr(ns)}" for p, ns in self.namespaces.items())
        self.envelope_open = (
            f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAPENV}" '
            f'xmlns:xsd="{XSD}" xmlns:xsi="{XSI}"{decls}>'
        )

    def envelope(self, body: str, ns_id: str | None = None) -> bytes:
        """A full SOAP envelope with an optional documentInfo header."""
        header = (
            f"<soapenv:Header><platformMsgs:documentInfo><platformMsgs:nsId>{escape(ns_id)}</platformMsgs:nsId>"
            f"</platformMsgs:documentInfo></soapenv:Header>"
            if ns_id
            else ""
        )
        return f"{self.envelope_open}{header}<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>".encode()

    def fault(self, fault_element: str, code: str, message: str) -> bytes:
        """A SOAP 1.1 fault with NetSuite's typed detail (sent with HTTP 500)."""
        detail = (
            f"<platformFaults:{fault_element}><platformFaults:code>{escape(code)}</platformFaults:code>"
            f"<platformFaults:message>{escape(message)}</platformFaults:message></platformFaults:{fault_element}>"
            if fault_element
            else ""
        )
        return self.envelope(
            "<soapenv:Fault><faultcode>soapenv:Server.userException</faultcode>"
            f"<faultstring>{escape(message)}</faultstring><detail>{detail}"
            '<ns1:hostname xmlns:ns1="http://xml.apache.org/axis/">zns-sync-emulator</ns1:hostname>'
            "</detail></soapenv:Fault>"
        )

    def status(self, ok: bool, code: str | None = None, message: str | None = None) -> str:
        """`<platformCore:status>` with at most one ERROR detail."""
        if ok:
            return '<platformCore:status isSuccess="true"/>'
        return (
            '<platformCore:status isSuccess="false"><platformCore:statusDetail type="ERROR">'
            f"<platformCore:code>{escape(code or 'USER_ERROR')}</platformCore:code>"
            f"<platformCore:message>{escape(message or '')}</platformCore:message>"
            "</platformCore:statusDetail></platformCore:status>"
        )

    def ref(self, tag: str, ref: Mapping[str, Any], xsi_type: bool = False) -> str:
        """A RecordRef element (`xsi_type` for abstract BaseRef slots)."""
        attrs = "".join(
            f" {k}={quoteattr(str(ref[k]))}" for k in ("internalId", "externalId", "type", "typeId") if ref.get(k)
        )
        if xsi_type:
            attrs += ' xsi:type="platformCore:RecordRef"'
        name = ref.get("name")
        if name:
            return f"<{tag}{attrs}><platformCore:name>{escape(str(name))}</platformCore:name></{tag}>"
        return f"<{tag}{attrs}/>"

    def record(self, tag: str, record_type: str, data: Mapping[str, Any]) -> str:
        """A record element with xsi:type (e.g. `<platformMsgs:record xsi:type="tranSales:Invoice">`)."""
        spec = self._schema.types[record_type]
        return self.complex(tag, record_type, data, xsi=f"{spec.prefix}:{record_type}")

    def complex(self, tag: str, type_name: str, data: Mapping[str, Any], xsi: str | None = None) -> str:
        """A complex element, children in XSD order; unknown keys are dropped."""
        spec = self._schema.types[type_name]
        attrs = "".join(f" {a}={quoteattr(_format(data[a]))}" for a in spec.attributes if data.get(a) is not None)
        if xsi:
            attrs += f' xsi:type="{xsi}"'
        parts: list[str] = []
        for field in spec.fields.values():
            if field.name == "nullFieldList":
                continue
            value = data.get(field.name)
            if value is None:
                continue
            child_tag = f"{field.prefix}:{field.name}"
            items = value if field.repeated and isinstance(value, list) else [value]
            for item in items:
                parts.append(self._field(child_tag, field.type, item))
        return f"<{tag}{attrs}>{''.join(parts)}</{tag}>"

    def _field(self, tag: str, type_name: str, value: Any) -> str:
        if type_name in _REF_TYPES:
            return self.ref(tag, value if isinstance(value, Mapping) else {"internalId": value})
        if type_name == "CustomFieldList":
            return f"<{tag}>{self.custom_fields(value)}</{tag}>"
        if type_name == "RecordRefList":
            refs = value.get("recordRef", []) if isinstance(value, Mapping) else value
            return f"<{tag}>{''.join(self.ref('platformCore:recordRef', r) for r in refs)}</{tag}>"
        if type_name in self._schema.types and isinstance(value, Mapping):
            return self.complex(tag, type_name, value)
        return f"<{tag}>{escape(_format(value))}</{tag}>"

    def custom_fields(self, values: Mapping[str, Any]) -> str:
        """customField elements, the CustomFieldRef type chosen from the stored value."""
        out = []
        for script_id, value in values.items():
            if value is None:
                continue
            attr = f"scriptId={quoteattr(script_id)}"
            if isinstance(value, bool):
                kind, inner = "BooleanCustomFieldRef", _format(value)
            elif isinstance(value, int):
                kind, inner = "LongCustomFieldRef", str(value)
            elif isinstance(value, float):
                kind, inner = "DoubleCustomFieldRef", repr(value)
            elif isinstance(value, dt.datetime):
                kind, inner = "DateCustomFieldRef", value.isoformat()
            elif isinstance(value, Mapping):
                out.append(
                    f'<platformCore:customField {attr} xsi:type="platformCore:SelectCustomFieldRef">'
                    f"{self.ref('platformCore:value', value)}</platformCore:customField>"
                )
                continue
            elif isinstance(value, list):
                refs = "".join(self.ref("platformCore:value", v) for v in value)
                out.append(
                    f'<platformCore:customField {attr} xsi:type="platformCore:MultiSelectCustomFieldRef">'
                    f"{refs}</platformCore:customField>"
                )
                continue
            else:
                kind, inner = "StringCustomFieldRef", str(value)
            out.append(
                f'<platformCore:customField {attr} xsi:type="platformCore:{kind}">'
                f"<platformCore:value>{escape(inner)}</platformCore:value></platformCore:customField>"
            )
        return "".join(out)

    def records(self, tag: str, items: Iterable[tuple[str, Mapping[str, Any]]]) -> str:
        return "".join(self.record(tag, record_type, data) for record_type, data in items)
