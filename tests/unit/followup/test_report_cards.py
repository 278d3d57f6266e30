"""Report-card figures, pure: a fixture of cases with known answers (issue 26)."""

from datetime import datetime, timedelta

from followup_service.domain.case import Case
from followup_service.domain.deadlines import JAKARTA
from followup_service.domain.routing import Area
from followup_service.report_cards.domain import (
    NATIONAL,
    SMALL,
    CaseFacts,
    acknowledged_on_time,
    area_codes,
    compute_cards,
    facts_of,
    working_days_between,
)

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=JAKARTA)  # a Wednesday
CIKANDE = "36.04.15.2001"
KRAGILAN = "36.04.02.2002"
KOTA_SERANG = "36.73.01.1001"
A, B = "dishub-3604", "pupr-3604"


def _facts(case_id, region=CIKANDE, agency=A, category="street_lighting", **kw):
    days_ago = kw.pop("opened_days_ago", 20)
    return CaseFacts(
        case_id=case_id,
        tracking_code=f"KA-{case_id}",
        category=category,
        region=region,
        agency_id=agency,
        agency_name={A: "Dinas Perhubungan Kabupaten Serang", B: "Dinas PUPR"}.get(agency),
        sensitive=kw.pop("sensitive", False),
        status=kw.pop("status", "closed"),
        outcome=kw.pop("outcome", None),
        opened_at=NOW - timedelta(days=days_ago),
        routed_at=NOW - timedelta(days=days_ago),
        **kw,
    )


PAST, FUTURE = NOW - timedelta(days=1), NOW + timedelta(days=1)
ON_TIME = {"acknowledged_at": NOW - timedelta(days=10), "ack_due_at": NOW - timedelta(days=9)}
FIXTURE = [
    # agency A, street lighting: on time, on time, late (breached) and disputed, on time, due
    _facts("c1", **ON_TIME, ack_working_days=1.0, resolve_working_days=3.0,
           outcome="resolved_verified", closed_at=NOW - timedelta(days=2)),
    _facts("c2", **ON_TIME, ack_working_days=0.5, resolve_working_days=2.0,
           outcome="resolved_verified", closed_at=NOW - timedelta(days=2)),
    _facts("c3", acknowledged_at=NOW - timedelta(days=5), ack_due_at=NOW - timedelta(days=9),
           ack_breached=True, ack_working_days=4.0, resolve_working_days=6.0, status="in_progress",
           disputed_or_reopened=True, next_deadline_at=PAST),
    _facts("c4", **ON_TIME, ack_working_days=1.5, status="acknowledged", next_deadline_at=FUTURE),
    _facts("c5", ack_due_at=PAST, status="routed", next_deadline_at=PAST),  # late, unanswered
    # agency A, road damage: not due yet; on time and verified
    _facts("c6", category="road_damage", ack_due_at=FUTURE, status="routed",
           next_deadline_at=FUTURE, opened_days_ago=1),
    _facts("c7", category="road_damage", **ON_TIME, ack_working_days=2.0,
           resolve_working_days=1.0, outcome="resolved_verified", closed_at=NOW),
    # agency B, a small cell, in another kecamatan
    _facts("b1", region=KRAGILAN, agency=B, category="road_damage", **ON_TIME,
           ack_working_days=1.0, status="acknowledged", next_deadline_at=FUTURE),
    _facts("b2", region=KRAGILAN, agency=B, category="road_damage", status="triage"),
    # left out by the visibility rule: a sensitive category / confidential aspiration, a
    # case still being opened
    _facts("s1", category="tawuran", sensitive=True, **ON_TIME, status="acknowledged"),
    _facts("s2", sensitive=True, status="routed", ack_due_at=PAST, next_deadline_at=PAST),
    _facts("n1", status="new"),
    # elsewhere in the province
    _facts("k1", region=KOTA_SERANG, agency="dishub-3673", **ON_TIME, status="acknowledged"),
]  # fmt: skip


def _cards():
    return compute_cards(FIXTURE, NOW, area_names={"36.04": "Kabupaten Serang"})


def _row(rows, key):
    return next(r for r in rows if r["key"] == key)


