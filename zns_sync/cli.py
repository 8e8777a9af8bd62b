"""The command line: parse, call one function, render (product.md section 4)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from rich.console import Console

from zns_sync import __version__
from zns_sync.config import Settings, find_config_path, load_settings, settlement_conflict
from zns_sync.destinations import Window
from zns_sync.engine import Counts, Engine, Preview
from zns_sync.errors import UsageError, ZnsSyncError
from zns_sync.flows import TYPES
from zns_sync.journal import Journal
from zns_sync.lock import RunLock
from zns_sync.netsuite import NetSuiteClient
from zns_sync.redact import RedactingFilter, redact
from zns_sync.report import (
    ProgressObserver,
    attempts_table,
    held_back_table,
    make_console,
    preview_table,
    print_json,
    recover_table,
    runs_table,
    status_table,
    summary_table,
)
from zns_sync.zuora import ZuoraClient

log = logging.getLogger("zns_sync")
F = TypeVar("F", bound=Callable[..., Any])


@dataclasses.dataclass
class Ctx:
    """What the group passes to its commands."""

    config_path: str | None
    debug: bool
    jsonl_path: str | None
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(find_config_path(self.config_path))
        return self._settings

    def jsonl(self, stack: contextlib.ExitStack) -> IO[str] | None:
        if self.jsonl_path is None:
            return None
        if self.jsonl_path == "-":
            return sys.stderr
        return stack.enter_context(open(self.jsonl_path, "a", encoding="utf-8"))


type_option = click.option(
    "--type", "types", multiple=True, type=click.Choice(list(TYPES)),
    help="Record type (repeatable); default: sync.types from the config, in the documented order.",
)  # fmt: skip


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Config file (else $ZNS_SYNC_CONFIG, else ./zns-sync.yaml).",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option(
    "--jsonl",
    "jsonl_path",
    metavar="PATH",
    help="Also write the sync log as JSON lines to PATH (- for stderr).",
)
@click.version_option(__version__, prog_name="zns-sync")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int, debug: bool, jsonl_path: str | None) -> None:
    """Sync Zuora billing into NetSuite with the connector's Integration Status model."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = logging.DEBUG if debug or verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, handlers=[handler], force=True)
    if not debug:
        for noisy in ("zeep", "httpx", "httpcore", "urllib3"):
            logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    ctx.obj = Ctx(config_path, debug, jsonl_path)


