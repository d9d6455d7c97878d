"""The identity code's one-pass acceptance (``schemas.identity_code``) against the checks in
order it skips for a valid code: the same verdict, and the same first reason, for any string."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from schemas.identity_code import IdentityCodeError, _checked_in_order, validate_identity_code
from tests.strategies import build_identity_code, identity_codes

_CODE_ALPHABET = "0123456789-+ABCDEFUVWXYHJKLMNPRSTGIOQZ\u0663 "


def _verdict(check: object, value: str) -> tuple[str, str]:
    try:
        return ("valid", check(value))  # type: ignore[operator]
    except IdentityCodeError as error:
        return ("invalid", error.reason)


@st.composite
def near_codes(draw: st.DrawFn) -> str:
    """A valid code with one character replaced, or any string of the code's alphabet."""
    code = draw(identity_codes())
    position = draw(st.integers(0, len(code) - 1))
    replaced = code[:position] + draw(st.sampled_from(_CODE_ALPHABET)) + code[position + 1 :]
    return draw(st.sampled_from([code, replaced]))


@given(st.one_of(near_codes(), st.text(alphabet=_CODE_ALPHABET, max_size=13), st.text()))
@example(build_identity_code(dt.date(2099, 1, 1), 950, "A"))
@example("010100A000Y")
@example("310299-950X")
def test_the_fast_acceptance_gives_the_ordered_checks_verdict(value: str) -> None:
    assert _verdict(validate_identity_code, value) == _verdict(
        lambda v: _checked_in_order(v, None), value
    )
