"""``hub stats month|send|rebuild``: the state's monthly statistics (docs/partners/keha.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from hub.cli._common import err, out, run, start_command
from hub.core.errors import ConfigurationError, HubError
from hub.core.settings import HubSettings
from hub.statistics.document import HIDDEN_COUNT, HIDDEN_SUM, csv_rows, render_csv
from hub.statistics.figures import HELSINKI, Month
from hub.statistics.store import StatisticsStore, open_store
from schemas.codes import Authority
from schemas.monthly_statistics import MonthlyStatistics

__all__ = ["stats_app"]

stats_app = typer.Typer(
    help="Monthly statistics for the state (KEHA-keskus): aggregated figures only.",
    no_args_is_help=True,
)


class StatsFormat(StrEnum):
    """How ``hub stats month`` prints."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


MonthArgument = Annotated[str, typer.Argument(help="The month, YYYY-MM (e.g. 2025-03).")]
AreaOption = Annotated[
    Authority | None, typer.Option("--area", help="lahti or ph (default: both).")
]


class NeverSentError(HubError):
    """A resend of a month that was never sent."""

    exit_code = 2


class MonthNotStartedError(HubError):
    """``hub stats month`` of a month that has not begun: it has no figures to show."""

    exit_code = 2


def _started(month: Month) -> Month:
    today = _now().astimezone(HELSINKI).date()
    if today < month.first_day:
        raise MonthNotStartedError(
            f"{month} has not started yet (today is {today.isoformat()} in Helsinki)"
        )
    return month


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def _areas(area: Authority | None) -> list[Authority]:
    return [area] if area is not None else list(Authority)


def _municipalities(settings: HubSettings) -> dict[str, str]:
    from connectors import CONNECTORS  # noqa: PLC0415 - keeps `hub --help` fast.
    from hub.app.runtime import contract_book_for  # noqa: PLC0415 - the same.

    table = contract_book_for(settings, CONNECTORS).municipalities
    return {code: authority.value for code, authority in table.items()}


@contextmanager
def _store(settings: HubSettings) -> Iterator[StatisticsStore]:
    dsn = settings.statistics_dsn
    store = open_store(settings.data_dir, None if dsn is None else dsn.get_secret_value())
    try:
        yield store
    finally:
        store.close()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _document_now(
    store: StatisticsStore,
    municipalities: Mapping[str, str],
    area: Authority,
    month: Month,
) -> tuple[MonthlyStatistics, str]:
    """What ``hub stats send`` would publish (or did), and a line saying which it is."""
    from hub.statistics.sending import month_state  # noqa: PLC0415

    state = month_state(store, municipalities, area, month, _now())
    name = f"{area.value} {month}"
    last = state.last_sent
    if last is None:
        said = (
            "not sent yet (`hub stats send` sends it as version 1)"
            if state.ended
            else "preliminary: the month has not ended, nothing sent"
        )
    elif not state.changed:
        said = f"version {last.version} sent {last.sent_at[:10]}"
    else:
        said = (
            f"the figures changed since version {last.version} was sent; `hub stats send "
            f"{month} --area {area.value} --reason TEXT` sends version {last.version + 1}"
        )
    return state.event.data, f"{name}: {said}"


