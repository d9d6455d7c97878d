"""A Kela record's canonical benefit-day events as the JSON the hub publishes, built directly.

``connectors.kela.inbound.to_event`` builds the ``benefit-day.v2`` event as its model, and
``connectors.kela.versions.as_v1`` its v1 copy; publishing needs only their CloudEvents JSON.
Here the event is built as the document ``model_dump(mode="json")`` gives (``event_document``)
straight from the row, and serialised with orjson (``event_messages``): the same bytes as the
models' ``model_dump_json()`` (a property test holds the two together), without building and
walking four models per record.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping
from typing import Any, Final
from zoneinfo import ZoneInfo

import orjson

from connectors.kela.inbound import SOURCE, Attribution
from connectors.kela.native import BENEFIT_CODES, KelaBenefit, PaymentDayRow
from hub.connector import Outgoing, canonical_message
from schemas.benefit_day import BENEFIT_DAY_V1, BENEFIT_DAY_V2
from schemas.codes import Benefit
from schemas.envelope import dataschema_for

__all__ = ["RecordData", "event_data", "event_document", "event_messages", "published_versions"]

_V2_DATASCHEMA: Final = dataschema_for(BENEFIT_DAY_V2)
_V1_DATASCHEMA: Final = dataschema_for(BENEFIT_DAY_V1)
_HELSINKI: Final = ZoneInfo("Europe/Helsinki")
#: The canonical benefit of each Kela code, as the JSON spells it (the same in v1 and v2).
_BENEFITS: Final[dict[KelaBenefit, str]] = {
    code: benefit.value for code, benefit in BENEFIT_CODES.items()
}
#: The benefits ``benefit-day.v1`` can carry, and Kela's codes of them.
_V1_BENEFITS: Final = frozenset(benefit.value for benefit in Benefit)
_V1_CODES: Final = frozenset(code for code, value in _BENEFITS.items() if value in _V1_BENEFITS)


@functools.lru_cache(maxsize=1024)
def _time(payment_date: dt.date) -> str:
    # The event's time: the payment date at 00:00 in Helsinki, as RFC 3339 (isoformat is
    # what the model's serialiser writes). Few distinct dates per file; bounded.
    return dt.datetime.combine(payment_date, dt.time(), tzinfo=_HELSINKI).isoformat()


def event_data(row: PaymentDayRow, attribution: Attribution | None) -> dict[str, Any]:
    """The ``data`` of ``row``'s ``event_document``."""
    if row.korjattava is None:
        attribution = None  # a record that corrects nothing: to_event ignores it too
    return {
        "record_id": row.tapahtumatunnus,
        "person_id": row.hetu,
        "home_municipality": row.kotikunta if attribution is None else attribution.municipality,
        "benefit": _BENEFITS[row.etuus],
        "period_start": row.jakso_alku.isoformat(),
        "period_end": row.jakso_loppu.isoformat(),
        "paid_days": row.maksupaivat,
        "amount_paid": str(row.maksettu),
        "cumulative_days": row.kertyma,
        "payment_date": row.maksupvm.isoformat(),
        "corrects_record_id": row.korjattava,
        "corrects_event_id": None if attribution is None else attribution.corrects_event_id,
        "stated_home_municipality": None if attribution is None else row.kotikunta,
        "corrects_unseen_record": attribution is not None and attribution.unseen,
    }


def event_document(
    row: PaymentDayRow, event_id: str, person_ref: str, attribution: Attribution | None
) -> dict[str, Any]:
    """The ``benefit-day.v2`` event of ``row`` as ``model_dump(mode="json")`` of
    ``to_event(row, secret, attribution, person_ref)`` gives it: field for field, in order.

    ``attribution`` is the correction's (``None`` for a record that corrects nothing, and
    then ignored as ``to_event`` ignores it); ``event_id`` is ``event_id_for`` of the record.
    """
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": SOURCE,
        "subject": person_ref,
        "time": _time(row.maksupvm),
        "datacontenttype": "application/json",
        "dataschema": _V2_DATASCHEMA,
        "data": event_data(row, attribution),
        "type": BENEFIT_DAY_V2,
    }


class RecordData(Mapping[str, Any]):
    """``event_data(row, attribution)``, each field given when read: what the contracts read
    of every record of a file (a field or two), without building the whole of it.

    The fields every contract condition on a record reads are given directly; any other
    builds ``event_data`` once (a test holds every field equal to it)."""

    __slots__ = ("_attribution", "_data", "_row")

    def __init__(self, row: PaymentDayRow, attribution: Attribution | None) -> None:
        self._row = row
        self._attribution = None if row.korjattava is None else attribution
        self._data: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        if key == "home_municipality":
            attribution = self._attribution
            return self._row.kotikunta if attribution is None else attribution.municipality
        if key == "benefit":
            return _BENEFITS[self._row.etuus]
        return self._whole()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())

    def _whole(self) -> dict[str, Any]:
        if self._data is None:
            self._data = event_data(self._row, self._attribution)
        return self._data


def published_versions(row: PaymentDayRow) -> tuple[int, ...]:
    """The major versions ``row``'s event is published on, in the order of
    ``event_messages``: 2, and 1 when v1 can carry its benefit."""
    return (2, 1) if row.etuus in _V1_CODES else (2,)


def event_messages(document: dict[str, Any]) -> list[Outgoing]:
    """The Kafka messages of a record's ``event_document``: on ``hub.benefit-day.v2`` and,
    when v1 can carry its benefit, on ``hub.benefit-day.v1`` with the same event id (what
    ``connectors.kela.wiring.canonical_messages`` gives of the event's model)."""
    event_id, subject = document["id"], document["subject"]
    messages = [canonical_message(BENEFIT_DAY_V2, event_id, subject, _json(document))]
    if document["data"]["benefit"] in _V1_BENEFITS:
        older = {**document, "dataschema": _V1_DATASCHEMA, "type": BENEFIT_DAY_V1}
        messages.append(canonical_message(BENEFIT_DAY_V1, event_id, subject, _json(older)))
    return messages


def _json(document: dict[str, Any]) -> bytes:
    # orjson keeps its whole output buffer (8 KiB) behind a short value: a copy of the exact
    # size, so the messages a batch holds take what they say.
    return memoryview(orjson.dumps(document)).tobytes()
