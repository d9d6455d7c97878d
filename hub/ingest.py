"""``hub ingest kela FILE``: a partner's file, streamed line by line into the canonical topic.

Two passes over the file, both streaming (memory does not grow with the file): the first
checks the file is usable at all (exists, UTF-8 throughout, the right header), so that a
wrongly encoded file is refused whole instead of flooding the dead-letter topic line by line;
the second takes every line through the connector's intake and publishes in batches. The
ledger is committed only after a batch is acknowledged by Kafka, so re-running a file after a
failure publishes exactly what is missing: the rest is recognised as duplicates.

Rejected lines are published to the dead-letter topic with the file name and line number,
once: the ledger remembers each dead-lettered line (a keyed digest of file name, line number
and bytes), so re-running a file does not dead-letter its rejected lines again. A line too
large for a dead letter goes compressed, or its bytes into the quarantine store, as on the
streaming path.
With an audit recorder, every line is audited as consumed (chain ``file/kela``, the line number
as its offset) with what it became, before the batch's ledger entries are committed.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from pydantic import BaseModel

from connectors.kela.inbound import check_header
from connectors.kela.intake import Duplicate, Intake, Taken
from connectors.kela.wiring import canonical_messages
from hub.audit.recorder import Consumed, Produced, drafts_for
from hub.audit.records import AuditDraft, EventFacts
from hub.broker.bootstrap import start_producer
from hub.broker.connection import KafkaConnection
from hub.contracts import ContractBook
from hub.deadletter import DeadLetter, FileSource, smaller_forms
from hub.errors import BrokerUnavailableError, HubError
from hub.pipeline import Outgoing
from hub.quarantine import QuarantineStore
from hub.topics import DEADLETTER_TOPIC
from schemas.rejection import Rejection

__all__ = [
    "FILE_CHAIN",
    "NOT_ROUTED",
    "FileUnusableError",
    "IngestSummary",
    "JsonView",
    "check_file",
    "ingest_kela_file",
]

NOT_ROUTED: Final = "not routed"
_BATCH: Final = 1000
_KEPT_REJECTIONS: Final = 100
_BOM: Final = b"\xef\xbb\xbf"
#: Types whose JSON form is the value itself (exactly these: an enum or a bool subclass is not).
_JSON_AS_IS: Final = frozenset({str, int, bool})


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
    #: Rejected lines an earlier ingest of the file dead-lettered: not dead-lettered again.
    already_dead_lettered: int = 0
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

    for chunk in _chunks(_data_lines(path), _BATCH):
        # One ledger query for the whole chunk, not one per line.
        results = intake.take_many([(raw, number) for number, raw, _read in chunk])
        for (number, raw, read), taken in zip(chunk, results, strict=True):
            summary.lines += 1
            _count(summary, book, batch, intake, path.name, number, raw, taken)
            if len(batch.lines) >= _BATCH:
                await flush()
                progress(read)
    await flush()
    return summary


def _dead_letter(file_name: str, number: int, raw: bytes, rejection: Rejection) -> Outgoing:
    letter = DeadLetter(
        raw.rstrip(b"\r\n"),
        rejection.reason,
        rejection.detail,
        FileSource(file_name, number),
        "kela",
    )
    facts = EventFacts(detail=f"{rejection.reason}: {letter.shown_detail}")
    return Outgoing(DEADLETTER_TOPIC, letter.value, None, letter.headers(), facts=facts)


class JsonView(Mapping[str, Any]):
    """A model's fields as ``model_dump(mode="json")`` gives them, each converted when read.

    What ``ContractBook.disclosures_for`` needs per line: its conditions read one or two
    fields, so dumping the whole model for every line would be wasted.
    """

    __slots__ = ("_model",)

    def __init__(self, model: BaseModel) -> None:
        self._model = model

    def __getitem__(self, key: str) -> Any:
        if key not in _field_names(type(self._model)):
            raise KeyError(key)
        value = getattr(self._model, key)
        if value is None or type(value) in _JSON_AS_IS:
            return value
        return self._model.model_dump(mode="json", include={key})[key]

    def __iter__(self) -> Iterator[str]:
        return iter(_field_names(type(self._model)))

    def __len__(self) -> int:
        return len(_field_names(type(self._model)))


@functools.cache
def _field_names(model: type[BaseModel]) -> tuple[str, ...]:
    # Once per model class: reading model_fields goes through a descriptor on every access.
    return tuple(model.model_fields)


def _chunks(
    lines: Iterator[tuple[int, bytes, int]], size: int
) -> Iterator[list[tuple[int, bytes, int]]]:
    """``lines`` in lists of ``size`` (the last one shorter): one batch at a time in memory."""
    chunk: list[tuple[int, bytes, int]] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _count(
    summary: IngestSummary,
    book: ContractBook,
    batch: _Batch,
    intake: Intake,
    file_name: str,
    number: int,
    raw: bytes,
    taken: Taken | Duplicate | Rejection,
) -> None:
    """Count what line ``number`` became and add its outputs to ``batch``."""
    if isinstance(taken, Rejection):
        summary.reject(taken)
        if intake.ledger.was_dead_lettered(file_name, number, raw):
            # An earlier run of this file put it in the dead-letter topic already.
            summary.already_dead_lettered += 1
            batch.add(number, raw, [])
        else:
            intake.ledger.stage_dead_letter(file_name, number, raw)
            batch.add(number, raw, [_dead_letter(file_name, number, raw, taken)])
    elif isinstance(taken, Duplicate):
        summary.duplicates += 1
        batch.add(number, raw, [])
    else:
        summary.accepted += 1
        summary.corrections += taken.is_correction
        messages = canonical_messages(taken.event)
        data = JsonView(taken.event.data)
        # Each partner receives the record on the major version its contract names.
        partners = [
            disclosure
            for message in messages
            for disclosure in book.disclosures_for(
                "benefit-day", data, version=_major(message.topic)
            )
        ]
        for disclosure in partners:
            summary.recipients[disclosure.partner.value] += 1
        if not partners:
            summary.recipients[NOT_ROUTED] += 1
        batch.add(number, raw, messages)


def _major(topic: str) -> int:
    return int(topic.rpartition(".v")[2])


def _headers(message: Outgoing) -> list[tuple[str, bytes]]:
    # The same shape as messages published through FastStream (``hub.pipeline``).
    headers = [(name, value.encode()) for name, value in message.headers.items()]
    if message.event_id is not None:
        headers.append(("correlation_id", message.event_id.encode()))
    return headers


async def _send_smaller(
    producer: AIOKafkaProducer, message: Outgoing, quarantine: QuarantineStore
) -> tuple[Outgoing, asyncio.Future[Any]]:
    """A dead letter the producer refused as too large, sent in a smaller form: compressed,
    else quarantined (``hub.deadletter.smaller_forms``); the form sent and its future."""
    async for form in smaller_forms(message.value, message.headers, quarantine):
        smaller = replace(
            message, value=form.value, headers=form.headers, facts=EventFacts(detail=form.summary)
        )
        try:
            sent = await producer.send(
                smaller.topic, smaller.value, key=smaller.key, headers=_headers(smaller)
            )
        except MessageSizeTooLargeError:
            continue
        return smaller, sent
    raise MessageSizeTooLargeError  # pragma: no cover - the quarantined form is a few hundred bytes


def producer_publisher(
    producer: AIOKafkaProducer, bootstrap: str, quarantine: QuarantineStore | None = None
) -> Publish:
    """Publish a batch with ``producer`` and wait until Kafka acknowledged all of it.

    A dead letter larger than the producer may send (a line of about a megabyte) goes out in
    a smaller form when ``quarantine`` is given, and replaces its message in the batch so that
    the audit records what was sent.
    """

    async def publish(batch: list[Outgoing]) -> list[tuple[int, int]]:
        try:
            futures = []
            for index, m in enumerate(batch):
                try:
                    sent = await producer.send(m.topic, m.value, key=m.key, headers=_headers(m))
                except MessageSizeTooLargeError:
                    if quarantine is None or m.topic != DEADLETTER_TOPIC:
                        raise
                    batch[index], sent = await _send_smaller(producer, m, quarantine)
                futures.append(sent)
            landed = await asyncio.gather(*futures)
        except KafkaError as exc:
            raise BrokerUnavailableError(bootstrap, type(exc).__name__) from None
        return [(metadata.partition, metadata.offset) for metadata in landed]

    return publish


async def started_producer(connection: KafkaConnection) -> AIOKafkaProducer:
    """A started producer for ``connection`` (linger for batching, acks=all); retried while
    Kafka does not answer, a refusal at once (``hub.broker.bootstrap.start_producer``)."""
    return await start_producer(connection, linger_ms=5)
