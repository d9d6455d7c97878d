"""The labour authorities' routes keep the connector contract (``tests.connector_contract``).

The routes are the ones ``hub up`` runs (``connectors.authorities.wiring.build_routes``), for
both authorities, on connector state in a fresh data directory. Client-status and
service-referral routes have already seen every example (so a changed copy of a valid one is a
conflicting duplicate); the referral-answer routes find the referrals the answer examples are
about, sent and not yet answered, so an answer reaches every transition.

Inputs beyond the contract's own: structure-aware breakage of the valid examples
(``json_documents``: edits at any depth, repeated keys, non-finite and huge numbers, deep
nesting, byte-order marks, wrong encodings), arbitrary JSON values, the examples with
top-level fields replaced by JSON values or removed, and for answers any object of the
answer's keys (and an identity code as a key) with values of any type.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Final

import orjson
import pytest
from hypothesis import strategies as st

from connectors.authorities.inbound import REFERRAL_REASONS, STATUS_CHANGE_REASONS
from connectors.authorities.native import NOTIFICATION_FIELDS, REFERRAL_FIELDS
from connectors.authorities.referral_answer import ANSWER_REASONS, ROUTE_REASONS
from connectors.authorities.wiring import build_routes
from hub.connector import ConnectorContext
from hub.core.settings import load_settings
from hub.referrals.register import ReferralRegister
from hub.routing.pipeline import Route
from schemas.envelope import ClientStatusEvent, ReferralStatusEvent, ServiceReferralEvent
from schemas.person_ref import person_ref_for
from tests.connector_contract import ConnectorContract
from tests.fuzz.corpus import (
    authority_documents,
    authority_examples,
    authority_seeds,
    codes_in_seeds,
)
from tests.fuzz.hostile_values import FuzzInput
from tests.fuzz.json_documents import ABSENT, broken_documents, json_values, with_fields
from tests.fuzz.properties import known_reasons
from tests.support import CODE, SECRET

pytestmark = pytest.mark.fuzz

#: Near-misses of the fields' own values, and values right for another field.
DOMAIN: Final = (
    "398", "098", "98", "0398", "06", "02", "10", "TKO", "tko", "XYZ", "2025-03-01",
    "2025-02-30", "2025-3-1", "01.03.2025", "2025-03-01T08:12:00+02:00", "2025-03-01T08:12:00",
    "2025-03-01T08:12:00Z", "2025-03-01T08:12:00+14:01", "2025-03-01T08:12:60Z",
    "2025-03-01T24:00:00Z", "2025-03-01t08:12:00z", "2025-03-01T08:12:00.1234567891+02:00",
    "lahti", "ph", "sote", "kela", "keha", "LAHTI", "normaali", "kiireellinen",
    "KUNTOUTTAVA_TYOTOIMINTA", "KOTOUTUMISKOULUTUS", "c0a8012e-7b1d-4c55-9e0e-1f1f2b9d3a10",
    "L-2025-000871", "A-1002345",
)  # fmt: skip

#: Scalars of the arbitrary JSON values: a few of the format's own.
JSON_SCALARS: Final = (CODE, "398", "02", "06", "TKO", "2025-03-01", "2025-03-01T08:12:00Z")

#: The keys of a message id: a fresh one makes an unbroken example news, not a repeat.
ID_KEYS: Final = ("muutosId", "lahete_id")


def _routes(data_dir: Path, family: str) -> list[Route]:
    context = ConnectorContext(load_settings(data_dir=data_dir), SECRET)
    return [route for route in build_routes(context) if route.connector.endswith(f".{family}")]


def _examples(family: str) -> list[tuple[str, bytes]]:
    # The file name starts with the authority whose topic the example arrives on.
    return [(f"{name.split('-')[0]}.{family}", raw) for name, raw in authority_examples(family)]


def _arbitrary_json() -> st.SearchStrategy[FuzzInput]:
    return json_values(JSON_SCALARS).map(
        lambda value: FuzzInput(orjson.dumps(value), frozenset({CODE}))
    )


class _AuthorityMessages(ConnectorContract):
    """Client-status or service-referral messages on both authorities' topics."""

    family: ClassVar[str]

    def build_routes(self, data_dir: Path) -> Sequence[Route]:
        return _routes(data_dir, self.family)

    def seeds(self) -> Sequence[bytes]:
        return authority_seeds(self.family)

    def accepted_examples(self) -> Sequence[tuple[str, bytes]]:
        return _examples(self.family)

    def near_valid_inputs(self) -> Mapping[str, st.SearchStrategy[FuzzInput]]:
        documents = authority_documents(self.family)
        both = authority_seeds("client-status") + authority_seeds("service-referral")
        planted = codes_in_seeds(both) | {CODE}
        # Either family's examples and fields: a message sent to the wrong topic is near-valid.
        replaced = st.builds(
            with_fields,
            st.sampled_from(
                authority_documents("client-status") + authority_documents("service-referral")
            ),
            st.dictionaries(
                st.sampled_from([*NOTIFICATION_FIELDS, *REFERRAL_FIELDS, "x"]),
                json_values(JSON_SCALARS) | st.just(ABSENT),
                max_size=4,
            ),
        )
        return {
            "broken documents": broken_documents(documents, DOMAIN, ID_KEYS),
            "arbitrary JSON values": _arbitrary_json(),
            "top-level fields replaced": replaced.map(
                lambda document: FuzzInput(orjson.dumps(document), planted)
            ),
        }


