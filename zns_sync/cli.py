"""The command line: parse, call one function, render (product.md section 4)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import click
import yaml
from rich.console import Console

from zns_sync import __version__
from zns_sync.allocator import tune_malloc
from zns_sync.check import check as check_connections
from zns_sync.config import Settings, effective_config, find_config_path, load_settings
from zns_sync.destinations import Window
from zns_sync.engine import Counts, Engine, Preview
from zns_sync.errors import UsageError, ZnsSyncError
from zns_sync.explain import explain
from zns_sync.flows import TYPES
from zns_sync.journal import Journal
from zns_sync.lock import RunLock
from zns_sync.manual import Procedure, apply, exit_code, record
from zns_sync.netsuite import NetSuiteClient
from zns_sync.reconcile import reconcile
from zns_sync.redact import RedactingFilter, redact
from zns_sync.report import (
    ProgressObserver,
    attempts_table,
    held_back_table,
    make_console,
    outcomes_table,
    payloads_text,
    preview_table,
    print_json,
    reconciliation_data,
    recover_table,
    runs_table,
    show,
    show_explanation,
    show_reconciliation,
    show_text,
    status_table,
    summary_table,
    write_reconciliation_csv,
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
    """The types named with --type (each refused when it cannot run as configured), else sync.types."""
    for name in given:
        reason = settings.sync.refusal(name)
        if reason is not None:
            raise UsageError(f"--type {name}: {reason}")
    return list(given) if given else list(settings.sync.types)


def _exit_code(results: Mapping[str, Counts]) -> int:
    return 1 if any(c.failed for c in results.values()) else 0


@cli.command()
@type_option
@click.option("--dry-run", is_flag=True, help="Read both systems, write nothing; show per record what would happen.")
@click.option("--payloads", is_flag=True, help="With --dry-run: also print each payload it would send.")
@click.option("--limit", type=click.IntRange(min=1), help="At most N records per type.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout, nothing else there (payloads included).")
@click.option("--quiet", is_flag=True, help="Print nothing when every record synced (for cron).")
@click.pass_obj
def run(
    obj: Ctx, types: tuple[str, ...], dry_run: bool, payloads: bool, limit: int | None, as_json: bool, quiet: bool
) -> None:
    """One pass over the enabled types (or the named ones), in order; prints the summary."""
    settings = obj.settings()
    if payloads and not dry_run:
        raise click.UsageError("--payloads goes with --dry-run")
    sys.exit(
        sync(
            settings,
            _types(settings, types),
            dry_run=dry_run,
            payloads=payloads,
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
    payloads: bool = False,
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
            show(console, preview_table(previews, title="Dry run: nothing was written"))
            for text in payloads_text(previews) if payloads else ():
                show_text(console, text)
            if not payloads and any(p.payload is not None for p in previews):
                console.print("Payloads: run --dry-run --payloads (or --json).")
        show(
            console, summary_table(results, title=f"zns-sync {'dry run' if dry_run else 'run'} {engine.journal.run_id}")
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
        print_json({
            name: {"found": dict(r.recovered), "not_found": r.not_found, "numbers": r.numbers}
            for name, r in results.items()
        })  # fmt: skip
    elif any(r.recovered or r.not_found for r in results.values()):
        show(console, recover_table(results))
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
        print_json({
            name: {"statuses": dict(c), "oldest_in_flight": o.as_dict() if o else None}
            for name, (c, o) in report.items()
        })  # fmt: skip
    else:
        show(make_console(), status_table(report))


@cli.command(name="log")
@click.option("--run", "run_id", type=int, help="The attempts of this run.")
@click.option("--errors", is_flag=True, help="Only records that need attention.")
@click.option("--record", metavar="ID|NUMBER", help="One record's history: its id or its document number.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_obj
def log_command(obj: Ctx, run_id: int | None, errors: bool, record: str | None, as_json: bool) -> None:
    """The sync log: recent runs, or per-record attempts (of a run, of one record) with NetSuite's messages."""
    settings = obj.settings()
    with Journal(settings.state_dir) as journal:
        if run_id is None and not errors and record is None:
            runs = journal.runs()
            if as_json:
                print_json([dataclasses.asdict(r) for r in runs])
            else:
                show(make_console(), runs_table(runs))
            return
        rows = list(journal.attempts(run_id=run_id, errors_only=errors, record=record))
    if as_json:
        print_json([{"run": r, "at": at, **dataclasses.asdict(a)} for r, a, at in rows])
    else:
        title = f"Attempts{f' of run {run_id}' if run_id else ''}{f' of {record}' if record else ''}"
        show(make_console(), attempts_table(rows, title=title))


