"""A route's consumer fetches no more than the settings allow."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from hub.app.runtime import fetch_limits
from hub.core.settings import load_settings
from hub.routing.pipeline import Outgoing, Route, wire_route
from schemas.rejection import Rejection


def _nothing(value: bytes) -> list[Outgoing] | Rejection:
    return []


def test_the_fetch_settings_reach_every_routes_consumer() -> None:
    settings = load_settings(kafka_fetch_max_bytes=3_000_000, kafka_max_partition_fetch_bytes=5000)
    assert fetch_limits(settings) == {
        "fetch_max_bytes": 3_000_000,
        "max_partition_fetch_bytes": 5000,
    }
    for batch in (1, 100):
        subscription = wire_route(
            KafkaBroker(),
            Route("test", ("in.test",), _nothing),
            max_batch=batch,
            fetch=fetch_limits(settings),
        )
        consumer = subscription._connection_args  # type: ignore[attr-defined]
        assert consumer["fetch_max_bytes"] == 3_000_000
        assert consumer["max_partition_fetch_bytes"] == 5000
