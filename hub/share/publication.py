"""Statements of finished months for the finance systems: ``out.<authority>.municipal-share``.

One JSON message per authority and month: the statement rows of the authority's
municipalities, aggregated, with no personal data (persons only as a count), and the rules'
versions. Keyed by ``<authority>:<month>``; a month is published only once it has ended (in
Finnish time), and publishing it again sends the same content under the same key, so the
finance systems keep the last one. Pure: the CLI produces and audits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Final

import orjson

from hub.core.topics import outbound_topic
from hub.share.rules import ShareRules
from hub.share.statement import STATEMENT_COLUMNS, StatementRow

__all__ = [
    "FAMILY",
    "STATEMENT_SCHEMA",
    "month_finished",
    "statement_key",
    "statement_message",
    "statement_topic",
    "statement_value",
]

FAMILY: Final = "municipal-share"

#: The JSON Schema of a published statement (for AsyncAPI and the finance systems).
STATEMENT_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "authority",
        "month",
        "step_table_version",
        "basic_daily_amount_version",
        "confirmed_by_finance",
        "rows",
    ],
    "properties": {
        "authority": {"type": "string", "enum": ["lahti", "ph"]},
        "month": {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"},
        "step_table_version": {"type": "string"},
        "basic_daily_amount_version": {"type": "string"},
        "confirmed_by_finance": {"type": "boolean"},
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": list(STATEMENT_COLUMNS),
                "properties": {
                    **{name: {"type": "string"} for name in STATEMENT_COLUMNS},
                    "percent": {"type": "integer"},
                    "persons": {"type": "integer"},
                    "days": {"type": "integer"},
                    "euros_paid": {"type": "string", "description": "euros, decimal point"},
                    "municipal_share": {"type": "string", "description": "euros, decimal point"},
                },
            },
        },
    },
}
_FINLAND: Final = dt.timezone(dt.timedelta(hours=2))


def statement_topic(authority: str) -> str:
    """The topic the finance systems of ``authority`` read."""
    return outbound_topic(authority, FAMILY)


def statement_key(authority: str, month: str) -> bytes:
    """The Kafka key of a statement: one per authority and month."""
    return f"{authority}:{month}".encode()


def month_finished(month: str, now: dt.datetime) -> bool:
    """True once ``month`` (``YYYY-MM``) has ended in Finland (standard time, UTC+2: the
    summer hour later errs on the side of waiting)."""
    year, number = (int(part) for part in month.split("-"))
    after = dt.date(year + (number == 12), number % 12 + 1, 1)
    return now.astimezone(_FINLAND).date() >= after


def statement_value(
    authority: str, month: str, rules: ShareRules, rows: Iterable[StatementRow]
) -> bytes:
    """The message value: the statement as JSON (euros as strings, decimal point)."""
    return orjson.dumps(
        {
            "authority": authority,
            "month": month,
            "step_table_version": rules.version,
            "basic_daily_amount_version": rules.basic_amounts.version,
            "confirmed_by_finance": rules.confirmed_by_finance,
            "rows": [
                {
                    "municipality": row.municipality,
                    "month": row.month,
                    "invoice": row.invoice.value,
                    "model": row.model.value,
                    "percent": row.percent,
                    "persons": row.persons,
                    "days": row.days,
                    "euros_paid": str(row.euros_paid),
                    "municipal_share": str(row.share),
                }
                for row in rows
            ],
        }
    )


def statement_message(topic: str) -> dict[str, Any]:
    """The AsyncAPI message of a statement topic."""
    return {
        "name": topic,
        "title": f"{topic}: a finished month's municipal-share statement (JSON)",
        "summary": "Aggregated per municipality, month, invoice, model and step; persons only "
        "as a count, no personal data. Keyed by <authority>:<month>. See "
        "docs/municipal-share.md.",
        "contentType": "application/json",
        "payload": {"$ref": "#/components/schemas/MunicipalShareStatement"},
    }
