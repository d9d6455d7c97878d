"""``python -m bench.passthrough BOOTSTRAP SOURCE:TARGET …``: the raw aiokafka baseline.

Each ``SOURCE:TARGET`` pair is one stage: a consumer group reads ``SOURCE`` and copies every
record (value, key and headers unchanged) to ``TARGET``. A stage does the least a correct
at-least-once pass-through must: it takes what one fetch returns (``getmany``), sends every
record, waits for all of them to be acknowledged and only then commits the consumed offsets.
Its producer gives the guarantees the hub's do (``acks=all``, idempotent), so the ratio
compares like with like. No parsing, no validation, no state, no audit.

All stages run in this one process and event loop, sharing one producer, as the hub runs all
its routes in one. Prints ``ready`` once every consumer is started; runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

__all__ = ["main"]


async def _stage(
    bootstrap: str, source: str, target: str, producer: AIOKafkaProducer, stop: asyncio.Event
) -> None:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"bench.raw.{source}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
    )
    await consumer.start()
    try:
        while not stop.is_set():
            fetched = await consumer.getmany(timeout_ms=200)
            acks = [
                await producer.send(
                    target, record.value, key=record.key, headers=list(record.headers)
                )
                for records in fetched.values()
                for record in records
            ]
            if acks:
                await asyncio.gather(*acks)
                await consumer.commit()
    finally:
        await consumer.stop()


async def _run(bootstrap: str, stages: list[tuple[str, str]]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        tasks = [
            asyncio.create_task(_stage(bootstrap, source, target, producer, stop))
            for source, target in stages
        ]
        print("ready", flush=True)
        stopped = asyncio.create_task(stop.wait())
        # A stage that fails ends the run: a silently dead stage would look like a slow one.
        await asyncio.wait([stopped, *tasks], return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        for task in tasks:
            await task
    finally:
        await producer.stop()


def main() -> None:
    """Parse ``BOOTSTRAP SOURCE:TARGET …`` and pass records through until stopped."""
    parser = argparse.ArgumentParser(prog="python -m bench.passthrough", description=__doc__)
    parser.add_argument("bootstrap")
    parser.add_argument("stages", nargs="+", metavar="SOURCE:TARGET")
    args = parser.parse_args()
    stages = [tuple(stage.split(":", 1)) for stage in args.stages]
    asyncio.run(_run(args.bootstrap, [(source, target) for source, target in stages]))


if __name__ == "__main__":
    main()
