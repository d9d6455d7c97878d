"""While Kafka is away, each kind of Kafka client line is shown once per 30 s, not thousands
of times, and the next one shown says how many like it were left out."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from hub.core.library_noise import RATION_WINDOW_S, RepeatsRationed
from hub.core.logs import configure_logging

pytestmark = pytest.mark.usefixtures("restore_logging")

UNREACHABLE = "Unable connect to node with id %s: %s"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _record(name: str, msg: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


@pytest.fixture
def clock() -> Clock:
    """The ration's clock."""
    return Clock()


@pytest.fixture
def ration(clock: Clock) -> Iterator[RepeatsRationed]:
    """A ration on the Kafka client's lines, the client's logger at warning as the hub sets it."""
    logger = logging.getLogger("aiokafka")
    saved = logger.level
    logger.setLevel(logging.WARNING)
    yield RepeatsRationed(clock=clock)
    logger.setLevel(saved)


@pytest.mark.parametrize(
    ("after_s", "shown"),
    [
        (0.0, False),
        (RATION_WINDOW_S - 1, False),
        (RATION_WINDOW_S - 0.001, False),
        (RATION_WINDOW_S, True),
        (RATION_WINDOW_S + 1, True),
    ],
)
def test_a_repeat_is_left_out_until_the_window_has_passed(
    ration: RepeatsRationed, clock: Clock, after_s: float, shown: bool
) -> None:
    assert ration.filter(_record("aiokafka", UNREACHABLE, 1, "refused"))
    clock.now += after_s
    assert ration.filter(_record("aiokafka", UNREACHABLE, 1, "refused")) is shown


def test_the_next_line_shown_counts_those_left_out(ration: RepeatsRationed, clock: Clock) -> None:
    assert ration.filter(_record("aiokafka", UNREACHABLE, 1, "refused"))
    for _ in range(499):
        clock.now += 0.05
        assert not ration.filter(_record("aiokafka", UNREACHABLE, 1, "refused"))
    clock.now += RATION_WINDOW_S
    shown = _record("aiokafka", UNREACHABLE, 1, "timed out")
    assert ration.filter(shown)
    # The window counts from the line shown before, not from the last one left out.
    elapsed = round(499 * 0.05 + RATION_WINDOW_S)
    assert shown.getMessage() == (
        f"Unable connect to node with id 1: timed out (499 more like this in the last {elapsed} s,"
        " not shown)"
    )
    # Counted afresh from there: the one after that says nothing when none were left out.
    clock.now += RATION_WINDOW_S
    again = _record("aiokafka", UNREACHABLE, 1, "refused")
    assert ration.filter(again)
    assert again.getMessage() == "Unable connect to node with id 1: refused"


def test_kinds_are_rationed_apart(ration: RepeatsRationed) -> None:
    assert ration.filter(_record("aiokafka", UNREACHABLE, 1, "refused"))
    assert ration.filter(_record("aiokafka", "Unable to update metadata from %s", [1]))
    assert ration.filter(_record("aiokafka.consumer.fetcher", UNREACHABLE, 1, "refused"))
    assert not ration.filter(_record("aiokafka.consumer.fetcher", UNREACHABLE, 2, "reset"))


@pytest.mark.parametrize("name", ["hub.broker.watch", "faststream", "aiokafkaesque", "root"])
def test_other_lines_are_never_rationed(ration: RepeatsRationed, name: str) -> None:
    for _ in range(5):
        assert ration.filter(_record(name, "Kafka still unreachable"))


def test_at_debug_every_client_line_is_shown(ration: RepeatsRationed) -> None:
    logging.getLogger("aiokafka").setLevel(logging.DEBUG)
    for _ in range(5):
        assert ration.filter(_record("aiokafka", UNREACHABLE, 1, "refused"))


def test_the_hub_log_shows_a_storm_of_client_errors_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", "json")
    client = logging.getLogger("aiokafka")
    for _ in range(1000):
        client.error(UNREACHABLE, 1, "[Errno 111] Connect call failed")
    logging.getLogger("hub.broker.watch").warning("Kafka still unreachable")
    logging.getLogger("hub.broker.watch").warning("Kafka still unreachable")
    events = [json.loads(line)["event"] for line in capsys.readouterr().err.splitlines()]
    assert events == [
        "Unable connect to node with id 1: [Errno 111] Connect call failed",
        "Kafka still unreachable",
        "Kafka still unreachable",
    ]


def test_kinds_remembered_are_bounded(ration: RepeatsRationed) -> None:
    limit = 1024
    dead = "Marking the coordinator dead for group g"
    for group in range(limit):
        assert ration.filter(_record("aiokafka", f"{dead}{group}"))
    # At the bound, still remembered: rationed.
    assert not ration.filter(_record("aiokafka", f"{dead}0"))
    # One kind more: forgotten, and shown again.
    assert ration.filter(_record("aiokafka", f"{dead}{limit}"))
    assert ration.filter(_record("aiokafka", f"{dead}0"))
