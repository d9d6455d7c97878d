"""``/metrics``, ``/healthz`` and ``/readyz`` of a running ``hub up``, read over HTTP."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from tests.e2e.conftest import RunningHub
from tests.e2e.test_authorities_story import JOBSEEKER, SECRET, _status, _wait_for
from tests.support import free_port, send_each

pytestmark = pytest.mark.e2e


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_metrics_and_health_of_a_running_hub(start_hub: Callable[..., RunningHub]) -> None:
    port = free_port()
    hub = start_hub(HUB_PSEUDONYM_SECRET=SECRET, HUB_METRICS_PORT=str(port))
    hub.wait_ready()
    assert _get(port, "/healthz") == (200, "ok\n")
    assert _get(port, "/readyz") == (200, "ready\n")
    assert _get(port, "/nothing")[0] == 404

    asyncio.run(send_each(hub.bootstrap, [
        ("in.lahti.client-status", None, _status("m-1", "398", "02", "2025-03-01")),
        ("in.lahti.client-status", None, b"{not json"),
    ]))  # fmt: skip

    def text() -> str:
        return _get(port, "/metrics")[1]

    # The two inputs may lie on different partitions: wait for both, and for the distribution.
    _wait_for(lambda: 'hub_messages_produced_total{route="distribution.client-status"' in text()
              and 'hub_messages_consumed_total{route="lahti.client-status"} 2.0' in text(),
              "both inputs and the distribution to show in the metrics")  # fmt: skip
    metrics = text()
    assert 'hub_messages_consumed_total{route="lahti.client-status"} 2.0' in metrics
    assert (
        'hub_messages_dead_lettered_total{reason="malformed-json",route="lahti.client-status"} 1.0'
        in metrics
    )
    assert (
        'hub_messages_produced_total{route="lahti.client-status",topic="hub.client-status.v1"} 1.0'
        in metrics
    )
    assert 'hub_processing_seconds_count{route="lahti.client-status"} 2.0' in metrics
    assert (
        'hub_audit_chain_length{chain="hub.lahti.client-status/in.lahti.client-status/' in metrics
    )
    assert "hub_ready 1.0" in metrics
    assert JOBSEEKER not in metrics
    assert hub.stop() == 0
