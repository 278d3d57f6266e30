"""Report-card figures, pure: one case's facts from its events, and the figures of every
area, agency and category from many cases' facts. No Flask, no SQL.

Definitions (the pages and open data say the same in words, `METHOD`):

- **Cases received**: public cases (the one visibility rule: `visibility.is_listed`)
  opened in the area; a case belongs to the area of its region code (province,
  kabupaten/kota, kecamatan), to the agency that holds it now or held it last, and to
  its category.
- **Acknowledged within deadline (%)**: of the cases whose acknowledgement was due
  (acknowledged, or the acknowledgement deadline passed), the share whose first
  acknowledgement came before the deadline in force and before any missed
  acknowledgement deadline.
- **Median time to acknowledge / resolve**: working days (Monday to Friday, Indonesian
  public holidays excluded, Asia/Jakarta) from the first routing to an agency to the
  first acknowledgement / the first reported resolution; each working day counts 24
  hours, weekends and holidays count nothing.
- **Resolved and verified (%)**: closed as resolved and verified, of cases received.
- **Disputed or reopened (%)**: a resolution disputed or the case reopened at least
  once, of cases received.
- **Open now / overdue**: still open at the time of computing; overdue = an agency
  holds it past its next deadline (`case.is_overdue`).
- **Weekly trend**: cases opened and closed (their last closing) per week, Monday to
  Sunday in Asia/Jakarta, the last 26 weeks including the current one.

Small numbers: a count from 1 to 4, and a share or median taken over fewer than 5
cases, is published as "< 5" (SMALL), so a single report in a small desa cannot be
singled out. Only published (already suppressed) figures leave this module.
"""

from __future__ import annotations

import heapq
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from followup_service.domain.case import OPEN_STATUSES, Case, is_overdue
from followup_service.domain.deadlines import ACKNOWLEDGE, JAKARTA, is_working_day, next_deadline
from followup_service.domain.events import (
    CaseAcknowledged,
    CaseClosed,
    CaseEscalated,
    CaseReopened,
    CaseResolved,
    CaseRouted,
    DeadlineMissed,
    ResolutionDisputed,
)
from followup_service.domain.visibility import is_listed

NATIONAL = "ID"  # the card of the whole country
SMALL = "< 5"
MIN_CELL = 5
WEEKS = 26
SLOWEST = 10


@dataclass(frozen=True)
class CaseFacts:
    """What the report cards need of one case (a row of `report_case_facts`)."""

    case_id: str
    tracking_code: str
    category: str
    region: str  # a region code, or the typed names' path when unverified
    agency_id: str | None
    agency_name: str | None
    sensitive: bool
    status: str
    outcome: str | None
    opened_at: datetime
    routed_at: datetime | None = None
    acknowledged_at: datetime | None = None
    ack_due_at: datetime | None = None  # the acknowledgement deadline in force (or at ack)
    ack_breached: bool = False  # an acknowledgement deadline was missed before the ack
    resolved_at: datetime | None = None  # the first reported resolution
    closed_at: datetime | None = None  # the last closing, while closed
    disputed_or_reopened: bool = False
    next_deadline_at: datetime | None = None
    ack_working_days: float | None = None
    resolve_working_days: float | None = None

    @property
    def areas(self) -> list[str]:
        """The province, kabupaten/kota and kecamatan codes the case counts in."""
        return area_codes(self.region)


_REGION_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")  # Kemendagri, dotted


def area_codes(region: str | None) -> list[str]:
    """ "36.04.01.2001" -> ["36", "36.04", "36.04.01"]; [] for a place without a code."""
    if not _REGION_CODE.match(region or ""):
        return []
    parts = region.split(".")
    return [".".join(parts[: n + 1]) for n in range(min(len(parts), 3))]


