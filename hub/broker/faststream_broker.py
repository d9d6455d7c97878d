"""The FastStream ``KafkaBroker`` of a connection, with its TLS/SASL security."""

from __future__ import annotations

import asyncio
import logging

from faststream.kafka import KafkaBroker
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)

from hub.broker.bootstrap import start_producer
from hub.broker.connection import KafkaConnection

__all__ = ["build_kafka_broker", "security_for", "start_broker"]


def security_for(connection: KafkaConnection) -> BaseSecurity | None:
    """FastStream's security object for the connection's settings (None for PLAINTEXT)."""
    kwargs = connection.client_kwargs()
    protocol = kwargs["security_protocol"]
    ssl_context = kwargs.get("ssl_context")
    if not protocol.startswith("SASL_"):
        return BaseSecurity(ssl_context=ssl_context, use_ssl=True) if ssl_context else None
    credentials = {
        "username": kwargs["sasl_plain_username"],
        "password": kwargs["sasl_plain_password"],
        "ssl_context": ssl_context,
        "use_ssl": protocol == "SASL_SSL",
    }
    match kwargs["sasl_mechanism"]:
        case "SCRAM-SHA-256":
            return SASLScram256(**credentials)
        case "SCRAM-SHA-512":
            return SASLScram512(**credentials)
        case _:
            return SASLPlaintext(**credentials)


def build_kafka_broker(connection: KafkaConnection) -> KafkaBroker:
    """A FastStream broker for ``connection``; its log records pass the hub's redaction."""
    settings = connection.settings
    return KafkaBroker(
        # A list: FastStream takes a string as one server, "a:9092,b:9092" included, where
        # aiokafka itself would split it.
        connection.servers,
        client_id=settings.kafka_client_id,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        security=security_for(connection),
        allow_auto_create_topics=False,
        logger=logging.getLogger("hub.faststream"),
        # "Received" / "Processed" for every message: debugging detail, not an operator's log.
        log_level=logging.DEBUG,
        graceful_timeout=10.0,
    )


async def start_broker(broker: KafkaBroker, connection: KafkaConnection | None = None) -> None:
    """Connect and start every subscriber *at once*.

    ``KafkaBroker.start()`` starts subscribers one after another, and each waits for its
    consumer-group join (a rebalance round trip, longer on a cluster with
    ``group.initial.rebalance.delay.ms``): ten routes would take ten joins to come up. The
    subscribers are independent: starting them together costs one join.

    With ``connection``, a producer refused at start (an idempotent producer's InitProducerId,
    an ACL) raises the hub's ``KafkaRefusedError`` naming the setting, not aiokafka's error.
    """
    if connection is not None:
        # FastStream neither stops a producer whose start failed (its sockets leak) nor says
        # more than aiokafka's error: one producer of the same settings, started and stopped
        # first, fails the hub's way.
        producer = await start_producer(connection)
        await producer.stop()
    await broker.connect()
    await asyncio.gather(*(subscriber.start() for subscriber in broker.subscribers))
    for publisher in broker.publishers:
        await publisher.start()
    broker.running = True
