"""Working-day arithmetic in Asia/Jakarta, and which case deadlines are breached."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:
    from followup_service.domain.case import Case

JAKARTA = ZoneInfo("Asia/Jakarta")
_ID_HOLIDAYS = holidays.country_holidays("ID")  # expands lazily to any year asked for

ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
_DEADLINE_STATUSES = {
    ACKNOWLEDGE: {"routed"},
    RESOLVE: {"routed", "acknowledged", "in_progress"},
}


@functools.lru_cache(maxsize=8192)  # every routing counts days forward through the calendar
def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _ID_HOLIDAYS


def add_working_days(start: datetime, days: int) -> datetime:
    """Same Jakarta wall-clock time on the `days`-th working day after `start`'s date."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if days < 0:
        raise ValueError("days must not be negative")
    local = start.astimezone(JAKARTA)
    day = local.date()
    while days:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return datetime.combine(day, local.time(), tzinfo=JAKARTA)


def breach_key(deadline: str, due_at: datetime) -> str:
    """Identity of one missed deadline, by instant (the same whatever zone it is written in)."""
    return f"{deadline}@{due_at.astimezone(UTC).isoformat()}"


@dataclass(frozen=True)
class Breach:
    deadline: str  # ACKNOWLEDGE or RESOLVE
    due_at: datetime

    @property
    def key(self) -> str:
        """Identity of one breach, remembered by the case so it is escalated once."""
        return breach_key(self.deadline, self.due_at)


def breaches(case: Case, now: datetime) -> list[Breach]:
    """Deadlines of `case` that have passed at `now` and were not escalated yet."""
    found = []
    for deadline, statuses in _DEADLINE_STATUSES.items():
        due_at = getattr(case, f"{deadline}_by")
        if case.status in statuses and due_at is not None and now >= due_at:
            breach = Breach(deadline, due_at)
            if breach.key not in case.handled_breaches:
                found.append(breach)
    return found


def auto_close_due(case: Case, now: datetime) -> bool:
    """True once a resolution has gone undisputed for the whole quiet period."""
    return (
        case.status == "resolved_pending_verification"
        and case.verify_by is not None
        and now >= case.verify_by
    )


def next_deadline(case: Case) -> datetime | None:
    """When the deadline worker must next look at `case`: an unhandled deadline or verify_by."""
    pending = []
    for deadline, statuses in _DEADLINE_STATUSES.items():
        due_at = getattr(case, f"{deadline}_by")
        if case.status not in statuses or due_at is None:
            continue
        if Breach(deadline, due_at).key not in case.handled_breaches:
            pending.append(due_at)
    if case.status == "resolved_pending_verification" and case.verify_by is not None:
        pending.append(case.verify_by)
    return min(pending, default=None)
