"""``hub ingest kela FILE``: a partner's file, streamed line by line into the canonical topic.

Two passes over the file, both streaming (memory does not grow with the file): the first
checks the file is usable at all (exists, UTF-8 throughout, the right header), so that a
wrongly encoded file is refused whole instead of flooding the dead-letter topic line by line;
the second takes every line through the connector's intake and publishes in batches. The
ledger is committed only after a batch is acknowledged by Kafka, so re-running a file after a
failure publishes exactly what is missing: the rest is recognised as duplicates.

Rejected lines are published to the dead-letter topic with the file name and line number.
With an audit recorder, every line is audited as consumed (chain ``file/kela``, the line number
as its offset) with what it became, before the batch's ledger entries are committed.
"""

from __future__ import annotations

import asyncio
import codecs
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from connectors.kela.inbound import check_header
from connectors.kela.intake import Duplicate, Intake
from connectors.kela.wiring import canonical_messages
from hub.audit.recorder import Consumed, Produced, drafts_for
from hub.audit.records import AuditDraft, EventFacts
from hub.broker.bootstrap import start_producer
from hub.broker.connection import KafkaConnection
from hub.contracts import ContractBook
from hub.deadletter import DeadLetter, FileSource
from hub.errors import BrokerUnavailableError, HubError
from hub.pipeline import Outgoing
from hub.topics import DEADLETTER_TOPIC
from schemas.rejection import Rejection

__all__ = [
    "FILE_CHAIN",
    "NOT_ROUTED",
    "FileUnusableError",
    "IngestSummary",
    "check_file",
    "ingest_kela_file",
]

NOT_ROUTED: Final = "not routed"
_BATCH: Final = 1000
_KEPT_REJECTIONS: Final = 100
_BOM: Final = b"\xef\xbb\xbf"


class FileUnusableError(HubError):
    """The file cannot be ingested at all (missing, not UTF-8, wrong header, empty)."""

    exit_code = 2


@dataclass
class IngestSummary:
    """What an ingest did, for the closing report."""

    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    corrections: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    recipients: Counter[str] = field(default_factory=Counter)

    def reject(self, rejection: Rejection) -> None:
        """Count a rejection; keep the first ones for the report (memory stays bounded)."""
        self.rejected += 1
        self.reasons[rejection.reason] += 1
        if len(self.rejections) < _KEPT_REJECTIONS:
            self.rejections.append(rejection)


