"""``hub ingest kela FILE [--dry-run]``: a Kela payment-day file into the hub.

Exit codes: 0 every line accepted (duplicates included), 3 some lines rejected (the rest
published), 2 the file is unusable (missing, empty, not UTF-8, wrong header).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from connectors.kela.versions import BENEFIT_DAY_TOPIC, BENEFIT_DAY_V2_TOPIC
from hub.audit import open_recorder
from hub.audit.records import AuditDraft
from hub.broker.connection import connection_for
from hub.cli._common import out, run, start_command
from hub.ingest import (
    FILE_CHAIN,
    NOT_ROUTED,
    IngestSummary,
    check_file,
    ingest_kela_file,
    producer_publisher,
    started_producer,
)
from hub.provisioning import list_topics
from hub.runtime import contract_book_for
from hub.settings import pseudonym_secret
from hub.topic_io import UnknownTopicError
from hub.topics import DEADLETTER_TOPIC

__all__ = ["ingest_app"]

ingest_app = typer.Typer(help="Ingest a partner's file.", no_args_is_help=True)

EXIT_REJECTED = 3


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int], None]]:
    """A byte-based progress bar on a terminal; nothing when piped."""
    if not out.is_terminal:
        yield lambda _read: None
        return
    columns = ("{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=out, transient=True) as progress:
        task = progress.add_task(path.name, total=path.stat().st_size)
        yield lambda read: progress.update(task, completed=read)


def _report(path: Path, summary: IngestSummary, dry_run: bool) -> None:
    out.print(f"{path.name}: {summary.lines} data line(s)", markup=False)
    out.print(f"  accepted    {summary.accepted} (corrections {summary.corrections})")
    out.print(f"  duplicates  {summary.duplicates}")
    out.print(f"  rejected    {summary.rejected}")
    recipients = ", ".join(
        f"{name} {count}"
        for name, count in sorted(summary.recipients.items(), key=lambda i: i[0] == NOT_ROUTED)
    )
    out.print(f"  recipients  {recipients or '-'}", markup=False)
    if summary.rejected:
        out.print("rejected lines:")
        for rejection in summary.rejections:
            out.print(
                f"  line {rejection.line}: {rejection.reason}: {rejection.detail}", markup=False
            )
        hidden = summary.rejected - len(summary.rejections)
        if hidden:
            counts = ", ".join(f"{r} {n}" for r, n in summary.reasons.most_common())
            out.print(f"  … and {hidden} more ({counts})", markup=False)
    if dry_run:
        out.print("dry run: nothing was published")
    elif summary.rejected:
        out.print(f"every rejected line is in {DEADLETTER_TOPIC} with its line number")


@ingest_app.command("kela")
def kela(
    file: Annotated[Path, typer.Argument(help="Kela payment-day CSV file.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report; publish nothing.")
    ] = False,
) -> None:
    """Ingest a Kela payment-day file: every record exactly once, rejected lines dead-lettered."""
    from connectors import CONNECTORS  # noqa: PLC0415 - keeps `hub --help` fast.
    from connectors.kela.intake import Intake  # noqa: PLC0415
    from connectors.kela.ledger import BenefitLedger  # noqa: PLC0415

    settings = start_command()
    check_file(file)
    secret = pseudonym_secret(settings)
    book = contract_book_for(settings, CONNECTORS)
    if dry_run:
        ledger = BenefitLedger.dry_run(settings.data_dir, secret)
    else:
        ledger = BenefitLedger.open(settings.data_dir, secret)
    intake = Intake(ledger, secret, settings.kela_data_start)

    async def ingest(progress: Callable[[int], None]) -> IngestSummary:
        if dry_run:
            return await ingest_kela_file(file, intake, book, None, progress)
        connection = connection_for(settings)
        existing = await list_topics(connection)
        for topic in (BENEFIT_DAY_V2_TOPIC, BENEFIT_DAY_TOPIC, DEADLETTER_TOPIC):
            if topic not in existing:
                raise UnknownTopicError(topic)
        # The recorder first: a missing signing key then stops the command before any client
        # to Kafka exists (one opened first would be left unclosed).
        recorder = open_recorder(settings)
        try:
            producer = await started_producer(connection)
        except BaseException:
            recorder.store.close()
            raise
        try:
            publish = producer_publisher(producer, connection.bootstrap)

            def audit(drafts: list[AuditDraft]) -> object:
                return recorder.record(FILE_CHAIN, drafts)

            return await ingest_kela_file(file, intake, book, publish, progress, audit)
        finally:
            await producer.stop()
            recorder.checkpoint()
            recorder.store.close()

    try:
        with _progress(file) as progress:
            summary = run(ingest(progress))
    finally:
        ledger.close()
    _report(file, summary, dry_run)
    if summary.rejected:
        raise typer.Exit(EXIT_REJECTED)
