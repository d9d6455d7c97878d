"""A route's audit-stream headers are those FastStream gives housekeeping's messages."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.audit.stream import AUDIT_CONTENT_TYPE, audit_headers, random_uuid4


@given(random=st.binary(min_size=16, max_size=16))
def test_the_correlation_id_is_a_version_4_uuid_as_uuid_writes_it(random: bytes) -> None:
    assert random_uuid4(random) == str(uuid.UUID(bytes=random, version=4))


@pytest.mark.parametrize("count", [0, 1, 2, 100])
def test_each_record_gets_the_content_type_and_an_id_of_its_own(count: int) -> None:
    headers = audit_headers(count)

    assert len(headers) == count
    assert all(list(h) == ["content-type", "correlation_id"] for h in headers)
    assert all(h["content-type"] == AUDIT_CONTENT_TYPE for h in headers)
    assert all(uuid.UUID(h["correlation_id"]).version == 4 for h in headers)
    assert len({h["correlation_id"] for h in headers}) == count
