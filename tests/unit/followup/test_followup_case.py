import json
from datetime import datetime, timedelta

import pytest

from followup_service.domain.case import (
    TRANSITIONS,
    Case,
    IllegalTransitionError,
    InvalidCommandError,
    open_sub_case,
    split_outcome,
)
from followup_service.domain.deadlines import JAKARTA, auto_close_due, breaches
from followup_service.domain.events import (
    CaseClosed,
    CaseDeclined,
    CaseEscalated,
    CaseRouted,
    DeadlineMissed,
    SubCase,
    event_type,
    from_payload,
    to_payload,
)
from followup_service.domain.routing import Area

CIKANDE = Area(region="kab-serang", kecamatan="Cikande", kelurahan="Cikande")
T0 = datetime(2026, 2, 5, 9, 0, tzinfo=JAKARTA)  # same opening time as conftest.open_case

LIAISON = "liaison:dishub-3604"
OFFICER = "officer:bhabin-cikande"
T1 = T0 + timedelta(hours=3)


def test_case_closes_resolved_verified_when_agency_resolves_and_officer_confirms(rules, open_case):
    case = open_case("street_lighting")
    assert (case.status, case.agency.name) == ("routed", "Dinas Perhubungan Kabupaten Serang")
    assert case.rule_version == "2026-11-25.1"

    case.acknowledge(now=T1, actor=LIAISON)
    case.note_progress("Survei lokasi dijadwalkan", public=True, now=T1, actor=LIAISON)
    assert case.status == "in_progress"
    case.resolve(rules, resolution="Lampu PJU dipasang", now=T1, actor=LIAISON)
    assert case.status == "resolved_pending_verification"
    events = case.confirm_resolution(photo_ref="photo-1", now=T1, actor=OFFICER)

    assert [event_type(e) for e in events] == ["VerificationConfirmed", "CaseClosed"]
    assert (case.status, case.outcome) == ("closed", "resolved_verified")
    assert case.version == 7


def test_case_reopens_with_same_agency_when_resolution_disputed(rules, open_case):
    case = open_case("road_damage")
    case.resolve(rules, resolution="Jalan ditambal", now=T1, actor=LIAISON)

    events = case.dispute_resolution(
        rules, by="community", reason="Lubang masih ada", now=T1, actor="public"
    )

    assert [event_type(e) for e in events] == ["ResolutionDisputed", "CaseReopened"]
    assert (case.status, case.agency.id) == ("in_progress", "pupr-3604")
    assert case.resolve_by > T1


def test_case_closes_resolved_verified_when_quiet_period_passes(rules, open_case):
    case = open_case()
    case.resolve(rules, resolution="Lampu PJU dipasang", now=T0, actor=LIAISON)
    assert not auto_close_due(case, T0 + timedelta(days=1))

    later = T0 + timedelta(days=14)
    assert auto_close_due(case, later)
    case.close(outcome="resolved_verified", reason="no dispute", now=later, actor="worker")
    assert case.outcome == "resolved_verified"


def test_closed_case_reopens_with_last_agency_when_reopened(rules, open_case):
    case = open_case()
    case.resolve(rules, resolution="Lampu PJU dipasang", now=T0, actor=LIAISON)
    case.confirm_resolution(now=T0, actor=OFFICER)

    case.reopen(rules, reason="Lampu mati lagi", now=T1, actor=OFFICER)

    assert (case.status, case.agency.id, case.outcome) == (
        "in_progress",
        "dishub-3604",
        None,
    )


# --- illegal transitions ------------------------------------------------------------------


def _in_status(status, rules, open_case):
    if status == "new":
        return Case()
    case = open_case(route=status not in ("triage", "split"))
    steps = {
        "acknowledged": [lambda: case.acknowledge(now=T0, actor=LIAISON)],
        "in_progress": [
            lambda: case.acknowledge(now=T0, actor=LIAISON),
            lambda: case.note_progress("ok", public=False, now=T0, actor=LIAISON),
        ],
        "resolved_pending_verification": [
            lambda: case.resolve(rules, resolution="done", now=T0, actor=LIAISON)
        ],
        "split": [lambda: case.split(_subs(), now=T0, actor=OFFICER)],
        "closed": [lambda: case.withdraw(reason="warga menarik", now=T0, actor=OFFICER)],
    }
    for step in steps.get(status, []):
        step()
    assert case.status == status
    return case


