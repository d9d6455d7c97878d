"""Poison messages among good ones, and a partner that stops reading: neither holds the rest up.

- Poison: malformed and invalid messages interleaved with good ones on one partition. Each
  poison message is dead-lettered with its original bytes and a specific reason; the good ones
  reach Kela, in their original order (one person, so one partition all the way).
- Slow partner: a consumer of ``out.kela.client-status`` that takes one message and then
  stalls (never polls or commits again) changes nothing for Lahti and Päijät-Sote: their
  messages still arrive while it hangs.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from hub.broker.local import LocalKafka
from hub.core.topics import DEADLETTER_TOPIC
from hub.routing.deadletter import DLQ_REASON, SOURCE_OFFSET, SOURCE_TOPIC
from tests.faults.conftest import StartHub, hub_settings
from tests.faults.inputs import OUTPUT_TOPICS, mixed_inputs, output_id, person, status_change
from tests.faults.kafka import read_to_end, send_all
from tests.integration.conftest import Records
from tests.support import send_each, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

_STAMP = re.compile(rb"<Aikaleima>([^<]+)</Aikaleima>")


def _status(change: str, minute: int) -> bytes:
    return status_change(person(7), change, "A-0000001", f"2025-03-01T08:{minute:02d}:00+02:00")


def _wrong_check_character() -> bytes:
    document = json.loads(_status("poison", 0))
    code = str(document["hetu"])
    document["hetu"] = code[:-1] + ("A" if code[-1] != "A" else "B")
    return json.dumps(document).encode()


#: Poison, each with the reason it must be dead-lettered for.
POISON: dict[bytes, str] = {
    b"\xff\xfe not even UTF-8": "not-utf8",
    b"{": "malformed-json",
    b"[]": "malformed-json",
    _wrong_check_character(): "invalid-identity-code",
}


def test_poison_is_dead_lettered_and_the_good_ones_flow_in_order(
    start_hub: StartHub, broker: LocalKafka, tmp_path: Path
) -> None:
    hub = start_hub(tmp_path / "data", **hub_settings(tmp_path / "data", broker.bootstrap))
    hub.wait_ready()
    run = uuid.uuid4().hex[:6]
    good = [_status(f"{run}-{n}", n) for n in range(40)]
    poison = list(POISON)
    values = []
    for n, value in enumerate(good):
        values.append(value)
        if n % 4 == 1:
            values.append(poison[(n // 4) % len(poison)])
    # One key: one partition, this order.
    topic = "in.lahti.client-status"
    asyncio.run(send_each(broker.bootstrap, [(topic, b"same-partition", v) for v in values]))

    kela: Records = []

    def kela_complete() -> bool:
        kela[:] = asyncio.run(read_to_end(broker.bootstrap, "out.kela.client-status"))
        return len(kela) >= len(good)

    assert wait_until(kela_complete, 40), f"{len(kela)} of {len(good)} good messages reached Kela"
    stamps = [_STAMP.search(r.value or b"").group(1) for r in kela]  # type: ignore[union-attr]
    assert stamps == sorted(stamps)
    assert len(stamps) == len(good)
    assert len({r.partition for r in kela}) == 1

    letters = [
        r
        for r in asyncio.run(read_to_end(broker.bootstrap, DEADLETTER_TOPIC))
        if dict(r.headers).get(SOURCE_TOPIC) == b"in.lahti.client-status"
    ]
    letters.sort(key=lambda r: int(dict(r.headers)[SOURCE_OFFSET]))
    sent_poison = [v for v in values if v in POISON]
    assert [r.value for r in letters] == sent_poison  # original bytes, each once
    for letter in letters:
        assert dict(letter.headers)[DLQ_REASON].decode() == POISON[letter.value or b""]


def test_a_stalled_partner_consumer_does_not_hold_up_the_other_partners(
    start_hub: StartHub, broker: LocalKafka, tmp_path: Path
) -> None:
    hub = start_hub(tmp_path / "data", **hub_settings(tmp_path / "data", broker.bootstrap))
    hub.wait_ready()
    run = uuid.uuid4().hex[:6].upper()

    async def scenario() -> tuple[int, set[str]]:
        # Kela's consumer: takes one message, then hangs without polling or committing.
        stalled = AIOKafkaConsumer(
            OUTPUT_TOPICS["client-status"],
            bootstrap_servers=broker.bootstrap,
            group_id="kela-stalled",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await stalled.start()
        try:
            await send_all(broker.bootstrap, mixed_inputs(3, f"{run}A"))
            taken = await stalled.getone()
            # Kela hangs from here on; the others go on receiving.
            later = mixed_inputs(150, f"{run}B")
            await send_all(broker.bootstrap, later)
            wanted = {i.expected_id for i in later if i.kind != "client-status"}
            seen: set[str] = set()
            deadline = time.monotonic() + 40
            while not wanted <= seen and time.monotonic() < deadline:
                await asyncio.sleep(0.3)
                seen = {
                    output_id(r)
                    for kind in ("benefit-day", "referral")
                    for r in await read_to_end(broker.bootstrap, OUTPUT_TOPICS[kind])
                }
            return taken.offset, wanted - seen
        finally:
            await stalled.stop()

    _, missing = asyncio.run(scenario())
    assert not missing, f"{len(missing)} messages for Lahti and Päijät-Sote did not arrive"
    assert hub.process.poll() is None
