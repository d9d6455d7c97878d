"""Kafka ACLs from the contract book and the topic catalogue: who may read and write what.

A pure function of configuration, so the ACLs of a deployment can be reviewed (``hub acls
generate``) before they are applied, and tested without a cluster. Each partner gets exactly:

- ``WRITE`` and ``DESCRIBE`` on the ``in.<partner>.*`` topics of the catalogue (it produces
  them: the topic name says who sends it),
- ``READ`` and ``DESCRIBE`` on the ``out.*`` topics its contract lists, and an authority on its
  ``out.<authority>.municipal-share`` statements (nothing else: a partner never reads another
  partner's topic, the canonical topics or the dead letters),
- ``READ`` on consumer groups prefixed ``<partner>.``, so its groups cannot collide with the
  hub's or another partner's.

The hub gets ``READ`` on ``in.*`` and ``hub.*``, ``WRITE`` on ``hub.*`` (canonical, dead letters,
audit) and ``out.*``, ``DESCRIBE`` and ``CREATE`` on every catalogue topic (``hub up`` and
``hub topics provision`` create missing topics; literal names, so it cannot create others) and
``READ`` on consumer groups prefixed ``hub.``, and ``WRITE`` and ``DESCRIBE`` on transactional
ids prefixed ``hub.`` (each route's producer commits its batches in a transaction named after
its group, ``hub ingest kela`` its chunks in one named ``hub.ingest.kela.<instance>``). Every
binding allows; nothing here denies, since Kafka denies what no ACL allows
(``allow.everyone.if.no.acl.found=false``).

Principal names are a deployment choice: by default ``User:<partner>`` and ``User:hub``, which
are the SASL/SCRAM user names of ``docker/compose.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hub.core.errors import ConfigurationError
from hub.core.topics import TOPICS, TopicKind, TopicSpec
from hub.distribution.contracts import ContractBook

__all__ = [
    "DEFAULT_HUB_PRINCIPAL",
    "DEFAULT_PARTNER_PRINCIPAL",
    "HUB_GROUP_PREFIX",
    "AclBinding",
    "Operation",
    "PatternType",
    "Principals",
    "ResourceType",
    "acl_bindings",
    "partner_group_prefix",
    "produced_topics",
]

DEFAULT_HUB_PRINCIPAL: Final = "User:hub"
DEFAULT_PARTNER_PRINCIPAL: Final = "User:{partner}"
#: Every consumer group of the hub starts with this (``hub.routing.pipeline.Route.consumer_group``).
HUB_GROUP_PREFIX: Final = "hub."

_PRINCIPAL: Final = re.compile(r"^[A-Za-z][A-Za-z0-9]*:\S.*$")


class Operation(StrEnum):
    """The Kafka operations the hub's ACLs use."""

    READ = "READ"
    WRITE = "WRITE"
    CREATE = "CREATE"
    DESCRIBE = "DESCRIBE"


class ResourceType(StrEnum):
    """The Kafka resources the hub's ACLs name."""

    TOPIC = "TOPIC"
    GROUP = "GROUP"
    TRANSACTIONAL_ID = "TRANSACTIONAL_ID"


class PatternType(StrEnum):
    """Whether a binding names one resource or every resource with a prefix."""

    LITERAL = "LITERAL"
    PREFIXED = "PREFIXED"


@dataclass(frozen=True, slots=True, order=True)
class AclBinding:
    """One ``ALLOW`` rule: ``principal`` may do ``operation`` on a resource, from any host."""

    principal: str
    resource_type: ResourceType
    pattern_type: PatternType
    resource_name: str
    operation: Operation
    permission: str = "ALLOW"
    host: str = "*"

    def as_dict(self) -> dict[str, str]:
        """The binding as plain strings (the JSON output)."""
        return {
            "principal": self.principal,
            "permission": self.permission,
            "operation": self.operation.value,
            "resource_type": self.resource_type.value,
            "pattern_type": self.pattern_type.value,
            "resource_name": self.resource_name,
            "host": self.host,
        }


@dataclass(frozen=True, slots=True)
class Principals:
    """How principals are named: the hub's, and a template with ``{partner}`` for partners."""

    hub: str = DEFAULT_HUB_PRINCIPAL
    partner_template: str = DEFAULT_PARTNER_PRINCIPAL

    def __post_init__(self) -> None:
        """Refuse names Kafka would not take as a principal (``Type:name``)."""
        if not _PRINCIPAL.match(self.hub):
            raise ConfigurationError(f"hub principal {self.hub!r} must look like 'User:name'")
        if "{partner}" not in self.partner_template or not _PRINCIPAL.match(self.partner_template):
            raise ConfigurationError(
                f"partner principal {self.partner_template!r} must look like 'User:{{partner}}'"
            )

    def partner(self, partner: str) -> str:
        """The principal of ``partner``."""
        return self.partner_template.replace("{partner}", partner)


