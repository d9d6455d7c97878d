"""The rules files: every invalid field is named with its file, at its boundary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.share.rules import BASIC_AMOUNT_FILE, STEP_TABLE_FILE, ShareRulesError, load_rules

GOOD = STEP_TABLE_FILE.read_text(encoding="utf-8")


def table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "steps.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('version = "2025.1"', "version = 1", "version must be a str"),
        (
            "{ from_day = 1, percent = 0 },\n    { from_day = 101",
            "{ from_day = 2, percent = 0 },\n    { from_day = 101",
            "first step must be 1",
        ),
        (
            "{ from_day = 201, percent = 20 }",
            "{ from_day = 101, percent = 20 }",
            "from_day must grow",
        ),
        (
            "{ from_day = 401, percent = 40 }",
            "{ from_day = 401, percent = 101 }",
            "percent must be 0-100",
        ),
        (
            "{ from_day = 401, percent = 40 }",
            "{ from_day = 401, percent = -1 }",
            "percent must be 0-100",
        ),
        ('["TMT", "PPR", "APR", "YLT"]', '["TMT", "SAI"]', "unknown code SAI"),
        ("valid_from = 2025-01-01", 'valid_from = "2025-01-01"', "valid_from must be a date"),
        ("state_pays_through_record_reaching_day = 300", "", "state_pays_through"),
        ("[earlier_model]", "[older]", "[earlier_model] is missing"),
    ],
)
def test_invalid_step_table_names_file_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    path = table(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ShareRulesError, match=re.escape(message)) as raised:
        load_rules(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("percent", [0, 100])
def test_percent_bounds_are_allowed(tmp_path: Path, percent: int) -> None:
    text = GOOD.replace(
        "{ from_day = 401, percent = 40 }", f"{{ from_day = 401, percent = {percent} }}"
    )
    assert load_rules(table(tmp_path, text)).model_2025.percent(401) == percent


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        ("2025 = 37.21", "must be a year with a positive amount"),
        ('2025 = "0"', "must be a year with a positive amount"),
        ('2025 = "-1"', "must be a year with a positive amount"),
        ('2025 = "x"', "must be a year with a positive amount"),
        ('year = "37.21"', "must be a year with a positive amount"),
    ],
)
def test_invalid_basic_amount_is_refused(tmp_path: Path, amounts: str, message: str) -> None:
    path = tmp_path / "amounts.toml"
    path.write_text(f'version = "1"\nsource = "s"\n[amounts]\n{amounts}\n', encoding="utf-8")
    with pytest.raises(ShareRulesError, match=message):
        load_rules(STEP_TABLE_FILE, path)


def test_smallest_positive_amount_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "amounts.toml"
    path.write_text('version = "1"\nsource = "s"\n[amounts]\n2025 = "0.01"\n', encoding="utf-8")
    assert str(load_rules(STEP_TABLE_FILE, path).basic_amounts.of(2025)) == "0.01"


def test_missing_and_broken_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ShareRulesError, match="cannot be read"):
        load_rules(tmp_path / "none.toml")
    with pytest.raises(ShareRulesError, match="not valid TOML"):
        load_rules(table(tmp_path, "version = "))
    assert BASIC_AMOUNT_FILE.exists()
