"""``hub share rules|statement|reconcile|rebuild``: the municipal share for the finance unit.

Every report prints the rules (step table and basic daily amount versions) it used. Identity
codes are shown only by ``statement --reveal``, which records a disclosure per person in the
audit log before printing anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.table import Table

from contracts import MUNICIPALITIES_FILE
from hub.cli._common import out, start_command
from hub.core.errors import ConfigurationError, HubError
from hub.core.private_files import private_file
from hub.core.settings import HubSettings
from hub.distribution.contracts import load_municipalities
from hub.share.ledger import ShareLedger, open_share_ledger
from hub.share.rules import BASIC_AMOUNT_FILE, STEP_TABLE_FILE, ShareRules, Step, load_rules
from hub.share.split import ShareLine, split
from hub.share.statement import (
    DETAIL_COLUMNS,
    STATEMENT_COLUMNS,
    render_csv,
    render_json,
    rules_header,
    statement_rows,
)

__all__ = ["share_app"]

share_app = typer.Typer(
    help="The municipal share of unemployment benefits: rules, statements, Kela's invoice.",
    no_args_is_help=True,
)

_MONTH: Final = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_MUNICIPALITY: Final = re.compile(r"^\d{3}$")


class Format(StrEnum):
    """Output formats of a statement."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


class ShareDiffersError(HubError):
    """The rebuilt ledger differs from the live one (printed before)."""

    exit_code = 3


def _rules(settings: HubSettings) -> ShareRules:
    return load_rules(
        settings.share_step_table_file or STEP_TABLE_FILE,
        settings.share_basic_amount_file or BASIC_AMOUNT_FILE,
    )


def _dsn(settings: HubSettings) -> str | None:
    return None if settings.share_dsn is None else settings.share_dsn.get_secret_value()


@contextmanager
def _ledger(settings: HubSettings) -> Iterator[ShareLedger]:
    ledger = open_share_ledger(settings.data_dir, _dsn(settings))
    try:
        yield ledger
    finally:
        ledger.close()


def _steps(steps: tuple[Step, ...]) -> str:
    bounds = [step.from_day for step in steps[1:]]
    parts = []
    for index, step in enumerate(steps):
        until = f"-{bounds[index] - 1}" if index < len(bounds) else "-"
        parts.append(f"days {step.from_day}{until}: {step.percent} %")
    return "; ".join(parts)


@share_app.command("rules")
def rules_command() -> None:
    """The step tables and the basic daily amounts in use, with their versions and sources."""
    settings = start_command()
    rules = _rules(settings)
    new, old = rules.model_2025, rules.earlier
    out.print(rules_header(rules), markup=False)
    out.print(f"source: {rules.source}", markup=False)
    out.print(
        f"2025 model (days from {new.valid_from:%d.%m.%Y}), shared benefits "
        f"{', '.join(sorted(new.shared_benefits))}: {_steps(new.steps)}",
        markup=False,
    )
    out.print(
        f"earlier model (days before), shared benefits {', '.join(sorted(old.shared_benefits))}: "
        f"the state pays through the record reaching day {old.state_pays_through}; "
        f"{_steps(old.steps)}",
        markup=False,
    )
    amounts = ", ".join(
        f"{year}: {amount} €" for year, amount in sorted(rules.basic_amounts.amounts.items())
    )
    out.print(f"basic daily amount (APR cap) by year: {amounts}", markup=False)
    out.print(f"source: {rules.basic_amounts.source}", markup=False)


def _municipalities(
    settings: HubSettings, municipality: str | None, authority: str | None
) -> set[str] | None:
    if municipality is not None and authority is not None:
        raise ConfigurationError("--municipality and --authority: give one of them, not both")
    if municipality is not None:
        if not _MUNICIPALITY.match(municipality):
            raise ConfigurationError(f"--municipality: {municipality!r} is not a 3-digit code")
        return {municipality}
    if authority is not None:
        table = load_municipalities(settings.municipalities_file or MUNICIPALITIES_FILE)
        if authority not in set(table.values()):
            raise ConfigurationError(f"--authority: {authority!r} is not lahti or ph")
        return {code for code, area in table.items() if area == authority}
    return None


