"""The hub's AsyncAPI 3.0 document, built from what describes the hub: nothing is started.

The sources are descriptions only:

- the topic catalogue (``hub.core.topics.TOPICS``): one channel per topic;
- the routes, as ``hub.app.runtime.route_descriptions`` lists their declarations: a receive
  operation per consumed topic, naming the consumer group, and a send operation for every
  topic a route publishes to (and for what the hub publishes beside its routes);
- the contract book: which partner topic gets which projection of which canonical schema, in
  which format;
- the canonical models: their JSON Schemas, nested models included, are the components.

The messages themselves (payload, headers, Kafka key) come from ``hub.spec.asyncapi_messages``.
No store is opened, no pseudonym secret is needed, no broker object is built: describing the
hub cannot touch its data directory. ``docs/asyncapi.yaml`` is the committed copy; ``hub
schemas check --asyncapi FILE`` fails when it differs from what the code generates.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel

from contracts import CONTRACT_DIR
from hub import __version__
from hub.app.runtime import renderers_for, route_descriptions
from hub.connector import Connector
from hub.core.json_refs import reachable
from hub.core.topics import AUDIT_TOPIC, DEADLETTER_TOPIC, TOPICS, TopicKind, TopicSpec
from hub.distribution.contracts import AggregateReceipt, ContractBook, Receipt, load_contract_book
from hub.distribution.projection_schema import event_type_of, projected_schema
from hub.distribution.rendering import CLOUDEVENTS_JSON, Renderer
from hub.routing.description import RouteDescription
from hub.share.publication import FAMILY as STATEMENT_FAMILY
from hub.share.publication import STATEMENT_SCHEMA, statement_message
from hub.spec.asyncapi_messages import (
    BINDING_VERSION,
    aggregate_message,
    audit_record_message,
    canonical_message,
    checkpoint_anchor_message,
    dead_letter_message,
    delivery_message,
    inbound_message,
)
from schemas.catalogue import DOCUMENT_TYPES, EVENT_TYPES

__all__ = [
    "HubDescription",
    "SchemaNameClashError",
    "asyncapi_document",
    "asyncapi_drift",
    "describe_hub",
    "render_asyncapi",
]

_ASYNCAPI_VERSION: Final = "3.0.0"
_TITLE: Final = "Päijät-Häme employment data hub"
_DESCRIPTION: Final = (
    "Kafka topics of the hub: partners' own messages in (in.*), canonical CloudEvents "
    "(hub.*), what each partner's contract lets it receive (out.*), dead letters. Operations "
    "are the hub's: it receives on the topics its routes consume and sends to the rest. "
    "Compatibility of the canonical schemas: docs/canonical-events.md, 'Schema evolution'."
)
_SERVER: Final = {
    "hub": {
        "host": "{bootstrap}",
        "protocol": "kafka",
        "description": "The Kafka cluster the hub runs on (TLS/SASL as configured, see "
        "docs/operations.md).",
        "variables": {"bootstrap": {"description": "HUB_KAFKA_BOOTSTRAP: host:port of a broker."}},
    }
}
_COMPONENT_SCHEMAS: Final = "#/components/schemas/"


class SchemaNameClashError(ValueError):
    """Two different schemas would be one component: the document would describe one wrongly."""


@dataclass(frozen=True, slots=True)
class HubDescription:
    """What the document is made from: the hub's routes, contracts and formats, described."""

    routes: tuple[RouteDescription, ...]
    book: ContractBook
    renderers: Mapping[str, Renderer]


def describe_hub(
    connectors: Sequence[Connector], contracts_dir: Path = CONTRACT_DIR
) -> HubDescription:
    """The routes ``hub up`` runs with ``connectors`` and the contracts in ``contracts_dir``,
    described: no store opened, no secret read."""
    renderers = renderers_for(connectors)
    book = load_contract_book(renderers, contracts_dir)
    return HubDescription(tuple(route_descriptions(connectors, book)), book, renderers)


