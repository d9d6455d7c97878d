"""The share's rules as configuration: the step table of each model and the basic daily amount.

Both are TOML files versioned in the repository (``hub/share/rules/``) with their source; an
administrator may point at other copies (``HUB_SHARE_STEP_TABLE_FILE``,
``HUB_SHARE_BASIC_AMOUNT_FILE``). A file that does not validate stops the command with one
line naming the file and the field (``ShareRulesError``), never a traceback.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final

from hub.core.errors import ConfigurationError

__all__ = [
    "BASIC_AMOUNT_FILE",
    "RULES_DIR",
    "STEP_TABLE_FILE",
    "BasicDailyAmounts",
    "EarlierModel",
    "Model2025",
    "ShareRules",
    "ShareRulesError",
    "Step",
    "load_rules",
]

RULES_DIR: Final = Path(__file__).parent / "rules"
STEP_TABLE_FILE: Final = RULES_DIR / "step-table.toml"
BASIC_AMOUNT_FILE: Final = RULES_DIR / "basic-daily-amount.toml"

_BENEFITS: Final = frozenset({"TMT", "PPR", "APR", "YLT"})


class ShareRulesError(ConfigurationError):
    """A rules file is missing or invalid; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class Step:
    """From day number ``from_day`` on (until the next step), the municipality pays
    ``percent`` % of the shared euros."""

    from_day: int
    percent: int


def _percent_of(steps: tuple[Step, ...], day: int) -> int:
    percent = 0
    for step in steps:
        if step.from_day > day:
            break
        percent = step.percent
    return percent


@dataclass(frozen=True, slots=True)
class Model2025:
    """The model for payment days from ``valid_from`` (1 January 2025)."""

    valid_from: dt.date
    shared_benefits: frozenset[str]
    steps: tuple[Step, ...]

    def percent(self, day: int) -> int:
        """The municipality's percentage of day number ``day``."""
        return _percent_of(self.steps, day)


@dataclass(frozen=True, slots=True)
class EarlierModel:
    """The model for payment days before 2025: the state pays every day of the records up to
    and including the one that reaches ``state_pays_through`` days; then the steps apply."""

    shared_benefits: frozenset[str]
    state_pays_through: int
    steps: tuple[Step, ...]

    def percent(self, day: int) -> int:
        """The municipality's percentage of day number ``day`` of a record that does not
        reach ``state_pays_through`` (such a record is the state's whole)."""
        return _percent_of(self.steps, day)


@dataclass(frozen=True, slots=True)
class BasicDailyAmounts:
    """The basic daily amount by calendar year (the cap of a shared APR day)."""

    version: str
    source: str
    amounts: Mapping[int, Decimal]

    def of(self, year: int) -> Decimal:
        """The amount of ``year``; ``ShareRulesError`` for a year the table does not have."""
        try:
            return self.amounts[year]
        except KeyError:
            raise ShareRulesError(
                f"the basic daily amount table (version {self.version}) has no amount for "
                f"{year}: add it to {BASIC_AMOUNT_FILE.name}"
            ) from None


@dataclass(frozen=True, slots=True)
class ShareRules:
    """Everything the split needs, with the versions every report prints."""

    version: str
    source: str
    confirmed_by_finance: bool
    model_2025: Model2025
    earlier: EarlierModel
    basic_amounts: BasicDailyAmounts


def _read(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ShareRulesError(f"{path}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ShareRulesError(f"{path}: not valid TOML ({error})") from None


def _field(table: Mapping[str, object], name: str, kind: type, path: Path, where: str) -> object:
    value = table.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ShareRulesError(f"{path}: {where}{name} must be a {kind.__name__}")
    return value


def _table(parent: Mapping[str, object], name: str, path: Path) -> Mapping[str, object]:
    value = parent.get(name)
    if not isinstance(value, dict):
        raise ShareRulesError(f"{path}: [{name}] is missing")
    return value


def _steps(table: Mapping[str, object], path: Path, where: str) -> tuple[Step, ...]:
    raw = table.get("steps")
    if not isinstance(raw, list) or not raw:
        raise ShareRulesError(f"{path}: {where}steps must be a non-empty list")
    steps: list[Step] = []
    for index, item in enumerate(raw):
        at = f"{where}steps[{index}]."
        if not isinstance(item, dict):
            raise ShareRulesError(f"{path}: {where}steps[{index}] must be a table")
        from_day = int(str(_field(item, "from_day", int, path, at)))
        percent = int(str(_field(item, "percent", int, path, at)))
        if not 0 <= percent <= 100:
            raise ShareRulesError(f"{path}: {at}percent must be 0-100, not {percent}")
        if steps and from_day <= steps[-1].from_day:
            raise ShareRulesError(f"{path}: {at}from_day must grow ({from_day})")
        if not steps and from_day != 1:
            raise ShareRulesError(f"{path}: {at}from_day of the first step must be 1")
        steps.append(Step(from_day, percent))
    return tuple(steps)


def _benefits(table: Mapping[str, object], path: Path, where: str) -> frozenset[str]:
    raw = table.get("shared_benefits")
    if not isinstance(raw, list) or not all(isinstance(code, str) for code in raw):
        raise ShareRulesError(f"{path}: {where}shared_benefits must be a list of codes")
    unknown = sorted(set(raw) - _BENEFITS)
    if unknown:
        raise ShareRulesError(f"{path}: {where}shared_benefits: unknown code {unknown[0]}")
    return frozenset(raw)


def _amounts(path: Path) -> BasicDailyAmounts:
    data = _read(path)
    version = str(_field(data, "version", str, path, ""))
    source = str(_field(data, "source", str, path, ""))
    raw = _table(data, "amounts", path)
    amounts: dict[int, Decimal] = {}
    for year, value in raw.items():
        try:
            amount = Decimal(str(value)) if isinstance(value, str) else None
        except InvalidOperation:
            amount = None
        if not year.isdigit() or amount is None or not amount.is_finite() or amount <= 0:
            raise ShareRulesError(
                f"{path}: amounts.{year} must be a year with a positive amount in quotes"
            )
        amounts[int(year)] = amount
    return BasicDailyAmounts(version, source, amounts)


def load_rules(
    step_table: Path = STEP_TABLE_FILE, basic_amounts: Path = BASIC_AMOUNT_FILE
) -> ShareRules:
    """The rules in ``step_table`` and ``basic_amounts`` (by default the shipped ones)."""
    data = _read(step_table)
    version = str(_field(data, "version", str, step_table, ""))
    source = str(_field(data, "source", str, step_table, ""))
    confirmed = bool(_field(data, "confirmed_by_finance", bool, step_table, ""))
    new = _table(data, "model_2025", step_table)
    valid_from = new.get("valid_from")
    if not isinstance(valid_from, dt.date) or isinstance(valid_from, dt.datetime):
        raise ShareRulesError(f"{step_table}: model_2025.valid_from must be a date")
    old = _table(data, "earlier_model", step_table)
    through = int(
        str(
            _field(old, "state_pays_through_record_reaching_day", int, step_table, "earlier_model.")
        )
    )
    return ShareRules(
        version=version,
        source=source,
        confirmed_by_finance=confirmed,
        model_2025=Model2025(
            valid_from,
            _benefits(new, step_table, "model_2025."),
            _steps(new, step_table, "model_2025."),
        ),
        earlier=EarlierModel(
            _benefits(old, step_table, "earlier_model."),
            through,
            _steps(old, step_table, "earlier_model."),
        ),
        basic_amounts=_amounts(basic_amounts),
    )
