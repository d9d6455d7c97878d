"""A hub configured with several bootstrap servers, one of them down, starts through the
others and carries partner messages, as it must on a cluster with a node away."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from hub.broker.local import LocalKafka, find_free_port
from tests.faults.conftest import StartHub, hub_settings
from tests.faults.inputs import mixed_inputs, output_id
from tests.faults.kafka import read_to_end, send_all
from tests.support import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


def test_a_hub_with_a_bootstrap_server_down_starts_through_the_others(
    start_hub: StartHub, broker: LocalKafka, tmp_path: Path
) -> None:
    nobody = f"127.0.0.1:{find_free_port()}"  # nothing listens there
    bootstrap = f"{nobody},{broker.bootstrap}"
    settings = hub_settings(tmp_path / "data", bootstrap)
    hub = start_hub(tmp_path / "data", **settings)
    hub.wait_ready()

    inputs = mixed_inputs(9, uuid.uuid4().hex[:6].upper())
    asyncio.run(send_all(broker.bootstrap, inputs))
    expected = {(i.output_topic, i.expected_id) for i in inputs}

    def delivered() -> set[tuple[str, str]]:
        topics = {topic for topic, _ in expected}
        return {
            (topic, output_id(r))
            for topic in topics
            for r in asyncio.run(read_to_end(broker.bootstrap, topic))
        }

    assert wait_until(lambda: delivered() >= expected, 60), "every input reached its partner"
    assert hub.stop() == 0
