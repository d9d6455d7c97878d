"""The personal identity code type: reasons for rejection, no echo of the code, properties."""

from __future__ import annotations

import calendar
import datetime as dt
import string
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas._base import CanonicalModel
from schemas.identity_code import (
    IDENTITY_CODE_SHAPE,
    IdentityCodeError,
    PersonalIdentityCode,
    is_temporary,
    today_in_finland,
    validate_identity_code,
)
from tests.strategies import (
    CHECK_ALPHABET,
    SIGNS_BY_CENTURY,
    build_identity_code,
    century_of,
    identity_codes,
)

ALL_SIGNS = "".join(SIGNS_BY_CENTURY.values())

#: Characters a corrupted code may realistically contain: digits, every century sign, every
#: check character, and some others (letters the check alphabet skips, lower case, spacing,
#: punctuation, a non-ASCII letter and a non-ASCII digit).
CORRUPTION_ALPHABET = "".join(
    sorted(set(string.digits + ALL_SIGNS + CHECK_ALPHABET + "GIOQZaby /.*_\n\tÖ٣"))
)

VALID_EXAMPLES = [
    "100190-999P",
    "100190Y999P",
    "010375+912U",
    "290200A977U",  # 29 February 2000: 2000 is a leap year.
    "290224A9771",
    "150685-9503",
    "150605A950E",
]


class Holder(CanonicalModel):
    """A canonical model with one identity-code field."""

    person_id: PersonalIdentityCode


def _reason(code: str) -> str:
    with pytest.raises(IdentityCodeError) as caught:
        validate_identity_code(code)
    return caught.value.reason


# --- examples ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", VALID_EXAMPLES)
def test_valid_code_is_returned_unchanged(code: str) -> None:
    assert validate_identity_code(code) == code


@pytest.mark.parametrize(
    "code", ["150685Y9503", "150685X9503", "150685W9503", "150685V9503", "150685U9503"]
)
def test_2023_signs_of_the_1900s_validate(code: str) -> None:
    assert validate_identity_code(code) == code


@pytest.mark.parametrize(
    "code", ["150605B950E", "150605C950E", "150605D950E", "150605E950E", "150605F950E"]
)
def test_2023_signs_of_the_2000s_validate(code: str) -> None:
    assert validate_identity_code(code) == code


def test_codes_differing_only_in_century_sign_are_both_valid_and_not_equal() -> None:
    dash, y = validate_identity_code("100190-999P"), validate_identity_code("100190Y999P")
    assert dash != y
    assert Holder(person_id="100190Y999P").person_id == "100190Y999P"


@pytest.mark.parametrize(
    "code",
    ["", "100190-999", "100190-999PP", " 100190-999P", "100190-999P\n", "100190-999P" * 2],
)
def test_wrong_length_is_rejected_as_bad_length(code: str) -> None:
    assert _reason(code) == "bad-length"


@pytest.mark.parametrize(
    "code",
    [
        "10019O-999P",  # letter O for a zero in the date
        "100190-99OP",  # letter O in the individual number
        "1001 0-999P",
        "100190-999\n",  # the check character position is not a character at all
        "10019٣-999P",  # a non-ASCII digit: \d matches it, the validator must not
        "100190-9٣9P",
    ],
)
def test_wrong_shape_is_rejected_as_bad_format(code: str) -> None:
    assert _reason(code) == "bad-format"


@pytest.mark.parametrize(
    "code", ["100190Z999P", "100190G999P", "100190a999P", "100190y999P", "100190*999P"]
)
def test_unknown_century_sign_is_rejected_as_bad_century_sign(code: str) -> None:
    assert _reason(code) == "bad-century-sign"


@pytest.mark.parametrize(
    "code",
    [
        "290223A977S",  # 29 February 2023: not a leap year
        "310423A977N",  # 31 April does not exist
        "290200-977U",  # 29 February 1900: not a leap year, though 2000 was
        "290200+977U",  # 29 February 1800
        "000190-999P",
        "321290-9991",
        "101390-999P",
        "100090-999P",
    ],
)
def test_non_existent_date_is_rejected_as_bad_date(code: str) -> None:
    assert _reason(code) == "bad-date"


def _born_on(day: dt.date) -> str:
    return build_identity_code(day, 902, "A" if day.year >= 2000 else "-")


def test_a_code_born_in_2050_is_rejected() -> None:
    assert _reason("010150A902E") == "birth-date-in-future"


