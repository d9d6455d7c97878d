"""The dead-letter index on a real Apache Kafka: the newest letters up to a limit and how many
match, each connector's last letter, refreshes that read only what is new, a partition the
topic no longer has as the index knew it read again, two indexes on one file, and a position
the topic no longer has read from the beginning.

The session's broker is shared: each test dead-letters from a source topic (and connectors)
of its own and looks only at those.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from hub.admin.provisioning import provision_topics
from hub.audit.recorder import AuditRecorder
from hub.audit.store import open_audit_store
from hub.broker.connection import KafkaConnection
from hub.console.app import create_app
from hub.console.deadletter_index import (
    INDEX_FILE,
    DeadLetterIndex,
    DeadLetterListing,
    each_dead_letter,
)
from hub.console.deadletters import (
    DeadLetterFilter,
    DeadLetterId,
    Disposition,
    ListedLetter,
    QuarantinedLetter,
    UnknownDeadLetterError,
    read_dead_letter,
)
from hub.console.letter_state import State
from hub.console.users import Role, UserStore
from hub.core.settings import HubSettings, load_settings
from hub.core.topics import DEADLETTER_TOPIC
from hub.routing.deadletter import DeadLetter, KafkaSource
from tests.console_pages import PASSWORD, console_context, sign_in
from tests.support import free_port

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]

#: The letters' times: one second apart from here, so their order is known.
T0_MS = 1_780_000_000_000


@pytest.fixture
def connection(settings: HubSettings) -> KafkaConnection:
    connection = KafkaConnection(settings.kafka_bootstrap or "", settings)
    asyncio.run(provision_topics(connection))
    return connection


def _listing(
    connection: KafkaConnection,
    where: Path,
    known: dict[DeadLetterId, Disposition],
    wanted: DeadLetterFilter,
    limit: int,
) -> DeadLetterListing:
    """The listing from an index in ``where``, brought up to date first."""
    index = DeadLetterIndex.open(where)
    try:
        asyncio.run(index.refresh(connection))
        return index.listing(known, wanted, limit)
    finally:
        index.close()


async def _dead_letter(
    bootstrap: str,
    source: str,
    connector: str,
    reasons: list[str],
    first_second: int = 0,
    partition: int | None = None,
) -> list[DeadLetterId]:
    """Dead-letter one message per reason from ``source``, a second apart (on ``partition``,
    or where the producer puts them); where they landed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        landed = []
        for index, reason in enumerate(reasons):
            letter = DeadLetter(b"{}", reason, "test", KafkaSource(source, 0, index), connector)
            headers = [(name, value.encode()) for name, value in letter.headers().items()]
            sent = await producer.send_and_wait(
                DEADLETTER_TOPIC,
                letter.value,
                headers=headers,
                timestamp_ms=T0_MS + (first_second + index) * 1000,
                partition=partition,
            )
            landed.append(DeadLetterId(sent.partition, sent.offset))
        return landed
    finally:
        await producer.stop()


@pytest.mark.parametrize(("limit", "shown"), [(0, 5), (3, 3), (4, 4), (5, 5), (6, 5)])
def test_the_newest_up_to_the_limit_and_how_many_match(
    connection: KafkaConnection, limit: int, shown: int, tmp_path: Path
) -> None:
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    reasons = ["bad-date", "malformed-json", "bad-date", "bad-date", "malformed-json"]
    landed = asyncio.run(_dead_letter(connection.bootstrap, source, "kela", reasons))
    wanted = DeadLetterFilter(source_topic=source)

    listing = _listing(connection, tmp_path, {}, wanted, limit)
    assert listing.matching == len(reasons)
    assert [letter.id for letter in listing.letters] == list(reversed(landed))[:shown]
    assert {"bad-date", "malformed-json"} <= listing.reasons
    assert source in listing.topics

    narrowed = _listing(connection, tmp_path, {}, DeadLetterFilter("bad-date", source), 2)
    assert narrowed.matching == 3
    assert [letter.id for letter in narrowed.letters] == [landed[3], landed[2]]

    # The state comes from the operators' decisions.
    known = {landed[4]: Disposition(State.CLOSED, "2026-12-03T07:00:00Z", "olli", "junk")}
    for state, ids in ((State.OPEN, list(reversed(landed[:4]))), (State.CLOSED, [landed[4]])):
        chosen = _listing(
            connection, tmp_path, known, DeadLetterFilter(source_topic=source, state=state), limit
        )
        assert chosen.matching == len(ids)
        assert [letter.id for letter in chosen.letters] == ids[: limit or None]