def working_days_between(start: datetime, end: datetime) -> float:
    """Working time from `start` to `end` in days: each working day in Asia/Jakarta counts
    its hours in the interval (24 for a whole day), weekends and holidays count nothing."""
    if end <= start:
        return 0.0
    a, b = start.astimezone(JAKARTA), end.astimezone(JAKARTA)
    total = timedelta()
    day = a.date()
    while day <= b.date():
        if is_working_day(day):
            lo = max(a, datetime.combine(day, time(), tzinfo=JAKARTA))
            hi = min(b, datetime.combine(day + timedelta(days=1), time(), tzinfo=JAKARTA))
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return round(total.total_seconds() / 86400, 4)


NOT_GIVEN = object()


def facts_of(case: Case, next_deadline_at=NOT_GIVEN) -> CaseFacts:
    """The facts of a folded case (its history holds every event); `next_deadline_at` is
    `deadlines.next_deadline(case)`, computed here unless the caller has it."""
    routed_at = acknowledged_at = ack_due = resolved_at = closed_at = None
    ack_breached = disputed = False
    agency_id = case.agency.id if case.agency else None
    agency_name = case.agency.name if case.agency else None
    for event in case.history:
        match event:
            case CaseRouted():
                routed_at = routed_at or event.occurred_at
                if acknowledged_at is None:
                    ack_due = event.acknowledge_by
                agency_id, agency_name = event.agency_id, event.agency_name
            case CaseEscalated():
                if acknowledged_at is None:
                    ack_breached |= event.breach == ACKNOWLEDGE
                    ack_due = event.acknowledge_by
                agency_id, agency_name = event.to_agency_id, event.to_agency_name
            case DeadlineMissed():
                if acknowledged_at is None and event.breach == ACKNOWLEDGE:
                    ack_breached = True
            case CaseAcknowledged():
                acknowledged_at = acknowledged_at or event.occurred_at
            case CaseResolved():
                resolved_at = resolved_at or event.occurred_at
            case ResolutionDisputed() | CaseReopened():
                disputed = True
            case CaseClosed():
                closed_at = event.occurred_at
    if case.status != "closed":
        closed_at = None
    if case.agency is not None:  # it holds the case now
        agency_id, agency_name = case.agency.id, case.agency.name
    return CaseFacts(
        case_id=case.case_id,
        tracking_code=case.tracking_code,
        category=case.category,
        region=case.region,
        agency_id=agency_id,
        agency_name=agency_name,
        sensitive=case.sensitive,
        status=case.status,
        outcome=case.outcome,
        opened_at=case.history[0].occurred_at,
        routed_at=routed_at,
        acknowledged_at=acknowledged_at,
        ack_due_at=ack_due,
        ack_breached=ack_breached,
        resolved_at=resolved_at,
        closed_at=closed_at,
        disputed_or_reopened=disputed,
        next_deadline_at=(
            next_deadline(case) if next_deadline_at is NOT_GIVEN else next_deadline_at
        ),
        ack_working_days=_span(routed_at, acknowledged_at),
        resolve_working_days=_span(routed_at, resolved_at),
    )