def partner_group_prefix(partner: str) -> str:
    """The prefix every consumer group of ``partner`` must start with."""
    return f"{partner}."


def produced_topics(topics: Iterable[TopicSpec] = TOPICS) -> dict[str, tuple[str, ...]]:
    """Partner → the ``in.*`` topics it produces (``in.<partner>.<family>``, DESIGN §3)."""
    produced: dict[str, list[str]] = {}
    for spec in topics:
        if spec.kind is TopicKind.INBOUND:
            produced.setdefault(spec.name.split(".")[1], []).append(spec.name)
    return {partner: tuple(names) for partner, names in produced.items()}


def _topic(principal: str, name: str, *operations: Operation) -> list[AclBinding]:
    return [
        AclBinding(principal, ResourceType.TOPIC, PatternType.LITERAL, name, operation)
        for operation in operations
    ]


def _group_prefix(principal: str, prefix: str) -> AclBinding:
    return AclBinding(principal, ResourceType.GROUP, PatternType.PREFIXED, prefix, Operation.READ)


def _hub_bindings(principal: str, topics: Iterable[TopicSpec]) -> list[AclBinding]:
    bindings = []
    for spec in topics:
        operations = [Operation.DESCRIBE, Operation.CREATE]
        if spec.kind is not TopicKind.OUTBOUND:  # in.* and every hub.* topic
            operations.append(Operation.READ)
        if spec.kind is not TopicKind.INBOUND:  # hub.* and out.*
            operations.append(Operation.WRITE)
        bindings += _topic(principal, spec.name, *operations)
    bindings.append(_group_prefix(principal, HUB_GROUP_PREFIX))
    # A route's transactional id is its consumer group plus the instance (hub.routing.transactions);
    # `hub ingest kela`'s is hub.ingest.kela plus the instance (connectors.kela.file_ingest).
    bindings += [
        AclBinding(
            principal,
            ResourceType.TRANSACTIONAL_ID,
            PatternType.PREFIXED,
            HUB_GROUP_PREFIX,
            operation,
        )
        for operation in (Operation.WRITE, Operation.DESCRIBE)
    ]
    return bindings


def _partner_bindings(
    principal: str, partner: str, produces: Iterable[str], receives: Iterable[str]
) -> list[AclBinding]:
    bindings = []
    for name in produces:
        bindings += _topic(principal, name, Operation.WRITE, Operation.DESCRIBE)
    for name in receives:
        bindings += _topic(principal, name, Operation.READ, Operation.DESCRIBE)
    bindings.append(_group_prefix(principal, partner_group_prefix(partner)))
    return bindings


def _received_topics(book: ContractBook) -> Mapping[str, tuple[str, ...]]:
    return {
        partner.value: tuple(
            dict.fromkeys(
                [receipt.topic for receipt in contract.receives]
                + [aggregate.topic for aggregate in contract.aggregates]
            )
        )
        for partner, contract in book.contracts.items()
    }


def _with_statements(
    received: Mapping[str, tuple[str, ...]], topics: Iterable[TopicSpec]
) -> dict[str, tuple[str, ...]]:
    # Statements carry no personal data and no contract: the authority named in the topic reads.
    merged = dict(received)
    for spec in topics:
        if spec.kind is TopicKind.OUTBOUND and spec.family == "municipal-share":
            partner = spec.name.split(".")[1]
            merged[partner] = (*merged.get(partner, ()), spec.name)
    return merged


def acl_bindings(
    book: ContractBook,
    topics: Iterable[TopicSpec] = TOPICS,
    principals: Principals | None = None,
) -> tuple[AclBinding, ...]:
    """Every ACL binding of a deployment: the hub's first, then each partner's, sorted.

    A partner with neither an ``in.*`` topic nor a receipt in its contract gets nothing.
    """
    principals = principals or Principals()
    topics = tuple(topics)
    produced = produced_topics(topics)
    received = _with_statements(_received_topics(book), topics)
    hub = sorted(set(_hub_bindings(principals.hub, topics)))
    partners: list[AclBinding] = []
    for partner in sorted(set(produced) | set(received)):
        partners += sorted(
            set(
                _partner_bindings(
                    principals.partner(partner),
                    partner,
                    produced.get(partner, ()),
                    received.get(partner, ()),
                )
            )
        )
    return (*hub, *partners)
