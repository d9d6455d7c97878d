"""``hub deadletters list|show|resubmit|close`` against a real Apache Kafka and audit store."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from hub.audit.records import Direction
from hub.audit.signing import load_or_create_signing_key
from hub.audit.store import RecordQuery, open_audit_store
from hub.cli import main
from hub.console.deadletters import DEADLETTER_CHAIN, RESUBMIT_OF
from hub.core.topics import DEADLETTER_TOPIC
from hub.routing.deadletter import DeadLetter, FileSource, KafkaSource
from tests.integration.conftest import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]

CODE = "131052-930V"


async def _ensure_topics(bootstrap: str, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for name in names:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()


async def _dead_letter(bootstrap: str, letter: DeadLetter) -> tuple[int, int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        headers = [(name, value.encode()) for name, value in letter.headers().items()]
        landed = await producer.send_and_wait(DEADLETTER_TOPIC, letter.value, headers=headers)
    finally:
        await producer.stop()
    return landed.partition, landed.offset


@pytest.fixture
def hub_env(kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    load_or_create_signing_key(None, data_dir, may_generate=True)
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("HUB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HUB_LOG_FORMAT", "json")
    monkeypatch.setenv("HUB_PSEUDONYM_SECRET", "integration-test-secret-0123456789abcdef")
    return data_dir


def _listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, str]]:
    assert main(["deadletters", "list", "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_resubmit_an_edited_dead_letter_and_close_another(
    hub_env: Path, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    asyncio.run(_ensure_topics(kafka_bootstrap, DEADLETTER_TOPIC, source))
    original = f'{{"hetu": "{CODE}", "date": "2025-13-01"}}'.encode()
    broken = DeadLetter(
        original, "bad-date", f"month 13 for {CODE}", KafkaSource(source, 0, 7), "authorities"
    )
    first = asyncio.run(_dead_letter(kafka_bootstrap, broken))
    second = asyncio.run(
        _dead_letter(
            kafka_bootstrap,
            DeadLetter(b"junk", "malformed-json", "no JSON", KafkaSource(source, 0, 8), "kela"),
        )
    )
    first_id, second_id = f"{first[0]}:{first[1]}", f"{second[0]}:{second[1]}"

    listed = _listed(capsys, "--source-topic", source)
    assert [(row["id"], row["reason"], row["state"]) for row in listed] == [
        (second_id, "malformed-json", "open"),  # newest first, as in the console
        (first_id, "bad-date", "open"),
    ]
    assert listed[1]["detail"] == "month 13 for [hetu]"
    # At most --limit, the newest, and stderr says how many match.
    assert main(["deadletters", "list", "--json", "--source-topic", source, "--limit", "1"]) == 0
    limited = capsys.readouterr()
    assert [json.loads(line)["id"] for line in limited.out.splitlines()] == [second_id]
    assert "the newest 1 of 2 matching dead letters" in limited.err
    assert main(["deadletters", "list", "--json", "--source-topic", source, "--limit", "2"]) == 0
    whole = capsys.readouterr()
    assert [json.loads(line) for line in whole.out.splitlines()] == listed
    assert "matching" not in whole.err
    # Piped, the list is tab-separated and whole (a table would be cut at 80 columns).
    assert main(["deadletters", "list", "--source-topic", source]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["id", "time", "reason", "source", "state", "detail"]
    assert [line.split("\t")[0] for line in lines[1:]] == [second_id, first_id]
    assert lines[2].split("\t")[2:] == ["bad-date", f"{source}[0]@7", "open", "month 13 for [hetu]"]
    assert [
        row["id"] for row in _listed(capsys, "--source-topic", source, "--reason", "bad-date")
    ] == [first_id]

    assert main(["deadletters", "show", first_id]) == 0
    shown = capsys.readouterr().out
    assert "[hetu]" in shown
    assert CODE not in shown
    assert main(["deadletters", "show", first_id, "--original"]) == 0
    assert capsys.readouterr().out.encode() == original

    # A reason is required, and it must say something.
    assert main(["deadletters", "resubmit", first_id, "--reason", "  "]) == 2
    assert "a reason is required" in capsys.readouterr().err

    corrected = tmp_path / "corrected.json"
    corrected.write_text('{"hetu": "[hetu]", "date": "2025-12-01"}')
    assert (
        main(
            [
                "deadletters",
                "resubmit",
                first_id,
                "--payload",
                str(corrected),
                "--reason",
                "month typed as 13 by the partner, confirmed 12 by phone",
                "--by",
                "olli",
            ]
        )
        == 0
    )
    said = capsys.readouterr().out
    assert f"resubmitted {first_id} (edited payload) to {source}[0]@0" in said

    arrived = asyncio.run(read_topic(kafka_bootstrap, source, until=lambda rs: len(rs) >= 1))
    assert arrived[0].value == f'{{"hetu": "{CODE}", "date": "2025-12-01"}}'.encode()
    assert (
        dict(arrived[0].headers)[RESUBMIT_OF]
        == f"{DEADLETTER_TOPIC}/{first[0]}/{first[1]}".encode()
    )

    # Once resubmitted, neither again nor closed.
    assert main(["deadletters", "resubmit", first_id, "--reason", "again"]) == 1
    assert "already resubmitted by olli" in capsys.readouterr().err
    assert main(["deadletters", "close", second_id, "--reason", "test junk", "--by", "olli"]) == 0
    capsys.readouterr()

    states = {row["id"]: row["state"] for row in _listed(capsys, "--source-topic", source)}
    assert states == {first_id: "resubmitted", second_id: "closed"}
    assert [row["id"] for row in _listed(capsys, "--source-topic", source, "--state", "open")] == []

    store = open_audit_store(hub_env, None)
    try:
        records = list(
            store.select(RecordQuery(directions=(Direction.RESUBMITTED, Direction.CLOSED)))
        )
    finally:
        store.close()
    assert [(r.chain, r.direction, r.replay_of) for r in records] == [
        (DEADLETTER_CHAIN, "resubmitted", f"{DEADLETTER_TOPIC}/{first[0]}/{first[1]}"),
        (DEADLETTER_CHAIN, "closed", f"{DEADLETTER_TOPIC}/{second[0]}/{second[1]}"),
    ]
    resubmitted = records[0]
    assert (resubmitted.topic, resubmitted.partition, resubmitted.offset) == (source, 0, 0)
    assert resubmitted.payload == arrived[0].value
    assert json.loads(resubmitted.detail or "") == {
        "by": "olli",
        "reason": "month typed as 13 by the partner, confirmed 12 by phone",
        "edited": True,
    }
    assert main(["audit", "verify"]) == 0
    assert "holds" in capsys.readouterr().out


def test_a_dead_letter_of_a_file_needs_a_topic_to_go_to(
    hub_env: Path, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_ensure_topics(kafka_bootstrap, DEADLETTER_TOPIC))
    letter = DeadLetter(b"X" * 20, "bad-line", "short", FileSource("kela.txt", 3), "kela")
    partition, offset = asyncio.run(_dead_letter(kafka_bootstrap, letter))
    assert main(["deadletters", "resubmit", f"{partition}:{offset}", "--reason", "retry"]) == 2
    assert "came from a file (kela.txt:3); name a topic with --to" in capsys.readouterr().err
    # --to names a partner's input topic only: never a canonical or an output topic.
    for topic in ("hub.client-status.v1", "out.kela.client-status", "in.nobody.client-status"):
        assert main(["deadletters", "resubmit", f"{partition}:{offset}", "--reason", "retry",
                     "--to", topic]) == 2  # fmt: skip
        err = capsys.readouterr().err
        assert err.startswith(f"hub: error: --to {topic!r}: a dead letter can only be sent to")
        assert len(err.strip().splitlines()) == 1
    # Without a reason: one line naming the dead letter, no usage box.
    assert main(["deadletters", "resubmit", f"{partition}:{offset}"]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"hub: error: dead letter {partition}:{offset}: a reason is required "
        "(--reason: why; kept in the audit log for good)\n"
    )
    assert main(["deadletters", "close", f"{partition}:{offset}", "--reason", " "]) == 2
    assert f"dead letter {partition}:{offset}: a reason is required" in capsys.readouterr().err


def test_unknown_dead_letters_are_one_line(
    hub_env: Path, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_ensure_topics(kafka_bootstrap, DEADLETTER_TOPIC))
    assert main(["deadletters", "show", "0:999999"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hub: error: no dead letter 0:999999")
    assert len(err.strip().splitlines()) == 1
    assert main(["deadletters", "show", "nonsense"]) == 2
    assert "is not a dead letter (PARTITION:OFFSET" in capsys.readouterr().err


def test_a_data_directory_without_room_for_the_index_still_lists_from_the_whole_topic(
    hub_env: Path, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The index's file cannot be made (a folder holds its name): as for a user who may not
    # write the data directory, the list reads the whole topic into a throw-away index.
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    asyncio.run(_ensure_topics(kafka_bootstrap, DEADLETTER_TOPIC, source))
    letter = DeadLetter(b"junk", "malformed-json", "no JSON", KafkaSource(source, 0, 3), "kela")
    partition, offset = asyncio.run(_dead_letter(kafka_bootstrap, letter))
    (hub_env / "deadletter-index.sqlite3").mkdir()
    assert main(["deadletters", "list", "--json", "--source-topic", source]) == 0
    listed = capsys.readouterr()
    assert [json.loads(line)["id"] for line in listed.out.splitlines()] == [f"{partition}:{offset}"]
    assert "note: dead-letter index: cannot open" in listed.err
    assert "reading the whole topic for this list" in listed.err
    assert [path.name for path in hub_env.iterdir() if path.name.startswith("deadletter")] == [
        "deadletter-index.sqlite3"
    ]
