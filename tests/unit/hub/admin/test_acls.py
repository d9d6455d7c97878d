"""ACLs: each partner gets exactly what its contract file and DESIGN §3 say, the hub what it uses.

Expectations are read from the contract files with plain YAML and from DESIGN §3's topic
table written out below, not from the code under test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from connectors import CONNECTORS
from connectors.kela.file_ingest import TRANSACTIONAL_GROUP
from contracts import CONTRACT_DIR
from hub.admin.acls import (
    AclBinding,
    Operation,
    PatternType,
    Principals,
    ResourceType,
    acl_bindings,
)
from hub.app.runtime import renderers_for
from hub.core.errors import ConfigurationError
from hub.core.topics import TOPICS
from hub.distribution.contracts import load_contract_book
from hub.routing.transactions import transactional_id

BOOK = load_contract_book(renderers_for(CONNECTORS))
BINDINGS = acl_bindings(BOOK)
CONTRACT_FILES = sorted(p for p in CONTRACT_DIR.glob("*.yaml") if p.stem != "municipalities")

#: DESIGN §3: who sends each raw topic into the hub.
PRODUCERS = {
    "kela": {"in.kela.benefit-day"},
    "lahti": {"in.lahti.client-status", "in.lahti.referral-status", "in.lahti.service-referral"},
    "ph": {"in.ph.client-status", "in.ph.referral-status", "in.ph.service-referral"},
    "sote": {"in.sote.referral-status"},
}


def _of(principal: str, bindings: tuple[AclBinding, ...] = BINDINGS) -> list[AclBinding]:
    return [b for b in bindings if b.principal == principal]


def _topics(
    principal: str, operation: Operation, bindings: tuple[AclBinding, ...] = BINDINGS
) -> set[str]:
    return {
        b.resource_name
        for b in _of(principal, bindings)
        if b.resource_type is ResourceType.TOPIC and b.operation is operation
    }


def _contract_topics(path: Path) -> set[str]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {receipt["topic"] for receipt in raw.get("receives", []) + raw.get("aggregates", [])}


#: Statements for the finance systems: no personal data and no contract, the authority reads.
STATEMENTS = {"lahti": {"out.lahti.municipal-share"}, "ph": {"out.ph.municipal-share"}}


@pytest.mark.parametrize("path", CONTRACT_FILES, ids=lambda p: p.stem)
def test_a_partner_reads_exactly_the_topics_its_contract_file_lists(path: Path) -> None:
    principal = f"User:{path.stem}"
    expected = _contract_topics(path) | STATEMENTS.get(path.stem, set())
    assert _topics(principal, Operation.READ) == expected
    assert _topics(principal, Operation.READ) <= _topics(principal, Operation.DESCRIBE)


@pytest.mark.parametrize("partner", sorted(PRODUCERS))
def test_a_partner_writes_exactly_the_topics_it_sends_into_the_hub(partner: str) -> None:
    principal = f"User:{partner}"
    assert _topics(principal, Operation.WRITE) == PRODUCERS[partner]
    described = _topics(principal, Operation.DESCRIBE)
    assert described == PRODUCERS[partner] | _topics(principal, Operation.READ)


def test_no_partner_reads_another_partners_topic_or_anything_of_the_hub() -> None:
    for partner in PRODUCERS:
        for name in _topics(f"User:{partner}", Operation.READ):
            assert name.startswith(f"out.{partner}."), (partner, name)


def test_partners_may_do_nothing_but_read_write_and_describe_their_own_resources() -> None:
    for partner in PRODUCERS:
        bindings = _of(f"User:{partner}")
        assert {b.operation for b in bindings} <= {
            Operation.READ,
            Operation.WRITE,
            Operation.DESCRIBE,
        }
        groups = [b for b in bindings if b.resource_type is ResourceType.GROUP]
        assert groups == [
            AclBinding(
                f"User:{partner}",
                ResourceType.GROUP,
                PatternType.PREFIXED,
                f"{partner}.",
                Operation.READ,
            )
        ]
        assert all(b.permission == "ALLOW" and b.host == "*" for b in bindings)


def test_keha_may_only_read_its_statistics_topic() -> None:
    topics = {b.resource_name for b in _of("User:keha") if b.resource_type is ResourceType.TOPIC}
    assert topics == {"out.keha.statistics"}
    assert {b.operation for b in _of("User:keha")} == {Operation.READ, Operation.DESCRIBE}


def test_every_principal_is_the_hub_or_a_partner() -> None:
    partners = {*PRODUCERS, "keha"}
    assert {b.principal for b in BINDINGS} == {"User:hub"} | {f"User:{p}" for p in partners}


def test_the_hub_reads_in_and_hub_topics_and_writes_hub_and_out_topics() -> None:
    names = {spec.name for spec in TOPICS}
    inbound = {n for n in names if n.startswith("in.")}
    outbound = {n for n in names if n.startswith("out.")}
    own = {n for n in names if n.startswith("hub.")}
    assert {"hub.deadletter.v1", "hub.audit.v1"} <= own
    assert _topics("User:hub", Operation.READ) == inbound | own
    assert _topics("User:hub", Operation.WRITE) == own | outbound
    assert _topics("User:hub", Operation.DESCRIBE) == names


def test_the_hub_may_create_the_catalogue_topics_and_no_other() -> None:
    creates = [b for b in _of("User:hub") if b.operation is Operation.CREATE]
    assert {b.resource_name for b in creates} == {spec.name for spec in TOPICS}
    assert all(b.pattern_type is PatternType.LITERAL for b in creates)


def test_the_hub_uses_consumer_groups_starting_with_hub() -> None:
    [group] = [b for b in _of("User:hub") if b.resource_type is ResourceType.GROUP]
    assert (group.pattern_type, group.resource_name, group.operation) == (
        PatternType.PREFIXED,
        "hub.",
        Operation.READ,
    )


def test_the_hub_may_write_the_transactional_id_of_hub_ingest_kela() -> None:
    ingest = transactional_id(TRANSACTIONAL_GROUP, "host-1234abcd")
    allowed = {
        b.operation
        for b in _of("User:hub")
        if b.resource_type is ResourceType.TRANSACTIONAL_ID
        and b.pattern_type is PatternType.PREFIXED
        and ingest.startswith(b.resource_name)
    }
    assert allowed == {Operation.WRITE, Operation.DESCRIBE}
    assert ingest == "hub.ingest.kela.host-1234abcd"


def test_a_receipt_removed_from_a_contract_file_removes_the_read_acl(tmp_path: Path) -> None:
    for path in CONTRACT_FILES:
        shutil.copy(path, tmp_path / path.name)
    sote = tmp_path / "sote.yaml"
    raw = yaml.safe_load(sote.read_text(encoding="utf-8"))
    raw["receives"] = [r for r in raw["receives"] if r["topic"] != "out.sote.client-status"]
    sote.write_text(yaml.safe_dump(raw), encoding="utf-8")
    book = load_contract_book(renderers_for(CONNECTORS), directory=tmp_path)
    assert _topics("User:sote", Operation.READ, acl_bindings(book)) == {"out.sote.service-referral"}


def test_principal_names_follow_the_configured_template() -> None:
    principals = Principals(hub="User:paijathame-hub", partner_template="User:{partner}-prod")
    bindings = acl_bindings(BOOK, principals=principals)
    assert {b.principal for b in bindings} == {"User:paijathame-hub"} | {
        f"User:{p}-prod" for p in {*PRODUCERS, "keha"}
    }


@pytest.mark.parametrize(
    ("hub", "template"),
    [("hub", "User:{partner}"), ("User:hub", "User:kela"), ("User:hub", "{partner}")],
)
def test_a_malformed_principal_is_refused(hub: str, template: str) -> None:
    with pytest.raises(ConfigurationError, match="must look like"):
        Principals(hub=hub, partner_template=template)
