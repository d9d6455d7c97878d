"""A contract names the major version of a family it receives: benefit-day v1 or v2.

Real contract files (copies of the packaged ones, edited) and the real distribution.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from connectors import CONNECTORS
from contracts import CONTRACT_DIR
from hub.app.runtime import renderers_for
from hub.core.errors import ConfigurationError
from hub.distribution.contracts import load_contract_book
from hub.distribution.delivery_log import DeliveryLog
from hub.distribution.routes import distribution_routes, route_event
from schemas.codes import Partner
from schemas.envelope import dataschema_for
from schemas.rejection import Rejection
from tests.support import benefit_day_event

RENDERERS = renderers_for(CONNECTORS)
V2 = "fi.paijathame.hub.benefit-day.v2"
RECEIPT = "  - family: benefit-day\n"
VERSION_1 = "    version: 1\n"


@pytest.fixture
def contract_dir(tmp_path: Path) -> Path:
    for path in CONTRACT_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _set_version(path: Path, version: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert VERSION_1 in text
    path.write_text(text.replace(VERSION_1, f"    version: {version}\n", 1), encoding="utf-8")


def _v1(benefit: str = "labour_market_subsidy") -> bytes:
    return benefit_day_event(benefit=benefit).model_dump_json().encode()


def _v2(benefit: str = "general_support") -> bytes:
    event = orjson.loads(_v1())
    event["type"] = V2
    event["dataschema"] = dataschema_for(V2)
    event["data"]["benefit"] = benefit
    return orjson.dumps(event)


def test_the_packaged_authorities_receive_benefit_day_v1() -> None:
    book = load_contract_book(RENDERERS)
    for partner in (Partner.LAHTI, Partner.PH):
        [receipt] = [r for r in book.contracts[partner].receives if r.family == "benefit-day"]
        assert receipt.version == 1
    assert ("benefit-day", 1) in book.sources()
    assert ("benefit-day", 2) not in book.sources()


def test_a_contract_without_a_version_receives_v1(contract_dir: Path) -> None:
    lahti = contract_dir / "lahti.yaml"
    lahti.write_text(lahti.read_text(encoding="utf-8").replace(VERSION_1, "", 1), "utf-8")
    book = load_contract_book(RENDERERS, contract_dir)
    [receipt] = [r for r in book.contracts[Partner.LAHTI].receives if r.family == "benefit-day"]
    assert receipt.version == 1


def test_a_contract_switched_to_v2_gets_general_support_once(contract_dir: Path) -> None:
    _set_version(contract_dir / "lahti.yaml", "2")
    book = load_contract_book(RENDERERS, contract_dir)
    assert {("benefit-day", 1), ("benefit-day", 2)} <= book.sources()
    # v2 topic: Lahti (v2) gets the YLT and the TMT record; the v1 topic gives Lahti nothing.
    for value in (_v2(), _v2("labour_market_subsidy")):
        routed = route_event(book, RENDERERS, "benefit-day", value, version=2)
        assert isinstance(routed, list)
        assert [m.topic for m in routed] == ["out.lahti.benefit-day"]
        assert orjson.loads(routed[0].value)["type"] == V2
    assert route_event(book, RENDERERS, "benefit-day", _v1(), version=1) == []


def test_a_v1_contract_gets_the_v1_copy_and_nothing_from_v2() -> None:
    book = load_contract_book(RENDERERS)
    assert (
        route_event(book, RENDERERS, "benefit-day", _v2("labour_market_subsidy"), version=2) == []
    )
    routed = route_event(book, RENDERERS, "benefit-day", _v1(), version=1)
    assert isinstance(routed, list)
    assert [m.topic for m in routed] == ["out.lahti.benefit-day"]


@pytest.mark.parametrize(("value", "version"), [(_v2(), 1), (_v1(), 2)])
def test_an_event_of_the_other_version_is_rejected(value: bytes, version: int) -> None:
    book = load_contract_book(RENDERERS)
    routed = route_event(book, RENDERERS, "benefit-day", value, version=version)
    assert isinstance(routed, Rejection)
    assert routed.reason == "unexpected-event-type"


def test_general_support_is_not_a_valid_v1_event() -> None:
    book = load_contract_book(RENDERERS)
    event = orjson.loads(_v1())
    event["data"]["benefit"] = "general_support"
    routed = route_event(book, RENDERERS, "benefit-day", orjson.dumps(event), version=1)
    assert isinstance(routed, Rejection)
    assert routed.reason == "invalid-canonical-event"


def test_each_version_named_gets_its_own_route(contract_dir: Path, tmp_path: Path) -> None:
    _set_version(contract_dir / "ph.yaml", "2")
    book = load_contract_book(RENDERERS, contract_dir)
    routes = distribution_routes(book, RENDERERS, lambda: DeliveryLog.open(tmp_path / "d"))
    by_name = {route.connector: route.topics for route in routes}
    # v1 keeps its route name, so its consumer group and committed offsets.
    assert by_name["distribution.benefit-day"] == ("hub.benefit-day.v1",)
    assert by_name["distribution.benefit-day.v2"] == ("hub.benefit-day.v2",)


@pytest.mark.parametrize("version", ["0", "3"])
def test_a_version_without_a_canonical_topic_is_refused(contract_dir: Path, version: str) -> None:
    _set_version(contract_dir / "lahti.yaml", version)
    with pytest.raises(ConfigurationError, match=r"lahti\.yaml: receives(\[0\]|\.0)\.version"):
        load_contract_book(RENDERERS, contract_dir)


def test_two_versions_of_one_family_in_one_contract_are_refused(contract_dir: Path) -> None:
    lahti = contract_dir / "lahti.yaml"
    text = lahti.read_text(encoding="utf-8")
    start = text.index(RECEIPT)
    end = text.index("  - family:", start + len(RECEIPT))
    second = text[start:end].replace(VERSION_1, "    version: 2\n")
    lahti.write_text(text[:end] + second + text[end:], encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"receives\[1\]\.version: benefit-day"):
        load_contract_book(RENDERERS, contract_dir)


def test_the_same_version_named_twice_is_allowed(contract_dir: Path) -> None:
    # Several receipts of one family (a full one and a notice, say) are normal: same version.
    lahti = contract_dir / "lahti.yaml"
    text = lahti.read_text(encoding="utf-8")
    start = text.index(RECEIPT)
    end = text.index("  - family:", start + len(RECEIPT))
    lahti.write_text(text[:end] + text[start:end] + text[end:], encoding="utf-8")
    book = load_contract_book(RENDERERS, contract_dir)
    assert book.sources() >= {("benefit-day", 1)}
