"""One way to build a canonical event's Kafka message (``hub.routing.canonical_outgoing``)."""

from __future__ import annotations

import ast
from pathlib import Path

import orjson
import pytest

from hub.audit.facts import canonical_facts
from hub.core.topics import TOPICS, TopicKind
from hub.routing.canonical_outgoing import (
    CONTENT_TYPE,
    NotACanonicalTypeError,
    canonical_outgoing,
    topic_of_type,
)
from schemas.catalogue import EVENT_TYPES
from schemas.envelope import CLOUDEVENTS_CONTENT_TYPE
from tests.support import CODE, benefit_day_event, client_status_event

_ROOT = Path(__file__).resolve().parents[4]


def test_every_event_type_names_a_catalogued_canonical_topic() -> None:
    canonical = {spec.name for spec in TOPICS if spec.kind is TopicKind.CANONICAL}
    assert {topic_of_type(event_type) for event_type in EVENT_TYPES} == canonical


@pytest.mark.parametrize(
    ("event_type", "topic"),
    [
        ("fi.paijathame.hub.client-status.v1", "hub.client-status.v1"),
        ("fi.paijathame.hub.benefit-day.v2", "hub.benefit-day.v2"),
        ("fi.paijathame.hub.x.v10", "hub.x.v10"),
    ],
)
def test_the_topic_is_the_one_the_type_names(event_type: str, topic: str) -> None:
    assert topic_of_type(event_type) == topic


@pytest.mark.parametrize(
    "event_type",
    [
        "",
        "fi.paijathame.hub.",
        "fi.paijathame.hub.client-status",
        "fi.paijathame.hub.client-status.v",
        "fi.paijathame.hub.client-status.v0",
        "fi.paijathame.hub.client-status.1",
        "fi.paijathame.hub.client-status.vx",
        "fi.paijathame.hub.client-status.v\u0661",  # an Arabic-Indic one: a digit, not ASCII
        "fi.paijathame.hub..v1",
        "fi.paijathame.hub.a.b.v1",
        "com.example.client-status.v1",
        "client-status.v1",
    ],
)
def test_a_type_outside_the_rule_names_no_topic(event_type: str) -> None:
    with pytest.raises(NotACanonicalTypeError, match="is not a canonical event type"):
        topic_of_type(event_type)


def test_the_message_is_keyed_by_person_with_its_content_type_id_and_facts() -> None:
    event = client_status_event()
    message = canonical_outgoing(event)
    assert message.topic == "hub.client-status.v1"
    assert message.key == event.subject.encode()
    assert message.key.startswith(b"p-")
    assert CODE.encode() not in message.key
    assert dict(message.headers) == {CONTENT_TYPE: CLOUDEVENTS_CONTENT_TYPE}
    assert orjson.loads(message.value) == orjson.loads(event.model_dump_json())
    assert message.event_id == event.id
    # What the audit would otherwise parse back out of the value.
    assert message.facts == canonical_facts(message.value)
    assert message.facts is not None
    assert message.facts.person_ref == event.subject


def test_the_benefit_day_event_goes_to_its_own_version() -> None:
    assert canonical_outgoing(benefit_day_event()).topic == "hub.benefit-day.v1"


#: Modules that build an ``Outgoing`` by hand, and why each may: none of them carries a
#: canonical event.
_BY_HAND = {
    "hub/routing/canonical_outgoing.py": "the helper itself",
    "hub/routing/pipeline.py": "dead letters",
    "hub/distribution/routes.py": "partner messages on out.* topics",
}


def test_no_other_module_builds_an_outgoing_by_hand() -> None:
    found = set()
    for package in ("hub", "connectors"):
        for path in sorted((_ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Outgoing"
                for node in ast.walk(tree)
            ):
                found.add(str(path.relative_to(_ROOT)))
    assert found == set(_BY_HAND), "build canonical messages with canonical_outgoing"
