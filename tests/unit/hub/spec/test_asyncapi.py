"""The AsyncAPI document: built from the descriptions of what ``hub up`` runs (routes,
contracts, topics, models) without building any of it, complete, and committed."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field, create_model

from connectors import CONNECTORS
from contracts import CONTRACT_DIR
from hub.app.runtime import renderers_for, routes_for
from hub.audit.recorder import AuditRecorder, Consumed, Produced, drafts_for
from hub.audit.records import EventFacts
from hub.audit.store import open_audit_store
from hub.audit.stream import anchor_round, publish_pending
from hub.cli import main
from hub.connector import Connector
from hub.core.json_refs import refs_in
from hub.core.settings import HubSettings
from hub.core.topics import AUDIT_TOPIC, DEADLETTER_TOPIC, TOPICS, TopicKind
from hub.distribution.contracts import load_contract_book
from hub.routing.description import RouteDescription
from hub.spec.asyncapi import (
    SchemaNameClashError,
    _add_model,
    asyncapi_document,
    asyncapi_drift,
    render_asyncapi,
)
from schemas.catalogue import EVENT_TYPES, json_schema_for
from schemas.envelope import CLOUDEVENTS_CONTENT_TYPE

COMMITTED: Final = Path(__file__).parents[4] / "docs" / "asyncapi.yaml"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document()


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _operations(document: dict[str, Any], action: str) -> Iterator[dict[str, Any]]:
    return (op for op in document["operations"].values() if op["action"] == action)


def _address(document: dict[str, Any], operation: dict[str, Any]) -> str:
    address: str = _resolve(document, operation["channel"]["$ref"])["address"]
    return address


def test_the_committed_document_is_what_the_code_generates(document: dict[str, Any]) -> None:
    drift = asyncapi_drift(COMMITTED, render_asyncapi(document))
    assert drift is None, f"run `hub schemas asyncapi --out docs/asyncapi.yaml`\n{drift}"


def test_a_changed_document_fails_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = tmp_path / "asyncapi.yaml"
    shutil.copy(COMMITTED, changed)
    text = changed.read_text(encoding="utf-8")
    changed.write_text(text.replace("kept forever", "kept for a while", 1), encoding="utf-8")

    assert main(["schemas", "check", "--asyncapi", str(changed)]) == 1

    err = capsys.readouterr().err
    assert "+    description: canonical benefit-day events (kept forever)" in err
    assert f"run `hub schemas asyncapi --out {changed}`" in err
    shutil.copy(COMMITTED, changed)
    assert main(["schemas", "check", "--asyncapi", str(changed)]) == 0


def test_a_missing_document_fails_the_check(tmp_path: Path) -> None:
    assert asyncapi_drift(tmp_path / "none.yaml", "asyncapi: 3.0.0\n") is not None


def test_every_topic_is_one_channel_at_its_address(document: dict[str, Any]) -> None:
    channels = document["channels"]
    assert list(channels) == [spec.name for spec in TOPICS]
    assert all(channel["address"] == name for name, channel in channels.items())


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = set(refs_in(document))
    assert refs
    for ref in refs:
        assert _resolve(document, ref) is not None, ref


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_canonical_messages_carry_the_whole_model_with_its_nested_models(
    document: dict[str, Any], event_type: str
) -> None:
    message = document["components"]["messages"][event_type]
    schemas = document["components"]["schemas"]
    model = EVENT_TYPES[event_type].__name__
    assert message["payload"] == {"$ref": f"#/components/schemas/{model}"}
    expected = json_schema_for(event_type)
    # FastStream moved the nested models (data and what it uses) into components, unchanged.
    for name, definition in expected["$defs"].items():
        rebased = render_asyncapi(definition).replace("#/$defs/", "#/components/schemas/")
        assert render_asyncapi(schemas[name]) == rebased, name
    data = schemas[model]["properties"]["data"]["$ref"]
    assert _resolve(document, data)["additionalProperties"] is False
    assert message["headers"]["properties"]["content-type"]["const"] == CLOUDEVENTS_CONTENT_TYPE
    assert "correlation_id" in message["headers"]["required"]
    assert message["bindings"]["kafka"]["key"]["pattern"] == "^p-[0-9a-f]{32}$"


def test_partner_deliveries_carry_only_their_contract_fields(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    assert messages["out.kela.client-status"]["contentType"] == "application/xml"
    book = load_contract_book(renderers_for(CONNECTORS))
    checked = 0
    for contract in book.contracts.values():
        for receipt in contract.receives:
            if receipt.format != "cloudevents-json":
                continue
            name = receipt.topic + (f".{receipt.notice}" if receipt.notice else "")
            event = _resolve(document, messages[name]["payload"]["$ref"])
            data = _resolve(document, event["properties"]["data"]["$ref"])
            assert set(data["properties"]) == set(receipt.fields), name
            assert ("hubnotice" in event["properties"]) == (receipt.notice is not None), name
            checked += 1
    assert checked >= 8


def test_receive_operations_are_the_routes_hub_up_runs(
    document: dict[str, Any], tmp_path: Path
) -> None:
    routes = routes_for(HubSettings.model_construct(data_dir=tmp_path), CONNECTORS, b"x" * 32)
    expected = {(route.consumer_group, topic) for route in routes for topic in route.topics}
    described = {
        (op["bindings"]["kafka"]["groupId"]["enum"][0], _address(document, op))
        for op in _operations(document, "receive")
    }
    assert described == expected


def test_the_hub_sends_to_every_canonical_partner_and_dead_letter_topic(
    document: dict[str, Any],
) -> None:
    sent = {_address(document, op) for op in _operations(document, "send")}
    received = {_address(document, op) for op in _operations(document, "receive")}
    for spec in TOPICS:
        if spec.kind in {TopicKind.CANONICAL, TopicKind.OUTBOUND, TopicKind.DEADLETTER}:
            assert spec.name in sent, spec.name
        if spec.kind is TopicKind.INBOUND:
            assert spec.name in received, spec.name
            assert spec.name not in sent, spec.name


def test_a_new_route_shows_up_with_its_group_and_what_it_publishes(
    document: dict[str, Any],
) -> None:
    # An inbound topic is one the hub never writes, so only the probe's declaration can send it.
    described = RouteDescription("probe", (AUDIT_TOPIC,), ("in.kela.benefit-day",), "probes")
    probe = Connector("probe", routes=(described,))
    assert "hub.send.in.kela.benefit-day" not in document["operations"]

    probed = asyncapi_document((*CONNECTORS, probe))

    operation = probed["operations"]["probes.hub.audit.v1"]
    assert operation["action"] == "receive"
    assert operation["channel"] == {"$ref": "#/channels/hub.audit.v1"}
    assert operation["bindings"]["kafka"]["groupId"]["enum"] == ["probes"]
    sent = probed["operations"]["hub.send.in.kela.benefit-day"]
    assert sent["action"] == "send"
    assert sent["channel"] == {"$ref": "#/channels/in.kela.benefit-day"}
    assert set(probed["operations"]) - set(document["operations"]) == {
        "probes.hub.audit.v1",
        "hub.send.in.kela.benefit-day",
    }


def test_a_changed_contract_shows_up(document: dict[str, Any], tmp_path: Path) -> None:
    for contract in CONTRACT_DIR.glob("*.yaml"):
        shutil.copy(contract, tmp_path)
    lahti = tmp_path / "lahti.yaml"
    text = lahti.read_text(encoding="utf-8")
    v1 = "version: 1\n    topic: out.lahti.benefit-day"
    assert v1 in text
    lahti.write_text(text.replace(v1, v1.replace("1", "2", 1)), encoding="utf-8")

    changed = asyncapi_document(contracts_dir=tmp_path)

    # Lahti reads version 2 now: a distribution route of its own consumes it.
    added = set(changed["operations"]) - set(document["operations"])
    assert added == {"hub.distribution.benefit-day.v2.hub.benefit-day.v2"}
    schemas = changed["components"]["schemas"]
    event = schemas["out.lahti.benefit-day.event"]
    assert event["properties"]["type"]["const"] == "fi.paijathame.hub.benefit-day.v2"
    ph_event = schemas["out.ph.benefit-day.event"]
    assert ph_event["properties"]["type"]["const"] == "fi.paijathame.hub.benefit-day.v1"
    assert changed["channels"] == document["channels"]


_NO_STORE_PROBE: Final = """
import os, sys
seen = []
_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def watch(event, args):
    if event == "sqlite3.connect":
        seen.append(f"sqlite3.connect {args[0]}")
    elif event in {"os.mkdir", "os.rename", "os.remove", "shutil.rmtree"}:
        seen.append(f"{event} {args[0]}")
    elif event == "open" and isinstance(args[2], int) and args[2] & _WRITING:
        seen.append(f"open for writing {args[0]}")


