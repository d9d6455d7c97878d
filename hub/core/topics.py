"""The topic catalogue of DESIGN §3 and its provisioning.

Naming: ``in.<partner>.<family>`` (raw partner bytes in), ``hub.<family>.v<major>``
(canonical CloudEvents), ``out.<partner>.<family>`` (partner bytes out), plus
``hub.deadletter.v1`` and ``hub.audit.v1``. Canonical, dead-letter and audit topics keep data
forever: they are the evidence auditors replay.

Every topic name the hub and its connectors use is made here (``inbound_topic``,
``canonical_topic``, ``outbound_topic`` and the constants): the naming rule has one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "AUDIT_TOPIC",
    "DEADLETTER_TOPIC",
    "TOPICS",
    "TopicKind",
    "TopicSpec",
    "canonical_topic",
    "inbound_topic",
    "kind_of",
    "outbound_topic",
    "partner_of",
    "topic_configs",
]

DEADLETTER_TOPIC: Final = "hub.deadletter.v1"
AUDIT_TOPIC: Final = "hub.audit.v1"


def inbound_topic(partner: str, family: str) -> str:
    """``in.<partner>.<family>``: the native bytes ``partner`` sends of ``family``."""
    return f"in.{partner}.{family}"


def canonical_topic(family: str, major: int = 1) -> str:
    """``hub.<family>.v<major>``: the canonical CloudEvents of ``family`` at a major version."""
    return f"hub.{family}.v{major}"


def outbound_topic(partner: str, family: str) -> str:
    """``out.<partner>.<family>``: the bytes ``partner`` receives of ``family``."""
    return f"out.{partner}.{family}"


class TopicKind(StrEnum):
    """What a topic carries, which decides its retention."""

    INBOUND = "in"
    CANONICAL = "canonical"
    OUTBOUND = "out"
    DEADLETTER = "deadletter"
    AUDIT = "audit"


_PREFIXES: Final = {
    "in": TopicKind.INBOUND,
    "hub": TopicKind.CANONICAL,
    "out": TopicKind.OUTBOUND,
}


def kind_of(name: str) -> TopicKind | None:
    """What topic ``name`` carries by the naming rule, catalogued or not; None for a name
    outside the rule."""
    if name == DEADLETTER_TOPIC:
        return TopicKind.DEADLETTER
    if name == AUDIT_TOPIC:
        return TopicKind.AUDIT
    prefix, dot, rest = name.partition(".")
    return _PREFIXES.get(prefix) if dot and rest else None


def partner_of(name: str) -> str | None:
    """The partner an ``in.<partner>.*`` or ``out.<partner>.*`` topic is of; None otherwise."""
    if kind_of(name) not in {TopicKind.INBOUND, TopicKind.OUTBOUND}:
        return None
    partner, dot, _ = name.split(".", 1)[1].partition(".")
    return partner if dot and partner else None


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic of the catalogue; ``partitions`` overrides the configured count."""

    name: str
    kind: TopicKind
    family: str | None
    description: str
    partitions: int | None = None

    @property
    def keeps_forever(self) -> bool:
        """Canonical, dead-letter and audit topics are never deleted by retention."""
        return self.kind in {TopicKind.CANONICAL, TopicKind.DEADLETTER, TopicKind.AUDIT}

    @property
    def major(self) -> int:
        """The major version a ``hub.<family>.v<major>`` topic carries; 1 for other topics."""
        head, _, version = self.name.rpartition(".v")
        return int(version) if head and version.isdigit() else 1


def _flow(family: str, sources: tuple[str, ...], receivers: tuple[str, ...]) -> list[TopicSpec]:
    return [
        *(
            TopicSpec(
                inbound_topic(p, family), TopicKind.INBOUND, family, f"{family} from {p} (native)"
            )
            for p in sources
        ),
        TopicSpec(
            canonical_topic(family), TopicKind.CANONICAL, family, f"canonical {family} events"
        ),
        *(
            TopicSpec(outbound_topic(p, family), TopicKind.OUTBOUND, family, f"{family} to {p}")
            for p in receivers
        ),
    ]


def _single_partition(specs: list[TopicSpec], name: str) -> list[TopicSpec]:
    return [
        TopicSpec(s.name, s.kind, s.family, s.description, 1) if s.name == name else s
        for s in specs
    ]


#: Every topic the hub provisions, in the order of DESIGN §3. ``in.kela.benefit-day`` has one
#: partition: a correction names the record it corrects, and no key can keep the two in one
#: partition (the only common value is the identity code), so only total order guarantees a
#: correction never overtakes its record.
TOPICS: Final[tuple[TopicSpec, ...]] = (
    *_single_partition(
        _flow("benefit-day", ("kela",), ("lahti", "ph")), inbound_topic("kela", "benefit-day")
    ),
    # benefit-day v2 adds general support (YLT); v1 runs beside it while contracts name it.
    TopicSpec(
        canonical_topic("benefit-day", 2),
        TopicKind.CANONICAL,
        "benefit-day",
        "canonical benefit-day events, major version 2 (general support too)",
    ),
    *_flow("client-status", ("lahti", "ph"), ("kela", "lahti", "ph", "sote")),
    *_flow("service-referral", ("lahti", "ph"), ("sote", "lahti", "ph")),
    # Päijät-Sote answers the referrals sent to it; each authority answers the integration
    # training the other one referred to it.
    *_flow("referral-status", ("sote", "lahti", "ph"), ("lahti", "ph")),
    TopicSpec(
        outbound_topic("keha", "statistics"),
        TopicKind.OUTBOUND,
        "statistics",
        "monthly statistics to keha: aggregated figures per area and month, no persons",
    ),
    *_flow("benefit-threshold", (), ("lahti", "ph")),
    *(
        TopicSpec(
            outbound_topic(p, "municipal-share"),
            TopicKind.OUTBOUND,
            "municipal-share",
            f"monthly municipal-share statements to {p} (no personal data)",
        )
        for p in ("lahti", "ph")
    ),
    TopicSpec(DEADLETTER_TOPIC, TopicKind.DEADLETTER, None, "messages that could not be handled"),
    TopicSpec(AUDIT_TOPIC, TopicKind.AUDIT, None, "the audit stream"),
)


def topic_configs(spec: TopicSpec, retention_ms: int) -> dict[str, str]:
    """Kafka topic configuration for ``spec``: forever for evidence, configured otherwise."""
    return {"retention.ms": "-1" if spec.keeps_forever else str(retention_ms)}
