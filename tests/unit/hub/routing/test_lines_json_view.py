"""``hub.routing.lines.JsonView``: what the file path hands the contracts for every line reads
as the model's JSON-mode dump, so every partner's recipients are decided as before."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.kela.inbound import Attribution, event_id_for, parse_line, to_event
from connectors.kela.native import BENEFIT_CODES, PaymentDayRow
from hub.routing.lines import JsonView
from tests.connectors.kela.test_inbound import _render, valid_rows
from tests.support import SECRET, client_status_event


@settings(max_examples=200)
@given(valid_rows(), st.booleans())
def test_a_benefit_day_reads_as_its_json_dump(values: dict[str, Any], unseen: bool) -> None:
    row = parse_line(_render(values), 3)
    assert isinstance(row, PaymentDayRow)
    if BENEFIT_CODES[row.etuus] is None:
        return
    corrects = values["korjattava"]
    attribution = None if corrects is None else Attribution("098", event_id_for(corrects), unseen)
    data = to_event(row, SECRET, attribution).data
    view = JsonView(data)
    assert dict(view) == data.model_dump(mode="json")
    assert len(view) == len(data.model_dump(mode="json"))


def test_nested_models_and_enums_read_as_json() -> None:
    data = client_status_event().data
    view = JsonView(data)
    assert dict(view) == data.model_dump(mode="json")
    assert type(view["employment_status"]) is str


def test_an_unknown_field_is_missing() -> None:
    view = JsonView(client_status_event().data)
    assert view.get("no_such_field") is None
    with pytest.raises(KeyError):
        view["no_such_field"]
