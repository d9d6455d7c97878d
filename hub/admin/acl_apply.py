"""Creating ACL bindings on a Kafka cluster (``hub acls generate --apply``).

aiokafka 0.14's admin client has no ``create_acls``; its protocol layer does have Kafka's
CreateAcls request (API key 30), which this module sends through aiokafka's public
``AIOKafkaClient``: one request per binding, to any broker (KRaft forwards it to the
controller). Creating a binding that exists already is no error in Kafka, so applying twice is
harmless. The principal running this needs ``ALTER`` on the cluster (a super user).

The numeric codes are Kafka's (``org.apache.kafka.common.resource.ResourceType``,
``PatternType``, ``acl.AclOperation``, ``acl.AclPermissionType``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from aiokafka import AIOKafkaClient
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    IncompatibleBrokerVersion,
    KafkaError,
    for_code,
)
from aiokafka.protocol.admin import CreateAclsRequest

from hub.admin.acls import AclBinding, Operation, PatternType, ResourceType
from hub.broker.bootstrap import start_client
from hub.broker.connection import KafkaConnection
from hub.core.errors import HubError

__all__ = ["AclApplyError", "apply_acls", "create_acls_request"]

RESOURCE_TYPE_CODES: Final = {
    ResourceType.TOPIC: 2,
    ResourceType.GROUP: 3,
    ResourceType.TRANSACTIONAL_ID: 5,
}
PATTERN_TYPE_CODES: Final = {PatternType.LITERAL: 3, PatternType.PREFIXED: 4}
OPERATION_CODES: Final = {
    Operation.READ: 3,
    Operation.WRITE: 4,
    Operation.CREATE: 5,
    Operation.DESCRIBE: 8,
}
_ALLOW: Final = 3


class AclApplyError(HubError):
    """The cluster did not create an ACL binding, or does not speak CreateAcls at all."""


def create_acls_request(binding: AclBinding) -> CreateAclsRequest:
    """Kafka's CreateAcls request for one binding."""
    if binding.permission != "ALLOW":  # pragma: no cover - the generator only allows
        raise ValueError(f"only ALLOW bindings are supported, not {binding.permission}")
    return CreateAclsRequest(
        RESOURCE_TYPE_CODES[binding.resource_type],
        binding.resource_name,
        PATTERN_TYPE_CODES[binding.pattern_type],
        binding.principal,
        binding.host,
        OPERATION_CODES[binding.operation],
        _ALLOW,
    )


def _describe(binding: AclBinding) -> str:
    return (
        f"{binding.operation.value} on {binding.resource_type.value.lower()} "
        f"{binding.resource_name} for {binding.principal}"
    )


def _check(response: Any, binding: AclBinding, connection: KafkaConnection) -> None:
    for code, message in response.creation_responses:
        if code == 0:
            continue
        error = for_code(code)
        if error is ClusterAuthorizationFailedError:
            # Kafka's own message here is a dump of the forwarded request: say what it means.
            user = connection.settings.kafka_sasl_username or "this client"
            raise AclApplyError(
                f"Kafka refused to create ACL {_describe(binding)}: {error.message} (error "
                f"{code}): {user!r} may not change ACLs; run this as a super user (ALTER on "
                "the cluster)"
            )
        detail = f": {message}" if message else ""
        raise AclApplyError(
            f"Kafka refused to create ACL {_describe(binding)}: {error.message} (error "
            f"{code}){detail}"
        )


async def apply_acls(connection: KafkaConnection, bindings: Iterable[AclBinding]) -> int:
    """Create every binding on the cluster; return how many were sent."""
    client = await start_client(
        connection,
        lambda: AIOKafkaClient(**connection.client_kwargs(), request_timeout_ms=10_000),
        AIOKafkaClient.bootstrap,
        AIOKafkaClient.close,
    )
    sent = 0
    try:
        for binding in bindings:
            try:
                response = await client.send(client.get_random_node(), create_acls_request(binding))
            except IncompatibleBrokerVersion:
                raise AclApplyError(
                    f"the broker at {connection.bootstrap} does not support CreateAcls; apply "
                    "the output of `hub acls generate` with kafka-acls.sh instead"
                ) from None
            except KafkaError as exc:
                raise AclApplyError(
                    f"creating ACL {_describe(binding)} failed: {type(exc).__name__} (does the "
                    f"broker at {connection.bootstrap} support ACLs?)"
                ) from None
            _check(response, binding, connection)
            sent += 1
    finally:
        await client.close()
    return sent
