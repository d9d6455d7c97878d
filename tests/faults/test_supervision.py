"""A route stuck on one message while it claims to run is detected and restarted, and it
shows in ``/healthz`` and the metrics; once the cause is gone, the message goes through.

The fault is real, not simulated: another process holds the write lock of the hub's delivery
log (an administrator's ``sqlite3`` shell left in a transaction, say). The client-status
distribution route then waits on the lock, its consumer still heartbeating: Kafka sees nothing
wrong. With ``HUB_STALL_TIMEOUT_S=3`` supervision must notice within seconds.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import uuid
from pathlib import Path

import pytest

from hub.broker.local import LocalKafka
from tests.faults.conftest import StartHub, hub_settings
from tests.faults.http import body_of, status_of
from tests.faults.inputs import OUTPUT_TOPICS, mixed_inputs, output_id
from tests.faults.kafka import read_to_end, send_all
from tests.support import free_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

ROUTE = "distribution.client-status"


def _restarts(port: int) -> float:
    metrics = body_of(port, "/metrics")
    found = re.search(rf'^hub_route_restarts_total\{{route="{ROUTE}"\}} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else -1.0


def test_a_stalled_route_is_restarted_and_shows_in_health_and_metrics(
    start_hub: StartHub, broker: LocalKafka, tmp_path: Path
) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    env = hub_settings(
        data_dir, broker.bootstrap, HUB_METRICS_PORT=str(port), HUB_STALL_TIMEOUT_S="3"
    )
    hub = start_hub(data_dir, **env)
    hub.wait_ready()
    assert wait_until(lambda: status_of(port, "/healthz") == 200, 10)
    assert _restarts(port) == 0

    holder = sqlite3.connect(data_dir / "deliveries.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held
    try:
        [status] = [i for i in mixed_inputs(3, uuid.uuid4().hex[:6]) if i.kind == "client-status"]
        asyncio.run(send_all(broker.bootstrap, [status]))
        assert wait_until(lambda: _restarts(port) >= 1, 30), "the stalled route was not restarted"
        assert wait_until(lambda: status_of(port, "/healthz") == 503, 30)
        assert ROUTE in body_of(port, "/healthz")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    def delivered() -> bool:
        topic = OUTPUT_TOPICS["client-status"]
        return status.expected_id in {
            output_id(r) for r in asyncio.run(read_to_end(broker.bootstrap, topic))
        }

    assert wait_until(delivered, 40), "the message did not go through once the lock was released"
    assert wait_until(lambda: status_of(port, "/healthz") == 200, 30)
    assert hub.process.poll() is None
    events = [r for r in hub.log_records() if r["event"] == "route stalled: restarting it"]
    assert events
    assert {r["route"] for r in events} == {ROUTE}
