"""Read-model queries the staff pages need that the follow-up API does not offer (yet):
dashboard counters and medians, the weekly series, CSV rows, the report-back list.

They read the follow-up read models (`cases`, `case_timeline`) only, and only the cases
in the caller's scope: `scope` is followup_service.need_to_know.in_scope(principal).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, true

from followup_service.domain.case import OPEN_STATUSES, is_overdue
from followup_service.domain.visibility import is_listed
from followup_service.tables import case_timeline, cases
from shared.timeutil import JAKARTA, utc_iso


def row_is_overdue(row, now: datetime) -> bool:
    return is_overdue(row.status, row.next_deadline_at, now)


EVERY_CASE = true()  # the default scope: callers pass need_to_know.in_scope(principal)
UNVERIFIED_LISTED = 100


def dashboard(engine, now: datetime, weeks: int = 12, scope: ColumnElement = EVERY_CASE) -> dict:
    """Open/overdue per agency and per category, median hours to acknowledge and to
    resolve, per-week opened/resolved counts for the last `weeks` weeks, and the oldest
    open cases whose location is not verified (for a supervisor to amend)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                cases.c.case_id,
                cases.c.category,
                cases.c.agency_id,
                cases.c.agency_name,
                cases.c.status,
                cases.c.next_deadline_at,
                cases.c.opened_at,
            ).where(scope)
        ).all()
        unverified = conn.execute(
            select(
                cases.c.tracking_code,
                cases.c.category,
                cases.c.kecamatan,
                cases.c.kelurahan,
                cases.c.agency_name,
                cases.c.opened_at,
            )
            .where(~cases.c.location_verified, cases.c.status.in_(OPEN_STATUSES), scope)
            .order_by(cases.c.opened_at)
            .limit(UNVERIFIED_LISTED)
        ).all()
        marks = conn.execute(
            select(case_timeline.c.case_id, case_timeline.c.event_type, case_timeline.c.occurred_at)
            .where(case_timeline.c.event_type.in_(("CaseAcknowledged", "CaseResolved")))
            .where(case_timeline.c.case_id.in_(select(cases.c.case_id).where(scope)))
            .order_by(case_timeline.c.seq)
        ).all()
    by_agency: dict[str, dict] = defaultdict(lambda: {"open": 0, "overdue": 0})
    by_category: dict[str, dict] = defaultdict(lambda: {"open": 0, "overdue": 0})
    opened_at = {}
    for row in rows:
        opened_at[row.case_id] = row.opened_at
        if row.status not in OPEN_STATUSES:
            continue
        late = row_is_overdue(row, now)
        for bucket in (by_agency[row.agency_name or "-"], by_category[row.category]):
            bucket["open"] += 1
            bucket["overdue"] += int(late)
    first: dict[tuple[str, str], datetime] = {}
    for mark in marks:
        first.setdefault((mark.case_id, mark.event_type), mark.occurred_at)
    tta, ttr = [], []
    resolved_weeks: Counter = Counter()
    for (case_id, kind), at in first.items():
        start = opened_at.get(case_id)
        if start is None:
            continue
        hours = (at - start).total_seconds() / 3600
        (tta if kind == "CaseAcknowledged" else ttr).append(hours)
        if kind == "CaseResolved":
            resolved_weeks[_week(at)] += 1
    opened_weeks = Counter(_week(at) for at in opened_at.values() if at is not None)
    this_week = _week(now)
    series = []
    for back in range(weeks - 1, -1, -1):
        week = this_week - timedelta(weeks=back)
        series.append((week, opened_weeks.get(week, 0), resolved_weeks.get(week, 0)))
    return {
        "by_agency": sorted(by_agency.items(), key=lambda kv: (-kv[1]["overdue"], kv[0])),
        "by_category": sorted(by_category.items(), key=lambda kv: (-kv[1]["open"], kv[0])),
        "median_tta_hours": round(statistics.median(tta), 1) if tta else None,
        "median_ttr_hours": round(statistics.median(ttr), 1) if ttr else None,
        "weekly": series,
        "unverified": unverified,
        "total_open": sum(v["open"] for v in by_agency.values()),
        "total_overdue": sum(v["overdue"] for v in by_agency.values()),
    }


def _week(moment: datetime):
    """The Monday (Jakarta date) of the week `moment` falls in."""
    local = moment.astimezone(JAKARTA).date()
    return local - timedelta(days=local.weekday())


CSV_COLUMNS = (
    "tracking_code",
    "category",
    "kecamatan",
    "kelurahan",
    "agency",
    "status",
    "outcome",
    "urgency",
    "opened_at",
    "next_deadline_at",
    "overdue",
    "escalations",
    "public_summary",
)


def csv_rows(engine, now: datetime, scope: ColumnElement = EVERY_CASE):
    """Every case in scope as a CSV row of case-handling facts (no reporter, no raw
    description)."""
    with engine.connect() as conn:
        result = conn.execute(select(cases).where(scope).order_by(cases.c.opened_at))
        for row in result:
            yield (
                row.tracking_code,
                row.category,
                row.kecamatan,
                row.kelurahan,
                row.agency_name or "",
                row.status,
                row.outcome or "",
                row.urgency,
                utc_iso(row.opened_at),
                utc_iso(row.next_deadline_at) or "",
                "yes" if row_is_overdue(row, now) else "no",
                row.escalations,
                row.public_summary,
            )


def report_rows(
    engine,
    *,
    kelurahan: str | None = None,
    codes: list[str] | None = None,
    scope: ColumnElement = EVERY_CASE,
):
    """Cases in scope raised in a kelurahan (or under the given tracking codes), oldest
    first, with their public view; sensitive ones are counted but never listed."""
    query = select(cases).where(cases.c.parent_id.is_(None), scope)
    if codes:
        query = query.where(cases.c.tracking_code.in_(codes))
    elif kelurahan:
        query = query.where(cases.c.kelurahan.ilike(kelurahan.strip()))
    else:
        return [], 0
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(cases.c.opened_at)).all()
    listed = [row for row in rows if is_listed(row.sensitive, row.status)]
    return listed, len(rows) - len(listed)
