"""``check_file`` refuses a file that is not UTF-8 and names the first line that is not, while
decoding whole blocks of lines at once.

The reference is the check as it was, one line at a time through an incremental decoder: for
any file and any block size both give the same answer.
"""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.kela import file_ingest
from connectors.kela.file_ingest import FileUnusableError, check_file
from connectors.kela.native import HEADER

_HEADER = HEADER.encode() + b"\n"


def _line_by_line(path: Path) -> str | None:
    """The refusal's text (or None) as the line-by-line check gave it."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            decoder.decode(handle.readline())
        except UnicodeDecodeError:
            return f"{path}: not UTF-8 at line 1"
        for number, raw in enumerate(handle, start=2):
            try:
                decoder.decode(raw)
            except UnicodeDecodeError:
                return f"{path}: not UTF-8 at line {number}"
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return f"{path}: not UTF-8 at the end of the file"
    return None


def _refusal(path: Path) -> str | None:
    try:
        check_file(path)
    except FileUnusableError as refusal:
        return str(refusal)
    return None


pieces = st.sampled_from(
    [b"K1;x", "\u00e4".encode(), "\u20ac".encode(), b"\xe4", b"\xc3", b"\xe2\x82", b"\xff", b";"]
)
lines = st.lists(pieces, max_size=4).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(
    body=st.lists(lines, max_size=8),
    last_newline=st.booleans(),
    block=st.integers(1, 40),
)
def test_the_refusal_names_the_line_the_line_by_line_check_named(
    body: list[bytes], last_newline: bool, block: int
) -> None:
    data = _HEADER + b"\n".join(body) + (b"\n" if last_newline and body else b"")
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(file_ingest, "_CHECKED_AT_ONCE", block)
        path = Path(folder) / "kela.csv"
        path.write_bytes(data)
        assert _refusal(path) == _line_by_line(path)


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [(3, "line 3"), (4, "line 4"), (5, "line 5"), (6, "line 6")],
    ids=["before-the-block-boundary", "last-of-first-block", "first-of-second-block", "after"],
)
def test_a_bad_byte_at_a_block_boundary_is_found_on_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad_line: int, expected: str
) -> None:
    # Lines of 10 bytes, blocks of 30: lines 2-4 are the first block, 5-7 the second.
    monkeypatch.setattr(file_ingest, "_CHECKED_AT_ONCE", 30)
    body = [b"K1;abcde\xff\n" if number == bad_line else b"K1;abcdef\n" for number in range(2, 8)]
    path = tmp_path / "kela.csv"
    path.write_bytes(_HEADER + b"".join(body))
    assert _refusal(path) == f"{path}: not UTF-8 at {expected}"


def test_a_character_cut_short_by_the_end_of_the_file_is_refused_there(tmp_path: Path) -> None:
    path = tmp_path / "kela.csv"
    path.write_bytes(_HEADER + b"K1;x\nK2;\xe2\x82")
    assert _refusal(path) == f"{path}: not UTF-8 at the end of the file"
    path.write_bytes(_HEADER + b"K1;x\nK2;\xe2\x82\n")
    assert _refusal(path) == f"{path}: not UTF-8 at line 3"


def test_a_file_of_utf8_lines_is_accepted_whatever_the_block(tmp_path: Path) -> None:
    path = tmp_path / "kela.csv"
    path.write_bytes(_HEADER + "K1;\u00e4\u20ac\nK2;x".encode())
    assert _refusal(path) is None


def test_a_header_that_is_not_utf8_is_refused_at_line_1(tmp_path: Path) -> None:
    path = tmp_path / "kela.csv"
    path.write_bytes(b"tapahtumatunnus\xff;hetu\nK1;x\n")
    assert _refusal(path) == f"{path}: not UTF-8 at line 1"


def test_an_unusable_file_is_refused_with_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "kela.csv"
    assert _refusal(path) == f"{path}: cannot open: No such file or directory"
    path.write_bytes(b" \n")
    assert _refusal(path) == f"{path}: empty file (no header line)"
    path.write_bytes(b"tapahtumatunnus;hetu\n")
    refusal = _refusal(path)
    assert refusal is not None
    assert refusal.startswith(f"{path}: line 1: ")
