"""Names to NetSuite records, by exact name, read once a run (reference 7.5).

Zuora and the connector's preferences name NetSuite records: a currency by its symbol, a term, a payment method,
a subsidiary, department, class or location by its full name (`Parent : Child`, reference 7.4), a GL account of
a given type by its full name, a revenue recognition template, a tax code. Small lists are read whole once
(`getAll`, or a search where getAll has none); the others are searched a name at a time with the SearchBasic
field that holds the full name (`name`: `nameNoHierarchy` holds the record's own; platform.common.xsd 2023_2).
Every answer, a miss too, is kept for the run. The lookups run LOOKUPS at a time: a run warms the lists and
default names its flows need as it starts (`Engine.run`), and a page's new names are searched together
(`deferring`, `Flow.plan_page`), not one after another as records name them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass
from typing import Any

from zns_sync.netsuite import NetSuiteClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetSuiteList:
    """A NetSuite list records are named in: how a message names it, and how a name is looked up."""

    label: str  # "department", "income account": how a message names the list
    kind: str  # the client's search kind, or the getAll record type of a list read whole
    field: str = "name"  # the field holding the name
    whole: bool = False  # read whole once (a small list), else searched a name at a time
    types: tuple[str, ...] = ()  # accounts: the account types (AccountSearchBasic `type`) that may match
    matched_by: str = "full name"  # how a message says names are matched: a tree list's full name, a name, a symbol

    def miss(self, name: str, where: str) -> str:
        """The reason a record naming `name` in `where` is skipped."""
        return f"{where} {name!r} matches no NetSuite {self.label} by {self.matched_by}"


CURRENCY = NetSuiteList("currency", "currency", field="symbol", whole=True, matched_by="symbol")
TERM = NetSuiteList("term", "term", whole=True, matched_by="name")
PAYMENT_METHOD = NetSuiteList("payment method", "paymentMethod", whole=True, matched_by="name")
SUBSIDIARY = NetSuiteList("subsidiary", "subsidiary")
DEPARTMENT = NetSuiteList("department", "department")
CLASS = NetSuiteList("class", "classification")
LOCATION = NetSuiteList("location", "location")
INCOME_ACCOUNT = NetSuiteList("income account", "account", types=("_income", "_otherIncome"))
DEFERRED_REVENUE_ACCOUNT = NetSuiteList("deferred revenue account", "account", types=("_deferredRevenue",))
REV_REC_TEMPLATE = NetSuiteList("revenue recognition template", "revRecTemplate", matched_by="name")
TAX_CODE = NetSuiteList("tax code", "salesTaxItem", field="itemId", matched_by="name")
LOOKUPS = 4  # names looked up at once (each a NetSuite request, within the client's window)


class NamesPending(Exception):
    """Raised inside `NetSuiteNames.deferring()` when a record names what another record already asked for and is
    not answered yet: plan the record again once `wait()` returns (`Flow.plan_page`)."""


@dataclass
class Deferral:
    """What `deferring` saw: whether the record asked for a name or list not answered yet."""

    missed: bool = False


class NetSuiteNames:
    """The internalIds of NetSuite records by name, looked up once a run; thread-safe.

    Each list read whole and each name searched is one lookup, whoever asks first, run on the names' own threads
    (the client's window keeps NetSuite's requests within `netsuite.concurrency`, and lets them go before the writes
    waiting for a slot: the planning of a page waits for them); whoever asks again waits for that answer. A lookup
    that fails is forgotten, so the next question asks again.
    """

    def __init__(self, client: NetSuiteClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._answers: dict[tuple[NetSuiteList, str | None], Future[Any]] = {}  # (list, None): the list read whole
        self._pool = ThreadPoolExecutor(LOOKUPS, thread_name_prefix="netsuite-names")
        self._local = threading.local()  # the `deferring` block this thread is in

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)

    def warm(self, lists: Iterable[NetSuiteList], names: Iterable[tuple[NetSuiteList, str]]) -> None:
        """Start reading these lists and searching these names now, without waiting for the answers."""
        for listed in lists:
            self._lookup(listed, None)
        for listed, name in names:
            self._lookup(listed, name)

    @contextlib.contextmanager
    def deferring(self, defer: bool = True) -> Iterator[Deferral]:
        """While planning one record in this thread: a name or list not answered yet does not wait. A first question
        starts its lookup and gets a stand-in answer (an empty list, an empty id), so that the record's other names
        are asked too; a question another record asked already raises NamesPending. Either way `missed` is set: the
        plan is to be thrown away and made again after `wait()`. With `defer` False, an ordinary block."""
        deferral = Deferral()
        self._local.deferral = deferral if defer else None
        try:
            yield deferral
        finally:
            self._local.deferral = None

    def wait(self) -> None:
        """Until every lookup started so far is answered."""
        with self._lock:
            pending = list(self._answers.values())
        futures_wait(pending)

    def all(self, listed: NetSuiteList) -> Mapping[str, str]:
        """A small list read whole: {name: internalId}."""
        if not listed.whole:
            raise ValueError(f"the NetSuite {listed.label} list is searched by name, not read whole")
        answer: Mapping[str, str] = self._result(*self._lookup(listed, None), stand_in={})
        return answer

    def resolve(self, listed: NetSuiteList, names: Iterable[str]) -> dict[str, str]:
        """{name: internalId} of the names that match a record of the list (a name that matches none is left out)."""
        wanted = sorted({name for name in names if name})
        if listed.whole:
            known = self.all(listed)
            return {name: known[name] for name in wanted if name in known}
        lookups = {name: self._lookup(listed, name) for name in wanted}  # searched at the same time
        found = {name: self._result(*lookup, stand_in="") for name, lookup in lookups.items()}
        return {name: internal_id for name, internal_id in found.items() if internal_id is not None}

    def id(self, listed: NetSuiteList, name: str) -> str | None:
        """The internalId of the record named `name`, or None."""
        return self.resolve(listed, [name]).get(name)

    def _lookup(self, listed: NetSuiteList, name: str | None) -> tuple[Future[Any], bool]:
        """The lookup of a name (None: of the whole list), and whether this call started it."""
        key = (listed, name)
        with self._lock:
            future = self._answers.get(key)
            if future is not None:
                return future, False
            future = self._pool.submit(self._read if name is None else self._search, listed, name or "")
            future.add_done_callback(lambda done: self._forget_failed(key, done))
            self._answers[key] = future
            return future, True

    def _forget_failed(self, key: tuple[NetSuiteList, str | None], done: Future[Any]) -> None:
        if not done.cancelled() and done.exception() is not None:
            with self._lock:
                if self._answers.get(key) is done:
                    del self._answers[key]

    def _result(self, future: Future[Any], started: bool, *, stand_in: Any) -> Any:
        """The lookup's answer; inside `deferring`, a stand-in (or NamesPending) while it is not answered."""
        deferral: Deferral | None = getattr(self._local, "deferral", None)
        if deferral is not None and not future.done():
            deferral.missed = True
            if not started:
                raise NamesPending
            return stand_in
        return future.result()

    def _read(self, listed: NetSuiteList, _: str) -> dict[str, str]:
        log.debug("NetSuite names: reading the %s list", listed.label)
        with self._client.urgent():  # planning waits for it: before the writes waiting for a slot
            rows = self._client.get_all(listed.kind)
        return {str(row[listed.field]): str(row["internalId"]) for row in rows if row.get(listed.field) is not None}

    def _search(self, listed: NetSuiteList, name: str) -> str | None:
        log.debug("NetSuite names: searching the %s %r", listed.label, name)
        with self._client.urgent():
            hit = self._client.find_named(listed.kind, listed.field, name, listed.types)
        return str(hit["internalId"]) if hit is not None else None
