"""Hostile field values and framings shared by the structure-aware generators.

A ``FuzzInput`` is the bytes a partner might send plus the identity codes that may be in them
(``planted``): the codes of the seed document and every code the generator put somewhere.
Values are the ones that break parsers: empty, blank, huge, control characters, lone
surrogates, digits of other scripts, byte-order marks inside text, identity codes where they
do not belong (exact, inside a longer token, in free text, with a wrong check character), and
near-misses of the field's own domain. Framings add a byte-order mark, junk before or after,
other line endings and other encodings (UTF-16, UTF-32, Latin-1, cp1252).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hypothesis import strategies as st

from tests.strategies import CHECK_ALPHABET, identity_codes

__all__ = [
    "ENCODINGS",
    "FuzzInput",
    "broken_check_character",
    "encoded",
    "hostile_text",
    "placed_code",
]

#: Encodings a partner system might write by mistake; UTF-8 is drawn most often, so that
#: most inputs get past decoding to the parser proper.
ENCODINGS: Final = (
    *["utf-8"] * 20, "utf-8-sig", "utf-16", "utf-16-be", "utf-32", "latin-1", "cp1252",
)  # fmt: skip

_CONTROL: Final = st.characters(max_codepoint=0x1F) | st.sampled_from(
    "\x7f\x85\u2028\u2029\u200b\u200e\ufeff\ufffe\ufffd"
)


@dataclass(frozen=True, slots=True)
class FuzzInput:
    """Bytes for a parser, and every identity code they may carry."""

    raw: bytes
    planted: frozenset[str]


def broken_check_character(code: str) -> str:
    """``code`` with the next check character: a code-shaped string that is no valid code."""
    return code[:-1] + CHECK_ALPHABET[(CHECK_ALPHABET.index(code[-1]) + 1) % len(CHECK_ALPHABET)]


def placed_code(code: str) -> st.SearchStrategy[str]:
    """``code`` as it might stray into a field: exact, in a longer token, or in free text."""
    return st.sampled_from(
        [
            code,
            "x" + code,
            code + "0",
            f" {code} ",
            f"Asiakas {code} soitti",
            code.lower(),
            broken_check_character(code),
            f"{code};{code}",
            f'"{code}"',
        ]
    )


def _repeated() -> st.SearchStrategy[str]:
    return st.builds(
        lambda piece, times: piece * times, st.text(min_size=1, max_size=4), st.integers(1, 20_000)
    )


def hostile_text(domain: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    """Strings that break parsers, mixed with ``domain`` (the field's own near-misses).

    One in five is one of the rarer kinds (control characters, other scripts' digits, lone
    surrogates, huge): more would make nearly every document fail on one of them first.
    """
    common = st.text(max_size=30) | identity_codes().flatmap(placed_code)
    if domain:
        common = st.sampled_from(domain) | common
    rare = (
        # JSON text inside a string: libraries that parse strings as JSON meet any value.
        st.sampled_from(["", " ", "\t", "  \t ", "\ufeff", "null", "NaN", "-0", "0" * 40])
        | st.sampled_from(["[]", "{}", "1", "true", '"x"', "[{}]", '{"a": null}'])
        | st.text(_CONTROL, min_size=1, max_size=12)
        | st.text(st.characters(categories=["Nd"]), min_size=1, max_size=12)
        | st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
        | _repeated()
    )
    # The simplest draw (0) is the common kind: what hypothesis draws when it has no better idea.
    return st.integers(0, 4).flatmap(lambda n: rare if n == 4 else common)


@st.composite
def _encoded(draw: st.DrawFn, text: str) -> bytes:
    # Framing one time in ten; the simplest draw (0) leaves the text alone.
    if draw(st.integers(0, 9)) == 9:
        text = draw(st.sampled_from(["\ufeff", " ", "\x00", "\n"])) + text
    if draw(st.integers(0, 9)) == 9:
        text += draw(st.sampled_from(["\x00", " ", "\n", "\r\n", "junk", "}", "{}", ";"]))
    encoding = draw(st.sampled_from(ENCODINGS))
    # Lone surrogates cannot be encoded by the book; a buggy writer emits them anyway.
    errors = "surrogatepass" if encoding.startswith("utf") else "replace"
    return text.encode(encoding, errors=errors)


def encoded(text: str) -> st.SearchStrategy[bytes]:
    """``text`` as bytes, sometimes framed with a BOM or junk, sometimes in a wrong encoding."""
    return _encoded(text)
