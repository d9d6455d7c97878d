"""Starting an aiokafka client, and telling "wrong credentials" from "Kafka is away".

aiokafka reports a refused SASL login as a failure to bootstrap (``KafkaConnectionError``),
the same as an unreachable host, and its SCRAM client raises a bare ``KeyError`` when the
server answers the final SCRAM message with an error (``e=unknown-user``) instead of a
signature. Retrying a wrong password for half a minute and then saying "not reachable" would
send an administrator looking at the network; so when a start fails, one plain connection to
the first bootstrap server decides which it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    IllegalSaslStateError,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from hub.broker.connection import KafkaConnection
from hub.errors import BrokerUnavailableError, KafkaAuthenticationError

__all__ = ["authentication_refusal", "start_client"]

#: What a refused login looks like. KeyError: aiokafka's SCRAM client on a server-final error
#: message (Tansu answers ``e=unknown-user``; aiokafka looks for ``v=`` only).
_LOGIN_REFUSED = (
    SaslAuthenticationFailed,
    AuthenticationFailedError,
    UnsupportedSaslMechanismError,
    IllegalSaslStateError,
    KeyError,
)


async def authentication_refusal(connection: KafkaConnection) -> KafkaAuthenticationError | None:
    """The refusal of the configured SASL login by the first bootstrap server, if it refuses.

    ``None`` when SASL is not configured, when the login succeeds, or when the server cannot
    be reached at all (that is for the caller to report).
    """
    kwargs = connection.client_kwargs()
    if "sasl_mechanism" not in kwargs:
        return None
    host, _, port = connection.servers[0].rpartition(":")
    kwargs.pop("bootstrap_servers")
    try:
        probe = await create_conn(host, int(port), request_timeout_ms=10_000, **kwargs)
    except _LOGIN_REFUSED:
        return KafkaAuthenticationError(
            connection.bootstrap, str(kwargs["sasl_mechanism"]), str(kwargs["sasl_plain_username"])
        )
    except (KafkaError, OSError, TimeoutError):
        return None  # not a refusal: nobody (sensible) answered
    probe.close()
    return None


class _Client(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=_Client)


async def start_client(
    connection: KafkaConnection,
    create: Callable[[], C],
    start: Callable[[C], Awaitable[object]],
) -> C:
    """Create a client and ``start`` it, retrying while Kafka is away; close it on failure.

    Gives up after ``kafka_connect_timeout_s`` with ``BrokerUnavailableError``, and at once
    with ``KafkaAuthenticationError`` when the broker refuses the SASL credentials.
    """
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(KafkaConnectionError),
            wait=wait_exponential(multiplier=0.2, max=2),
            stop=stop_after_delay(connection.settings.kafka_connect_timeout_s),
            reraise=True,
        ):
            with attempt:
                client = create()
                try:
                    await start(client)
                except BaseException as exc:
                    await client.close()
                    if isinstance(exc, KafkaConnectionError | KeyError):
                        refusal = await authentication_refusal(connection)
                        if refusal is not None:
                            raise refusal from None
                    raise
                return client
    except KafkaError as exc:
        raise BrokerUnavailableError(connection.bootstrap, type(exc).__name__) from None
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
