"""``hub ingest kela FILE [--dry-run]``: a Kela payment-day file into the hub.

The ingest itself is the Kela connector's (``connectors.kela.file_ingest``); this command
refuses an unusable file, draws the progress bar and prints the report.

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
from hub.core.topics import DEADLETTER_TOPIC

if TYPE_CHECKING:
    from connectors.kela.file_ingest import IngestSummary

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
    from connectors.kela.file_ingest import NOT_ROUTED  # noqa: PLC0415 - heavy.

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
    from connectors.kela.file_ingest import check_file  # noqa: PLC0415
    from hub.app.kela_ingest import ingest_kela  # noqa: PLC0415
    from hub.app.runtime import contract_book_for  # noqa: PLC0415 - heavy.

    settings = start_command()
    check_file(file)
    book = contract_book_for(settings, CONNECTORS)
    _collect_for_streaming()
    with _progress(file) as progress:
        summary = run(ingest_kela(settings, file, book, dry_run=dry_run, progress=progress))
    _report(file, summary, dry_run)
    if summary.rejected:
        raise typer.Exit(EXIT_REJECTED)