def test_each_connectors_last_dead_letter_and_refreshes_that_read_only_what_is_new(
    connection: KafkaConnection, tmp_path: Path
) -> None:
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    one, two = f"c1-{uuid.uuid4().hex[:6]}", f"c2-{uuid.uuid4().hex[:6]}"
    first = asyncio.run(_dead_letter(connection.bootstrap, source, one, ["a", "b"]))
    only = asyncio.run(_dead_letter(connection.bootstrap, source, two, ["c"], first_second=5))
    on_topic: list[QuarantinedLetter] = []
    asyncio.run(each_dead_letter(connection, on_topic.append))
    # Written two letters at a time while reading, as a long topic is (2,000 at a time).
    index = DeadLetterIndex.open(tmp_path, flush_rows=2)
    told: list[int] = []
    try:
        assert asyncio.run(index.refresh(connection, told.append)) == len(on_topic)
        assert told == list(range(2, len(on_topic) + 1, 2))
        every = index.listing({}, DeadLetterFilter(), 0)
        assert sorted(letter.id for letter in every.letters) == sorted(
            letter.id for letter in on_topic
        )
        seen = index.last_by_connector()
        assert (seen[one].id, seen[one].reason) == (first[1], "b")
        assert (seen[two].id, seen[two].reason) == (only[0], "c")

        # Nothing new: nothing read. One more: only it is read.
        assert asyncio.run(index.refresh(connection)) == 0
        assert index.last_by_connector()[one].id == first[1]
        newer = asyncio.run(_dead_letter(connection.bootstrap, source, one, ["d"], first_second=9))
        assert asyncio.run(index.refresh(connection)) == 1
        assert index.read == len(on_topic) + 1
        seen = index.last_by_connector()
        assert (seen[one].id, seen[one].reason) == (newer[0], "d")
        assert seen[two].id == only[0]
    finally:
        index.close()
    # Another index of the same file (the next console, the CLI) reads only what is new too.
    again = DeadLetterIndex.open(tmp_path)
    try:
        assert asyncio.run(again.refresh(connection)) == 0
        assert again.listing({}, DeadLetterFilter(source_topic=source), 0).matching == 4
    finally:
        again.close()


def test_a_connectors_last_dead_letter_is_the_latest_by_time_not_by_place(
    connection: KafkaConnection, tmp_path: Path
) -> None:
    source, connector = f"in.test.{uuid.uuid4().hex[:10]}", f"c-{uuid.uuid4().hex[:6]}"
    asyncio.run(_dead_letter(connection.bootstrap, source, connector, ["later"], 10, 0))
    asyncio.run(_dead_letter(connection.bootstrap, source, connector, ["earlier"], 5, 0))
    index = DeadLetterIndex.open(tmp_path)
    try:
        asyncio.run(index.refresh(connection))
        assert index.last_by_connector()[connector].reason == "later"
    finally:
        index.close()


