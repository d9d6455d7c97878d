"""Is Kafka there? Readiness follows the answer, and the hub waits out an outage.

``hub up`` asks the cluster for its metadata every few seconds. When it does not answer, the
hub reports not ready (``/readyz`` 503, ``hub_ready`` 0) and logs one warning; it keeps asking,
with exponential backoff (tenacity), logging each next try, and never exits for it: its
consumers and producer reconnect by themselves. When the cluster answers again, the topics are
provisioned once more (a cluster rebuilt meanwhile may lack some), and the hub is ready again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Final

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential,
)

from hub.broker.connection import KafkaConnection
from hub.broker.partitions import partitions_of
from hub.core.logs import get_logger
from hub.core.metrics import HubMetrics

__all__ = ["BrokerUnreachableError", "Readiness", "watch_broker", "watch_lag"]

log = get_logger(__name__)

#: How often a healthy cluster is asked, and how long one probe may take.
PROBE_EVERY_S: Final = 2.0
PROBE_TIMEOUT_S: Final = 5.0
_LAG_EVERY_S: Final = 15.0


class BrokerUnreachableError(Exception):
    """The cluster did not answer a metadata request in time."""


class Readiness:
    """Whether the hub is ready, and why not: the event ``/readyz`` reads plus a gauge."""

    def __init__(self, ready: asyncio.Event, metrics: HubMetrics) -> None:
        self._ready = ready
        self.metrics = metrics

    def up(self) -> None:
        """Ready."""
        self._ready.set()
        self.metrics.ready.set(1)

    def down(self) -> None:
        """Not ready."""
        self._ready.clear()
        self.metrics.ready.set(0)


async def probe(connection: KafkaConnection, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """One metadata round trip to the cluster, or ``BrokerUnreachableError``.

    The round trip is the admin client's bootstrap: a metadata request to each bootstrap
    server in turn until one answers. No further request: aiokafka sends it to a node picked
    at random from the answer, and a node that just died stays in the metadata until the
    controller fences it, so one node of three down made the cluster look away every third
    probe.
    """
    admin = AIOKafkaAdminClient(
        **connection.client_kwargs(), request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
    except Exception as exc:  # noqa: BLE001 - any failure to answer means "not there".
        raise BrokerUnreachableError(type(exc).__name__) from None
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def _stopped(stop: asyncio.Event) -> Callable[[RetryCallState], bool]:
    return lambda _state: stop.is_set()


def _next_try(state: RetryCallState) -> None:
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    outcome = state.outcome.exception() if state.outcome is not None else None
    log.warning(
        "Kafka still unreachable",
        attempt=state.attempt_number,
        next_try_in_s=round(wait, 1),
        error=str(outcome) if outcome is not None else None,
    )


async def watch_broker(
    connection: KafkaConnection,
    readiness: Readiness,
    recover: Callable[[], Awaitable[object]],
    stop: asyncio.Event,
    every_s: float = PROBE_EVERY_S,
) -> None:
    """Until ``stop``: probe the cluster; while it is away, not ready and retrying; when it is
    back, ``recover()`` (provision topics) and ready again."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
        if stop.is_set():
            return
        try:
            await probe(connection)
            continue
        except BrokerUnreachableError as exc:
            readiness.down()
            lost_at = time.monotonic()
            log.warning(
                "Kafka unreachable: not ready, retrying with backoff",
                bootstrap=connection.bootstrap,
                error=str(exc),
            )
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(BrokerUnreachableError),
            wait=wait_exponential(multiplier=0.5, min=0.5, max=8),
            stop=_stopped(stop),
            before_sleep=_next_try,
            reraise=False,
            retry_error_callback=lambda _state: None,
        ):
            with attempt:
                await probe(connection)
                try:
                    await recover()
                except Exception as exc:  # noqa: BLE001 - back, but not usable yet: keep trying.
                    raise BrokerUnreachableError(f"recovery failed: {type(exc).__name__}") from None
        if stop.is_set():
            return
        readiness.up()
        log.info(
            "Kafka reachable again: ready",
            bootstrap=connection.bootstrap,
            away_s=round(time.monotonic() - lost_at, 1),
        )


async def watch_lag(
    metrics: HubMetrics,
    client_kwargs: dict[str, object],
    groups: Mapping[str, Iterable[str]],
    stop: asyncio.Event,
) -> None:
    """Until ``stop``: every 15 s, each group's lag per partition of its topics (end offset -
    committed; a partition nothing was committed on yet counts from its start).

    Committed offsets are asked for by partition, for exactly the group's topics.
    """
    while not stop.is_set():
        admin = AIOKafkaAdminClient(**client_kwargs)
        consumer = AIOKafkaConsumer(**client_kwargs, enable_auto_commit=False)
        try:
            await admin.start()
            await consumer.start()
            every = await partitions_of(consumer, sorted({t for ts in groups.values() for t in ts}))
            for group, topics in groups.items():
                mine = set(topics)
                partitions = [tp for tp in every if tp.topic in mine]
                if not partitions:
                    continue
                committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
                starts = await consumer.beginning_offsets(partitions)
                ends = await consumer.end_offsets(partitions)
                for tp in partitions:
                    meta = committed.get(tp)
                    done = meta.offset if meta is not None and meta.offset >= 0 else starts[tp]
                    lag = max(0, ends[tp] - done)
                    metrics.lag.labels(group, tp.topic, str(tp.partition)).set(lag)
        except Exception as exc:  # noqa: BLE001 - a metrics round must never stop the hub.
            log.warning("consumer lag not measured", error=type(exc).__name__)
        finally:
            await consumer.stop()
            await admin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _LAG_EVERY_S)