@pytest.mark.parametrize(
    ("born", "valid"),
    [
        (dt.date(2026, 3, 14), True),  # the day before
        (dt.date(2026, 3, 15), True),  # today: born today, given a code today
        (dt.date(2026, 3, 16), False),  # tomorrow
        (dt.date(2027, 3, 15), False),
    ],
)
def test_birth_date_after_the_day_of_checking_is_rejected(born: dt.date, valid: bool) -> None:
    code = _born_on(born)
    today = dt.date(2026, 3, 15)
    if valid:
        assert validate_identity_code(code, today) == code
    else:
        with pytest.raises(IdentityCodeError) as caught:
            validate_identity_code(code, today)
        assert caught.value.reason == "birth-date-in-future"
        assert code not in str(caught.value)


def test_by_default_the_day_of_checking_is_todays_date_in_finland() -> None:
    today = today_in_finland()
    assert today == dt.datetime.now(ZoneInfo("Europe/Helsinki")).date()
    assert validate_identity_code(_born_on(today)) == _born_on(today)
    with pytest.raises(IdentityCodeError) as caught:
        validate_identity_code(_born_on(today + dt.timedelta(days=1)))
    assert caught.value.reason == "birth-date-in-future"


def test_a_model_field_refuses_a_future_birth_date() -> None:
    with pytest.raises(ValidationError):
        Holder(person_id="010150A902E")


@pytest.mark.parametrize("code", ["100190-000F", "100190-001H"])
def test_individual_numbers_000_and_001_are_rejected(code: str) -> None:
    assert _reason(code) == "bad-individual-number"


def test_individual_number_002_is_the_first_accepted() -> None:
    assert validate_identity_code("100190-002J") == "100190-002J"


@pytest.mark.parametrize("code", ["100190-999A", "100190-999Z", "100190-999p", "100190Y9990"])
def test_wrong_check_character_is_rejected_as_bad_check_character(code: str) -> None:
    assert _reason(code) == "bad-check-character"


INVALID_EXAMPLES = [
    "100190-999",
    "100190-999PP",
    "10019O-999P",
    "10019٣-999P",
    "100190Z999P",
    "290223A977S",
    "310423A977N",
    "100190-000F",
    "100190-999A",
]


@pytest.mark.parametrize("code", INVALID_EXAMPLES)
def test_error_message_never_contains_the_code(code: str) -> None:
    with pytest.raises(IdentityCodeError) as caught:
        validate_identity_code(code)
    assert code not in str(caught.value)
    assert code[:6] not in str(caught.value)
    assert code not in repr(caught.value)


