"""Route descriptions: the routes ``hub up`` builds, said without building them."""

from __future__ import annotations

from pathlib import Path

from connectors import CONNECTORS
from hub.app.runtime import contract_book_for, route_descriptions, routes_for
from hub.core.settings import HubSettings
from hub.core.topics import DEADLETTER_TOPIC, TOPICS
from hub.routing.description import RouteDescription
from hub.routing.pipeline import Accepted


def _accept(_value: bytes) -> Accepted:
    return Accepted([])


def test_a_route_is_built_from_its_description() -> None:
    described = RouteDescription("probe", ("in.a", "in.b"), ("hub.x.v1",), group_id="g")

    route = described.route(_accept)

    assert (route.connector, route.topics, route.group_id) == ("probe", ("in.a", "in.b"), "g")
    assert route.translate is _accept
    assert route.consumer_group == described.consumer_group == "g"


def test_without_a_group_the_description_names_the_group_the_route_joins() -> None:
    described = RouteDescription("probe", ("in.a",))

    assert described.consumer_group == described.route(_accept).consumer_group == "hub.probe"


def test_the_descriptions_are_the_routes_hub_up_builds_in_its_order(tmp_path: Path) -> None:
    settings = HubSettings.model_construct(data_dir=tmp_path)
    built = routes_for(settings, CONNECTORS, b"x" * 32)

    described = route_descriptions(CONNECTORS, contract_book_for(settings, CONNECTORS))

    assert [(d.connector, d.topics, d.consumer_group) for d in described] == [
        (r.connector, r.topics, r.consumer_group) for r in built
    ]


def test_routes_publish_only_to_catalogued_topics_and_never_name_the_dead_letter_topic(
    tmp_path: Path,
) -> None:
    settings = HubSettings.model_construct(data_dir=tmp_path)
    catalogued = {spec.name for spec in TOPICS}

    described = route_descriptions(CONNECTORS, contract_book_for(settings, CONNECTORS))

    produced = {topic for d in described for topic in d.produces}
    assert produced <= catalogued - {DEADLETTER_TOPIC}
    assert {topic for d in described for topic in d.topics} <= catalogued
