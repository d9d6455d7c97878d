"""``hub tail TOPIC`` and ``hub send TOPIC FILE|-``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.broker.connection import connection_for
from hub.cli._common import err, out, run, start_command
from hub.core.errors import ConfigurationError, HubError
from hub.core.redaction import mask_identity_codes

if TYPE_CHECKING:
    from hub.admin.topic_io import TailedMessage

__all__ = ["EmptyInputError", "document_messages", "render_message", "send", "tail"]


class UnreadableInputError(HubError):
    """The file given to ``hub send`` cannot be read."""


class EmptyInputError(ConfigurationError):
    """The file given to ``hub send`` holds nothing to send (a usage error, exit 2)."""


def _text(raw: bytes | None, reveal: bool) -> str | None:
    if raw is None:
        return None
    text = raw.decode("utf-8", errors="backslashreplace")
    return text if reveal else mask_identity_codes(text)


def render_message(message: TailedMessage, *, reveal: bool, as_json: bool) -> str:
    """A message for the terminal: headers and a pretty-printed value, codes masked."""
    value = _text(message.value, reveal)
    headers = {name: _text(raw, reveal) for name, raw in message.headers}
    when = dt.datetime.fromtimestamp(message.timestamp_ms / 1000, dt.UTC).isoformat()
    if as_json:
        return json.dumps(
            {
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
                "timestamp": when,
                "key": _text(message.key, reveal),
                "headers": headers,
                "value": value,
            },
            ensure_ascii=False,
        )
    try:
        pretty = json.dumps(json.loads(value or ""), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = value if value is not None else "(null)"
    lines = [
        f"── {message.topic}[{message.partition}]@{message.offset}  {when}  "
        f"key={_text(message.key, reveal)}",
        *(f"   {name}: {text}" for name, text in headers.items()),
        pretty,
    ]
    return "\n".join(lines)


def tail(
    topic: Annotated[str, typer.Argument(help="Topic to read.")],
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="Start at the oldest message.")
    ] = False,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", "-f", help="At the end of the topic, wait for new messages (Ctrl-C stops)."
        ),
    ] = False,
    count: Annotated[
        int | None, typer.Option("--count", "-n", min=1, help="Stop after N messages.")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0.1,
            help="Wait for new messages, stopping after this many idle seconds.",
        ),
    ] = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show identity codes instead of masking them.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per message (for scripts).")
    ] = False,
) -> None:
    """Print a topic's messages up to its end (--follow: and wait for more), codes masked."""
    from hub.admin.topic_io import tail_topic  # noqa: PLC0415 - heavy.

    settings = start_command()
    connection = connection_for(settings)

    async def _tail() -> int:
        shown = 0
        async for message in tail_topic(
            connection,
            topic,
            from_beginning=from_beginning,
            count=count,
            idle_timeout_s=timeout,
            follow=follow,
        ):
            typer.echo(render_message(message, reveal=reveal, as_json=as_json))
            shown += 1
        return shown

    shown = run(_tail())
    if count is not None and shown < count and timeout is not None:
        raise HubError(f"only {shown} of {count} messages arrived within {timeout:g} s")
    if shown == 0 and not follow and timeout is None:
        # Said on stderr, so a script reading stdout sees an empty topic as nothing.
        where = "" if from_beginning else " after its end (--from-beginning shows earlier ones)"
        err.print(f"no messages on {topic}{where}; --follow waits for new ones", markup=False)


def _read(file: str) -> bytes:
    # Read before connecting: an OSError of the connection is no unreadable file.
    if file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(file).read_bytes()
    except OSError as exc:
        raise UnreadableInputError(f"cannot read {file}: {exc.strerror}") from None


def document_messages(data: bytes) -> list[bytes]:
    """The one message a whole file is (surrounding whitespace dropped), or none if blank.

    A JSON or XML document is one message however it is laid out; ``--lines`` is for files
    of one message per line.
    """
    document = data.strip()
    return [document] if document else []


def send(
    topic: Annotated[str, typer.Argument(help="Topic to publish to.")],
    file: Annotated[str, typer.Argument(help="File to send, or - for stdin.")],
    lines: Annotated[
        bool,
        typer.Option("--lines", help="One message per line (blank lines skipped)."),
    ] = False,
    key: Annotated[
        str | None, typer.Option("--key", help="Kafka key for every message (never a hetu).")
    ] = None,
) -> None:
    """Publish FILE (or stdin) as one message; with --lines, each line as one message."""
    from hub.admin.topic_io import send_lines  # noqa: PLC0415 - heavy.

    settings = start_command()
    connection = connection_for(settings)
    encoded_key = key.encode("utf-8") if key is not None else None
    data = _read(file)
    messages = data.split(b"\n") if lines else document_messages(data)
    if not any(message.strip() for message in messages):
        # A file of blank lines is not empty: saying so would send the user looking wrongly.
        what = "holds only blank lines" if data else "is empty"
        raise EmptyInputError(f"nothing to send: {file} {what}")
    sent = run(send_lines(connection, topic, messages, encoded_key))
    out.print(f"sent {sent} message(s) to {topic}", markup=False)
