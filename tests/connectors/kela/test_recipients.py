"""The file ingest's remembered recipients (``connectors.kela.recipients``) are the contracts'
answer for every record, whatever fields their conditions read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import CONNECTORS
from connectors.kela.recipients import Recipients
from hub.app.runtime import contract_book_for
from hub.core.settings import HubSettings

_BOOK = contract_book_for(HubSettings(), CONNECTORS)


def _asked(data: Mapping[str, Any], versions: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(
        d.partner.value
        for version in versions
        for d in _BOOK.disclosures_for("benefit-day", data, version=version)
    )


_DATA = st.fixed_dictionaries(
    {
        "home_municipality": st.sampled_from(["398", "098", "091", "016", "560", "999"]),
        "benefit": st.sampled_from(["labour_market_subsidy", "general_support"]),
    },
    optional={
        "authority": st.sampled_from(["lahti", "ph", "kela"]),
        "previous_home_municipality": st.sampled_from(["398", "091"]),
        "recipient": st.sampled_from(["lahti", "ph"]),
    },
)


@settings(max_examples=50)
@given(st.lists(st.tuples(_DATA, st.sampled_from([(2,), (2, 1), (1,)])), max_size=40))
def test_remembered_answers_are_the_contracts_answers(
    records: list[tuple[dict[str, Any], tuple[int, ...]]],
) -> None:
    recipients = Recipients(_BOOK, "benefit-day")
    for data, versions in records:
        assert recipients.partners(data, versions) == _asked(data, versions)


def test_a_value_that_cannot_be_a_key_is_asked_every_time() -> None:
    recipients = Recipients(_BOOK, "benefit-day")
    data = {"home_municipality": ["398"], "benefit": "labour_market_subsidy"}
    assert recipients.partners(data, (2,)) == _asked(data, (2,))
    assert recipients.partners(data, (2,)) == _asked(data, (2,))
