"""The flows page's figures: per route and per topic, from the hub's Prometheus metrics.

The same text is read whether the console runs inside ``hub up --console`` (the process's own
registry) or beside it (``hub console`` scraping the hub's ``/metrics``): one parser, one view.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import httpx2
from prometheus_client.parser import text_string_to_metric_families

from hub.console.deadletters import ListedLetter

__all__ = [
    "FlowView",
    "RouteFlow",
    "TopicLag",
    "flows_from_text",
    "last_error_of",
    "scraper",
    "with_last_errors",
]


@dataclass(slots=True)
class RouteFlow:
    """One route (a connector's inbound side)."""

    route: str
    consumed: int = 0
    produced: int = 0
    dead_lettered: int = 0
    not_routed: int = 0
    stalled: bool = False
    restarts: int = 0
    produced_to: dict[str, int] = field(default_factory=dict)
    last_error: str = ""

    @property
    def health(self) -> str:
        """``stalled`` while supervision restarts the route, else ``ok``."""
        return "stalled" if self.stalled else "ok"


@dataclass(frozen=True, slots=True)
class TopicLag:
    """What a consumer group has not yet consumed of a topic (all partitions)."""

    group: str
    topic: str
    lag: int


@dataclass(slots=True)
class FlowView:
    """Everything the flows page shows; ``source_error`` when the metrics could not be read."""

    routes: list[RouteFlow]
    lags: list[TopicLag]
    ready: bool | None
    source_error: str | None = None


def flows_from_text(text: str) -> FlowView:
    """The flows of one Prometheus text exposition of the hub."""
    routes: dict[str, RouteFlow] = {}
    lags: dict[tuple[str, str], int] = {}
    ready: bool | None = None

    def route(name: str) -> RouteFlow:
        return routes.setdefault(name, RouteFlow(name))

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels, value = sample.labels, sample.value
            if sample.name == "hub_messages_consumed_total":
                route(labels["route"]).consumed += int(value)
            elif sample.name == "hub_messages_produced_total":
                flow = route(labels["route"])
                flow.produced += int(value)
                flow.produced_to[labels["topic"]] = int(value)
            elif sample.name == "hub_messages_dead_lettered_total":
                route(labels["route"]).dead_lettered += int(value)
            elif sample.name == "hub_events_not_routed_total":
                route(labels["route"]).not_routed += int(value)
            elif sample.name == "hub_route_stalled":
                route(labels["route"]).stalled = value >= 1
            elif sample.name == "hub_route_restarts_total":
                route(labels["route"]).restarts += int(value)
            elif sample.name == "hub_consumer_lag":
                key = (labels["group"], labels["topic"])
                lags[key] = lags.get(key, 0) + int(value)
            elif sample.name == "hub_ready":
                ready = value >= 1
    return FlowView(
        sorted(routes.values(), key=lambda r: r.route),
        [TopicLag(g, t, lag) for (g, t), lag in sorted(lags.items())],
        ready,
    )


def with_last_errors(view: FlowView, last_errors: Iterable[tuple[str, str]]) -> FlowView:
    """``view`` with each route's last dead letter (connector, text) as its last error."""
    by_route = {flow.route: flow for flow in view.routes}
    for connector, text in last_errors:
        flow = by_route.get(connector)
        if flow is None:
            flow = RouteFlow(connector)
            view.routes.append(flow)
            by_route[connector] = flow
        flow.last_error = text
    view.routes.sort(key=lambda r: r.route)
    return view


def last_error_of(letter: ListedLetter) -> str:
    """A route's last error as the flows page shows it. A line of a file was dead-lettered by
    the file ingest, not by the route's traffic: it says so, or a route with no messages would
    seem to have failed."""
    text = f"{letter.reason} at {letter.timestamp:%Y-%m-%d %H:%M:%S} ({letter.id})"
    if letter.source_topic is None:
        return f"file ingest ({letter.source}): {text}"
    return text


def scraper(url: str) -> Callable[[], Awaitable[str]]:
    """Reads the hub's ``/metrics`` at ``url``."""

    async def scrape() -> str:
        async with httpx2.AsyncClient(timeout=5.0) as client:
            response = await client.get(url)
            response.raise_for_status()
            return response.text

    return scrape
