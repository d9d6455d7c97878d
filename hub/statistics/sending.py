"""Closing a month: the document of one area and month, and whether (and as what) it is sent.

A month can be sent once it has ended (in Helsinki). The first send is version 1. Once a
version was sent the month is final: sending again publishes nothing while the figures are
the same as the last version's, and a new version (``version`` + 1, naming the version it
replaces) only with a reason when they differ. Sending is idempotent: the event id is
``statistics-<area>-<month>-v<version>``, so a send repeated after a crash carries the same
id, and the version is recorded as sent only after Kafka acknowledged it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from hub.core.errors import HubError
from hub.core.topics import outbound_topic
from hub.statistics.document import Correction, build_event, figures_of
from hub.statistics.figures import HELSINKI, Month, month_figures
from hub.statistics.store import SentVersion, StatisticsStore
from schemas.codes import Authority
from schemas.monthly_statistics import MonthlyStatisticsEvent

__all__ = [
    "STATISTICS_TOPIC",
    "MonthNotEndedError",
    "MonthState",
    "NothingToCorrectError",
    "Prepared",
    "ReasonRequiredError",
    "current_document",
    "month_state",
    "prepare_send",
    "sent_version",
]

#: Where the state reads the documents.
STATISTICS_TOPIC: Final = outbound_topic("keha", "statistics")


class MonthNotEndedError(HubError):
    """A month's document is asked for before the month has ended."""

    exit_code = 2


class ReasonRequiredError(HubError):
    """The figures of a sent month changed: a new version needs a reason."""

    exit_code = 2


class NothingToCorrectError(HubError):
    """A reason was given for a month that was never sent (version 1 corrects nothing)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a send would do: publish ``event``, or nothing (``unchanged_since`` names the last
    version, whose figures are current)."""

    event: MonthlyStatisticsEvent | None
    unchanged_since: int | None = None


def _documents(store: StatisticsStore, area: Authority, month: Month) -> list[SentVersion]:
    return store.sent(area.value, str(month))


def current_document(
    store: StatisticsStore,
    municipalities: Mapping[str, str],
    area: Authority,
    month: Month,
    now: dt.datetime,
) -> MonthlyStatisticsEvent:
    """The document as the figures stand now (version 1 form; not sent)."""
    facts = store.facts(municipalities, month.last_day)
    return build_event(month_figures(facts, month, area.value), area, month, now)


#: The reason a candidate correction shows before it is sent (never published).
PENDING_REASON: Final = "not sent: the figures changed since version {version}"


@dataclass(frozen=True, slots=True)
class MonthState:
    """Where a month stands: the document that was sent (figures unchanged) or would be
    (not sent yet, or a correction pending), the last version sent, and whether it ended."""

    event: MonthlyStatisticsEvent
    last_sent: SentVersion | None
    changed: bool
    ended: bool


def month_state(
    store: StatisticsStore,
    municipalities: Mapping[str, str],
    area: Authority,
    month: Month,
    now: dt.datetime,
) -> MonthState:
    """The month as ``hub stats month`` shows it."""
    ended = now.astimezone(HELSINKI).date() > month.last_day
    figures = month_figures(store.facts(municipalities, month.last_day), month, area.value)
    sent = _documents(store, area, month)
    if not sent:
        return MonthState(build_event(figures, area, month, now), None, True, ended)
    last = sent[-1]
    last_event = MonthlyStatisticsEvent.model_validate_json(last.document)
    pending = Correction(last.version, PENDING_REASON.format(version=last.version))
    candidate = build_event(figures, area, month, now, pending)
    if figures_of(candidate.data) == figures_of(last_event.data):
        return MonthState(last_event, last, False, ended)
    return MonthState(candidate, last, True, ended)


def prepare_send(
    store: StatisticsStore,
    municipalities: Mapping[str, str],
    area: Authority,
    month: Month,
    now: dt.datetime,
    reason: str | None = None,
) -> Prepared:
    """Decide what sending ``month`` of ``area`` at ``now`` publishes."""
    today = now.astimezone(HELSINKI).date()
    if today <= month.last_day:
        raise MonthNotEndedError(
            f"{month} has not ended yet (it can be sent from {month.next.first_day} on)"
        )
    reason = (reason or "").strip() or None
    sent = _documents(store, area, month)
    facts = store.facts(municipalities, month.last_day)
    figures = month_figures(facts, month, area.value)
    if not sent:
        if reason is not None:
            raise NothingToCorrectError(
                f"{area.value} {month} was never sent: version 1 needs no --reason"
            )
        return Prepared(build_event(figures, area, month, now))
    last = sent[-1]
    last_event = MonthlyStatisticsEvent.model_validate_json(last.document)
    pending = reason or PENDING_REASON.format(version=last.version)
    candidate = build_event(figures, area, month, now, Correction(last.version, pending))
    if figures_of(candidate.data) == figures_of(last_event.data):
        return Prepared(None, unchanged_since=last.version)
    if reason is None:
        raise ReasonRequiredError(
            f"the figures of {area.value} {month} changed since version {last.version} was "
            f"sent: give --reason to send version {last.version + 1}"
        )
    return Prepared(candidate)


def sent_version(event: MonthlyStatisticsEvent, payload: bytes) -> SentVersion:
    """The store's record of a version once Kafka acknowledged it."""
    data = event.data
    return SentVersion(
        area=data.area.value,
        month=data.month,
        version=data.version,
        sent_at=dt.datetime.now(dt.UTC).isoformat(),
        reason=data.reason,
        document=payload.decode("utf-8"),
    )
