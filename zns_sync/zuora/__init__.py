"""Zuora REST client: OAuth, ZOQL query paging, batch update/create in 50s, CRUD, retries (docs/architecture.md)."""

from zns_sync.zuora import zoql
from zns_sync.zuora._client import MAX_OBJECTS_PER_CALL, MAX_REST_PAGE_SIZE, ZUORA_VERSION, ZuoraClient, object_slug
from zns_sync.zuora._errors import ZuoraAuthError, ZuoraError, ZuoraErrorDetail, ZuoraQueryError
from zns_sync.zuora._models import Page, SaveResult

__all__ = [
    "MAX_OBJECTS_PER_CALL",
    "MAX_REST_PAGE_SIZE",
    "ZUORA_VERSION",
    "Page",
    "SaveResult",
    "ZuoraAuthError",
    "ZuoraClient",
    "ZuoraError",
    "ZuoraErrorDetail",
    "ZuoraQueryError",
    "object_slug",
    "zoql",
]