def asyncapi_document(
    connectors: Sequence[Connector] | None = None, contracts_dir: Path = CONTRACT_DIR
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the hub running ``connectors`` (default: all of them)
    under the contracts in ``contracts_dir`` (default: the packaged ones)."""
    if connectors is None:
        from connectors import CONNECTORS  # noqa: PLC0415 - hub must not import connectors at load.

        connectors = CONNECTORS
    hub = describe_hub(connectors, contracts_dir)
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    for spec in TOPICS:
        keys = []
        for message in _messages_of(spec, hub, schemas):
            messages[message["name"]] = message
            keys.append(message["name"])
        channels[spec.name] = {
            "address": spec.name,
            "description": _channel_description(spec),
            "servers": [{"$ref": "#/servers/hub"}],
            "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in keys},
            "bindings": {"kafka": {"topic": spec.name, "bindingVersion": BINDING_VERSION}},
        }
    used = reachable(messages, schemas, _COMPONENT_SCHEMAS)
    operations = _operations(hub, channels)
    return {
        "asyncapi": _ASYNCAPI_VERSION,
        "info": {"title": _TITLE, "version": __version__, "description": _DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": _SERVER,
        "channels": channels,
        "operations": {key: operations[key] for key in sorted(operations)},
        "components": {
            "messages": messages,
            "schemas": {name: schemas[name] for name in sorted(used)},
        },
    }


def render_asyncapi(document: Mapping[str, Any]) -> str:
    """The committed text: YAML in the document's own order."""
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100)


def asyncapi_drift(path: Path, expected: str) -> str | None:
    """A unified diff when ``path`` differs from ``expected`` (``None`` when equal)."""
    actual = path.read_text(encoding="utf-8") if path.exists() else ""
    if actual == expected:
        return None
    diff = difflib.unified_diff(
        actual.splitlines(keepends=True),
        expected.splitlines(keepends=True),
        fromfile=f"{path} (committed)",
        tofile=f"{path} (generated)",
    )
    return "".join(diff) or f"{path} is missing"


def _receipts(book: ContractBook) -> Iterator[tuple[str, Receipt]]:
    for partner, contract in book.contracts.items():
        for receipt in contract.receives:
            yield partner.value, receipt


def _aggregates(book: ContractBook) -> Iterator[tuple[str, AggregateReceipt]]:
    for partner, contract in book.contracts.items():
        for aggregate in contract.aggregates:
            yield partner.value, aggregate


def _channel_description(spec: TopicSpec) -> str:
    kept = "kept forever" if spec.keeps_forever else "kept for HUB_TOPIC_RETENTION_MS"
    partitions = "; one partition (total order)" if spec.partitions == 1 else ""
    return f"{spec.description} ({kept}{partitions})"


def _messages_of(
    spec: TopicSpec, hub: HubDescription, schemas: dict[str, Any]
) -> list[dict[str, Any]]:
    if spec.kind is TopicKind.CANONICAL and spec.family is not None:
        event_type = event_type_of(spec.family, spec.major)
        return [canonical_message(event_type, _add_model(EVENT_TYPES[event_type], schemas))]
    if spec.kind is TopicKind.INBOUND:
        return [inbound_message(spec)]
    if spec.kind is TopicKind.DEADLETTER:
        return [dead_letter_message()]
    if spec.kind is TopicKind.AUDIT:
        return [audit_record_message(), checkpoint_anchor_message()]
    if spec.kind is TopicKind.OUTBOUND:
        return _outbound_messages(spec, hub, schemas)
    return []


def _outbound_messages(
    spec: TopicSpec, hub: HubDescription, schemas: dict[str, Any]
) -> list[dict[str, Any]]:
    """A partner topic's messages: statements for the finance systems, else by contract."""
    if spec.family == STATEMENT_FAMILY:
        _add(schemas, "MunicipalShareStatement", STATEMENT_SCHEMA)
        return [statement_message(spec.name)]
    return [
        delivery_message(
            partner, receipt, hub.renderers[receipt.format], _payload(receipt, schemas)
        )
        for partner, receipt in _receipts(hub.book)
        if receipt.topic == spec.name
    ] + [
        aggregate_message(
            partner, aggregate, _add_model(DOCUMENT_TYPES[aggregate.document], schemas)
        )
        for partner, aggregate in _aggregates(hub.book)
        if aggregate.topic == spec.name
    ]


def _add(schemas: dict[str, Any], name: str, schema: Mapping[str, Any]) -> None:
    """``schema`` as the component ``name``; the same schema twice is one component."""
    known = schemas.setdefault(name, schema)
    if known != schema:
        raise SchemaNameClashError(f"two different schemas are named {name!r}")