def _month(month: str) -> str:
    if not _MONTH.match(month):
        raise ConfigurationError(f"--month: {month!r} is not YYYY-MM")
    return month


def _detail_cells(line: ShareLine, person: str) -> tuple[str, ...]:
    return (
        line.municipality,
        line.month,
        line.invoice.value,
        line.model.value,
        str(line.percent),
        line.record_id,
        person,
        line.benefit,
        str(line.days),
        str(line.shared_euros),
        str(line.share),
    )


def _print(
    rules: ShareRules, fmt: Format, header: tuple[str, ...], rows: list[tuple[str, ...]]
) -> None:
    if fmt is Format.CSV:
        typer.echo(render_csv(header, rows), nl=False)
        return
    if fmt is Format.JSON:
        typer.echo(render_json(rules, header, rows))
        return
    out.print(rules_header(rules), markup=False)
    table = Table(*header)
    for row in rows:
        table.add_row(*row)
    out.print(table)


@share_app.command("statement")
def statement_command(
    month: Annotated[str, typer.Option("--month", help="The month of payment dates, YYYY-MM.")],
    municipality: Annotated[
        str | None, typer.Option("--municipality", help="Only this municipality (3 digits).")
    ] = None,
    authority: Annotated[
        str | None, typer.Option("--authority", help="Only the area of lahti or ph.")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.TABLE,
    detail: Annotated[
        bool, typer.Option("--detail", help="One line per record and step (person reference).")
    ] = False,
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal",
            help="Show identity codes in the detail (recorded in the audit log as a disclosure).",
        ),
    ] = False,
) -> None:
    """Per municipality, invoice and step: persons, days, euros paid and the municipal share."""
    settings = start_command()
    month = _month(month)
    codes = _municipalities(settings, municipality, authority)
    rules = _rules(settings)
    with _ledger(settings) as ledger:
        if not (detail or reveal):
            lines = (
                line
                for stored in ledger.records(month, codes)
                for line in split(stored.share, rules)
            )
            summary = [row.cells() for row in statement_rows(lines)]
            _print(rules, fmt, STATEMENT_COLUMNS, summary)
            return
        shown = [
            (line, stored.person_id if reveal else line.person_ref)
            for stored in ledger.records(month, codes)
            for line in split(stored.share, rules)
        ]
    rows = [_detail_cells(line, person) for line, person in shown]
    if reveal:
        _record_reveal(settings, shown, rows)
    _print(rules, fmt, DETAIL_COLUMNS, rows)


def _record_reveal(
    settings: HubSettings, shown: list[tuple[ShareLine, str]], rows: list[tuple[str, ...]]
) -> None:
    from hub.audit import open_recorder  # noqa: PLC0415 - only a reveal opens the audit log.
    from hub.share.disclosure import record_reveal  # noqa: PLC0415

    table = load_municipalities(settings.municipalities_file or MUNICIPALITIES_FILE)
    recorder = open_recorder(settings)
    try:
        record_reveal(
            recorder,
            (
                (
                    line.person_ref,
                    str(table.get(line.municipality, "unknown")),
                    dict(zip(DETAIL_COLUMNS, row, strict=True)),
                )
                for (line, _), row in zip(shown, rows, strict=True)
            ),
            DETAIL_COLUMNS,
        )
        recorder.checkpoint()
    finally:
        recorder.store.close()


@share_app.command("rebuild")
def rebuild_command(
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Only compare a rebuild with the live ledger (exit 3 if not equal)."
        ),
    ] = False,
) -> None:
    """Rebuild the share ledger from the audit log's recorded inputs."""
    import tempfile  # noqa: PLC0415

    from hub.audit import open_store  # noqa: PLC0415 - the audit log, only here.
    from hub.share.rebuild import rebuild  # noqa: PLC0415

    settings = start_command()
    store = open_store(settings)
    try:
        if not check:
            with _ledger(settings) as ledger:
                report = rebuild(store, ledger)
            out.print(f"rebuilt the share ledger from {report.fed} recorded input(s)", markup=False)
        else:
            with tempfile.TemporaryDirectory(prefix="hub-share-rebuild-") as scratch:
                fresh = open_share_ledger(Path(scratch), None)
                try:
                    report = rebuild(store, fresh)
                    with _ledger(settings) as ledger:
                        same = fresh.digest() == ledger.digest()
                finally:
                    fresh.close()
            verdict = "equals" if same else "DIFFERS from"
            out.print(
                f"a rebuild from {report.fed} recorded input(s) {verdict} the live share ledger",
                markup=False,
            )
            if not same:
                raise ShareDiffersError("the share ledger differs from its rebuild")
    finally:
        store.close()
    if report.pruned:
        out.print(
            f"{report.pruned} input(s) could not be fed: their payloads were pruned by retention",
            markup=False,
        )


