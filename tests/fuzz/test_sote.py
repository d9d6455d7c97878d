"""Päijät-Sote's FHIR Task: the ``in.sote.referral-status`` route keeps the connector
contract (``tests.connector_contract``).

The route is the one ``hub up`` runs (``connectors.sote.wiring.build_routes``), on a referral
register in a fresh data directory that knows a few referrals: the examples' referrals sent to
Päijät-Sote and not yet answered, further ones accepted and in progress, one sent to the other
authority (so a Task about it is an unknown referral for Päijät-Sote) and one id both
authorities used. A Task can so reach every branch: allowed transitions, repeats, illegal
transitions, unknown and ambiguous referrals. Inputs beyond the contract's own:
structure-aware breakage of the valid example Tasks (edits anywhere in the tree, repeated
keys, non-finite and huge numbers, deep nesting, byte-order marks, wrong encodings), arbitrary
JSON values, and example Tasks with chosen elements (the interface's, FHIR's, the FHIR
library's Python names) replaced or removed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final

import orjson
import pytest
from hypothesis import strategies as st

from connectors.sote.inbound import OTHER_FHIR_TASK_STATUSES, REASONS, TASK_STATES
from connectors.sote.outbound import REFERRAL_SYSTEM
from connectors.sote.wiring import build_routes
from hub.connector import ConnectorContext
from hub.core.settings import load_settings
from hub.referrals.register import ReferralKey, ReferralRegister
from hub.routing.pipeline import Route
from schemas.codes import ReferralState
from schemas.envelope import ReferralStatusEvent
from schemas.person_ref import person_ref_for
from tests.connector_contract import ConnectorContract
from tests.fuzz.corpus import codes_in_seeds, task_documents, task_examples, task_seeds
from tests.fuzz.hostile_values import FuzzInput
from tests.fuzz.json_documents import ABSENT, broken_documents, json_values, set_path
from tests.fuzz.properties import known_reasons
from tests.support import CODE, SECRET

pytestmark = pytest.mark.fuzz

#: (sender, referral id, recipient, the states it went through after it was sent): the
#: examples' referrals, and further ones in other states; "L-1" is sent by both authorities,
#: so a Task about it must name its requester.
REFERRALS: Final[tuple[tuple[str, str, str, tuple[ReferralState, ...]], ...]] = (
    ("lahti", "L-2025-000871", "sote", ()),
    ("ph", "PH-2025-004410", "sote", ()),
    ("ph", "PH-2025-004420", "sote", (ReferralState.ACCEPTED,)),
    ("ph", "PH-2025-004588", "sote", (ReferralState.ACCEPTED, ReferralState.IN_PROGRESS)),
    ("lahti", "L-2025-000900", "ph", ()),
    ("lahti", "L-1", "sote", ()),
    ("ph", "L-1", "sote", ()),
)

#: Near-misses of the elements' own values, values right for another element, and FHIR Task
#: elements the examples do not use (as keys, they reach parts of the FHIR library the
#: examples never do).
DOMAIN: Final = (
    *TASK_STATES, *sorted(OTHER_FHIR_TASK_STATUSES), *(r[1] for r in REFERRALS), "Task",
    "ServiceRequest", "Patient", "order", "plan", REFERRAL_SYSTEM, "urn:oid:1.2.246.21", "sote",
    "2025-03-20T09:30:00+02:00", "2025-03-20T09:30:00", "2025-03-20", "2025-03", "2025",
    "2025-03-20T23:59:60+02:00", "2025-03-20T09:30:00+14:30", "2025-03-20T09:30:00.123456789Z",
    "Accepted", "hyväksytty", "contained", "extension", "modifierExtension", "meta", "text",
    "identifier", "input", "output", "note", "partOf", "businessStatus", "focus", "encounter",
    "executionPeriod", "authoredOn", "requester", "restriction", "reasonCode", "reasonReference",
    "code", "priority", "valueString", "valueReference", "url", "reference", "display",
)  # fmt: skip


#: The example Tasks in an order the referral state machine allows.
TASK_ORDER: Final = (
    "received",
    "accepted",
    "accepted-naming-the-requester",
    "in-progress",
    "completed-utc",
    "cancelled-without-referral-system",
    "rejected-no-places",
)

#: Keys of a Task worth breaking: the interface's, FHIR's, and the library's Python names.
_KEYS: Final = (
    "resourceType", "id", "basedOn", "status", "statusReason", "intent", "lastModified",
    "contained", "extension", "_status", "_lastModified", "meta", "text", "for", "owner",
    "input", "output", "status__ext", "resource_type", "fhir_comments",
)  # fmt: skip
_STATUSES: Final = (*TASK_STATES, *sorted(OTHER_FHIR_TASK_STATUSES))
_JSON_VALUES: Final = json_values((CODE, "Task", *_STATUSES, "2025-03-20"))
_STATUS_VALUES: Final = st.sampled_from(_STATUSES) | st.text(max_size=20)
_NESTED: Final = st.sampled_from(
    [
        ("basedOn", 0, "identifier", "value"),
        ("basedOn", 0, "identifier", "system"),
        ("basedOn", 0, "identifier"),
        ("basedOn", 0),
        ("basedOn", 0, "reference"),
        ("statusReason", "text"),
        ("statusReason", "coding"),
        ("contained",),
        ("contained", 0),
        ("contained", 0, "resourceType"),
    ]
)


@st.composite
def _elements_replaced(draw: st.DrawFn) -> FuzzInput:
    """An example Task with up to four top-level and three nested elements replaced or
    removed, and perhaps another status."""
    document = json.loads(json.dumps(draw(st.sampled_from(task_documents()))))
    replaced = st.dictionaries(
        st.sampled_from(_KEYS), _JSON_VALUES | _STATUS_VALUES | st.just(ABSENT), max_size=4
    )
    for key, value in draw(replaced).items():
        set_path(document, (key,), value)
    for path, value in draw(
        st.lists(st.tuples(_NESTED, _JSON_VALUES | st.just(ABSENT)), max_size=3)
    ):
        set_path(document, path, value)
    status = draw(st.none() | _STATUS_VALUES)
    if status is not None:
        document["status"] = status
    return FuzzInput(orjson.dumps(document), codes_in_seeds(task_seeds()) | {CODE})


class TestReferralStatus(ConnectorContract):
    parser = "sote FHIR Task (in.sote.referral-status)"
    reasons = known_reasons(REASONS, "unknown-referral", "ambiguous-referral", "illegal-transition")
    canonical = MappingProxyType({"hub.referral-status.v1": ReferralStatusEvent})

    def build_routes(self, data_dir: Path) -> Sequence[Route]:
        register = ReferralRegister.open(data_dir)
        sent_at = dt.datetime(2025, 3, 14, 10, tzinfo=dt.UTC)
        person = person_ref_for(CODE, SECRET)
        for sender, referral_id, recipient, states in REFERRALS:
            service = (
                "rehabilitative_work_activity" if recipient == "sote" else "integration_training"
            )
            register.stage_referral(referral_id, person, sender, recipient, service, sent_at)
            register.commit()
            for state in states:
                register.stage_state(ReferralKey(sender, referral_id), state, sent_at)
                register.commit()
        register.close()
        return build_routes(ConnectorContext(load_settings(data_dir=data_dir), SECRET))

    def prime(self, routes: Sequence[Route]) -> None:
        # Nothing: the referrals keep the states above, so a Task may reach every branch.
        return

    def seeds(self) -> Sequence[bytes]:
        return task_seeds()

    def accepted_examples(self) -> Sequence[tuple[str, bytes]]:
        examples = dict(task_examples())
        assert set(examples) == set(TASK_ORDER), "a new example Task needs its place here"
        return [("sote", examples[name]) for name in TASK_ORDER]

    def near_valid_inputs(self) -> Mapping[str, st.SearchStrategy[FuzzInput]]:
        return {
            "broken Tasks": broken_documents(task_documents(), DOMAIN),
            "arbitrary JSON values": _JSON_VALUES.map(
                lambda value: FuzzInput(orjson.dumps(value), frozenset({CODE}))
            ),
            "chosen elements replaced": _elements_replaced(),
        }
