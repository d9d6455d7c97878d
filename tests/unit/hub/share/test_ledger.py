"""The share ledger on both real stores: records kept once, read by month, rebuilt from the
audit log exactly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.recorder import AuditRecorder, Consumed, Produced, drafts_for
from hub.audit.store import AuditStore
from hub.routing.pipeline import Accepted, outcome_of
from hub.routing.recompute import recompute
from hub.share.ledger import ShareLedger, open_share_ledger, stored_record
from hub.share.rebuild import rebuild
from hub.share.route import share_ledger_route
from schemas.rejection import Rejection
from tests.postgres import PostgresServer
from tests.support import benefit_day_event, consumer_record

pytestmark = pytest.mark.audit
TOPIC = "hub.benefit-day.v1"


@pytest.fixture(params=["sqlite", "postgresql"])
def share_dsn(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def ledger(share_dsn: str | None, tmp_path: Path) -> Iterator[ShareLedger]:
    opened = open_share_ledger(tmp_path / "share", share_dsn)
    try:
        yield opened
    finally:
        opened.close()


def _original(record_id: str = "K2025-000000001", **data: object) -> bytes:
    fields = {
        "record_id": record_id,
        "paid_days": 20,
        "amount_paid": "744.20",
        "cumulative_days": 210,
        "period_start": "2025-03-03",
        "period_end": "2025-03-28",
        "payment_date": "2025-04-02",
        **data,
    }
    return benefit_day_event(**fields).model_dump_json().encode()


def _correction() -> bytes:
    return _original(
        "K2025-000000009",
        paid_days=-15,
        amount_paid="-558.15",
        cumulative_days=195,
        payment_date="2025-05-05",
        corrects_record_id="K2025-000000001",
        corrects_event_id="benefit-day-K2025-000000001",
        stated_home_municipality="098",
    )


def test_a_record_is_kept_once_and_read_by_month(ledger: ShareLedger) -> None:
    route = share_ledger_route(ledger)
    published = []
    for value in (_original(), _original(), _correction()):
        accepted = route.translate(value)
        assert isinstance(accepted, Accepted)
        published.append([message.event_id for message in accepted.messages])
        accepted.settle()
    # Days 191-210 cross the step at day 201 once; the redelivery and the correction do not.
    assert published == [["share.benefit-threshold:K2025-000000001:201"], [], []]
    assert ledger.count() == 2
    [april] = list(ledger.records("2025-04"))
    assert april.share.day_numbers == (191, 210)
    [may] = list(ledger.records("2025-05", {"398"}))
    assert may.share.corrected_days == (191, 210)
    assert may.corrects == "K2025-000000001"
    assert list(ledger.records("2025-05", {"098"})) == []
    assert list(ledger.records("2025-05", set())) == []
    assert len(list(ledger.records())) == 2


def test_rolled_back_records_are_forgotten(ledger: ShareLedger) -> None:
    accepted = share_ledger_route(ledger).translate(_original())
    assert isinstance(accepted, Accepted)
    accepted.abandon()
    ledger.commit()
    assert ledger.count() == 0


def test_records_are_read_in_pages_past_the_page_size(ledger: ShareLedger) -> None:
    rows = [
        stored_record(benefit_day_event(record_id=f"K2025-{n:09d}", payment_date="2025-04-02"))
        for n in range(5001)
    ]
    ledger.add(rows)
    assert sum(1 for _ in ledger.records("2025-04")) == 5001


def test_an_invalid_event_is_dead_lettered_and_nothing_is_kept(ledger: ShareLedger) -> None:
    outcome = share_ledger_route(ledger).translate(b'{"type": "nonsense"}')
    assert isinstance(outcome, Rejection)
    assert outcome.reason == "invalid-canonical-event"
    ledger.commit()
    assert ledger.count() == 0


def test_counters_are_each_persons_latest_paying_record(ledger: ShareLedger) -> None:
    route = share_ledger_route(ledger)
    for value in (
        _original(),
        _correction(),
        _original(
            "K2025-000000002",
            cumulative_days=215,
            paid_days=5,
            amount_paid="186.05",
            payment_date="2025-04-16",
        ),
    ):
        accepted = route.translate(value)
        assert isinstance(accepted, Accepted)
        accepted.settle()
    [counter] = list(ledger.counters())
    assert (counter.cumulative_days, str(counter.euros_per_day)) == (215, "37.21")


def _record_run(store: AuditStore, ledger: ShareLedger, values: list[bytes]) -> None:
    recorder = AuditRecorder(store, Ed25519PrivateKey.generate())
    route = share_ledger_route(ledger)
    for offset, value in enumerate(values):
        accepted = outcome_of(route, consumer_record(TOPIC, offset, value))
        produced = [Produced(m.topic, m.value, 0, offset, m.facts) for m in accepted.messages]
        recorder.record(
            f"{route.consumer_group}/{TOPIC}/0",
            drafts_for(Consumed(TOPIC, 0, offset, value), produced),
        )
        accepted.settle()


def test_rebuild_from_the_audit_log_reproduces_the_ledger_exactly(
    audit_store: AuditStore, ledger: ShareLedger, tmp_path: Path
) -> None:
    values = [_original(), _original(), _correction(), b"not json",
              _original("K2025-000000002", cumulative_days=215, paid_days=5,
                        amount_paid="186.05", payment_date="2025-04-16")]  # fmt: skip
    _record_run(audit_store, ledger, values)
    rebuilt = open_share_ledger(tmp_path / "rebuilt", None)
    try:
        report = rebuild(audit_store, rebuilt)
        assert (report.fed, report.pruned, report.complete) == (5, 0, True)
        assert rebuilt.count() == 3
        assert rebuilt.digest() == ledger.digest()
        # A rebuild into a ledger that holds something else first empties it.
        rebuilt.add([stored_record(benefit_day_event(record_id="K2025-999999999"))])
        assert rebuilt.digest() != ledger.digest()
        rebuild(audit_store, rebuilt)
        assert rebuilt.digest() == ledger.digest()
    finally:
        rebuilt.close()
    routes = [share_ledger_route(open_share_ledger(tmp_path / "scratch", None))]
    assert recompute(audit_store, routes, None, None).same


def test_rebuild_counts_inputs_whose_payload_was_pruned(
    audit_store: AuditStore, ledger: ShareLedger, tmp_path: Path
) -> None:
    _record_run(audit_store, ledger, [_original()])
    audit_store.prune_payloads("9999-12-31T00:00:00+00:00")
    rebuilt = open_share_ledger(tmp_path / "rebuilt", None)
    try:
        report = rebuild(audit_store, rebuilt)
    finally:
        rebuilt.close()
    assert (report.fed, report.pruned, report.complete) == (0, 1, False)
