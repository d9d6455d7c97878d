"""What a message on each kind of topic looks like, as AsyncAPI 3.0 message objects.

Payload, headers and Kafka key of canonical CloudEvents, partner deliveries, partner input,
dead letters and audit records, built from the constants the runtime uses to write them, so
the document cannot name a header the hub does not set. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from hub.audit.anchors import ANCHOR_CONTENT_TYPE, ANCHOR_KEY
from hub.audit.records import RECORD_FORMAT, Direction
from hub.audit.stream import AUDIT_CONTENT_TYPE
from hub.core.topics import TopicSpec
from hub.distribution.contracts import AggregateReceipt, Receipt
from hub.distribution.rendering import Renderer
from hub.routing.deadletter import (
    DLQ_CONNECTOR,
    DLQ_DETAIL,
    DLQ_ENCODING,
    DLQ_ORIGINAL_REASON,
    DLQ_ORIGINAL_SHA256,
    DLQ_ORIGINAL_SIZE,
    DLQ_QUARANTINE,
    DLQ_REASON,
    SOURCE_FILE,
    SOURCE_LINE,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TOPIC,
)
from schemas.envelope import CLOUDEVENTS_CONTENT_TYPE
from schemas.person_ref import PERSON_REF_PATTERN

__all__ = [
    "BINDING_VERSION",
    "aggregate_message",
    "audit_record_message",
    "canonical_message",
    "checkpoint_anchor_message",
    "dead_letter_message",
    "delivery_message",
    "inbound_message",
]

BINDING_VERSION: Final = "0.4.0"
CORRELATION_ID: Final = "correlation_id"

_PERSON_KEY: Final = {
    "type": "string",
    "pattern": PERSON_REF_PATTERN,
    "description": "The pseudonymous person reference (also the CloudEvents subject): every "
    "event of one person is in one partition, in order. Never the identity code.",
}
_CORRELATION: Final = {
    "location": f"$message.header#/{CORRELATION_ID}",
    "description": "The event id: a redelivered message carries the same value.",
}


def _text(description: str) -> dict[str, str]:
    return {"type": "string", "description": description}


def _headers(
    properties: Mapping[str, Mapping[str, Any]], required: Sequence[str]
) -> dict[str, Any]:
    return {"type": "object", "properties": dict(properties), "required": list(required)}


def _event_headers(content_type: str) -> dict[str, Any]:
    return _headers(
        {
            "content-type": {"type": "string", "const": content_type},
            CORRELATION_ID: _text("The id of the canonical event this message carries."),
        },
        ["content-type", CORRELATION_ID],
    )


def _keyed_by_person() -> dict[str, Any]:
    return {"kafka": {"key": dict(_PERSON_KEY), "bindingVersion": BINDING_VERSION}}


def canonical_message(event_type: str, payload_schema: str) -> dict[str, Any]:
    """A canonical event on ``hub.<family>.v<major>``: CloudEvents JSON, structured mode."""
    return {
        "name": event_type,
        "title": f"{event_type} (CloudEvents 1.0, structured mode)",
        "summary": "The whole event is the Kafka value; the personal identity code appears "
        "only inside data.",
        "contentType": CLOUDEVENTS_CONTENT_TYPE,
        "headers": _event_headers(CLOUDEVENTS_CONTENT_TYPE),
        "payload": {"$ref": f"#/components/schemas/{payload_schema}"},
        "correlationId": dict(_CORRELATION),
        "bindings": _keyed_by_person(),
    }


def delivery_message(
    partner: str, receipt: Receipt, renderer: Renderer, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """What ``partner`` receives on ``receipt.topic``: the projection, in its format."""
    notice = f" ({receipt.notice} notice)" if receipt.notice else ""
    return {
        "name": receipt.topic + (f".{receipt.notice}" if receipt.notice else ""),
        "title": f"{receipt.family} for {partner}{notice}, as {receipt.format}",
        "summary": f"Only the fields of the contract ({', '.join(receipt.fields)}); "
        f"condition {receipt.when}; legal basis {receipt.legal_basis.statute}, "
        f"{receipt.legal_basis.section}. See docs/contracts/{partner}.md.",
        "contentType": renderer.content_type,
        "headers": _event_headers(renderer.content_type),
        "payload": dict(payload),
        "correlationId": dict(_CORRELATION),
        "bindings": _keyed_by_person(),
    }


def aggregate_message(
    partner: str, aggregate: AggregateReceipt, payload_schema: str
) -> dict[str, Any]:
    """A document of aggregated figures ``partner`` receives: about no person at all."""
    return {
        "name": f"{aggregate.topic}.{aggregate.document}",
        "title": f"{aggregate.document} for {partner} (CloudEvents 1.0, structured mode)",
        "summary": f"{aggregate.contents} Legal basis {aggregate.legal_basis.statute}, "
        f"{aggregate.legal_basis.section}. See docs/contracts/{partner}.md.",
        "contentType": CLOUDEVENTS_CONTENT_TYPE,
        "headers": _event_headers(CLOUDEVENTS_CONTENT_TYPE),
        "payload": {"$ref": f"#/components/schemas/{payload_schema}"},
        "correlationId": dict(_CORRELATION),
        "bindings": {
            "kafka": {
                "key": _text("<area>/<month> (the CloudEvents subject): never a person."),
                "bindingVersion": BINDING_VERSION,
            }
        },
    }


def inbound_message(spec: TopicSpec) -> dict[str, Any]:
    """A partner's own message entering the hub on ``in.<partner>.<family>``."""
    partner = spec.name.split(".")[1]
    return {
        "name": spec.name,
        "title": f"{spec.family} from {partner}, in the partner's own format",
        "summary": "Specified by the partner's interface document (docs/partners/). Keyed by "
        "something stable that is not the identity code. What cannot be read goes to "
        "hub.deadletter.v1.",
        "payload": {
            "description": "The partner's bytes, exactly as its interface document describes them."
        },
    }


