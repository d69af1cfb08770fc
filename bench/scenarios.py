"""The read-path requests, each as an HTTP path and the SQL the app runs for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from app.db.queries import Queries
from app.filters import parse_day_range

ACTIVITY = "/api/v1/agent/cash-out/activity"
EXPORT = "/api/v1/agent/cash-out/activity/export"
SUMMARY = "/api/v1/agent/cash-out/summary"
DAILY = "/api/v1/agent/cash-out/daily"

# The floor: for each kind of request, the named queries the app runs, in its
# order (one request = all of them, each a round trip): the sign-in check, then
# the controller's queries, from "begin_snapshot" on in one transaction.
APP_QUERIES: dict[str, tuple[str, ...]] = {
    "activity": ("begin_snapshot", "activity_totals", "activity_page"),
    "activity_customer": (
        "agent_customer_exists",
        "begin_snapshot",
        "activity_totals",
        "activity_page",
    ),
    "summary": ("agent_summary_with_top",),
    "summary_customer": ("agent_customer_exists", "customer_summary_with_top"),
    "daily": ("daily_series",),
    "daily_customer": ("agent_customer_exists", "daily_series_customer"),
    "export": ("activity_items_after",),
}
SIGN_IN_QUERY = "session_agent"


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # a key of APP_QUERIES
    path: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentCase:
    label: str
    agent_id: int
    cash_outs: int
    customer_id: int
    anchor: datetime


def _params(agent_id: int, **values: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "agent_id": agent_id,
        "token_hash": None,
        "limit": 20,
        "offset": 0,
        "customer_id": None,
        "date_from": None,
        "date_to": None,
        "top": 5,
    }
    params.update(values)
    # The REST queries name the window [settled_from, settled_before).
    params["settled_from"] = params["date_from"]
    params["settled_before"] = params.pop("date_to_excl", None)
    return params


def _activity(case: AgentCase, name: str, query: dict[str, Any], **values: Any) -> Scenario:
    kind = "activity_customer" if "customer_id" in values else "activity"
    path = f"{ACTIVITY}?{urlencode({'limit': 20, **query})}"
    return Scenario(name, kind, path, _params(case.agent_id, **values))


def _daily(case: AgentCase, days: int, zone: str, customer_id: int | None = None) -> Scenario:
    """The chart's series: `days` calendar days in `zone` ending on the anchor's day."""
    last = case.anchor.astimezone(ZoneInfo(zone)).date()
    first = last - timedelta(days=days - 1)
    query: dict[str, Any] = {
        "date_from": first.isoformat(),
        "date_to": last.isoformat(),
        "tz": zone,
    }
    span = parse_day_range(query["date_from"], query["date_to"], zone)
    params = _params(
        case.agent_id,
        customer_id=customer_id,
        date_from=span.starts[0],
        date_to_excl=span.starts[-1],
        days=span.days,
        day_starts=list(span.starts),
    )
    params["date_from"] = span.first  # the series' first day (settled_from is the instant)
    name = f"daily_{days}d_{zone.split('/')[-1].lower()}"
    if customer_id is not None:
        query["customer_id"] = customer_id
        name += "_customer"
    kind = "daily" if customer_id is None else "daily_customer"
    return Scenario(name, kind, f"{DAILY}?{urlencode(query)}", params)


def scenarios(case: AgentCase, token_hash: bytes) -> list[Scenario]:
    out = _scenarios(case)
    for scenario in out:
        scenario.params["token_hash"] = token_hash
    return out


def _scenarios(case: AgentCase) -> list[Scenario]:
    deep = min(5_000, case.cash_outs // 2)
    day_to: date = (case.anchor - timedelta(days=7)).date()
    day_from: date = day_to - timedelta(days=6)
    start = datetime.combine(day_from, time.min, tzinfo=case.anchor.tzinfo)
    end = datetime.combine(day_to + timedelta(days=1), time.min, tzinfo=case.anchor.tzinfo)
    out = [
        _activity(case, "activity_first_page", {}),
        _activity(case, f"activity_offset_{deep}", {"offset": deep}, offset=deep),
        _activity(
            case,
            "activity_by_customer",
            {"customer_id": case.customer_id},
            customer_id=case.customer_id,
        ),
        _activity(
            case,
            "activity_7_days",
            {"date_from": day_from.isoformat(), "date_to": day_to.isoformat()},
            date_from=start,
            date_to=end - timedelta(microseconds=1),
            date_to_excl=end,
        ),
    ]
    for period in ("24h", "7d", "30d"):
        path = f"{SUMMARY}?period={period}"
        out.append(
            Scenario(f"summary_{period}", "summary", path, _params(case.agent_id, period=period))
        )
    # The drill-down: one customer's summary and daily chart.
    customer = {"customer_id": case.customer_id}
    out.append(
        Scenario(
            "summary_30d_customer",
            "summary_customer",
            f"{SUMMARY}?{urlencode({'period': '30d', **customer})}",
            _params(case.agent_id, period="30d", **customer),
        )
    )
    for days, zone in ((30, "UTC"), (90, "Europe/London"), (90, "Asia/Kolkata")):
        out.append(_daily(case, days, zone))
    out.append(_daily(case, 30, "Europe/London", customer_id=case.customer_id))
    out.append(Scenario("export_all", "export", EXPORT, _params(case.agent_id, limit=None)))
    return out


def floor_queries(queries: Queries) -> dict[str, tuple[str, ...]]:
    queries.require([SIGN_IN_QUERY, *(q for names in APP_QUERIES.values() for q in names)])
    return APP_QUERIES