sys.addaudithook(watch)
from hub.cli import main

code = main(["schemas", "asyncapi"])
sys.stderr.write("\\n".join(["seen:", *seen]))
sys.exit(code)
"""


def test_generating_the_document_opens_no_store_and_needs_no_secret(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    data_dir = locked / "data"
    env = {key: value for key, value in os.environ.items() if not key.startswith("HUB_")}
    # A real cluster, no pseudonym secret, a data directory that cannot even be created: a
    # hub that started its routes would fail on each.
    env |= {"HUB_KAFKA_BOOTSTRAP": "kafka.invalid:9092", "HUB_DATA_DIR": str(data_dir)}
    locked.chmod(0o500)
    try:
        done = subprocess.run(
            [sys.executable, "-B", "-c", _NO_STORE_PROBE],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
    finally:
        locked.chmod(0o700)

    assert done.returncode == 0, done.stderr
    assert done.stdout == COMMITTED.read_text(encoding="utf-8")
    assert done.stderr.splitlines()[-1:] == ["seen:"], done.stderr
    assert not data_dir.exists()


def test_what_the_audit_stream_publishes_is_the_documented_audit_record(
    document: dict[str, Any], tmp_path: Path
) -> None:
    store = open_audit_store(tmp_path, None)
    recorder = AuditRecorder(store, Ed25519PrivateKey.generate())
    disclosed = EventFacts("e-1", "fi.example", "p-1", "kela", "TTL 13 §", ("status",), None)
    consumed = Consumed("hub.client-status.v1", 1, 7, b"{}")
    recorder.record("g/hub.client-status.v1/1", drafts_for(consumed, [], not_routed=True))
    outputs = [
        Produced("out.kela.client-status", b"<x/>", 0, 3, disclosed),
        Produced(DEADLETTER_TOPIC, b"bad", 2, 9, EventFacts(detail="malformed-json: [hetu]")),
    ]
    recorder.record("g/in.kela.benefit-day/0", drafts_for(Consumed("in.x", 0, 1, b"a"), outputs))
    sent: list[tuple[bytes, bytes]] = []

    async def send(batch: list[tuple[bytes, bytes]]) -> None:
        sent.extend(batch)

    try:
        assert asyncio.run(publish_pending(recorder, send)) == 5
    finally:
        store.close()
    message = document["components"]["messages"]["audit-record"]
    validator = Draft202012Validator(message["payload"])
    directions = set()
    for key, value in sent:
        record = orjson.loads(value)
        assert list(validator.iter_errors(record)) == [], record
        assert key.decode() == record["chain"]
        directions.add(record["direction"])
    assert directions == {"consumed", "not-routed", "produced", "dead-lettered"}
    assert document["channels"][AUDIT_TOPIC]["messages"] == {
        "audit-record": {"$ref": "#/components/messages/audit-record"},
        "checkpoint-anchor": {"$ref": "#/components/messages/checkpoint-anchor"},
    }


def test_what_the_audit_stream_anchors_is_the_documented_checkpoint_anchor(
    document: dict[str, Any], tmp_path: Path
) -> None:
    store = open_audit_store(tmp_path, None)
    recorder = AuditRecorder(store, Ed25519PrivateKey.generate())
    recorder.record("g/in.x/0", drafts_for(Consumed("in.x", 0, 1, b"a"), []))
    assert recorder.checkpoint()
    sent: list[tuple[bytes, bytes]] = []

    async def send(batch: list[tuple[bytes, bytes]]) -> None:
        sent.extend(batch)

    try:
        assert asyncio.run(anchor_round(recorder, send)) == 1
    finally:
        store.close()
    message = document["components"]["messages"]["checkpoint-anchor"]
    [(key, value)] = sent
    assert list(Draft202012Validator(message["payload"]).iter_errors(orjson.loads(value))) == []
    assert key.decode() == message["bindings"]["kafka"]["key"]["const"]


class _Left(BaseModel):
    kind: Literal["left"]


class _Right(BaseModel):
    kind: Literal["right"]


_NOT_A_REF: Final = "text that only looks like a reference: #/$defs/Inner"


def _holder(inner: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        "Holder",
        inner=(inner, ...),
        choice=(Annotated[_Left | _Right, Field(discriminator="kind")], ...),
        note=(str, Field(description=_NOT_A_REF)),
    )


_INNER: Final = create_model("Inner", value=(int, ...))
#: Another model of the same name.
_OTHER_INNER: Final = create_model("Inner", other=(str, ...))


def test_a_model_becomes_components_with_rebased_refs_and_a_plain_discriminator() -> None:
    schemas: dict[str, Any] = {}

    assert _add_model(_holder(_INNER), schemas) == "Holder"

    assert set(schemas) == {"Holder", "Inner", "_Left", "_Right"}
    holder = schemas["Holder"]
    assert holder["properties"]["inner"] == {"$ref": "#/components/schemas/Inner"}
    assert holder["properties"]["choice"]["discriminator"] == "kind"
    assert "$defs" not in holder
    assert not [ref for ref in refs_in(schemas) if not ref.startswith("#/components/schemas/")]
    assert holder["properties"]["note"]["description"] == _NOT_A_REF


def test_a_model_without_nested_models_is_one_component() -> None:
    schemas: dict[str, Any] = {}

    assert _add_model(_Left, schemas) == "_Left"

    assert schemas == {"_Left": _Left.model_json_schema()}


def test_one_name_for_the_same_schema_twice_is_one_component_and_for_two_is_refused() -> None:
    schemas: dict[str, Any] = {}
    _add_model(_holder(_INNER), schemas)
    assert _add_model(_holder(_INNER), schemas) == "Holder"

    with pytest.raises(SchemaNameClashError, match="'Inner'"):
        _add_model(_holder(_OTHER_INNER), schemas)