def dead_letter_message() -> dict[str, Any]:
    """A message the hub could not handle: the original bytes, and why, as headers."""
    source = "Where it came from (a topic, or a file for `hub ingest`)."
    return {
        "name": "dead-letter",
        "title": "A message the hub could not parse, validate, translate or route",
        "summary": "The original value, unchanged; the original key is not copied. A dead "
        "letter larger than the broker takes is gzip-compressed, or (reason "
        "too-large-quarantined) its bytes are kept in the hub's quarantine store and the value "
        "is empty (docs/operations.md, Dead letters).",
        "headers": _headers(
            {
                DLQ_REASON: _text(
                    "Short stable reason code, e.g. malformed-json; too-large-quarantined and "
                    "retries-exhausted come from the hub itself."
                ),
                DLQ_DETAIL: _text("For people; identity codes masked; at most 1000 characters."),
                DLQ_CONNECTOR: _text("The connector that gave up on it."),
                SOURCE_TOPIC: _text(source),
                SOURCE_PARTITION: _text(source),
                SOURCE_OFFSET: _text(source),
                SOURCE_FILE: _text(source),
                SOURCE_LINE: _text(source),
                DLQ_ENCODING: _text("gzip when the value is the gzip of the original bytes."),
                DLQ_ORIGINAL_SIZE: _text("Compressed or quarantined: the original size in bytes."),
                DLQ_ORIGINAL_SHA256: _text(
                    "Compressed or quarantined: the SHA-256 of the original bytes (hex)."
                ),
                DLQ_QUARANTINE: _text("Quarantined: the reference of the quarantine entry."),
                DLQ_ORIGINAL_REASON: _text("Quarantined: the reason it was first dead-lettered."),
            },
            [DLQ_REASON, DLQ_DETAIL, DLQ_CONNECTOR],
        ),
        "payload": {
            "description": "The original message value, byte for byte (gzip-compressed with "
            "hub-dlq-encoding: gzip; empty when quarantined)."
        },
    }


def _nullable(kind: str, description: str) -> dict[str, Any]:
    return {"type": [kind, "null"], "description": description}


