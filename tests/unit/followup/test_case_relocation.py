"""A case whose location was not verified is fixed by amending the aspiration's location:
the case records the new area and goes to that region's agencies (issue 11 item 2)."""

from datetime import datetime, timedelta

from followup_service.consumers import area_of
from followup_service.domain.case import Case
from followup_service.domain.deadlines import JAKARTA
from followup_service.domain.events import CaseRelocated, CaseRouted
from followup_service.domain.routing import Area

T0 = datetime(2026, 2, 5, 9, 0, tzinfo=JAKARTA)
UNMATCHED = Area(region="kab-antah/berantah", kecamatan="Berantah", kelurahan="Entah")


def _opened(rules, area: Area) -> Case:
    case = Case()
    case.open(
        rules,
        case_id="case-9",
        aspiration_id="asp-9",
        tracking_code="KA-9",
        category="street_lighting",
        area=area,
        public_summary="PJU mati",
        now=T0,
        actor="system",
    )
    case.route(rules, now=T0, actor="system")
    return case


def test_an_unmatched_place_is_routed_for_verification_and_not_verified(rules):
    case = _opened(rules, UNMATCHED)
    assert case.agency.id == "verifikasi-lokasi"
    assert case.area.verified is False


def test_amending_the_location_relocates_and_reroutes_to_the_regions_agency(rules):
    case = _opened(rules, UNMATCHED)
    fixed = area_of(
        {
            "location": {
                "region_code": "36.04.15.2001",
                "kecamatan": "Cikande",
                "kelurahan": "Cikande",
            }
        }
    )
    events = case.relocate(rules, fixed, now=T0 + timedelta(hours=2), actor="system")
    assert [type(e) for e in events] == [CaseRelocated, CaseRouted]
    assert events[1].reason == "location amended"
    assert case.agency.id == "dishub-3604"  # Dinas Perhubungan Kabupaten Serang
    assert (case.region, case.area.verified) == ("36.04.15.2001", True)
    replayed = Case.from_events(case.history)
    assert (replayed.region, replayed.agency) == (case.region, case.agency)


def test_amending_to_the_same_area_records_nothing(rules):
    case = _opened(rules, Area("36.04.15.2001", "Cikande", "Cikande"))
    assert case.relocate(rules, case.area, now=T0, actor="system") == []


def test_a_closed_case_records_the_verified_location_without_rerouting(rules):
    case = _opened(rules, UNMATCHED)
    case.close(outcome="no_further_action", reason="selesai", now=T0, actor="system")
    fixed = Area("36.04.15.2001", "Cikande", "Cikande")
    events = case.relocate(rules, fixed, now=T0, actor="system")
    assert [type(e) for e in events] == [CaseRelocated]
    assert (case.status, case.agency.id, case.area.verified) == (
        "closed",
        "verifikasi-lokasi",
        True,
    )