@contextlib.contextmanager
def open_engine(
    settings: Settings, stack: contextlib.ExitStack, observer: ProgressObserver | None, jsonl: IO[str] | None
) -> Iterator[Engine]:
    """Both clients, the journal and the engine, closed in reverse order."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    journal = stack.enter_context(Journal(settings.state_dir, jsonl))
    zuora = stack.enter_context(ZuoraClient(settings.zuora))
    window = Window(settings.netsuite.concurrency)
    netsuite = stack.enter_context(
        NetSuiteClient(settings.netsuite, cache_dir=settings.state_dir, on_throttle=window.throttled, gate=window)
    )
    engine = Engine(settings, zuora, netsuite, journal, observer, window)
    stack.callback(engine.close)
    yield engine


def _types(settings: Settings, given: Sequence[str]) -> list[str]:
    for name in given:
        conflict = settlement_conflict(name, settings.sync.invoice_settlement)
        if conflict is not None:
            raise UsageError(f"--type {conflict}")
    return list(given) if given else list(settings.sync.types)


def _exit_code(results: Mapping[str, Counts]) -> int:
    return 1 if any(c.failed for c in results.values()) else 0


@cli.command()
@type_option
@click.option("--dry-run", is_flag=True, help="Read both systems, write nothing; show per record what would happen.")
@click.option("--limit", type=click.IntRange(min=1), help="At most N records per type.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout, nothing else there.")
@click.option("--quiet", is_flag=True, help="Print nothing when every record synced (for cron).")
@click.pass_obj
def run(obj: Ctx, types: tuple[str, ...], dry_run: bool, limit: int | None, as_json: bool, quiet: bool) -> None:
    """One pass over the enabled types (or the named ones), in order; prints the summary."""
    settings = obj.settings()
    sys.exit(
        sync(
            settings,
            _types(settings, types),
            dry_run=dry_run,
            limit=limit,
            as_json=as_json,
            quiet=quiet,
            jsonl_path=obj.jsonl_path,
        )
    )


def sync(
    settings: Settings,
    types: Sequence[str],
    *,
    dry_run: bool,
    limit: int | None = None,
    as_json: bool = False,
    quiet: bool = False,
    jsonl_path: str | None = None,
    command: str = "run",
) -> int:
    """Run one pass under the lock, record it, render it; returns the exit code."""
    console = make_console(stderr=as_json)
    previews: list[Preview] = []
    with contextlib.ExitStack() as stack:
        jsonl = Ctx(None, False, jsonl_path).jsonl(stack)
        stack.enter_context(RunLock(settings.state_dir))
        observer = stack.enter_context(ProgressObserver(console, enabled=not quiet and not as_json, previews=previews))
        engine = stack.enter_context(open_engine(settings, stack, observer, jsonl))
        engine.journal.start_run(command, types, dry_run)
        try:
            results = engine.run(types, dry_run=dry_run, limit=limit)
        except ZnsSyncError as exc:
            engine.journal.end_run(exc.exit_code, {})
            raise
        code = _exit_code(results)
        engine.journal.end_run(code, {name: counts.as_dict() for name, counts in results.items()})
    if as_json:
        print_json({
            "run": engine.journal.run_id, "dry_run": dry_run, "exit_code": code,
            "types": {name: counts.as_dict() for name, counts in results.items()},
            **({"records": [dataclasses.asdict(p) for p in previews]} if dry_run else {}),
        })  # fmt: skip
    elif not (quiet and code == 0):
        if dry_run:
            console.print(preview_table(previews, title="Dry run: nothing was written"))
        console.print(
            summary_table(results, title=f"zns-sync {'dry run' if dry_run else 'run'} {engine.journal.run_id}")
        )
        if code:
            console.print(f"Some records need attention: zns-sync log --run {engine.journal.run_id} --errors")
    return code


@cli.command()
@type_option
@click.option("--dry-run", is_flag=True, help="Look in the destination, link nothing.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_obj
def recover(obj: Ctx, types: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """For every record in an in-flight or Error status: find it in the destination and link it, or list it."""
    settings = obj.settings()
    selected = _types(settings, types)
    console = make_console(stderr=as_json)
    with contextlib.ExitStack() as stack:
        stack.enter_context(RunLock(settings.state_dir))
        engine = stack.enter_context(open_engine(settings, stack, None, obj.jsonl(stack)))
        engine.journal.start_run("recover", selected, dry_run)
        results = engine.recover(selected, dry_run=dry_run)
        code = 1 if any(r.not_found for r in results.values()) else 0
        engine.journal.end_run(code, {name: r.counts.as_dict() for name, r in results.items()})
    if as_json:
        print_json({name: {"found": dict(r.recovered), "not_found": r.not_found} for name, r in results.items()})
    elif any(r.recovered or r.not_found for r in results.values()):
        console.print(recover_table(results))
    else:
        console.print("Nothing to recover: no record is in an in-flight or Error status.")
    sys.exit(code)


@cli.command()
@type_option
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_obj
def status(obj: Ctx, types: tuple[str, ...], as_json: bool) -> None:
    """Per type, how many source records are in each Integration Status; the oldest in-flight one."""
    settings = obj.settings()
    with contextlib.ExitStack() as stack:
        engine = stack.enter_context(open_engine(settings, stack, None, None))
        report = engine.status(_types(settings, types))
    if as_json:
        print_json({name: {"statuses": dict(c), "oldest_in_flight": o} for name, (c, o) in report.items()})
    else:
        make_console().print(status_table(report))


@cli.command(name="log")
@click.option("--run", "run_id", type=int, help="The attempts of this run.")
@click.option("--errors", is_flag=True, help="Only records that need attention.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_obj
def log_command(obj: Ctx, run_id: int | None, errors: bool, as_json: bool) -> None:
    """The sync log: recent runs, or one run's per-record attempts with NetSuite's messages."""
    settings = obj.settings()
    with Journal(settings.state_dir) as journal:
        if run_id is None and not errors:
            runs = journal.runs()
            if as_json:
                print_json([dataclasses.asdict(r) for r in runs])
            else:
                make_console().print(runs_table(runs))
            return
        rows = list(journal.attempts(run_id=run_id, errors_only=errors))
    if as_json:
        print_json([{"run": r, "at": at, **dataclasses.asdict(a)} for r, a, at in rows])
    else:
        make_console().print(attempts_table(rows, title=f"Attempts{f' of run {run_id}' if run_id else ''}"))


@cli.command()
@click.pass_obj
def check(obj: Ctx) -> None:
    """Validate the config, connect to both systems, report NetSuite's concurrency governance."""
    settings = obj.settings()
    console = make_console()
    console.print(f"config: {settings.source} is valid")
    with ZuoraClient(settings.zuora) as zuora:
        next(iter(zuora.query_pages("select Id from Account")), None)
    console.print(f"Zuora: {settings.zuora.base_url}: authenticated, query works")
    with NetSuiteClient(settings.netsuite, cache_dir=settings.state_dir) as netsuite:
        governance = netsuite.get_integration_governance_info()
    limit = governance.get("integrationConcurrencyLimit")
    console.print(
        f"NetSuite: {settings.netsuite.resolved_endpoint_url}: authenticated; concurrency limit {limit} "
        f"({governance.get('limitType')}); netsuite.concurrency is {settings.netsuite.concurrency}"
    )
    if isinstance(limit, int) and settings.netsuite.concurrency > limit:
        console.print(f"warning: netsuite.concurrency {settings.netsuite.concurrency} is above the limit {limit}")


