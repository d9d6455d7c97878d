"""``hub audit recompute``: today's translations over recorded inputs, diffed with what was
recorded then.

Proves an upgrade did not change behaviour, or shows exactly where it did. The translations
run against scratch state (a temporary data directory): every recorded input from the start of
the log is fed through, in recorded order, so deduplication ledgers and the referral register
are in the state they were in when the window's inputs arrived; only inputs inside the window
are compared. Redelivered inputs are skipped (their outputs depended on what had already been
sent). Nothing is published and the hub's own state is not touched.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from aiokafka.structs import ConsumerRecord

from hub.audit.records import AuditRecord, Direction, payload_digest
from hub.audit.store import AuditStore, RecordQuery
from hub.core.redaction import mask_identity_codes
from hub.core.topics import DEADLETTER_TOPIC
from hub.routing.pipeline import Route, outcome_of

__all__ = ["Difference", "Output", "RecomputeReport", "recompute"]

_SHOWN_DIFF_LINES: Final = 40


@dataclass(frozen=True, slots=True)
class Output:
    """One consequence of handling an input, as compared: what, where, which bytes."""

    direction: str
    topic: str
    digest: str
    detail: str | None = None
    payload: bytes | None = None

    def same_as(self, other: Output) -> bool:
        """Equal in everything compared (the payload itself is only shown)."""
        return (self.direction, self.topic, self.digest, self.detail) == (
            other.direction,
            other.topic,
            other.digest,
            other.detail,
        )


@dataclass(frozen=True, slots=True)
class Difference:
    """One input whose outputs differ: where it was recorded and how."""

    chain: str
    seq: int
    event_id: str | None
    recorded: tuple[Output, ...]
    recomputed: tuple[Output, ...]

    def explain(self) -> list[str]:
        """Lines for the terminal: which outputs differ, with a diff of changed payloads
        (identity codes masked)."""
        lines = [f"chain {self.chain} record {self.seq} (event {self.event_id or '-'}):"]
        for index in range(max(len(self.recorded), len(self.recomputed))):
            then = self.recorded[index] if index < len(self.recorded) else None
            now = self.recomputed[index] if index < len(self.recomputed) else None
            if then is not None and now is not None and then.same_as(now):
                continue
            if now is None and then is not None:
                lines.append(f"  no longer produced: {then.direction} {then.topic}")
            elif then is None and now is not None:
                lines.append(f"  newly produced: {now.direction} {now.topic}")
            elif then is not None and now is not None:
                lines.append(
                    f"  changed: {then.direction} {then.topic} -> {now.direction} {now.topic}"
                )
                if then.detail != now.detail:
                    lines.append(f"    reason: {then.detail} -> {now.detail}")
                lines.extend(_payload_diff(then.payload, now.payload))
        return lines


def _payload_diff(before: bytes | None, after: bytes | None) -> list[str]:
    if before is None or after is None or before == after:
        return []
    old = mask_identity_codes(before.decode("utf-8", "replace")).splitlines()
    new = mask_identity_codes(after.decode("utf-8", "replace")).splitlines()
    if len(old) == 1 and len(new) == 1:  # one-line JSON: diff it field by field
        old = old[0].replace(",", ",\n").splitlines()
        new = new[0].replace(",", ",\n").splitlines()
    diff = list(difflib.unified_diff(old, new, "recorded", "recomputed", lineterm="", n=1))
    return [f"    {line}" for line in diff[:_SHOWN_DIFF_LINES]]


@dataclass
class RecomputeReport:
    """How many inputs were compared, and where the outputs differ."""

    compared: int = 0
    warmed_up: int = 0
    skipped_redelivered: int = 0
    skipped_pruned: int = 0
    skipped_unknown_route: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def same(self) -> bool:
        """True when every compared input gave what was recorded."""
        return not self.differences


def _recorded_outputs(store: AuditStore, consumed: AuditRecord) -> tuple[Output, ...]:
    outputs = []
    # An input has a handful of outputs: read small pages, not a thousand records per input.
    for record in store.chain(consumed.chain, consumed.seq + 1, page=16):
        if record.direction == Direction.CONSUMED:
            break
        detail = record.detail if record.direction == Direction.DEAD_LETTERED else None
        outputs.append(
            Output(
                record.direction, record.topic or "", record.payload_sha256, detail, record.payload
            )
        )
    return tuple(outputs)


def _as_kafka_record(record: AuditRecord) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=record.topic or "",
        partition=record.partition or 0,
        offset=record.offset or 0,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=record.payload,
        checksum=None,
        serialized_key_size=-1,
        serialized_value_size=len(record.payload or b""),
        headers=(),
    )


def _recomputed_outputs(route: Route, record: AuditRecord) -> tuple[Output, ...]:
    accepted = outcome_of(route, _as_kafka_record(record))
    outputs = []
    for message in accepted.messages:
        dead = message.topic == DEADLETTER_TOPIC
        outputs.append(
            Output(
                Direction.DEAD_LETTERED if dead else Direction.PRODUCED,
                message.topic,
                payload_digest(message.value),
                message.facts.detail if dead and message.facts else None,
                message.value,
            )
        )
    if accepted.not_routed:
        outputs.append(Output(Direction.NOT_ROUTED, record.topic or "", payload_digest(b"")))
    accepted.settle()  # the scratch state moves on as it did then
    return tuple(outputs)


def _inputs(store: AuditStore, until: str | None) -> Iterator[AuditRecord]:
    return store.select(RecordQuery(until=until, directions=(Direction.CONSUMED,)))


def recompute(
    store: AuditStore, routes: Sequence[Route], since: str | None, until: str | None
) -> RecomputeReport:
    """Run ``routes`` (built on scratch state) over every recorded input up to ``until``;
    compare the outputs of those recorded from ``since``."""
    by_group: Mapping[str, Route] = {route.consumer_group: route for route in routes}
    report = RecomputeReport()
    for consumed in _inputs(store, until):
        if consumed.redelivered:
            report.skipped_redelivered += 1
            continue
        route = by_group.get(consumed.chain.split("/")[0])
        if route is None:
            report.skipped_unknown_route += 1
            continue
        if consumed.payload is None:
            report.skipped_pruned += 1
            continue
        recomputed = _recomputed_outputs(route, consumed)
        if since is not None and consumed.recorded_at < since:
            report.warmed_up += 1
            continue
        report.compared += 1
        recorded = _recorded_outputs(store, consumed)
        if len(recorded) != len(recomputed) or not all(
            a.same_as(b) for a, b in zip(recorded, recomputed, strict=True)
        ):
            report.differences.append(
                Difference(consumed.chain, consumed.seq, consumed.event_id, recorded, recomputed)
            )
    return report