def test_agency_figures_equal_the_known_answers():
    agency = _row(_cards()["36.04"]["by_agency"], A)
    assert agency["name"] == "Dinas Perhubungan Kabupaten Serang"
    assert agency["received"] == 7
    # due: c1 c2 c3 c4 c5 c7 (c6 not yet); on time: c1 c2 c4 c7
    assert agency["ack_within_deadline_pct"] == 66.7
    assert agency["median_ack_working_days"] == 1.5  # 0.5 1.0 1.5 2.0 4.0
    assert agency["median_resolve_working_days"] == SMALL  # only 4 resolutions
    assert agency["verified_pct"] == 42.9  # 3 of 7
    assert agency["disputed_or_reopened_pct"] == 14.3  # 1 of 7
    assert agency["open"] == SMALL  # c3 c4 c5 c6
    assert agency["overdue"] == SMALL  # c3 c5


def test_a_cell_of_fewer_than_five_cases_shows_small_everywhere():
    small = _row(_cards()["36.04"]["by_agency"], B)
    assert small["received"] == SMALL
    for figure in ("ack_within_deadline_pct", "verified_pct", "disputed_or_reopened_pct", "open"):
        assert small[figure] == SMALL, figure
    assert small["overdue"] == 0  # zero reveals no one
    assert small["median_resolve_working_days"] is None  # nothing to take a median of


def test_sensitive_confidential_and_unopened_cases_are_in_no_figure_or_list():
    cards = _cards()
    assert cards["36.04"]["total"]["received"] == 9
    assert cards[NATIONAL]["total"]["received"] == 10
    assert cards["36"]["total"]["received"] == 10
    categories = {r["key"] for card in cards.values() for r in card["by_category"]}
    assert "tawuran" not in categories
    listed = {s["tracking_code"] for card in cards.values() for s in card["slowest_open"]}
    assert not listed & {"KA-s1", "KA-s2", "KA-n1"}
    assert set(cards) == {NATIONAL, "36", "36.04", "36.04.15", "36.04.02", "36.73", "36.73.01"}


def test_categories_areas_and_kabupaten_of_the_nation():
    cards = _cards()
    street = _row(cards["36.04"]["by_category"], "street_lighting")
    assert (street["received"], street["ack_within_deadline_pct"]) == (5, 60.0)  # 3 of 5
    assert _row(cards["36.04"]["by_category"], "road_damage")["received"] == SMALL
    kecamatan = {r["key"]: r["received"] for r in cards["36.04"]["areas"]}
    assert kecamatan == {"36.04.15": 7, "36.04.02": SMALL}
    assert [r["key"] for r in cards[NATIONAL]["areas"]] == ["36"]
    kabupaten = {r["key"]: r for r in cards[NATIONAL]["kabupaten"]}
    assert kabupaten["36.04"]["name"] == "Kabupaten Serang"
    assert kabupaten["36.04"]["received"] == 9 and kabupaten["36.73"]["received"] == SMALL


def test_weekly_trend_and_slowest_open_cases():
    card = _cards()["36.04"]
    weeks = card["weekly"]
    assert len(weeks) == 26 and weeks[-1]["week"] == "2026-03-02"  # the current Monday
    assert weeks[-1]["opened"] == SMALL  # c6
    assert weeks[-1]["closed"] == SMALL  # c1 c2 (Monday) and c7 (today)
    opened_20_days_ago = (NOW - timedelta(days=20)).date()
    week = next(w for w in weeks if w["week"] <= opened_20_days_ago.isoformat() < _plus7(w))
    assert week["opened"] == 8  # c1-c5, c7, b1, b2
    slow = card["slowest_open"]
    assert [s["tracking_code"] for s in slow] == [
        "KA-b1", "KA-b2", "KA-c3", "KA-c4", "KA-c5", "KA-c6",
    ]  # fmt: skip
    assert slow[2]["overdue"] is True and slow[2]["age_days"] == 20
    assert slow[2]["agency"]["name"] == "Dinas Perhubungan Kabupaten Serang"
    assert set(slow[2]) == {
        "tracking_code", "category", "agency", "status", "opened_at", "age_days",
        "age_working_days", "overdue",
    }  # fmt: skip


def _plus7(week: dict) -> str:
    return (datetime.fromisoformat(week["week"]) + timedelta(days=7)).date().isoformat()


