"""Canonical example events for tests (identity codes with individual numbers 900-999 only)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from hub.broker.local import find_free_port
from schemas.envelope import BenefitDayEvent, ClientStatusEvent, dataschema_for
from schemas.person_ref import person_ref_for

#: A message to send: topic, key (None: the partitioner chooses), value.
Message = tuple[str, bytes | None, bytes]

SECRET = b"test-pseudonym-secret-0123456789abcdef"
CODE = "131052-930V"


def client_status_event(**data: Any) -> ClientStatusEvent:
    """A complete Lahti client-status event; ``data`` overrides fields."""
    fields: dict[str, Any] = {
        "change_id": "c0a8012e-7b1d-4c55-9e0e-1f1f2b9d3a10",
        "authority": "lahti",
        "client_number": "A-1002345",
        "person_id": CODE,
        "home_municipality": "398",
        "employment_status": "unemployed",
        "status_since": "2025-03-01",
        "job_search_active": True,
        "service": {"code": "TKO", "start": "2025-03-10", "end": "2025-06-30"},
        "case_worker": "Virtanen Maija",
        "note": "Asiakas kertoi selkävaivoista; terveystarkastus sovittu.",
        "changed_at": "2025-03-01T08:12:00+02:00",
        **data,
    }
    return ClientStatusEvent.model_validate(
        {
            "id": f"client-status-{fields['change_id']}",
            "source": "urn:fi:paijathame:hub:connector:lahti",
            "subject": person_ref_for(fields["person_id"], SECRET),
            "time": fields["changed_at"],
            "dataschema": dataschema_for("fi.paijathame.hub.client-status.v1"),
            "data": fields,
        }
    )


def benefit_day_event(**data: Any) -> BenefitDayEvent:
    """A complete benefit-day event for a Lahti resident; ``data`` overrides fields."""
    fields: dict[str, Any] = {
        "record_id": "K2025-000123456",
        "person_id": CODE,
        "home_municipality": "398",
        "benefit": "labour_market_subsidy",
        "period_start": "2025-03-01",
        "period_end": "2025-03-31",
        "paid_days": 21,
        "amount_paid": "737.55",
        "cumulative_days": 1021,
        "payment_date": "2025-04-05",
        **data,
    }
    return BenefitDayEvent.model_validate(
        {
            "id": f"benefit-day-{fields['record_id']}",
            "source": "urn:fi:paijathame:hub:connector:kela",
            "subject": person_ref_for(fields["person_id"], SECRET),
            "time": "2025-04-05T00:00:00+03:00",
            "dataschema": dataschema_for("fi.paijathame.hub.benefit-day.v1"),
            "data": fields,
        }
    )


def alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_until(condition: Callable[[], bool], timeout_s: float, every_s: float = 0.2) -> bool:
    """Poll ``condition`` until it holds; its last answer once ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every_s)
    return condition()


def wait_dead(pid: int, timeout_s: float = 15.0) -> bool:
    """Wait until ``pid`` is gone; False if it is still there after ``timeout_s``."""
    return wait_until(lambda: not alive(pid), timeout_s, every_s=0.05)


def consumer_record(topic: str, offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    """A consumed Kafka record (partition 0) as the pipeline sees it."""
    return ConsumerRecord(topic, 0, offset, 0, 0, None, value, None, -1, len(value), ())


def free_port() -> int:
    """A TCP port free on loopback right now."""
    return find_free_port()


async def send_each(bootstrap: str, messages: Iterable[Message]) -> None:
    """Produce ``messages`` in order, each acknowledged before the next is sent."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for topic, key, value in messages:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()
