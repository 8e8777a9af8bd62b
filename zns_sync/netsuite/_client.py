"""NetSuiteClient: SuiteTalk SOAP over zeep with TBA, retries, fault mapping and plain-Python records."""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests
import zeep
import zeep.exceptions
from lxml import etree
from requests.adapters import HTTPAdapter
from zeep.cache import InMemoryCache, SqliteCache
from zeep.transports import Transport

from zns_sync.config import NetSuiteSettings
from zns_sync.errors import UntrustedResponseError
from zns_sync.netsuite._auth import ALGORITHM, passport_fields
from zns_sync.netsuite._convert import RecordBuilder, record_to_plain, to_plain
from zns_sync.netsuite._faults import NetSuiteAuthError, NetSuiteError, OutcomeUnknownError, fault_info
from zns_sync.netsuite._model import (
    LIMITS,
    LISTED_BY_SEARCH,
    RECORD_NAMESPACES,
    SEARCH_TYPES,
    CustomFieldCondition,
    NsRecord,
    ReadResult,
    RecordRef,
    WriteResult,
)
from zns_sync.netsuite._render import EnvelopeWriter, LookupWriter
from zns_sync.redact import register_secret

log = logging.getLogger(__name__)

# zeep is untyped: its constructors are used through Any.
_ZeepClient: Any = zeep.Client
_Transport: Any = Transport
_R = TypeVar("_R", WriteResult, ReadResult)
_Q = TypeVar("_Q", NsRecord, RecordRef)


