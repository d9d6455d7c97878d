"""Byte-level mutations of valid inputs, as a fuzzer's havoc stage makes them.

A seed (one of the partners' example messages) is changed by one to eight operations: flip a
bit, overwrite a byte, insert or delete a run of bytes, repeat a slice, truncate, or splice
in a piece of another seed. Inserted bytes favour the ones parsers care about (separators,
quotes, brackets, line endings, NUL, a byte-order mark, UTF-8 lead and continuation bytes).
Most results are near-valid, which is where parsers break.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from hypothesis import strategies as st

__all__ = ["INTERESTING_BYTES", "mutated"]

#: Bytes a parser treats specially, in some encoding or other.
INTERESTING_BYTES: Final[tuple[bytes, ...]] = (
    b"\x00", b"\xff", b"\x80", b"\xc0", b"\xc3", b"\xa4", b"\xed\xa0\x80", b"\xef\xbb\xbf",
    b";", b",", b"\t", b" ", b'"', b"'", b"\\", b"\r", b"\n", b"\r\n",
    b"{", b"}", b"[", b"]", b":", b"-", b"+", b".", b"0", b"9", b"e", b"E", b"A", b"Y",
    b"null", b"true", b"NaN", b"1e999", b"\xc3\xa4",
)  # fmt: skip

_OPERATIONS: Final = ("flip", "overwrite", "insert", "delete", "repeat", "truncate", "splice")


def _insertion() -> st.SearchStrategy[bytes]:
    return st.sampled_from(INTERESTING_BYTES) | st.binary(min_size=1, max_size=16)


@st.composite
def _mutated(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for operation in draw(st.lists(st.sampled_from(_OPERATIONS), min_size=1, max_size=8)):
        # Positions are drawn within the current length, so operations compose.
        at = draw(st.integers(0, len(data)))
        end = draw(st.integers(at, min(len(data), at + 64)))
        if operation == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif operation == "overwrite" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif operation == "insert":
            data[at:at] = draw(_insertion())
        elif operation == "delete":
            del data[at:end]
        elif operation == "repeat":
            data[end:end] = data[at:end] * draw(st.integers(1, 50))
        elif operation == "truncate":
            del data[at:]
        elif operation == "splice":
            other = draw(st.sampled_from(seeds))
            start = draw(st.integers(0, len(other)))
            data[at:end] = other[start : start + draw(st.integers(0, 64))]
    return bytes(data)


def mutated(seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    """Seeds changed by a few byte-level operations (see the module docstring)."""
    return _mutated(seeds)