@cli.command(name="explain")
@click.argument("type_", metavar="TYPE", type=click.Choice(list(TYPES)))
@click.argument("key", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_obj
def explain_command(obj: Ctx, type_: str, key: str, as_json: bool) -> None:
    """Why one record (an id or a document number) is or is not selected, what the next run does, its history."""
    settings = obj.settings()
    with contextlib.ExitStack() as stack:
        engine = stack.enter_context(open_engine(settings, stack, None, None))
        explanation = explain(engine, type_, key)
    if as_json:
        print_json(explanation.as_dict())
    else:
        show_explanation(make_console(), explanation)


def _manual(obj: Ctx, procedure: Procedure, type_: str, keys: Sequence[str], dry_run: bool, as_json: bool) -> int:
    """Run a manual procedure under the lock, journal it, render it; returns the exit code."""
    settings = obj.settings()
    with contextlib.ExitStack() as stack:
        stack.enter_context(RunLock(settings.state_dir))
        engine = stack.enter_context(open_engine(settings, stack, None, obj.jsonl(stack)))
        attempts = apply(engine, procedure, type_, keys, dry_run=dry_run)
        if not dry_run:
            record(engine, procedure, type_, attempts)
    code = exit_code(attempts)
    if as_json:
        print_json({"dry_run": dry_run, "exit_code": code, "records": [dataclasses.asdict(a) for a in attempts]})
    else:
        title = f"{procedure.value}{' --dry-run: nothing was written' if dry_run else ''}"
        show(make_console(), outcomes_table(attempts, title=title))
    return code


manual_options = [
    click.argument("type_", metavar="TYPE", type=click.Choice(list(TYPES))),
    click.argument("keys", metavar="ID...", nargs=-1, required=True),
    click.option("--dry-run", is_flag=True, help="Look in both systems, say what would change, write nothing."),
    click.option("--json", "as_json", is_flag=True, help="JSON on stdout."),
]


def _with_manual_options(command: F) -> F:
    for option in reversed(manual_options):
        command = option(command)
    return command


@cli.command()
@_with_manual_options
@click.pass_obj
def ignore(obj: Ctx, type_: str, keys: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Mark records Ignore (TTA Ignore on transactions): no run selects them again. Refuses one in NetSuite."""
    sys.exit(_manual(obj, Procedure.IGNORE, type_, keys, dry_run, as_json))


@cli.command()
@_with_manual_options
@click.pass_obj
def resync(obj: Ctx, type_: str, keys: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Sync records again: link the NetSuite record that exists, else reset them for the next run to create."""
    sys.exit(_manual(obj, Procedure.RESYNC, type_, keys, dry_run, as_json))


@cli.command(name="reconcile")
@type_option
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only transactions dated on or after DATE.")
@click.option("--csv", "csv_path", metavar="FILE", help="Also write the totals and the findings to FILE as CSV.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_obj
def reconcile_command(
    obj: Ctx, types: tuple[str, ...], since: dt.datetime | None, csv_path: str | None, as_json: bool
) -> None:
    """Counts and amounts on both sides, orphans each way, amount and customer mismatches; exit 1 when off."""
    settings = obj.settings()
    with contextlib.ExitStack() as stack:
        engine = stack.enter_context(open_engine(settings, stack, None, None))
        result = reconcile(engine, _types(settings, types), since.date() if since else None)
    if csv_path:
        write_reconciliation_csv(Path(csv_path), result)
    if as_json:
        print_json(reconciliation_data(result))
    else:
        show_reconciliation(make_console(), result)
    sys.exit(1 if result.off else 0)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@click.pass_obj
def check(obj: Ctx, as_json: bool) -> None:
    """Validate the config, connect to both systems, report NetSuite's concurrency governance."""
    report = check_connections(obj.settings())
    if as_json:
        print_json({**dataclasses.asdict(report), "warnings": report.warnings})
        return
    console = make_console()
    show_text(console, f"config: {report.config} is valid")
    show_text(console, f"Zuora: {report.zuora_url}: authenticated, query works")
    show_text(
        console,
        f"NetSuite: {report.netsuite_url}: authenticated; concurrency limit {report.concurrency_limit} "
        f"({report.limit_type}); netsuite.concurrency is {report.concurrency}",
    )
    for warning in report.warnings:
        show_text(console, f"warning: {warning}")


@cli.group(name="config")
def config_group() -> None:
    """The configuration zns-sync reads."""


@config_group.command(name="show")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
@click.pass_obj
def config_show(obj: Ctx, as_json: bool) -> None:
    """The effective configuration: defaults filled in, secrets masked."""
    settings = obj.settings()
    if as_json:
        print_json(effective_config(settings))
    else:
        sys.stdout.write(f"# {settings.source}: the effective configuration, defaults filled in, secrets masked\n")
        sys.stdout.write(yaml.safe_dump(effective_config(settings), sort_keys=False, allow_unicode=True))


settlement_option = click.option(
    "--invoice-settlement/--no-invoice-settlement", default=True, show_default=True,
    help="A Zuora tenant with Invoice Settlement (credit and debit memos) or without (invoice item adjustments).",
)  # fmt: skip


master_option = click.option(
    "--customer-master", type=click.Choice(["zuora", "netsuite"]), default="zuora", show_default=True,
    help="netsuite: NetSuite-origin customers go to Zuora, and NetSuite payments after them (NetSuite -> Zuora).",
)  # fmt: skip


@cli.command()
@click.option("--write-config", "config_out", required=True, metavar="PATH", help="Where to write the config.")
@click.option("--records", type=click.IntRange(min=1), default=60, show_default=True, help="Invoices to generate.")
@click.option("--seed", type=int, default=7, show_default=True, help="Demo data seed.")
@click.option("--state-dir", metavar="DIR", help="state_dir for the written config (default: beside it).")
@settlement_option
@master_option
def sandbox(
    config_out: str, records: int, seed: int, state_dir: str | None, invoice_settlement: bool, customer_master: str
) -> None:
    """Start local Zuora and NetSuite emulators with demo data and write a config that points at them."""
    from zns_sync.sandbox import Sandbox

    path = Path(config_out)
    with Sandbox(
        invoices=records, seed=seed, invoice_settlement=invoice_settlement, customer_master=customer_master
    ) as box:
        box.write_config(path, Path(state_dir) if state_dir else path.parent / "zns-sync-state")
        console = make_console()
        console.print(f"Zuora emulator:    {box.zuora.url}")
        console.print(f"NetSuite emulator: {box.netsuite.endpoint_url}  (WSDL {box.netsuite.wsdl_url})")
        console.print(f"config written to {path}; try: zns-sync --config {path} run --dry-run")
        console.print("Ctrl-C (or SIGTERM) stops the emulators.")
        # A parent that ignores SIGINT (a test runner, nohup) hands that on: take both signals explicitly.
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, _interrupt)
        with contextlib.suppress(KeyboardInterrupt):
            box.wait()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@cli.command()
@click.option("--records", type=click.IntRange(min=1), default=60, show_default=True, help="Invoices to generate.")
@click.option("--seed", type=int, default=7, show_default=True, help="Demo data seed.")
@settlement_option
@master_option
def demo(records: int, seed: int, invoice_settlement: bool, customer_master: str) -> None:
    """Sandbox + a full sync + the summary: nothing to configure."""
    from zns_sync.sandbox import Sandbox

    console = make_console()
    with (
        Sandbox(
            invoices=records, seed=seed, invoice_settlement=invoice_settlement, customer_master=customer_master
        ) as box,
        tempfile.TemporaryDirectory(prefix="zns-sync-demo-") as tmp,
    ):
        settings = box.settings(Path(tmp))
        counts = box.summary.counts if box.summary else {}
        console.print(f"Sandbox up: Zuora emulator {box.zuora.url}, NetSuite emulator {box.netsuite.endpoint_url}")
        adjusted = (
            f"{counts.get('CreditMemo', 0)} credit memos, {counts.get('DebitMemo', 0)} debit memos (Invoice Settlement)"
            if invoice_settlement
            else f"{counts.get('InvoiceItemAdjustment', 0)} invoice item adjustments (no Invoice Settlement)"
        )
        console.print(
            f"Demo tenant: {counts.get('Account', 0)} accounts, {counts.get('ProductRatePlanCharge', 0)} charges, "
            f"{counts.get('Invoice', 0)} invoices ({counts.get('InvoiceItem', 0)} items, "
            f"{counts.get('TaxationItem', 0)} taxation items), {counts.get('Payment', 0)} payments, {adjusted}, "
            "with awkward cases on purpose: " + ", ".join(sorted(box.summary.awkward if box.summary else {}))
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
                f"A clerk records {len(made)} payments, credit memos, refunds and sales orders in NetSuite: "
                + ", ".join(sorted(made))
            )
            console.rule("Next run: the NetSuite payments, credit memos, refunds and sales orders go to Zuora")
            _demo_run(console, settings)
        console.rule("Next run: selects nothing new")
        sync(settings, settings.sync.types, dry_run=False, command="demo")
        with contextlib.ExitStack() as stack:
            engine = stack.enter_context(open_engine(settings, stack, None, None))
            show(console, status_table(engine.status(settings.sync.types)))
        held = ", ".join(f"{n} {t}" for t, n in box.netsuite_counts().items())
        console.print(f"The NetSuite emulator now holds: {held}.")
        console.print(
            "Demo done. Next: `zns-sync sandbox --write-config demo.yaml`, then try run --dry-run, status,"
            " log --errors, explain TYPE ID, reconcile."
        )


def _demo_run(console: Console, settings: Settings) -> None:
    """One demo run, then what it held back, one line per reason."""
    sync(settings, settings.sync.types, dry_run=False, command="demo")
    with Journal(settings.state_dir) as journal:
        held_back = list(journal.attempts(run_id=journal.runs(1)[0].id, errors_only=True))
    if held_back:
        show(console, held_back_table(held_back))


def main() -> None:
    """Entry point: user errors are one line on stderr and an exit code; tracebacks only with --debug."""
    debug = "--debug" in sys.argv[1:]
    tune_malloc()  # before any thread starts
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
