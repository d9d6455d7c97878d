"""Supervision: a route that stops making progress while it claims to run is restarted.

A route is *stalled* when it has been on one message for longer than
``HUB_STALL_TIMEOUT_S``: a lock that is never released, a call that never returns. Its
consumer is still in the group and heartbeating, so Kafka sees nothing wrong, and neither
would an administrator without this. The supervisor logs an error naming the route, reports it
(``/healthz`` answers 503 naming it, ``hub_route_stalled`` is 1), and restarts the route's
subscriber: the message being handled is given up (not acknowledged, so it comes again), the
consumer leaves the group and joins it afresh. ``hub_route_restarts_total`` counts restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from hub.core.logs import get_logger
from hub.core.metrics import HubMetrics
from hub.routing.middlewares import Progress
from hub.routing.pipeline import Subscription

__all__ = ["Supervised", "supervise"]

log = get_logger(__name__)

CHECK_EVERY_S: Final = 1.0


@dataclass(frozen=True)
class Supervised:
    """A route under supervision."""

    connector: str
    subscription: Subscription
    progress: Progress


async def _restart(route: Supervised, metrics: HubMetrics, stuck_s: float) -> None:
    log.error(
        "route stalled: restarting it",
        route=route.connector,
        stuck_s=round(stuck_s, 1),
        handled=route.progress.handled,
    )
    metrics.stalled_routes.add(route.connector)
    metrics.stalled.labels(route.connector).set(1)
    metrics.restarts.labels(route.connector).inc()
    try:
        await route.subscription.stop()
        route.progress.busy_since = None
        await route.subscription.start()
    finally:
        metrics.stalled_routes.discard(route.connector)
        metrics.stalled.labels(route.connector).set(0)
    log.info("route restarted", route=route.connector)


async def supervise(
    routes: Sequence[Supervised],
    metrics: HubMetrics,
    stall_after_s: float,
    stop: asyncio.Event,
) -> None:
    """Until ``stop``: restart every route that is stuck on one message too long."""
    for route in routes:
        metrics.stalled.labels(route.connector).set(0)
        metrics.restarts.labels(route.connector)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), CHECK_EVERY_S)
        for route in routes:
            stuck = route.progress.busy_for()
            if stuck > stall_after_s and not stop.is_set():
                try:
                    await _restart(route, metrics, stuck)
                except Exception as exc:  # noqa: BLE001 - try again at the next round.
                    log.error(
                        "route restart failed", route=route.connector, error=type(exc).__name__
                    )