@pytest.mark.parametrize("code", INVALID_EXAMPLES)
def test_model_field_rejects_bad_code_without_echoing_it(code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Holder(person_id=code)
    assert code not in str(caught.value)
    assert code[:6] not in str(caught.value)
    assert caught.value.errors()[0]["loc"] == ("person_id",)


def test_model_field_rejects_bad_code_from_json_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as caught:
        Holder.model_validate_json('{"person_id": "100190-999A"}')
    assert "100190-999A" not in str(caught.value)


def test_model_field_rejects_non_string() -> None:
    with pytest.raises(ValidationError):
        Holder(person_id=100190999)  # type: ignore[arg-type]


def test_temporary_numbers_are_900_and_above() -> None:
    assert is_temporary("100190-999P")
    assert is_temporary("150685-9503")
    assert not is_temporary("100190-002J")


# --- properties ----------------------------------------------------------------------------


@given(identity_codes(temporary_only=False))
def test_every_generated_valid_code_validates(code: str) -> None:
    assert validate_identity_code(code) == code


@given(identity_codes())
def test_every_generated_temporary_code_validates_and_is_temporary(code: str) -> None:
    assert validate_identity_code(code) == code
    assert is_temporary(code)


@given(identity_codes())
def test_every_generated_code_is_accepted_by_a_model_field(code: str) -> None:
    holder = Holder(person_id=code)
    assert Holder.model_validate_json(holder.model_dump_json()) == holder


def _corrupt(code: str, position: int, replacement: str) -> str:
    return code[:position] + replacement + code[position + 1 :]


@given(
    code=identity_codes(temporary_only=False),
    position=st.sampled_from([0, 1, 2, 3, 4, 5, 7, 8, 9, 10]),
    replacement=st.sampled_from(CORRUPTION_ALPHABET),
)
def test_any_single_character_corruption_outside_the_century_sign_is_rejected(
    code: str, position: int, replacement: str
) -> None:
    if replacement == code[position]:
        replacement = "Z"  # never a valid character anywhere in a code
    corrupted = _corrupt(code, position, replacement)
    with pytest.raises(IdentityCodeError) as caught:
        validate_identity_code(corrupted)
    assert corrupted not in str(caught.value)


@given(code=identity_codes(), replacement=st.sampled_from(CORRUPTION_ALPHABET))
def test_century_sign_replaced_by_a_non_sign_is_rejected(code: str, replacement: str) -> None:
    if replacement in ALL_SIGNS:
        replacement = "Z"
    with pytest.raises(IdentityCodeError) as caught:
        validate_identity_code(_corrupt(code, 6, replacement))
    assert caught.value.reason in {"bad-century-sign", "bad-format"}


@given(code=identity_codes(), data=st.data())
def test_century_sign_replaced_by_another_sign_of_the_same_century_is_valid_and_different(
    code: str, data: st.DataObject
) -> None:
    same_century = SIGNS_BY_CENTURY[century_of(code[6])]
    others = [sign for sign in same_century if sign != code[6]]
    if not others:  # the 1800s have one sign only
        return
    other = _corrupt(code, 6, data.draw(st.sampled_from(others)))
    assert validate_identity_code(other) == other
    assert other != code


@example(code="290200A977U", new_sign="-")
@example(code="290200A977U", new_sign="+")
@example(code="290204A977V", new_sign="U")
@given(code=identity_codes(), new_sign=st.sampled_from(ALL_SIGNS))
def test_century_sign_of_another_century_is_valid_iff_the_date_exists_in_that_century(
    code: str, new_sign: str
) -> None:
    # The check character does not cover the century sign, so the swap is caught only when
    # the birth date does not exist in the other century (29 February of a year ending 00).
    if century_of(new_sign) == century_of(code[6]):
        return
    other = _corrupt(code, 6, new_sign)
    year = century_of(new_sign) + int(code[4:6])
    date_exists = code[:4] != "2902" or calendar.isleap(year)
    born = dt.date(year, int(code[2:4]), int(code[:2])) if date_exists else None
    if born is not None and born > today_in_finland():
        with pytest.raises(IdentityCodeError) as caught:
            validate_identity_code(other)
        assert caught.value.reason == "birth-date-in-future"
    elif date_exists:
        assert validate_identity_code(other) == other
    else:
        with pytest.raises(IdentityCodeError) as caught:
            validate_identity_code(other)
        assert caught.value.reason == "bad-date"


# --- the shape that redaction looks for ----------------------------------------------------

_SEPARATORS = " \t\n,.;:()[]{}<>\"'/|=!?"
_FILLER = st.text(alphabet=string.ascii_letters + string.digits + _SEPARATORS, max_size=20)


@given(
    code=identity_codes(temporary_only=False),
    before=_FILLER,
    after=_FILLER,
    left=st.sampled_from(_SEPARATORS),
    right=st.sampled_from(_SEPARATORS),
)
def test_shape_finds_every_valid_code_in_surrounding_text(
    code: str, before: str, after: str, left: str, right: str
) -> None:
    text = f"{before}{left}{code}{right}{after}"
    assert code in IDENTITY_CODE_SHAPE.findall(text)


@given(code=identity_codes(temporary_only=False))
def test_shape_finds_a_code_that_is_the_whole_text_or_at_its_edges(code: str) -> None:
    assert IDENTITY_CODE_SHAPE.fullmatch(code)
    assert IDENTITY_CODE_SHAPE.findall(f"hetu:{code}") == [code]
    assert IDENTITY_CODE_SHAPE.findall(f"{code}, ok") == [code]


@given(
    code=identity_codes(temporary_only=False),
    before=st.text(alphabet=string.ascii_letters + string.digits, max_size=5),
    after=st.text(alphabet=string.ascii_letters + string.digits, max_size=5),
)
def test_shape_does_not_match_inside_a_longer_alphanumeric_run(
    code: str, before: str, after: str
) -> None:
    if not before and not after:
        before = "x"
    text = f"{before}{code}{after}"
    start, end = len(before), len(before) + len(code)
    for match in IDENTITY_CODE_SHAPE.finditer(text):
        assert match.end() <= start or match.start() >= end
