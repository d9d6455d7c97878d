"""Prometheus metrics and the health endpoints of ``hub up``.

``HUB_METRICS_PORT`` turns on one small HTTP server (on ``HUB_METRICS_HOST``):

- ``/metrics``: Prometheus text format: messages consumed, produced, dead-lettered (by reason)
  and not routed per route, processing latency, consumer lag per group and partition, audit
  records per chain;
- ``/healthz``: 200 while the process and its event loop answer, 503 naming the routes that
  supervision is restarting because they stalled (``hub.routing.supervision``);
- ``/readyz``: 200 once every route is subscribed and the broker is connected, 503 before,
  while stopping, while the broker does not answer, and while a route fails on one message
  again and again (``hub.routing.route_failures``; the answer names the routes).

Labels are route names, topics, reasons and chain names: never keys, payloads or identity
codes.
"""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from hub.core.logs import get_logger

__all__ = ["HubMetrics", "serve_http"]

log = get_logger(__name__)


class HubMetrics:
    """Every metric of one hub process, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.consumed = Counter(
            "hub_messages_consumed", "Messages consumed", ["route"], registry=self.registry
        )
        self.produced = Counter(
            "hub_messages_produced", "Messages produced", ["route", "topic"], registry=self.registry
        )
        self.dead_lettered = Counter(
            "hub_messages_dead_lettered",
            "Messages dead-lettered",
            ["route", "reason"],
            registry=self.registry,
        )
        self.not_routed = Counter(
            "hub_events_not_routed", "Events nobody may receive", ["route"], registry=self.registry
        )
        self.latency = Histogram(
            "hub_processing_seconds",
            "From consuming a message to its outputs published, audited and settled",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.lag = Gauge(
            "hub_consumer_lag",
            "Messages not yet consumed",
            ["group", "topic", "partition"],
            registry=self.registry,
        )
        self.audit_chain_length = Gauge(
            "hub_audit_chain_length", "Records in an audit chain", ["chain"], registry=self.registry
        )
        self.ready = Gauge("hub_ready", "1 when the hub is ready", registry=self.registry)
        self.stalled = Gauge(
            "hub_route_stalled",
            "1 while a route is stuck on one message beyond HUB_STALL_TIMEOUT_S",
            ["route"],
            registry=self.registry,
        )
        self.restarts = Counter(
            "hub_route_restarts",
            "Routes restarted by supervision",
            ["route"],
            registry=self.registry,
        )
        self.failing = Gauge(
            "hub_route_failing",
            "1 while a route fails on one message again and again",
            ["route"],
            registry=self.registry,
        )
        self.failed_attempts = Counter(
            "hub_route_failed_attempts",
            "Attempts at a message that failed (the message comes again)",
            ["route", "error"],
            registry=self.registry,
        )
        #: Routes stalled right now (``/healthz`` names them).
        self.stalled_routes: set[str] = set()
        #: Routes failing on a message right now (``/readyz`` names them).
        self.failing_routes: set[str] = set()

    def observe(
        self,
        route: str,
        seconds: float,
        produced: list[tuple[str, str | None]],
        *,
        not_routed: bool,
    ) -> None:
        """One handled message: its latency and outputs ((topic, dead-letter reason))."""
        self.consumed.labels(route).inc()
        self.latency.labels(route).observe(seconds)
        for topic, reason in produced:
            if reason is not None:
                self.dead_lettered.labels(route, reason).inc()
            else:
                self.produced.labels(route, topic).inc()
        if not_routed:
            self.not_routed.labels(route).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)


async def _respond(metrics: HubMetrics, ready: asyncio.Event, writer: asyncio.StreamWriter,
                   request: bytes) -> None:  # fmt: skip
    parts = request.split(b" ")
    path = parts[1].decode("ascii", "replace") if len(parts) > 1 else ""
    if path == "/metrics":
        status, body, kind = "200 OK", metrics.render(), CONTENT_TYPE_LATEST
    elif path == "/healthz":
        stalled = ", ".join(sorted(metrics.stalled_routes))
        status, body = ("503 Service Unavailable", f"stalled: {stalled}\n".encode()) if (
            stalled) else ("200 OK", b"ok\n")  # fmt: skip
        kind = "text/plain"
    elif path == "/readyz":
        failing = ", ".join(sorted(metrics.failing_routes))
        if not ready.is_set():
            status, body = "503 Service Unavailable", b"not ready\n"
        elif failing:
            status, body = "503 Service Unavailable", f"not ready: failing: {failing}\n".encode()
        else:
            status, body = "200 OK", b"ready\n"
        kind = "text/plain"
    else:
        status, body, kind = "404 Not Found", b"not found\n", "text/plain"
    head = f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + b"Connection: close\r\n\r\n" + body)
    await writer.drain()


async def serve_http(
    metrics: HubMetrics, ready: asyncio.Event, host: str, port: int
) -> asyncio.Server:
    """Start the metrics and health server; the caller closes it."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)).strip():
                pass  # headers: nothing in them matters here
            await _respond(metrics, ready, writer, request)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, host, port)
    log.info("metrics and health endpoints listening", host=host, port=port)
    return server
