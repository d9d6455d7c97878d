"""Fuzzing Päijät-Sote's FHIR Task: the ``in.sote.referral-status`` route.

The route is the one ``hub up`` runs (``connectors.sote.wiring.build_routes``), on a referral
register in a fresh data directory that knows a few referrals: the examples' referral sent to
Päijät-Sote and not yet answered, two further ones accepted and in progress, and one sent to
the other authority (so a Task about it is an unknown referral for Päijät-Sote). A Task can so
reach every branch: allowed transitions, repeats, illegal transitions, unknown referrals.
Inputs: arbitrary bytes, structure-aware breakage of the valid example Tasks and byte-level
mutations of every example Task, valid and rejected.

``tests/connectors/sote/test_inbound.py`` already feeds ``parse_task`` arbitrary bytes,
arbitrary JSON values and Tasks with chosen elements replaced; these tests go through the
route and its state machine with edits anywhere in the tree, repeated keys, non-finite and
huge numbers, deep nesting, byte-order marks and wrong encodings.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sote.inbound import OTHER_FHIR_TASK_STATUSES, REASONS, TASK_STATES
from connectors.sote.outbound import REFERRAL_SYSTEM
from connectors.sote.wiring import build_routes
from hub.connector import ConnectorContext
from hub.pipeline import Route
from hub.referrals import ReferralKey, ReferralRegister
from hub.settings import load_settings
from schemas.codes import ReferralState
from schemas.envelope import ReferralStatusEvent
from schemas.person_ref import person_ref_for
from tests.fuzz.corpus import codes_in_seeds, task_documents, task_seeds
from tests.fuzz.hostile_values import FuzzInput
from tests.fuzz.json_documents import broken_documents
from tests.fuzz.mutations import mutated
from tests.fuzz.profiles import fuzz_settings
from tests.fuzz.properties import known_reasons, translated
from tests.support import CODE, SECRET

pytestmark = pytest.mark.fuzz

PARSER: Final = "sote FHIR Task (in.sote.referral-status)"
REASONS_OF_ROUTE: Final = known_reasons(
    REASONS, "unknown-referral", "ambiguous-referral", "illegal-transition"
)
CANONICAL: Final = {"hub.referral-status.v1": ReferralStatusEvent}

#: Referral id → (recipient, the states it went through after it was sent).
REFERRALS: Final[dict[str, tuple[str, tuple[ReferralState, ...]]]] = {
    "L-2025-000871": ("sote", ()),
    "PH-2025-004410": ("sote", (ReferralState.ACCEPTED,)),
    "PH-2025-004588": ("sote", (ReferralState.ACCEPTED, ReferralState.IN_PROGRESS)),
    "L-2025-000900": ("ph", ()),
}

#: Near-misses of the elements' own values, values right for another element, and FHIR Task
#: elements the examples do not use (as keys, they reach parts of the FHIR library the
#: examples never do).
DOMAIN: Final = (
    *TASK_STATES, *sorted(OTHER_FHIR_TASK_STATUSES), *REFERRALS, "Task", "ServiceRequest",
    "Patient", "order", "plan", REFERRAL_SYSTEM, "urn:oid:1.2.246.21", "sote",
    "2025-03-20T09:30:00+02:00", "2025-03-20T09:30:00", "2025-03-20", "2025-03", "2025",
    "2025-03-20T23:59:60+02:00", "2025-03-20T09:30:00+14:30", "2025-03-20T09:30:00.123456789Z",
    "Accepted", "hyväksytty", "contained", "extension", "modifierExtension", "meta", "text",
    "identifier", "input", "output", "note", "partOf", "businessStatus", "focus", "encounter",
    "executionPeriod", "authoredOn", "requester", "restriction", "reasonCode", "reasonReference",
    "code", "priority", "valueString", "valueReference", "url", "reference", "display",
)  # fmt: skip


@pytest.fixture(scope="module")
def route(tmp_path_factory: pytest.TempPathFactory) -> Route:
    data_dir = tmp_path_factory.mktemp("sote-fuzz")
    register = ReferralRegister.open(data_dir)
    sent_at = dt.datetime(2025, 3, 14, 10, tzinfo=dt.UTC)
    person = person_ref_for(CODE, SECRET)
    for referral_id, (recipient, states) in REFERRALS.items():
        service = "rehabilitative_work_activity" if recipient == "sote" else "integration_training"
        register.stage_referral(referral_id, person, "lahti", recipient, service, sent_at)
        register.commit()
        for state in states:
            register.stage_state(ReferralKey("lahti", referral_id), state, sent_at)
            register.commit()
    register.close()
    [sote] = build_routes(ConnectorContext(load_settings(data_dir=data_dir), SECRET))
    return sote


def _translated(route: Route, fuzz: FuzzInput) -> None:
    translated(PARSER, route, fuzz, REASONS_OF_ROUTE, CANONICAL)


@fuzz_settings()
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_get_an_answer(route: Route, raw: bytes) -> None:
    _translated(route, FuzzInput(raw, frozenset()))


@fuzz_settings()
@given(broken_documents(task_documents(), DOMAIN))
def test_broken_tasks_get_an_answer(route: Route, fuzz: FuzzInput) -> None:
    _translated(route, fuzz)


@fuzz_settings()
@given(mutated(task_seeds()))
def test_mutated_example_tasks_get_an_answer(route: Route, raw: bytes) -> None:
    _translated(route, FuzzInput(raw, codes_in_seeds(task_seeds())))
