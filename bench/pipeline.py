"""The hub's own work per message, without a broker: every route of ``hub up`` in process.

``python -m bench.pipeline [--size N] [--flows a,b] [--batch N] [--profile FILE]`` builds the
routes ``hub up`` runs (``hub.app.runtime.routes_for``, the real connectors, contracts, ledgers
and SQLite stores in a fresh data directory, the real audit recorder) and moves each flow's
inputs (``bench.flow_data``) through them the way the broker would: every route subscribed to
a topic gets each batch published there, hop after hop, until nothing more is published.
Publishing goes to a transactional stand-in that only numbers the messages, so what is
measured is the hub's CPU per input for both hops (translation, distribution, audit, ledgers,
statistics), not Kafka's or aiokafka's.

The baseline in the same run is the least a route must do per message in this harness:
``handle_batch`` with a translation that forwards the bytes and no audit (``pass-through``).
The ratio reads like the flows benchmark's: a figure from one machine against a floor from
the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import tempfile
import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.structs import ConsumerRecord, RecordMetadata, TopicPartition
from pydantic import SecretStr

from bench.flow_data import FLOWS, Flow, Input, inputs_for
from connectors import CONNECTORS
from hub.app.runtime import routes_for
from hub.audit import open_recorder
from hub.audit.recorder import AuditRecorder
from hub.core.settings import HubSettings, pseudonym_secret
from hub.core.topics import DEADLETTER_TOPIC, TopicKind, kind_of
from hub.routing.in_doubt import InDoubt
from hub.routing.pipeline import Outgoing, Route, Translation, handle_batch
from hub.routing.transactions import Landings, Message

#: (topic, key, value, headers) of one message.
_Message = tuple[str, bytes | None, bytes, Mapping[str, str]]

_SECRET = "bench-pipeline-pseudonym-secret-0123456789abcdef"  # noqa: S105 - a benchmark key


@dataclass
class _Sink:
    """A transactional publisher that keeps what a batch published, numbered per partition."""

    transactional: bool = True
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    batch: list[tuple[str, bytes | None, bytes, Mapping[str, str]]] = field(default_factory=list)
    published: int = 0

    async def begin(self) -> None:
        self.batch = []

    def _land(self, topic: str, key: bytes | None) -> RecordMetadata:
        partition = 0 if key is None else hash(key) % 3
        offset = self.offsets.get((topic, partition), 0)
        self.offsets[(topic, partition)] = offset + 1
        return RecordMetadata(topic, partition, TopicPartition(topic, partition), offset, -1, 0, 0)

    async def enqueue(
        self, topic: str, value: bytes, key: bytes | None, headers: Mapping[str, str]
    ) -> Awaitable[RecordMetadata]:
        self.batch.append((topic, key, value, headers))
        done: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        done.set_result(self._land(topic, key))
        return done

    async def enqueue_all(self, messages: Sequence[Message]) -> Landings:
        return await Landings.one_by_one(self.enqueue, messages)

    async def commit(self, offsets: Mapping[TopicPartition, int], group: str) -> None:
        self.published += len(self.batch)

    async def abort(self) -> None:
        self.batch = []


def _records(
    messages: Sequence[tuple[str, bytes | None, bytes, Mapping[str, str]]], start: int
) -> list[ConsumerRecord[bytes, bytes]]:
    return [
        ConsumerRecord(
            topic,
            0,
            start + index,
            0,
            0,
            key,
            value,
            None,
            len(key or b""),
            len(value),
            [(k, v.encode()) for k, v in headers.items()],
        )
        for index, (topic, key, value, headers) in enumerate(messages)
    ]


def _forwarding_routes(flows: Sequence[Flow]) -> list[Route]:
    """The baseline: per flow two hops that forward the bytes (no parsing, no state)."""

    def to(topic: str) -> Translation:
        return lambda value: [Outgoing(topic, value, event_id="e")]

    return [
        route
        for flow in flows
        for route in (
            Route(f"raw-in.{flow.name}", (flow.in_topic,), to(flow.canonical_topic)),
            Route(f"raw-out.{flow.name}", (flow.canonical_topic,), to(flow.out_topics[0])),
        )
    ]


@dataclass
class _Measured:
    """One flow through one set of routes: CPU per input in all and per route."""

    micros: float
    per_route: dict[str, float]
    partner_outputs: int
    dead_letters: int


async def _through(
    routes: Sequence[Route],
    flow: Flow,
    inputs: Sequence[Input],
    batch: int,
    recorder: AuditRecorder | None,
    in_doubt: InDoubt | None,
    positions: dict[tuple[str, str], int],
) -> _Measured:
    sink = _Sink()
    pending: list[_Message] = [(flow.in_topic, i.key, i.value, {}) for i in inputs]
    spent: dict[str, float] = {}
    partner = dead = 0
    started = time.process_time()
    while pending:
        by_topic: dict[str, list[_Message]] = {}
        for message in pending:
            by_topic.setdefault(message[0], []).append(message)
        pending = []
        for topic, messages in by_topic.items():
            for route in (r for r in routes if topic in r.topics):
                for first in range(0, len(messages), batch):
                    chunk = messages[first : first + batch]
                    where = (route.consumer_group, topic)
                    records = _records(chunk, positions.get(where, 0))
                    positions[where] = positions.get(where, 0) + len(chunk)
                    before = time.process_time()
                    await handle_batch(sink, route, records, recorder, None, in_doubt)
                    spent[route.connector] = (
                        spent.get(route.connector, 0.0) + time.process_time() - before
                    )
                    for message in sink.batch:
                        kind = kind_of(message[0])
                        if kind is TopicKind.CANONICAL:
                            pending.append(message)
                        elif message[0] == DEADLETTER_TOPIC:
                            dead += 1
                        elif kind is TopicKind.OUTBOUND:
                            partner += 1
    total = time.process_time() - started
    return _Measured(
        total / len(inputs) * 1e6,
        {name: seconds / len(inputs) * 1e6 for name, seconds in spent.items()},
        partner,
        dead,
    )


async def _run(
    flows: Sequence[Flow], size: int, batch: int, *, audit: bool
) -> list[tuple[Flow, _Measured, _Measured]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        settings = HubSettings(data_dir=Path(tmp), pseudonym_secret=SecretStr(_SECRET))
        routes = routes_for(settings, CONNECTORS, pseudonym_secret(settings))
        recorder = open_recorder(settings) if audit else None
        in_doubt = InDoubt.open(Path(tmp), "bench")
        positions: dict[tuple[str, str], int] = {}
        baseline = _forwarding_routes(flows)
        for flow in flows:
            inputs = inputs_for(flow, size)
            raw = await _through(baseline, flow, inputs, batch, None, None, positions)
            hub = await _through(routes, flow, inputs, batch, recorder, in_doubt, positions)
            results.append((flow, hub, raw))
        if recorder is not None:
            recorder.store.close()
        in_doubt.close()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--flows", default=",".join(f.name for f in FLOWS))
    parser.add_argument("--no-audit", action="store_true")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the run here")
    args = parser.parse_args(argv)
    flows = [f for f in FLOWS if f.name in args.flows.split(",")]
    from hub.core.logs import configure_logging  # noqa: PLC0415

    configure_logging("info", "json")
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        # cProfile sees one thread: run the pipeline's thread work inline.
        async def inline(func, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            return func(*args, **kwargs)

        asyncio.to_thread = inline
        profiler.enable()
    results = asyncio.run(_run(flows, args.size, args.batch, audit=not args.no_audit))
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    print(
        f"{args.size:,} inputs per flow, batches of {args.batch}, audit "
        f"{'off' if args.no_audit else 'on'}; CPU µs per input, both hops"
    )
    print(f"{'flow':16} | {'hub':>7} | {'forward':>7} | {'ratio':>6} | outputs | dead | per route")
    for flow, hub, raw in results:
        routes = ", ".join(f"{name} {micros:.0f}" for name, micros in hub.per_route.items())
        print(
            f"{flow.name:16} | {hub.micros:7.0f} | {raw.micros:7.0f} | "
            f"{raw.micros / hub.micros:6.3f} | {hub.partner_outputs:7} | {hub.dead_letters:4} | "
            f"{routes}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
