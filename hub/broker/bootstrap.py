"""Starting an aiokafka client: retrying while nobody answers, and saying so as it goes;
giving up at once, with the cause and the setting to look at, when Kafka answers but refuses.

Which of the two a failed start is, ``hub.broker.diagnosis`` decides. While it is the first,
a warning names the bootstrap and how long the client will keep trying
(``HUB_KAFKA_CONNECT_TIMEOUT_S``), and another follows every few seconds, not every attempt:
an administrator running ``hub topics list`` against a dead port sees at once what is tried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from hub.broker.connection import KafkaConnection
from hub.broker.diagnosis import diagnose, start_refusal
from hub.core.errors import BrokerUnavailableError
from hub.core.logs import get_logger

__all__ = ["PROGRESS_EVERY_S", "start_client", "start_producer"]

log = get_logger(__name__)

#: At most one "still not reachable" warning per this many seconds (attempts come every
#: 0.2 s at first).
PROGRESS_EVERY_S: Final = 5.0
#: How long the probe that tells "nobody answers" from a refusal may take.
_PROBE_TIMEOUT_S: Final = 5.0
#: The least time an attempt gets, even when the setting's time is (nearly) up.
_LAST_ATTEMPT_S: Final = 0.1
#: Why an attempt failed when the broker took the connection and did not answer in time.
_SILENT: Final = "took the connection, did not answer"

C = TypeVar("C")


class _NoAnswerError(Exception):
    """One attempt found nobody answering: tenacity retries on this."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Progress:
    """The warnings of one ``start_client``: the first failure at once, then a few."""

    def __init__(
        self, connection: KafkaConnection, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.bootstrap = connection.bootstrap
        self.timeout_s = connection.settings.kafka_connect_timeout_s
        self.clock = clock
        self.started = clock()
        self.attempts = 0
        self.said_at: float | None = None

    def failed(self, reason: str) -> None:
        self.attempts += 1
        now = self.clock()
        elapsed = now - self.started
        if self.said_at is None:
            log.warning(
                "Kafka not reachable: retrying",
                bootstrap=self.bootstrap,
                reason=reason,
                retrying_for_s=self.timeout_s,
                setting="HUB_KAFKA_CONNECT_TIMEOUT_S",
            )
        elif now - self.said_at >= PROGRESS_EVERY_S:
            log.warning(
                "Kafka still not reachable: retrying",
                bootstrap=self.bootstrap,
                reason=reason,
                attempts=self.attempts,
                elapsed_s=round(elapsed, 1),
                gives_up_in_s=round(max(0.0, self.timeout_s - elapsed), 1),
            )
        else:
            return
        self.said_at = now


async def start_client(
    connection: KafkaConnection,
    create: Callable[[], C],
    start: Callable[[C], Awaitable[object]],
    stop: Callable[[C], Awaitable[object]],
    *,
    idempotent_producer: bool = False,
) -> C:
    """Create a client and ``start`` it, retrying while nobody answers; ``stop`` it on failure.

    Gives up after ``kafka_connect_timeout_s`` with ``BrokerUnavailableError`` (the reason
    in it), and at once with a ``KafkaRefusedError`` when Kafka answers but refuses: the
    SASL login or mechanism, TLS, a listener of another protocol, an ACL, or (for an
    ``idempotent_producer``) ``InitProducerId``.
    """
    progress = _Progress(connection)
    remaining = connection.settings.kafka_connect_timeout_s
    deadline = time.monotonic() + remaining
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(_NoAnswerError),
            wait=wait_exponential(multiplier=0.2, max=2),
            stop=stop_after_delay(remaining),
            reraise=True,
        ):
            with attempt:
                client = create()
                try:
                    # A broker that takes the connection and never answers would hold a
                    # start for aiokafka's request timeout (40 s), past the setting.
                    left = max(deadline - time.monotonic(), _LAST_ATTEMPT_S)
                    async with asyncio.timeout(left):
                        await start(client)
                except TimeoutError:
                    await stop(client)
                    progress.failed(_SILENT)
                    raise _NoAnswerError(_SILENT) from None
                except BaseException as exc:
                    await stop(client)
                    if isinstance(exc, KafkaConnectionError | KeyError):
                        verdict = await diagnose(connection, exc, _PROBE_TIMEOUT_S)
                        if not isinstance(verdict, str):
                            raise verdict from None
                        progress.failed(verdict)
                        raise _NoAnswerError(verdict) from None
                    refusal = start_refusal(
                        connection, exc, idempotent_producer=idempotent_producer
                    )
                    if refusal is not None:
                        raise refusal from None
                    raise
                return client
    except _NoAnswerError as exc:
        raise BrokerUnavailableError(
            connection.bootstrap,
            f"{exc.reason} (tried for {remaining:g} s; HUB_KAFKA_CONNECT_TIMEOUT_S)",
        ) from None
    except KafkaError as exc:
        raise BrokerUnavailableError(connection.bootstrap, type(exc).__name__) from None
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover


async def start_producer(connection: KafkaConnection, **options: Any) -> AIOKafkaProducer:
    """A started producer for ``connection`` (acks=all, idempotent as configured), with
    ``options`` for aiokafka (``linger_ms``…); errors as ``start_client``'s."""
    return await start_client(
        connection,
        lambda: AIOKafkaProducer(**connection.producer_kwargs(), **options),
        AIOKafkaProducer.start,
        AIOKafkaProducer.stop,
        idempotent_producer=connection.settings.kafka_idempotence,
    )
