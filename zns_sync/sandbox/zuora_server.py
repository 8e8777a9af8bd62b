"""A local Zuora REST emulator: a real HTTP server with OAuth, ZOQL query paging, Actions, CRUD and faults.

It follows reference zuora-rest.md, "What a faithful emulator and client must do", where it matters to
zns-sync; docs/zuora.md lists what it models and its switches.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import random
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from zns_sync.sandbox._http import LoopbackServer
from zns_sync.sandbox.zuora_rules import Effect, Refused, TenantRules
from zns_sync.sandbox.zuora_settlement import MEMOS, RestFailure, Settlement
from zns_sync.sandbox.zuora_store import (
    NOT_ACTION_OBJECTS,
    SETTLEMENT_DEPRECATED,
    SUBSCRIBE_ONLY,
    SYSTEM_FIELDS,
    InvalidValue,
    ObjectSchema,
    ZuoraStore,
    coerce,
    render,
    schema_for,
)
from zns_sync.sandbox.zuora_zoql import Query, ZoqlError, parse

log = logging.getLogger("zns_sync.sandbox.zuora")

MAX_OBJECTS_PER_ACTION = 50
MAX_BATCH_SIZE = 2000
MAX_NS_FIELD_LENGTH = 255
LOCATOR_IDLE_SECONDS = 15 * 60
WRITABLE_TTA = ("Processing", "Yes", "Error", "Ignore")
# From this Zuora-Version on, REST errors carry mapped HTTP statuses; below it (and without the header, which
# means 186.0) they come back as HTTP 200 with `success: false` (reference zuora-rest.md sections 1 and 5).
MAPPED_STATUS_VERSION = "2024-05-20"
_DATED_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
RATE_LIMIT = 2500
_AUTH_ERROR = {"message": "Authentication error"}
_WWW_AUTHENTICATE = "Basic realm=Zuora API, ZSession realm=Zuora API, Bearer realm=Zuora API"


@dataclasses.dataclass
class ZuoraFaults:
    """Faults the emulator injects into `/v1` calls; change the fields at any time, tests do."""

    latency_seconds: float = 0.0
    rate_limit_every: int = 0  # every Nth /v1 call answers 429
    rate_limit_rate: float = 0.0  # or this share of calls, at random
    retry_after_seconds: float = 1.0
    error_rate: float = 0.0  # share of calls answered 503
    error_every: int = 0  # every Nth /v1 call answers 503
    drop_rate: float = 0.0  # share of calls whose connection closes without an answer
    drop_after_rate: float = 0.0  # share of calls applied, then closed without an answer (a lost answer)
    token_ttl_seconds: float = 3599.0
    concurrency_limit: int = 40  # more /v1 requests in flight than this answer 429
    processing_seconds: float = 0.0  # each create takes this long (a repeat of its Idempotency-Key gets 409 meanwhile)
    # Or each create waits until a test sets this event: a create held in flight for as long as a test needs it.
    processing_gate: threading.Event | None = None
    shuffle_results: bool = False  # query results in random order (Zuora promises none)
    seed: int | None = None
    # Scripted answers for the next /v1 calls, consumed in order: an HTTP status (429, 500, 503 ...),
    # "drop" (close before processing) or "drop-after" (process, then close without answering).
    script: list[int | str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator received it (for conformance tests)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""


@dataclasses.dataclass
class _Cursor:
    records: list[dict[str, Any]]
    used: float


@dataclasses.dataclass
class _Idempotent:
    method: str
    path: str
    done: bool = False
    status: int = 0
    body: bytes = b""


class _Reply(Exception):
    """Answer the current request with this status and JSON body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class _Drop(Exception):
    """Close the connection without answering."""


