"""Provisioning the catalogue on a real Apache Kafka: complete and idempotent."""

from __future__ import annotations

import pytest

from hub.admin.provisioning import list_topics, provision_topics
from hub.broker.connection import KafkaConnection
from hub.core.errors import BrokerUnavailableError
from hub.core.settings import load_settings
from hub.core.topics import TOPICS

pytestmark = pytest.mark.integration


async def test_every_catalogue_topic_exists_with_configured_partitions(
    connection: KafkaConnection,
) -> None:
    await provision_topics(connection)
    on_broker = await list_topics(connection)
    for spec in TOPICS:
        expected = spec.partitions or connection.settings.topic_partitions
        assert on_broker.get(spec.name) == expected, spec.name
    assert on_broker["in.kela.benefit-day"] == 1


async def test_second_provisioning_creates_nothing(connection: KafkaConnection) -> None:
    await provision_topics(connection)
    again = await provision_topics(connection)
    assert again.created == ()
    assert set(again.existing) == {spec.name for spec in TOPICS}


async def test_unreachable_broker_raises_broker_unavailable() -> None:
    settings = load_settings(kafka_bootstrap="127.0.0.1:1", kafka_connect_timeout_s=0.5)
    with pytest.raises(BrokerUnavailableError, match=r"127\.0\.0\.1:1 is not reachable"):
        await provision_topics(KafkaConnection("127.0.0.1:1", settings))
