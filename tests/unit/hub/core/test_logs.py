"""Logging never lets an identity code out: fields, messages, exceptions, foreign loggers."""

from __future__ import annotations

import json
import logging
import re

import pytest
from structlog.testing import capture_logs

from connectors import CONNECTORS
from hub.app.runtime import renderers_for
from hub.core.logs import configure_logging, get_logger
from hub.core.redaction import MASK, mask_identity_codes, redact_value
from hub.distribution.contracts import load_contract_book
from hub.distribution.routes import route_event
from tests.support import benefit_day_event

# Temporary individual numbers (900-999) only; the second uses a 2023 century sign.
CODE = "131052-930V"
CODE_2023 = "010105B9789"

pytestmark = pytest.mark.usefixtures("restore_logging")


def test_masks_codes_with_every_century_sign() -> None:
    text = f"a {CODE} b {CODE_2023} c 010190+999W d 311299U9008"
    masked = mask_identity_codes(text)
    assert masked == f"a {MASK} b {MASK} c {MASK} d {MASK}"


def test_masks_invalid_codes_that_only_look_like_one() -> None:
    assert mask_identity_codes("310299-999X") == MASK


def test_leaves_longer_digit_runs_and_normal_text_alone() -> None:
    text = "order 1234567890123 and K2025-000123456 and p-0123456789abcdef0123456789abcdef"
    assert mask_identity_codes(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"hetu{CODE}", f"hetu{MASK}"),
        (f"{CODE}x", f"{MASK}x"),
        (f"ID{CODE_2023}:", f"ID{MASK}:"),
        (CODE.lower(), MASK),
        (f"x{CODE_2023.lower()}y", f"x{MASK}y"),
        (f"abcdefabcd{CODE}", f"abcdefabcd{MASK}"),  # hex letters before it make no digest
    ],
)
def test_masks_codes_glued_to_letters_and_in_lower_case(text: str, masked: str) -> None:
    assert mask_identity_codes(text) == masked


_DIGEST = "c0ffee123456a1234bcdef0123456789c0ffee123456a1234bcdef0123456789"


@pytest.mark.parametrize(
    "text",
    [
        "ab123456-1234-5678-9abc-123456a12345",  # a UUID
        "p-123456a1234bcdef0123456789abcdef",  # a pseudonymous person reference
        f"payload_sha256={_DIGEST}",
        "20251231-1234",  # inside a longer run of digits
    ],
)
def test_leaves_the_hubs_own_identifiers_and_longer_numbers_alone(text: str) -> None:
    assert re.search(r"\d{6}[-+a-f]\d{3}", text)  # each holds a code's shape
    assert mask_identity_codes(text) == text


def test_a_code_beside_a_digest_is_masked_and_the_digest_kept() -> None:
    assert mask_identity_codes(f"{_DIGEST} {CODE}") == f"{_DIGEST} {MASK}"


def test_redacts_nested_structures_and_bytes() -> None:
    value = {"a": [CODE, (b"x " + CODE.encode())], CODE: {"deep": f"<{CODE}>"}}
    assert redact_value(value) == {"a": [MASK, f"x {MASK}"], MASK: {"deep": f"<{MASK}>"}}


def test_redacts_objects_whose_text_contains_a_code() -> None:
    assert redact_value(ValueError(f"bad {CODE}")) == f"bad {MASK}"
    plain = ValueError("nothing personal")
    assert redact_value(plain) is plain


def _lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_log_lines_mask_fields_messages_and_tracebacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("debug", "json")
    log = get_logger("test")
    log.info(f"received {CODE}", person=CODE, nested={"list": [CODE_2023]})
    try:
        raise ValueError(f"cannot parse {CODE}")
    except ValueError:
        log.exception("failed")
    logging.getLogger("faststream").warning("foreign %s", CODE_2023)
    err = capsys.readouterr().err
    assert CODE not in err
    assert CODE_2023 not in err
    records = _lines(err)
    assert records[0]["person"] == MASK
    assert records[0]["event"] == f"received {MASK}"
    assert "ValueError: cannot parse [hetu]" in str(records[1]["exception"])
    assert records[2] == {**records[2], "event": f"foreign {MASK}", "logger": "faststream"}


def test_console_format_masks_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "console")
    try:
        raise RuntimeError(CODE)
    except RuntimeError:
        get_logger("test").exception("boom", person=CODE)
    err = capsys.readouterr().err
    assert "boom" in err
    assert CODE not in err


def test_level_filters_debug(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("warning", "json")
    get_logger("test").info("quiet")
    get_logger("test").warning("loud")
    assert [r["event"] for r in _lines(capsys.readouterr().err)] == ["loud"]


def test_debug_leaves_out_the_kafka_client_lines_that_print_message_bytes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("debug", "json")
    # What aiokafka prints at debug: a record's bytes, where the mask cannot find the code.
    raw = b"\x00\x16" + CODE.encode() + b"\xa8\x01K2025-000000001;"
    logging.getLogger("aiokafka.producer.producer").debug("Sending (key=%s value=%s)", None, raw)
    logging.getLogger("aiokafka.conn").debug("Request to broker: %s", raw)
    logging.getLogger("aiokafka.consumer.fetcher").debug("Adding fetch request for partition")
    logging.getLogger("aiokafka.conn").info("Connection closed")
    err = capsys.readouterr().err
    assert CODE not in err
    assert [r["event"] for r in _lines(err)] == [
        "Adding fetch request for partition",
        "Connection closed",
    ]


def test_quiet_clients_stay_quiet_on_the_payload_loggers_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", "json", quiet_clients=True)
    logging.getLogger("aiokafka.conn").error("Unable to connect")
    assert capsys.readouterr().err == ""


# --- capture_logs: how tests assert on the hub's own log lines ---------------------------------
#
# structlog.testing.capture_logs swaps structlog's processors for a capture for the length of
# a ``with`` block, so it sees exactly the events the hub's code logs, with their fields. It
# skips the rest of the pipeline, by design: the level filter, the identity-code redaction and
# the rendering, and it sees nothing logged through ``logging`` (aiokafka, FastStream). Tests of
# those (the ones above, tests/unit/hub/core/test_quiet_logs.py, and every test that scans the
# rendered output of a process for identity codes) read the rendered output instead. So does a
# test that runs the CLI in-process: its ``configure_logging`` replaces the capture.


def _not_routed() -> None:
    """Have ``hub.distribution``'s module-level logger log "event not routed" (debug)."""
    renderers = renderers_for(CONNECTORS)
    value = benefit_day_event(home_municipality="091").model_dump_json().encode()
    assert route_event(load_contract_book(renderers), renderers, "benefit-day", value) == []


def test_capture_logs_sees_a_hub_line_after_configure_logging(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("info", "json")
    # Logged once before the capture too: capture_logs changes the processor list
    # configure_logging installed in place, so a logger already in use is captured as well.
    _not_routed()
    with capture_logs() as logs:
        _not_routed()
    assert [(e["log_level"], e["event"]) for e in logs] == [("debug", "event not routed")]
    assert (logs[0]["family"], logs[0]["reason"]) == ("benefit-day", "no-recipient")
    # Nothing reached the handler while captured: the capture replaced the output.
    assert capsys.readouterr().err == ""
    get_logger("test").warning("after the capture")
    assert [r["event"] for r in _lines(capsys.readouterr().err)] == ["after the capture"]