def audit_record_message() -> dict[str, Any]:
    """A record of the audit log on ``hub.audit.v1``: every field of the record but its
    payload (which may hold an identity code; its digest is there). docs/audit.md."""
    return {
        "name": "audit-record",
        "title": "A record of the audit log, without its payload",
        "summary": "Published after the record is committed, chain by chain in order; a "
        "record may come twice (after a crash, or from several instances): deduplicate on "
        "(chain, seq). See docs/audit.md.",
        "contentType": AUDIT_CONTENT_TYPE,
        "headers": _headers({"content-type": _text(AUDIT_CONTENT_TYPE)}, ["content-type"]),
        "payload": {
            "type": "object",
            "additionalProperties": False,
            "required": list(_AUDIT_RECORD_PROPERTIES),
            "properties": _AUDIT_RECORD_PROPERTIES,
        },
        "bindings": {
            "kafka": {
                "key": _text("The chain: consumer group/topic/partition, or file/kela."),
                "bindingVersion": BINDING_VERSION,
            }
        },
    }


def checkpoint_anchor_message() -> dict[str, Any]:
    """The anchor of a signed audit checkpoint on ``hub.audit.v1`` (hub.audit.anchors)."""
    return {
        "name": "checkpoint-anchor",
        "title": "A signed checkpoint of the audit chains, anchored outside the audit store",
        "summary": "Published once the checkpoint is committed (possibly twice: one checkpoint "
        "number, one anchor). hub audit verify holds the store against the newest one whose "
        "signature holds. See docs/audit.md.",
        "contentType": ANCHOR_CONTENT_TYPE,
        "headers": _headers({"content-type": _text(ANCHOR_CONTENT_TYPE)}, ["content-type"]),
        "payload": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", "checkpoint", "created_at", "body", "signature"],
            "properties": {
                "kind": {"const": "checkpoint-anchor", "description": "What the message is."},
                "checkpoint": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "The checkpoint's number in the audit store.",
                },
                "created_at": _text("When it was signed, ISO 8601 UTC."),
                "body": _text(
                    "The exact signed text: JSON with created_at, heads (chain: seq and hash), "
                    "key (fingerprint) and previous (SHA-256 of the previous signature)."
                ),
                "signature": _text("Ed25519 signature of body, base64."),
            },
        },
        "bindings": {
            "kafka": {
                "key": {"const": ANCHOR_KEY.decode(), "description": "Every anchor, one key."},
                "bindingVersion": BINDING_VERSION,
            }
        },
    }


_SHA256: Final = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_AUDIT_RECORD_PROPERTIES: Final[dict[str, Any]] = {
    "chain": _text("The hash chain: consumer group/topic/partition, or file/kela."),
    "seq": {"type": "integer", "minimum": 1, "description": "Position in the chain."},
    "recorded_at": _text("When it was recorded, ISO 8601 UTC."),
    "direction": {
        "type": "string",
        "enum": [d.value for d in Direction],
        "description": "What happened to the message the record stands for.",
    },
    "topic": _nullable("string", "The topic read or written."),
    "partition": _nullable("integer", "Its partition."),
    "offset": _nullable("integer", "Its offset (for the Kela file: the line number)."),
    "event_id": _nullable("string", "The canonical event's id."),
    "event_type": _nullable("string", "The canonical event's type."),
    "partner": _nullable("string", "The partner that received it (a disclosure)."),
    "person_ref": _nullable("string", "The pseudonymous person reference; never the code."),
    "legal_basis": _nullable("string", "The contract's legal basis of a disclosure."),
    "fields": {
        "type": "array",
        "items": {"type": "string"},
        "description": "The fields the partner received.",
    },
    "detail": _nullable("string", "Why it was dead-lettered; identity codes masked."),
    "replay_of": _nullable("string", "The original event id, for a replayed message."),
    "redelivered": {"type": "boolean", "description": "Seen before: a redelivery."},
    "payload_sha256": {**_SHA256, "description": "SHA-256 of the message value."},
    "prev_hash": {**_SHA256, "description": "The hash of the record before it in the chain."},
    "hash": {**_SHA256, "description": "This record's hash (hub audit verify recomputes it)."},
    "format": {
        "type": "integer",
        "enum": list(range(1, RECORD_FORMAT + 1)),
        "description": "Record format: from 2 on, the hash covers seq and format too.",
    },
}
