"""``hub topics provision|list`` against a fresh Apache Kafka."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hub.broker.local import LocalKafka
from hub.cli import main
from hub.core.topics import TOPICS

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]


@pytest.fixture
def fresh_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalKafka]:
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    broker = LocalKafka(tmp_path / "broker")
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
    assert f"{len(TOPICS)} topic(s) missing: run `hub topics provision`" in captured.err

    assert main(["topics", "provision"]) == 0
    assert f"{len(TOPICS)} topics created, 0 already existed" in capsys.readouterr().out

    assert main(["topics", "provision"]) == 0
    assert f"0 topics created, {len(TOPICS)} already existed" in capsys.readouterr().out

    assert main(["topics", "list"]) == 0
    header, *rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert header == ["topic", "kind", "partitions", "retention (configured)", "status"]
    by_name = {row[0]: row for row in rows}
    assert set(by_name) == {spec.name for spec in TOPICS}
    assert by_name["hub.audit.v1"][1:] == ["audit", "3", "forever", "ok"]
    assert by_name["in.kela.benefit-day"][1:] == ["in", "1", "7 d", "ok"]  # corrections in order
    assert by_name["in.lahti.client-status"][1:] == ["in", "3", "7 d", "ok"]


def test_list_flags_an_input_topic_whose_partitions_break_ordering(
    fresh_broker: LocalKafka, capsys: pytest.CaptureFixture[str]
) -> None:
    async def create_wrong() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=fresh_broker.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic("in.kela.benefit-day", 3, 1)])
        finally:
            await admin.close()

    asyncio.run(create_wrong())
    assert main(["topics", "provision"]) == 0
    capsys.readouterr()
    assert main(["topics", "list"]) == 1
    captured = capsys.readouterr()
    assert "in.kela.benefit-day\tin\t3\t7 d\tneeds 1 partition(s)" in captured.out
    assert "wrong number of partitions for ordered processing" in captured.err
