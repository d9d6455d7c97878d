"""How ``hub tail`` shows a message: masked by default, pretty JSON, never crashes on bytes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from hub.admin.topic_io import TailedMessage
from hub.cli.tail_send import render_message
from hub.core.redaction import MASK, mask_identity_codes

CODE = "131052-930V"


def _message(value: bytes | None, key: bytes | None = b"p-1") -> TailedMessage:
    return TailedMessage(
        topic="in.lahti.client-status",
        partition=2,
        offset=7,
        timestamp_ms=1_740_000_000_000,
        key=key,
        value=value,
        headers=(("content-type", b"application/json"), ("note", CODE.encode())),
    )


def test_identity_codes_are_masked_everywhere_unless_revealed() -> None:
    message = _message(f'{{"hetu": "{CODE}"}}'.encode(), key=CODE.encode())
    masked = render_message(message, reveal=False, as_json=False)
    assert CODE not in masked
    assert masked.count("[hetu]") == 3
    assert CODE in render_message(message, reveal=True, as_json=False)


def test_json_values_are_pretty_printed_with_coordinates() -> None:
    text = render_message(_message(b'{"a":1,"b":[2]}'), reveal=False, as_json=False)
    assert text.splitlines()[0].startswith("── in.lahti.client-status[2]@7  2025-02-19T")
    assert '  "a": 1,' in text


def test_json_mode_is_one_parseable_line() -> None:
    line = render_message(_message(b"not json \xff"), reveal=False, as_json=True)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["value"] == "not json \\xff"
    assert parsed["headers"]["note"] == "[hetu]"
    assert (parsed["partition"], parsed["offset"], parsed["key"]) == (2, 7, "p-1")


def test_null_value_is_shown_as_null() -> None:
    assert render_message(_message(None), reveal=False, as_json=False).endswith("(null)")


def test_a_masked_xml_document_stays_well_formed_with_the_mask_as_text() -> None:
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<T xmlns="urn:fi:kela:tvpt:1"><Henkilotunnus>{CODE}</Henkilotunnus></T>'
    ).encode()
    shown = render_message(_message(document), reveal=False, as_json=False)
    body = shown.split("\n", 3)[3]
    root = ET.fromstring(body.encode())  # noqa: S314 - the test's own document.
    assert [child.text for child in root] == [MASK]
    assert len(root) == 1


def test_a_masked_json_string_needs_no_escaping() -> None:
    masked = mask_identity_codes(json.dumps({"hetu": CODE}))
    assert json.loads(masked) == {"hetu": MASK}
    assert json.dumps(MASK) == f'"{MASK}"'
