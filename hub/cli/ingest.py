"""``hub ingest kela FILE [--dry-run]``: a Kela payment-day file into the hub.

Exit codes: 0 every line accepted (duplicates included), 3 some lines rejected (the rest
published), 2 the file is unusable (missing, empty, not UTF-8, wrong header).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from hub.cli._common import out, run, start_command
from hub.topics import DEADLETTER_TOPIC

if TYPE_CHECKING:
    from hub.audit.records import AuditDraft
    from hub.ingest import IngestSummary

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
    from hub.ingest import NOT_ROUTED  # noqa: PLC0415 - heavy.

    out.print(f"{path.name}: {summary.lines} data line(s)", markup=False)
    out.print(f"  accepted    {summary.accepted} (corrections {summary.corrections})")
    out.print(f"  duplicates  {summary.duplicates}")
    already = summary.already_dead_lettered
    earlier = f" ({already} dead-lettered by an earlier run, not again)" if already else ""
    out.print(f"  rejected    {summary.rejected}{earlier}", markup=False)
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
        out.print(f"every rejected line is in {DEADLETTER_TOPIC} with its line number, once")


def _collect_for_streaming() -> None:
    """Tune the garbage collector for a file streamed batch by batch."""
    # What is imported and set up by now lives until the command ends: frozen, the garbage
    # collector stops walking it again in every full collection while the file's records come
    # and go (at a million lines that walking took more CPU than several of the checks).
    gc.freeze()
    # Each batch keeps a thousand lines' objects alive until it is flushed, so the default
    # threshold (700 allocations) ran a young collection every dozen lines over objects that
    # reference counting frees anyway; the collector still runs, memory stays bounded.
    gc.set_threshold(20_000, 10, 10)


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
    from connectors.kela.versions import (  # noqa: PLC0415
        BENEFIT_DAY_TOPIC,
        BENEFIT_DAY_V2_TOPIC,
    )
    from hub.audit import open_recorder  # noqa: PLC0415 - heavy.
    from hub.broker.connection import connection_for  # noqa: PLC0415 - heavy.
    from hub.ingest import (  # noqa: PLC0415 - heavy.
        FILE_CHAIN,
        check_file,
        ingest_kela_file,
        producer_publisher,
        started_producer,
    )
    from hub.provisioning import list_topics  # noqa: PLC0415 - heavy.
    from hub.quarantine import QuarantineStore  # noqa: PLC0415 - heavy.
    from hub.runtime import contract_book_for  # noqa: PLC0415 - heavy.
    from hub.settings import pseudonym_secret  # noqa: PLC0415 - heavy.
    from hub.topic_io import UnknownTopicError  # noqa: PLC0415 - heavy.

    settings = start_command()
    check_file(file)
    secret = pseudonym_secret(settings)
    book = contract_book_for(settings, CONNECTORS)
    ledger = (BenefitLedger.dry_run if dry_run else BenefitLedger.open)(settings.data_dir, secret)
    intake = Intake(ledger, secret, settings.kela_data_start)
    _collect_for_streaming()

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
            publish = producer_publisher(
                producer, connection.bootstrap, QuarantineStore.in_data_dir(settings.data_dir)
            )

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
