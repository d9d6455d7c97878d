"""What a route declares it publishes is what it publishes: the partners' example messages go
through the routes ``hub up`` runs, each output on to the routes that consume its topic, and
every route's outputs land on the topics of its ``RouteDescription`` (which the AsyncAPI
document's send operations are made from)."""

from __future__ import annotations

from collections import defaultdict, deque

import pytest

from connectors import CONNECTORS
from connectors.kela.wiring import IN_TOPIC as KELA_IN
from connectors.sote.wiring import IN_TOPIC as SOTE_IN
from hub.app.runtime import contract_book_for, route_descriptions, routes_for
from hub.core.settings import load_settings
from hub.routing.description import RouteDescription
from hub.routing.pipeline import Accepted, Outgoing, Route
from schemas.codes import Authority
from tests.fuzz.corpus import authority_seeds, kela_seeds, task_seeds
from tests.support import SECRET


def _inputs() -> list[tuple[str, bytes]]:
    """Every example message on the topic it arrives on: Kela's lines, both authorities'
    messages, Päijät-Sote's Tasks (last: the referrals they answer go round first)."""
    inputs = [(KELA_IN, line) for line in kela_seeds()]
    # Referrals first: Päijät-Sote hears of a client's status only once a referral is open.
    for family in ("service-referral", "client-status"):
        for seed in authority_seeds(family):
            inputs += [(f"in.{authority.value}.{family}", seed) for authority in Authority]
    return inputs + [(SOTE_IN, task) for task in task_seeds()]


def _published(routes: list[Route]) -> dict[str, set[str]]:
    """Per route, the topics of everything it published while the examples went round."""
    consumers: dict[str, list[Route]] = defaultdict(list)
    for route in routes:
        for topic in route.topics:
            consumers[topic].append(route)
    published: dict[str, set[str]] = defaultdict(set)
    pending = deque(_inputs())
    while pending:
        topic, value = pending.popleft()
        for route in consumers[topic]:
            outcome = route.translate(value)
            messages: list[Outgoing] = []
            if isinstance(outcome, Accepted):
                messages = outcome.messages
                outcome.settle()
            elif isinstance(outcome, list):
                messages = outcome
            for message in messages:
                published[route.connector].add(message.topic)
                pending.append((message.topic, message.value))
    return published


@pytest.fixture(scope="module")
def seen(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, set[str]], dict[str, RouteDescription]]:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("route-outputs"))
    routes = routes_for(settings, CONNECTORS, SECRET)
    described = route_descriptions(CONNECTORS, contract_book_for(settings, CONNECTORS))
    return _published(routes), {d.connector: d for d in described}


def test_every_route_publishes_only_to_the_topics_it_declares(
    seen: tuple[dict[str, set[str]], dict[str, RouteDescription]],
) -> None:
    published, described = seen

    for connector, topics in published.items():
        assert topics <= set(described[connector].produces), connector


def test_the_examples_reach_every_topic_the_routes_they_go_through_declare(
    seen: tuple[dict[str, set[str]], dict[str, RouteDescription]],
) -> None:
    published, described = seen

    # The examples reach these routes (not the referral answers: no example answers a
    # referral of another example); a declared topic nothing reached would be a send
    # operation the hub never performs.
    for connector in (
        "kela",
        *(f"{a.value}.{f}" for a in Authority for f in ("client-status", "service-referral")),
        "share-ledger",
        "distribution.benefit-day",
        "distribution.benefit-threshold",
        "distribution.client-status",
        "distribution.service-referral",
    ):
        assert published[connector] == set(described[connector].produces), connector