def _subs():
    return [
        SubCase("case-1a", "road_damage", "Jalan rusak"),
        SubCase("case-1b", "street_lighting", "PJU mati"),
    ]


COMMANDS = {
    "open": lambda c, r: c.open(
        r,
        case_id="x",
        aspiration_id="a",
        tracking_code="t",
        category="other",
        area=CIKANDE,
        public_summary="s",
        now=T1,
        actor=OFFICER,
    ),
    "route": lambda c, r: c.route(r, now=T1, actor=OFFICER),
    "assign": lambda c, r: c.assign(r, "perkim-3604", reason="x", now=T1, actor=OFFICER),
    "acknowledge": lambda c, r: c.acknowledge(now=T1, actor=LIAISON),
    "note_progress": lambda c, r: c.note_progress("x", public=True, now=T1, actor=LIAISON),
    "escalate": lambda c, r: c.escalate(r, reason="x", now=T1, actor=OFFICER),
    "decline": lambda c, r: c.decline(r, reason="x", now=T1, actor=LIAISON),
    "resolve": lambda c, r: c.resolve(r, resolution="x", now=T1, actor=LIAISON),
    "confirm_resolution": lambda c, r: c.confirm_resolution(now=T1, actor=OFFICER),
    "dispute_resolution": lambda c, r: c.dispute_resolution(
        r, by="officer", reason="x", now=T1, actor=OFFICER
    ),
    "reopen": lambda c, r: c.reopen(r, reason="x", now=T1, actor=OFFICER),
    "close": lambda c, r: c.close(outcome="no_further_action", reason="x", now=T1, actor=OFFICER),
    "split": lambda c, r: c.split(_subs(), now=T1, actor=OFFICER),
    "conclude_split": lambda c, r: c.conclude_split([], now=T1, actor=OFFICER),
    "amend": lambda c, r: c.amend(r, public_summary="new", now=T1, actor=OFFICER),
    "withdraw": lambda c, r: c.withdraw(reason="x", now=T1, actor=OFFICER),
}
STATUSES = [
    "new",
    "triage",
    "routed",
    "acknowledged",
    "in_progress",
    "resolved_pending_verification",
    "split",
    "closed",
]


def test_every_action_has_a_command_when_table_is_complete():
    assert set(COMMANDS) == set(TRANSITIONS)


@pytest.mark.parametrize("status", STATUSES)
def test_illegal_transition_error_names_status_and_allowed_actions_when_action_not_allowed(
    status, rules, open_case
):
    case = _in_status(status, rules, open_case)
    allowed = case.allowed_actions()
    for action in set(COMMANDS) - set(allowed):
        before = Case.from_events(case.history)
        with pytest.raises(IllegalTransitionError) as raised:
            COMMANDS[action](case, rules)
        assert raised.value.current_status == status
        assert raised.value.action == action
        assert raised.value.allowed_actions == allowed
        assert case == before


def test_allowed_actions_follow_table_when_case_routed(open_case):
    assert open_case().allowed_actions() == [
        "assign",
        "acknowledge",
        "note_progress",
        "escalate",
        "decline",
        "resolve",
        "close",
        "split",
        "amend",
        "withdraw",
    ]


# --- decline and re-routing -----------------------------------------------------------------


def test_case_rerouted_to_next_candidate_when_agency_declines(rules, open_case):
    case = open_case("street_lighting")

    events = case.decline(rules, reason="PJU jalan ini aset Perkim", now=T1, actor=LIAISON)

    assert [type(e) for e in events] == [CaseDeclined, CaseRouted]
    assert (case.status, case.agency.id) == ("routed", "perkim-3604")


def test_case_closed_not_responsible_when_every_candidate_declines(rules, open_case):
    case = open_case("street_lighting")
    case.decline(rules, reason="bukan aset kami", now=T1, actor=LIAISON)

    events = case.decline(rules, reason="bukan aset kami juga", now=T1, actor="liaison:perkim")

    assert isinstance(events[-1], CaseClosed)
    assert (case.status, case.outcome) == ("closed", "not_responsible")
    assert case.declined_by == ("dishub-3604", "perkim-3604")


