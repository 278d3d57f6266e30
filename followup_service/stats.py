"""Supervisor figures from the read models: what is open and overdue, where, and with whom.

`supervisor_stats(conn, now)` is what `GET /api/v1/stats` returns; its parts
(`open_and_overdue`, `median_hours`, `oldest_open`) can be used on their own. `scope` is
a condition on `cases` (followup_service.need_to_know.in_scope): the figures count only
the cases the caller may see.
Open = any status in OPEN_STATUSES; overdue = with an agency and past the next deadline
(as the case list's `overdue` filter); durations run from the case being opened to its
first acknowledgement / first reported resolution (from `case_timeline`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, func, select, true

from followup_service.domain.case import OPEN_STATUSES, is_overdue
from followup_service.tables import case_timeline, cases
from shared.timeutil import utc_iso

EVERY_CASE = true()  # the default scope: callers pass need_to_know.in_scope(principal)
UNASSIGNED = "unassigned"  # the agency key of open cases in triage or split


def open_and_overdue(conn: Connection, now: datetime, scope: ColumnElement = EVERY_CASE) -> dict:
    """{"by_agency": [...], "by_category": [...], "total_open", "total_overdue"}; the
    lists are sorted by overdue then open (descending), then key."""
    rows = conn.execute(
        select(
            cases.c.agency_id,
            cases.c.agency_name,
            cases.c.category,
            cases.c.status,
            cases.c.next_deadline_at,
        ).where(cases.c.status.in_(OPEN_STATUSES), scope)
    ).all()
    by_agency: dict[str, dict] = {}
    by_category: dict[str, dict] = {}
    for row in rows:
        late = int(is_overdue(row.status, row.next_deadline_at, now))
        agency_key = row.agency_id or UNASSIGNED
        agency = by_agency.setdefault(
            agency_key,
            {"agency_id": row.agency_id, "agency_name": row.agency_name, "open": 0, "overdue": 0},
        )
        category = by_category.setdefault(
            row.category, {"category": row.category, "open": 0, "overdue": 0}
        )
        for bucket in (agency, category):
            bucket["open"] += 1
            bucket["overdue"] += late

    def ordered(items: dict) -> list[dict]:
        return [
            items[key]
            for key in sorted(items, key=lambda k: (-items[k]["overdue"], -items[k]["open"], k))
        ]

    return {
        "by_agency": ordered(by_agency),
        "by_category": ordered(by_category),
        "total_open": len(rows),
        "total_overdue": sum(a["overdue"] for a in by_agency.values()),
    }


def median_hours(conn: Connection, scope: ColumnElement = EVERY_CASE) -> dict:
    """Median hours from opening to the first acknowledgement and to the first resolution,
    with how many cases each median is taken over."""
    firsts = conn.execute(
        select(
            case_timeline.c.case_id,
            case_timeline.c.event_type,
            func.min(case_timeline.c.occurred_at).label("at"),
        )
        .where(case_timeline.c.event_type.in_(("CaseOpened", "CaseAcknowledged", "CaseResolved")))
        .where(case_timeline.c.case_id.in_(select(cases.c.case_id).where(scope)))
        .group_by(case_timeline.c.case_id, case_timeline.c.event_type)
    ).all()
    at: dict[str, dict[str, datetime]] = defaultdict(dict)
    for row in firsts:
        at[row.case_id][row.event_type] = row.at
    durations: dict[str, list[float]] = {"CaseAcknowledged": [], "CaseResolved": []}
    for marks in at.values():
        opened = marks.get("CaseOpened")
        for kind, values in durations.items():
            if opened is not None and kind in marks:
                values.append((marks[kind] - opened).total_seconds() / 3600)

    def median(values: list[float]) -> float | None:
        return round(statistics.median(values), 2) if values else None

    acknowledged, resolved = durations["CaseAcknowledged"], durations["CaseResolved"]
    return {
        "median_hours_to_acknowledge": median(acknowledged),
        "median_hours_to_resolve": median(resolved),
        "acknowledged_cases": len(acknowledged),
        "resolved_cases": len(resolved),
    }


def oldest_open(
    conn: Connection, now: datetime, limit: int = 10, scope: ColumnElement = EVERY_CASE
) -> list[dict]:
    """The open cases opened longest ago: id, tracking code, agency, status, age."""
    rows = conn.execute(
        select(
            cases.c.case_id,
            cases.c.tracking_code,
            cases.c.category,
            cases.c.status,
            cases.c.agency_id,
            cases.c.agency_name,
            cases.c.opened_at,
            cases.c.next_deadline_at,
        )
        .where(cases.c.status.in_(OPEN_STATUSES), scope)
        .order_by(cases.c.opened_at, cases.c.case_id)
        .limit(limit)
    ).all()
    items = []
    for row in rows:
        age: timedelta = now - row.opened_at
        items.append(
            {
                "id": row.case_id,
                "tracking_code": row.tracking_code,
                "category": row.category,
                "status": row.status,
                "agency": (
                    {"id": row.agency_id, "name": row.agency_name} if row.agency_id else None
                ),
                "opened_at": utc_iso(row.opened_at),
                "age_hours": round(age.total_seconds() / 3600, 2),
                "age_days": round(age.total_seconds() / 86400, 2),
                "overdue": is_overdue(row.status, row.next_deadline_at, now),
            }
        )
    return items


def supervisor_stats(
    conn: Connection, now: datetime, oldest: int = 10, scope: ColumnElement = EVERY_CASE
) -> dict:
    """Everything `GET /api/v1/stats` answers, computed at `now`."""
    return {
        "as_of": utc_iso(now),
        **open_and_overdue(conn, now, scope),
        **median_hours(conn, scope),
        "oldest_open": oldest_open(conn, now, oldest, scope),
    }
