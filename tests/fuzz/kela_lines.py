"""Structure-aware Kela CSV for the fuzz tests: valid payment-day lines and files, broken.

A line starts from the fields of a valid example and gets up to five edits: a field replaced
(hostile text, a near-miss of a column's own domain, an identity code where it does not
belong), the identity code swapped or broken, a field removed or added, a field quoted or
padded. It is joined with ``;`` or a wrong separator, ended with any of the line endings
people produce, and encoded (sometimes wrongly). A file is a header (right, wrong, missing,
mis-encoded) and a few such lines, with blank lines and mixed line endings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from hypothesis import strategies as st

from connectors.kela.native import HEADER
from tests.fuzz.corpus import codes_in_seeds, kela_fields, kela_seeds
from tests.fuzz.hostile_values import (
    FuzzInput,
    broken_check_character,
    encoded,
    hostile_text,
    placed_code,
)
from tests.strategies import identity_codes

__all__ = ["KELA_DOMAIN", "broken_lines", "kela_files"]

#: Near-misses of the columns' own values (and values that are right for another column).
KELA_DOMAIN: Final = (
    "0", "25", "-25", "26", "-26", "2,5", "737,55", "737.55", "-0,00", "0,001", "1 000,00",
    "1e3", "9999999999,99", "99999999999,99", ",5", "5,", "31.02.2025", "29.02.2024",
    "29.02.2025", "1.2.2025", "2025-02-01", "01.02.25", "00.00.0000", "31.12.9999",
    "01.01.0001", "TMT", "tmt", "PPR", "APR", "YLT", "XYZ", "398", "091", "98", "0398", "+5",
    "\u0663\u0669\u0668", "K2025-000123456", "K2025-000123457", "K2025-999999999", "-",
)  # fmt: skip

#: ``;`` most of the time: a wrong separator is one kind of mistake among many.
_SEPARATORS: Final = (*[";"] * 15, ",", "\t", "|", ";;", " ; ")
_LINE_ENDINGS: Final = ("", "\r\n", "\n", "\r", "\n\r", "\r\r\n", "\r\n\r\n", "\x85", "\u2028")
_RECORD_ID, _HETU, _CORRECTS = 0, 1, 10
_EDITS: Final = (
    "record", "record", "hetu", "corrects", "replace", "replace", "replace", "drop", "add",
    "quote", "pad",
)  # fmt: skip


def _record_ids(code: str) -> st.SearchStrategy[str]:
    """A new record id, an example's (a duplicate or a correction of it), or a planted code."""
    known = [fields[_RECORD_ID] for fields in kela_fields()]
    return (
        st.from_regex(r"K20[0-9]{2}-[0-9]{9}", fullmatch=True)
        | st.sampled_from(known)
        | placed_code(code)
    )


def _edit(draw: st.DrawFn, fields: list[str], code: str) -> None:
    """One edit of ``fields`` (in place)."""
    edit = draw(st.sampled_from(_EDITS))
    at = draw(st.integers(0, max(len(fields) - 1, 0)))
    if edit == "add":
        fields.insert(at, draw(hostile_text(KELA_DOMAIN) | placed_code(code)))
    elif len(fields) <= _CORRECTS:
        # A field was dropped before: only the column-blind edits apply.
        if fields and edit != "drop":
            fields[at] = draw(hostile_text(KELA_DOMAIN))
    elif edit == "record":
        fields[_RECORD_ID] = draw(_record_ids(code))
    elif edit == "hetu":
        fields[_HETU] = draw(st.sampled_from([code, broken_check_character(code)]))
    elif edit == "corrects":
        fields[_CORRECTS] = draw(_record_ids(code))
    elif edit == "replace":
        fields[at] = draw(hostile_text(KELA_DOMAIN) | placed_code(code))
    elif edit == "drop":
        del fields[at]
    elif edit == "quote":
        fields[at] = f'"{fields[at]}"'
    else:
        fields[at] = draw(st.sampled_from([" ", "\t", "\xa0"])) + fields[at] + " "


@st.composite
def _fields(draw: st.DrawFn) -> tuple[list[str], frozenset[str]]:
    fields = list(draw(st.sampled_from(kela_fields())))
    code = draw(identity_codes())
    planted = {code, broken_check_character(code), *codes_in_seeds(kela_seeds())}
    for _ in range(draw(st.integers(0, 5))):
        _edit(draw, fields, code)
    return fields, frozenset(planted)


@st.composite
def _line(draw: st.DrawFn) -> tuple[str, frozenset[str]]:
    fields, planted = draw(_fields())
    text = draw(st.sampled_from(_SEPARATORS)).join(fields)
    return text + draw(st.sampled_from(_LINE_ENDINGS)), planted


@st.composite
def _broken_line(draw: st.DrawFn) -> FuzzInput:
    text, planted = draw(_line())
    return FuzzInput(draw(encoded(text)), planted)


def broken_lines() -> st.SearchStrategy[FuzzInput]:
    """One Kela message value: a broken payment-day line (see the module docstring)."""
    return _broken_line()


def _headers(planted_code: str) -> st.SearchStrategy[str]:
    columns = HEADER.split(";")
    # Mostly right, so that the lines behind it are read.
    return st.sampled_from(
        [
            *[HEADER] * 12,
            "\ufeff" + HEADER,
            HEADER.upper(),
            HEADER.replace(";", ","),
            ";".join(columns[:-1]),
            HEADER + ";extra",
            ";".join([columns[0], planted_code, *columns[2:]]),
            "",
            " ",
            "hostile",
        ]
    ).flatmap(lambda header: hostile_text() if header == "hostile" else st.just(header))


@st.composite
def _kela_files(draw: st.DrawFn, endings: Sequence[str]) -> FuzzInput:
    code = draw(identity_codes())
    header = draw(_headers(code))
    planted = {code}
    lines = []
    for text, codes in draw(st.lists(_line() | st.just(("", frozenset())), max_size=6)):
        lines.append(text)
        planted |= codes
    if draw(st.integers(0, 9)) == 9:
        # No header at all: the administrator picked a file of data lines only.
        header = lines.pop(0) if lines else header
    ending = draw(st.sampled_from(endings))
    text = ending.join([header, *lines]) + draw(st.sampled_from(["", ending]))
    return FuzzInput(draw(encoded(text)), frozenset(planted))


def kela_files() -> st.SearchStrategy[FuzzInput]:
    """A whole payment-day file: a header, right or wrong, and a few broken lines."""
    return _kela_files(("\r\n", "\r\n", "\n", "\r", "\n\r"))
