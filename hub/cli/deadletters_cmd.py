"""``hub deadletters list|show|resubmit|close``: the dead-letter quarantine from the terminal.

A dead letter is named ``PARTITION:OFFSET`` on ``hub.deadletter.v1`` (``list`` shows it). The
topic is never changed; resubmitting and closing are recorded in the audit log, and that is
where a dead letter's state (open, resubmitted, closed) comes from.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.table import Table

from hub.cli._common import err, out, run, start_command
from hub.console.letter_state import State
from hub.core.errors import ConfigurationError

if TYPE_CHECKING:
    from hub.console.deadletters import ListedLetter

__all__ = ["deadletters_app"]

deadletters_app = typer.Typer(
    help="Dead letters: list, show, resubmit (optionally edited) or close them.",
    no_args_is_help=True,
)

IdArgument = Annotated[
    str,
    typer.Argument(
        metavar="PARTITION:OFFSET", help="The dead letter, PARTITION:OFFSET (see list)."
    ),
]
# Optional to typer so that a missing reason is the hub's one line, not a usage box.
ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="Why (required; kept in the audit log for good).")
]
ByOption = Annotated[
    str | None, typer.Option("--by", help="Who does it (default: your login name).")
]


_COLUMNS: Final = ("id", "time", "reason", "source", "state", "detail")
#: The newest dead letters ``list`` prints unless told otherwise: after a bad file the topic
#: may hold a million, and the list keeps what it prints in memory.
LIST_LIMIT: Final = 1000


def _reason(letter_id: str, reason: str | None) -> str:
    """The checked reason; without one, a line naming the dead letter and the option."""
    if reason is None or not reason.strip():
        raise ConfigurationError(
            f"dead letter {letter_id.strip()}: a reason is required "
            "(--reason: why; kept in the audit log for good)"
        )
    from hub.console.deadletters import required_reason  # noqa: PLC0415 - heavy.

    return required_reason(reason)


def _moment(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"{option}: {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _who(by: str | None) -> str:
    name = (by or getpass.getuser()).strip()
    if not name:
        raise ConfigurationError("--by: a name is required")
    return name


def _summary(letter: ListedLetter, state: State) -> dict[str, str]:
    return {
        "id": str(letter.id),
        "time": letter.timestamp.isoformat(timespec="seconds"),
        "reason": letter.reason,
        "source": letter.source,
        "connector": letter.connector,
        "state": state.value,
        "detail": letter.detail,
    }


@deadletters_app.command("list")
def list_(
    reason: Annotated[str | None, typer.Option("--reason", help="Only this reason code.")] = None,
    source_topic: Annotated[
        str | None, typer.Option("--source-topic", help="Only those consumed from this topic.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="Dead-lettered at or after (ISO 8601).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Dead-lettered before (ISO 8601).")
    ] = None,
    state: Annotated[
        State | None, typer.Option("--state", help="Only open, resubmitted or closed ones.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    limit: Annotated[
        int,
        typer.Option("--limit", min=0, help="At most this many, the newest (0: all of them)."),
    ] = LIST_LIMIT,
) -> None:
    """The dead letters, newest first, with their reason, source and state."""
    from hub.audit import open_store  # noqa: PLC0415 - heavy.
    from hub.broker.connection import connection_for  # noqa: PLC0415 - heavy.
    from hub.console.deadletter_index import DeadLetterIndex  # noqa: PLC0415 - heavy.
    from hub.console.deadletters import DeadLetterFilter, dispositions, state_of  # noqa: PLC0415 - heavy.

    settings = start_command()
    wanted = DeadLetterFilter(
        reason, source_topic, _moment(since, "--from"), _moment(until, "--to"), state
    )
    store = open_store(settings)
    try:
        known = dispositions(store)
    finally:
        store.close()
    with contextlib.ExitStack() as stack:
        try:
            index = DeadLetterIndex.open(settings.data_dir)
        except ConfigurationError as refusal:
            # A user who may read the topic and the audit store but not write the data
            # directory still gets the list: from a throw-away index that reads the whole topic.
            err.print(f"note: {refusal}; reading the whole topic for this list", markup=False)
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="hub-deadletters-"))
            index = DeadLetterIndex.open(Path(folder))
        stack.callback(index.close)
        with err.status("indexing the dead letters new on the topic") as status:
            run(
                index.refresh(
                    connection_for(settings),
                    lambda read: status.update(
                        f"indexing the dead letters new on the topic: {read:,} read"
                    ),
                )
            )
        # Newest first, as the console lists them: the latest trouble is what an operator
        # looks for.
        listing = index.listing(known, wanted, limit)
    rows = [_summary(letter, state_of(letter.id, known)) for letter in listing.letters]
    if len(rows) < listing.matching:
        err.print(
            f"the newest {len(rows)} of {listing.matching} matching dead letters "
            "(--limit 0 for all, or narrow with the filters)",
            markup=False,
        )
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    if not sys.stdout.isatty():
        # A pipe gets whole values: a table would be cut to 80 columns.
        for row in [dict(zip(_COLUMNS, _COLUMNS, strict=True)), *rows]:
            typer.echo("\t".join(row[column].replace("\t", " ") for column in _COLUMNS))
        return
    table = Table(*_COLUMNS)
    for row in rows:
        table.add_row(*(row[column] for column in _COLUMNS))
    out.print(table)
    out.print(f"{len(rows)} dead letter(s)")


@deadletters_app.command("show")
def show(
    letter_id: IdArgument,
    original: Annotated[
        bool,
        typer.Option(
            "--original", help="Write the original bytes to stdout as they are (codes unmasked)."
        ),
    ] = False,
) -> None:
    """One dead letter: headers, its state, and its payload with identity codes masked."""
    from hub.audit import open_store  # noqa: PLC0415 - heavy.
    from hub.broker.connection import connection_for  # noqa: PLC0415 - heavy.
    from hub.console.deadletters import DeadLetterId, dispositions, read_dead_letter  # noqa: PLC0415 - heavy.

    settings = start_command()
    letter = run(read_dead_letter(connection_for(settings), DeadLetterId.parse(letter_id)))
    if original:
        sys.stdout.buffer.write(letter.value)
        sys.stdout.buffer.flush()
        return
    store = open_store(settings)
    try:
        decision = dispositions(store).get(letter.id)
    finally:
        store.close()
    out.print(f"dead letter {letter.id}", markup=False)
    out.print(f"  time       {letter.timestamp.isoformat()}", markup=False)
    out.print(f"  reason     {letter.reason}", markup=False)
    out.print(f"  detail     {letter.detail}", markup=False)
    out.print(f"  connector  {letter.connector}", markup=False)
    out.print(f"  source     {letter.source}", markup=False)
    if decision is None:
        out.print("  state      open", markup=False)
    else:
        out.print(
            f"  state      {decision.state} by {decision.by} at {decision.at}: {decision.reason}",
            markup=False,
        )
        if decision.resubmitted_to is not None:
            out.print(f"  sent to    {decision.resubmitted_to}", markup=False)
    out.print("  payload (identity codes masked; --original for the bytes)")
    out.print(letter.masked_value, markup=False)


def _payload(path: str | None) -> bytes | None:
    if path is None:
        return None
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"--payload: cannot read {path}: {exc.strerror}") from None


@deadletters_app.command("resubmit")
def resubmit_(
    letter_id: IdArgument,
    reason: ReasonOption = None,
    payload: Annotated[
        str | None,
        typer.Option(
            "--payload",
            help="The corrected payload (a file, or - for stdin); [hetu] placeholders are "
            "filled with the original's codes. Default: the original bytes.",
        ),
    ] = None,
    to_topic: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="A partner's input topic (in.*) instead of the source topic (a line of a file "
            "has none).",
        ),
    ] = None,
    by: ByOption = None,
) -> None:
    """Send a dead letter (or a corrected payload) again to its source topic.

    Recorded in the audit log; the dead letter itself stays.
    """
    from hub.audit import open_recorder  # noqa: PLC0415 - heavy.
    from hub.broker.connection import connection_for  # noqa: PLC0415 - heavy.
    from hub.console.deadletters import (  # noqa: PLC0415 - heavy.
        DeadLetterId,
        check_resubmit_target,
        read_dead_letter,
        resubmit,
    )

    settings = start_command()
    why = _reason(letter_id, reason)
    who = _who(by)
    if to_topic is not None:
        check_resubmit_target(to_topic)
    body = _payload(payload)
    connection = connection_for(settings)
    letter = run(read_dead_letter(connection, DeadLetterId.parse(letter_id)))
    recorder = open_recorder(settings)
    try:
        sent = run(
            resubmit(
                connection, recorder, letter, by=who, reason=why, payload=body, to_topic=to_topic
            )
        )
    finally:
        recorder.store.close()
    what = "edited payload" if sent.edited else "original payload"
    out.print(
        f"resubmitted {letter.id} ({what}) to {sent.topic}[{sent.partition}]@{sent.offset}",
        markup=False,
    )


@deadletters_app.command("close")
def close_(letter_id: IdArgument, reason: ReasonOption = None, by: ByOption = None) -> None:
    """Give up on a dead letter without sending it again, recorded in the audit log."""
    from hub.audit import open_recorder  # noqa: PLC0415 - heavy.
    from hub.broker.connection import connection_for  # noqa: PLC0415 - heavy.
    from hub.console.deadletters import (  # noqa: PLC0415 - heavy.
        DeadLetterId,
        close,
        read_dead_letter,
    )

    settings = start_command()
    why = _reason(letter_id, reason)
    who = _who(by)
    letter = run(read_dead_letter(connection_for(settings), DeadLetterId.parse(letter_id)))
    recorder = open_recorder(settings)
    try:
        close(recorder, letter, by=who, reason=why)
    finally:
        recorder.store.close()
    out.print(f"closed {letter.id}", markup=False)
