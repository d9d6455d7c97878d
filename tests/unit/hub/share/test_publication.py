"""When a month is finished, and what a published statement holds."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from hub.share.publication import month_finished, statement_key, statement_topic, statement_value
from hub.share.rules import load_rules
from hub.share.statement import statement_rows

UTC = dt.UTC


@pytest.mark.parametrize(
    ("month", "now", "finished"),
    [
        ("2025-04", dt.datetime(2025, 4, 30, 21, 59, tzinfo=UTC), False),  # 23:59 in Finland
        ("2025-04", dt.datetime(2025, 4, 30, 22, 0, tzinfo=UTC), True),  # 1 May 00:00
        ("2025-12", dt.datetime(2025, 12, 31, 21, 59, tzinfo=UTC), False),
        ("2025-12", dt.datetime(2025, 12, 31, 22, 0, tzinfo=UTC), True),
    ],
)
def test_a_month_is_finished_from_the_first_of_the_next(
    month: str, now: dt.datetime, finished: bool
) -> None:
    assert month_finished(month, now) is finished


def test_statement_value_names_the_rules_and_holds_no_person() -> None:
    rules = load_rules()
    value = orjson.loads(statement_value("lahti", "2025-04", rules, statement_rows([])))
    assert value == {
        "authority": "lahti",
        "month": "2025-04",
        "step_table_version": rules.version,
        "basic_daily_amount_version": rules.basic_amounts.version,
        "confirmed_by_finance": False,
        "rows": [],
    }
    assert statement_topic("ph") == "out.ph.municipal-share"
    assert statement_key("ph", "2025-04") == b"ph:2025-04"
