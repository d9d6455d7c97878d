"""The hub's AsyncAPI 3.0 document, generated from the FastStream application it runs.

``asyncapi_document`` builds the application ``hub up`` runs: the same routes
(``hub.runtime.routes_for``) subscribed through the same ``hub.pipeline.wire_route`` on a
``KafkaBroker`` that is never connected, plus the publishers those routes write to (canonical
topics with their CloudEvents models, the partner topics the contracts name, the dead-letter
topic). FastStream describes it; its JSON Schemas of the canonical models (nested ``data``
models included) become the components. What FastStream cannot know is completed from the
hub's own catalogue: raw handlers carry no message schema, so every topic of
``hub.topics.TOPICS`` becomes one channel with its messages (payload, CloudEvents headers,
Kafka key), and every receive operation names its consumer group.

``docs/asyncapi.yaml`` is the committed copy; ``hub schemas check --asyncapi FILE`` fails when
it differs from what the code generates. Never connects to Kafka; the routes' stores are
opened in a temporary directory that is removed.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from faststream.kafka import KafkaBroker
from faststream.kafka.publisher.usecase import LogicPublisher
from faststream.kafka.subscriber.usecase import LogicSubscriber
from faststream.specification import AsyncAPI

from hub import __version__
from hub.asyncapi_messages import (
    BINDING_VERSION,
    aggregate_message,
    audit_record_message,
    canonical_message,
    checkpoint_anchor_message,
    dead_letter_message,
    delivery_message,
    inbound_message,
)
from hub.connector import Connector
from hub.contracts import AggregateReceipt, ContractBook, Receipt
from hub.json_refs import reachable
from hub.pipeline import Route, wire_route
from hub.projection_schema import event_type_of, projected_schema
from hub.rendering import CLOUDEVENTS_JSON, Renderer
from hub.runtime import contract_book_for, renderers_for, routes_for
from hub.settings import HubSettings
from hub.share.publication import FAMILY as STATEMENT_FAMILY
from hub.share.publication import STATEMENT_SCHEMA, statement_message
from hub.topics import AUDIT_TOPIC, DEADLETTER_TOPIC, TOPICS, TopicKind, TopicSpec
from schemas.catalogue import DOCUMENT_TYPES, EVENT_TYPES

__all__ = ["HubApplication", "asyncapi_document", "asyncapi_drift", "render_asyncapi"]

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
#: A broker address for the application object only: it is never connected.
_UNCONNECTED: Final = "localhost:9092"
#: Secret for building routes whose translations never run.
_UNUSED_SECRET: Final = b"asyncapi-document-never-translates"


@dataclass(frozen=True, slots=True)
class HubApplication:
    """The hub's FastStream application, unconnected, with what describes its outputs."""

    broker: KafkaBroker
    routes: list[Route]
    book: ContractBook
    renderers: Mapping[str, Renderer]


def build_application(connectors: Sequence[Connector], data_dir: Path) -> HubApplication:
    """The routes ``hub up`` runs, wired on an unconnected broker, and their publishers."""
    settings = HubSettings.model_construct(data_dir=data_dir)
    routes = routes_for(settings, connectors, _UNUSED_SECRET)
    broker = KafkaBroker(_UNCONNECTED)
    for route in routes:
        wire_route(broker, route)
    for spec in TOPICS:
        if spec.kind is TopicKind.CANONICAL and spec.family is not None:
            model = EVENT_TYPES[event_type_of(spec.family, spec.major)]
            broker.publisher(spec.name, schema=model, title=spec.name)
    book = contract_book_for(settings, connectors)
    for topic in dict.fromkeys(receipt.topic for _, receipt in _receipts(book)):
        broker.publisher(topic, title=topic)
    for spec in TOPICS:
        if spec.family == STATEMENT_FAMILY:
            broker.publisher(spec.name, title=spec.name)
    for _, aggregate in _aggregates(book):
        document = DOCUMENT_TYPES[aggregate.document]
        broker.publisher(aggregate.topic, schema=document, title=aggregate.topic)
    broker.publisher(DEADLETTER_TOPIC, title=DEADLETTER_TOPIC)
    broker.publisher(AUDIT_TOPIC, title=AUDIT_TOPIC)
    return HubApplication(broker, routes, book, renderers_for(connectors))


