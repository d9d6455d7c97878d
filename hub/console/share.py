"""The console's municipal-share page: a month's statement, its CSV and the forecast chart.

The figures come from the same share ledger, rules and functions as ``hub share statement``
and ``hub share forecast`` (``split``, ``statement_rows``, ``render_csv``, ``forecast``,
``render_chart``), so the page, its CSV and the CLI agree to the cent. Only sums are shown:
no per-person detail and no identity code (that stays with ``hub share statement --reveal``).
Operators and auditors both see the page: the figures are the finance unit's, not a person's.
The chart is a PNG of its own URL, since the content security policy allows no inline script.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contracts import MUNICIPALITIES_FILE
from hub.console.users import User
from hub.core.errors import HubError
from hub.core.settings import HubSettings
from hub.distribution.contracts import load_municipalities
from hub.share.forecast import Forecast, forecast, months_after, render_chart
from hub.share.ledger import SQLITE_FILE, ShareLedger, open_share_ledger
from hub.share.rules import BASIC_AMOUNT_FILE, STEP_TABLE_FILE, ShareRules, load_rules
from hub.share.split import split
from hub.share.statement import (
    STATEMENT_COLUMNS,
    StatementRow,
    render_csv,
    rules_header,
    statement_rows,
)

__all__ = [
    "DEFAULT_FORECAST_MONTHS",
    "MAX_FORECAST_MONTHS",
    "SharePages",
    "ShareQuery",
    "ShareQueryError",
    "ShareTotals",
    "ShareView",
    "last_finished_month",
    "parse_query",
]

DEFAULT_FORECAST_MONTHS: Final = 12
MAX_FORECAST_MONTHS: Final = 60
_MONTH: Final = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_MUNICIPALITY: Final = re.compile(r"^\d{3}$")
#: pyplot keeps global state: one chart at a time, whatever the number of requests.
_CHART_LOCK: Final = threading.Lock()


class ShareQueryError(HubError):
    """A parameter of the share page is not usable (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class ShareQuery:
    """What the page was asked for: the month, the selection and the forecast's settings."""

    month: str
    authority: str | None = None
    municipality: str | None = None
    months: int = DEFAULT_FORECAST_MONTHS
    budget: Decimal | None = None
    budget_text: str = ""

    def selection(self) -> str:
        """The query string of the selection, for the CSV and chart links."""
        parts = [f"month={self.month}"]
        if self.authority:
            parts.append(f"authority={self.authority}")
        if self.municipality:
            parts.append(f"municipality={self.municipality}")
        return "&".join(parts)

    def forecast_query(self) -> str:
        """The chart's query string: the selection, the months ahead and the budget."""
        budget = f"&budget={self.budget}" if self.budget is not None else ""
        return f"{self.selection()}&months={self.months}{budget}"

    def label(self) -> str:
        """The selection in words, for titles and file names."""
        if self.municipality:
            return f"municipality {self.municipality}"
        if self.authority:
            return f"the area of {self.authority}"
        return "all municipalities"


def last_finished_month(now: dt.datetime) -> str:
    """The month before ``now``'s month in Finland (UTC+2, as publication counts it)."""
    today = now.astimezone(dt.timezone(dt.timedelta(hours=2))).date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    return f"{last:%Y-%m}"


def parse_query(params: QueryParams | dict[str, str], now: dt.datetime) -> ShareQuery:
    """The page's parameters checked as ``hub share statement|forecast`` checks its options."""
    month = (params.get("month") or "").strip() or last_finished_month(now)
    if not _MONTH.match(month):
        raise ShareQueryError(f"month: {month!r} is not YYYY-MM")
    authority = (params.get("authority") or "").strip() or None
    municipality = (params.get("municipality") or "").strip() or None
    if authority is not None and municipality is not None:
        raise ShareQueryError("municipality and authority: give one of them, not both")
    if municipality is not None and not _MUNICIPALITY.match(municipality):
        raise ShareQueryError(f"municipality: {municipality!r} is not a 3-digit code")
    months_text = (params.get("months") or "").strip()
    months = DEFAULT_FORECAST_MONTHS
    if months_text:
        months = int(months_text) if months_text.isdigit() else 0
        if not 1 <= months <= MAX_FORECAST_MONTHS:
            raise ShareQueryError(f"months: {months_text!r} is not 1-{MAX_FORECAST_MONTHS}")
    budget_text = (params.get("budget") or "").strip()
    budget = None
    if budget_text:
        try:
            budget = Decimal(budget_text.replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            budget = None
        if budget is None or not budget.is_finite() or budget < 0:
            raise ShareQueryError(f"budget: {budget_text!r} is not euros")
    return ShareQuery(month, authority, municipality, months, budget, budget_text)


@dataclass(frozen=True, slots=True)
class ShareTotals:
    """The statement's days, euros and share summed (persons are not: a person may be in
    several rows)."""

    days: int
    euros_paid: Decimal
    share: Decimal


@dataclass
class ShareView:
    """What the page shows."""

    query: ShareQuery
    header: str
    confirmed: bool
    rows: list[StatementRow]
    totals: ShareTotals | None
    forecast: Forecast | None
    forecast_after: str | None
    authorities: list[str]
    municipalities: list[str]


class SharePages:
    """The ``/share`` page, its CSV and its chart, over the hub's settings."""

    def __init__(
        self,
        settings: HubSettings,
        page: Callable[..., Response],
        require: Callable[[Request], User],
    ) -> None:
        self.settings = settings
        self.page = page
        self.require = require

    def routes(self) -> list[Route]:
        """The routes to add to the console's table."""
        return [
            Route("/share", self.share),
            Route("/share/statement.csv", self.statement_csv),
            Route("/share/forecast.png", self.forecast_png),
        ]

    # -- reading -------------------------------------------------------------------------

    def rules(self) -> ShareRules:
        """The step table and basic daily amounts in use (the files ``hub share`` reads)."""
        return load_rules(
            self.settings.share_step_table_file or STEP_TABLE_FILE,
            self.settings.share_basic_amount_file or BASIC_AMOUNT_FILE,
        )

    def area_table(self) -> dict[str, str]:
        """Municipality code → authority."""
        table = load_municipalities(self.settings.municipalities_file or MUNICIPALITIES_FILE)
        return {code: str(area) for code, area in table.items()}

    def codes(self, query: ShareQuery) -> set[str] | None:
        """The municipalities selected, ``None`` for all."""
        if query.municipality is not None:
            return {query.municipality}
        if query.authority is not None:
            table = self.area_table()
            if query.authority not in set(table.values()):
                raise ShareQueryError(f"authority: {query.authority!r} is not lahti or ph")
            return {code for code, area in table.items() if area == query.authority}
        return None

    def ledger(self) -> ShareLedger | None:
        """The share ledger, or ``None`` while the hub has not created one (no file made)."""
        dsn = self.settings.share_dsn
        if dsn is None and not (self.settings.data_dir / SQLITE_FILE).exists():
            return None
        return open_share_ledger(
            self.settings.data_dir, None if dsn is None else dsn.get_secret_value()
        )

    def statement(self, query: ShareQuery, rules: ShareRules) -> list[StatementRow]:
        """The month's statement rows, as ``hub share statement`` computes them."""
        codes = self.codes(query)
        ledger = self.ledger()
        if ledger is None:
            return []
        try:
            return statement_rows(
                line
                for stored in ledger.records(query.month, codes)
                for line in split(stored.share, rules)
            )
        finally:
            ledger.close()

    def forecast(self, query: ShareQuery, rules: ShareRules) -> tuple[Forecast, str] | None:
        """The forecast after the ledger's latest payment month, as ``hub share forecast``
        makes it; ``None`` when the selection has no payments to start from."""
        codes = self.codes(query)
        ledger = self.ledger()
        if ledger is None:
            return None
        try:
            counters = [c for c in ledger.counters() if codes is None or c.municipality in codes]
        finally:
            ledger.close()
        latest = max((c.payment_date for c in counters), default=None)
        if latest is None:
            return None
        after = f"{latest:%Y-%m}"
        return forecast(counters, rules, months_after(after, query.months)), after

    def view(self, query: ShareQuery) -> ShareView:
        """Everything the page shows for ``query``."""
        rules = self.rules()
        rows = self.statement(query, rules)
        predicted = self.forecast(query, rules)
        table = self.area_table()
        return ShareView(
            query=query,
            header=rules_header(rules),
            confirmed=rules.confirmed_by_finance,
            rows=rows,
            totals=_totals(rows),
            forecast=predicted[0] if predicted else None,
            forecast_after=predicted[1] if predicted else None,
            authorities=sorted(set(table.values())),
            municipalities=sorted(table),
        )

    def chart(self, query: ShareQuery) -> bytes | None:
        """The forecast chart as PNG bytes, drawn by ``render_chart`` like the CLI's."""
        rules = self.rules()
        predicted = self.forecast(query, rules)
        if predicted is None:
            return None
        result, after = predicted
        monthly = None if query.budget is None else (query.budget / 12).quantize(Decimal("0.01"))
        title = f"Municipal share forecast after {after} (step table {rules.version})"
        with _CHART_LOCK, tempfile.TemporaryDirectory(prefix="hub-console-chart-") as scratch:
            path = Path(scratch) / "share-forecast.png"
            render_chart(result, monthly, title, path)
            return path.read_bytes()

    # -- pages ---------------------------------------------------------------------------

    def _query(self, request: Request) -> ShareQuery:
        try:
            return parse_query(request.query_params, dt.datetime.now(dt.UTC))
        except ShareQueryError as exc:
            raise HTTPException(400, str(exc)) from None

    async def share(self, request: Request) -> Response:
        """The page: the statement table, the rules' versions and the forecast."""
        self.require(request)
        try:
            query = parse_query(request.query_params, dt.datetime.now(dt.UTC))
            view = await asyncio.to_thread(self.view, query)
        except HubError as exc:
            fallback = ShareQuery(last_finished_month(dt.datetime.now(dt.UTC)))
            raw: dict[str, Any] = dict(request.query_params)
            return self.page(
                request, "share.html", 400, view=None, query=fallback, raw=raw, error=str(exc)
            )
        return self.page(
            request, "share.html", view=view, query=query, raw=dict(request.query_params),
            error=None,
        )  # fmt: skip

    async def statement_csv(self, request: Request) -> Response:
        """The statement as ``hub share statement --format csv`` prints it."""
        self.require(request)
        query = self._query(request)
        try:
            rows = await asyncio.to_thread(lambda: self.statement(query, self.rules()))
        except HubError as exc:
            raise HTTPException(400, str(exc)) from None
        name = f"municipal-share-{query.month}"
        if query.authority or query.municipality:
            name += f"-{query.authority or query.municipality}"
        return Response(
            render_csv(STATEMENT_COLUMNS, (row.cells() for row in rows)),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )

    async def forecast_png(self, request: Request) -> Response:
        """The forecast chart; 404 when there is nothing to forecast from."""
        self.require(request)
        query = self._query(request)
        try:
            png = await asyncio.to_thread(self.chart, query)
        except HubError as exc:
            raise HTTPException(400, str(exc)) from None
        if png is None:
            raise HTTPException(404, "the share ledger holds no payments to forecast from")
        return Response(png, media_type="image/png")


def _totals(rows: list[StatementRow]) -> ShareTotals | None:
    if not rows:
        return None
    return ShareTotals(
        days=sum(row.days for row in rows),
        euros_paid=sum((row.euros_paid for row in rows), Decimal(0)),
        share=sum((row.share for row in rows), Decimal(0)),
    )