def check_file(path: Path) -> None:
    """Refuse a file that cannot be ingested: missing, empty, not UTF-8, wrong header."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise FileUnusableError(f"{path}: cannot open: {exc.strerror}") from None
    decoder = codecs.getincrementaldecoder("utf-8")()
    with handle:
        first = handle.readline()
        if not first.strip():
            raise FileUnusableError(f"{path}: empty file (no header line)")
        rejection = check_header(_decode_or_refuse(path, decoder, first, 1))
        if rejection is not None:
            raise FileUnusableError(f"{path}: line 1: {rejection.detail}")
        for number, raw in enumerate(handle, start=2):
            _decode_or_refuse(path, decoder, raw, number)
        _decode_or_refuse(path, decoder, b"", 0, final=True)


def _decode_or_refuse(
    path: Path, decoder: codecs.IncrementalDecoder, raw: bytes, line: int, *, final: bool = False
) -> str:
    try:
        return str(decoder.decode(raw, final=final))
    except UnicodeDecodeError:
        where = f"line {line}" if line else "the end of the file"
        raise FileUnusableError(f"{path}: not UTF-8 at {where}") from None


def _data_lines(path: Path) -> Iterator[tuple[int, bytes, int]]:
    """(line number, raw line, bytes read so far) of every non-blank data line."""
    read = 0
    with path.open("rb") as handle:
        read += len(handle.readline())  # the header, checked by check_file
        for number, raw in enumerate(handle, start=2):
            read += len(raw)
            if raw.strip():
                yield number, raw, read


#: Publishes a batch and returns where each message landed (partition, offset), in order.
Publish = Callable[[list[Outgoing]], Awaitable[list[tuple[int, int]]]]
#: Records one batch of audit drafts durably (``AuditRecorder.record`` on the file's chain).
Audit = Callable[[list[AuditDraft]], object]
FILE_CHAIN: Final = "file/kela"


@dataclass
class _Batch:
    """Lines taken but not yet published: what each became, in order."""

    lines: list[tuple[int, bytes, int]] = field(default_factory=list)  # number, raw, outputs
    messages: list[Outgoing] = field(default_factory=list)

    def add(self, number: int, raw: bytes, outputs: list[Outgoing]) -> None:
        self.lines.append((number, raw, len(outputs)))
        self.messages.extend(outputs)

    def drafts(self, source: str, landed: list[tuple[int, int]] | None) -> list[AuditDraft]:
        """Audit drafts of every line and its outputs (where they landed, when published)."""
        drafts: list[AuditDraft] = []
        position = 0
        for number, raw, count in self.lines:
            produced = []
            for index in range(position, position + count):
                message = self.messages[index]
                partition, offset = landed[index] if landed else (None, None)
                produced.append(
                    Produced(message.topic, message.value, partition, offset, message.facts)
                )
            position += count
            drafts.extend(drafts_for(Consumed(source, None, number, raw), produced))
        return drafts


async def ingest_kela_file(
    path: Path,
    intake: Intake,
    book: ContractBook,
    publish: Publish | None,
    progress: Callable[[int], None] = lambda _read: None,
    audit: Audit | None = None,
) -> IngestSummary:
    """Take every data line of a checked file through ``intake``; publish unless dry run.

    ``publish=None`` is a dry run: lines are validated and the summary is computed, nothing is
    published, and ``intake``'s ledger must be a dry-run ledger.
    """
    summary = IngestSummary()
    batch = _Batch()
    source = f"file:{path.name}"

    async def flush() -> None:
        nonlocal batch
        if publish is not None and batch.lines:
            try:
                landed = await publish(batch.messages) if batch.messages else []
                if audit is not None:
                    await asyncio.to_thread(audit, batch.drafts(source, landed))
            except BaseException:
                intake.ledger.rollback()
                raise
        intake.ledger.commit()
        batch = _Batch()

    for number, raw, read in _data_lines(path):
        summary.lines += 1
        taken = intake.take(raw, number)
        if isinstance(taken, Rejection):
            summary.reject(taken)
            letter = DeadLetter(
                raw.rstrip(b"\r\n"),
                taken.reason,
                taken.detail,
                FileSource(path.name, number),
                "kela",
            )
            facts = EventFacts(detail=f"{taken.reason}: {letter.shown_detail}")
            dead = Outgoing(DEADLETTER_TOPIC, letter.value, None, letter.headers(), facts=facts)
            batch.add(number, raw, [dead])
        elif isinstance(taken, Duplicate):
            summary.duplicates += 1
            batch.add(number, raw, [])
        else:
            summary.accepted += 1
            summary.corrections += taken.is_correction
            messages = canonical_messages(taken.event)
            data = taken.event.data.model_dump(mode="json")
            # Each partner receives the record on the major version its contract names.
            partners = [
                disclosure
                for message in messages
                for disclosure in book.disclosures_for(
                    "benefit-day", data, version=_major(message.topic)
                )
            ]
            for disclosure in partners or ():
                summary.recipients[disclosure.partner.value] += 1
            if not partners:
                summary.recipients[NOT_ROUTED] += 1
            batch.add(number, raw, messages)
        if len(batch.lines) >= _BATCH:
            await flush()
            progress(read)
    await flush()
    return summary


def _major(topic: str) -> int:
    return int(topic.rpartition(".v")[2])


def _headers(message: Outgoing) -> list[tuple[str, bytes]]:
    # The same shape as messages published through FastStream (``hub.pipeline``).
    headers = [(name, value.encode()) for name, value in message.headers.items()]
    if message.event_id is not None:
        headers.append(("correlation_id", message.event_id.encode()))
    return headers


def producer_publisher(producer: AIOKafkaProducer, bootstrap: str) -> Publish:
    """Publish a batch with ``producer`` and wait until Kafka acknowledged all of it."""

    async def publish(batch: list[Outgoing]) -> list[tuple[int, int]]:
        try:
            futures = [
                await producer.send(
                    m.topic,
                    m.value,
                    key=m.key,
                    headers=_headers(m),
                )
                for m in batch
            ]
            landed = await asyncio.gather(*futures)
        except KafkaError as exc:
            raise BrokerUnavailableError(bootstrap, type(exc).__name__) from None
        return [(metadata.partition, metadata.offset) for metadata in landed]

    return publish


async def started_producer(connection: KafkaConnection) -> AIOKafkaProducer:
    """A started producer for ``connection`` (linger for batching, acks=all); retried while
    Kafka does not answer, a refusal at once (``hub.broker.bootstrap.start_producer``)."""
    return await start_producer(connection, linger_ms=5)