def _table(document: MonthlyStatistics, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("figure", "category", "subcategory"):
        table.add_column(column, overflow="fold")
    table.add_column("value", justify="right", no_wrap=True)
    for _area, _month, _version, figure, category, subcategory, value in csv_rows(document):
        table.add_row(figure, category, subcategory, value)
    return table


@stats_app.command("month")
def month_command(
    month: MonthArgument,
    area: AreaOption = None,
    output: Annotated[
        StatsFormat, typer.Option("--format", help="table (terminal), csv or json.")
    ] = StatsFormat.TABLE,
) -> None:
    """The figures of MONTH per area, as the state receives them (suppressed cells hidden).

    A month that has not ended is preliminary; one that has not started is refused.
    """
    chosen = _started(_month(month))
    settings = start_command()
    municipalities = _municipalities(settings)
    with _store(settings) as store:
        documents = [_document_now(store, municipalities, a, chosen) for a in _areas(area)]
    for _document, state in documents:
        err.print(state, markup=False)
    if output is StatsFormat.JSON:
        typer.echo("[" + ",".join(d.model_dump_json() for d, _ in documents) + "]")
    elif output is StatsFormat.CSV:
        typer.echo(render_csv([d for d, _ in documents]), nl=False)
    else:
        for document, state in documents:
            # The state line, not the document's version: a month not sent has none yet.
            out.print(_table(document, state))
        out.print(
            f"{HIDDEN_COUNT}: a suppressed count; {HIDDEN_SUM}: a sum hidden because fewer "
            "than 5 persons stand behind it (docs/partners/keha.md)",
            markup=False,
        )


@stats_app.command("send")
def send_command(
    month: MonthArgument,
    area: AreaOption = None,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why a sent month is corrected (needed for version 2+)."),
    ] = None,
) -> None:
    """Send MONTH's document of each area to out.keha.statistics (once the month has ended).

    A month already sent is sent again only if its figures changed, as the next version with
    REASON.
    """
    from hub.app.statistics_publish import publish_documents  # noqa: PLC0415 - Kafka is heavy.
    from hub.statistics.sending import prepare_send  # noqa: PLC0415

    chosen = _month(month)
    settings = start_command()
    municipalities = _municipalities(settings)
    with _store(settings) as store:
        now = _now()
        prepared = [
            (a, prepare_send(store, municipalities, a, chosen, now, reason)) for a in _areas(area)
        ]
        events = [p.event for _, p in prepared if p.event is not None]
        for chosen_area, p in prepared:
            if p.event is None:
                out.print(
                    f"{chosen_area.value} {chosen}: figures unchanged since version "
                    f"{p.unchanged_since}, nothing sent",
                    markup=False,
                )
        if events:
            sent = run(publish_documents(settings, store, events))
            for event in sent:
                out.print(
                    f"{event.data.area.value} {event.data.month}: version {event.data.version} "
                    "sent to out.keha.statistics",
                    markup=False,
                )


@stats_app.command("resend")
def resend_command(month: MonthArgument, area: AreaOption = None) -> None:
    """Publish the last version sent of MONTH again, byte for byte (same event id).

    For a consumer that missed it; a month never sent is refused.
    """
    from hub.app.statistics_publish import publish_documents  # noqa: PLC0415 - Kafka is heavy.
    from schemas.monthly_statistics import MonthlyStatisticsEvent  # noqa: PLC0415

    chosen = _month(month)
    settings = start_command()
    with _store(settings) as store:
        last = []
        for chosen_area in _areas(area):
            versions = store.sent(chosen_area.value, str(chosen))
            if not versions:
                raise NeverSentError(f"{chosen_area.value} {chosen} was never sent")
            last.append(versions[-1])
        events = [MonthlyStatisticsEvent.model_validate_json(v.document) for v in last]
        payloads = [v.document.encode("utf-8") for v in last]
        for event in run(publish_documents(settings, store, events, payloads=payloads)):
            out.print(
                f"{event.data.area.value} {event.data.month}: version {event.data.version} "
                "sent again to out.keha.statistics",
                markup=False,
            )


@stats_app.command("rebuild")
def rebuild_command() -> None:
    """Refill the statistics store from the audit log (sent documents are kept)."""
    from hub.audit import open_store as open_audit_store  # noqa: PLC0415
    from hub.statistics.rebuild import rebuild  # noqa: PLC0415

    settings = start_command()
    audit = open_audit_store(settings)
    try:
        with _store(settings) as store:
            summary = rebuild(store, audit)
    finally:
        audit.close()
    out.print(
        f"rebuilt the statistics from {summary.taken} recorded event(s)"
        + (f"; {summary.refused} invalid" if summary.refused else "")
        + (f"; {summary.pruned} pruned by retention" if summary.pruned else ""),
        markup=False,
    )
