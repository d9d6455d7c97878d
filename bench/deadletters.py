"""What the dead-letter lists cost as ``hub.deadletter.v1`` grows: ``python -m bench.deadletters
[--letters N,M]``.

For each size, a single-node Apache Kafka started for the run (``hub.broker.local.LocalKafka``,
its log directory in a temporary folder), the hub's topics provisioned, and N dead letters
published as a bad Kela file leaves them (a 90-byte line each, the file and line in the
headers, one of three reasons). Then, each in a process of its own (so its peak resident
memory, ``VmHWM``, is its own):

- **read**: the baseline of the same run: a plain aiokafka consumer reads the topic from the
  beginning to its end, touching each message's value and headers, keeping nothing;
- **hold all**: what the console's pages and ``hub deadletters list`` did before 2026-12-03:
  every dead letter read into a list (``each_dead_letter`` with ``list.append``);
- **page**: the console's dead-letter page, the newest 200 of one reason
  (``newest_dead_letters``);
- **flows**: the flows page's last dead letter of each connector (``LastDeadLetters``): the
  first refresh, then a second one with nothing new.

Prints wall seconds and peak memory of each, and the ratios to the read.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hub.admin.provisioning import provision_topics
from hub.broker.connection import KafkaConnection
from hub.broker.local import LocalKafka
from hub.broker.partitions import partitions_of
from hub.console.deadletter_reading import LastDeadLetters, each_dead_letter, newest_dead_letters
from hub.console.deadletters import DeadLetterFilter, QuarantinedLetter
from hub.core.logs import configure_logging
from hub.core.settings import load_settings
from hub.core.topics import DEADLETTER_TOPIC
from hub.routing.deadletter import DeadLetter, FileSource

_REASONS = ("bad-date", "unknown-municipality", "bad-amount")
_LINE = b"K2025-000000001;010190-900A;398;TMT;01.01.2025;31.01.2025;21;1234,56;21;05.02.2025;"


class Measured(NamedTuple):
    """One measurement in its own process."""

    seconds: float
    peak_mib: float
    letters: int
    second_s: float = 0.0


def _connection(bootstrap: str, folder: Path) -> KafkaConnection:
    return KafkaConnection(bootstrap, load_settings(kafka_bootstrap=bootstrap, data_dir=folder))


async def _fill(connection: KafkaConnection, letters: int) -> None:
    await provision_topics(connection)
    producer = AIOKafkaProducer(bootstrap_servers=connection.bootstrap, linger_ms=20)
    await producer.start()
    try:
        pending = []
        for line in range(letters):
            letter = DeadLetter(
                _LINE,
                _REASONS[line % len(_REASONS)],
                "the bench's made-up rejection",
                FileSource("kela-2025-01.csv", line + 2),
                "kela",
            )
            headers = [(name, value.encode()) for name, value in letter.headers().items()]
            pending.append(await producer.send(DEADLETTER_TOPIC, letter.value, headers=headers))
            if len(pending) == 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _read(bootstrap: str, folder: Path) -> Measured:
    async def read() -> int:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            assigned = await partitions_of(consumer, [DEADLETTER_TOPIC])
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            ends = await consumer.end_offsets(assigned)
            count, touched = 0, 0
            waiting = {tp for tp in assigned if ends[tp] > 0}
            while waiting:
                batch = await consumer.getmany(*waiting, timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        touched += len(record.value or b"") + len(record.headers)
                        count += 1
                waiting = {tp for tp in waiting if await consumer.position(tp) < ends[tp]}
            return count
        finally:
            await consumer.stop()

    started = time.perf_counter()
    count = asyncio.run(read())
    return Measured(time.perf_counter() - started, _peak_mib(), count)


def _hold_all(bootstrap: str, folder: Path) -> Measured:
    letters: list[QuarantinedLetter] = []
    connection = _connection(bootstrap, folder)
    started = time.perf_counter()
    asyncio.run(each_dead_letter(connection, letters.append))
    return Measured(time.perf_counter() - started, _peak_mib(), len(letters))


def _page(bootstrap: str, folder: Path) -> Measured:
    connection = _connection(bootstrap, folder)
    started = time.perf_counter()
    listing = asyncio.run(
        newest_dead_letters(connection, {}, DeadLetterFilter(reason=_REASONS[0]), 200)
    )
    seconds = time.perf_counter() - started
    assert len(listing.letters) == min(200, listing.matching)
    return Measured(seconds, _peak_mib(), listing.matching)


def _flows(bootstrap: str, folder: Path) -> Measured:
    connection = _connection(bootstrap, folder)
    last = LastDeadLetters()

    async def twice() -> tuple[float, float]:
        started = time.perf_counter()
        await last.refresh(connection)
        first = time.perf_counter() - started
        started = time.perf_counter()
        await last.refresh(connection)
        return first, time.perf_counter() - started

    first, second = asyncio.run(twice())
    return Measured(first, _peak_mib(), last.read, second)


def _in_child(measure: Callable[[str, Path], Measured], bootstrap: str, folder: Path) -> Measured:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(measure, (bootstrap, folder))


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", default="20000,100000", help="sizes, comma-separated")
    args = parser.parse_args()
    configure_logging("warning", "json")
    print(
        f"{'letters':>8} | read s | hold all s (ratio) | page s (ratio) | flows first s "
        "(ratio) | flows next s | read MiB | hold all MiB | page MiB | flows MiB"
    )
    for size in (int(size) for size in args.letters.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-deadletters-") as name:
            folder = Path(name)
            broker = LocalKafka(folder / "broker")
            broker.start()
            try:
                asyncio.run(_fill(_connection(broker.bootstrap, folder), size))
                read = _in_child(_read, broker.bootstrap, folder)
                held = _in_child(_hold_all, broker.bootstrap, folder)
                page = _in_child(_page, broker.bootstrap, folder)
                flows = _in_child(_flows, broker.bootstrap, folder)
            finally:
                broker.stop()
        assert read.letters == held.letters == flows.letters == size  # the benchmark read right
        print(
            f"{size:>8,} | {read.seconds:>6.2f} | {held.seconds:>10.2f} "
            f"({held.seconds / read.seconds:.2f}) | {page.seconds:>6.2f} "
            f"({page.seconds / read.seconds:.2f}) | {flows.seconds:>13.2f} "
            f"({flows.seconds / read.seconds:.2f}) | {flows.second_s:>12.3f} | "
            f"{read.peak_mib:>8.1f} | {held.peak_mib:>12.1f} | {page.peak_mib:>8.1f} | "
            f"{flows.peak_mib:>9.1f}"
        )


if __name__ == "__main__":
    main()
