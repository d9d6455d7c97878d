"""Creating the catalogue's topics, idempotently, on the local broker or a real cluster."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CoordinatorNotAvailableError, for_code

from hub.broker.bootstrap import start_client
from hub.broker.connection import KafkaConnection
from hub.broker.diagnosis import AUTHORIZATION_ERRORS, operation_error
from hub.core.errors import HubError
from hub.core.logs import get_logger
from hub.core.topics import TOPICS, TopicSpec, topic_configs

__all__ = [
    "ProvisionResult",
    "TopicProvisioningError",
    "list_topics",
    "provision_topics",
    "wait_for_group_coordinators",
]

_TOPIC_ALREADY_EXISTS = 36
_COORDINATOR_POLL_S = 0.2
log = get_logger(__name__)


class TopicProvisioningError(HubError):
    """The broker refused to create a topic for a reason other than it already existing."""


@dataclass(frozen=True)
class ProvisionResult:
    """What provisioning did: topics created now and topics that already existed."""

    created: tuple[str, ...]
    existing: tuple[str, ...]


async def _admin(connection: KafkaConnection) -> AIOKafkaAdminClient:
    return await start_client(
        connection,
        lambda: AIOKafkaAdminClient(**connection.client_kwargs(), request_timeout_ms=10_000),
        AIOKafkaAdminClient.start,
        AIOKafkaAdminClient.close,
    )


async def provision_topics(
    connection: KafkaConnection,
    topics: tuple[TopicSpec, ...] = TOPICS,
) -> ProvisionResult:
    """Create every topic that does not exist yet; existing topics are left as they are."""
    settings = connection.settings
    admin = await _admin(connection)
    try:
        response = await admin.create_topics(
            [
                NewTopic(
                    spec.name,
                    spec.partitions or settings.topic_partitions,
                    settings.topic_replication_factor,
                    topic_configs=topic_configs(spec, settings.topic_retention_ms),
                )
                for spec in topics
            ]
        )
    finally:
        await admin.close()
    created, existing = [], []
    for name, code, message in (error[:3] for error in response.topic_errors):
        if code == 0:
            created.append(name)
        elif code == _TOPIC_ALREADY_EXISTS:
            existing.append(name)
        elif issubclass(for_code(code), AUTHORIZATION_ERRORS):
            raise operation_error(connection, for_code(code)(), f"to create topic {name}")
        else:
            raise TopicProvisioningError(f"cannot create topic {name}: error {code} {message}")
    log.info("topics provisioned", created=len(created), existing=len(existing))
    return ProvisionResult(tuple(created), tuple(existing))


async def list_topics(connection: KafkaConnection) -> dict[str, int]:
    """Every topic on the broker (internal ones excluded) with its partition count."""
    admin = await _admin(connection)
    try:
        names = [name for name in await admin.list_topics() if not name.startswith("__")]
        described = await admin.describe_topics(names) if names else []
    finally:
        await admin.close()
    return {
        str(topic["topic"]): len(topic["partitions"])
        for topic in described
        if topic.get("error_code", 0) == 0
    }


async def wait_for_group_coordinators(
    connection: KafkaConnection, groups: Iterable[str], timeout_s: float = 60.0
) -> None:
    """Wait until the broker names a coordinator for each consumer group.

    A freshly formatted broker creates its offsets topic on the first request for a group
    coordinator; until it has, every consumer logs "GroupCoordinatorNotAvailableError" and
    "Marking the coordinator dead" once per group. Asking first keeps those lines for real
    outages. After ``timeout_s`` the consumers start anyway and retry on their own.
    """
    admin = await _admin(connection)
    try:
        async with asyncio.timeout(timeout_s):
            for group in sorted(set(groups)):
                while True:
                    try:
                        await admin.find_coordinator(group)
                        break
                    except CoordinatorNotAvailableError:
                        await asyncio.sleep(_COORDINATOR_POLL_S)
    except TimeoutError:
        log.warning("no group coordinator yet; consumers retry on their own", waited_s=timeout_s)
    finally:
        await admin.close()
