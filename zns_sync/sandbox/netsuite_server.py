"""A local NetSuite SuiteTalk SOAP emulator: a real HTTP server on 127.0.0.1 that zeep cannot tell from NetSuite.

It serves our own WSDL/XSD subset (zns_sync/sandbox/wsdl/), checks every TBA tokenPassport, runs add/addList/
update/updateList/upsert/upsertList/get/getList/getAll/search/searchMoreWithId/getIntegrationGovernanceInfo
against an in-memory store, and can inject NetSuite's failures (concurrency limit, latency, UNEXPECTED_ERROR,
lost responses, hostile XML) through its mutable `faults`.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import dataclasses
import hashlib
import hmac
import itertools
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from lxml import etree

from zns_sync.sandbox._http import LoopbackServer
from zns_sync.sandbox.netsuite_schema import WSDL_DIR
from zns_sync.sandbox.netsuite_soap import (
    SOAPENV,
    RecordParser,
    ResponseWriter,
    SchemaIndex,
    local,
    namespace_of,
)
from zns_sync.sandbox.netsuite_store import KNOWN_TYPES, NetSuiteStore, RecordError

log = logging.getLogger(__name__)

CONCURRENCY_MESSAGE = "SuiteTalk concurrent request limit exceeded. Request blocked."
INVALID_LOGIN = "Invalid login attempt."
LIST_LIMITS = {"addList": 200, "updateList": 100, "upsertList": 100, "getList": 1000}
# The seeded payment methods: Zuora's PaymentMethod types by name, except PayPal (the demo tenant's PayPal
# payment has no NetSuite match on purpose).
PAYMENT_METHODS = (
    "ACH",
    "Cash",
    "Check",
    "CreditCard",
    "Other",
    "WireTransfer",
    "DebitCard",
    "CreditCardReferenceTransaction",
)
# The seeded classification lists, by full name (a child after its parent), and the GL accounts with their types.
SUBSIDIARIES = ("Parent Company", "Parent Company : Americas", "Parent Company : EMEA", "Parent Company : EMEA : UK")
DEPARTMENTS = ("Sales", "Sales : North America", "Sales : EMEA", "Engineering", "Support")
CLASSES = ("Subscription", "Subscription : Enterprise", "Subscription : SMB", "Services")
LOCATIONS = ("Americas", "Americas : North America", "Americas : North America : Eastern", "EMEA", "EMEA : London")
ACCOUNTS = (
    ("Revenue", "_income"),
    ("Revenue : Subscriptions", "_income"),
    ("Revenue : Services", "_income"),
    ("Revenue : Support", "_income"),
    ("Revenue : Usage", "_income"),
    ("Other Income", "_otherIncome"),
    ("Deferred Revenue", "_deferredRevenue"),
    ("Deferred Revenue : Subscriptions", "_deferredRevenue"),
    ("Accounts Receivable", "_accountsReceivable"),
)
REV_REC_TEMPLATES = ("Straight Line Monthly", "Recognize Immediately", "Percent Complete")
TAX_CODES = ("Not Taxable", "CA Sales Tax")
_NONCE = re.compile(r"[A-Za-z0-9]{6,64}")
_HOSTILE_BODY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    b"<x>&lol2;</x></soapenv:Body></soapenv:Envelope>"
)
_SCHEMA_LOCK = threading.Lock()
_SCHEMA: SchemaIndex | None = None


def _schema() -> SchemaIndex:
    global _SCHEMA
    with _SCHEMA_LOCK:
        if _SCHEMA is None:
            _SCHEMA = SchemaIndex()
        return _SCHEMA


@dataclasses.dataclass
class NetSuiteFaults:
    """Switches for NetSuite's limits and failures; change them at any time (tests and demos do)."""

    latency_per_request: float = 0.0  # seconds, held while the request occupies a concurrency slot
    latency_per_record: float = 0.0  # seconds per record of a list/search page, likewise
    concurrency_limit: int = 5  # requests in flight before exceededConcurrentRequestLimitFault
    unexpected_error_rate: float = 0.0  # chance per record of a per-record UNEXPECTED_ERROR (nothing written)
    lost_response_rate: float = 0.0  # chance per request of committing then dropping the connection
    lose_next_n_responses: int = 0  # the next N authenticated requests commit, then drop the connection
    hostile_next_n: int = 0  # the next N requests get a DOCTYPE-with-entities answer
    seed: int | None = None  # seeds the random failures (re-seeded whenever it changes)
    timestamp_window_seconds: int = 300  # allowed clock skew of tokenPassport timestamps
    search_ttl_seconds: float = 900.0  # how long a searchId stays valid
    wsdl_latency_seconds: float = 0.0  # before each WSDL or XSD file is served (a slow first load)


