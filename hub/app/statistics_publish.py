"""Publishing documents to ``out.keha.statistics``: Kafka, the audit, then the store.

The one module of the package that talks to Kafka. Each document is published (key
``<area>/<month>``, CloudEvents structured mode), its disclosure recorded in the audit log
(chain ``statistics``, partner ``keha``, with the contract's legal basis), and only then
remembered as sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from hub.audit import open_recorder
from hub.audit.records import AuditDraft, Direction, EventFacts
from hub.broker.connection import connection_for
from hub.core.settings import HubSettings
from hub.routing.lines import started_producer
from hub.statistics.sending import STATISTICS_TOPIC, sent_version
from hub.statistics.store import StatisticsStore
from schemas.envelope import CLOUDEVENTS_CONTENT_TYPE
from schemas.monthly_statistics import MonthlyStatisticsEvent

__all__ = ["STATISTICS_CHAIN", "publish_documents"]

#: The audit chain of the documents sent to the state.
STATISTICS_CHAIN: Final = "statistics"
_LEGAL_BASIS: Final = "contracts/keha.yaml (aggregated figures only)"


def _legal_basis(settings: HubSettings) -> str:
    from connectors import CONNECTORS  # noqa: PLC0415 - the hub never imports them at load.
    from hub.app.runtime import contract_book_for  # noqa: PLC0415 - the same.
    from schemas.codes import Partner  # noqa: PLC0415

    contract = contract_book_for(settings, CONNECTORS).contracts.get(Partner.KEHA)
    if contract is None or not contract.aggregates:
        return _LEGAL_BASIS
    basis = contract.aggregates[0].legal_basis
    return f"{basis.statute}, {basis.section}"


async def publish_documents(
    settings: HubSettings,
    store: StatisticsStore,
    events: Sequence[MonthlyStatisticsEvent],
    *,
    payloads: Sequence[bytes] | None = None,
) -> list[MonthlyStatisticsEvent]:
    """Publish ``events`` in order, audit each, record each as sent; the events sent.

    ``payloads`` (one per event) are the exact bytes to publish: a resend repeats the bytes
    that were sent, not a new rendering of them.
    """
    legal_basis = _legal_basis(settings)
    recorder = open_recorder(settings)
    producer = await started_producer(connection_for(settings))
    sent = []
    try:
        for index, event in enumerate(events):
            payload = (
                event.model_dump_json().encode("utf-8") if payloads is None else payloads[index]
            )
            landed = await producer.send_and_wait(
                STATISTICS_TOPIC,
                payload,
                key=event.subject.encode("utf-8"),
                headers=[
                    ("content-type", CLOUDEVENTS_CONTENT_TYPE.encode()),
                    ("correlation_id", event.id.encode()),
                ],
            )
            facts = EventFacts(event.id, event.type, None, "keha", legal_basis)
            draft = AuditDraft(
                Direction.PRODUCED,
                payload,
                STATISTICS_TOPIC,
                landed.partition,
                landed.offset,
                facts,
            )
            recorder.record(STATISTICS_CHAIN, [draft])
            store.record_sent(sent_version(event, payload))
            sent.append(event)
        recorder.checkpoint()
    finally:
        await producer.stop()
        recorder.store.close()
    return sent
