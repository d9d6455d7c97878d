"""The hub's own distribution routes keep the connector contract (``tests.connector_contract``).

Only the hub writes its canonical topics (``hub.<family>.v1``), but a distribution route must still
answer anything found there: a record written by hand, by an older release, by a misconfigured
producer. The routes are the ones ``hub up`` runs (``hub.distribution.routes.distribution_routes``,
with the referral register for relationships), on a delivery log in a fresh data directory. A
canonical event is rejected as malformed, of another type or invalid; an accepted one becomes
partner messages on ``out.`` topics keyed by the pseudonymous subject, with keys and headers free of
identity codes (the values carry what each partner's contract allows, identity codes included).
Inputs beyond the contract's own: structure-aware breakage of the canonical examples and arbitrary
JSON values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final

import orjson
import pytest
from hypothesis import strategies as st

from connectors import CONNECTORS
from contracts import CONTRACT_DIR
from hub.app.runtime import renderers_for
from hub.distribution.contracts import load_contract_book
from hub.distribution.delivery_log import DeliveryLog
from hub.distribution.routes import distribution_routes
from hub.referrals.register import ReferralRegister
from hub.routing.pipeline import Accepted, Route
from schemas.person_ref import PERSON_REF_PATTERN
from tests.connector_contract import ConnectorContract
from tests.fuzz.hostile_values import FuzzInput
from tests.fuzz.json_documents import broken_documents, json_values
from tests.fuzz.properties import known_reasons
from tests.identity_code_scan import identity_codes_in
from tests.support import CODE

pytestmark = pytest.mark.fuzz

#: Canonical events exactly as the hub writes them (tests/contract/test_canonical_examples.py).
EXAMPLES: Final = (
    "kela/examples/benefit-day/*.json",
    "kela/examples/benefit-day/v2/*.json",
    "authorities/examples/client-status/*.expected.json",
    "authorities/examples/service-referral/*.expected.json",
    "share/examples/benefit-threshold/*.json",
)
#: Examples no partner may receive: a resident outside the region.
NOT_ROUTED: Final = frozenset({"tmt-helsinki-outside-region.json"})
#: Near-misses of the envelope's and the data's values.
DOMAIN: Final = (
    "fi.paijathame.hub.benefit-day.v1", "fi.paijathame.hub.benefit-day.v2",
    "fi.paijathame.hub.client-status.v1", "fi.paijathame.hub.service-referral.v1",
    "fi.paijathame.hub.referral-status.v1", "fi.paijathame.hub.benefit-threshold.v1",
    "1.0", "application/json", "p-0123456789abcdef0123456789abcdef", "398", "091", "560",
    "lahti", "ph", "sote", "kela", "2025-03-01", "2025-03-01T08:12:00+02:00", "-0.01",
)  # fmt: skip
_PERSON_REF: Final = re.compile(PERSON_REF_PATTERN)


def _examples() -> list[Path]:
    return [path for pattern in EXAMPLES for path in sorted(CONTRACT_DIR.glob(pattern))]


def _route_name(family: str, version: int) -> str:
    return f"distribution.{family}" + ("" if version == 1 else f".v{version}")


def _route_of(raw: bytes) -> str:
    *_, family, version = json.loads(raw)["type"].split(".")
    return _route_name(family, int(version.removeprefix("v")))


class TestDistribution(ConnectorContract):
    parser = "hub distribution (hub.<family>.v1)"
    reasons = known_reasons(
        {"malformed-canonical-event", "unexpected-event-type", "invalid-canonical-event"}
    )
    canonical = MappingProxyType({})

    def build_routes(self, data_dir: Path) -> Sequence[Route]:
        renderers = renderers_for(CONNECTORS)
        return distribution_routes(
            load_contract_book(renderers),
            renderers,
            lambda: DeliveryLog.open(data_dir),
            ReferralRegister.open(data_dir),
        )

    def prime(self, routes: Sequence[Route]) -> None:
        # Nothing delivered yet: a valid event is rendered and published, not suppressed.
        return

    def seeds(self) -> Sequence[bytes]:
        return [path.read_bytes() for path in _examples()]

    def accepted_examples(self) -> Sequence[tuple[str, bytes]]:
        sources = load_contract_book(renderers_for(CONNECTORS)).sources()
        routes = {_route_name(family, version) for family, version in sources}
        examples = [(_route_of(path.read_bytes()), path) for path in _examples()]
        return [
            (route, path.read_bytes())
            for route, path in examples
            if route in routes and path.name not in NOT_ROUTED
        ]

    def check_published(self, accepted: Accepted, planted: frozenset[str]) -> None:
        for message in accepted.messages:
            assert message.topic.startswith("out."), message.topic
            assert message.key is not None
            assert _PERSON_REF.match(message.key.decode()), message.key
            assert message.event_id
            outside_data = " ".join([*message.headers, *message.headers.values()])
            assert not identity_codes_in(outside_data, planted), outside_data

    def near_valid_inputs(self) -> Mapping[str, st.SearchStrategy[FuzzInput]]:
        documents = [json.loads(path.read_bytes()) for path in _examples()]
        return {
            "broken events": broken_documents(documents, DOMAIN),
            "arbitrary JSON values": json_values((CODE, *DOMAIN)).map(
                lambda value: FuzzInput(orjson.dumps(value), frozenset({CODE}))
            ),
        }