def _add_model(model: type[BaseModel], schemas: dict[str, Any]) -> str:
    """The model's JSON Schema and its nested models' as components; the model's name.

    Pydantic's ``$defs`` become components of their own (refs rebased), the way code
    generators and AsyncAPI tools expect to find them.
    """
    schema = _to_components(model.model_json_schema(mode="validation"))
    for name, definition in schema.pop("$defs", {}).items():
        _add(schemas, name, definition)
    name = model.__name__
    _add(schemas, name, schema)
    return name


def _to_components(node: Any) -> Any:
    """``#/$defs/X`` → ``#/components/schemas/X``; an OpenAPI-style discriminator object →
    its property name, which is what an AsyncAPI Schema Object's ``discriminator`` holds."""
    if isinstance(node, Mapping):
        moved = {
            key: value.replace("#/$defs/", _COMPONENT_SCHEMAS)
            if key == "$ref" and isinstance(value, str)
            else _to_components(value)
            for key, value in node.items()
        }
        discriminator = moved.get("discriminator")
        if isinstance(discriminator, Mapping) and "propertyName" in discriminator:
            moved["discriminator"] = discriminator["propertyName"]
        return moved
    if isinstance(node, list):
        return [_to_components(item) for item in node]
    return node


def _payload(receipt: Receipt, schemas: dict[str, Any]) -> dict[str, Any]:
    """CloudEvents JSON: the projected schema, its definitions hoisted into components."""
    if receipt.format != CLOUDEVENTS_JSON.format:
        return {
            "type": "string",
            "description": f"{receipt.format}, rendered from the contract's fields only.",
        }
    prefix = receipt.topic + (f".{receipt.notice}" if receipt.notice else "") + "."
    projected = projected_schema(receipt)
    definitions = projected.pop("$defs")
    projected.pop("$schema", None)
    for name, definition in definitions.items():
        _add(schemas, prefix + name, _rebase(definition, prefix))
    _add(schemas, prefix + "event", _rebase(projected, prefix))
    return {"$ref": f"{_COMPONENT_SCHEMAS}{prefix}event"}


def _rebase(node: Any, prefix: str) -> Any:
    """``#/$defs/X`` → ``#/components/schemas/<prefix>X``."""
    if isinstance(node, Mapping):
        return {
            key: f"{_COMPONENT_SCHEMAS}{prefix}{value.rsplit('/', 1)[-1]}"
            if key == "$ref"
            else _rebase(value, prefix)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase(item, prefix) for item in node]
    return node


def _sent_topics(hub: HubDescription) -> set[str]:
    """Every topic the hub writes: what its routes publish, the dead letters any route may
    write, and what the hub publishes outside routes."""
    return {
        *(topic for route in hub.routes for topic in route.produces),
        DEADLETTER_TOPIC,
        # The audit stream (records and checkpoint anchors) beside the routes.
        AUDIT_TOPIC,
        # `hub share publish`: the finance systems' statements.
        *(spec.name for spec in TOPICS if spec.family == STATEMENT_FAMILY),
        # `hub stats send`: the aggregated documents the contracts name.
        *(aggregate.topic for _, aggregate in _aggregates(hub.book)),
    }


def _operations(hub: HubDescription, channels: Mapping[str, Any]) -> dict[str, Any]:
    """A receive operation per route and consumed topic (with its group), then the sends."""

    def operation(action: str, topic: str, title: str) -> dict[str, Any]:
        return {
            "action": action,
            "title": title,
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [
                {"$ref": f"#/channels/{topic}/messages/{key}"}
                for key in channels[topic]["messages"]
            ],
        }

    operations: dict[str, Any] = {}
    for route in hub.routes:
        group = route.consumer_group
        for topic in route.topics:
            receive = operation("receive", topic, f"{group} consumes {topic}")
            receive["bindings"] = {
                "kafka": {
                    "groupId": {"type": "string", "enum": [group]},
                    "bindingVersion": BINDING_VERSION,
                }
            }
            operations[f"{group}.{topic}"] = receive
    for topic in _sent_topics(hub):
        operations[f"hub.send.{topic}"] = operation("send", topic, f"the hub writes {topic}")
    return operations