@dataclasses.dataclass
class NetSuiteCounters:
    """What the emulator saw: calls per operation, records written, the most requests in flight at once."""

    calls: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    rejected: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    records_written: int = 0
    max_in_flight: int = 0
    in_flight: int = 0
    lost_responses: int = 0
    wsdl_downloads: int = 0  # GETs of the WSDL or an XSD

    def __getitem__(self, key: str) -> Any:
        """`counters["records_written"]`, `counters["max_in_flight"]` …; any other key is an operation's calls."""
        if key in (
            "calls",
            "rejected",
            "records_written",
            "max_in_flight",
            "in_flight",
            "lost_responses",
            "wsdl_downloads",
        ):
            return getattr(self, key)
        return self.calls[key]

    def reset(self) -> None:
        """Zero every counter (in_flight is left alone)."""
        self.calls.clear()
        self.rejected.clear()
        self.records_written = 0
        self.max_in_flight = self.in_flight
        self.lost_responses = 0


class _Fault(Exception):
    def __init__(self, element: str, code: str, message: str) -> None:
        super().__init__(message)
        self.element = element
        self.code = code
        self.message = message


class NetSuiteEmulator(LoopbackServer):
    """NetSuite SuiteTalk over HTTP on 127.0.0.1; `start()` (or `with`) runs it in a background thread."""

    thread_name = "netsuite-emulator"

    def __init__(
        self,
        account: str = "123456_SB1",
        consumer_key: str = "emulator-consumer-key",
        consumer_secret: str = "emulator-consumer-secret",
        token_id: str = "emulator-token-id",
        token_secret: str = "emulator-token-secret",
        api_version: str = "2023_2",
        concurrency_limit: int = 5,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        request_hook: Callable[[bytes], None] | None = None,
    ) -> None:
        super().__init__(host, port)
        self.account = account
        self.consumer_key = consumer_key
        self.token_id = token_id
        self._signing_key = f"{consumer_secret}&{token_secret}".encode()
        self.api_version = api_version
        self.request_hook = request_hook
        self.store = NetSuiteStore()
        self.counters = NetSuiteCounters()
        self.faults = NetSuiteFaults(concurrency_limit=concurrency_limit)
        self._lock = threading.Lock()
        self._nonces: dict[str, float] = {}
        # searchId -> (created, search type, criteria, page size, bodyFieldsOnly): each page runs the search again
        self._searches: dict[str, tuple[float, str, dict[str, Any], int, bool]] = {}
        self._search_ids = itertools.count(1)
        self._request_ids = itertools.count(1)
        self._random = random.Random()
        self._seed_applied: int | None = None
        self._files: dict[str, bytes] = {}
        self._seeded: dict[str, Any] | None = None
        schema = _schema()
        self._schema = schema
        self._parser = RecordParser(schema)
        self._writer = ResponseWriter(schema, api_version)

    # -- lifecycle ------------------------------------------------------------------------------------------------
    @property
    def wsdl_url(self) -> str:
        return f"{self.url}/wsdl/v{self.api_version}_0/netsuite.wsdl"

    @property
    def endpoint_url(self) -> str:
        return f"{self.url}/services/NetSuitePort_{self.api_version}"

    def before_start(self) -> None:
        """Load our WSDL and XSDs with the configured version in their names and namespaces."""
        self.serve_wsdl(WSDL_DIR)

    def serve_wsdl(self, directory: Path) -> None:
        """Serve the WSDL and XSDs of `directory` (its `xsd/` folder too) instead: NetSuite's real ones, for a
        client that loads all of them, as against a real account (`make bench`)."""
        files = [*directory.glob("*.wsdl"), *directory.glob("*.xsd"), *directory.glob("xsd/*.xsd")]
        self._files = {
            path.name: path.read_text(encoding="utf-8").replace("2023_2", self.api_version).encode("utf-8")
            for path in files
        }

    # -- reference data -------------------------------------------------------------------------------------------
    def seed_reference_data(self) -> dict[str, Any]:
        """Currencies, terms, payment methods, a subsidiary and a sales-tax item, then the classification lists, GL
        accounts, revenue recognition templates and tax codes; returns their internalIds.

        `{"currencies": {"USD": id, ...}, "terms": {"Net 30": id, ...}, "payment_methods": {"ACH": id, ...},
        "subsidiary": id, "tax_item": id, "subsidiaries": {"Parent Company : EMEA": id, ...}, "departments": {...},
        "classes": {...}, "locations": {...}, "accounts": {"Revenue : Services": id, ...}, "rev_rec_templates":
        {...}, "tax_codes": {...}}` (by full name); calling it again returns the same ids.
        """
        with self._lock:
            if self._seeded is not None:
                return self._seeded
            rates = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CAD": 0.74, "JPY": 0.0067}
            currencies = {
                code: self.store.insert(
                    "Currency",
                    {
                        "name": code,
                        "symbol": code,
                        "isBaseCurrency": code == "USD",
                        "isInactive": False,
                        "exchangeRate": rate,
                    },
                ).internal_id
                for code, rate in rates.items()
            }
            days = {"Net 15": 15, "Net 30": 30, "Net 45": 45, "Net 60": 60, "Due on receipt": 0}
            terms = {
                name: self.store.insert(
                    "Term", {"name": name, "daysUntilNetDue": n, "dateDriven": False, "isInactive": False}
                ).internal_id
                for name, n in days.items()
            }
            subsidiary = self.store.insert(
                "Subsidiary",
                {
                    "name": "Parent Company",
                    "isInactive": False,
                    "country": "_unitedStates",
                    "currency": {"internalId": currencies["USD"]},
                },
            ).internal_id
            tax_item = self.store.insert(
                "NonInventorySaleItem",
                {
                    "itemId": "Sales Tax",
                    "displayName": "Sales Tax",
                    "isTaxable": False,
                    "isInactive": False,
                    "salesDescription": "Sales tax collected by Zuora",
                },
            ).internal_id
            payment_methods = {
                name: self.store.insert(
                    "PaymentMethod",
                    {
                        "name": name,
                        "creditCard": name in ("CreditCard", "CreditCardReferenceTransaction", "DebitCard"),
                        "isDebitCard": name == "DebitCard",
                        "isInactive": False,
                    },
                ).internal_id
                for name in PAYMENT_METHODS
            }
            subsidiaries = self._tree("Subsidiary", SUBSIDIARIES, {"Parent Company": subsidiary})
            types = dict(ACCOUNTS)
            self._seeded = {
                "currencies": currencies,
                "terms": terms,
                "payment_methods": payment_methods,
                "subsidiary": subsidiary,
                "tax_item": tax_item,
                "subsidiaries": subsidiaries,
                "departments": self._tree("Department", DEPARTMENTS),
                "classes": self._tree("Classification", CLASSES),
                "locations": self._tree("Location", LOCATIONS),
                "accounts": self._tree("Account", types, fields=lambda name: {"acctType": types[name]}),
                "rev_rec_templates": {
                    name: self.store.insert("RevRecTemplate", {"name": name, "isInactive": False}).internal_id
                    for name in REV_REC_TEMPLATES
                },
                "tax_codes": {
                    name: self.store.insert(
                        "SalesTaxItem", {"itemId": name, "name": name, "rate": "0%", "isInactive": False}
                    ).internal_id
                    for name in TAX_CODES
                },
            }
            return self._seeded

    def _tree(
        self,
        record_type: str,
        full_names: Any,
        known: Mapping[str, str] | None = None,
        fields: Callable[[str], dict[str, Any]] = lambda name: {},
    ) -> dict[str, str]:
        """Insert records of a tree list by full name (a parent before its children); {full name: internalId}."""
        ids = dict(known or {})
        own_field = "acctName" if record_type == "Account" else "name"
        for full_name in full_names:
            if full_name in ids:
                continue
            parent, _, own = full_name.rpartition(" : ")
            data: dict[str, Any] = {own_field: own, "isInactive": False, **fields(full_name)}
            if parent:
                data["parent"] = {"internalId": ids[parent]}
            ids[full_name] = self.store.insert(record_type, data).internal_id
        return ids

    # -- request handling -----------------------------------------------------------------------------------------
    def _file(self, path: str) -> bytes | None:
        prefix = f"/wsdl/v{self.api_version}_0/"
        if not path.startswith(prefix):
            return None
        name = path[len(prefix) :].removeprefix("xsd/")
        return self._files.get(name)

    def _check_passport(self, header: Any) -> None:
        passport = None
        for child in header if header is not None else ():
            name = local(child.tag)
            if name == "tokenPassport" and namespace_of(child.tag) == self._writer.namespaces["platformMsgs"]:
                passport = child
            elif name in ("applicationInfo", "passport"):
                # NetSuite refuses mixing TBA with application or user credentials.
                self.counters.rejected["auth"] += 1
                raise _Fault("invalidCredentialsFault", "INVALID_LOGIN_CREDENTIALS", INVALID_LOGIN)
        if passport is None:
            raise _Fault("invalidCredentialsFault", "INVALID_LOGIN_CREDENTIALS", INVALID_LOGIN)
        values: dict[str, str] = {}
        algorithm = ""
        for child in passport:
            name = local(child.tag)
            values[name] = (child.text or "").strip()
            if name == "signature":
                algorithm = child.get("algorithm", "")
        try:
            timestamp = int(values.get("timestamp", ""))
        except ValueError:
            timestamp = 0
        nonce = values.get("nonce", "")
        now = time.time()
        window = self.faults.timestamp_window_seconds
        expected = base64.b64encode(
            hmac.new(
                self._signing_key,
                "&".join(
                    (
                        values.get("account", ""),
                        values.get("consumerKey", ""),
                        values.get("token", ""),
                        nonce,
                        values.get("timestamp", ""),
                    )
                ).encode(),
                hashlib.sha256,
            ).digest()
        ).decode()
        ok = (
            values.get("account") == self.account
            and values.get("consumerKey") == self.consumer_key
            and values.get("token") == self.token_id
            and algorithm == "HMAC-SHA256"
            and bool(_NONCE.fullmatch(nonce))
            and abs(now - timestamp) <= window
            and hmac.compare_digest(expected, values.get("signature", ""))
        )
        if ok:
            with self._lock:
                if nonce in self._nonces:
                    ok = False
                else:
                    self._nonces[nonce] = now
                    if len(self._nonces) > 50_000:
                        self._nonces = {n: t for n, t in self._nonces.items() if now - t <= window}
        if not ok:
            self.counters.rejected["auth"] += 1
            raise _Fault("invalidCredentialsFault", "INVALID_LOGIN_CREDENTIALS", INVALID_LOGIN)

    def _enter(self) -> None:
        with self._lock:
            if self.counters.in_flight >= self.faults.concurrency_limit:
                self.counters.rejected["concurrency"] += 1
                raise _Fault("exceededConcurrentRequestLimitFault", "WS_REQUEST_BLOCKED", CONCURRENCY_MESSAGE)
            self.counters.in_flight += 1
            self.counters.max_in_flight = max(self.counters.max_in_flight, self.counters.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.counters.in_flight -= 1

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            if self.faults.seed is not None and self.faults.seed != self._seed_applied:
                self._random.seed(self.faults.seed)
                self._seed_applied = self.faults.seed
            return self._random.random() < rate

    def handle_soap(self, body: bytes) -> tuple[int, bytes, bool]:
        """Answer one SOAP request: (HTTP status, response body, drop-the-connection-instead)."""
        if self.request_hook is not None:
            try:
                self.request_hook(body)
            except Exception:  # a test's hook must not take the server down
                log.exception("request_hook failed")
        with self._lock:
            if self.faults.hostile_next_n > 0:
                self.faults.hostile_next_n -= 1
                return 200, _HOSTILE_BODY, False
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, load_dtd=False)
            root = etree.fromstring(body, parser)
        except etree.XMLSyntaxError as exc:
            return 500, self._writer.fault("", "USER_ERROR", f"org.xml.sax.SAXParseException: {exc}"), False
        header = body_element = None
        for child in root:
            if child.tag == f"{{{SOAPENV}}}Header":
                header = child
            elif child.tag == f"{{{SOAPENV}}}Body":
                body_element = child
        request = body_element[0] if body_element is not None and len(body_element) else None
        if request is None:
            return 500, self._writer.fault("", "USER_ERROR", "No SOAP body"), False
        operation = local(request.tag)
        try:
            if namespace_of(request.tag) != self._writer.namespaces["platformMsgs"]:
                raise _Fault(
                    "invalidVersionFault",
                    "INVALID_WS_VERSION",
                    f"{operation} in namespace {namespace_of(request.tag)!r} is not a SuiteTalk "
                    f"{self.api_version} operation; use the {self.api_version} WSDL and endpoint.",
                )
            self._check_passport(header)
            self._enter()
        except _Fault as fault:
            return 500, self._writer.fault(fault.element, fault.code, fault.message), False
        try:
            with self._lock:
                self.counters.calls[operation] += 1
            handler = getattr(self, f"_op_{operation}", None)
            if handler is None:
                raise _Fault("", "USER_ERROR", f"Operation {operation} is not supported by the emulator")
            began = time.monotonic()
            answer, records = handler(request, header)
            # The modelled latency is the whole server time: the emulator's own work counts towards it.
            delay = self.faults.latency_per_request + self.faults.latency_per_record * records
            remaining = delay - (time.monotonic() - began)
            if remaining > 0:
                time.sleep(remaining)
        except _Fault as fault:
            return 500, self._writer.fault(fault.element, fault.code, fault.message), False
        finally:
            self._leave()
        lose = False
        with self._lock:
            if self.faults.lose_next_n_responses > 0:
                self.faults.lose_next_n_responses -= 1
                lose = True
        if not lose:
            lose = self._chance(self.faults.lost_response_rate)
        if lose:
            with self._lock:
                self.counters.lost_responses += 1
        ns_id = f"WEBSERVICES_{self.account}_{next(self._request_ids)}"
        return 200, self._writer.envelope(answer, ns_id), lose

    # -- operations -----------------------------------------------------------------------------------------------
    def _records_of(self, request: Any, operation: str) -> list[Any]:
        records = [c for c in request if local(c.tag) in ("record", "baseRef")]
        limit = LIST_LIMITS.get(operation)
        if limit is not None and len(records) > limit:
            raise _Fault(
                "exceededRecordCountFault",
                "MAX_RCRDS_EXCEEDED",
                f"The number of records ({len(records)}) exceeds the maximum allowed for {operation} ({limit}).",
            )
        return records

    def _write_one(self, element: Any, operation: str) -> str:
        record_type = self._parser.xsi_type(element) or ""
        if record_type not in KNOWN_TYPES:
            return self._write_response(None, "INVALID_RCRD_TYPE", f"The record type {record_type} is invalid.")
        data = self._parser.complex(element, record_type)
        if self._chance(self.faults.unexpected_error_rate):
            return self._write_response(
                None, "UNEXPECTED_ERROR", "An unexpected error occurred. Error ID: emulator-injected"
            )
        try:
            if operation == "add":
                written = self.store.add(record_type, data)
            elif operation == "update":
                written = self.store.update(record_type, data)
            else:
                written = self.store.upsert(record_type, data)
        except RecordError as exc:
            return self._write_response(None, exc.code, exc.message)
        with self._lock:
            self.counters.records_written += 1
        ref = {
            "internalId": written.internal_id,
            "externalId": written.external_id,
            "type": record_type[:1].lower() + record_type[1:],
        }
        return self._write_response(ref, None, None)

    def _write_response(self, ref: Mapping[str, Any] | None, code: str | None, message: str | None) -> str:
        status = self._writer.status(ref is not None, code, message)
        base_ref = self._writer.ref("platformMsgs:baseRef", ref, xsi_type=True) if ref is not None else ""
        return f"<platformMsgs:writeResponse>{status}{base_ref}</platformMsgs:writeResponse>"

    def _single_write(self, request: Any, operation: str) -> tuple[str, int]:
        records = self._records_of(request, operation)
        if len(records) != 1:
            raise _Fault("", "USER_ERROR", f"{operation} takes exactly one record")
        answer = self._write_one(records[0], operation)
        return (
            f"<platformMsgs:{operation}Response>{answer}</platformMsgs:{operation}Response>",
            1,
        )

    def _list_write(self, request: Any, operation: str, single: str) -> tuple[str, int]:
        records = self._records_of(request, operation)
        items = "".join(self._write_one(element, single) for element in records)
        return (
            f"<platformMsgs:{operation}Response><platformMsgs:writeResponseList>{self._writer.status(True)}{items}"
            f"</platformMsgs:writeResponseList></platformMsgs:{operation}Response>",
            len(records),
        )

    def _op_add(self, request: Any, header: Any) -> tuple[str, int]:
        return self._single_write(request, "add")

    def _op_update(self, request: Any, header: Any) -> tuple[str, int]:
        return self._single_write(request, "update")

    def _op_upsert(self, request: Any, header: Any) -> tuple[str, int]:
        return self._single_write(request, "upsert")

    def _op_addList(self, request: Any, header: Any) -> tuple[str, int]:
        return self._list_write(request, "addList", "add")

    def _op_updateList(self, request: Any, header: Any) -> tuple[str, int]:
        return self._list_write(request, "updateList", "update")

    def _op_upsertList(self, request: Any, header: Any) -> tuple[str, int]:
        return self._list_write(request, "upsertList", "upsert")

    def _read_one(self, element: Any) -> str:
        ref = self._parser.ref(element)
        enum = ref.get("type") or ""
        record_type = enum[:1].upper() + enum[1:]
        if self._chance(self.faults.unexpected_error_rate):
            status = self._writer.status(False, "UNEXPECTED_ERROR", "An unexpected error occurred.")
            return f"<platformMsgs:readResponse>{status}</platformMsgs:readResponse>"
        try:
            if record_type not in KNOWN_TYPES:
                raise RecordError("INVALID_RCRD_TYPE", f"The record type {enum} is invalid.")
            record = self.store.read(record_type, ref)
        except RecordError as exc:
            status = self._writer.status(False, exc.code, exc.message)
            return f"<platformMsgs:readResponse>{status}</platformMsgs:readResponse>"
        return (
            f"<platformMsgs:readResponse>{self._writer.status(True)}"
            f"{self._writer.record('platformMsgs:record', record_type, record)}</platformMsgs:readResponse>"
        )

    def _op_get(self, request: Any, header: Any) -> tuple[str, int]:
        refs = self._records_of(request, "get")
        return f"<platformMsgs:getResponse>{self._read_one(refs[0])}</platformMsgs:getResponse>", 1

    def _op_getList(self, request: Any, header: Any) -> tuple[str, int]:
        refs = self._records_of(request, "getList")
        items = "".join(self._read_one(ref) for ref in refs)
        return (
            f"<platformMsgs:getListResponse><platformMsgs:readResponseList>{self._writer.status(True)}{items}"
            "</platformMsgs:readResponseList></platformMsgs:getListResponse>",
            len(refs),
        )

    def _op_getAll(self, request: Any, header: Any) -> tuple[str, int]:
        record = next((c for c in request if local(c.tag) == "record"), None)
        wanted = record.get("recordType", "") if record is not None else ""
        if wanted != "currency":
            status = self._writer.status(False, "INVALID_RCRD_TYPE", f"getAll does not support {wanted!r} here.")
            return (
                f"<platformMsgs:getAllResponse><platformCore:getAllResult>{status}</platformCore:getAllResult></platformMsgs:getAllResponse>",
                0,
            )
        records = self.store.all("Currency")
        body = self._writer.records("platformCore:record", (("Currency", r) for r in records))
        return (
            f"<platformMsgs:getAllResponse><platformCore:getAllResult>{self._writer.status(True)}"
            f"<platformCore:totalRecords>{len(records)}</platformCore:totalRecords>"
            f"<platformCore:recordList>{body}</platformCore:recordList></platformCore:getAllResult>"
            "</platformMsgs:getAllResponse>",
            len(records),
        )

    def _op_getIntegrationGovernanceInfo(self, request: Any, header: Any) -> tuple[str, int]:
        return (
            "<platformMsgs:getIntegrationGovernanceInfoResponse><platformCore:getIntegrationGovernanceInfoResult>"
            f"{self._writer.status(True)}<platformCore:integrationConcurrencyLimit>{self.faults.concurrency_limit}"
            "</platformCore:integrationConcurrencyLimit><platformCore:limitType>_integrationSpecific"
            "</platformCore:limitType></platformCore:getIntegrationGovernanceInfoResult>"
            "</platformMsgs:getIntegrationGovernanceInfoResponse>",
            0,
        )

    def _search_response(self, operation: str, result: str) -> str:
        return (
            f"<platformMsgs:{operation}Response><platformCore:searchResult>{result}</platformCore:searchResult>"
            f"</platformMsgs:{operation}Response>"
        )

    def _page(
        self,
        operation: str,
        search_id: str,
        hits: list[tuple[str, str]],
        page_size: int,
        index: int,
        body_fields_only: bool,
    ) -> tuple[str, int]:
        total_pages = (len(hits) + page_size - 1) // page_size
        if index < 1 or (index > max(total_pages, 1)):
            status = self._writer.status(False, "INVALID_SEARCH_PAGE_INDEX", f"Page index {index} is out of range.")
            return self._search_response(operation, status), 0
        records = []
        for record_type, internal_id in hits[(index - 1) * page_size : index * page_size]:
            record = self.store.get(record_type, internal_id)
            if record is not None:
                if body_fields_only:  # NetSuite's default: no sublists in search results
                    for name in self._schema.sublists(record_type):
                        record.pop(name, None)
                records.append((record_type, record))
        body = self._writer.records("platformCore:record", records)
        result = (
            f"{self._writer.status(True)}<platformCore:totalRecords>{len(hits)}</platformCore:totalRecords>"
            f"<platformCore:pageSize>{page_size}</platformCore:pageSize>"
            f"<platformCore:totalPages>{total_pages}</platformCore:totalPages>"
            f"<platformCore:pageIndex>{index}</platformCore:pageIndex>"
            f"<platformCore:searchId>{search_id}</platformCore:searchId>"
            f"<platformCore:recordList>{body}</platformCore:recordList>"
        )
        return self._search_response(operation, result), len(records)

    def _op_search(self, request: Any, header: Any) -> tuple[str, int]:
        page_size, body_fields_only = 1000, True
        for child in header if header is not None else ():
            if local(child.tag) == "searchPreferences":
                for pref in child:
                    text = (pref.text or "").strip()
                    if local(pref.tag) == "pageSize" and text:
                        page_size = int(text)
                    elif local(pref.tag) == "bodyFieldsOnly" and text:
                        body_fields_only = text in ("true", "1")
        if not 5 <= page_size <= 1000:
            status = self._writer.status(False, "INVALID_SEARCH_PAGE_SIZE", "The page size must be between 5 and 1000.")
            return self._search_response("search", status), 0
        element = next((c for c in request if local(c.tag) == "searchRecord"), None)
        search_type = self._parser.xsi_type(element) if element is not None else None
        try:
            criteria = self._parser.complex(element, search_type) if element is not None else {}
            hits = self.store.search(search_type or "", criteria)
        except RecordError as exc:
            return self._search_response("search", self._writer.status(False, exc.code, exc.message)), 0
        search_id = f"WEBSERVICES_{self.account}_{next(self._search_ids)}_{int(time.time())}"
        with self._lock:
            now = time.time()
            ttl = self.faults.search_ttl_seconds
            self._searches = {k: v for k, v in self._searches.items() if now - v[0] <= ttl}
            self._searches[search_id] = (now, search_type or "", criteria, page_size, body_fields_only)
        return self._page("search", search_id, hits, page_size, 1, body_fields_only)

    def _op_searchMoreWithId(self, request: Any, header: Any) -> tuple[str, int]:
        values = {local(c.tag): (c.text or "").strip() for c in request}
        search_id = values.get("searchId", "")
        with self._lock:
            saved = self._searches.get(search_id)
        if saved is None or time.time() - saved[0] > self.faults.search_ttl_seconds:
            status = self._writer.status(False, "INVALID_SEARCH_PAGE_INDEX", "The search has expired or is unknown.")
            return self._search_response("searchMoreWithId", status), 0
        try:
            index = int(values.get("pageIndex", "0"))
        except ValueError:
            index = 0
        # Like NetSuite, the search runs again for the page asked: records that stopped matching drop out.
        # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N3523074.html
        hits = self.store.search(saved[1], saved[2])
        return self._page("searchMoreWithId", search_id, hits, saved[3], index, saved[4])


class _Handler(BaseHTTPRequestHandler):
    owner: NetSuiteEmulator
    server_version = "NetSuiteEmulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("netsuite emulator: " + format, *args)

    def _reply(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client went away (killed, timed out)
            self.close_connection = True

    def do_GET(self) -> None:
        time.sleep(self.owner.faults.wsdl_latency_seconds)
        content = self.owner._file(self.path.split("?", 1)[0])
        with self.owner._lock:
            self.owner.counters.wsdl_downloads += 1
        if content is None:
            self._reply(404, b"not found", "text/plain")
            return
        self._reply(200, content)

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != f"/services/NetSuitePort_{self.owner.api_version}":
            self._reply(404, b"not found", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status, answer, drop = self.owner.handle_soap(body)
        if drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._reply(status, answer)


NetSuiteEmulator.handler_class = _Handler
