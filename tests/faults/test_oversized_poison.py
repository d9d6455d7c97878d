"""One-megabyte poison among good messages: dead-lettered all the same, and nothing waits.

A partner message of 1,048,450 bytes is accepted by the broker, but its dead letter (the
original bytes plus the headers) is larger than the producer takes. Before, the message was
never acknowledged and came back forever, every message behind it in its partition waited,
``message dead-lettered`` was logged for a dead letter that never was, and nothing reported
it. Now: the garbage is kept in the hub's quarantine store and dead-lettered with its
reference, size and SHA-256; a compressible one goes out compressed; every good message gets
through, in order; the hub stays ready.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import os
import stat
import uuid
from pathlib import Path

import pytest

from hub.broker.local import LocalKafka
from hub.core.topics import DEADLETTER_TOPIC
from hub.routing.deadletter import (
    DLQ_ENCODING,
    DLQ_ORIGINAL_REASON,
    DLQ_ORIGINAL_SHA256,
    DLQ_ORIGINAL_SIZE,
    DLQ_QUARANTINE,
    DLQ_REASON,
    SOURCE_OFFSET,
    SOURCE_TOPIC,
)
from hub.routing.quarantine import QuarantineStore
from tests.faults.conftest import StartHub, hub_settings
from tests.faults.http import body_of, status_of
from tests.faults.inputs import person, status_change
from tests.faults.kafka import read_to_end
from tests.integration.conftest import Records
from tests.support import free_port, send_each, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

TOPIC = "in.lahti.client-status"
POISON_SIZE = 1_048_450
GOOD = 200


def _status(run: str, n: int) -> bytes:
    changed_at = f"2025-03-01T{8 + n // 60:02d}:{n % 60:02d}:00+02:00"
    return status_change(person(7), f"{run}-{n}", "A-0000001", changed_at)


def test_megabyte_poison_is_dead_lettered_with_its_bytes_kept_and_the_good_ones_flow(
    start_hub: StartHub, broker: LocalKafka, tmp_path: Path
) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    hub = start_hub(
        data_dir, **hub_settings(data_dir, broker.bootstrap, HUB_METRICS_PORT=str(port))
    )
    hub.wait_ready()
    run = uuid.uuid4().hex[:6]
    good = [_status(run, n) for n in range(GOOD)]
    # Three of incompressible garbage (quarantined), one that compresses (sent compressed).
    garbage = [os.urandom(POISON_SIZE) for _ in range(3)]
    compressible = b"{" * POISON_SIZE
    poison = [garbage[0], compressible, garbage[1], garbage[2]]
    values: list[bytes] = []
    for n, value in enumerate(good):
        values.append(value)
        if n % 50 == 10:
            values.append(poison[n // 50])
    assert sum(len(v) == POISON_SIZE for v in values) == len(poison)
    # One key: one partition, so every good message waits behind every poison one.
    asyncio.run(send_each(broker.bootstrap, [(TOPIC, b"same-partition", v) for v in values]))

    kela: Records = []

    def kela_complete() -> bool:
        kela[:] = asyncio.run(read_to_end(broker.bootstrap, "out.kela.client-status"))
        return len(kela) >= GOOD

    assert wait_until(kela_complete, 180), f"{len(kela)} of {GOOD} good messages reached Kela"
    assert len(kela) == GOOD

    def mine(records: Records) -> Records:
        return [r for r in records if dict(r.headers).get(SOURCE_TOPIC) == TOPIC.encode()]

    letters = mine(asyncio.run(read_to_end(broker.bootstrap, DEADLETTER_TOPIC)))
    letters.sort(key=lambda r: int(dict(r.headers)[SOURCE_OFFSET]))
    assert len(letters) == len(poison)  # each once
    store = QuarantineStore.in_data_dir(data_dir)
    for letter, original in zip(letters, poison, strict=True):
        headers = {k: v.decode() for k, v in letter.headers}
        assert headers[DLQ_ORIGINAL_SIZE] == str(POISON_SIZE)
        assert headers[DLQ_ORIGINAL_SHA256] == hashlib.sha256(original).hexdigest()
        if original is compressible:
            assert headers[DLQ_ENCODING] == "gzip"
            assert headers[DLQ_REASON] not in {"too-large-quarantined", "retries-exhausted"}
            assert gzip.decompress(letter.value or b"") == original
            assert DLQ_QUARANTINE not in headers
        else:
            assert headers[DLQ_REASON] == "too-large-quarantined"
            assert headers[DLQ_ORIGINAL_REASON] in {"not-utf8", "malformed-json"}
            assert letter.value == b""
            reference = headers[DLQ_QUARANTINE]
            assert store.read(reference) == original  # byte-identical
            assert stat.S_IMODE(store.path_of(reference).stat().st_mode) == 0o600
    assert len(store.entries()) == len(garbage)

    # Logged once each, after the broker acknowledged it; nothing failed on the way.
    logs = hub.log_records()
    dead_lettered = [r for r in logs if r["event"] == "message dead-lettered"]
    assert sorted(int(str(r["offset"])) for r in dead_lettered) == [
        int(dict(r.headers)[SOURCE_OFFSET]) for r in letters
    ]
    assert not [
        r for r in logs if r["event"] in {"route failing on a message", "publish failed, retrying"}
    ]
    assert status_of(port, "/readyz") == 200
    assert body_of(port, "/readyz") == "ready\n"
    metrics = body_of(port, "/metrics")
    route = 'route="lahti.client-status"'
    assert f'dead_lettered_total{{reason="too-large-quarantined",{route}}} 3.0' in metrics
    assert f'dead_lettered_total{{reason="malformed-json",{route}}} 1.0' in metrics
    assert f"hub_route_failing{{{route}}} 0.0" in metrics
    assert hub.process.poll() is None
    # Before, the hub grew to 742 MB on four such messages; about 100 MB is its own size.
    peak_kb = int(_status_field(hub.process.pid, "VmHWM").split()[0])
    assert peak_kb < 256 * 1024, f"the hub's memory peaked at {peak_kb // 1024} MB"
    # The garbage's bytes never reached a log line (a traceback would quote them).
    assert "Traceback" not in hub.stderr()


def _status_field(pid: int, name: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return value.strip()
    raise AssertionError(f"no {name} in /proc/{pid}/status")
