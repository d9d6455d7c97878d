"""``python -m bench.audit``: the cost of the audit log, measured against itself in one run.

1. **Pipeline, audit off vs on.** N canonical client-status events (distinct people, all
   routed to Kela's XML and some to Päijät-Häme) are put on ``hub.client-status.v1`` of a
   single-node Apache Kafka started for the run (``hub.broker.local.LocalKafka``, its log
   directory in a temporary folder). The hub's real distribution route (contracts,
   projection, Kela XML renderer, delivery log) consumes them through FastStream, once
   without a recorder and once with the SQLite audit store, each in its own consumer group
   and data directory. Throughput is events handled per second, from the first to the last
   settle.
2. **Replay vs raw read.** ``hub audit replay``'s engine re-publishes the N recorded events
   from the store to a fresh topic with the producer ``hub audit replay`` uses (idempotent,
   ``acks=all``); the baseline is a raw aiokafka read of the same N events from
   ``hub.client-status.v1``.

Prints a table with the ratios. Nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.kela_data import identity_code
from connectors import CONNECTORS
from hub.admin.provisioning import provision_topics
from hub.app.runtime import routes_for
from hub.audit.recorder import AuditRecorder
from hub.audit.replay import replay
from hub.audit.store import RecordQuery, open_audit_store
from hub.broker.connection import KafkaConnection
from hub.broker.faststream_broker import build_kafka_broker, start_broker
from hub.broker.local import LocalKafka
from hub.core.logs import configure_logging
from hub.core.settings import HubSettings, load_settings
from hub.routing.lines import started_producer
from hub.routing.pipeline import Accepted, Route, wire_route
from schemas.envelope import ClientStatusEvent, dataschema_for
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection

SECRET: Final = "bench-pseudonym-secret-0123456789abcdefgh"  # noqa: S105 - test data.
TOPIC: Final = "hub.client-status.v1"
ROUTE: Final = "distribution.client-status"


def _event(index: int) -> bytes:
    born = dt.date(1950 + index % 50, 1 + index % 12, 1 + index % 28)
    code = identity_code(born, 900 + index % 100)
    municipality = ("398", "098", "091")[index % 3]
    data = {
        "change_id": f"bench-{index}",
        "authority": "lahti",
        "client_number": f"A-{index:07d}",
        "person_id": code,
        "home_municipality": municipality,
        "employment_status": "unemployed",
        "status_since": "2025-03-01",
        "job_search_active": True,
        "service": None,
        "case_worker": "Virtanen Maija",
        "note": None,
        "changed_at": "2025-03-01T08:12:00+02:00",
    }
    event = ClientStatusEvent.model_validate(
        {
            "id": f"client-status-bench-{index}",
            "source": "urn:fi:paijathame:hub:connector:lahti",
            "subject": person_ref_for(code, SECRET.encode()),
            "time": data["changed_at"],
            "dataschema": dataschema_for("fi.paijathame.hub.client-status.v1"),
            "data": data,
        }
    )
    return event.model_dump_json().encode()


async def _fill(bootstrap: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        pending = [await producer.send(TOPIC, _event(i)) for i in range(count)]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


@dataclass(frozen=True, slots=True)
class _Counted:
    """The route's own ledger, and a mark of the time each message settled."""

    outcome: Accepted
    count: int
    done: asyncio.Event
    marks: list[float]
    loop: asyncio.AbstractEventLoop

    def commit(self) -> None:
        self.outcome.settle()
        self.marks.append(time.perf_counter())
        if len(self.marks) >= self.count:
            self.loop.call_soon_threadsafe(self.done.set)

    def rollback(self) -> None:
        self.outcome.abandon()


def _counted(route: Route, count: int, done: asyncio.Event, marks: list[float]) -> Route:
    loop = asyncio.get_running_loop()

    def translate(value: bytes) -> Accepted | Rejection | list[object]:
        outcome = route.translate(value)
        if not isinstance(outcome, Accepted):
            return outcome  # type: ignore[return-value]

        return Accepted(
            outcome.messages, _Counted(outcome, count, done, marks, loop), outcome.not_routed
        )

    return Route(route.connector, route.topics, translate, route.group_id)  # type: ignore[arg-type]


async def run_pipeline(
    settings: HubSettings, bootstrap: str, count: int, recorder: AuditRecorder | None, group: str
) -> float:
    """Events per second through the distribution route, with or without auditing."""
    [route] = [r for r in routes_for(settings, CONNECTORS, SECRET.encode()) if r.connector == ROUTE]
    done = asyncio.Event()
    marks: list[float] = []
    # Not-routed events (Helsinki) settle nothing; count them through a no-op settle too.
    counted = _counted(
        Route(route.connector, route.topics, route.translate, group), count, done, marks
    )
    broker = build_kafka_broker(KafkaConnection(bootstrap, settings))
    wire_route(broker, counted, settings.kafka_session_timeout_ms, recorder)
    await start_broker(broker)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(done.wait(), 600)
    finally:
        await broker.stop()
    return count / (marks[-1] - started)


async def raw_read(bootstrap: str, count: int) -> float:
    """Messages per second of a plain aiokafka read of the canonical topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(TOPIC, p) for p in sorted(consumer.partitions_for_topic(TOPIC) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        started, seen = time.perf_counter(), 0
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500)
            seen += sum(len(records) for records in batch.values())
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def run_replay(recorder: AuditRecorder, connection: KafkaConnection, target: str) -> float:
    """Events per second of ``hub audit replay``'s engine (and its producer) over the recorded
    events."""
    producer = await started_producer(connection)
    try:
        started = time.perf_counter()
        summary = await replay(recorder, producer, RecordQuery(), target)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
    return summary.replayed / elapsed


async def main_async(count: int) -> list[tuple[str, float, float, float]]:
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as work:
        broker = LocalKafka(Path(work) / "broker")
        try:
            bootstrap = broker.start()

            def settings_for(name: str) -> HubSettings:
                return load_settings(
                    kafka_bootstrap=bootstrap, kafka_session_timeout_ms=3000,
                    data_dir=Path(work) / name, pseudonym_secret=SECRET,
                )  # fmt: skip

            await provision_topics(KafkaConnection(bootstrap, settings_for("topics")))
            await _fill(bootstrap, count)
            off = await run_pipeline(settings_for("off"), bootstrap, count, None, "bench.off")
            store = open_audit_store(Path(work) / "on", None)
            recorder = AuditRecorder(store, Ed25519PrivateKey.generate())
            on = await run_pipeline(settings_for("on"), bootstrap, count, recorder, "bench.on")
            raw = await raw_read(bootstrap, count)
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
            await admin.start()
            try:
                await admin.create_topics([NewTopic("bench.replay", 3, 1)])
            finally:
                await admin.close()
            replayed = await run_replay(
                recorder, KafkaConnection(bootstrap, settings_for("replay")), "bench.replay"
            )
            store.close()
        finally:
            broker.stop()
    return [
        ("pipeline (distribution, Kela XML): audit on vs off", on, off, on / off),
        ("replay from the audit store vs raw read of the topic", replayed, raw, replayed / raw),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="events per measurement")
    args = parser.parse_args()
    configure_logging("warning", "console")
    rows = asyncio.run(main_async(args.events))
    print(f"audit benchmark, {args.events} events each")
    print(f"{'measurement':<56} {'measured/s':>11} {'baseline/s':>11} {'ratio':>7}")
    for name, measured, baseline, ratio in rows:
        print(f"{name:<56} {measured:>11.0f} {baseline:>11.0f} {ratio:>7.3f}")


if __name__ == "__main__":
    main()