def test_a_partition_recreated_since_the_index_read_it_is_read_again(
    connection: KafkaConnection, tmp_path: Path
) -> None:
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    landed = asyncio.run(_dead_letter(connection.bootstrap, source, "kela", ["x"], 0, 0))
    index = DeadLetterIndex.open(tmp_path)
    try:
        asyncio.run(index.refresh(connection))
        end = index.listing({}, DeadLetterFilter(), 0)
        # As if partition 0 had held far more before the topic was deleted and made again:
        # letters and a position the topic no longer has.
        stale = [
            ListedLetter(DeadLetterId(0, offset), dt.datetime.now(dt.UTC), {})
            for offset in range(10_000_000, 10_000_003)
        ]
        index.add(stale)
        assert index.listing({}, DeadLetterFilter(), 0).matching == end.matching + 3
        asyncio.run(index.refresh(connection))
        after = index.listing({}, DeadLetterFilter(), 0)
        assert after.matching == end.matching
        assert {letter.id for letter in after.letters} == {letter.id for letter in end.letters}
        assert landed[0] in {letter.id for letter in after.letters}
        # Read again once: the next refresh finds nothing new.
        assert asyncio.run(index.refresh(connection)) == 0
    finally:
        index.close()


def test_a_partition_whose_last_indexed_letter_is_not_on_the_topic_is_read_anew(
    connection: KafkaConnection, tmp_path: Path
) -> None:
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    landed = asyncio.run(_dead_letter(connection.bootstrap, source, "kela", ["w", "x", "y"], 0, 0))
    last = landed[1]  # the last letter the other index holds of partition 0
    on_topic: list[QuarantinedLetter] = []
    asyncio.run(each_dead_letter(connection, on_topic.append))
    topic = sorted(letter.id for letter in on_topic)
    # Written a letter at a time: the partition read anew keeps no position mid-read either.
    index = DeadLetterIndex.open(tmp_path, flush_rows=1)
    try:
        # An index of another cluster's topic (or of this one before it was made again): the
        # same places up to the topic's end on partition 0, other letters there.
        other = [
            ListedLetter(DeadLetterId(0, offset), dt.datetime.now(dt.UTC), {})
            for offset in range(last.offset + 1)
        ]
        index.add(other)
        asyncio.run(index.refresh(connection))
        # What the index held of partition 0 is gone (its last letter was not the topic's):
        # only what this refresh read from there on is left.
        held = index.listing({}, DeadLetterFilter(), 0).letters
        assert sorted(letter.id for letter in held if letter.id.partition == 0) == [
            place for place in topic if place.partition == 0 and place >= last
        ]
        # The next refresh reads partition 0 from its beginning: the index is the topic's.
        asyncio.run(index.refresh(connection))
        again = sorted(letter.id for letter in index.listing({}, DeadLetterFilter(), 0).letters)
        assert again == topic
        assert asyncio.run(index.refresh(connection)) == 0
    finally:
        index.close()


def test_two_indexes_of_one_file_refreshing_at_once_keep_each_letter_once(
    connection: KafkaConnection, tmp_path: Path
) -> None:
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    landed = asyncio.run(_dead_letter(connection.bootstrap, source, "kela", ["x", "y", "z"]))
    on_topic: list[QuarantinedLetter] = []
    asyncio.run(each_dead_letter(connection, on_topic.append))
    first, second = DeadLetterIndex.open(tmp_path), DeadLetterIndex.open(tmp_path)

    async def both() -> None:
        await asyncio.gather(first.refresh(connection), second.refresh(connection))

    try:
        asyncio.run(both())
        every = first.listing({}, DeadLetterFilter(), 0)
        assert sorted(letter.id for letter in every.letters) == sorted(
            letter.id for letter in on_topic
        )
        mine = second.listing({}, DeadLetterFilter(source_topic=source), 0)
        assert sorted(letter.id for letter in mine.letters) == sorted(landed)
    finally:
        first.close()
        second.close()
    assert (tmp_path / INDEX_FILE).stat().st_mode & 0o777 == 0o600


