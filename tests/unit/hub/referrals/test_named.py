"""``named`` reads every sender's referral with one id in one query: what it finds is what
looking up each sender's referral finds, committed and staged alike."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Final

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.referrals.register import ReferralKey, ReferralRegister
from schemas.codes import ReferralState

_IDS: Final = ("L-1", "L-2")
_SENDERS: Final = ("lahti", "ph")
_AT: Final = dt.datetime(2025, 3, 14, 10, tzinfo=dt.UTC)

_STEPS: Final = st.lists(
    st.one_of(
        st.tuples(st.just("refer"), st.sampled_from(_SENDERS), st.sampled_from(_IDS)),
        st.tuples(
            st.just("state"),
            st.sampled_from(_SENDERS),
            st.sampled_from(_IDS),
            st.sampled_from(list(ReferralState)),
        ),
        st.tuples(st.sampled_from(["commit", "rollback"])),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(_STEPS)
def test_named_finds_what_each_sender_s_lookup_finds(steps: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        register = ReferralRegister.open(Path(folder))
        try:
            for step in steps:
                match step:
                    case ("refer", sender, referral_id):
                        register.stage_referral(
                            str(referral_id), "p-" + "0" * 32, str(sender), "sote", "x", _AT
                        )
                    case ("state", sender, referral_id, state):
                        assert isinstance(state, ReferralState)
                        register.stage_state(ReferralKey(str(sender), str(referral_id)), state, _AT)
                    case ("commit",):
                        register.commit()
                    case _:
                        register.rollback()
                for referral_id in _IDS:
                    each = [register.referral(ReferralKey(s, referral_id)) for s in _SENDERS]
                    assert register.named(referral_id) == [r for r in each if r is not None]
        finally:
            register.close()