def test_acknowledgement_is_late_once_due_and_unanswered_and_undecided_before():
    late = FIXTURE[4]  # c5
    assert acknowledged_on_time(late, NOW) is False
    assert acknowledged_on_time(late, PAST - timedelta(days=1)) is None
    assert acknowledged_on_time(FIXTURE[2], NOW) is False  # answered after a missed deadline
    assert acknowledged_on_time(FIXTURE[0], NOW) is True


def test_working_days_count_only_working_hours_of_working_days():
    friday = datetime(2026, 2, 27, 16, 0, tzinfo=JAKARTA)
    monday = datetime(2026, 3, 2, 10, 0, tzinfo=JAKARTA)
    assert working_days_between(friday, monday) == 0.75  # 8 h Friday + 10 h Monday
    assert working_days_between(monday, friday) == 0.0
    assert working_days_between(monday, monday + timedelta(days=2)) == 2.0
    # Thursday 2026-03-19 is Nyepi and counts nothing: Friday whole, Monday's morning
    assert (
        working_days_between(
            datetime(2026, 3, 19, 12, tzinfo=JAKARTA), datetime(2026, 3, 23, 12, tzinfo=JAKARTA)
        )
        == 1.5
    )


def test_area_codes_of_a_region():
    assert area_codes("36.04.15.2001") == ["36", "36.04", "36.04.15"]
    assert area_codes("36.04") == ["36", "36.04"]
    assert area_codes("kab-serang/cikande") == []


# --- facts from real cases (the deployed rules) ------------------------------------------

T0 = datetime(2026, 2, 5, 9, 0, tzinfo=JAKARTA)  # a Thursday
LIAISON = "liaison:dishub-3604"


def _open(rules, case_id="case-1", category="street_lighting"):
    case = Case()
    case.open(
        rules,
        case_id=case_id,
        aspiration_id=f"asp-{case_id}",
        tracking_code=f"KA-{case_id}",
        category=category,
        area=Area(CIKANDE, "Cikande", "Cikande"),
        public_summary="PJU mati",
        now=T0,
        actor="officer:x",
    )
    case.route(rules, now=T0, actor="router")
    return case


def test_facts_of_an_on_time_case_that_was_disputed_and_verified(rules):
    case = _open(rules)
    case.acknowledge(now=T0 + timedelta(hours=3), actor=LIAISON)
    case.resolve(rules, resolution="Lampu dipasang", now=T0 + timedelta(days=1), actor=LIAISON)
    case.dispute_resolution(
        rules, by="community", reason="Masih mati", now=T0 + timedelta(days=1), actor="public"
    )
    case.resolve(rules, resolution="Diganti", now=T0 + timedelta(days=6), actor=LIAISON)
    case.confirm_resolution(photo_ref=None, now=T0 + timedelta(days=7), actor="officer:x")
    facts = facts_of(case)
    assert (facts.agency_id, facts.status, facts.outcome) == (A, "closed", "resolved_verified")
    assert facts.ack_working_days == 0.125  # 3 hours
    assert facts.resolve_working_days == 1.0  # the first resolution, Thursday to Friday
    assert facts.disputed_or_reopened and facts.closed_at == T0 + timedelta(days=7)
    assert acknowledged_on_time(facts, T0 + timedelta(days=30)) is True
    assert facts.areas == ["36", "36.04", "36.04.15"]


def test_facts_of_a_case_escalated_for_a_missed_acknowledgement(rules):
    case = _open(rules)
    late = case.acknowledge_by + timedelta(minutes=1)
    case.escalate_overdue(rules, now=late)
    assert case.level == 1
    case.acknowledge(now=late + timedelta(hours=1), actor="liaison:next")
    facts = facts_of(case)
    assert facts.ack_breached and facts.agency_id == case.agency.id != A
    assert acknowledged_on_time(facts, late + timedelta(days=1)) is False


def test_slowest_are_the_ten_oldest_open_cases_however_many_are_open():
    many = [
        _facts(f"o{n:03d}", status="routed", ack_due_at=FUTURE, opened_days_ago=n % 97 + 1)
        for n in range(300)
    ]
    slow = compute_cards(many, NOW)["36.04"]["slowest_open"]
    oldest = sorted(many, key=lambda f: (f.opened_at, f.case_id))[:10]
    assert [s["tracking_code"] for s in slow] == [f.tracking_code for f in oldest]
