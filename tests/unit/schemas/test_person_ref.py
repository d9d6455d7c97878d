"""The pseudonymous person reference: shape, determinism, keying, and no trace of the code."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from schemas.person_ref import (
    PERSON_REF_PATTERN,
    HmacSha256,
    PersonRef,
    PseudonymSecretError,
    person_ref_for,
)
from tests.strategies import SIGNS_BY_CENTURY, century_of, identity_codes, person_secrets

REF_SHAPE = re.compile(r"p-[0-9a-f]{32}")
SECRET = b"k" * 32
PERSON_REFS = TypeAdapter(PersonRef)


@given(code=identity_codes(), secret=person_secrets())
def test_ref_is_p_dash_and_32_lowercase_hex(code: str, secret: bytes) -> None:
    ref = person_ref_for(code, secret)
    assert REF_SHAPE.fullmatch(ref)
    assert re.fullmatch(PERSON_REF_PATTERN, ref)
    assert PERSON_REFS.validate_python(ref) == ref


@given(code=identity_codes(), secret=person_secrets())
def test_ref_is_deterministic_for_the_same_code_and_secret(code: str, secret: bytes) -> None:
    assert person_ref_for(code, secret) == person_ref_for(code, bytes(secret))


@given(code=identity_codes(), secret=person_secrets())
def test_ref_is_truncated_hmac_sha256_of_the_whole_code(code: str, secret: bytes) -> None:
    expected = hmac.new(secret, code.encode("ascii"), hashlib.sha256).hexdigest()[:32]
    assert person_ref_for(code, secret) == f"p-{expected}"


@given(code=identity_codes(), first=person_secrets(), second=person_secrets())
def test_different_secrets_give_different_refs(code: str, first: bytes, second: bytes) -> None:
    assume(first != second)
    assert person_ref_for(code, first) != person_ref_for(code, second)


@given(code=identity_codes(), secret=person_secrets(), data=st.data())
def test_codes_differing_only_in_century_sign_give_different_refs(
    code: str, secret: bytes, data: st.DataObject
) -> None:
    others = [s for s in SIGNS_BY_CENTURY[century_of(code[6])] if s != code[6]]
    assume(others)
    other = code[:6] + data.draw(st.sampled_from(others)) + code[7:]
    assert person_ref_for(code, secret) != person_ref_for(other, secret)


def test_dash_and_y_variants_of_one_code_give_different_refs() -> None:
    assert person_ref_for("100190-999P", SECRET) != person_ref_for("100190Y999P", SECRET)


@given(code=identity_codes(), secret=person_secrets())
def test_ref_contains_neither_the_code_nor_its_digit_runs(code: str, secret: bytes) -> None:
    ref = person_ref_for(code, secret)
    assert code not in ref
    assert code[:6] not in ref  # DDMMYY
    assert code[:6] + code[7:10] not in ref  # the 9 digits the check character is computed from


@pytest.mark.parametrize("length", [0, 1, 16, 31])
def test_too_short_secret_raises_without_naming_the_code(length: int) -> None:
    with pytest.raises(PseudonymSecretError) as caught:
        person_ref_for("100190-999P", b"s" * length)
    message = str(caught.value)
    assert "100190-999P" not in message
    assert "100190" not in message
    assert "32" in message


def test_secret_of_exactly_32_bytes_is_enough() -> None:
    assert REF_SHAPE.fullmatch(person_ref_for("100190-999P", SECRET))


def test_pseudonym_secret_error_is_a_value_error() -> None:
    assert issubclass(PseudonymSecretError, ValueError)


@pytest.mark.parametrize(
    "ref",
    [
        "p-" + "0" * 31,
        "p-" + "0" * 33,
        "p-" + "A" * 32,
        "P-" + "a" * 32,
        "q-" + "a" * 32,
        "a" * 34,
        "p-" + "g" * 32,
        "p-" + "a" * 32 + "\n",
        "100190-999P",
    ],
)
def test_person_ref_type_rejects_anything_but_p_dash_and_32_lowercase_hex(ref: str) -> None:
    with pytest.raises(ValidationError):
        PERSON_REFS.validate_python(ref)


@given(key=st.binary(max_size=200), message=st.binary(max_size=300))
def test_the_key_set_up_once_gives_hmac_digest_byte_for_byte(key: bytes, message: bytes) -> None:
    keyed = HmacSha256(key)
    assert keyed.digest(message) == hmac.digest(key, message, hashlib.sha256)
    assert keyed.digest(message) == keyed.digest(message)  # the key's state is not consumed