def test_a_position_the_topic_does_not_have_is_read_from_the_beginning(
    connection: KafkaConnection,
) -> None:
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    landed = asyncio.run(_dead_letter(connection.bootstrap, source, "kela", ["x", "y"]))
    found: list[QuarantinedLetter] = []

    reached = asyncio.run(each_dead_letter(connection, found.append))
    assert sorted(f.id for f in found if f.source_topic == source) == sorted(landed)
    # Past every partition's end (the topic was deleted and created again): from the start.
    beyond = {partition: offset + 1_000_000 for partition, offset in reached.items()}
    found.clear()
    again = asyncio.run(each_dead_letter(connection, found.append, beyond))
    assert again == reached
    assert sorted(f.id for f in found if f.source_topic == source) == sorted(landed)
    # At the end: nothing.
    found.clear()
    assert asyncio.run(each_dead_letter(connection, found.append, reached)) == reached
    assert found == []


def test_the_console_lists_the_newest_two_hundred_and_says_how_many_match(
    connection: KafkaConnection, settings: HubSettings, tmp_path: Path
) -> None:
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    reasons = ["bad-date"] * 201
    landed = asyncio.run(_dead_letter(connection.bootstrap, source, "kela", reasons))
    users = UserStore.open(tmp_path)
    users.add("olli", Role.OPERATOR, PASSWORD)
    recorder = AuditRecorder(open_audit_store(tmp_path, None), Ed25519PrivateKey.generate())
    try:
        context = console_context(settings, recorder, users)
        with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
            sign_in(client, "olli")
            page = client.get("/deadletters", params={"source_topic": source}).text
            one = client.get(
                "/deadletters", params={"source_topic": source, "until": _iso(T0_MS + 1000)}
            ).text
    finally:
        recorder.store.close()
        users.close()
    assert "The newest 200 of 201 matching dead letters; narrow them with the filters." in page
    shown = re.findall(r'<tr data-id="([0-9]+:[0-9]+)">', page)
    assert shown == [str(letter) for letter in reversed(landed[1:])]
    assert "1 matching dead letter(s)." in one
    assert re.findall(r'<tr data-id="([0-9]+:[0-9]+)">', one) == [str(landed[0])]


def test_the_console_lists_what_it_read_before_while_the_topic_cannot_be_read(
    connection: KafkaConnection, settings: HubSettings, tmp_path: Path
) -> None:
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    connector = f"c-{uuid.uuid4().hex[:6]}"
    landed = asyncio.run(_dead_letter(connection.bootstrap, source, connector, ["bad-date"]))
    users = UserStore.open(tmp_path)
    users.add("olli", Role.OPERATOR, PASSWORD)
    recorder = AuditRecorder(open_audit_store(tmp_path, None), Ed25519PrivateKey.generate())
    away = load_settings(
        kafka_bootstrap=f"127.0.0.1:{free_port()}",  # nothing listens there
        data_dir=settings.data_dir,
        pseudonym_secret="integration-test-secret-0123456789abcdef",
        kafka_connect_timeout_s=0.5,
    )
    try:
        context = console_context(settings, recorder, users)
        with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
            sign_in(client, "olli")
            before = client.get("/deadletters", params={"source_topic": source}).text
            context.connection = KafkaConnection(away.kafka_bootstrap or "", away)
            during = client.get("/deadletters", params={"source_topic": source})
            flows = client.get("/flows/table").text
    finally:
        recorder.store.close()
        users.close()
    assert 'id="stale"' not in before
    assert during.status_code == 200
    assert 'id="stale"' in during.text
    assert "the list is what the console read before" in during.text
    assert re.findall(r'<tr data-id="([0-9]+:[0-9]+)">', during.text) == [str(landed[0])]
    assert "last errors as read before" in flows
    assert "bad-date at " in flows
    assert str(landed[0]) in flows
    assert connector in flows


def _indexed(data_dir: Path, source: str) -> list[str]:
    """The letters from ``source`` the index file in ``data_dir`` holds (read, not refreshed)."""
    index = DeadLetterIndex.open(data_dir)
    try:
        listing = index.listing({}, DeadLetterFilter(source_topic=source), 0)
    finally:
        index.close()
    return [str(letter.id) for letter in listing.letters]