master_option = click.option(
    "--customer-master", type=click.Choice(["zuora", "netsuite"]), default="zuora", show_default=True,
    help="netsuite: NetSuite-origin customers go to Zuora, and NetSuite payments after them (NetSuite -> Zuora).",
)  # fmt: skip


@cli.command()
@click.option("--write-config", "config_out", required=True, metavar="PATH", help="Where to write the config.")
@click.option("--records", type=click.IntRange(min=1), default=60, show_default=True, help="Invoices to generate.")
@click.option("--seed", type=int, default=7, show_default=True, help="Demo data seed.")
@click.option("--state-dir", metavar="DIR", help="state_dir for the written config (default: beside it).")
@master_option
def sandbox(config_out: str, records: int, seed: int, state_dir: str | None, customer_master: str) -> None:
    """Start local Zuora and NetSuite emulators with demo data and write a config that points at them."""
    from zns_sync.sandbox import Sandbox

    path = Path(config_out)
    with Sandbox(invoices=records, seed=seed, customer_master=customer_master) as box:
        box.write_config(path, Path(state_dir) if state_dir else path.parent / "zns-sync-state")
        console = make_console()
        console.print(f"Zuora emulator:    {box.zuora.url}")
        console.print(f"NetSuite emulator: {box.netsuite.endpoint_url}  (WSDL {box.netsuite.wsdl_url})")
        console.print(f"config written to {path}; try: zns-sync --config {path} run --dry-run")
        console.print("Ctrl-C stops the emulators.")
        with contextlib.suppress(KeyboardInterrupt):
            box.wait()


@cli.command()
@click.option("--records", type=click.IntRange(min=1), default=60, show_default=True, help="Invoices to generate.")
@click.option("--seed", type=int, default=7, show_default=True, help="Demo data seed.")
@master_option
def demo(records: int, seed: int, customer_master: str) -> None:
    """Sandbox + a full sync + the summary: nothing to configure."""
    from zns_sync.sandbox import Sandbox

    console = make_console()
    with (
        Sandbox(invoices=records, seed=seed, customer_master=customer_master) as box,
        tempfile.TemporaryDirectory(prefix="zns-sync-demo-") as tmp,
    ):
        settings = box.settings(Path(tmp))
        counts = box.summary.counts if box.summary else {}
        console.print(f"Sandbox up: Zuora emulator {box.zuora.url}, NetSuite emulator {box.netsuite.endpoint_url}")
        console.print(
            f"Demo tenant: {counts.get('Account', 0)} accounts, {counts.get('ProductRatePlanCharge', 0)} charges, "
            f"{counts.get('Invoice', 0)} invoices ({counts.get('InvoiceItem', 0)} items, "
            f"{counts.get('TaxationItem', 0)} taxation items), with awkward cases on purpose: "
            + ", ".join(sorted(box.summary.awkward if box.summary else {}))
        )
        if box.netsuite_awkward:
            console.print(
                "NetSuite is the customer master: NetSuite customers with Send To Zuora ticked go to Zuora, "
                "awkward ones on purpose: " + ", ".join(sorted(box.netsuite_awkward))
            )
        console.rule("First run")
        _demo_run(console, settings)
        if customer_master == "netsuite":
            made = box.record_in_netsuite()
            console.print(
                f"A clerk records {len(made)} payments, credit memos and refunds in NetSuite: "
                + ", ".join(sorted(made))
            )
            console.rule("Next run: the NetSuite payments, credit memos and refunds go to Zuora")
            _demo_run(console, settings)
        console.rule("Next run: selects nothing new")
        sync(settings, settings.sync.types, dry_run=False, command="demo")
        with contextlib.ExitStack() as stack:
            engine = stack.enter_context(open_engine(settings, stack, None, None))
            console.print(status_table(engine.status(settings.sync.types)))
        held = ", ".join(f"{n} {t}" for t, n in box.netsuite_counts().items())
        console.print(f"The NetSuite emulator now holds: {held}.")
        console.print(
            "Demo done. Next: `zns-sync sandbox --write-config demo.yaml`, then try run --dry-run, status, log."
        )


def _demo_run(console: Console, settings: Settings) -> None:
    """One demo run, then what it held back, one line per reason."""
    sync(settings, settings.sync.types, dry_run=False, command="demo")
    with Journal(settings.state_dir) as journal:
        held_back = list(journal.attempts(run_id=journal.runs(1)[0].id, errors_only=True))
    if held_back:
        console.print(held_back_table(held_back))


def main() -> None:
    """Entry point: user errors are one line on stderr and an exit code; tracebacks only with --debug."""
    debug = "--debug" in sys.argv[1:]
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("zns-sync: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except ZnsSyncError as exc:
        if debug:
            raise
        click.echo(f"zns-sync: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("zns-sync: interrupted; records in flight are recovered by the next run", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"zns-sync: unexpected error: {redact(f'{type(exc).__name__}: {exc}')} (run with --debug)",
            err=True,
        )
        sys.exit(4)
