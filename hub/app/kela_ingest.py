"""``hub ingest kela``: the application job that puts Kela's file entry point
(``connectors.kela.file_ingest``) together with the running hub's parts: the settings and
ledger, the Kafka connection and its topics, the audit recorder, the ingest's transactional
producer and the quarantine store. The connector reads, checks and translates the file; this
module only wires it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError, ProducerFenced

from connectors.kela.file_ingest import (
    CHUNK_LINES,
    FILE_CHAIN,
    TRANSACTIONAL_GROUP,
    IngestFencedError,
    IngestSummary,
    ingest_file,
)
from connectors.kela.intake import Intake
from connectors.kela.ledger import BenefitLedger
from connectors.kela.versions import BENEFIT_DAY_TOPIC, BENEFIT_DAY_V2_TOPIC
from hub.admin.provisioning import list_topics
from hub.admin.topic_io import UnknownTopicError
from hub.audit import open_recorder
from hub.audit.records import AuditDraft
from hub.broker.connection import connection_for
from hub.core.errors import BrokerUnavailableError
from hub.core.settings import HubSettings, pseudonym_secret
from hub.core.topics import DEADLETTER_TOPIC
from hub.distribution.contracts import ContractBook
from hub.routing.quarantine import QuarantineStore
from hub.routing.transactions import RouteProducer, default_instance_id, transactional_id

__all__ = ["ingest_kela"]


async def ingest_kela(
    settings: HubSettings,
    path: Path,
    book: ContractBook,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] = lambda _read: None,
    chunk_lines: int = CHUNK_LINES,
) -> IngestSummary:
    """``hub ingest kela``: a file that passed ``check_file`` into the hub of ``settings``,
    ``chunk_lines`` lines at a time.

    A dry run validates against the ledger without changing it and touches no Kafka. Otherwise
    the topics must exist, the audit recorder must open (a missing signing key stops it
    before any client to Kafka exists) and the ingest's producer must start.
    """
    secret = pseudonym_secret(settings)
    async with contextlib.AsyncExitStack() as stack:
        ledger = (BenefitLedger.dry_run if dry_run else BenefitLedger.open)(
            settings.data_dir, secret
        )
        stack.callback(ledger.close)
        intake = Intake(ledger, secret, settings.kela_data_start)
        if dry_run:
            return await ingest_file(path, intake, book, None, progress, chunk_lines=chunk_lines)
        connection = connection_for(settings)
        existing = await list_topics(connection)
        for topic in (BENEFIT_DAY_V2_TOPIC, BENEFIT_DAY_TOPIC, DEADLETTER_TOPIC):
            if topic not in existing:
                raise UnknownTopicError(topic)
        # The recorder before the producer: a missing signing key then stops the command
        # before any client to Kafka is left open.
        recorder = open_recorder(settings)
        stack.callback(recorder.store.close)
        asyncio.get_running_loop().set_exception_handler(_fencing_reported_once)
        instance = settings.instance_id or default_instance_id(settings.data_dir)
        txn = transactional_id(TRANSACTIONAL_GROUP, instance)
        producer = await RouteProducer.started(
            connection, txn if settings.kafka_transactions else None
        )
        # Unwound in reverse: the producer stops, then the chain heads are signed.
        stack.callback(recorder.checkpoint)
        stack.push_async_callback(producer.stop)

        def audit(drafts: list[AuditDraft]) -> object:
            return recorder.record(FILE_CHAIN, drafts)

        quarantine = QuarantineStore.in_data_dir(settings.data_dir)
        try:
            return await ingest_file(
                path, intake, book, producer, progress, audit, quarantine, chunk_lines=chunk_lines
            )
        except ProducerFenced:
            raise IngestFencedError from None
        except KafkaError as exc:
            raise BrokerUnavailableError(connection.bootstrap, type(exc).__name__) from None


def _fencing_reported_once(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler: a fenced producer leaves futures of its own failed and
    never retrieved; the fencing is reported once, as ``IngestFencedError``, not again with a
    traceback when each of them is collected."""
    if isinstance(context.get("exception"), ProducerFenced):
        return
    loop.default_exception_handler(context)
