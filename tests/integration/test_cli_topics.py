"""``hub topics provision|list`` against a fresh embedded broker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.broker.embedded import EmbeddedBroker
from hub.cli import main
from hub.topics import TOPICS

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]


@pytest.fixture
def fresh_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedBroker]:
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log")
    broker.start()
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", broker.bootstrap)
    monkeypatch.setenv("HUB_LOG_FORMAT", "json")
    try:
        yield broker
    finally:
        broker.stop()


@pytest.mark.usefixtures("fresh_broker")
def test_list_flags_missing_topics_until_provisioned(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topics", "list"]) == 1
    captured = capsys.readouterr()
    assert "23 topic(s) missing: run `hub topics provision`" in captured.err

    assert main(["topics", "provision"]) == 0
    assert f"{len(TOPICS)} topics created, 0 already existed" in capsys.readouterr().out

    assert main(["topics", "provision"]) == 0
    assert f"0 topics created, {len(TOPICS)} already existed" in capsys.readouterr().out

    assert main(["topics", "list"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    by_name = {row[0]: row for row in rows}
    assert set(by_name) == {spec.name for spec in TOPICS}
    assert by_name["hub.audit.v1"][1:] == ["audit", "3", "forever", "ok"]
    assert by_name["in.kela.benefit-day"][1:] == ["in", "3", "7 d", "ok"]