def _span(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return working_days_between(start, end)


def acknowledged_on_time(facts: CaseFacts, now: datetime) -> bool | None:
    """True/False once the acknowledgement was due; None while it is not (yet)."""
    if facts.acknowledged_at is not None:
        return (
            not facts.ack_breached
            and facts.ack_due_at is not None
            and facts.acknowledged_at <= facts.ack_due_at
        )
    if facts.ack_breached:
        return False
    if facts.status == "routed" and facts.ack_due_at is not None and facts.ack_due_at <= now:
        return False
    return None


def is_public(facts: CaseFacts) -> bool:
    """The one visibility rule: sensitive and confidential cases are in no public figure."""
    return is_listed(facts.sensitive, facts.status)


# --- figures -------------------------------------------------------------------------------


@dataclass
class Tally:
    """Raw figures of one cell, before small numbers are suppressed."""

    received: int = 0
    ack_due: int = 0
    ack_on_time: int = 0
    ack_days: list[float] = field(default_factory=list)
    resolve_days: list[float] = field(default_factory=list)
    verified: int = 0
    disputed: int = 0
    open: int = 0
    overdue: int = 0

    def add(self, f: CaseFacts, on_time: bool | None, now: datetime) -> None:
        self.received += 1
        if on_time is not None:
            self.ack_due += 1
            self.ack_on_time += on_time
        if f.ack_working_days is not None:
            self.ack_days.append(f.ack_working_days)
        if f.resolve_working_days is not None:
            self.resolve_days.append(f.resolve_working_days)
        self.verified += f.outcome == "resolved_verified"
        self.disputed += f.disputed_or_reopened
        if f.status in OPEN_STATUSES:
            self.open += 1
            self.overdue += is_overdue(f.status, f.next_deadline_at, now)

    def merge(self, other: Tally) -> None:
        self.received += other.received
        self.ack_due += other.ack_due
        self.ack_on_time += other.ack_on_time
        self.ack_days += other.ack_days
        self.resolve_days += other.resolve_days
        self.verified += other.verified
        self.disputed += other.disputed
        self.open += other.open
        self.overdue += other.overdue

    def published(self) -> dict:
        """The cell as the public sees it: counts 1-4 and figures over < 5 cases are SMALL."""
        return {
            "received": count(self.received),
            "ack_within_deadline_pct": share(self.ack_on_time, self.ack_due),
            "median_ack_working_days": median(self.ack_days),
            "median_resolve_working_days": median(self.resolve_days),
            "verified_pct": share(self.verified, self.received),
            "disputed_or_reopened_pct": share(self.disputed, self.received),
            "open": count(self.open),
            "overdue": count(self.overdue),
        }


def count(n: int) -> int | str:
    return SMALL if 0 < n < MIN_CELL else n


def share(part: int, whole: int) -> float | str | None:
    if whole == 0:
        return None
    if whole < MIN_CELL:
        return SMALL
    return round(100 * part / whole, 1)


def median(values: list[float]) -> float | str | None:
    if not values:
        return None
    if len(values) < MIN_CELL:
        return SMALL
    return round(statistics.median(values), 1)


FIGURES = (
    "received",
    "ack_within_deadline_pct",
    "median_ack_working_days",
    "median_resolve_working_days",
    "verified_pct",
    "disputed_or_reopened_pct",
    "open",
    "overdue",
)


def week_start(at: datetime) -> date:
    """The Monday (Asia/Jakarta) of the week `at` falls in."""
    day = at.astimezone(JAKARTA).date()
    return day - timedelta(days=day.weekday())


def _age_order(f: CaseFacts) -> tuple:
    return (f.opened_at, f.case_id)


@dataclass
class _Card:
    total: Tally = field(default_factory=Tally)
    agencies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    agency_names: dict[str, str] = field(default_factory=dict)
    categories: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    children: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    grandchildren: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    opened: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    closed: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    open_cases: list[CaseFacts] = field(default_factory=list)
    first_opened: datetime | None = None


def compute_cards(
    facts: Iterable[CaseFacts],
    now: datetime,
    *,
    area_names: Mapping[str, str] | None = None,
    category_labels: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str, dict]:
    """Every report card: NATIONAL and each province, kabupaten/kota and kecamatan with
    public cases, keyed by code. Sensitive and confidential cases are left out here, by
    the one visibility rule, whatever the caller passes."""
    area_names = area_names or {}
    category_labels = category_labels or {}
    # the country has its card even before its first public case
    cards: dict[str, _Card] = defaultdict(_Card, {NATIONAL: _Card()})
    first_week = week_start(now) - timedelta(weeks=WEEKS - 1)
    # First each case once into its leaf (areas, agency, category), then every leaf into
    # the cards it belongs to: a case counts in up to four cards and five cells of each.
    leaves: dict[tuple, _Card] = defaultdict(_Card)
    for f in facts:
        if not is_public(f):
            continue
        leaf = leaves[(tuple(f.areas), f.agency_id or "-", f.category)]
        leaf.total.add(f, acknowledged_on_time(f, now), now)
        if f.agency_id:
            leaf.agency_names[f.agency_id] = f.agency_name or f.agency_id
        if (opened := week_start(f.opened_at)) >= first_week:
            leaf.opened[opened] += 1
        if f.closed_at is not None and (closed := week_start(f.closed_at)) >= first_week:
            leaf.closed[closed] += 1
        if f.status in OPEN_STATUSES:
            leaf.open_cases.append(f)
            if len(leaf.open_cases) >= 8 * SLOWEST:  # only the oldest can be the slowest
                leaf.open_cases = heapq.nsmallest(SLOWEST, leaf.open_cases, key=_age_order)
        if leaf.first_opened is None or f.opened_at < leaf.first_opened:
            leaf.first_opened = f.opened_at
    for (areas, agency, category), leaf in leaves.items():
        slowest = heapq.nsmallest(SLOWEST, leaf.open_cases, key=_age_order)
        for depth, code in enumerate([NATIONAL, *areas]):
            card = cards[code]
            for tally in (card.total, card.agencies[agency], card.categories[category]):
                tally.merge(leaf.total)
            card.agency_names.update(leaf.agency_names)
            if depth < len(areas):
                card.children[areas[depth]].merge(leaf.total)
            if code == NATIONAL and len(areas) >= 2:
                card.grandchildren[areas[1]].merge(leaf.total)
            for week, n in leaf.opened.items():
                card.opened[week] += n
            for week, n in leaf.closed.items():
                card.closed[week] += n
            card.open_cases += slowest
            if card.first_opened is None or leaf.first_opened < card.first_opened:
                card.first_opened = leaf.first_opened
    weeks = [first_week + timedelta(weeks=n) for n in range(WEEKS)]
    return {
        code: _publish(code, card, now, weeks, area_names, category_labels)
        for code, card in cards.items()
    }


def _publish(code, card: _Card, now, weeks, area_names, category_labels) -> dict:
    def rows(tallies: dict[str, Tally], name) -> list[dict]:
        ordered = sorted(tallies.items(), key=lambda kv: (-kv[1].received, kv[0]))
        return [{"key": key, **name(key), **tally.published()} for key, tally in ordered]

    def area(key: str) -> dict:
        return {"name": area_names.get(key, key)}

    def agency(key: str) -> dict:
        unassigned = ("Belum di instansi", "Not with an agency yet")
        name = card.agency_names.get(key)
        return {"name": name or unassigned[0], "name_en": name or unassigned[1]}

    def category(key: str) -> dict:
        label = category_labels.get(key, (key, key))
        return {"name": label[0], "name_en": label[1]}

    slowest = heapq.nsmallest(SLOWEST, card.open_cases, key=_age_order)
    return {
        "code": code,
        "name": area_names.get(code, "Indonesia" if code == NATIONAL else code),
        "as_of": now,
        "period": {"from": card.first_opened, "to": now},
        "total": card.total.published(),
        "by_agency": rows(card.agencies, agency),
        "by_category": rows(card.categories, category),
        "areas": rows(card.children, area),
        "kabupaten": rows(card.grandchildren, area),
        "weekly": [
            {
                "week": w.isoformat(),
                "opened": count(card.opened[w]),
                "closed": count(card.closed[w]),
            }
            for w in weeks
        ],
        "slowest_open": [
            {
                "tracking_code": f.tracking_code,
                "category": category(f.category),
                "agency": agency(f.agency_id or "-"),
                "status": f.status,
                "opened_at": f.opened_at,
                "age_days": (now - f.opened_at).days,
                "age_working_days": round(working_days_between(f.opened_at, now), 1),
                "overdue": is_overdue(f.status, f.next_deadline_at, now),
            }
            for f in slowest
        ],
    }
