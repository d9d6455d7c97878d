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
import uuid
from pathlib import Path

import pytest

from hub.broker.local import LocalKafka
from tests.e2e.conftest import hub_env, run_hub
from tests.faults.conftest import StartHub, hub_settings
from tests.faults.inputs import mixed_inputs
from tests.faults.kafka import partner_outputs, send_all, wait_outputs

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

INPUTS = 3000


def test_a_hub_killed_mid_stream_loses_nothing_and_sends_nothing_twice(
    start_hub: StartHub, broker: LocalKafka, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    settings = hub_settings(data_dir, broker.bootstrap, HUB_LOG_LEVEL="info")
    inputs = mixed_inputs(INPUTS, uuid.uuid4().hex[:6].upper())

    first = start_hub(data_dir, **settings)
    first.wait_ready()
    asyncio.run(send_all(broker.bootstrap, inputs))
    at_kill = wait_outputs(broker.bootstrap, INPUTS // 3, timeout_s=40)
    first.process.send_signal(signal.SIGKILL)
    assert first.process.wait(10) == -signal.SIGKILL
    assert 0 < at_kill < INPUTS, "the kill must come in the middle of the stream"

    second = start_hub(data_dir, **settings)
    second.wait_ready()
    wait_outputs(broker.bootstrap, INPUTS, timeout_s=40)
    assert second.stop() == 0

    for topic, ids in partner_outputs(broker.bootstrap).items():
        expected = {i.expected_id for i in inputs if i.output_topic == topic}
        twice = sorted(i for i, n in ids.items() if n > 1)
        assert not twice, f"{topic}: {len(twice)} sent twice"
        assert set(ids) == expected, f"{topic}: {len(expected - set(ids))} missing"

    verified = run_hub("audit", "verify", env=hub_env(data_dir, **settings), timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
