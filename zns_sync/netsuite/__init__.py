"""NetSuite SuiteTalk SOAP client (zeep): TBA, list operations, search paging, retries and fault mapping."""

from zns_sync.netsuite._client import NetSuiteClient
from zns_sync.netsuite._faults import NetSuiteAuthError, NetSuiteError, OutcomeUnknownError
from zns_sync.netsuite._model import (
    LIMITS,
    RECORD_NAMESPACES,
    SEARCH_KIND_OF,
    SEARCH_TYPES,
    CustomFieldCondition,
    NsRecord,
    ReadResult,
    RecordRef,
    WriteResult,
    record_type_enum,
)

__all__ = [
    "LIMITS",
    "RECORD_NAMESPACES",
    "SEARCH_KIND_OF",
    "SEARCH_TYPES",
    "CustomFieldCondition",
    "NetSuiteAuthError",
    "NetSuiteClient",
    "NetSuiteError",
    "NsRecord",
    "OutcomeUnknownError",
    "ReadResult",
    "RecordRef",
    "WriteResult",
    "record_type_enum",
]
