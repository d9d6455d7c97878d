"""The referral-status event is built without validating it again when its values already are
what the models hold, and is then the event the validated build makes, to the byte; other
values are validated, and refused, as before."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Final
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from connectors.sote import inbound
from connectors.sote.inbound import TaskUpdate, status_event
from schemas.codes import Authority, ReferralState
from schemas.envelope import ReferralStatusEvent
from schemas.person_ref import person_ref_for
from tests.support import CODE, SECRET

_ZONES: Final = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-14))]
)


def _validated(update: TaskUpdate, person_ref: Any, sender: Any) -> ReferralStatusEvent:
    """The event as it was built before: every value through the models."""
    with patch.object(inbound, "_fits_the_models", lambda *_: False):
        return status_event(update, person_ref, sender)


_UPDATES: Final = st.builds(
    TaskUpdate,
    referral_id=st.text(min_size=1, max_size=50) | st.sampled_from(["", "x" * 51]),
    state=st.sampled_from(list(ReferralState)),
    reason=st.none() | st.text(max_size=20),
    at=st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1), timezones=_ZONES)
    | st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1)),
)
_PERSON_REFS: Final = st.sampled_from(
    [person_ref_for(CODE, SECRET), "p-" + "0" * 32, "p-" + "0" * 31, "P-" + "a" * 32, "", "x"]
)


def _outcome(build: Any, *args: Any) -> tuple[str, object]:
    try:
        event = build(*args)
    except Exception as error:  # noqa: BLE001 - the failure itself is compared.
        return type(error).__name__, str(error)
    return event.model_dump_json(), event


@settings(max_examples=500)
@given(_UPDATES, _PERSON_REFS, st.sampled_from([*Authority, "lahti"]))
def test_the_event_is_the_validated_build_s(
    update: TaskUpdate, person_ref: str, sender: Any
) -> None:
    assert _outcome(status_event, update, person_ref, sender) == _outcome(
        _validated, update, person_ref, sender
    )


def test_a_value_the_models_refuse_is_still_refused() -> None:
    update = TaskUpdate(
        "L-1", ReferralState.ACCEPTED, None, dt.datetime(2025, 3, 20, tzinfo=dt.UTC)
    )
    with pytest.raises(ValidationError):
        status_event(
            dataclasses.replace(update, referral_id=""),
            person_ref_for(CODE, SECRET),
            Authority.LAHTI,
        )
    with pytest.raises(ValidationError):
        status_event(update, "not-a-reference", Authority.LAHTI)
