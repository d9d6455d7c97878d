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
- **build**: the first list after the dead letters came: the dead-letter index
  (``hub.console.deadletter_index``) reads the topic into its table, then lists the newest 200
  of one reason;
- **page**: the console's dead-letter page and ``hub deadletters list`` from then on: the
  index's refresh (nothing new) and the newest 200 of one reason, and, as a second figure, all
  letters counted by another filter;
- **flows**: the flows page from then on: the refresh and each connector's last dead letter;
- **show**: one dead letter read by its place (``hub deadletters show``, a dead letter's page
  in the console), the mean of ten.

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
from hub.console.deadletter_index import DeadLetterIndex, DeadLetterListing, each_dead_letter
from hub.console.deadletters import (
    DeadLetterFilter,
    DeadLetterId,
    QuarantinedLetter,
    read_dead_letter,
)
from hub.console.letter_state import State
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


def _timed_on_index(
    bootstrap: str, folder: Path, then: Callable[[DeadLetterIndex], object]
) -> tuple[float, DeadLetterIndex, object]:
    """Seconds of the data directory's index brought up to date and ``then`` asked of it."""
    connection = _connection(bootstrap, folder)
    index = DeadLetterIndex.open(folder)
    try:
        started = time.perf_counter()
        asyncio.run(index.refresh(connection))
        answer = then(index)
        return time.perf_counter() - started, index, answer
    finally:
        index.close()


def _newest_of_a_reason(index: DeadLetterIndex) -> DeadLetterListing:
    listing = index.listing({}, DeadLetterFilter(reason=_REASONS[0]), 200)
    assert len(listing.letters) == min(200, listing.matching)
    return listing


def _build(bootstrap: str, folder: Path) -> Measured:
    seconds, index, _listing = _timed_on_index(bootstrap, folder, _newest_of_a_reason)
    return Measured(seconds, _peak_mib(), index.read)


def _page(bootstrap: str, folder: Path) -> Measured:
    seconds, index, _listing = _timed_on_index(bootstrap, folder, _newest_of_a_reason)
    assert index.read == 0

    def every_open(index: DeadLetterIndex) -> DeadLetterListing:
        return index.listing({}, DeadLetterFilter(state=State.OPEN), 200)

    count_s, _index, every = _timed_on_index(bootstrap, folder, every_open)
    assert isinstance(every, DeadLetterListing)
    return Measured(seconds, _peak_mib(), every.matching, count_s)


def _flows(bootstrap: str, folder: Path) -> Measured:
    seconds, _index, last = _timed_on_index(bootstrap, folder, DeadLetterIndex.last_by_connector)
    assert isinstance(last, dict)
    assert list(last) == ["kela"]
    return Measured(seconds, _peak_mib(), len(last))


def _show(bootstrap: str, folder: Path) -> Measured:
    connection = _connection(bootstrap, folder)
    place = DeadLetterId(0, 0)

    async def ten() -> float:
        started = time.perf_counter()
        for _ in range(10):
            letter = await read_dead_letter(connection, place)
            assert letter.id == place
        return (time.perf_counter() - started) / 10

    return Measured(asyncio.run(ten()), _peak_mib(), 1)


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
        f"{'letters':>8} | read s | hold all s (ratio) | build s (ratio) | page s | count s | "
        "flows s | show s | read MiB | hold all MiB | build MiB | page MiB"
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
                built = _in_child(_build, broker.bootstrap, folder)
                page = _in_child(_page, broker.bootstrap, folder)
                flows = _in_child(_flows, broker.bootstrap, folder)
                shown = _in_child(_show, broker.bootstrap, folder)
            finally:
                broker.stop()
        # The benchmark read right: every letter, each once, all of them open.
        assert read.letters == held.letters == built.letters == page.letters == size
        print(
            f"{size:>8,} | {read.seconds:>6.2f} | {held.seconds:>10.2f} "
            f"({held.seconds / read.seconds:.2f}) | {built.seconds:>7.2f} "
            f"({built.seconds / read.seconds:.2f}) | {page.seconds:>6.3f} | "
            f"{page.second_s:>7.3f} | {flows.seconds:>7.3f} | {shown.seconds:>6.3f} | "
            f"{read.peak_mib:>8.1f} | "
            f"{held.peak_mib:>12.1f} | {built.peak_mib:>9.1f} | {page.peak_mib:>8.1f}"
        )


if __name__ == "__main__":
    main()
