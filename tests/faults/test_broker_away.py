"""The broker goes away for about 30 s under load and comes back: the hub never exits, says
clearly what happens, reports not ready meanwhile, resumes, and loses nothing.

The single Kafka node is killed (SIGKILL, as a crash or a pulled plug would) and keeps its logs
on disk, so it comes back with every topic, record and committed offset: every input sent
before and after the outage yields exactly one partner output. ``/readyz`` answers 503 while
Kafka is away and 200 once it is back.

Killed, not stopped: a controlled shutdown of a cluster's only node can acknowledge a
transaction's commit and skip its markers (Kafka takes partitions left without a leader for
deleted ones), and the hub's next transaction, aborted by the outage, then aborts the
acknowledged one's records too. docs/operations.md says so; no hub can tell from outside.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from hub.broker.local import LocalKafka
from tests.faults.conftest import StartHub, hub_settings
from tests.faults.http import status_of
from tests.faults.inputs import mixed_inputs
from tests.faults.kafka import partner_outputs, send_all
from tests.support import free_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

AWAY_S = 30.0


def _watch_lines(records: list[dict[str, object]]) -> str:
    """The hub's log lines about Kafka's presence, for a failure message to show."""
    return "; ".join(
        f"{r.get('timestamp')} {r['event']} {r.get('error') or ''}"
        for r in records
        if "Kafka" in str(r["event"]) or "topic" in str(r["event"])
    )[-4000:]


def test_the_hub_waits_out_a_broker_outage_not_ready_and_resumes(
    start_hub: StartHub, broker: LocalKafka, tmp_path: Path
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

    # Under load: a few hundred inputs, and the broker dies while the hub works on them.
    before = mixed_inputs(600, run)
    asyncio.run(send_all(broker.bootstrap, before))
    broker.kill()
    stopped = time.monotonic()
    assert wait_until(lambda: status_of(port, "/readyz") == 503, 15), "not ready while away"
    assert status_of(port, "/healthz") == 200  # alive, only not ready
    while time.monotonic() - stopped < AWAY_S:
        assert hub.process.poll() is None, hub.stderr()[-3000:]
        time.sleep(1)

    broker.start()  # same port, same log directory
    # Under a second on an idle machine; the bound leaves room for a loaded one, where the
    # restarted broker can take tens of seconds to answer and the hub's probes are 8 s apart.
    ready_again = wait_until(lambda: status_of(port, "/readyz") == 200, 60)
    assert ready_again, "ready again: " + _watch_lines(hub.log_records())
    assert hub.process.poll() is None

    after = mixed_inputs(30, f"{run}B")
    asyncio.run(send_all(broker.bootstrap, after))
    # Resumed, and nothing lost: every input of before and after the outage yields exactly one
    # partner output. (Kela's outputs are told apart by person, and the two runs share
    # persons: so outputs are counted, not merely collected.)
    expected: dict[str, Counter[str]] = {}
    for i in before + after:
        expected.setdefault(i.output_topic, Counter())[i.expected_id] += 1
    landed: dict[str, Counter[str]] = {}

    def everything_delivered() -> bool:
        landed.update(partner_outputs(broker.bootstrap))
        return all(landed[t] >= expected[t] for t in expected)

    assert wait_until(everything_delivered, 60), "not everything delivered: " + ", ".join(
        f"{t}: {(expected[t] - landed.get(t, Counter())).total()} missing" for t in expected
    )
    assert hub.stop() == 0
    for topic, wanted in expected.items():
        extra = landed[topic] - wanted
        assert not extra, f"{topic}: {extra.total()} sent twice"

    events = [str(r["event"]) for r in hub.log_records()]
    assert "Kafka unreachable: not ready, retrying with backoff" in events
    assert "Kafka still unreachable" in events  # each next try, with its backoff
    assert "Kafka reachable again: ready" in events
    # The Kafka client's repeated errors are rationed (hub.core.library_noise): unrationed,
    # this outage wrote some 50,000 lines, with the ration about 20.
    client_lines = [r for r in hub.log_records() if str(r.get("logger", "")).startswith("aiokafka")]
    assert len(client_lines) < 500, f"{len(client_lines)} lines of the Kafka client"
