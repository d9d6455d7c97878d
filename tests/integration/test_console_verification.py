"""The console's verify button on a real Kafka and both real audit stores: the verification
runs in the background, the page shows how far it has read and then the verdict, a second
auditor sees the same job, an operator sees none of it, and stopping the console stops it.

A gate in the store's chain reading holds the job after its first thousand records, so the
running page can be seen whatever the machine's speed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.testclient import TestClient

from hub.audit.recorder import AuditRecorder
from hub.audit.records import AuditDraft, Direction
from hub.audit.store import open_audit_store
from hub.audit.verify import PROGRESS_STEP
from hub.console.app import create_app
from hub.console.users import Role, UserStore
from hub.core.settings import load_settings
from tests.audit.chain_gate import ChainGate
from tests.console_pages import PASSWORD, console_context, csrf_token, sign_in

pytestmark = [
    pytest.mark.integration,
    pytest.mark.audit,
    pytest.mark.usefixtures("restore_logging"),
]

CHAIN = "in.example/0"
RECORDS = 2 * PROGRESS_STEP + 500


class Console(NamedTuple):
    """The console app, the gate in its store's reading, the store's signed checkpoints
    (the recorder signs one every thousand records)."""

    app: Starlette
    gate: ChainGate
    checkpoints: int


@pytest.fixture
def console(
    kafka_bootstrap: str,
    audit_dsn: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Console]:
    """A console on the real broker over a store of ``RECORDS`` records under a checkpoint,
    its chain reading gated after the first thousand."""
    data_dir = tmp_path / "data"
    settings = load_settings(data_dir=data_dir, kafka_bootstrap=kafka_bootstrap)
    key = Ed25519PrivateKey.generate()
    recorder = AuditRecorder(open_audit_store(data_dir, audit_dsn), key)
    users = UserStore.open(data_dir)
    for name, role in (("aino", Role.AUDITOR), ("eino", Role.AUDITOR), ("olli", Role.OPERATOR)):
        users.add(name, role, PASSWORD)
    try:
        drafts = [
            AuditDraft(Direction.CONSUMED, b"{}", "in.example", offset, offset)
            for offset in range(RECORDS)
        ]
        recorder.record(CHAIN, drafts)
        assert recorder.checkpoint()
        checkpoints = recorder.store.checkpoint_count()
        gate = ChainGate(recorder.store, PROGRESS_STEP + 1, monkeypatch)
        app = create_app(console_context(settings, recorder, users, key.public_key()))
        yield Console(app, gate, checkpoints)
    finally:
        recorder.store.close()
        users.close()


@contextlib.contextmanager
def _running(app: Starlette, name: str) -> Iterator[TestClient]:
    """A signed-in client of the console, running for the block (its lifespan started, and
    ended after the block: the console stopping)."""
    with TestClient(app, base_url="http://127.0.0.1") as client:
        sign_in(client, name)
        yield client


def _visitor(app: Starlette, name: str) -> TestClient:
    """Another browser on the same running console: signed in, without a lifespan of its
    own (its requests reach the console that ``_client`` started)."""
    client = TestClient(app, base_url="http://127.0.0.1")
    sign_in(client, name)
    return client


def _until(client: TestClient, shown: str) -> str:
    for _ in range(1200):
        fragment = client.get("/audit/verify").text
        if shown in fragment:
            return fragment
        threading.Event().wait(0.05)
    raise AssertionError(f"never shown: {shown}")


def _start(client: TestClient) -> str:
    """Press the verify button on the audit page; the fragment it returns."""
    started = client.post("/audit/verify", data={"csrf": csrf_token(client, "/audit")})
    assert started.status_code == 200
    return started.text


def test_the_button_starts_a_job_the_page_follows_to_its_verdict(console: Console) -> None:
    app, gate, checkpoints = console
    with _running(app, "aino") as aino:
        try:
            started = _start(aino)
            assert 'id="progress"' in started
            assert 'hx-get="/audit/verify" hx-trigger="load delay:1s"' in started
            assert gate.reached.wait(60)
            running = _until(aino, f"Verifying: {PROGRESS_STEP:,} of {RECORDS:,} record(s) read")
            assert f"({PROGRESS_STEP * 100 // RECORDS} %)" in running
            assert "UTC by aino." in running

            # Another auditor pressing the button is shown the same job.
            again = _start(_visitor(app, "eino"))
            assert "UTC by aino." in again
            assert 'id="progress"' in again
            # An operator sees neither the job nor its verdict.
            assert _visitor(app, "olli").get("/audit/verify").status_code == 403
        finally:
            gate.open.set()
        verdict = _until(aino, 'id="verdict"')
        assert checkpoints > 1
        assert f"Holds: 1 chain(s), {RECORDS} record(s), {checkpoints} checkpoint(s)." in verdict
        assert 'id="anchor"' in verdict
        assert "UTC by aino, took" in verdict
        assert "hx-trigger" not in verdict  # the page stops asking
        assert "Verify again" in verdict
        # The audit page keeps the last verdict until the next verification.
        assert f"Holds: 1 chain(s), {RECORDS} record(s)" in aino.get("/audit").text


def test_stopping_the_console_stops_the_job_and_says_so(console: Console) -> None:
    app, gate, _checkpoints = console
    with _running(app, "aino") as aino:
        _start(aino)
        assert gate.reached.wait(60)
        # The console stops (its lifespan ends) while the job is held; the reader then
        # goes on to its next thousand records and stops there.
        threading.Timer(0.5, gate.open.set).start()
    with _running(app, "aino") as restarted:
        fragment = restarted.get("/audit/verify").text
    assert "Not verified: stopped before the end: the console shut down" in fragment
    assert "Holds" not in fragment
