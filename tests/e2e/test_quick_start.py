"""The README's quick start as a newcomer runs it: ``hub up`` at the default log level, the
example sent as written, its output tailed, Ctrl-C. The log shows what needs attention only.
"""

from __future__ import annotations

import json
import signal
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

from hub.core.redaction import MASK
from tests.e2e.conftest import RunningHub, run_hub, wait_dead
from tests.unit.test_readme_example import ROOT, _commands

pytestmark = pytest.mark.e2e

StartHub = Callable[..., RunningHub]
#: Routine lines of FastStream that once filled the log at info (eleven of each per start).
ROUTINE: Final = (
    "Auto create topics is disabled",
    "assigned to partitions",
    "is being executed",
    "event not routed",
    "audit checkpoint signed",
    # aiokafka, once per consumer, while a new broker makes its offsets topic on demand.
    "GroupCoordinatorNotAvailable",
    "Marking the coordinator dead",
)
#: An info line is a sentence and a few fields; a consumer's partition list was 300-600.
LONGEST_LINE: Final = 300


def _readme(name: str) -> list[str]:
    [command] = [c for c in _commands() if c[0] == name and c[1].startswith(("in.", "out."))]
    return command


def test_the_quick_start_runs_as_written_and_logs_quietly(start_hub: StartHub) -> None:
    hub = start_hub(HUB_LOG_LEVEL="info")
    hub.wait_ready()

    send = _readme("send")
    sent = run_hub(*send[:2], str(ROOT / send[2]), env=hub.env)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == f"sent 1 message(s) to {send[1]}"

    tail = _readme("tail")
    # The hub translates in its own time: wait for the one message, then the README's own
    # command (which stops at the end of the topic) shows it.
    waited = run_hub(*tail, "--count", "1", "--timeout", "30", env=hub.env)
    assert waited.returncode == 0, waited.stderr
    shown = run_hub(*tail, env=hub.env)
    assert shown.returncode == 0, shown.stderr
    header, *rest = shown.stdout.splitlines()
    assert header.startswith(f"── {tail[1]}[")
    # Kela's XML, identity code masked, still a well-formed document with the mask as text.
    document = "\n".join(line for line in rest if not line.startswith("   "))
    root = ET.fromstring(document.split("?>", 1)[1])  # noqa: S314 - the hub's own output.
    [code] = [e.text for e in root if e.tag.endswith("Henkilotunnus")]
    assert code == MASK

    assert hub.stop(signal.SIGINT) == 0
    assert wait_dead(hub.broker_pid)
    err = hub.stderr()
    lines = err.splitlines()
    for routine in ROUTINE:
        assert routine not in err
    assert max(len(line) for line in lines) <= LONGEST_LINE, max(lines, key=len)
    events = [json.loads(line)["event"] for line in lines if line.startswith("{")]
    assert "hub up" in events
    assert "hub stopped" in events


def test_tail_without_follow_stops_at_the_end_and_says_so(
    start_hub: StartHub, tmp_path: Path
) -> None:
    hub = start_hub()
    hub.wait_ready()
    empty = run_hub("tail", "out.ph.referral-status", "--from-beginning", env=hub.env)
    assert (empty.returncode, empty.stdout) == (0, "")
    assert "no messages on out.ph.referral-status; --follow waits for new ones" in empty.stderr
    lines = tmp_path / "two.txt"
    lines.write_text("one\n\ntwo\n", encoding="utf-8")
    sent = run_hub("send", "in.kela.benefit-day", str(lines), "--lines", env=hub.env)
    assert sent.stdout.strip() == "sent 2 message(s) to in.kela.benefit-day"
    both = run_hub("tail", "in.kela.benefit-day", "--from-beginning", "--json", env=hub.env)
    assert [json.loads(line)["value"] for line in both.stdout.splitlines()] == ["one", "two"]
    assert hub.stop(signal.SIGINT) == 0
    assert wait_dead(hub.broker_pid)
