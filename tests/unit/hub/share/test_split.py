"""The worked examples of docs/municipal-share.md, each at its boundary."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from hub.share.rules import STEP_TABLE_FILE, ShareRules, ShareRulesError, load_rules
from hub.share.split import InvoiceGroup, Model, ShareLine, ShareRecord, split

RULES = load_rules()
LAHTI, HOLLOLA = "398", "098"


def record(
    *,
    days: int,
    euros: str,
    counter: int,
    benefit: str = "TMT",
    municipality: str = LAHTI,
    start: dt.date = dt.date(2025, 3, 3),
    end: dt.date = dt.date(2025, 3, 28),
    paid: dt.date = dt.date(2025, 4, 2),
    record_id: str = "K2025-000000001",
    corrected_days: tuple[int, int] | None = None,
) -> ShareRecord:
    return ShareRecord(
        record_id=record_id,
        person_ref="p-1",
        municipality=municipality,
        benefit=benefit,
        period_start=start,
        period_end=end,
        paid_days=days,
        amount_paid=Decimal(euros),
        cumulative_days=counter,
        payment_date=paid,
        corrected_days=corrected_days,
    )


def brief(lines: list[ShareLine]) -> list[tuple[str, int, int, str, str]]:
    return [
        (line.model.value, line.percent, line.days, str(line.shared_euros), str(line.share))
        for line in lines
    ]


# Example 1: a record straddling day 100/101.
@pytest.mark.parametrize(
    ("counter", "expected"),
    [
        (99, []),  # days 80-99: nothing shared
        (100, []),  # days 81-100: the last free day
        (101, [("2025", 10, 1, "37.21", "3.72")]),  # day 101 is the first shared day
        (110, [("2025", 10, 10, "372.10", "37.21")]),  # days 91-110: 10 free, 10 at 10 %
    ],
)
def test_record_straddling_day_100_shares_from_day_101(
    counter: int, expected: list[tuple[str, int, int, str, str]]
) -> None:
    assert brief(split(record(days=20, euros="744.20", counter=counter), RULES)) == expected


def test_zero_percent_days_are_kept_only_when_asked() -> None:
    lines = split(record(days=20, euros="744.20", counter=110), RULES, with_zero=True)
    assert brief(lines) == [
        ("2025", 0, 10, "372.10", "0.00"),
        ("2025", 10, 10, "372.10", "37.21"),
    ]


# Example 2: a record straddling two steps (200/201): two invoice lines.
def test_record_straddling_two_steps_is_two_lines() -> None:
    lines = split(record(days=20, euros="744.20", counter=210), RULES)
    assert brief(lines) == [
        ("2025", 10, 10, "372.10", "37.21"),
        ("2025", 20, 10, "372.10", "74.42"),
    ]
    assert {line.invoice for line in lines} == {InvoiceGroup.TMT}
    assert {line.month for line in lines} == {"2025-04"}


@pytest.mark.parametrize(
    ("counter", "percent"), [(300, 20), (301, 30), (400, 30), (401, 40), (1000, 40)]
)
def test_each_step_starts_at_its_day(counter: int, percent: int) -> None:
    [last] = split(record(days=1, euros="37.21", counter=counter), RULES)
    assert last.percent == percent


# Example 3: APR above the basic daily amount: shared at most 37,21 € a day.
@pytest.mark.parametrize(
    ("euros", "shared", "share"),
    [
        ("1200.00", "744.20", "74.42"),  # 60,00 € a day: capped
        ("744.40", "744.20", "74.42"),  # 37,22 € a day: one cent over, capped
        ("744.20", "744.20", "74.42"),  # exactly the basic amount
        ("744.00", "744.00", "74.40"),  # 37,20 € a day: below, as paid
    ],
)
def test_apr_is_shared_up_to_the_basic_daily_amount(euros: str, shared: str, share: str) -> None:
    [line] = split(record(days=20, euros=euros, counter=150, benefit="APR"), RULES)
    assert (line.invoice, str(line.shared_euros), str(line.share)) == (
        InvoiceGroup.APR,
        shared,
        share,
    )


def test_tmt_is_not_capped() -> None:
    [line] = split(record(days=20, euros="1200.00", counter=150), RULES)
    assert str(line.shared_euros) == "1200.00"


# Example 4: a person who moves from Hollola to Lahti mid-month.
def test_person_moving_mid_month_is_billed_to_each_home_municipality() -> None:
    hollola = record(
        days=10,
        euros="372.10",
        counter=130,
        municipality=HOLLOLA,
        start=dt.date(2025, 2, 24),
        end=dt.date(2025, 3, 7),
        paid=dt.date(2025, 3, 10),
    )
    lahti = record(
        days=10,
        euros="372.10",
        counter=140,
        municipality=LAHTI,
        record_id="K2025-000000002",
        start=dt.date(2025, 3, 10),
        end=dt.date(2025, 3, 21),
        paid=dt.date(2025, 3, 24),
    )
    lines = split(hollola, RULES) + split(lahti, RULES)
    assert [(line.municipality, line.month, line.days, str(line.share)) for line in lines] == [
        (HOLLOLA, "2025-03", 10, "37.21"),
        (LAHTI, "2025-03", 10, "37.21"),
    ]


# Example 5: a correction that takes back days across a step.
def test_correction_takes_back_days_at_the_steps_they_had() -> None:
    original = record(days=20, euros="744.20", counter=210)
    correction = record(
        days=-15,
        euros="-558.15",
        counter=195,
        record_id="K2025-000000009",
        paid=dt.date(2025, 5, 5),
        corrected_days=(191, 210),
    )
    assert brief(split(correction, RULES)) == [
        ("2025", 10, -5, "-186.05", "-18.61"),  # days 196-200
        ("2025", 20, -10, "-372.10", "-74.42"),  # days 201-210
    ]
    [first, second] = split(original, RULES)
    assert first.share + second.share + sum(c.share for c in split(correction, RULES)) == Decimal(
        "18.60"
    )
    assert {line.month for line in split(correction, RULES)} == {"2025-05"}


# Example 6: 2024 days paid in 2025 are billed under the earlier model.
def test_2024_days_paid_in_2025_use_the_earlier_model() -> None:
    late = record(
        days=12,
        euros="446.52",
        counter=512,
        start=dt.date(2024, 12, 16),
        end=dt.date(2024, 12, 31),
        paid=dt.date(2025, 1, 3),
    )
    [line] = split(late, RULES)
    assert (line.model, line.percent, line.days, str(line.share), line.month) == (
        Model.EARLIER,
        50,
        12,
        "223.26",
        "2025-01",
    )
    # The same days a day later are the 2025 model's, at 40 %.
    [now] = split(
        record(
            days=12,
            euros="446.52",
            counter=512,
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 1, 16),
        ),
        RULES,
    )
    assert (now.model, now.percent, str(now.share)) == (Model.MODEL_2025, 40, "178.61")


def test_period_straddling_new_year_is_apportioned_by_calendar_days() -> None:
    # 22.12.2024-4.1.2025: 10 calendar days in 2024, 4 in 2025; 10 paid days -> 7 and 3.
    lines = split(
        record(
            days=10,
            euros="372.10",
            counter=610,
            start=dt.date(2024, 12, 22),
            end=dt.date(2025, 1, 4),
            paid=dt.date(2025, 1, 8),
        ),
        RULES,
    )
    assert brief(lines) == [
        ("2025", 40, 3, "111.63", "44.65"),
        ("vanha", 50, 7, "260.47", "130.24"),
    ]


@pytest.mark.parametrize(
    ("counter", "days", "expected"),
    [
        (299, 10, []),  # days 290-299: the state's
        (300, 10, []),  # the record reaching day 300 is the state's whole
        (305, 10, []),  # days 296-305: reaches 300, so also 301-305 are the state's
        (310, 10, [("vanha", 50, 10, "372.10", "186.05")]),  # days 301-310: after that record
        (1000, 1, [("vanha", 50, 1, "37.21", "18.61")]),
        (1001, 1, [("vanha", 70, 1, "37.21", "26.05")]),
    ],
)
def test_earlier_model_state_pays_through_the_record_reaching_day_300(
    counter: int, days: int, expected: list[tuple[str, int, int, str, str]]
) -> None:
    euros = str(Decimal("37.21") * days)
    old = record(
        days=days,
        euros=euros,
        counter=counter,
        start=dt.date(2024, 6, 3),
        end=dt.date(2024, 6, 16),
        paid=dt.date(2024, 6, 18),
    )
    assert brief(split(old, RULES)) == expected


def test_earlier_model_correction_of_the_record_that_reached_300_is_the_states() -> None:
    correction = record(
        days=-5,
        euros="-186.05",
        counter=300,
        corrected_days=(296, 305),
        start=dt.date(2024, 6, 3),
        end=dt.date(2024, 6, 16),
    )
    assert split(correction, RULES) == []
    unknown = record(
        days=-5, euros="-186.05", counter=300, start=dt.date(2024, 6, 3), end=dt.date(2024, 6, 16)
    )
    assert brief(split(unknown, RULES)) == [("vanha", 50, -5, "-186.05", "-93.03")]


@pytest.mark.parametrize("benefit", ["PPR", "APR"])
def test_earlier_model_shares_labour_market_subsidy_only(benefit: str) -> None:
    old = record(
        days=10,
        euros="372.10",
        counter=700,
        benefit=benefit,
        start=dt.date(2024, 6, 3),
        end=dt.date(2024, 6, 16),
    )
    assert split(old, RULES) == []


@pytest.mark.parametrize("benefit", ["TMT", "PPR", "YLT"])
def test_tmt_ppr_and_ylt_are_billed_on_the_tmt_invoice(benefit: str) -> None:
    [line] = split(record(days=10, euros="372.10", counter=150, benefit=benefit), RULES)
    assert line.invoice is InvoiceGroup.TMT


def test_euro_only_correction_spreads_over_the_corrected_days() -> None:
    fix = record(days=0, euros="-20.00", counter=210, corrected_days=(191, 210))
    assert brief(split(fix, RULES)) == [
        ("2025", 10, 0, "-10.00", "-1.00"),
        ("2025", 20, 0, "-10.00", "-2.00"),
    ]
    assert split(record(days=0, euros="0", counter=210), RULES) == []


def test_year_missing_from_basic_amount_table_is_a_configuration_error() -> None:
    with pytest.raises(ShareRulesError, match="no amount for 2031"):
        split(
            record(
                days=1,
                euros="40",
                counter=150,
                benefit="APR",
                start=dt.date(2031, 1, 6),
                end=dt.date(2031, 1, 6),
            ),
            RULES,
        )


def test_shipped_rules_are_the_published_2025_table() -> None:
    rules: ShareRules = load_rules()
    assert [(s.from_day, s.percent) for s in rules.model_2025.steps] == [
        (1, 0),
        (101, 10),
        (201, 20),
        (301, 30),
        (401, 40),
    ]
    assert rules.model_2025.valid_from == dt.date(2025, 1, 1)
    assert rules.basic_amounts.of(2025) == Decimal("37.21")
    assert rules.version
    assert rules.source


# Boundaries the worked examples do not reach (each found by mutation testing).


def _custom_rules(tmp_path: Path, *, valid_from: str = "2025-01-01") -> ShareRules:
    steps = STEP_TABLE_FILE.read_text(encoding="utf-8").replace(
        "valid_from = 2025-01-01", f"valid_from = {valid_from}"
    )
    (tmp_path / "steps.toml").write_text(steps, encoding="utf-8")
    (tmp_path / "amounts.toml").write_text(
        'version = "t"\nsource = "test"\n[amounts]\n2024 = "37.21"\n2025 = "37.21"\n'
        '2026 = "40.00"\n',
        encoding="utf-8",
    )
    return load_rules(tmp_path / "steps.toml", tmp_path / "amounts.toml")


def test_apr_straddling_a_new_year_is_capped_by_each_years_amount(tmp_path: Path) -> None:
    rules = _custom_rules(tmp_path)
    # 29.12.2025-9.1.2026: 3 calendar days in 2025, 9 in 2026; 12 paid days at 45 €: 3 + 9.
    apr = record(days=12, euros="540.00", counter=150, benefit="APR",
                 start=dt.date(2025, 12, 29), end=dt.date(2026, 1, 9))  # fmt: skip
    [line] = split(apr, rules)
    assert (line.days, str(line.shared_euros)) == (12, str(Decimal("37.21") * 3 + 40 * 9))


def test_apportioning_rounds_half_up() -> None:
    # 31.12.2024-3.1.2025: 1 of 4 calendar days in 2024; 2 paid days: 2 x 1/4 = 0.5 -> 1 day.
    lines = split(
        record(days=2, euros="74.42", counter=602, start=dt.date(2024, 12, 31),
               end=dt.date(2025, 1, 3)),
        RULES,
    )  # fmt: skip
    assert [(line.model, line.days) for line in lines] == [
        (Model.MODEL_2025, 1),
        (Model.EARLIER, 1),
    ]


def test_a_part_without_days_or_not_shared_does_not_stop_the_next() -> None:
    # 31.12.2024-14.1.2025: 1 paid day x 1/15 rounds to 0 days in 2024; the day is 2025's.
    [line] = split(record(days=1, euros="37.21", counter=150, start=dt.date(2024, 12, 31),
                          end=dt.date(2025, 1, 14)), RULES)  # fmt: skip
    assert (line.model, line.days) == (Model.MODEL_2025, 1)
    # PPR over the new year: the 2024 part is not shared, the 2025 part is.
    [ppr] = split(record(days=10, euros="372.10", counter=150, benefit="PPR",
                         start=dt.date(2024, 12, 27), end=dt.date(2025, 1, 5)), RULES)  # fmt: skip
    assert (ppr.model, ppr.days) == (Model.MODEL_2025, 5)


def test_the_2025_model_starts_on_its_configured_day(tmp_path: Path) -> None:
    rules = _custom_rules(tmp_path, valid_from="2025-07-01")
    # 25.6.-1.7.2025, 7 paid days, counter 700: 6 days of the earlier model, 1 of the 2025 one.
    lines = split(record(days=7, euros="260.47", counter=700, start=dt.date(2025, 6, 25),
                         end=dt.date(2025, 7, 1)), rules)  # fmt: skip
    assert [(line.model, line.percent, line.days) for line in lines] == [
        (Model.MODEL_2025, 40, 1),
        (Model.EARLIER, 50, 6),
    ]


@pytest.mark.parametrize("corrected", [(300, 310), (291, 300)])
def test_a_correction_of_the_record_reaching_day_300_at_either_end_is_the_states(
    corrected: tuple[int, int],
) -> None:
    correction = record(days=-3, euros="-111.63", counter=corrected[1] - 3,
                        corrected_days=corrected, start=dt.date(2024, 6, 3),
                        end=dt.date(2024, 6, 16))  # fmt: skip
    assert split(correction, RULES) == []
    [zero] = split(correction, RULES, with_zero=True)
    assert (zero.percent, zero.days) == (0, -3)


@pytest.mark.parametrize("counter", [3, 4])
def test_day_numbers_below_one_are_at_zero_percent_not_lost(counter: int) -> None:
    # Kela's plausibility rule rejects kertyma < maksupaivat; the split still keeps every day.
    lines = split(record(days=5, euros="186.05", counter=counter), RULES, with_zero=True)
    assert [(line.percent, line.days) for line in lines] == [(0, 5)]


def test_no_empty_zero_percent_line_for_days_all_above_day_100() -> None:
    lines = split(record(days=20, euros="744.20", counter=150), RULES, with_zero=True)
    assert [(line.percent, line.days) for line in lines] == [(10, 20)]


def test_a_period_cut_twice_is_apportioned_in_three_parts(tmp_path: Path) -> None:
    rules = _custom_rules(tmp_path, valid_from="2025-12-31")
    # 28.12.2025-3.1.2026, APR at 45 € a day: 3 days of the earlier model (APR not shared),
    # 31.12. of the 2025 model capped at 2025's 37,21 €, 1.-3.1. capped at 2026's 40,00 €.
    apr = record(days=7, euros="315.00", counter=700, benefit="APR",
                 start=dt.date(2025, 12, 28), end=dt.date(2026, 1, 3))  # fmt: skip
    [line] = split(apr, rules)
    assert (line.model, line.days, str(line.shared_euros)) == (Model.MODEL_2025, 4, "157.21")


def test_lines_name_the_record_person_and_benefit() -> None:
    [line] = split(record(days=20, euros="744.20", counter=150, benefit="PPR"), RULES)
    assert (line.record_id, line.person_ref, line.benefit) == ("K2025-000000001", "p-1", "PPR")


def test_zero_euros_are_plain_zero_and_cents_round_half_up() -> None:
    [free] = split(record(days=5, euros="0", counter=150), RULES)
    assert (str(free.shared_euros), str(free.share)) == ("0.00", "0.00")
    # 0,25 € over days 100-101: 0,125 € a day; the 10 % line shares 0,13 € (half up).
    lines = split(record(days=2, euros="0.25", counter=101), RULES, with_zero=True)
    assert [str(line.shared_euros) for line in lines] == ["0.13", "0.13"]