class TestClientStatus(_AuthorityMessages):
    parser = "authority client-status (in.lahti|ph.client-status)"
    reasons = known_reasons(STATUS_CHANGE_REASONS, "conflicting-duplicate-client-status")
    canonical = MappingProxyType({"hub.client-status.v1": ClientStatusEvent})
    family = "client-status"


class TestServiceReferral(_AuthorityMessages):
    parser = "authority service-referral (in.lahti|ph.service-referral)"
    reasons = known_reasons(REFERRAL_REASONS, "conflicting-duplicate-service-referral")
    canonical = MappingProxyType({"hub.service-referral.v1": ServiceReferralEvent})
    family = "service-referral"


#: The integration-training referrals the answer examples are about: id → (sender, recipient).
ANSWERED: Final = {
    "PH-2025-0042": ("ph", "lahti"),
    "PH-2025-0043": ("ph", "lahti"),
    "L-2025-000902": ("lahti", "ph"),
}

#: The answer examples in an order the referral state machine allows.
ANSWER_ORDER: Final = (
    "lahti-rejects-with-reason",
    "lahti-cancelled",
    "ph-received",
    "ph-accepts",
    "ph-course-started",
    "ph-course-completed-utc",
)

_ANSWER_VALUES: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from(
        [CODE, "L-1", "HYVAKSYTTY", "PERUTTU", "2025-03-20T09:30:00+02:00", "", " ", f"{CODE} x"]
    ),
    st.text(max_size=60),
    st.lists(st.text(max_size=5), max_size=2),
)
_ANSWER_SHAPED: Final = st.dictionaries(
    st.sampled_from(["lahete_id", "tila", "syy", "aika", "hetu", CODE]), _ANSWER_VALUES, max_size=5
)


class TestReferralAnswer(ConnectorContract):
    """An authority's answers to the integration-training referrals the other one sent it."""

    parser = "authority referral answer (in.lahti|ph.referral-status)"
    reasons = known_reasons(ANSWER_REASONS, *ROUTE_REASONS)
    canonical = MappingProxyType({"hub.referral-status.v1": ReferralStatusEvent})

    def build_routes(self, data_dir: Path) -> Sequence[Route]:
        register = ReferralRegister.open(data_dir)
        sent_at = dt.datetime(2025, 3, 14, 10, tzinfo=dt.UTC)
        person = person_ref_for(CODE, SECRET)
        for referral_id, (sender, recipient) in ANSWERED.items():
            register.stage_referral(
                referral_id, person, sender, recipient, "integration_training", sent_at
            )
            register.commit()
        register.close()
        return _routes(data_dir, "referral-status")

    def prime(self, routes: Sequence[Route]) -> None:
        # Nothing: the referrals stay unanswered, so an answer may take any first step.
        return

    def seeds(self) -> Sequence[bytes]:
        return authority_seeds("referral-answer")

    def accepted_examples(self) -> Sequence[tuple[str, bytes]]:
        examples = dict(authority_examples("referral-answer"))
        assert set(examples) == set(ANSWER_ORDER), "a new answer example needs its place here"
        return [(f"{name.split('-')[0]}.referral-status", examples[name]) for name in ANSWER_ORDER]

    def near_valid_inputs(self) -> Mapping[str, st.SearchStrategy[FuzzInput]]:
        planted = codes_in_seeds(tuple(self.seeds())) | {CODE}
        return {
            "broken documents": broken_documents(
                authority_documents("referral-answer"), (*ANSWERED, *DOMAIN)
            ),
            "answer-shaped objects": _ANSWER_SHAPED.map(
                lambda document: FuzzInput(json.dumps(document).encode(), planted)
            ),
        }
