"""The CreateAcls request ``hub acls generate --apply`` sends, decoded as Kafka's protocol says.

aiokafka's admin client has no ``create_acls``, so the hub builds the request itself; this
reads the encoded bytes back field by field (CreateAcls v1, KIP-290) and compares them with the
codes of Kafka's ``ResourceType``, ``PatternType``, ``AclOperation`` and ``AclPermissionType``.
"""

from __future__ import annotations

import io
import struct

import pytest

from hub.admin.acl_apply import create_acls_request
from hub.admin.acls import AclBinding, Operation, PatternType, ResourceType

#: Kafka's own numbers (org.apache.kafka.common.acl / .resource).
KAFKA_RESOURCE_TYPE = {"TOPIC": 2, "GROUP": 3}
KAFKA_PATTERN_TYPE = {"LITERAL": 3, "PREFIXED": 4}
KAFKA_OPERATION = {"READ": 3, "WRITE": 4, "CREATE": 5, "DESCRIBE": 8}
KAFKA_ALLOW = 3


def _string(stream: io.BytesIO) -> str:
    (length,) = struct.unpack(">h", stream.read(2))
    return stream.read(length).decode("utf-8")


def _int8(stream: io.BytesIO) -> int:
    return int(struct.unpack(">b", stream.read(1))[0])


def _decode_v1(payload: bytes) -> list[tuple[int, str, int, str, str, int, int]]:
    stream = io.BytesIO(payload)
    (count,) = struct.unpack(">i", stream.read(4))
    creations = [
        (
            _int8(stream),
            _string(stream),
            _int8(stream),
            _string(stream),
            _string(stream),
            _int8(stream),
            _int8(stream),
        )
        for _ in range(count)
    ]
    assert stream.read() == b""
    return creations


@pytest.mark.parametrize(
    "binding",
    [
        AclBinding(
            "User:lahti", ResourceType.TOPIC, PatternType.LITERAL, "in.lahti.x", Operation.WRITE
        ),
        AclBinding(
            "User:lahti", ResourceType.GROUP, PatternType.PREFIXED, "lahti.", Operation.READ
        ),
        AclBinding(
            "User:hub", ResourceType.TOPIC, PatternType.LITERAL, "hub.a.v1", Operation.CREATE
        ),
        AclBinding(
            "User:sote", ResourceType.TOPIC, PatternType.LITERAL, "out.sote.y", Operation.DESCRIBE
        ),
    ],
    ids=lambda b: f"{b.operation}-{b.resource_type}",
)
def test_the_request_carries_kafkas_codes_for_the_binding(binding: AclBinding) -> None:
    request = create_acls_request(binding).prepare({30: (0, 1)})
    assert request.API_VERSION == 1
    assert _decode_v1(request.encode()) == [
        (
            KAFKA_RESOURCE_TYPE[binding.resource_type.value],
            binding.resource_name,
            KAFKA_PATTERN_TYPE[binding.pattern_type.value],
            binding.principal,
            "*",
            KAFKA_OPERATION[binding.operation.value],
            KAFKA_ALLOW,
        )
    ]