class ZuoraEmulator(LoopbackServer):
    """A Zuora REST emulator on 127.0.0.1: `ZuoraEmulator(client_id, client_secret).start()`, then `.url`."""

    thread_name = "zuora-emulator"

    def __init__(
        self,
        client_id: str = "zns-sync-emulator-client-0000000000000",
        client_secret: str = "emulator-secret",
        store: ZuoraStore | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        lenient_invoice_item_fields: bool = False,
        invoice_settlement: bool = True,
    ) -> None:
        super().__init__(host, port)
        self.client_id = client_id
        self.client_secret = client_secret
        self.store = store if store is not None else ZuoraStore()
        self.rules = TenantRules(self.store, invoice_settlement)
        self.faults = ZuoraFaults()
        # Real Zuora refuses InvoiceItem.ProductRatePlanChargeId in ZOQL; so does the emulator unless told to allow it.
        self.lenient_fields: dict[str, frozenset[str]] = (
            {"InvoiceItem": frozenset({"ProductRatePlanChargeId"})} if lenient_invoice_item_fields else {}
        )
        # Invoice Settlement on: the memo and parts resources are served, InvoicePayment and RefundInvoicePayment
        # are refused; off: the other way round (reference zuora-rest.md section 7, "What a faithful emulator ...").
        self.invoice_settlement = invoice_settlement
        self.unavailable = NOT_ACTION_OBJECTS | (SETTLEMENT_DEPRECATED if invoice_settlement else frozenset())
        self.settlement = Settlement(
            self.store, invoice_settlement, lambda: self.url, lambda: self._count("objects_written")
        )
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {}
        self._in_flight = 0
        self._v1_calls = 0
        self._tokens: dict[str, float] = {}
        self._cursors: dict[str, _Cursor] = {}
        self._idempotency: dict[str, _Idempotent] = {}
        self._rng = random.Random()
        self._rng_seed: int | None = None
        self._journal: collections.deque[RecordedRequest] = collections.deque(maxlen=1000)

    # -- observation -----------------------------------------------------------------------------------------
    @property
    def counters(self) -> dict[str, int]:
        """A snapshot: calls per `METHOD /path` (CRUD ids left out), `requests`, `objects_written`,
        `max_in_flight`, `rate_limited`, `errors_injected`, `dropped`, `idempotent_replays`."""
        with self._lock:
            return dict(self._counters)

    @property
    def requests_seen(self) -> list[RecordedRequest]:
        """The last 1000 requests received, oldest first (headers lower-cased)."""
        with self._lock:
            return list(self._journal)

    def reset_counters(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._counters.clear()

    def revoke_tokens(self) -> None:
        """Invalidate every issued bearer token (the next call with one gets 401)."""
        with self._lock:
            self._tokens.clear()

    def _count(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self._counters[key] = self._counters.get(key, 0) + amount

    # -- request handling (called by the handler) -------------------------------------------------------------
    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        """Answer one request: (status, JSON payload, extra headers); early answers raise _Reply or _Drop."""
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        self._count(f"{method} {_endpoint(path)}")
        self._count("requests")
        with self._lock:
            self._journal.append(RecordedRequest(method, path, dict(headers), body, parts.query))
        if path == "/oauth/token" and method == "POST":
            return self._token(headers, body)
        if not path.startswith("/v1/"):
            raise _Reply(404, _reasons(50000040, f"no such resource: {path}"))
        drop_after = self._inject_faults()
        self._authenticate(path, headers)
        key = headers.get("idempotency-key")
        if method == "POST" and key:
            status, payload = self._idempotent(
                method, path, key, lambda: self._route(method, path, parts.query, body, headers)
            )
        else:
            status, payload = self._route(method, path, parts.query, body, headers)
        if drop_after:
            raise _Drop()
        return status, payload, {}

    def _inject_faults(self) -> bool:
        faults = self.faults
        with self._lock:
            self._v1_calls += 1
            number = self._v1_calls
            if faults.seed != self._rng_seed:
                self._rng = random.Random(faults.seed)
                self._rng_seed = faults.seed
            scripted = faults.script.pop(0) if faults.script else None
            roll_drop, roll_rate, roll_error = self._rng.random(), self._rng.random(), self._rng.random()
            roll_lose = self._rng.random()
            crowded = self._in_flight > faults.concurrency_limit
        if faults.latency_seconds > 0:
            time.sleep(faults.latency_seconds)
        if scripted == "drop-after" or (scripted is None and roll_lose < faults.drop_after_rate):
            self._count("answers_lost")
            return True
        if scripted == "drop" or (scripted is None and roll_drop < faults.drop_rate):
            self._count("dropped")
            raise _Drop()
        if (
            scripted == 429
            or crowded
            or (
                scripted is None
                and (
                    (faults.rate_limit_every and number % faults.rate_limit_every == 0)
                    or roll_rate < faults.rate_limit_rate
                )
            )
        ):
            self._count("rate_limited")
            retry_after = faults.retry_after_seconds
            text = f"{retry_after:g}"
            raise _Reply(
                429,
                _reasons(50000070, f"Request exceeded limit. Resubmit after {text} seconds."),
                {"Retry-After": text, "ratelimit-remaining": "0", "ratelimit-reset": text},
            )
        if isinstance(scripted, int) or (
            scripted is None
            and ((faults.error_every and number % faults.error_every == 0) or roll_error < faults.error_rate)
        ):
            self._count("errors_injected")
            status = scripted if isinstance(scripted, int) else 503
            raise _Reply(status, _reasons(50000060, "Temporary error, please retry."))
        return False

    # -- auth ------------------------------------------------------------------------------------------------
    def _token(self, headers: dict[str, str], body: bytes) -> tuple[int, Any, dict[str, str]]:
        if "application/x-www-form-urlencoded" not in headers.get("content-type", ""):
            raise _Reply(415, {"error": "unsupported_media_type", "error_description": "send a form-encoded body"})
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            raise _Reply(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be client_credentials",
                },
            )
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            raise _Reply(401, {"error": "invalid_client", "error_description": "Bad client credentials"})
        token = secrets.token_hex(16)
        ttl = self.faults.token_ttl_seconds
        with self._lock:
            self._tokens[token] = time.monotonic() + ttl
        return (
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": int(ttl) if ttl >= 1 else ttl,
                "scope": "user.7c4d5433dc234c369a01b9719ecd059f entity.1a2b7a37-3e7d-4cb3-b0e2-883de9e766cc "
                "service.echo.read tenant.19",
                "jti": secrets.token_hex(16),
            },
            {},
        )

    def _authenticate(self, path: str, headers: dict[str, str]) -> None:
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        with self._lock:
            expires = self._tokens.get(token)
            valid = expires is not None and expires > time.monotonic()
        if not valid:
            body = (
                _AUTH_ERROR
                if path.startswith(("/v1/object", "/v1/action"))
                else _reasons(90000011, "invalid credential")
            )
            raise _Reply(401, body, {"WWW-Authenticate": _WWW_AUTHENTICATE})

    # -- idempotency ------------------------------------------------------------------------------------------
    def _idempotent(self, method: str, path: str, key: str, run: Any) -> tuple[int, Any]:
        if len(key) >= 255:
            raise _Reply(400, _reasons(50000020, "Idempotency-Key must be shorter than 255 characters"))
        with self._lock:
            entry = self._idempotency.get(key)
            if entry is None:
                entry = self._idempotency[key] = _Idempotent(method, path)
                first = True
            else:
                first = False
        if not first:
            if (entry.method, entry.path) != (method, path):
                raise _Reply(422, _reasons(50000030, "Idempotency-Key reused with a different method or URL"))
            if not entry.done:
                raise _Reply(409, _reasons(50000050, "a request with this Idempotency-Key is still in progress"))
            self._count("idempotent_replays")
            return entry.status, json.loads(entry.body)
        try:
            status, payload = run()
        except _Reply as reply:
            status, payload = reply.status, reply.body
        entry.status, entry.body, entry.done = status, json.dumps(payload).encode(), True
        return status, payload

    # -- routes ----------------------------------------------------------------------------------------------
    def _route(self, method: str, path: str, query: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        if method == "POST" and path == "/v1/action/query":
            payload = _json_body(body)
            return 200, self._query(payload)
        if method == "POST" and path == "/v1/action/queryMore":
            payload = _json_body(body)
            return 200, self._query_more(payload)
        if method == "POST" and path in ("/v1/action/update", "/v1/action/create"):
            return 200, self._action(path.rsplit("/", 1)[1], _json_body(body))
        segments = path.split("/")
        if len(segments) == 5 and segments[2] == "object" and method in ("GET", "PUT"):
            schema = _schema_from_slug(segments[3])
            if schema is None:
                raise _Reply(404, {"records": [], "size": 0, "done": True})
            if method == "GET":
                return self._get(schema, segments[4], query)
            return self._put(schema, segments[4], _json_body(body))
        if method == "POST" and path == "/v1/payments":
            payload = _json_body(body)
            return self._rest_create(
                "Payment", _payment_fields(payload), partial(self.rules.create_payment, payload), headers
            )
        if method == "POST" and path == "/v1/subscriptions":
            return self._subscribe(_json_body(body), headers)
        if len(segments) == 5 and segments[2] == "payments" and segments[4] == "refunds" and method == "POST":
            key = unquote(segments[3])
            fields = _refund_fields(_json_body(body))
            return self._rest_create("Refund", fields, partial(self.rules.create_refund, key), headers)
        try:
            answer = self.settlement.route(method, segments, query, _rest_body(body), headers)
        except RestFailure as failure:
            raise _rest_error(headers, failure.status, failure.code, failure.message) from None
        if answer is not None:
            return answer
        raise _Reply(404, _reasons(50000040, f"no such resource: {method} {path}"))

    def _rest_create(
        self, object_type: str, obj: dict[str, Any], check: Callable[[dict[str, Any]], Effect], headers: dict[str, str]
    ) -> tuple[int, Any]:
        """A REST create (Invoice Settlement): the new object's `id` and number, or a REST error envelope."""
        schema = schema_for(object_type)
        assert schema is not None
        try:
            new_id = self._insert(object_type, self._writable(schema, obj, existing=None), lambda _, f: check(f))
        except (InvalidValue, Refused) as exc:
            raise _rest_error(headers, 400, 50000020, str(exc)) from None
        record = self.store.get(object_type, new_id) or {}
        number = record.get("PaymentNumber") or record.get("RefundNumber")
        return 200, {"success": True, "id": new_id, "number": number, "status": record.get("Status"),
                     "amount": record.get("Amount"), "accountId": record.get("AccountId")}  # fmt: skip

    def _subscribe(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
        """POST /v1/subscriptions (Zuora's "Create a subscription", developer.zuora.com/v1-api-reference/api/
        operation/POST_Subscription/; not in the vendored OpenAPI): the subscription with one RatePlan per
        `subscribeToRatePlans` entry, its number generated unless `subscriptionNumber` names one."""
        schema = schema_for("Subscription")
        assert schema is not None
        try:
            fields = self._writable(schema, _subscription_fields(body), existing=None)
            new_id = self._insert("Subscription", fields, lambda _, f: self.rules.subscribe(body, f))
        except (InvalidValue, Refused) as exc:
            raise _rest_error(headers, 400, 53100020, str(exc)) from None
        record = self.store.get("Subscription", new_id) or {}
        return 200, {"success": True, "subscriptionId": new_id, "subscriptionNumber": record.get("Name"),
                     "contractedMrr": 0, "totalContractedValue": 0}  # fmt: skip

    def _query(self, payload: dict[str, Any]) -> dict[str, Any]:
        text = payload.get("queryString")
        if not isinstance(text, str):
            raise _Reply(400, _fault("MALFORMED_QUERY", "queryString is required"))
        try:
            query = parse(text, self.store.timezone, self.lenient_fields, self.unavailable)
        except ZoqlError as exc:
            raise _Reply(400, _fault(exc.code, exc.message)) from None
        records = self._select(query)
        if self.faults.shuffle_results:
            with self._lock:
                self._rng.shuffle(records)
        return self._page(secrets.token_hex(16), records, 0, _batch_size(payload))

    def _select(self, query: Query) -> list[dict[str, Any]]:
        tz = self.store.timezone
        fields = query.fields if "Id" in query.fields else ("Id", *query.fields)
        with self.store.lock:
            rows = [r for r in self.store.rows(query.object.name) if query.matches(r)]
            return [{f: render(r[f], tz) for f in fields if r.get(f) is not None} for r in rows]

    def _page(self, cursor_id: str, records: list[dict[str, Any]], offset: int, size: int) -> dict[str, Any]:
        page = records[offset : offset + size]
        end = offset + len(page)
        result: dict[str, Any] = {"records": page, "size": len(records), "done": end >= len(records)}
        with self._lock:
            if end < len(records):
                self._cursors[cursor_id] = _Cursor(records, time.monotonic())
                result["queryLocator"] = f"{cursor_id}-{end}"
            else:
                self._cursors.pop(cursor_id, None)
        return result

    def _query_more(self, payload: dict[str, Any]) -> dict[str, Any]:
        locator = payload.get("queryLocator")
        cursor_id, _, offset_text = str(locator or "").rpartition("-")
        now = time.monotonic()
        with self._lock:
            for stale in [k for k, c in self._cursors.items() if now - c.used > LOCATOR_IDLE_SECONDS]:
                del self._cursors[stale]
            cursor = self._cursors.get(cursor_id)
            if cursor is not None:
                cursor.used = now
        if cursor is None or not offset_text.isdigit():
            raise _Reply(400, _fault("INVALID_QUERY_LOCATOR", f"invalid or expired query locator: {locator}"))
        return self._page(cursor_id, cursor.records, int(offset_text), _batch_size(payload))

    def _action(self, action: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        type_name, objects = payload.get("type"), payload.get("objects")
        if not isinstance(type_name, str) or not isinstance(objects, list):
            raise _Reply(400, _fault("INVALID_VALUE", "the body needs 'type' (string) and 'objects' (array)"))
        schema = schema_for(type_name)
        if schema is None or schema.name in self.unavailable:
            raise _Reply(400, _fault("INVALID_TYPE", f"invalid type for {action}: {type_name}"))
        if action == "create" and schema.name in SUBSCRIBE_ONLY:
            raise _Reply(400, _fault("INVALID_TYPE", f"invalid type for create: {type_name} (subscribe instead)"))
        if len(objects) > MAX_OBJECTS_PER_ACTION:
            raise _Reply(
                400,
                _fault(
                    "LIMIT_EXCEEDED",
                    f"too many objects: {len(objects)} (at most {MAX_OBJECTS_PER_ACTION} per call)",
                ),
            )
        if any(not isinstance(o, dict) for o in objects):
            raise _Reply(400, _fault("INVALID_VALUE", "objects must not contain null or non-object items"))
        results = []
        for obj in objects:
            if action == "create":
                results.append(self._create_one(schema, obj))
            else:
                results.append(self._update_one(schema, obj))
        return results

    def _create_one(self, schema: ObjectSchema, obj: dict[str, Any]) -> dict[str, Any]:
        try:
            new_id = self._insert(schema.name, self._writable(schema, obj, existing=None), self.rules.create)
        except InvalidValue as exc:
            return _save_error("INVALID_VALUE", str(exc))
        except Refused as exc:
            return _save_error(exc.code, exc.message)
        return {"Success": True, "Id": new_id}

    def _insert(self, object_type: str, fields: dict[str, Any], check: Any) -> str:
        """Store a new object once `check(object_type, fields)` (the tenant's rules) allows it, then its effects."""
        self._hold()
        with self.store.lock:
            effect = check(object_type, fields)
            new_id = self.store.add(object_type, fields)
            effect(new_id)
        self._count("objects_written")
        return new_id

    def _hold(self) -> None:
        """The injected processing time of a write (a repeat of its Idempotency-Key meanwhile gets 409)."""
        if self.faults.processing_seconds > 0:
            time.sleep(self.faults.processing_seconds)
        gate = self.faults.processing_gate
        if gate is not None:
            self._count("creates_held")
            gate.wait()

    def _update_one(self, schema: ObjectSchema, obj: dict[str, Any]) -> dict[str, Any]:
        object_id = obj.get("Id")
        if not isinstance(object_id, str) or not object_id:
            return _save_error("MISSING_REQUIRED_VALUE", "Id is required for update")
        with self.store.lock:
            existing = self.store.get(schema.name, object_id)
            if existing is None:
                return _save_error("INVALID_ID", f"invalid id: {object_id}")
            try:
                fields = self._writable(schema, obj, existing=existing)
                effect = self.rules.update(schema.name, existing, fields)
            except InvalidValue as exc:
                return _save_error("INVALID_VALUE", str(exc))
            except Refused as exc:
                return _save_error(exc.code, exc.message)
            self.store.set(schema.name, object_id, fields)
            effect(object_id)
        self._count("objects_written")
        return {"Success": True, "Id": object_id}

    def _writable(self, schema: ObjectSchema, obj: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        """The typed fields a write would set (None clears); unknown fields and JSON nulls are ignored as Zuora
        does, and `fieldsToNull` lists the fields to clear."""
        fields: dict[str, Any] = {}
        to_null = obj.get("fieldsToNull") or []
        if not isinstance(to_null, list) or not all(isinstance(n, str) for n in to_null):
            raise InvalidValue("fieldsToNull must be a list of field names")
        for name in to_null:
            field = schema.canonical(name)
            if field is not None and field not in SYSTEM_FIELDS:
                fields[field] = None
        for name, value in obj.items():
            field = schema.canonical(name)
            if field is None or field in SYSTEM_FIELDS or value is None:
                continue
            if field.endswith("__NS") and isinstance(value, str) and len(value) > MAX_NS_FIELD_LENGTH:
                raise InvalidValue(f"{field} is longer than {MAX_NS_FIELD_LENGTH} characters")
            if field == "TransferredToAccounting" and value not in WRITABLE_TTA:
                raise InvalidValue(
                    f"invalid value for TransferredToAccounting: {value!r} (allowed: {', '.join(WRITABLE_TTA)})"
                )
            try:
                fields[field] = coerce(schema.fields[field], value, self.store.timezone)
            except InvalidValue as exc:
                raise InvalidValue(f"{field}: {exc}") from None
        if schema.name == "Invoice" and "TransferredToAccounting" in fields:
            status = fields.get("Status") or (existing or {}).get("Status")
            if status != "Posted":
                raise InvalidValue("TransferredToAccounting can only be updated on Posted invoices")
        return fields

    def _get(self, schema: ObjectSchema, object_id: str, query: str) -> tuple[int, Any]:
        record = self.store.get(schema.name, object_id)
        if record is None:
            raise _Reply(404, {"records": [], "size": 0, "done": True})
        wanted = parse_qs(query).get("fields")
        tz = self.store.timezone
        names = [schema.canonical(f.strip()) for f in wanted[0].split(",")] if wanted else list(record)
        return 200, {n: render(record[n], tz) for n in names if n and record.get(n) is not None}

    def _put(self, schema: ObjectSchema, object_id: str, payload: dict[str, Any]) -> tuple[int, Any]:
        with self.store.lock:
            existing = self.store.get(schema.name, object_id)
            if existing is None:
                raise _Reply(404, {"records": [], "size": 0, "done": True})
            try:
                fields = self._writable(schema, payload, existing=existing)
            except InvalidValue as exc:
                raise _Reply(
                    400, {"Success": False, "Errors": [{"Code": "INVALID_VALUE", "Message": str(exc)}]}
                ) from None
            self.store.set(schema.name, object_id, fields)
        self._count("objects_written")
        return 200, {"Success": True, "Id": object_id}

    def connected(self) -> None:
        """Count a connection opened (`connections`: a client that keeps its connections alive opens few)."""
        self._count("connections")

    def enter(self) -> None:
        """Count a request in flight."""
        with self._lock:
            self._in_flight += 1
            if self._in_flight > self._counters.get("max_in_flight", 0):
                self._counters["max_in_flight"] = self._in_flight

    def leave(self) -> None:
        """Count a request finished."""
        with self._lock:
            self._in_flight -= 1

    def remaining(self) -> int:
        """How many more requests may be in flight (the Concurrency-Limit-Remaining header)."""
        with self._lock:
            return max(self.faults.concurrency_limit - self._in_flight, 0)


class _Handler(BaseHTTPRequestHandler):
    owner: ZuoraEmulator
    protocol_version = "HTTP/1.1"
    server_version = "ZuoraEmulator/1.0"
    # TCP_NODELAY, as Zuora's front ends answer: without it the body, written after the headers, waited for the
    # client's delayed ACK on a kept-alive connection, and every GET took 40 ms more than the modelled latency.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.owner.connected()

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        owner = self.owner
        owner.enter()
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                status, payload, extra = owner.handle(method, self.path, headers, body)
            except _Reply as reply:
                status, payload, extra = reply.status, reply.body, reply.headers
            except _Drop:
                self.close_connection = True
                return
            except Exception:  # an emulator bug must still answer like a server would
                log.exception("Zuora emulator failed on %s %s", method, self.path)
                status, payload, extra = 500, _reasons(50000099, "emulator internal error"), {}
            self._answer(status, payload, extra, headers.get("zuora-track-id"), owner.remaining())
        finally:
            owner.leave()

    def _answer(self, status: int, payload: Any, extra: dict[str, str], track_id: str | None, remaining: int) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Zuora-Request-Id", str(uuid.uuid4()))
        if track_id:
            self.send_header("Zuora-Track-Id", track_id)
        headers = {
            "ratelimit-limit": f"{RATE_LIMIT}, {RATE_LIMIT};w=60, 5000;w=3600, 10000;w=86400",
            "ratelimit-remaining": str(RATE_LIMIT - 1),
            "ratelimit-reset": "60",
            "Concurrency-Limit-Type": "default",
            "Concurrency-Limit-Limit": str(self.owner.faults.concurrency_limit),
            "Concurrency-Limit-Remaining": str(remaining),
            **extra,
        }
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("zuora emulator: " + format, *args)


def _endpoint(path: str) -> str:
    segments = path.split("/")
    if len(segments) >= 5 and segments[2] == "object":
        return "/".join(segments[:4])
    if len(segments) == 5 and segments[2] == "payments" and segments[4] == "parts":
        return "/v1/payments/{paymentKey}/parts"
    if len(segments) in (4, 5) and segments[2] in MEMOS and segments[3] != "bulk":
        return "/".join([*segments[:3], "{memoKey}", *segments[4:]])
    return path


def _schema_from_slug(slug: str) -> ObjectSchema | None:
    return schema_for(slug.replace("-", "").replace("_", ""))


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        raise _Reply(400, _fault("MALFORMED_QUERY", "the request body is not valid JSON")) from None
    if not isinstance(payload, dict):
        raise _Reply(400, _fault("INVALID_VALUE", "the request body must be a JSON object"))
    return payload


def _batch_size(payload: dict[str, Any]) -> int:
    conf = payload.get("conf")
    size = conf.get("batchSize") if isinstance(conf, dict) else None
    if size is None:
        return MAX_BATCH_SIZE
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _Reply(400, _fault("INVALID_VALUE", f"conf.batchSize must be an integer from 1 to 2000, got {size!r}"))
    return min(size, MAX_BATCH_SIZE)


def _rest_body(body: bytes) -> Any:
    """A REST request's JSON body (None when empty); malformed JSON is a category-90 REST error."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise RestFailure(400, 50000090, "The request body is not valid JSON.") from None


def _ns_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The connector's `__NS` fields of a REST body: top-level keys, as Zuora takes them."""
    return {k: v for k, v in body.items() if k.endswith("__NS")}


def _payment_fields(body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/payments (CreatePaymentType) as Payment fields; the applications are the rules' business."""
    finance = body.get("financeInformation") or {}
    return {
        "Amount": body.get("amount"), "EffectiveDate": body.get("effectiveDate"), "Type": body.get("type"),
        "PaymentMethodId": body.get("paymentMethodId"), "Comment": body.get("comment"),
        "ReferenceId": body.get("referenceId"), "TransferredToAccounting": finance.get("transferredToAccounting"),
        **_ns_fields(body),
    }  # fmt: skip


def _subscription_fields(body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/subscriptions as Subscription fields; the rate plans are the rules' business."""
    return {
        "AccountId": body.get("accountKey"), "Name": body.get("subscriptionNumber"), "TermType": body.get("termType"),
        "InitialTerm": body.get("initialTerm"), "RenewalTerm": body.get("renewalTerm"),
        "AutoRenew": body.get("autoRenew"), "ContractEffectiveDate": body.get("contractEffectiveDate"),
        "ContractAcceptanceDate": body.get("customerAcceptanceDate"),
        "ServiceActivationDate": body.get("serviceActivationDate"), "TermStartDate": body.get("termStartDate"),
        **_ns_fields(body),
    }  # fmt: skip


def _refund_fields(body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/payments/{paymentKey}/refunds (PostRefundType) as Refund fields."""
    finance = body.get("financeInformation") or {}
    return {
        "Amount": body.get("totalAmount"), "Type": body.get("type"), "MethodType": body.get("methodType"),
        "RefundDate": body.get("refundDate"), "Comment": body.get("comment"), "ReferenceID": body.get("referenceId"),
        "TransferredToAccounting": finance.get("transferredToAccounting"), **_ns_fields(body),
    }  # fmt: skip


def _fault(code: str, message: str) -> dict[str, str]:
    return {"FaultCode": code, "FaultMessage": message}


def _rest_error(headers: dict[str, str], status: int, code: int, message: str) -> _Reply:
    """A REST (not Actions, not CRUD) error: its mapped status from Zuora-Version 2024-05-20 on, else HTTP 200."""
    version = headers.get("zuora-version", "")
    mapped = bool(_DATED_VERSION.match(version)) and version >= MAPPED_STATUS_VERSION
    return _Reply(status if mapped else 200, _reasons(code, message))


def _reasons(code: int, message: str) -> dict[str, Any]:
    return {
        "success": False,
        "processId": secrets.token_hex(8).upper(),
        "reasons": [{"code": code, "message": message}],
    }


def _save_error(code: str, message: str) -> dict[str, Any]:
    return {"Success": False, "Errors": [{"Code": code, "Message": message}]}


__all__ = ["RecordedRequest", "ZuoraEmulator", "ZuoraFaults", "ZuoraStore"]


ZuoraEmulator.handler_class = _Handler
