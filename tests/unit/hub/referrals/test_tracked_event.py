"""A referral-status event is read as a status first: the tracking route's verdict is the one
trying the referral model first gives, for valid events of both families and broken ones."""

from __future__ import annotations

import json
from typing import Any, Final
from unittest.mock import patch

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.referrals import tracking
from hub.referrals.tracking import tracked_event
from schemas.codes import Authority, ReferralState
from schemas.envelope import ReferralStatusEvent, ServiceReferralEvent
from schemas.rejection import Rejection
from tests.fuzz.json_documents import ABSENT, set_path
from tests.unit.hub.statistics.events import referral, referral_state


def _referral_first(value: bytes) -> ServiceReferralEvent | ReferralStatusEvent | Rejection:
    """The reading before: the referral model, then the status model."""
    with patch.object(tracking, "_says_status", lambda _: False):
        return tracked_event(value)


_EVENTS: Final = st.builds(
    referral,
    st.integers(0, 50),
    st.from_regex(r"[A-Z]-[0-9]{1,6}", fullmatch=True),
    st.sampled_from(["2025-03-01", "2025-12-31"]),
    st.sampled_from(list(Authority)),
) | st.builds(
    referral_state,
    st.integers(0, 50),
    st.from_regex(r"[A-Z]-[0-9]{1,6}", fullmatch=True),
    st.sampled_from(list(ReferralState)),
    st.sampled_from(["2025-03-01", "2025-12-31"]),
)
_TYPES: Final = st.sampled_from(
    [
        "fi.paijathame.hub.referral-status.v1",
        "fi.paijathame.hub.service-referral.v1",
        "fi.paijathame.hub.client-status.v1",
        None,
        1,
    ]
)
_PATHS: Final = st.sampled_from(
    [("type",), ("data", "state"), ("data", "referral_id"), ("data", "sender"), ("subject",),
     ("data",), ("id",), ("data", "consent"), ("data", "at")]
)  # fmt: skip


@st.composite
def values(draw: st.DrawFn) -> bytes:
    """A referral or status event, perhaps with a field changed or removed, the type
    repeated, or not JSON at all."""
    document: dict[str, Any] = json.loads(draw(_EVENTS))
    kind = draw(st.integers(0, 4))
    if kind == 1:
        set_path(document, draw(_PATHS), draw(_TYPES | st.just(ABSENT) | st.text(max_size=5)))
    elif kind == 2:
        # The type written twice: whichever a parser keeps, the verdict must not change.
        text = orjson.dumps(document).decode()
        return ('{"type": ' + json.dumps(draw(_TYPES)) + ", " + text[1:]).encode()
    elif kind == 3:
        return draw(st.sampled_from([b"", b"[]", b"null", b"{", b'{"type": NaN}', b"\xff"]))
    return orjson.dumps(document)


@settings(max_examples=500)
@given(values())
def test_the_verdict_is_the_one_trying_the_referral_model_first_gives(value: bytes) -> None:
    assert tracked_event(value) == _referral_first(value)


def test_status_events_are_read_as_statuses() -> None:
    value = referral_state(1, "L-1", ReferralState.ACCEPTED, "2025-03-01")
    assert isinstance(tracked_event(value), ReferralStatusEvent)
    assert isinstance(tracked_event(referral(1, "L-1", "2025-03-01")), ServiceReferralEvent)
