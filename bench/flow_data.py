"""Valid partner inputs for the flow benchmark, each with the id of the event it becomes.

Four flows, each two hops through the hub (partner topic → canonical topic → partner topic)
and exactly one partner output per input, so that every input can be matched to its output by
the event id the hub puts in the output's ``correlation_id`` header:

* ``kela-in``: a Kela payment-day CSV line (``bench.kela_data``, lines of persons living in
  Päijät-Häme only) on ``in.kela.benefit-day`` → ``hub.benefit-day.v1`` → the CloudEvent on
  ``out.lahti.benefit-day`` or ``out.ph.benefit-day`` (the home municipality's authority);
* ``client-status``: a Lahti status change notification (home municipality Lahti, so only
  Kela receives it) on ``in.lahti.client-status`` → ``hub.client-status.v1`` → Kela's XML on
  ``out.kela.client-status``;
* ``referral``: a Lahti referral to Päijät-Sote on ``in.lahti.service-referral`` →
  ``hub.service-referral.v1`` → the FHIR ServiceRequest on ``out.sote.service-referral``;
* ``referral-status``: Päijät-Sote's FHIR Task "accepted" for each of those referrals on
  ``in.sote.referral-status`` → ``hub.referral-status.v1`` → the status JSON on
  ``out.lahti.referral-status`` (so it runs after ``referral``, on the same referral ids).

Identity codes use individual numbers 900-999 only; the two authority flows draw on birth
dates that do not overlap, so no client-status person has a referral open with Päijät-Sote
(which would give that flow a second output). Deterministic: the same counts give the same
bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench.kela_data import generate, identity_code
from connectors.authorities.inbound import referral_event_id, status_event_id
from connectors.kela.inbound import event_id_for
from connectors.sote.inbound import parse_task
from connectors.sote.inbound import status_event_id as task_event_id
from contracts import CONTRACT_DIR
from schemas.codes import Authority
from schemas.rejection import Rejection

__all__ = ["FLOWS", "Flow", "Input", "inputs_for"]

#: Municipality codes outside Päijät-Häme in the generated Kela file: nobody receives those.
_OUTSIDE_AREA: Final = frozenset({"091"})
#: The partner examples the authority and Päijät-Sote inputs are made from (ids, identity
#: codes and, for client status, the municipality replaced).
_STATUS_EXAMPLE: Final = "lahti-unemployed-in-training.json"
_REFERRAL_EXAMPLE: Final = "lahti-rehabilitative-work-activity.json"
_TASK_EXAMPLE: Final = "accepted.json"


@dataclass(frozen=True, slots=True)
class Input:
    """One partner message and the canonical event id its output carries."""

    value: bytes
    key: bytes | None
    event_id: str


@dataclass(frozen=True, slots=True)
class Flow:
    """Where a flow's inputs go in and where its outputs come out."""

    name: str
    description: str
    in_topic: str
    canonical_topic: str
    out_topics: tuple[str, ...]


FLOWS: Final = (
    Flow(
        "kela-in",
        "Kela CSV line -> benefit-day CloudEvent to the authority",
        "in.kela.benefit-day",
        "hub.benefit-day.v1",
        ("out.lahti.benefit-day", "out.ph.benefit-day"),
    ),
    Flow(
        "client-status",
        "authority JSON -> Kela XML",
        "in.lahti.client-status",
        "hub.client-status.v1",
        ("out.kela.client-status",),
    ),
    Flow(
        "referral",
        "authority referral -> FHIR ServiceRequest",
        "in.lahti.service-referral",
        "hub.service-referral.v1",
        ("out.sote.service-referral",),
    ),
    Flow(
        "referral-status",
        "FHIR Task -> authority referral status",
        "in.sote.referral-status",
        "hub.referral-status.v1",
        ("out.lahti.referral-status",),
    ),
)


def _kela_lines(count: int) -> list[Input]:
    # Roughly a tenth of the generated lines are for people outside the area; generate enough.
    with tempfile.TemporaryDirectory(prefix="bench-flows-kela-") as tmp:
        lines = (
            generate(Path(tmp) / "kela.csv", count + count // 5 + 100)
            .read_bytes()
            .decode("utf-8")
            .split("\r\n")[1:]
        )
    inputs = []
    for line in lines:
        fields = line.split(";")
        if len(fields) < 3 or fields[2] in _OUTSIDE_AREA:
            continue
        inputs.append(Input(line.encode(), None, event_id_for(fields[0])))
        if len(inputs) == count:
            return inputs
    raise AssertionError("the generated Kela file had too few lines in the area")


def _code(index: int, first_birth: dt.date) -> str:
    born = first_birth + dt.timedelta(days=(index // 100) % 7000)
    return identity_code(born, 900 + index % 100)


def _example(*parts: str) -> dict[str, Any]:
    """A partner example message of ``contracts/`` (checked by the contract tests)."""
    example: dict[str, Any] = json.loads(CONTRACT_DIR.joinpath(*parts).read_text(encoding="utf-8"))
    return example


def _client_status(count: int) -> list[Input]:
    example = _example("authorities", "examples", "client-status", _STATUS_EXAMPLE)
    inputs = []
    for index in range(count):
        change_id = f"bench-{index:09d}"
        client = f"A-{index % 100_000:07d}"
        value = {
            **example,
            "muutosId": change_id,
            "asiakasnumero": client,
            "hetu": _code(index, dt.date(1960, 1, 1)),
            "kotikunta": "398",  # Lahti, sent by Lahti: only Kela receives it
        }
        inputs.append(
            Input(
                json.dumps(value).encode(),
                client.encode(),
                status_event_id(change_id, Authority.LAHTI),
            )
        )
    return inputs


def _referral_id(index: int) -> str:
    return f"L-BENCH-{index:09d}"


def _referrals(count: int) -> list[Input]:
    example = _example("authorities", "examples", "service-referral", _REFERRAL_EXAMPLE)
    inputs = []
    for index in range(count):
        referral_id = _referral_id(index)
        value = {**example, "lahete_id": referral_id, "hetu": _code(index, dt.date(1980, 1, 1))}
        inputs.append(
            Input(
                json.dumps(value).encode(),
                referral_id.encode(),
                referral_event_id(referral_id, Authority.LAHTI),
            )
        )
    return inputs


def _tasks(count: int) -> list[Input]:
    example = _example("sote", "examples", "task", _TASK_EXAMPLE)
    inputs = []
    for index in range(count):
        referral_id = _referral_id(index)
        task = {
            **example,
            "id": f"t-bench-{index}",
            "basedOn": [
                {"identifier": {**example["basedOn"][0]["identifier"], "value": referral_id}}
            ],
            "for": {
                "identifier": {
                    **example["for"]["identifier"],
                    "value": _code(index, dt.date(1980, 1, 1)),
                }
            },
        }
        value = json.dumps(task).encode()
        update = parse_task(value)
        if isinstance(update, Rejection):
            raise AssertionError(f"the generated Task is invalid: {update.detail}")
        # Päijät-Sote keys its Tasks by referral id: one referral's updates stay in order.
        inputs.append(Input(value, referral_id.encode(), task_event_id(update, Authority.LAHTI)))
    return inputs


def inputs_for(flow: Flow, count: int) -> list[Input]:
    """``count`` valid inputs of ``flow``; the referral-status Tasks answer the referrals."""
    match flow.name:
        case "kela-in":
            return _kela_lines(count)
        case "client-status":
            return _client_status(count)
        case "referral":
            return _referrals(count)
        case "referral-status":
            return _tasks(count)
    raise ValueError(f"unknown flow {flow.name!r}")
