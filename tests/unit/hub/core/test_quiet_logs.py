"""An operator's log at info shows what needs attention: routine goes to debug and counters."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from connectors import CONNECTORS
from hub.app.runtime import renderers_for
from hub.audit import open_recorder
from hub.audit.records import AuditDraft, Direction
from hub.core.library_noise import FASTSTREAM_LOGGER
from hub.core.logs import configure_logging
from hub.core.settings import load_settings
from hub.distribution.contracts import load_contract_book
from hub.distribution.routes import NOT_ROUTED, route_event
from tests.support import benefit_day_event

pytestmark = pytest.mark.usefixtures("restore_logging")

#: FastStream's routine lines, as FastStream 0.7 words them, with the level it uses.
ROUTINE = (
    (logging.WARNING, "Auto create topics is disabled. Make sure the topics exist."),
    (
        logging.INFO,
        "Consumer paijathame-hub-25c19b3f-b41d-41a5-9d7e-5db12ac80d6e assigned to partitions: "
        "(TopicPartition(topic='in.lahti.client-status', partition=0))",
    ),
    (logging.INFO, "callback for Task-106 is being executed..."),
)
ATTENTION = "Consumer in group hub.kela has had no partition assignments for 60 seconds"


@pytest.fixture(autouse=True)
def faststream_logger_as_found() -> Iterator[logging.Logger]:
    """FastStream's logger without the hub's filter, as before the first configure_logging."""
    logger = logging.getLogger(FASTSTREAM_LOGGER)
    saved = logger.filters[:]
    logger.filters.clear()
    yield logger
    logger.filters[:] = saved


def _emit_faststream_lines() -> None:
    logger = logging.getLogger(FASTSTREAM_LOGGER)
    for level, message in ROUTINE:
        logger.log(level, message)
    logger.warning(ATTENTION)


def _records(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines()]


def test_routine_faststream_lines_are_not_shown_at_info(
    capsys: pytest.CaptureFixture[str], faststream_logger_as_found: logging.Logger
) -> None:
    configure_logging("info", "json")
    configure_logging("info", "json")  # configured twice, as a test run or a CLI may do
    assert len(faststream_logger_as_found.filters) == 1
    _emit_faststream_lines()
    records = _records(capsys.readouterr().err)
    assert [(r["level"], r["event"]) for r in records] == [("warning", ATTENTION)]


def test_routine_faststream_lines_are_debug_detail(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("debug", "json")
    _emit_faststream_lines()
    records = _records(capsys.readouterr().err)
    assert [(r["level"], r["event"]) for r in records] == [
        *(("debug", message) for _level, message in ROUTINE),
        ("warning", ATTENTION),
    ]


def test_an_event_nobody_may_receive_is_counted_and_logged_at_debug_only() -> None:
    renderers = renderers_for(CONNECTORS)
    book = load_contract_book(renderers)
    before = NOT_ROUTED["benefit-day"]
    value = benefit_day_event(home_municipality="091").model_dump_json().encode()
    with capture_logs() as logs:
        assert route_event(book, renderers, "benefit-day", value) == []
    assert NOT_ROUTED["benefit-day"] == before + 1
    assert [(e["log_level"], e["event"]) for e in logs] == [("debug", "event not routed")]


@pytest.mark.usefixtures("cli_env")
def test_a_signed_audit_checkpoint_is_debug_detail() -> None:
    recorder = open_recorder(load_settings())
    try:
        recorder.record("in.kela.benefit-day/0", [AuditDraft(Direction.CONSUMED, b"x", "t", 0, 0)])
        with capture_logs() as logs:
            assert recorder.checkpoint()
    finally:
        recorder.store.close()
    assert [(e["log_level"], e["event"]) for e in logs] == [("debug", "audit checkpoint signed")]