def asyncapi_document(connectors: Sequence[Connector] | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the hub running ``connectors`` (default: all of them)."""
    if connectors is None:
        from connectors import CONNECTORS  # noqa: PLC0415 - hub must not import connectors at load.

        connectors = CONNECTORS
    with tempfile.TemporaryDirectory(prefix="hub-asyncapi-") as data_dir:
        app = build_application(connectors, Path(data_dir))
        generated = AsyncAPI(
            app.broker,
            title=_TITLE,
            version=__version__,
            description=_DESCRIPTION,
            schema_version="3.0.0",
        ).to_specification()
        return _complete(generated.to_jsonable(), app)


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


def _complete(generated: Mapping[str, Any], app: HubApplication) -> dict[str, Any]:
    """FastStream's document, with one channel per topic and the messages it cannot know."""
    schemas = dict(generated["components"]["schemas"])
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    for spec in TOPICS:
        keys = []
        for message in _messages_of(spec, app, schemas):
            messages[message["name"]] = message
            keys.append(message["name"])
        channels[spec.name] = {
            "address": spec.name,
            "description": _channel_description(spec),
            "servers": [{"$ref": "#/servers/hub"}],
            "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in keys},
            "bindings": {"kafka": {"topic": spec.name, "bindingVersion": BINDING_VERSION}},
        }
    # Raw handlers' placeholder payloads are referred to by nothing now, and go.
    used = reachable(messages, schemas, "#/components/schemas/")
    operations = _operations(app.broker, channels)
    return {
        "asyncapi": generated["asyncapi"],
        "info": generated["info"],
        "defaultContentType": "application/json",
        "servers": _SERVER,
        "channels": channels,
        # FastStream keeps subscribers and publishers in no stable order: sort what it gave.
        "operations": {key: operations[key] for key in sorted(operations)},
        "components": {
            "messages": messages,
            "schemas": {name: schemas[name] for name in sorted(used)},
        },
    }


def _channel_description(spec: TopicSpec) -> str:
    kept = "kept forever" if spec.keeps_forever else "kept for HUB_TOPIC_RETENTION_MS"
    partitions = "; one partition (total order)" if spec.partitions == 1 else ""
    return f"{spec.description} ({kept}{partitions})"


def _messages_of(
    spec: TopicSpec, app: HubApplication, schemas: dict[str, Any]
) -> list[dict[str, Any]]:
    if spec.kind is TopicKind.CANONICAL and spec.family is not None:
        model = EVENT_TYPES[event_type_of(spec.family, spec.major)]
        name = model.__name__
        if name not in schemas:
            raise LookupError(f"FastStream described no schema {name} for {spec.name}")
        return [canonical_message(event_type_of(spec.family, spec.major), name)]
    if spec.kind is TopicKind.INBOUND:
        return [inbound_message(spec)]
    if spec.kind is TopicKind.DEADLETTER:
        return [dead_letter_message()]
    if spec.kind is TopicKind.AUDIT:
        return [audit_record_message(), checkpoint_anchor_message()]
    if spec.kind is TopicKind.OUTBOUND:
        return _outbound_messages(spec, app, schemas)
    return []


def _outbound_messages(
    spec: TopicSpec, app: HubApplication, schemas: dict[str, Any]
) -> list[dict[str, Any]]:
    """A partner topic's messages: statements for the finance systems, else by contract."""
    if spec.family == STATEMENT_FAMILY:
        schemas["MunicipalShareStatement"] = STATEMENT_SCHEMA
        return [statement_message(spec.name)]
    return [
        delivery_message(
            partner, receipt, app.renderers[receipt.format], _payload(receipt, schemas)
        )
        for partner, receipt in _receipts(app.book)
        if receipt.topic == spec.name
    ] + [
        aggregate_message(partner, aggregate, _model_schema(aggregate, schemas))
        for partner, aggregate in _aggregates(app.book)
        if aggregate.topic == spec.name
    ]


def _model_schema(aggregate: AggregateReceipt, schemas: Mapping[str, Any]) -> str:
    name = DOCUMENT_TYPES[aggregate.document].__name__
    if name not in schemas:
        raise LookupError(f"FastStream described no schema {name} for {aggregate.topic}")
    return name


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
        schemas[prefix + name] = _rebase(definition, prefix)
    schemas[prefix + "event"] = _rebase(projected, prefix)
    return {"$ref": f"#/components/schemas/{prefix}event"}


def _rebase(node: Any, prefix: str) -> Any:
    """``#/$defs/X`` → ``#/components/schemas/<prefix>X``."""
    if isinstance(node, Mapping):
        return {
            key: f"#/components/schemas/{prefix}{value.rsplit('/', 1)[-1]}"
            if key == "$ref"
            else _rebase(value, prefix)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase(item, prefix) for item in node]
    return node


def _operations(broker: KafkaBroker, channels: Mapping[str, Any]) -> dict[str, Any]:
    """Receive operations of the real subscribers (with their groups), then the sends."""

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
    for subscriber in broker.subscribers:
        if not isinstance(subscriber, LogicSubscriber):
            raise TypeError(f"not a Kafka subscriber: {subscriber!r}")
        group = str(subscriber.group_id)
        for topic in subscriber.topic_names:
            receive = operation("receive", topic, f"{group} consumes {topic}")
            receive["bindings"] = {
                "kafka": {
                    "groupId": {"type": "string", "enum": [group]},
                    "bindingVersion": BINDING_VERSION,
                }
            }
            operations[f"{group}.{topic}"] = receive
    for publisher in broker.publishers:
        if not isinstance(publisher, LogicPublisher):
            raise TypeError(f"not a Kafka publisher: {publisher!r}")
        topic = publisher.topic
        operations[f"hub.send.{topic}"] = operation("send", topic, f"the hub writes {topic}")
    return operations
