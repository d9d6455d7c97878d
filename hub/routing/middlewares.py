"""What watches a route from outside its handling: FastStream middlewares around each fetch.

``wire_route`` takes them as ``middlewares``; the handling neither knows nor waits for them.

- ``Progress`` / ``progress_middleware``: whether the route is on a fetch and since when, for
  supervision (``hub.routing.supervision`` restarts a route stuck on one);
- ``metrics_middleware``: each handled message counted in ``HubMetrics`` from the ``Handled``
  report the route returns (consumed, produced per topic, dead-lettered per reason, not
  routed, latency) and each audit chain's length.

Both see the fetch, never its contents: no payload or identity code reaches a metric.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from faststream import BaseMiddleware
from faststream.message import StreamMessage
from faststream.types import AsyncFuncAny, BrokerMiddleware

from hub.core.metrics import HubMetrics
from hub.routing.pipeline import Handled

__all__ = ["Progress", "metrics_middleware", "observe", "progress_middleware"]


class Progress:
    """Whether a route is on a fetch, since when, and how many it has finished."""

    def __init__(self) -> None:
        self.busy_since: float | None = None
        self.handled = 0

    def begin(self) -> None:
        """A fetch is taken up."""
        self.busy_since = time.monotonic()

    def end(self) -> None:
        """The fetch is done with (handled, or given up)."""
        self.busy_since = None
        self.handled += 1

    def busy_for(self) -> float:
        """Seconds on the current fetch (0 when idle)."""
        since = self.busy_since
        return 0.0 if since is None else time.monotonic() - since


def progress_middleware(progress: Progress) -> BrokerMiddleware[Any, Any]:
    """A middleware marking ``progress`` busy while the route handles a fetch."""

    class _Progress(BaseMiddleware):
        async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
            progress.begin()
            try:
                return await call_next(msg)
            finally:
                progress.end()

    return _Progress


def metrics_middleware(metrics: HubMetrics) -> BrokerMiddleware[Any, Any]:
    """A middleware counting what each fetch the route handled came to."""

    class _Metrics(BaseMiddleware):
        async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
            handled = await call_next(msg)
            if isinstance(handled, Handled):
                observe(metrics, handled)
            return handled

    return _Metrics


def observe(metrics: HubMetrics, handled: Handled) -> None:
    """Count one ``Handled`` report in ``metrics``: each counter once per batch with the
    batch's total (a label look-up per message costs more than the rest of the counting)."""
    route = handled.connector
    produced: Counter[str] = Counter()
    dead: Counter[str] = Counter()
    not_routed = 0
    for outcome in handled.outcomes:
        not_routed += outcome.not_routed
        for topic, reason in outcome.outputs:
            if reason is None:
                produced[topic] += 1
            else:
                dead[reason] += 1
    count = len(handled.outcomes)
    if count:
        metrics.consumed.labels(route).inc(count)
        latency = metrics.latency.labels(route)
        for _ in range(count):
            # Every message of the batch waited for the whole batch.
            latency.observe(handled.seconds)
    for topic, n in produced.items():
        metrics.produced.labels(route, topic).inc(n)
    for reason, n in dead.items():
        metrics.dead_lettered.labels(route, reason).inc(n)
    if not_routed:
        metrics.not_routed.labels(route).inc(not_routed)
    for chain, length in handled.chains.items():
        metrics.audit_chain_length.labels(chain).set(length)
