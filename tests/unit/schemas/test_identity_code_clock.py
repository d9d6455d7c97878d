"""The identity code's birth-date check reads the clock only when a cheap comparison with a
day already reached cannot decide (``schemas.identity_code``): the cheap check now runs before
the expensive one, and what is reported must not change. Each test fails if the clock is not
read when it must be, or if the checks after it are reported first."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.identity_code import (
    CHECK_CHARACTERS,
    IdentityCodeError,
    today_in_finland,
    validate_identity_code,
)
from tests.strategies import build_identity_code


def _born_on(day: dt.date, individual: int = 902) -> str:
    return build_identity_code(day, individual, "A" if day.year >= 2000 else "-")


def _reason(code: str) -> str:
    with pytest.raises(IdentityCodeError) as caught:
        validate_identity_code(code)
    return caught.value.reason


def _wrong_check(code: str) -> str:
    wrong = CHECK_CHARACTERS[(CHECK_CHARACTERS.index(code[-1]) + 1) % len(CHECK_CHARACTERS)]
    return code[:-1] + wrong


@pytest.mark.parametrize("days", [-1, 0])
def test_born_yesterday_or_today_is_accepted_once_today_was_reached(days: int) -> None:
    today = today_in_finland()
    validate_identity_code(_born_on(today - dt.timedelta(days=1)))  # the day reached: today
    code = _born_on(today + dt.timedelta(days=days))
    assert validate_identity_code(code) == code


def test_born_tomorrow_is_refused_after_today_was_reached() -> None:
    today = today_in_finland()
    validate_identity_code(_born_on(today))
    assert _reason(_born_on(today + dt.timedelta(days=1))) == "birth-date-in-future"


def test_the_first_code_checked_born_tomorrow_is_refused() -> None:
    # However early the first comparison, a later date than any reached reads the clock.
    assert _reason(_born_on(today_in_finland() + dt.timedelta(days=1))) == "birth-date-in-future"


def test_a_future_birth_date_is_reported_before_a_wrong_check_character() -> None:
    tomorrow = today_in_finland() + dt.timedelta(days=1)
    validate_identity_code(_born_on(today_in_finland()))
    assert _reason(_wrong_check(_born_on(tomorrow))) == "birth-date-in-future"
    assert _reason(_wrong_check(_born_on(tomorrow - dt.timedelta(days=1)))) == (
        "bad-check-character"
    )


def test_a_future_birth_date_is_reported_before_a_bad_individual_number() -> None:
    tomorrow = today_in_finland() + dt.timedelta(days=1)
    code = _born_on(tomorrow)
    bad_number = code[:7] + "001" + code[10]
    assert _reason(bad_number) == "birth-date-in-future"
    past = _born_on(tomorrow - dt.timedelta(days=2))
    assert _reason(past[:7] + "001" + past[10]) == "bad-individual-number"


def test_an_explicit_day_of_checking_is_not_overruled_by_the_day_reached() -> None:
    validate_identity_code(_born_on(today_in_finland()))
    day = dt.date(2020, 5, 4)
    with pytest.raises(IdentityCodeError) as caught:
        validate_identity_code(_born_on(day + dt.timedelta(days=1)), day)
    assert caught.value.reason == "birth-date-in-future"
    assert validate_identity_code(_born_on(day), day) == _born_on(day)
