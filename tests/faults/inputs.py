"""Partner inputs for the fault tests, each yielding exactly one partner output.

Every input is about a person of its own (identity codes with individual numbers 900-999), so
no input changes what another one yields:

- a Lahti client-status for a Lahti resident: only Kela receives it (its XML names the person);
- a Kela payment-day line for a Lahti resident: only Lahti receives it (by ``record_id``);
- a Lahti referral to Päijät-Sote: only Päijät-Sote receives it (a FHIR ServiceRequest whose
  first identifier is the ``lahete_id``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Final

from aiokafka.structs import ConsumerRecord

from tests.strategies import build_identity_code

__all__ = ["OUTPUT_TOPICS", "Input", "mixed_inputs", "output_id", "person"]

#: The partner topic each kind of input reaches.
OUTPUT_TOPICS: Final = {
    "client-status": "out.kela.client-status",
    "benefit-day": "out.lahti.benefit-day",
    "referral": "out.sote.service-referral",
}
_IN_TOPICS: Final = {
    "client-status": "in.lahti.client-status",
    "benefit-day": "in.kela.benefit-day",
    "referral": "in.lahti.service-referral",
}
_KELA_PERSON: Final = re.compile(rb"<Henkilotunnus>([^<]+)</Henkilotunnus>")


@dataclass(frozen=True)
class Input:
    """One partner message and the id its partner output will carry."""

    kind: str
    topic: str
    value: bytes
    expected_id: str

    @property
    def output_topic(self) -> str:
        """Where its one output lands."""
        return OUTPUT_TOPICS[self.kind]


def person(index: int) -> str:
    """A distinct valid identity code per index (individual numbers 900-999 only)."""
    return build_identity_code(dt.date(1960, 1, 1) + dt.timedelta(days=index), 900 + index % 100)


def _client_status(index: int, run: str) -> Input:
    code = person(index)
    value = {
        "muutosId": f"{run}-m-{index}",
        "asiakasnumero": f"A-{index:07d}",
        "hetu": code,
        "kotikunta": "398",
        "tyollisyystilanne": "02",
        "tilanneAlkaa": "2025-03-01",
        "tyonhakuVoimassa": True,
        "palvelu": None,
        "vastuuvirkailija": "Virtanen Maija",
        "muistiinpano": "",
        "muutettu": "2025-03-01T08:12:00+02:00",
    }
    return Input("client-status", _IN_TOPICS["client-status"], json.dumps(value).encode(), code)


def _benefit_day(index: int, run: str) -> Input:
    record = f"K{run}-{index}"
    line = f"{record};{person(index)};398;TMT;01.03.2025;31.03.2025;21;737,55;1021;05.04.2025;"
    return Input("benefit-day", _IN_TOPICS["benefit-day"], line.encode(), record)


def _referral(index: int, run: str) -> Input:
    referral_id = f"L{run}-{index}"
    value = {
        "lahete_id": referral_id,
        "hetu": person(index),
        "lahettaja": "lahti",
        "vastaanottaja": "sote",
        "palvelu": "KUNTOUTTAVA_TYOTOIMINTA",
        "perustelu": "Pitkään jatkunut työttömyys.",
        "kiireellisyys": "normaali",
        "toivottu_alku": "2025-04-01",
        "suostumus": True,
        "lahetetty": "2025-03-14T10:00:00+02:00",
    }
    return Input("referral", _IN_TOPICS["referral"], json.dumps(value).encode(), referral_id)


def mixed_inputs(count: int, run: str) -> list[Input]:
    """``count`` inputs, the three kinds interleaved, one person each."""
    builders = (_client_status, _benefit_day, _referral)
    return [builders[i % 3](i, run) for i in range(count)]


def output_id(record: ConsumerRecord[bytes, bytes]) -> str:
    """The id a partner output carries (the one :class:`Input.expected_id` predicts)."""
    value = record.value or b""
    if record.topic == OUTPUT_TOPICS["client-status"]:
        found = _KELA_PERSON.search(value)
        return found.group(1).decode() if found else "?"
    document = json.loads(value)
    if record.topic == OUTPUT_TOPICS["benefit-day"]:
        return str(document["data"]["record_id"])
    return str(document["identifier"][0]["value"])
