"""Killed with SIGKILL in the middle of a stream, restarted: every input yields exactly one
partner output, and the audit chains verify.

A few thousand mixed partner messages (client-status, Kela payment days, referrals) are sent
to a hub running as a separate process; once part of the outputs are out, the hub is killed
without warning and started again on the same data directory. Each input has one expected
output on one partner topic: none may be missing, none may be there twice.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from hub.broker.local import LocalKafka
from tests.e2e.conftest import hub_env, run_hub
from tests.faults.conftest import StartHub, hub_settings
from tests.faults.inputs import OUTPUT_TOPICS, mixed_inputs, output_id
from tests.faults.kafka import end_offsets, read_to_end, send_all

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

INPUTS = 3000


def _outputs_so_far(bootstrap: str) -> int:
    return sum(asyncio.run(end_offsets(bootstrap, OUTPUT_TOPICS.values())).values())


def _wait_outputs(bootstrap: str, at_least: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    count = _outputs_so_far(bootstrap)
    while count < at_least and time.monotonic() < deadline:
        time.sleep(0.2)
        count = _outputs_so_far(bootstrap)
    return count


def test_a_hub_killed_mid_stream_loses_nothing_and_sends_nothing_twice(
    start_hub: StartHub, broker: LocalKafka, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    settings = hub_settings(data_dir, broker.bootstrap, HUB_LOG_LEVEL="info")
    inputs = mixed_inputs(INPUTS, uuid.uuid4().hex[:6].upper())

    first = start_hub(data_dir, **settings)
    first.wait_ready()
    asyncio.run(send_all(broker.bootstrap, inputs))
    at_kill = _wait_outputs(broker.bootstrap, INPUTS // 3, timeout_s=40)
    first.process.send_signal(signal.SIGKILL)
    assert first.process.wait(10) == -signal.SIGKILL
    assert 0 < at_kill < INPUTS, "the kill must come in the middle of the stream"

    second = start_hub(data_dir, **settings)
    second.wait_ready()
    _wait_outputs(broker.bootstrap, INPUTS, timeout_s=40)
    assert second.stop() == 0

    found = {
        topic: Counter(output_id(r) for r in asyncio.run(read_to_end(broker.bootstrap, topic)))
        for topic in OUTPUT_TOPICS.values()
    }
    for topic, ids in found.items():
        expected = {i.expected_id for i in inputs if i.output_topic == topic}
        twice = sorted(i for i, n in ids.items() if n > 1)
        assert not twice, f"{topic}: {len(twice)} sent twice"
        assert set(ids) == expected, f"{topic}: {len(expected - set(ids))} missing"

    verified = run_hub("audit", "verify", env=hub_env(data_dir, **settings), timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
