"""The topic catalogue is DESIGN §3's table, and evidence is kept forever."""

from __future__ import annotations

from hub.core.topics import AUDIT_TOPIC, DEADLETTER_TOPIC, TOPICS, TopicKind, topic_configs

DESIGN_TABLE = {
    "in.kela.benefit-day", "hub.benefit-day.v1", "out.lahti.benefit-day", "out.ph.benefit-day",
    # benefit-day v2 (general support too) beside v1 while contracts name v1.
    "hub.benefit-day.v2",
    "in.lahti.client-status", "in.ph.client-status", "hub.client-status.v1",
    "out.kela.client-status", "out.lahti.client-status", "out.ph.client-status",
    "out.sote.client-status",
    "in.lahti.service-referral", "in.ph.service-referral", "hub.service-referral.v1",
    "out.sote.service-referral", "out.lahti.service-referral", "out.ph.service-referral",
    "in.sote.referral-status", "hub.referral-status.v1", "out.lahti.referral-status",
    "out.ph.referral-status",
    "hub.benefit-threshold.v1", "out.lahti.benefit-threshold", "out.ph.benefit-threshold",
    "out.lahti.municipal-share", "out.ph.municipal-share",
    # The authorities' answers to the integration training the other one referred to them.
    "in.lahti.referral-status", "in.ph.referral-status",
    "out.keha.statistics",
    "hub.deadletter.v1", "hub.audit.v1",
}  # fmt: skip


def test_catalogue_is_exactly_the_design_table() -> None:
    names = [spec.name for spec in TOPICS]
    assert len(names) == len(set(names))
    assert set(names) == DESIGN_TABLE


def test_names_follow_the_convention_of_their_kind() -> None:
    for spec in TOPICS:
        prefix = {
            TopicKind.INBOUND: "in.",
            TopicKind.OUTBOUND: "out.",
            TopicKind.CANONICAL: "hub.",
            TopicKind.DEADLETTER: "hub.",
            TopicKind.AUDIT: "hub.",
        }[spec.kind]
        assert spec.name.startswith(prefix), spec.name
        if spec.kind is TopicKind.CANONICAL:
            assert spec.name == f"hub.{spec.family}.v{spec.major}"


def test_canonical_deadletter_and_audit_topics_keep_data_forever() -> None:
    forever = {spec.name for spec in TOPICS if topic_configs(spec, 1000)["retention.ms"] == "-1"}
    canonical = {spec.name for spec in TOPICS if spec.kind is TopicKind.CANONICAL}
    assert forever == canonical | {DEADLETTER_TOPIC, AUDIT_TOPIC}


def test_partner_topics_take_the_configured_retention() -> None:
    spec = next(spec for spec in TOPICS if spec.name == "in.kela.benefit-day")
    assert topic_configs(spec, 86_400_000) == {"retention.ms": "86400000"}


def test_kela_input_is_one_partition_so_corrections_never_overtake_their_record() -> None:
    partitions = {spec.name: spec.partitions for spec in TOPICS}
    assert partitions["in.kela.benefit-day"] == 1
    assert {name for name, count in partitions.items() if count is not None} == {
        "in.kela.benefit-day"
    }


def test_the_major_version_of_a_canonical_topic() -> None:
    majors = {spec.name: spec.major for spec in TOPICS}
    assert majors["hub.benefit-day.v1"] == 1
    assert majors["hub.benefit-day.v2"] == 2
    assert majors["out.lahti.benefit-day"] == 1
