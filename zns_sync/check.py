"""`check`: the config is valid, both systems answer with our credentials, NetSuite's concurrency governance."""

from __future__ import annotations

from dataclasses import dataclass

from zns_sync.config import Settings
from zns_sync.flows.classifications import default_names
from zns_sync.flows.names import NetSuiteNames
from zns_sync.journal import make_state_dir
from zns_sync.netsuite import NetSuiteClient
from zns_sync.zuora import ZuoraClient


@dataclass(frozen=True)
class CheckReport:
    """What `check` found; a failure to connect or authenticate raises instead (exit 2 or 4)."""

    config: str
    zuora_url: str
    netsuite_url: str
    concurrency_limit: int | None
    limit_type: str | None
    concurrency: int  # netsuite.concurrency
    unknown_names: tuple[str, ...] = ()  # default names of the config that match no NetSuite record

    @property
    def warnings(self) -> list[str]:
        found = list(self.unknown_names)
        if self.concurrency_limit is not None and self.concurrency > self.concurrency_limit:
            found.insert(0, f"netsuite.concurrency {self.concurrency} is above the limit {self.concurrency_limit}")
        return found


def check(settings: Settings) -> CheckReport:
    """Authenticate with both systems and run one harmless read in each."""
    with ZuoraClient(settings.zuora) as zuora:
        next(iter(zuora.query_pages("select Id from Account")), None)
    make_state_dir(settings.state_dir)  # the WSDL cache lives there
    with NetSuiteClient(settings.netsuite, cache_dir=settings.state_dir) as netsuite:
        governance = netsuite.get_integration_governance_info()
        names = NetSuiteNames(netsuite)
        try:
            unknown = unknown_default_names(settings, names)
        finally:
            names.close()
    limit = governance.get("integrationConcurrencyLimit")
    return CheckReport(
        config=str(settings.source),
        zuora_url=settings.zuora.base_url,
        netsuite_url=settings.netsuite.resolved_endpoint_url,
        concurrency_limit=limit if isinstance(limit, int) else None,
        limit_type=governance.get("limitType"),
        concurrency=settings.netsuite.concurrency,
        unknown_names=tuple(unknown),
    )


def unknown_default_names(settings: Settings, names: NetSuiteNames) -> list[str]:
    """The defaults the config gives by name (classifications, the tax code) that match no NetSuite record: every
    record that would take one is skipped until it is fixed."""
    return [
        listed.miss(value, key) for key, value, listed in default_names(settings) if names.id(listed, value) is None
    ]