def test_money_politics_rerouted_to_panwascam_when_wrongly_assigned_agency_declines(
    rules, open_case
):

    case = open_case("money_politics", route=False)
    case.assign(rules, "polsek-360415", reason="dibawa ke Polsek", now=T0, actor=OFFICER)

    case.decline(rules, reason="ranah Bawaslu", now=T1, actor="liaison:polsek-cikande")

    assert case.agency.name == "Panwaslu Kecamatan Cikande, Kabupaten Serang"
    assert [a.name for a in case.ladder] == [
        "Panwaslu Kecamatan Cikande, Kabupaten Serang",
        "Bawaslu Kabupaten Serang",
    ]


# --- escalation and deadlines ---------------------------------------------------------------


def test_escalation_climbs_ladder_and_stops_at_top_when_escalated_by_hand(rules, open_case):
    case = open_case("street_lighting")

    case.escalate(rules, reason="tidak ada kabar", now=T1, actor=OFFICER)
    assert (case.level, case.agency.name) == (1, "Kepala Dinas Perhubungan Kabupaten Serang")
    case.escalate(rules, reason="masih tidak ada kabar", now=T1, actor=OFFICER)
    assert (case.level, case.agency.name) == (2, "Sekretariat Daerah Kabupaten Serang")

    assert "escalate" not in case.allowed_actions()
    with pytest.raises(IllegalTransitionError):
        case.escalate(rules, reason="lagi", now=T1, actor=OFFICER)


def test_breach_escalated_exactly_once_when_worker_sweeps_repeatedly(rules, open_case):
    case = open_case("street_lighting")
    late = case.acknowledge_by + timedelta(minutes=1)
    assert breaches(case, case.acknowledge_by - timedelta(minutes=1)) == []

    first = case.escalate_overdue(rules, now=late)
    again = case.escalate_overdue(rules, now=late + timedelta(hours=1))
    replayed = Case.from_events(case.history).escalate_overdue(rules, now=late)

    assert [type(e) for e in first] == [CaseEscalated]
    assert (first[0].breach, first[0].automatic, first[0].to_level) == ("acknowledge", True, 1)
    assert again == [] and replayed == []


def test_deadline_missed_recorded_once_when_top_of_ladder_breached(rules, open_case):
    case = open_case("electricity")  # two rungs: PLN ULP -> PLN UP3
    now = T0
    for _ in range(2):
        now = case.acknowledge_by + timedelta(minutes=1)
        case.escalate_overdue(rules, now=now)
    assert case.agency.name == "PLN UP3 yang melayani Kabupaten Serang"

    case.acknowledge(now=now, actor="liaison:pln")
    missed = case.escalate_overdue(rules, now=case.resolve_by + timedelta(days=1))

    assert [type(e) for e in missed] == [DeadlineMissed]
    assert missed[0].breach == "resolve"
    assert case.escalate_overdue(rules, now=case.resolve_by + timedelta(days=2)) == []


def test_deadlines_halved_when_case_urgent(open_case):
    normal, urgent = open_case("street_lighting"), open_case("street_lighting", urgency="high")
    # 14 working days from Thu 5 Feb 2026 (17 Feb is a holiday) vs ceil(14/2) = 7
    assert normal.resolve_by.date().isoformat() == "2026-02-26"
    assert urgent.resolve_by.date().isoformat() == "2026-02-16"


# --- amend, withdraw, close -----------------------------------------------------------------


def test_case_rerouted_when_amended_to_category_of_another_agency(rules, open_case):
    case = open_case("street_lighting")

    events = case.amend(rules, category="road_damage", now=T1, actor=OFFICER)

    assert [event_type(e) for e in events] == ["CaseAmended", "CaseRouted"]
    assert (case.category, case.agency.id) == ("road_damage", "pupr-3604")


def test_case_becomes_sensitive_when_amended_to_tawuran(rules, open_case):
    case = open_case("neighbourhood_security")

    case.amend(rules, category="tawuran", public_summary="Potensi tawuran", now=T1, actor=OFFICER)

    assert case.sensitive and case.agency.id == "polsek-360415"


def test_nothing_recorded_when_amendment_changes_nothing(rules, open_case):
    case = open_case()
    assert case.amend(rules, public_summary=case.public_summary, now=T1, actor=OFFICER) == []