class InvoiceDiffersError(HubError):
    """Kela's invoice and the hub's computation differ (the summary is printed before)."""

    exit_code = 3


@share_app.command("reconcile")
def reconcile_command(
    invoice: Annotated[Path, typer.Argument(help="Kela's invoice specification file (CSV).")],
    csv_out: Annotated[
        Path | None,
        typer.Option("--out", help="CSV of the differences. Default: FILE.differences.csv."),
    ] = None,
) -> None:
    """Kela's invoice specification against the hub's computation: exit 0 agree, 3 differ."""
    import csv  # noqa: PLC0415

    from hub.core.settings import pseudonym_secret  # noqa: PLC0415
    from hub.share.reconcile import DIFFERENCE_COLUMNS, reconcile  # noqa: PLC0415

    settings = start_command()
    rules = _rules(settings)
    secret = pseudonym_secret(settings)
    target = csv_out or invoice.with_name(f"{invoice.stem}.differences.csv")
    # Person references and payments: personal data, the owner's alone like the ledger.
    with (
        _ledger(settings) as ledger,
        private_file(target, "w", encoding="utf-8", newline="") as handle,
    ):
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(DIFFERENCE_COLUMNS)
        report = reconcile(invoice, ledger, rules, secret, lambda d: writer.writerow(d.cells()))
    out.print(rules_header(rules), markup=False)
    out.print(
        f"{report.lines} line(s) read: billed {report.billed} €, the hub computes "
        f"{report.computed} € for the invoiced municipalities and months",
        markup=False,
    )
    for kind, count in sorted(report.kinds.items()):
        out.print(f"  {kind.value}: {count}", markup=False)
    for bad in report.bad_lines:
        out.print(f"  line {bad.line}: {bad.reason}: {bad.detail}", markup=False)
    if report.agree:
        out.print("the invoice agrees with the hub's computation", markup=False)
        return
    out.print(f"differences written to {target}", markup=False)
    raise InvoiceDiffersError(f"the invoice differs from the hub's computation (see {target})")


@share_app.command("forecast")
def forecast_command(
    months: Annotated[int, typer.Option("--months", help="How many months ahead (1-60).")],
    budget: Annotated[
        str | None, typer.Option("--budget", help="The yearly budget of the share, euros.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--after",
            help="Forecast the months after this one (YYYY-MM). Default: "
            "the month of the latest payment in the ledger.",
        ),
    ] = None,
    municipality: Annotated[
        str | None, typer.Option("--municipality", help="Only this municipality (3 digits).")
    ] = None,
    authority: Annotated[
        str | None, typer.Option("--authority", help="Only the area of lahti or ph.")
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Where share-forecast.png and the CSVs go.")
    ] = Path(),
) -> None:
    """Who reaches the next step in the coming months, and the share if they stay unemployed."""
    from decimal import Decimal, InvalidOperation  # noqa: PLC0415

    from hub.share.forecast import (  # noqa: PLC0415 - matplotlib only here.
        forecast,
        months_after,
        render_chart,
        render_months_csv,
        render_steps_csv,
    )

    settings = start_command()
    if not 1 <= months <= 60:
        raise ConfigurationError(f"--months: {months} is not 1-60")
    yearly = None
    if budget is not None:
        try:
            yearly = Decimal(budget.replace(",", "."))
        except InvalidOperation:
            yearly = None
        if yearly is None or not yearly.is_finite() or yearly < 0:
            raise ConfigurationError(f"--budget: {budget!r} is not euros")
    monthly = None if yearly is None else (yearly / 12).quantize(Decimal("0.01"))
    codes = _municipalities(settings, municipality, authority)
    rules = _rules(settings)
    with _ledger(settings) as ledger:
        counters = [c for c in ledger.counters() if codes is None or c.municipality in codes]
    after = _month(start) if start is not None else None
    if after is None:
        latest = max((c.payment_date for c in counters), default=None)
        if latest is None:
            raise ConfigurationError("the share ledger holds no payments to forecast from")
        after = f"{latest:%Y-%m}"
    result = forecast(counters, rules, months_after(after, months))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "share-forecast.csv").write_text(render_months_csv(result, monthly), "utf-8")
    (out_dir / "share-forecast-steps.csv").write_text(render_steps_csv(result), "utf-8")
    title = f"Municipal share forecast after {after} (step table {rules.version})"
    render_chart(result, monthly, title, out_dir / "share-forecast.png")
    out.print(rules_header(rules), markup=False)
    for month in result.months:
        out.print(
            f"{month.month}: {month.persons} person(s), {month.days} shared day(s), share "
            f"{month.share} €, {month.reaching} reach a step"
            + ("" if monthly is None else f" (budget {monthly} €)"),
            markup=False,
        )
    out.print(
        f"wrote share-forecast.png, share-forecast.csv, share-forecast-steps.csv to {out_dir}"
    )


