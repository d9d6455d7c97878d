"""Recompute against a real store, and chains written by several hub instances at once."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.recorder import AuditRecorder, Consumed, Produced, drafts_for
from hub.audit.store import AuditStore, open_audit_store
from hub.audit.verify import verify_chains
from hub.routing.pipeline import Accepted, Outgoing, Route, outcome_of
from hub.routing.recompute import recompute
from schemas.rejection import Rejection
from tests.support import consumer_record

pytestmark = pytest.mark.audit
GROUP = "hub.example"


def _translation(greeting: str) -> Route:
    """A small route: JSON {"n": k} → a greeting on out.kela.client-status; odd k rejected."""

    def translate(value: bytes) -> Accepted | Rejection:
        number = orjson.loads(value)["n"]
        if number % 2:
            return Rejection("odd-number", f"{number} is odd")
        payload = orjson.dumps({"greeting": greeting, "n": number})
        return Accepted([Outgoing("out.kela.client-status", payload, event_id=f"e-{number}")])

    return Route("example", ("in.example",), translate, group_id=GROUP)


def _record_run(store: AuditStore, route: Route, numbers: range) -> None:
    """Handle each input with ``route`` as the pipeline would, and record it."""
    recorder = AuditRecorder(store, Ed25519PrivateKey.generate())
    for offset, number in enumerate(numbers):
        value = orjson.dumps({"n": number})
        accepted = outcome_of(route, consumer_record("in.example", offset, value))
        produced = [Produced(m.topic, m.value, 0, offset, m.facts) for m in accepted.messages]
        consumed = Consumed("in.example", 0, offset, value)
        recorder.record(f"{GROUP}/in.example/0", drafts_for(consumed, produced))


def test_recompute_finds_nothing_when_behaviour_is_unchanged(audit_store: AuditStore) -> None:
    _record_run(audit_store, _translation("hei"), range(6))
    report = recompute(audit_store, [_translation("hei")], None, None)
    assert report.compared == 6
    assert report.same


def test_recompute_shows_exactly_where_behaviour_changed(audit_store: AuditStore) -> None:
    _record_run(audit_store, _translation("hei"), range(4))
    report = recompute(audit_store, [_translation("moi")], None, None)
    assert report.compared == 4
    # The two even inputs changed their output; the odd ones are dead-lettered as before.
    assert [(d.seq, d.event_id) for d in report.differences] == [(1, None), (5, None)]
    explained = "\n".join(report.differences[0].explain())
    assert "changed: produced out.kela.client-status" in explained
    assert '-{"greeting":"hei"' in explained
    assert '+{"greeting":"moi"' in explained


def test_recompute_skips_inputs_of_routes_that_no_longer_exist(audit_store: AuditStore) -> None:
    _record_run(audit_store, _translation("hei"), range(2))
    report = recompute(audit_store, [], None, None)
    assert (report.compared, report.skipped_unknown_route) == (0, 2)


def test_two_instances_append_to_one_chain_and_it_still_verifies(
    audit_dsn: str | None, tmp_path: Path
) -> None:
    # Two hub instances (two connections) write the same partition's chain, as around a
    # rebalance where the old owner still finishes a message.
    key = Ed25519PrivateKey.generate()
    stores = [open_audit_store(tmp_path / "data", audit_dsn) for _ in range(2)]
    recorders = [AuditRecorder(store, key, checkpoint_every=25) for store in stores]
    chain = f"{GROUP}/in.example/0"

    def work(recorder: AuditRecorder, first: int) -> None:
        for offset in range(first, first + 60):
            value = orjson.dumps({"n": offset})
            recorder.record(chain, drafts_for(Consumed("in.example", 0, offset, value), []))

    threads = [threading.Thread(target=work, args=(r, i * 1000)) for i, r in enumerate(recorders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorders[0].checkpoint()
    store = stores[0]
    report = verify_chains(store.chains(), store.chain, store.checkpoints(), key.public_key())
    assert report.holds, [f.line() for f in report.findings]
    assert report.records == 120
    assert report.checkpoints >= 4
    for opened in stores:
        opened.close()