@pytest.mark.parametrize("every_s", [0.2, 0.0], ids=["every-0.2-s", "off"])
def test_after_its_first_list_the_console_reads_new_letters_unasked(
    connection: KafkaConnection, settings: HubSettings, tmp_path: Path, every_s: float
) -> None:
    # After a burst overnight the morning's first page should not wait for the letters: the
    # index keeps reading them in the background, once a list has opened it.
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    first = asyncio.run(_dead_letter(connection.bootstrap, source, "kela", ["bad-date"]))
    users = UserStore.open(tmp_path)
    users.add("olli", Role.OPERATOR, PASSWORD)
    recorder = AuditRecorder(open_audit_store(tmp_path, None), Ed25519PrivateKey.generate())
    try:
        context = console_context(settings, recorder, users)
        context.console = context.console.model_copy(update={"index_refresh_s": every_s})
        with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
            sign_in(client, "olli")
            client.get("/deadletters", params={"source_topic": source})
            later = asyncio.run(
                _dead_letter(connection.bootstrap, source, "kela", ["bad-amount"], 5)
            )
            waited = 0.0
            while len(indexed := _indexed(settings.data_dir, source)) < 2 and waited < 5:
                time.sleep(0.1)
                waited += 0.1
    finally:
        recorder.store.close()
        users.close()
    if every_s:
        assert indexed == [str(later[0]), str(first[0])]
    else:
        assert indexed == [str(first[0])]


def test_a_console_that_cannot_make_its_index_says_so(
    settings: HubSettings, tmp_path: Path
) -> None:
    users = UserStore.open(tmp_path)
    users.add("olli", Role.OPERATOR, PASSWORD)
    recorder = AuditRecorder(open_audit_store(tmp_path, None), Ed25519PrivateKey.generate())
    # A folder where the index file would be.
    (settings.data_dir / INDEX_FILE).mkdir(parents=True)
    try:
        context = console_context(settings, recorder, users)
        with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
            sign_in(client, "olli")
            page = client.get("/deadletters")
            flows = client.get("/flows/table").text
    finally:
        recorder.store.close()
        users.close()
    assert page.status_code == 503
    assert "dead-letter index: cannot open" in page.text
    assert "dead-letter index: cannot open" in flows


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()


async def _aborted_then_committed(bootstrap: str, source: str) -> tuple[DeadLetterId, DeadLetterId]:
    """A dead letter in a transaction that aborts (a route's batch that failed and was
    retried), then the same in one that commits; where each landed."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, transactional_id=f"test-dlq-{uuid.uuid4().hex[:8]}"
    )
    await producer.start()
    try:
        letter = DeadLetter(b"{}", "bad-date", "test", KafkaSource(source, 0, 0), "kela")
        headers = [(name, value.encode()) for name, value in letter.headers().items()]
        landed = []
        for commit in (False, True):
            await producer.begin_transaction()
            sent = await producer.send_and_wait(
                DEADLETTER_TOPIC, letter.value, headers=headers, partition=0
            )
            landed.append(DeadLetterId(sent.partition, sent.offset))
            await (producer.commit_transaction() if commit else producer.abort_transaction())
        return landed[0], landed[1]
    finally:
        await producer.stop()


def test_a_dead_letter_of_an_aborted_transaction_is_not_one(
    connection: KafkaConnection, tmp_path: Path
) -> None:
    source = f"in.test.{uuid.uuid4().hex[:10]}"
    aborted, committed = asyncio.run(_aborted_then_committed(connection.bootstrap, source))
    listing = _listing(connection, tmp_path, {}, DeadLetterFilter(source_topic=source), 0)
    assert [letter.id for letter in listing.letters] == [committed]
    assert asyncio.run(read_dead_letter(connection, committed)).id == committed
    # The aborted letter, and the commit's marker after the committed one (the partition's
    # last offset): no dead letter, said at once.
    marker = DeadLetterId(committed.partition, committed.offset + 1)
    for missing in (aborted, marker):
        with pytest.raises(UnknownDeadLetterError, match=f"no dead letter {missing}"):
            asyncio.run(asyncio.wait_for(read_dead_letter(connection, missing), 30))