@share_app.command("publish")
def publish_command(
    month: Annotated[str, typer.Option("--month", help="A finished month, YYYY-MM.")],
) -> None:
    """Publish the month's statements to out.lahti.municipal-share and out.ph.municipal-share."""
    import datetime as dt  # noqa: PLC0415

    from aiokafka.errors import UnknownTopicOrPartitionError  # noqa: PLC0415

    from hub.admin.topic_io import UnknownTopicError  # noqa: PLC0415
    from hub.audit import open_recorder  # noqa: PLC0415 - Kafka and the audit log, only here.
    from hub.audit.recorder import chain_of  # noqa: PLC0415
    from hub.audit.records import AuditDraft, Direction, EventFacts  # noqa: PLC0415
    from hub.broker.connection import connection_for  # noqa: PLC0415
    from hub.cli._common import run  # noqa: PLC0415
    from hub.routing.lines import started_producer  # noqa: PLC0415
    from hub.share.publication import (  # noqa: PLC0415
        month_finished,
        statement_key,
        statement_topic,
        statement_value,
    )

    settings = start_command()
    month = _month(month)
    if not month_finished(month, dt.datetime.now(dt.UTC)):
        raise ConfigurationError(f"--month: {month} has not ended yet: publish finished months")
    rules = _rules(settings)
    table = load_municipalities(settings.municipalities_file or MUNICIPALITIES_FILE)
    messages = []
    with _ledger(settings) as ledger:
        for authority in sorted({str(area) for area in table.values()}):
            codes = {code for code, area in table.items() if str(area) == authority}
            lines = (
                line
                for stored in ledger.records(month, codes)
                for line in split(stored.share, rules)
            )
            rows = statement_rows(lines)
            messages.append(
                (
                    statement_topic(authority),
                    authority,
                    statement_value(authority, month, rules, rows),
                )
            )
    connection = connection_for(settings)
    recorder = open_recorder(settings)

    async def send() -> None:
        producer = await started_producer(connection)
        try:
            for topic, authority, value in messages:
                try:
                    sent = await producer.send_and_wait(
                        topic, value, key=statement_key(authority, month)
                    )
                except UnknownTopicOrPartitionError:
                    raise UnknownTopicError(topic) from None
                recorder.record(
                    chain_of("hub.share-statement", topic, sent.partition),
                    [
                        AuditDraft(
                            Direction.PRODUCED,
                            value,
                            topic=topic,
                            partition=sent.partition,
                            offset=sent.offset,
                            facts=EventFacts(
                                event_type="municipal-share-statement", partner=authority
                            ),
                        )
                    ],
                )
        finally:
            await producer.stop()

    try:
        run(send())
        recorder.checkpoint()
    finally:
        recorder.store.close()
    for topic, _, _ in messages:
        out.print(f"published the {month} statement to {topic}", markup=False)
