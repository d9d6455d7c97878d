"""Progress and metrics are middlewares around a route's handling (FastStream's in-memory
test broker: wiring only)."""

from __future__ import annotations

from faststream.kafka import KafkaBroker, TestKafkaBroker

from hub.core.metrics import HubMetrics
from hub.routing.middlewares import Progress, metrics_middleware, observe, progress_middleware
from hub.routing.pipeline import Accepted, Handled, Outcome, Outgoing, Route, wire_route
from schemas.rejection import Rejection


def _translate(value: bytes) -> Accepted | Rejection:
    if value == b"bad":
        return Rejection("malformed-json", "not JSON")
    if value == b"nobody":
        return Accepted([], not_routed=True)
    return Accepted([Outgoing("out.test", value, b"k", event_id="e-1")])


def _sample(metrics: HubMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_each_message_is_counted_and_progress_moves() -> None:
    broker = KafkaBroker()
    metrics, progress = HubMetrics(), Progress()
    seen_busy: list[float | None] = []

    @broker.subscriber("out.test")
    async def output(value: bytes) -> None:
        seen_busy.append(progress.busy_since)

    wire_route(
        broker,
        Route("probe", ("in.test",), _translate),
        middlewares=(progress_middleware(progress), metrics_middleware(metrics)),
    )
    async with TestKafkaBroker(broker) as test:
        for value in (b"good", b"bad", b"nobody"):
            await test.publish(value, topic="in.test")

    assert progress.handled == 3
    assert progress.busy_since is None
    assert len(seen_busy) == 1
    assert seen_busy[0] is not None, "the output was published while the route was busy"
    assert _sample(metrics, "hub_messages_consumed_total", route="probe") == 3
    assert _sample(metrics, "hub_messages_produced_total", route="probe", topic="out.test") == 1
    assert (
        _sample(metrics, "hub_messages_dead_lettered_total", route="probe", reason="malformed-json")
        == 1
    )
    assert _sample(metrics, "hub_events_not_routed_total", route="probe") == 1


async def test_without_middlewares_nothing_is_counted() -> None:
    broker = KafkaBroker()
    metrics, progress = HubMetrics(), Progress()
    wire_route(broker, Route("probe", ("in.test",), _translate))
    async with TestKafkaBroker(broker) as test:
        await test.publish(b"good", topic="in.test")
    assert progress.handled == 0
    assert _sample(metrics, "hub_messages_consumed_total", route="probe") == 0


def test_a_report_sets_each_chain_s_length() -> None:
    metrics = HubMetrics()
    observe(metrics, Handled("probe", 0.01, (), {"g/t/0": 7, "g/t/1": 2}))
    assert _sample(metrics, "hub_audit_chain_length", chain="g/t/0") == 7
    assert _sample(metrics, "hub_audit_chain_length", chain="g/t/1") == 2


def test_progress_is_idle_until_a_fetch_begins() -> None:
    progress = Progress()
    assert (progress.busy_since, progress.handled, progress.busy_for()) == (None, 0, 0.0)
    progress.begin()
    assert progress.busy_since is not None
    assert progress.busy_for() >= 0.0
    progress.busy_since -= 5.0  # as if the fetch began five seconds ago
    assert progress.busy_for() >= 5.0
    progress.end()
    assert (progress.busy_since, progress.handled, progress.busy_for()) == (None, 1, 0.0)


def test_a_batch_is_counted_message_by_message() -> None:
    metrics = HubMetrics()
    outcomes = (
        Outcome((("out.a", None), ("out.b", None)), not_routed=False),
        Outcome((("out.a", None),), not_routed=False),
        Outcome((("hub.deadletter.v1", "malformed-json"),), not_routed=False),
        Outcome((), not_routed=True),
    )
    observe(metrics, Handled("probe", 0.25, outcomes))
    assert _sample(metrics, "hub_messages_consumed_total", route="probe") == 4
    assert _sample(metrics, "hub_messages_produced_total", route="probe", topic="out.a") == 2
    assert _sample(metrics, "hub_messages_produced_total", route="probe", topic="out.b") == 1
    dead = _sample(
        metrics, "hub_messages_dead_lettered_total", route="probe", reason="malformed-json"
    )
    assert dead == 1
    assert _sample(metrics, "hub_events_not_routed_total", route="probe") == 1
    assert _sample(metrics, "hub_processing_seconds_count", route="probe") == 4
    assert _sample(metrics, "hub_processing_seconds_sum", route="probe") == 1.0


def test_an_empty_report_counts_nothing() -> None:
    metrics = HubMetrics()
    observe(metrics, Handled("probe", 0.25, ()))
    assert _sample(metrics, "hub_messages_consumed_total", route="probe") == 0
    assert _sample(metrics, "hub_processing_seconds_count", route="probe") == 0
