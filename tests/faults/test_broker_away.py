"""The broker goes away for about 30 s under load and comes back: the hub never exits, says
clearly what happens, reports not ready meanwhile, and resumes.

The embedded broker keeps everything in memory, so what was on it when it stopped is gone by
design (and the messages in flight with it); what is tested is the hub's behaviour: it stays
up, retries with backoff, ``/readyz`` answers 503 while Kafka is away and 200 once it is back,
it provisions the topics again on the empty broker, and every new input reaches its partner.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from hub.broker.embedded import EmbeddedBroker
from tests.faults.conftest import StartHub, hub_settings
from tests.faults.http import status_of
from tests.faults.inputs import mixed_inputs, output_id
from tests.faults.kafka import read_to_end, send_all
from tests.support import free_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

AWAY_S = 30.0


def test_the_hub_waits_out_a_broker_outage_not_ready_and_resumes(
    start_hub: StartHub, broker: EmbeddedBroker, tmp_path: Path
) -> None:
    port = free_port()
    settings = hub_settings(
        tmp_path / "data",
        broker.bootstrap,
        HUB_LOG_LEVEL="info",
        HUB_METRICS_PORT=str(port),
    )
    hub = start_hub(tmp_path / "data", **settings)
    hub.wait_ready()
    assert wait_until(lambda: status_of(port, "/readyz") == 200, 10)
    run = uuid.uuid4().hex[:6].upper()

    # Under load: a few hundred inputs, and the broker stops while the hub works on them.
    asyncio.run(send_all(broker.bootstrap, mixed_inputs(600, run)))
    broker.stop()
    stopped = time.monotonic()
    assert wait_until(lambda: status_of(port, "/readyz") == 503, 15), "not ready while away"
    assert status_of(port, "/healthz") == 200  # alive, only not ready
    while time.monotonic() - stopped < AWAY_S:
        assert hub.process.poll() is None, hub.stderr()[-3000:]
        time.sleep(1)

    broker.start()  # same port, empty storage
    assert wait_until(lambda: status_of(port, "/readyz") == 200, 30), "ready again"
    assert hub.process.poll() is None

    after = mixed_inputs(30, f"{run}B")
    asyncio.run(send_all(broker.bootstrap, after))
    # Resumed: every input sent after the outage reaches its partner, also those written
    # below a position a consumer held from before the outage (hub.broker.positions).
    expected = {i.output_topic: set[str]() for i in after}
    for i in after:
        expected[i.output_topic].add(i.expected_id)
    missing: dict[str, set[str]] = {}

    def everything_delivered() -> bool:
        for topic, ids in expected.items():
            landed = {output_id(r) for r in asyncio.run(read_to_end(broker.bootstrap, topic))}
            missing[topic] = ids - landed
        return not any(missing.values())

    assert wait_until(everything_delivered, 40), f"not delivered after the outage: {missing}"
    assert hub.stop() == 0

    events = [str(r["event"]) for r in hub.log_records()]
    assert "Kafka unreachable: not ready, retrying with backoff" in events
    assert "Kafka still unreachable" in events  # each next try, with its backoff
    assert "Kafka reachable again: ready" in events
