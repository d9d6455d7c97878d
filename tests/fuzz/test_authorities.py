"""Fuzzing the labour authorities' JSON: client-status and service-referral routes.

The routes are the ones ``hub up`` runs (``connectors.authorities.wiring.build_routes``), for
both authorities, on connector state in a fresh data directory that already holds the valid
examples (so a changed copy of one is a conflicting duplicate). Inputs: arbitrary bytes,
structure-aware breakage of the valid examples (``json_documents``) and byte-level mutations
of every example, valid and rejected.

``tests/connectors/authorities/test_inbound.py`` already feeds the parsers arbitrary bytes,
arbitrary JSON values and examples with top-level keys replaced; these tests go through the
routes (state, moves, the canonical event) with edits at any depth, repeated keys, non-finite
and huge numbers, deep nesting, byte-order marks and wrong encodings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.authorities.inbound import REFERRAL_REASONS, STATUS_CHANGE_REASONS
from connectors.authorities.wiring import build_routes
from hub.connector import ConnectorContext
from hub.pipeline import Accepted, Route
from hub.settings import load_settings
from schemas.codes import Authority
from schemas.envelope import ClientStatusEvent, CloudEvent, ServiceReferralEvent
from tests.fuzz.corpus import authority_documents, authority_seeds, codes_in_seeds
from tests.fuzz.hostile_values import FuzzInput
from tests.fuzz.json_documents import broken_documents
from tests.fuzz.mutations import mutated
from tests.fuzz.profiles import fuzz_settings
from tests.fuzz.properties import known_reasons, translated
from tests.support import SECRET

pytestmark = pytest.mark.fuzz

FAMILIES: Final = ("client-status", "service-referral")
REASONS_OF_ROUTE: Final = {
    "client-status": known_reasons(STATUS_CHANGE_REASONS, "conflicting-duplicate-client-status"),
    "service-referral": known_reasons(REFERRAL_REASONS, "conflicting-duplicate-service-referral"),
}
EVENTS: Final[dict[str, type[CloudEvent[Any]]]] = {
    "client-status": ClientStatusEvent,
    "service-referral": ServiceReferralEvent,
}

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


#: The keys of a message id: a fresh one makes an unbroken example news, not a repeat.
ID_KEYS: Final = ("muutosId", "lahete_id")


def _parser(family: str) -> str:
    return f"authority {family} (in.lahti|ph.{family})"


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[Authority, str], Route]:
    data_dir: Path = tmp_path_factory.mktemp("authorities-fuzz")
    by_name: dict[tuple[Authority, str], Route] = {}
    for route in build_routes(ConnectorContext(load_settings(data_dir=data_dir), SECRET)):
        authority, family = route.connector.split(".", 1)  # "lahti.client-status"
        by_name[Authority(authority), family] = route
        for seed in authority_seeds(family):
            outcome = route.translate(seed)
            if isinstance(outcome, Accepted):
                outcome.settle()
    return by_name


def _inputs(family: str, kind: str) -> st.SearchStrategy[FuzzInput]:
    if kind == "arbitrary bytes":
        return st.binary(max_size=2000).map(lambda raw: FuzzInput(raw, frozenset()))
    if kind == "broken documents":
        return broken_documents(authority_documents(family), DOMAIN, ID_KEYS)
    planted = codes_in_seeds(authority_seeds(family))
    return mutated(authority_seeds(family)).map(lambda raw: FuzzInput(raw, planted))


@pytest.mark.parametrize("kind", ["arbitrary bytes", "broken documents", "mutated examples"])
@pytest.mark.parametrize("family", FAMILIES)
@fuzz_settings()
@given(authority=st.sampled_from(Authority), data=st.data())
def test_every_input_gets_an_answer(
    routes: dict[tuple[Authority, str], Route],
    family: str,
    kind: str,
    authority: Authority,
    data: st.DataObject,
) -> None:
    fuzz = data.draw(_inputs(family, kind), label=kind)
    canonical = {f"hub.{family}.v1": EVENTS[family]}
    translated(
        _parser(family), routes[authority, family], fuzz, REASONS_OF_ROUTE[family], canonical
    )
