"""``hub audit verify`` on a terminal says that it reads the checkpoint anchors before the
records (a year's anchors on the topic take a while); piped, it says nothing of it."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from hub.audit.anchors import anchor_document, append_anchor_lines
from hub.audit.recorder import AuditRecorder
from hub.audit.records import AuditDraft, Direction
from hub.audit.signing import load_or_create_signing_key
from hub.audit.store import open_audit_store
from tests.e2e.conftest import hub_env, run_hub

pytestmark = pytest.mark.e2e

STATUS = "reading the checkpoint anchors (the anchor file)"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A data directory with a signed, anchored log; the anchor file set, no broker."""
    data_dir = tmp_path / "data"
    key = load_or_create_signing_key(None, data_dir, may_generate=True)
    store = open_audit_store(data_dir, None)
    try:
        recorder = AuditRecorder(store, key)
        recorder.record("in.example/0", [AuditDraft(Direction.CONSUMED, b"{}", "in.example", 0, 1)])
        assert recorder.checkpoint()
        anchors = tmp_path / "anchors.jsonl"
        append_anchor_lines(anchors, [anchor_document(c) for c in store.unanchored()])
    finally:
        store.close()
    return hub_env(data_dir, HUB_AUDIT_ANCHOR_FILE=str(anchors))


def _on_a_terminal(env: dict[str, str], *args: str) -> str:
    """What ``hub`` prints on a terminal (a pseudo-terminal), stdout and stderr together."""
    primary, secondary = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    printed = b""
    try:
        while select.select([primary], [], [], 60)[0]:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the other end closed: the command has ended
                break
            if not chunk:
                break
            printed += chunk
    finally:
        os.close(primary)
        assert process.wait(60) == 0
    return printed.decode()


def test_on_a_terminal_verify_says_it_reads_the_anchors(env: dict[str, str]) -> None:
    printed = _on_a_terminal(env, "audit", "verify", "--no-anchor-topic")
    assert STATUS in printed
    assert "held against checkpoint 1 anchored on" in printed
    assert printed.rstrip().endswith("holds")


def test_piped_verify_says_nothing_of_it(env: dict[str, str]) -> None:
    piped = run_hub("audit", "verify", "--no-anchor-topic", env=env)
    assert piped.returncode == 0, piped.stderr
    assert "held against checkpoint 1" in piped.stdout
    assert "checkpoint anchors" not in piped.stderr + piped.stdout
