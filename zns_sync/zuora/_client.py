"""The Zuora REST client: OAuth, ZOQL query paging, batch create/update, CRUD reads and writes, retries."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import tenacity

from zns_sync.config import ZuoraSettings
from zns_sync.zuora._auth import TokenSource
from zns_sync.zuora._errors import ZuoraAuthError, ZuoraError, ZuoraErrorDetail, ZuoraQueryError
from zns_sync.zuora._models import Page, SaveResult
from zns_sync.zuora._retry import RETRY_STATUSES, RetryableResponse, retrying

log = logging.getLogger("zns_sync.zuora")

# A pinned dated minor version makes error statuses deterministic (reference zuora-rest.md section 1).
ZUORA_VERSION = "2025-08-12"
# Zuora's limits: 50 objects per action call, 2000 records per query page.
MAX_OBJECTS_PER_CALL = 50
MAX_BATCH_SIZE = 2000
MAX_CUSTOM_FIELD_LENGTH = 255
# REST lists (a payment's parts, credit and debit memos, their items and parts) page with `page` and `pageSize`
# (at most 40, default 20) and name the next page in `nextPage`, a URL present only when there is one
# (zuora-payments-api-openapi.yml GET_PaymentParts, zuora-credit-memos-api-openapi.yml GET_CreditMemos,
# GET_CreditMemoItems, GET_CreditMemoParts: parameters GLOBAL_REQUEST_page/GLOBAL_REQUEST_pageSize; the debit memo
# operations of the same split, zuora-debit-memos-api-openapi.yml, likewise).
MAX_REST_PAGE_SIZE = 40
# PUT /v1/creditmemos/bulk and /v1/debitmemos/bulk take at most 50 memos (PUTBulkCreditMemosRequestType,
# PUTBulkDebitMemosRequestType: `memos`, maxItems 50). The bulk update is on `/bulk`: `PUT /v1/debitmemos` is
# another operation (PUT_UpdateDebitMemosDueDates) and the specs have no `PUT /v1/creditmemos`.
MAX_MEMOS_PER_UPDATE = 50
# The Invoice Settlement memo resources: GET_CreditMemos answers `creditmemos`, GET_DebitMemos `debitmemos`.
MEMO_RESOURCES = ("creditmemos", "debitmemos")
WRITABLE_TRANSFERRED_TO_ACCOUNTING = ("Processing", "Yes", "Error", "Ignore")
USER_AGENT = "zns-sync (+https://github.com/zns-sync)"

_SLUG = re.compile(r"(?<!^)(?=[A-Z])")

JsonObject = dict[str, Any]


def object_slug(object_type: str) -> str:
    """The CRUD path segment for an object type: `ProductRatePlanCharge` -> `product-rate-plan-charge`."""
    return _SLUG.sub("-", object_type).lower()


class ZuoraClient:
    """A thread-safe client for Zuora's v1 REST API (one httpx.Client, one cached OAuth token)."""

    def __init__(
        self,
        settings: ZuoraSettings,
        *,
        retry_base_seconds: float = 1.0,
        retry_cap_seconds: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._retry_base = retry_base_seconds
        self._retry_cap = retry_cap_seconds
        self.track_id = uuid.uuid4().hex
        self._http = httpx.Client(
            base_url=settings.base_url,
            timeout=httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds),
            headers={
                "Zuora-Version": ZUORA_VERSION,
                "Zuora-Track-Id": self.track_id,
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            transport=transport,
            # `zuora.max_connections` (40 by default: Zuora's default limit of concurrent requests per tenant,
            # reference zuora-rest.md 5) connections, all kept alive. A run's lookups, REST reads, claims and
            # write-backs can ask for more at once (they wait for a connection); with httpx's default of 20 kept
            # alive, the 21st caller's connection was closed after each request and opened again (a TLS handshake
            # each against Zuora; twice as slow against the emulator at 24 callers).
            limits=httpx.Limits(
                max_connections=settings.max_connections, max_keepalive_connections=settings.max_connections
            ),
        )
        self._tokens = TokenSource(self._http, settings, self._retrying)

    # -- lifecycle -----------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> ZuoraClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- queries -------------------------------------------------------------------------------------------
    def query(self, zoql: str) -> Iterator[JsonObject]:
        """Yield the records of a ZOQL query, following queryMore pages; a missing key means null."""
        for page in self.query_pages(zoql):
            yield from page

    def query_pages(self, zoql: str) -> Iterator[Page]:
        """Yield the records of a ZOQL query a page (at most `page_size` records) at a time, each with the number of
        records the query matches (`size`)."""
        conf = {"batchSize": min(self._settings.page_size, MAX_BATCH_SIZE)}
        body = self._query_call("/v1/action/query", {"queryString": zoql, "conf": conf}, zoql)
        while True:
            records = body.get("records") or []
            if not isinstance(records, list):
                raise ZuoraError("Zuora answered a query with records that are not a list")
            size = body.get("size")
            yield Page(records, size if isinstance(size, int) else None)
            locator = body.get("queryLocator")
            if body.get("done", True) or not locator:
                return
            body = self._query_call("/v1/action/queryMore", {"queryLocator": locator, "conf": conf}, zoql)

    def _query_call(self, path: str, payload: JsonObject, zoql: str) -> JsonObject:
        response = self._send("POST", path, json=payload)
        body = _json(response)
        if response.status_code != 200 or not isinstance(body, dict):
            details = _details(body)
            code = details[0].code if details else None
            message = "; ".join(d.message for d in details) or response.reason_phrase
            shown = zoql if len(zoql) <= 300 else zoql[:300] + "..."
            raise ZuoraQueryError(
                f"Zuora rejected the query ({code or f'HTTP {response.status_code}'}): {message} -- query: {shown}",
                code=code,
                status=response.status_code,
                zuora_message=message,
            )
        return body

    # -- batch writes --------------------------------------------------------------------------------------
    def update(self, object_type: str, objects: Sequence[Mapping[str, Any]]) -> list[SaveResult]:
        """Update objects (each with its `Id`) in calls of 50; one SaveResult per object, in order."""
        return self._action("update", object_type, objects)

    def create(
        self, object_type: str, objects: Sequence[Mapping[str, Any]], *, idempotency_key: str | None = None
    ) -> list[SaveResult]:
        """Create objects in calls of 50, each call with its own Idempotency-Key; one SaveResult per object.

        A caller that gives `idempotency_key` (derived from what it creates, so that a repeat is replayed by Zuora
        rather than created again) sends at most 50 objects: one call.
        """
        if idempotency_key is not None and len(objects) > MAX_OBJECTS_PER_CALL:
            raise ValueError(f"one Idempotency-Key covers one call of at most {MAX_OBJECTS_PER_CALL} objects")
        return self._action("create", object_type, objects, idempotency_key)

    def _action(
        self, action: str, object_type: str, objects: Sequence[Mapping[str, Any]], key: str | None = None
    ) -> list[SaveResult]:
        results: list[SaveResult | None] = [_validate(object_type, obj, action) for obj in objects]
        pending = [i for i, result in enumerate(results) if result is None]
        for start in range(0, len(pending), MAX_OBJECTS_PER_CALL):
            indexes = pending[start : start + MAX_OBJECTS_PER_CALL]
            payload = {"type": object_type, "objects": [_wire(objects[i], action) for i in indexes]}
            response = self._send(
                "POST", f"/v1/action/{action}", json=payload, idempotency_key=key or str(uuid.uuid4())
            )
            body = _json(response)
            if response.status_code != 200 or not isinstance(body, list) or len(body) != len(indexes):
                raise _error(f"{action} of {len(indexes)} {object_type}", response, body)
            for index, item in zip(indexes, body, strict=True):
                result = _save_result(item)
                if result.id is None and objects[index].get("Id"):
                    # Zuora leaves the Id out of failed updates; the caller knows which object it was.
                    result = SaveResult(result.success, str(objects[index]["Id"]), result.errors)
                results[index] = result
        return [r for r in results if r is not None]

    # -- CRUD ----------------------------------------------------------------------------------------------
    def get(self, object_type: str, object_id: str) -> JsonObject | None:
        """The object with this Id as a flat PascalCase dict, or None when Zuora has no such object."""
        response = self._send("GET", f"/v1/object/{object_slug(object_type)}/{object_id}")
        body = _json(response)
        if response.status_code == 404:
            return None
        if response.status_code != 200 or not isinstance(body, dict):
            raise _error(f"get {object_type} {object_id}", response, body)
        return body

    def put(self, object_type: str, object_id: str, fields: Mapping[str, Any]) -> SaveResult:
        """Update one object through CRUD PUT; a validation failure or a missing object is a failed SaveResult."""
        invalid = _validate(object_type, fields, "put")
        if invalid is not None:
            return invalid
        path = f"/v1/object/{object_slug(object_type)}/{object_id}"
        response = self._send("PUT", path, json=_wire(fields, "update"))
        body = _json(response)
        if response.status_code == 404:
            return SaveResult(False, object_id, (ZuoraErrorDetail("NOT_FOUND", f"no {object_type} {object_id}"),))
        if response.status_code in (200, 400) and isinstance(body, dict) and "Success" in body:
            result = _save_result(body)
            return result if result.id else SaveResult(result.success, object_id, result.errors)
        raise _error(f"put {object_type} {object_id}", response, body)

    # -- REST resources (Invoice Settlement) ----------------------------------------------------------------
    def rest_create(self, path: str, body: Mapping[str, Any], *, idempotency_key: str) -> SaveResult:
        """POST a REST create under an Idempotency-Key: what the Actions cannot do with Invoice Settlement (a payment
        with its applications, `/v1/payments`; a refund of one, `/v1/payments/{key}/refunds`), and a subscription
        (`/v1/subscriptions`).

        The new object's `id` (a subscription's `subscriptionId`, `/v1/subscriptions`) comes back as the
        SaveResult's Id; Zuora's refusal is a failed SaveResult. A key still in flight after the retries (409) or a
        lost answer raises ZuoraError.
        """
        response = self._send("POST", path, json=_jsonable(body), idempotency_key=idempotency_key)
        answer = _json(response)
        new_id = (answer.get("id") or answer.get("subscriptionId")) if isinstance(answer, dict) else None
        if isinstance(answer, dict) and answer.get("success") is True and new_id:
            return SaveResult(True, str(new_id), ())
        if isinstance(answer, dict) and answer.get("success") is False and response.status_code in (200, 400, 404):
            return SaveResult(False, None, tuple(_details(answer)))
        raise _error(f"create {path}", response, answer)

    def payment_parts(self, payment_key: str) -> list[JsonObject]:
        """Every part of a payment (by Id or PaymentNumber), following `nextPage`: Zuora's camelCase dicts with
        `id`, `invoiceId`, `debitMemoId` (one of them null; both for the unapplied part), `amount`, `createdDate` ...

        A fully refunded payment has no parts. Only tenants with Invoice Settlement serve this endpoint; an
        unknown payment raises ZuoraError (HTTP 404, code `50000040`).
        """
        path = f"/v1/payments/{quote(payment_key, safe='')}/parts"
        return self._rest_all(path, "parts", f"the parts of payment {payment_key}")

    def refund(self, refund_key: str) -> JsonObject:
        """One refund (by Id or number) as `GET /v1/refunds/{refundKey}` gives it: camelCase fields with `paymentId`
        (a payment refund) or `creditMemoId`, `amount`, `status`, custom `__NS` fields (Invoice Settlement only;
        zuora-refunds-api-openapi.yml, operation GET_Refund, GETRefundType)."""
        return self._rest_get(f"/v1/refunds/{quote(refund_key, safe='')}", f"refund {refund_key}")

    def memos(self, resource: str, filters: Mapping[str, str | None]) -> Iterator[list[JsonObject]]:
        """Credit or debit memos (`resource` is `creditmemos` or `debitmemos`) a page at a time, one page after
        another (`memo_page`)."""
        number, more = 1, True
        while more:
            page, more = self.memo_page(resource, filters, number)
            yield page
            number += 1

    def memo_page(self, resource: str, filters: Mapping[str, str | None], number: int) -> tuple[list[JsonObject], bool]:
        """Page `number` (from 1) of the credit or debit memos (`resource` is `creditmemos` or `debitmemos`),
        MAX_REST_PAGE_SIZE a page, filtered by equality on the query parameters GET_CreditMemos / GET_DebitMemos
        declare (`status`, `accountId`, ...; None asks for null): Zuora's camelCase dicts (`id`, `number`,
        `accountId`, `amount`, `status`, `transferredToAccounting`, `creditMemoDate` / `debitMemoDate`, the `__NS`
        fields ...), and whether more pages follow (Zuora gives a `nextPage` then). The page is the documented
        `page` parameter (GLOBAL_REQUEST_page: "You must set pageSize before specifying page"), not `nextPage`
        followed, so that several pages of one list can be read at once."""
        # The REST way to ask for an empty string field is the word null (GET_CreditMemos).
        query = {name: "null" if value is None else value for name, value in filters.items()}
        query |= {"pageSize": str(MAX_REST_PAGE_SIZE), "page": str(number)}
        what = f"{resource} (page {number})"
        body = self._rest_get(f"/v1/{_memo_resource(resource)}?{urlencode(query)}", what)
        return _rows(body, resource, what), bool(body.get("nextPage"))

    def memo(self, resource: str, memo_key: str) -> JsonObject:
        """One credit or debit memo by Id or number (GET_CreditMemo / GET_DebitMemo)."""
        path = f"/v1/{_memo_resource(resource)}/{quote(memo_key, safe='')}"
        return self._rest_get(path, f"{resource} {memo_key}")

    def memo_items(self, resource: str, memo_key: str) -> list[JsonObject]:
        """Every item of a credit or debit memo (GET_CreditMemoItems / GET_DebitMemoItems), each with its
        `amountWithoutTax`, `sourceItemType` and `sourceItemId` (the charge it bills) and, in this client's
        Zuora-Version, its taxation items under `taxationItems.data`."""
        path = f"/v1/{_memo_resource(resource)}/{quote(memo_key, safe='')}/items"
        return self._rest_all(path, "items", f"the items of {resource} {memo_key}")

    def credit_memo_parts(self, memo_key: str) -> list[JsonObject]:
        """Every part of a credit memo (GET_CreditMemoParts): `invoiceId` or `debitMemoId` and `amount` for each
        application, neither for the unapplied part; a fully refunded credit memo has none."""
        path = f"/v1/creditmemos/{quote(memo_key, safe='')}/parts"
        return self._rest_all(path, "parts", f"the parts of credit memo {memo_key}")

    def update_memos(self, resource: str, updates: Sequence[Mapping[str, Any]]) -> list[SaveResult]:
        """Update credit or debit memos (each with its `id`) through `PUT /v1/<resource>/bulk`, 50 a call; one
        SaveResult per memo, in order. Each memo is its own transaction: partial failure is data."""
        results: list[SaveResult | None] = [_validate(resource, update, "put") for update in updates]
        pending = [i for i, result in enumerate(results) if result is None]
        what = f"update of {{}} {resource}"
        for start in range(0, len(pending), MAX_MEMOS_PER_UPDATE):
            indexes = pending[start : start + MAX_MEMOS_PER_UPDATE]
            # REST bodies clear a field with JSON null (no fieldsToNull, which is for Actions and CRUD).
            payload = {"memos": [{k: _jsonable(v) for k, v in updates[i].items()} for i in indexes]}
            response = self._send("PUT", f"/v1/{_memo_resource(resource)}/bulk", json=payload)
            body = _json(response)
            memos = body.get("memos") if isinstance(body, dict) else None
            if response.status_code != 200 or not isinstance(memos, list) or len(memos) != len(indexes):
                raise _error(what.format(len(indexes)), response, body)
            for position, item in enumerate(memos):
                where = item.get("objectIndex", position) if isinstance(item, dict) else position
                if not isinstance(where, int) or not 0 <= where < len(indexes):
                    raise _error(what.format(len(indexes)), response, body)
                index = indexes[where]
                result = _save_result(item)
                results[index] = SaveResult(result.success, str(updates[index].get("id")), result.errors)
        return [r for r in results if r is not None]

    def _rest_all(self, path: str, key: str, what: str) -> list[JsonObject]:
        return [row for page in self._rest_pages(path, key, what) for row in page]

    def _rest_pages(self, path: str, key: str, what: str) -> Iterator[list[JsonObject]]:
        """The `key` lists of a REST list resource, a page of at most 40 at a time, following `nextPage`."""
        separator = "&" if "?" in path else "?"
        path = f"{path}{separator}pageSize={MAX_REST_PAGE_SIZE}"
        fetched: set[str] = set()
        while True:
            fetched.add(path)
            body = self._rest_get(path, what)
            yield _rows(body, key, what)
            next_page = body.get("nextPage")
            if not next_page:
                return
            # Only the path and query of nextPage are followed: the bearer token never leaves the configured host.
            target = urlsplit(str(next_page))
            path = f"{target.path}?{target.query}" if target.query else target.path
            if path in fetched:
                raise ZuoraError(f"Zuora answered {what} with a nextPage already read")

    def _rest_get(self, path: str, what: str) -> JsonObject:
        """The JSON body of a REST resource read; ZuoraError unless Zuora says success."""
        response = self._send("GET", path)
        body = _json(response)
        # Never trust HTTP 200: below Zuora-Version 2024-05-20 errors come back as 200 with success false.
        if response.status_code != 200 or not isinstance(body, dict) or body.get("success") is not True:
            raise _error(f"get {what}", response, body)
        return body

    # -- transport -----------------------------------------------------------------------------------------
    def _retrying(self) -> tenacity.Retrying:
        return retrying(self._settings.max_retries, self._retry_base, self._retry_cap)

    def _send(self, method: str, path: str, *, json: Any = None, idempotency_key: str | None = None) -> httpx.Response:
        """Send one logical request: retried on transient failures (same Idempotency-Key), re-authenticated once."""
        what = f"{method} {path}"
        try:
            return self._retrying()(self._attempt, method, path, json, idempotency_key)
        except RetryableResponse as exc:
            attempts = self._settings.max_retries + 1
            raise _error(f"{what} (after {attempts} attempts)", exc.response, _json(exc.response)) from None
        except httpx.TransportError as exc:
            raise ZuoraError(
                f"cannot reach Zuora at {self._settings.base_url} ({what}, after "
                f"{self._settings.max_retries + 1} attempts): {type(exc).__name__}: {exc}"
            ) from None

    def _attempt(self, method: str, path: str, json: Any, idempotency_key: str | None) -> httpx.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        for refreshed in (False, True):
            token = self._tokens.token()
            response = self._http.request(
                method, path, json=json, headers={**headers, "Authorization": f"Bearer {token}"}
            )
            log.debug(
                "Zuora %s %s -> %s (Zuora-Request-Id %s)",
                method,
                path,
                response.status_code,
                response.headers.get("Zuora-Request-Id", "-"),
            )
            if response.status_code != 401:
                break
            self._tokens.invalidate(token)
            if refreshed:
                raise ZuoraAuthError(
                    f"Zuora at {self._settings.base_url} refused a freshly issued OAuth token ({method} {path}): "
                    f"{_message(_json(response)) or 'Authentication error'}",
                    status=401,
                )
        if response.status_code in RETRY_STATUSES or (response.status_code == 409 and idempotency_key):
            raise RetryableResponse(response)
        return response


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _details(body: Any) -> list[ZuoraErrorDetail]:
    """Every (code, message) pair in any of Zuora's error shapes."""
    if not isinstance(body, dict):
        return []
    if "FaultCode" in body or "FaultMessage" in body:
        return [ZuoraErrorDetail(str(body.get("FaultCode", "")), str(body.get("FaultMessage", "")))]
    for key, code_key, message_key in (
        ("Errors", "Code", "Message"),
        ("reasons", "code", "message"),
        ("faults", "faultCode", "faultMessage"),
    ):
        items = body.get(key)
        if isinstance(items, list):
            return [
                ZuoraErrorDetail(str(i.get(code_key, "")), str(i.get(message_key, "")))
                for i in items
                if isinstance(i, dict)
            ]
    if isinstance(body.get("message"), str):
        return [ZuoraErrorDetail("", body["message"])]
    return []


def _message(body: Any) -> str:
    return "; ".join(d.message for d in _details(body))


def _error(what: str, response: httpx.Response, body: Any) -> ZuoraError:
    details = _details(body)
    code = details[0].code if details and details[0].code else None
    text = "; ".join(f"{d.code}: {d.message}" if d.code else d.message for d in details)
    request_id = response.headers.get("Zuora-Request-Id")
    suffix = f" (Zuora-Request-Id {request_id})" if request_id else ""
    return ZuoraError(
        f"Zuora {what} failed with HTTP {response.status_code}: {text or response.reason_phrase}{suffix}",
        code=code,
        status=response.status_code,
        zuora_message="; ".join(d.message for d in details) or None,
    )


def _save_result(item: Any) -> SaveResult:
    if not isinstance(item, dict):
        return SaveResult(False, None, (ZuoraErrorDetail("", f"unexpected result {item!r}"),))
    success = bool(item.get("Success", item.get("success", False)))
    raw_id = item.get("Id", item.get("id"))
    return SaveResult(success, str(raw_id) if raw_id is not None else None, tuple(_details(item)))


def _wire(fields: Mapping[str, Any], action: str) -> JsonObject:
    """An object as sent: None values become Zuora's `fieldsToNull` on updates and are left out on creates."""
    body = {name: _jsonable(value) for name, value in fields.items() if value is not None and name != "fieldsToNull"}
    to_null = [*fields.get("fieldsToNull", ()), *(name for name, value in fields.items() if value is None)]
    if to_null and action != "create":
        body["fieldsToNull"] = list(dict.fromkeys(to_null))
    return body


def _jsonable(value: Any) -> Any:
    """A value as Zuora expects it in JSON: dates `YYYY-MM-DD`, dateTimes ISO 8601 with offset, decimals as numbers
    (inside objects and lists too)."""
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"a dateTime sent to Zuora needs a time zone: {value.isoformat()}")
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _validate(object_type: str, fields: Mapping[str, Any], action: str) -> SaveResult | None:
    """Zuora's documented field rules checked before sending; a failed SaveResult, or None when valid."""
    errors: list[ZuoraErrorDetail] = []
    if action == "update" and not fields.get("Id"):
        errors.append(ZuoraErrorDetail("MISSING_REQUIRED_VALUE", "an update needs the object's Id"))
    tta = fields.get("TransferredToAccounting")
    if tta is not None and tta not in WRITABLE_TRANSFERRED_TO_ACCOUNTING:
        allowed = ", ".join(WRITABLE_TRANSFERRED_TO_ACCOUNTING)
        errors.append(
            ZuoraErrorDetail("INVALID_VALUE", f"TransferredToAccounting must be one of {allowed}, got {tta!r}")
        )
    for name, value in fields.items():
        if name.endswith("__NS") and isinstance(value, str) and len(value) > MAX_CUSTOM_FIELD_LENGTH:
            errors.append(
                ZuoraErrorDetail(
                    "INVALID_VALUE",
                    f"{object_type}.{name} is longer than {MAX_CUSTOM_FIELD_LENGTH} characters",
                )
            )
    if not errors:
        return None
    raw_id = fields.get("Id")
    return SaveResult(False, str(raw_id) if raw_id else None, tuple(errors))


def _rows(body: JsonObject, key: str, what: str) -> list[JsonObject]:
    """The `key` list of a REST list page."""
    rows = body.get(key, [])
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ZuoraError(f"Zuora answered {what} with {key} that are not a list")
    return rows


def _memo_resource(resource: str) -> str:
    if resource not in MEMO_RESOURCES:
        raise ValueError(f"not a memo resource: {resource!r} (one of {', '.join(MEMO_RESOURCES)})")
    return resource