class _GatedTransport(_Transport):  # type: ignore[misc]
    """zeep's transport, holding the caller's gate only while a request is on the wire.

    The gate stands for NetSuite's concurrency slots: rendering the envelope before and parsing the answer
    after need no slot, so they overlap with other requests' server time.
    """

    def __init__(self, gate: AbstractContextManager[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gate = gate

    def post(self, address: str, message: Any, headers: Any) -> Any:
        with self._gate:
            began = time.monotonic()
            try:
                return super().post(address, message, headers)
            finally:
                log.debug("NetSuite request of %d bytes on the wire for %.2f s", len(message), time.monotonic() - began)


_SqliteCache: Any = SqliteCache
_InMemoryCache: Any = InMemoryCache

T = TypeVar("T")
WSDL_CACHE_FILE = "netsuite-wsdl-cache.sqlite"
WSDL_CACHE_SECONDS = 30 * 24 * 3600
_HOSTILE = (
    zeep.exceptions.DTDForbidden,
    zeep.exceptions.EntitiesForbidden,
    zeep.exceptions.ExternalReferenceForbidden,
)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def make_cache(cache_dir: Path | str | None) -> Any:
    """A zeep SqliteCache in `cache_dir`, or an InMemoryCache when there is none or it is not writable."""
    if cache_dir is None:
        return _InMemoryCache(timeout=WSDL_CACHE_SECONDS)
    try:
        path = Path(cache_dir)
        path.mkdir(parents=True, exist_ok=True)
        return _SqliteCache(path=str(path / WSDL_CACHE_FILE), timeout=WSDL_CACHE_SECONDS)
    except (OSError, sqlite3.Error) as exc:
        log.warning("WSDL cache folder %s is not writable (%s); caching in memory", cache_dir, exc)
        return _InMemoryCache(timeout=WSDL_CACHE_SECONDS)


@dataclass(frozen=True)
class _Wsdl:
    """What the loaded WSDL gives: zeep's client, the service bound to the endpoint, and the types used per call."""

    zeep: Any
    service: Any
    builder: RecordBuilder  # zeep objects: searches and references
    writer: EnvelopeWriter  # list writes, rendered without zeep
    passport_type: Any
    signature_type: Any


class NetSuiteClient:
    """A thread-safe SuiteTalk client: one zeep Client and HTTP pool shared by all threads, a fresh passport per call.

    `on_throttle()` (no arguments) is called each time NetSuite answers with its concurrency-limit fault, before
    the client waits and retries.
    """

    def __init__(
        self,
        settings: NetSuiteSettings,
        cache_dir: Path | str | None = None,
        on_throttle: Callable[[], None] | None = None,
        *,
        gate: AbstractContextManager[Any] | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
    ) -> None:
        self._settings = settings
        self._gate: AbstractContextManager[Any] = gate or contextlib.nullcontext()
        # The key and token ids are not config Secrets, but they must not show up in (zeep's debug) logs either.
        register_secret(settings.consumer_key)
        register_secret(settings.token_id)
        self._on_throttle = on_throttle
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_retries = settings.max_retries
        self._random = random.Random()
        self._random_lock = threading.Lock()
        version = settings.api_version
        self._namespace_version = version
        self._lookups = LookupWriter(self.namespace)  # what a run looks up first, sent before the WSDL is loaded
        session = requests.Session()
        pool = max(settings.concurrency, 1) + 4
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session
        transport = _GatedTransport(
            self._gate,
            session=session,
            cache=make_cache(cache_dir),
            timeout=settings.wsdl_timeout_seconds,
            operation_timeout=settings.timeout_seconds,
        )
        # The WSDL is loaded on a thread of its own (about 0.7 s of zeep for the real 2023_2 one), so that a run reads
        # Zuora meanwhile; the first call that needs it waits for it, and a failure to load is raised there.
        self._loading: Future[_Wsdl] = Future()
        self._transport = transport
        self._loader = threading.Thread(target=self._load, args=(transport,), name="netsuite-wsdl", daemon=True)
        self._loader.start()

    def _load(self, transport: Any) -> None:
        try:
            self._loading.set_result(self._wsdl(transport))
        except BaseException as exc:  # raised to whoever needs the WSDL
            self._loading.set_exception(exc)

    def _wsdl(self, transport: Any) -> _Wsdl:
        # forbid_external would also forbid the WSDL's own relative XSD imports; it is switched on once loaded.
        zeep_settings = zeep.Settings(
            strict=True, xml_huge_tree=True, forbid_dtd=True, forbid_entities=True, forbid_external=False
        )
        wsdl = self._settings.resolved_wsdl_url
        try:
            client = _ZeepClient(wsdl, transport=transport, settings=zeep_settings)
        except _HOSTILE:
            raise UntrustedResponseError(f"the NetSuite WSDL at {wsdl} contains a DTD or entities; refused") from None
        except (requests.RequestException, OSError, zeep.exceptions.Error, etree.XMLSyntaxError) as exc:
            raise NetSuiteError(f"cannot load the WSDL from {wsdl}: {type(exc).__name__}: {exc}") from None
        client.settings.forbid_external = True
        version = self._namespace_version
        service = client.create_service(
            f"{{urn:platform_{version}.webservices.netsuite.com}}NetSuiteBinding", self._settings.resolved_endpoint_url
        )
        platform = self.namespace("core.platform")

        def core_type(name: str) -> Any:
            return client.get_type(f"{{{platform}}}{name}")

        def record_type(name: str) -> Any:
            return client.get_type(f"{{{self.namespace(_record_area(name))}}}{name}")

        namespaces = client.wsdl.types.prefix_map.values()
        return _Wsdl(
            client,
            service,
            RecordBuilder(core_type),
            EnvelopeWriter(platform, self.namespace("messages.platform"), namespaces, record_type, core_type),
            core_type("TokenPassport"),
            core_type("TokenPassportSignature"),
        )

    def _loaded(self) -> _Wsdl:
        """The WSDL's client, service and types, once loaded (the caller waits for the loader)."""
        return self._loading.result()

    # -- plumbing -------------------------------------------------------------------------------------------------
    def namespace(self, area: str) -> str:
        """The URN of a namespace area for the configured version: `sales.transactions` -> `urn:sales_2023_2.…`."""
        name, _, rest = area.partition(".")
        return f"urn:{name}_{self._namespace_version}.{rest}.webservices.netsuite.com"

    def get_type(self, area: str, name: str) -> Any:
        """A zeep type by its full QName (never zeep's nsN prefixes)."""
        return self._loaded().zeep.get_type(f"{{{self.namespace(area)}}}{name}")

    def record_type(self, type_name: str) -> Any:
        """The zeep type of a SuiteTalk record or search type name (Customer, Invoice, ItemSearchBasic …)."""
        return self.get_type(_record_area(type_name), type_name)

    def urgent(self) -> AbstractContextManager[Any]:
        """This thread's requests inside go before others waiting for the gate, where the gate can tell (`urgent()`
        of destinations.Window): lookups that work not yet on the wire waits for."""
        urgent = getattr(self._gate, "urgent", None)
        return urgent() if callable(urgent) else contextlib.nullcontext()

    def close(self) -> None:
        """Close the HTTP connection pool, once the WSDL's loader is done with it and with the cache in the state
        folder (a command that made no NetSuite call closes at once; its folder may be removed next: the demo's)."""
        self._loader.join()
        self._session.close()

    def __enter__(self) -> NetSuiteClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _signed(self) -> dict[str, Any]:
        """A fresh tokenPassport's values for an envelope rendered without zeep (`passport_fields`, `algorithm`)."""
        return {**passport_fields(self._settings), "algorithm": ALGORITHM}

    def _passport(self) -> Any:
        fields = passport_fields(self._settings)
        wsdl = self._loaded()
        signature = wsdl.signature_type(fields.pop("signature"), algorithm=ALGORITHM)
        return wsdl.passport_type(signature=signature, **fields)

    def _backoff(self, attempt: int) -> None:
        with self._random_lock:
            jitter = self._random.uniform(0.5, 1.5)
        time.sleep(min(self._backoff_cap, self._backoff_base * (2 ** (attempt - 1))) * jitter)

    def _call(
        self,
        operation: str,
        *,
        write: bool,
        search_preferences: Any = None,
        envelope: Callable[[], bytes] | None = None,
        **params: Any,
    ) -> Any:
        """Send one operation, retrying throttling, UNEXPECTED_ERROR faults, one auth refusal and lost reads. A list
        write or a first lookup gives its `envelope` (rendered for each attempt, with a fresh passport, by
        `EnvelopeWriter` or `LookupWriter`); any other operation its zeep `params`."""
        throttled = unexpected = auth = lost = 0
        while True:
            try:
                if envelope is not None:
                    result = self._send_envelope(operation, envelope())
                else:
                    headers: dict[str, Any] = {"tokenPassport": self._passport()}
                    if search_preferences is not None:
                        headers["searchPreferences"] = search_preferences
                    result = getattr(self._loaded().service, operation)(_soapheaders=headers, **params)
                return getattr(result, "body", result)
            except zeep.exceptions.Fault as exc:
                info = fault_info(exc.message, exc.detail)
                if info.is_throttle:
                    throttled += 1
                    if self._on_throttle is not None:
                        self._on_throttle()
                    if throttled > self._max_retries:
                        raise NetSuiteError(info.message, code=info.code, operation=operation) from None
                    log.info("NetSuite %s throttled (%s); retry %d", operation, info.code, throttled)
                    self._backoff(throttled)
                    continue
                if info.is_auth:
                    auth += 1
                    if auth > 1:
                        raise NetSuiteAuthError(
                            f"NetSuite refused the token-based login for account {self._settings.account}: "
                            f"{info.message} (check account id, consumer key/secret and token id/secret)"
                        ) from None
                    self._backoff(1)
                    continue
                if info.is_unexpected and unexpected < self._max_retries:
                    unexpected += 1
                    self._backoff(unexpected)
                    continue
                raise NetSuiteError(info.message, code=info.code or info.kind or None, operation=operation) from None
            except _HOSTILE as exc:
                raise UntrustedResponseError(
                    f"NetSuite {operation}: refused a hostile response ({type(exc).__name__}: DTD/entities not allowed)"
                ) from None
            except (zeep.exceptions.XMLSyntaxError, etree.XMLSyntaxError, zeep.exceptions.TransportError) as exc:
                raise UntrustedResponseError(
                    f"NetSuite {operation}: the response is not SOAP XML ({type(exc).__name__})"
                ) from None
            except zeep.exceptions.Error as exc:
                raise UntrustedResponseError(
                    f"NetSuite {operation}: the response does not match the WSDL ({type(exc).__name__}: {exc})"
                ) from None
            except requests.exceptions.ConnectTimeout as exc:
                reason = f"cannot connect ({type(exc).__name__})"
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if _never_sent(exc):
                    reason = f"cannot connect ({type(exc).__name__})"
                elif write:
                    raise OutcomeUnknownError(
                        f"the response was lost after the request was sent ({type(exc).__name__}); "
                        "NetSuite may have committed it",
                        operation=operation,
                    ) from None
                else:
                    reason = f"response lost ({type(exc).__name__})"
            except requests.exceptions.RequestException as exc:
                if write:
                    raise OutcomeUnknownError(f"request failed: {type(exc).__name__}", operation=operation) from None
                reason = type(exc).__name__
            lost += 1
            if lost > self._max_retries:
                raise NetSuiteError(reason, operation=operation)
            log.info("NetSuite %s: %s; retry %d", operation, reason, lost)
            self._backoff(lost)

    def _send_envelope(self, operation: str, body: bytes) -> Any:
        """A request rendered without zeep, posted through the gated transport to the endpoint, with the operation's
        name as its SOAPAction (every operation's in the 2023_2 WSDL); the answer parsed by zeep as its service proxy
        would (a fault raises), once the WSDL is loaded: a first lookup is on the wire while it loads."""
        headers = {"SOAPAction": f'"{operation}"', "Content-Type": "text/xml; charset=utf-8"}
        response = self._transport.post(self._settings.resolved_endpoint_url, body, headers)
        wsdl = self._loaded()
        binding = wsdl.service._binding
        return binding.process_reply(wsdl.zeep, binding.get(operation), response)

    @staticmethod
    def _status(status: Any) -> tuple[bool, str | None, str | None]:
        details = list(getattr(status, "statusDetail", None) or [])
        errors = [d for d in details if (getattr(d, "type", None) or "ERROR") == "ERROR"] or details
        code = getattr(errors[0], "code", None) if errors else None
        message = getattr(errors[0], "message", None) if errors else None
        return bool(status.isSuccess), code, message

    def _write_result(self, item: Any, record: NsRecord) -> WriteResult:
        success, code, message = self._status(item.status)
        ref = getattr(item, "baseRef", None)
        internal = getattr(ref, "internalId", None) if ref is not None else None
        external = getattr(ref, "externalId", None) if ref is not None else None
        if not success:
            return WriteResult(False, None, record.external_id, code, message)
        return WriteResult(True, internal or record.internal_id, external or record.external_id, code, message)

    # -- writes ---------------------------------------------------------------------------------------------------
    def add(self, record: NsRecord) -> WriteResult:
        """Add one record."""
        return self.add_list([record])[0]

    def update(self, record: NsRecord) -> WriteResult:
        """Update one record (by internal_id or external_id)."""
        return self.update_list([record])[0]

    def upsert(self, record: NsRecord) -> WriteResult:
        """Add or update one record by external_id."""
        return self.upsert_list([record])[0]

    def add_list(self, records: Sequence[NsRecord]) -> list[WriteResult]:
        """addList in chunks of 200; one WriteResult per record in order (DUP_RCRD means it already exists)."""
        return self._write_list("addList", records)

    def update_list(self, records: Sequence[NsRecord]) -> list[WriteResult]:
        """updateList in chunks of 100; one WriteResult per record in order."""
        return self._write_list("updateList", records)

    def upsert_list(self, records: Sequence[NsRecord]) -> list[WriteResult]:
        """upsertList in chunks of 100 (every record needs external_id); one WriteResult per record in order."""
        return self._write_list("upsertList", records)

    def _write_list(self, operation: str, records: Sequence[NsRecord]) -> list[WriteResult]:
        results: list[WriteResult] = []
        for chunk in _chunks(list(records), LIMITS[operation]):
            results.extend(self._write_chunk(operation, chunk))
        return results

    def _write_chunk(self, operation: str, chunk: Sequence[NsRecord]) -> list[WriteResult]:
        # Safe to resend: an UNEXPECTED_ERROR record was not committed, and externalIds make adds idempotent.
        # The envelope is rendered for each attempt (EnvelopeWriter): no zeep objects, only its bytes while it waits.
        return self._per_record_retry(
            operation,
            chunk,
            lambda records: (
                _unwrap(
                    self._call(operation, write=True, envelope=self._list_write(operation, records)),
                    "writeResponseList",
                ).writeResponse
            ),
            lambda index, item: self._write_result(item, chunk[index]),
        )

    def _list_write(self, operation: str, records: Sequence[NsRecord]) -> Callable[[], bytes]:
        """A list write's envelope, rendered from the records (raises ValueError naming a bad field)."""
        return lambda: self._loaded().writer.envelope(operation, self._signed(), records)

    def _per_record_retry(
        self,
        operation: str,
        entries: Sequence[_Q],
        send: Callable[[list[_Q]], Any],
        convert: Callable[[int, Any], _R],
    ) -> list[_R]:
        """Send `entries` (records or references) in one list call, then resend only those answered
        UNEXPECTED_ERROR (bounded, backing off); one result per entry, in order."""
        results: list[_R | None] = [None] * len(entries)
        pending = list(range(len(entries)))
        attempt = 0
        while pending:
            items = list(send([entries[i] for i in pending]) or [])
            if len(items) != len(pending):
                raise NetSuiteError(f"answered {len(items)} results for {len(pending)} records", operation=operation)
            retry = []
            for index, item in zip(pending, items, strict=True):
                result = convert(index, item)
                results[index] = result
                if result.code == "UNEXPECTED_ERROR" and attempt < self._max_retries:
                    retry.append(index)
            pending = retry
            attempt += 1
            if pending:
                self._backoff(attempt)
        return [r for r in results if r is not None]

    # -- reads ----------------------------------------------------------------------------------------------------
    def get(self, ref: RecordRef) -> ReadResult:
        """Read one record by reference (`type` is required, e.g. RecordRef(external_id=..., type="invoice"))."""
        return self.get_list([ref])[0]

    def get_list(self, refs: Sequence[RecordRef]) -> list[ReadResult]:
        """getList in chunks of 1000; one ReadResult per reference in order.

        `record` is a plain dict: `internalId`, `externalId`, `recordType` (e.g. Invoice), the fields by XSD name
        (RecordRef fields as RecordRef, sublists as `{"item": [...]}`), `customFieldList` as `{scriptId: value}`.
        """
        out: list[ReadResult] = []
        for chunk in _chunks(list(refs), LIMITS["getList"]):
            out.extend(self._get_chunk(chunk))
        return out

    def _get_chunk(self, chunk: Sequence[RecordRef]) -> list[ReadResult]:
        for ref in chunk:
            if not ref.type:
                raise ValueError("get/get_list needs RecordRef.type (e.g. 'invoice')")

        def read(_: int, item: Any) -> ReadResult:
            success, code, message = self._status(item.status)
            record = record_to_plain(item.record) if success and item.record is not None else None
            return ReadResult(success, record, code, message)

        return self._per_record_retry(
            "getList",
            chunk,
            lambda refs: (
                _unwrap(
                    self._call("getList", write=False, baseRef=[self._loaded().builder.record_ref(r) for r in refs]),
                    "readResponseList",
                ).readResponse
            ),
            read,
        )

    def get_all(self, record_type: str) -> list[dict[str, Any]]:
        """Every record of a small reference list as plain dicts (`internalId`, `name` …).

        'currency' uses getAll; 'term' and 'paymentMethod' use a search (2023_2's getAll offers neither).
        """
        if record_type in LISTED_BY_SEARCH:
            return list(self._first_search(record_type, ()))
        if record_type != "currency":
            supported = ", ".join(repr(kind) for kind in ("currency", *LISTED_BY_SEARCH))
            raise ValueError(f"get_all supports {supported}, not {record_type!r}")
        body = self._call("getAll", write=False, envelope=lambda: self._lookups.get_all(self._signed(), record_type))
        result = _unwrap(body, "getAllResult")
        success, code, message = self._status(result.status)
        if not success:
            raise NetSuiteError(message or "getAll failed", code=code, operation="getAll")
        records = result.recordList.record if result.recordList is not None else []
        return [record_to_plain(r) for r in records or []]

    def get_integration_governance_info(self) -> dict[str, Any]:
        """This integration's concurrency limit: `{"integrationConcurrencyLimit": int, "limitType": str}`."""
        body = self._call("getIntegrationGovernanceInfo", write=False)
        result = _unwrap(body, "getIntegrationGovernanceInfoResult")
        success, code, message = self._status(result.status)
        if not success:
            raise NetSuiteError(message or "failed", code=code, operation="getIntegrationGovernanceInfo")
        return {"integrationConcurrencyLimit": result.integrationConcurrencyLimit, "limitType": result.limitType}

    # -- search ---------------------------------------------------------------------------------------------------
    def find_named(self, kind: str, field: str, name: str, types: Sequence[str] = ()) -> dict[str, Any] | None:
        """The first record of a search `kind` whose `field` is `name` (NetSuite's `is`), of one of `types` where
        given (AccountSearchBasic `type`, anyOf), as a plain dict; None when none is."""
        conditions: list[tuple[str, str, Sequence[str]]] = [(field, "is", [name])]
        if types:
            conditions.append(("type", "anyOf", list(types)))
        return next(self._first_search(kind, conditions), None)

    def _first_search(
        self, kind: str, conditions: Sequence[tuple[str, str, Sequence[str]]]
    ) -> Iterator[dict[str, Any]]:
        """The records of a search on plain conditions (`LookupWriter.search`): what a run looks up first, its
        request rendered without zeep so that it goes out while the WSDL loads."""
        search_type = SEARCH_TYPES[kind]
        namespace = self.namespace(_record_area(search_type))
        page_size = LIMITS["searchPageSize"]

        def rendered() -> bytes:
            return self._lookups.search(self._signed(), search_type, namespace, conditions, page_size=page_size)

        search = functools.partial(self._call, "search", write=False, envelope=rendered)
        for page in self._search_pages(search, last_page_first=False):
            yield from page

    def search(self, kind: str, **criteria: Any) -> Iterator[dict[str, Any]]:
        """Every record matching a basic search, across all pages; the criteria are `search_pages`'s."""
        for page in self.search_pages(kind, **criteria):
            yield from page

    def search_pages(
        self,
        kind: str,
        *,
        external_ids: Iterable[str] | None = None,
        internal_ids: Iterable[str] | None = None,
        custom_fields: Sequence[CustomFieldCondition] = (),
        transaction_types: Sequence[str] | None = None,
        criteria: Mapping[str, Any] | None = None,
        page_size: int = LIMITS["searchPageSize"],
        body_fields_only: bool = True,
        last_page_first: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """Every record matching a basic search, a page (list of record dicts) at a time (search, searchMoreWithId).

        `kind` is a key of SEARCH_TYPES (customer, item, transaction, term, department ...). Criteria are ANDed:
        `external_ids` (anyOf, sent 1000 at a time), `internal_ids`, `custom_fields` (checkbox or text custom-field
        conditions), `transaction_types` (e.g. ["_invoice"]), and raw `criteria` by SearchBasic field name
        (`{"tranId": {"operator": "is", "searchValue": "INV-1"}}`). Records come as plain dicts like get_list's.

        searchMoreWithId runs the search again for each page, so a record that stops matching drops out and every
        later record moves up a place. A caller that changes matching records as it reads (a status written) asks
        for `last_page_first`: pages from the last to the first (the first one, read with the search, comes last),
        so no record it changes can move one it has not read yet.
        """
        if kind not in SEARCH_TYPES:
            raise ValueError(f"search kind must be one of {', '.join(SEARCH_TYPES)}, not {kind!r}")
        if not 5 <= page_size <= LIMITS["searchPageSize"]:
            raise ValueError("page_size must be between 5 and 1000")
        base: dict[str, Any] = dict(criteria or {})
        if internal_ids is not None:
            base["internalId"] = {
                "operator": "anyOf",
                "searchValue": [RecordRef(internal_id=i) for i in internal_ids],
            }
        if transaction_types:
            base["type"] = {"operator": "anyOf", "searchValue": list(transaction_types)}
        search_type = self.record_type(SEARCH_TYPES[kind])
        custom_list = None
        if custom_fields:
            conditions = [self._custom_condition(c) for c in custom_fields]
            custom_list = self.get_type("core.platform", "SearchCustomFieldList")(customField=conditions)
        batches: list[dict[str, Any]] = []
        if external_ids is not None:
            ids = list(dict.fromkeys(external_ids))
            for chunk in _chunks(ids, 1000):
                batches.append(
                    {
                        **base,
                        "externalId": {"operator": "anyOf", "searchValue": [RecordRef(external_id=e) for e in chunk]},
                    }
                )
        else:
            batches.append(base)
        preferences = self.get_type("messages.platform", "SearchPreferences")(
            bodyFieldsOnly=body_fields_only, returnSearchColumns=False, pageSize=page_size
        )
        for batch in batches:
            search_record = self._loaded().builder.build(search_type, batch, SEARCH_TYPES[kind])
            if custom_list is not None:
                search_record.customFieldList = custom_list
            yield from self._search_pages(
                functools.partial(
                    self._call, "search", write=False, search_preferences=preferences, searchRecord=search_record
                ),
                last_page_first,
            )

    def _custom_condition(self, condition: CustomFieldCondition) -> Any:
        """A SearchBooleanCustomField (a bool value) or a SearchStringCustomField with its operator."""
        if isinstance(condition.value, bool):
            return self.get_type("core.platform", "SearchBooleanCustomField")(
                scriptId=condition.script_id, searchValue=condition.value
            )
        return self.get_type("core.platform", "SearchStringCustomField")(
            scriptId=condition.script_id, operator=condition.operator, searchValue=condition.value
        )

    def _search_pages(self, search: Callable[[], Any], last_page_first: bool) -> Iterator[list[dict[str, Any]]]:
        """The pages of a search whose first call `search` makes, the others searchMoreWithId."""
        result = self._search_result(search(), "search")
        first = self._page_records(result)
        later = range(2, (result.totalPages or 0) + 1)
        if not last_page_first:
            yield first
        for page_index in reversed(later) if last_page_first else later:
            body = self._call("searchMoreWithId", write=False, searchId=result.searchId, pageIndex=page_index)
            yield self._page_records(self._search_result(body, "searchMoreWithId"))
        if last_page_first:
            yield first

    def _search_result(self, body: Any, operation: str) -> Any:
        result = _unwrap(body, "searchResult")
        success, code, message = self._status(result.status)
        if not success:
            raise NetSuiteError(message or "search failed", code=code, operation=operation)
        return result

    @staticmethod
    def _page_records(result: Any) -> list[dict[str, Any]]:
        records = result.recordList.record if result.recordList is not None else None
        return [record_to_plain(r) for r in records or []]


def _record_area(type_name: str) -> str:
    """The namespace area of a SuiteTalk record or search type name."""
    area = RECORD_NAMESPACES.get(type_name)
    if area is None:
        raise ValueError(f"unknown NetSuite record type {type_name!r} (known: {', '.join(RECORD_NAMESPACES)})")
    return area


def _unwrap(body: Any, name: str) -> Any:
    """The named child of a response body (zeep returns the `<op>Response` wrapper when headers come back)."""
    try:
        return getattr(body, name)
    except AttributeError:
        return body


def _never_sent(exc: Exception) -> bool:
    """True when the request provably never reached the server (connection refused / DNS), so a retry is safe."""
    text = repr(exc)
    return any(s in text for s in ("NewConnectionError", "Failed to establish", "NameResolutionError"))


__all__ = ["NetSuiteClient", "make_cache", "to_plain"]
