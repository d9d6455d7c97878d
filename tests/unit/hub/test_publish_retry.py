"""Publishing one output: the first try without a retry context, then tenacity's backoff, and a
retry looks for an earlier attempt that may have landed before it publishes again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from aiokafka.errors import KafkaTimeoutError
from faststream.kafka import KafkaBroker

from hub.landings import Landing, Landings
from hub.pipeline import Outgoing, _publish_once

MESSAGE = Outgoing("out.example", b"{}", b"p-1", {}, event_id="e-1")


@dataclass
class _Metadata:
    partition: int
    offset: int


@dataclass
class FlakyBroker:
    """Fails its first ``failures`` publishes with ``error``, then puts each at the next offset."""

    failures: int = 0
    error: Exception = field(default_factory=KafkaTimeoutError)
    calls: int = 0
    published: list[bytes] = field(default_factory=list)

    async def publish(self, value: bytes, **_: Any) -> _Metadata:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        self.published.append(value)
        return _Metadata(0, len(self.published) - 1)


class FoundLandings(Landings):
    """A search that finds the event at ``found`` (None: not on the topic)."""

    def __init__(self, found: Landing | None) -> None:
        super().__init__({})
        self.found = found
        self.searches = 0

    async def find(self, topic: str, event_id: str, floors: Mapping[int, int]) -> Landing | None:
        self.searches += 1
        return self.found


async def _publish(
    broker: FlakyBroker,
    message: Outgoing = MESSAGE,
    landings: Landings | None = None,
    look_above: Mapping[int, int] | None = None,
) -> Landing:
    return await _publish_once(cast("KafkaBroker", broker), message, landings, look_above)


async def test_a_publish_that_works_is_tried_once_and_looks_for_nothing() -> None:
    broker, landings = FlakyBroker(), FoundLandings(Landing(0, 7))
    assert await _publish(broker, landings=landings, look_above={0: 3}) == Landing(0, 0)
    assert (broker.calls, landings.searches) == (1, 0)


async def test_a_transient_failure_is_tried_again() -> None:
    broker = FlakyBroker(failures=2)
    assert await _publish(broker) == Landing(0, 0)
    assert broker.calls == 3
    assert broker.published == [MESSAGE.value]


async def test_a_failure_that_is_not_transient_is_raised_at_once() -> None:
    broker = FlakyBroker(failures=1, error=ValueError("not Kafka's"))
    with pytest.raises(ValueError, match="not Kafka's"):
        await _publish(broker)
    assert broker.calls == 1


async def test_a_retry_that_finds_the_earlier_attempt_landed_does_not_publish_again() -> None:
    broker, landings = FlakyBroker(failures=1), FoundLandings(Landing(2, 41))
    assert await _publish(broker, landings=landings, look_above={2: 40}) == Landing(2, 41)
    assert (broker.calls, broker.published, landings.searches) == (1, [], 1)


async def test_a_retry_that_finds_nothing_publishes_again() -> None:
    broker, landings = FlakyBroker(failures=1), FoundLandings(None)
    assert await _publish(broker, landings=landings, look_above={0: 0}) == Landing(0, 0)
    assert (broker.calls, landings.searches) == (2, 1)


async def test_a_message_an_earlier_run_may_have_published_is_looked_for_first() -> None:
    broker, landings = FlakyBroker(), FoundLandings(Landing(1, 5))
    message = Outgoing("out.example", b"{}", b"p-1", {}, event_id="e-1", landed_after={1: 4})
    assert await _publish(broker, message, landings, {1: 4}) == Landing(1, 5)
    assert (broker.calls, landings.searches) == (0, 1)