def test_case_ends_withdrawn_and_stays_closed_when_aspiration_withdrawn(open_case):
    case = open_case()

    case.withdraw(reason="Sudah diperbaiki swadaya", now=T1, actor=OFFICER)

    assert (case.status, case.outcome) == ("closed", "withdrawn")
    assert case.allowed_actions() == []


def test_duplicate_refused_when_no_other_case_linked(open_case):
    case = open_case()
    with pytest.raises(InvalidCommandError):
        case.close(outcome="duplicate", now=T1, actor=OFFICER)
    case.close(outcome="duplicate", duplicate_of="case-0", now=T1, actor=OFFICER)
    assert (case.outcome, case.duplicate_of) == ("duplicate", "case-0")


# --- split ----------------------------------------------------------------------------------


def _split_and_open_subs(rules, parent):
    parent.split(_subs(), now=T0, actor=OFFICER)
    subs = []
    for number, sub_case in enumerate(_subs()):
        sub, _ = open_sub_case(
            rules, parent, sub_case, tracking_code=f"KA-SUB{number}", now=T0, actor=OFFICER
        )
        sub.route(rules, now=T0, actor="router")
        subs.append(sub)
    return subs


def test_parent_closes_resolved_verified_when_all_sub_cases_verified(rules, open_case):
    parent = open_case(route=False)
    road, lighting = _split_and_open_subs(rules, parent)
    assert (road.parent_id, road.agency.id) == ("case-1", "pupr-3604")
    assert lighting.agency.id == "dishub-3604"
    assert road.resolve_by != lighting.resolve_by  # each sub-case keeps its own deadlines

    for sub in (road, lighting):
        sub.resolve(rules, resolution="selesai", now=T1, actor=LIAISON)
        sub.confirm_resolution(now=T1, actor=OFFICER)
    parent.conclude_split([road, lighting], now=T1, actor="worker")

    assert (parent.status, parent.outcome) == ("closed", "resolved_verified")


def test_parent_stays_split_when_a_sub_case_is_still_open(rules, open_case):
    parent = open_case(route=False)
    road, lighting = _split_and_open_subs(rules, parent)
    road.resolve(rules, resolution="selesai", now=T1, actor=LIAISON)
    road.confirm_resolution(now=T1, actor=OFFICER)

    assert split_outcome([road, lighting]) is None
    with pytest.raises(InvalidCommandError):
        parent.conclude_split([road, lighting], now=T1, actor="worker")
    assert parent.status == "split"


def test_parent_ends_no_further_action_when_a_sub_case_ends_otherwise(rules, open_case):
    parent = open_case(route=False)
    road, lighting = _split_and_open_subs(rules, parent)
    road.resolve(rules, resolution="selesai", now=T1, actor=LIAISON)
    road.confirm_resolution(now=T1, actor=OFFICER)
    lighting.close(outcome="no_further_action", reason="lampu milik swasta", now=T1, actor="x")

    assert split_outcome([road, lighting])[0] == "no_further_action"


# --- replay ---------------------------------------------------------------------------------


def test_replayed_case_equals_live_case_when_folding_serialised_events(rules, open_case):
    case = open_case("street_lighting")
    now = case.acknowledge_by + timedelta(minutes=5)
    case.escalate_overdue(rules, now=now)
    case.decline(rules, reason="aset Perkim", now=now, actor=LIAISON)
    case.acknowledge(now=now, actor="liaison:perkim")
    case.note_progress("internal", public=False, now=now, actor="liaison:perkim")
    case.amend(rules, public_summary="PJU mati 3 titik", now=now, actor=OFFICER)
    case.resolve(rules, resolution="dipasang", evidence_ref="doc-9", now=now, actor="x")
    case.dispute_resolution(rules, by="officer", reason="baru 2 titik", now=now, actor=OFFICER)
    case.resolve(rules, resolution="3 titik dipasang", now=now, actor="x")
    case.confirm_resolution(photo_ref="photo-2", now=now, actor=OFFICER)

    wire = [(event_type(e), json.loads(json.dumps(to_payload(e)))) for e in case.history]
    replayed = Case.from_events(from_payload(name, payload) for name, payload in wire)

    assert replayed == case
    assert replayed.version == len(case.history) == 14
