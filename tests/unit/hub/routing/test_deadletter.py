"""Dead-letter headers: stable reason, masked bounded detail, source coordinates."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

from hub.routing.deadletter import (
    DLQ_CONNECTOR,
    DLQ_DETAIL,
    DLQ_ENCODING,
    DLQ_ORIGINAL_REASON,
    DLQ_ORIGINAL_SHA256,
    DLQ_ORIGINAL_SIZE,
    DLQ_QUARANTINE,
    DLQ_REASON,
    SOURCE_FILE,
    SOURCE_LINE,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TOPIC,
    TOO_LARGE_QUARANTINED,
    DeadLetter,
    FileSource,
    KafkaSource,
    compressed_form,
    quarantined_form,
    smaller_forms,
)
from hub.routing.quarantine import QuarantineEntry, QuarantineStore

CODE = "131052-930V"


def _letter(reason: str = "bad-date", detail: str = "jakso_alku is not a date") -> DeadLetter:
    return DeadLetter(
        value=f"{CODE};31.02.2025".encode(),
        reason=reason,
        detail=detail,
        source=KafkaSource("in.kela.benefit-day", 2, 17),
        connector="kela",
    )


def test_headers_carry_reason_detail_and_source() -> None:
    assert _letter().headers() == {
        DLQ_REASON: "bad-date",
        DLQ_DETAIL: "jakso_alku is not a date",
        DLQ_CONNECTOR: "kela",
        SOURCE_TOPIC: "in.kela.benefit-day",
        SOURCE_PARTITION: "2",
        SOURCE_OFFSET: "17",
    }


def test_identity_code_in_detail_is_masked_but_value_keeps_original_bytes() -> None:
    letter = _letter(detail=f"person {CODE} unknown")
    assert CODE not in "".join(letter.headers().values())
    assert CODE.encode() in letter.value


def test_detail_is_bounded() -> None:
    detail = _letter(detail="x" * 5000).headers()[DLQ_DETAIL]
    assert len(detail) == 1000
    assert detail.endswith("…")


def test_a_reason_that_is_not_a_stable_code_is_replaced() -> None:
    assert _letter(reason=f"Bad {CODE}!").headers()[DLQ_REASON] == "invalid-reason-code"


def test_a_file_line_names_file_and_line_instead_of_kafka_coordinates() -> None:
    letter = DeadLetter(b"x", "bad-date", "d", FileSource("kela-2025-03.csv", 17), "kela")
    headers = letter.headers()
    assert (headers[SOURCE_FILE], headers[SOURCE_LINE]) == ("kela-2025-03.csv", "17")
    assert SOURCE_TOPIC not in headers


# Dead letters too large for the broker: compressed, else quarantined.


def _headers() -> dict[str, str]:
    return _letter(detail="not JSON " + "y" * 995).headers()


def test_the_compressed_form_decompresses_to_the_original_bytes() -> None:
    value = b'{"hetu": "131052-930V"}' * 50_000
    form = compressed_form(value, _headers())
    assert gzip.decompress(form.value) == value
    assert len(form.value) < len(value)
    assert form.headers[DLQ_ENCODING] == "gzip"
    assert form.headers[DLQ_REASON] == "bad-date"
    assert form.headers[DLQ_ORIGINAL_SIZE] == str(len(value))
    assert form.headers[DLQ_ORIGINAL_SHA256] == hashlib.sha256(value).hexdigest()
    assert compressed_form(value, _headers()) == form  # the same bytes, the same letter


def test_the_quarantined_form_names_the_entry_and_keeps_the_first_reason() -> None:
    entry = QuarantineEntry("ab" * 32, 1_048_450)
    form = quarantined_form(_headers(), entry)
    assert form.value == b""
    assert form.headers[DLQ_REASON] == TOO_LARGE_QUARANTINED == "too-large-quarantined"
    assert form.headers[DLQ_ORIGINAL_REASON] == "bad-date"
    assert form.headers[DLQ_QUARANTINE] == entry.sha256
    assert form.headers[DLQ_ORIGINAL_SHA256] == entry.sha256
    assert form.headers[DLQ_ORIGINAL_SIZE] == "1048450"
    assert form.headers[SOURCE_OFFSET] == "17"
    detail = form.headers[DLQ_DETAIL]
    assert detail.startswith("1048450 bytes, too large for a dead letter even compressed, kept")
    assert entry.sha256 in detail
    assert "bad-date: not JSON" in detail
    assert len(detail) == 1000  # bounded
    assert form.summary == f"too-large-quarantined: {detail}"


def test_the_quarantined_form_carries_no_identity_code() -> None:
    headers = {**_headers(), DLQ_DETAIL: "131052-930V is wrong"}
    form = quarantined_form(headers, QuarantineEntry("cd" * 32, 5))
    assert CODE not in repr(form.headers)


async def test_smaller_forms_offer_compressed_then_quarantined(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    value = b"a" * 2_000_000
    forms = []
    async for form in smaller_forms(value, _headers(), store):
        forms.append(form)
        if form.headers.get(DLQ_ENCODING) == "gzip":
            assert store.entries() == []  # quarantined only when that form is asked for
    assert [f.headers[DLQ_REASON] for f in forms] == ["bad-date", "too-large-quarantined"]
    assert store.read(forms[1].headers[DLQ_QUARANTINE]) == value


async def test_incompressible_bytes_go_straight_to_quarantine(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    value = os.urandom(100_000)
    forms = [form async for form in smaller_forms(value, _headers(), store)]
    assert [f.headers[DLQ_REASON] for f in forms] == ["too-large-quarantined"]
    assert store.read(forms[0].headers[DLQ_QUARANTINE]) == value
