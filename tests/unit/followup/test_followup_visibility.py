import json
from datetime import datetime, timedelta

from followup_service.domain.deadlines import JAKARTA
from followup_service.domain.visibility import (
    Viewer,
    is_publicly_listed,
    may_see_details,
    public_view,
)

T0 = datetime(2026, 2, 5, 9, 0, tzinfo=JAKARTA)  # same opening time as conftest.open_case


LIAISON = "liaison:dishub-3604"


def test_public_view_hides_reporter_description_and_notes_when_case_has_them(rules, open_case):
    case = open_case("street_lighting")
    case.acknowledge(now=T0, actor=LIAISON)
    case.note_progress("Kontak Pak Otong untuk lokasi", public=False, now=T0, actor=LIAISON)
    case.note_progress("Survei dijadwalkan Senin", public=True, now=T0, actor=LIAISON)

    text = json.dumps(public_view(case))

    assert "Otong" not in text and "0812" not in text
    assert "Survei dijadwalkan Senin" in text
    assert public_view(case)["agency"] == "Dinas Perhubungan Kabupaten Serang"


def test_timeline_says_overdue_and_escalated_when_deadline_missed(rules, open_case):
    case = open_case("street_lighting")
    case.escalate_overdue(rules, now=case.acknowledge_by + timedelta(minutes=1))

    labels = [entry["id"] for entry in public_view(case)["timeline"]]

    assert labels == [
        "Aspirasi dicatat",
        "Diteruskan ke Dinas Perhubungan Kabupaten Serang",
        "Terlambat (tanggapan): dieskalasi ke Kepala Dinas Perhubungan Kabupaten Serang",
    ]
    assert (
        public_view(case)["timeline"][1]["en"] == "Forwarded to Dinas Perhubungan Kabupaten Serang"
    )


def test_closed_view_names_honest_outcome_when_case_withdrawn(open_case):
    case = open_case()
    case.withdraw(reason="diperbaiki swadaya", now=T0, actor="officer")
    view = public_view(case)
    assert (view["outcome"], view["status_label"]["en"]) == ("withdrawn", "Withdrawn")


def test_sensitive_case_restricted_to_assigned_unit_and_supervisors_when_tawuran_tip(open_case):
    case = open_case("tawuran")

    assert case.sensitive and not is_publicly_listed(case)
    assert may_see_details(case, Viewer("officer", "polsek-cikande"))
    assert may_see_details(case, Viewer("supervisor"))
    assert not may_see_details(case, Viewer("officer", "polsek-kibin"))
    assert not may_see_details(case, Viewer("liaison", "dishub-3604"))
    assert not may_see_details(case, Viewer("admin"))
    assert "Otong" not in json.dumps(public_view(case))


def test_officers_and_assigned_liaison_see_details_when_case_not_sensitive(open_case):
    case = open_case("street_lighting")

    assert is_publicly_listed(case)
    assert may_see_details(case, Viewer("officer", "polsek-kibin"))
    assert may_see_details(case, Viewer("liaison", "dishub-3604"))
    assert not may_see_details(case, Viewer("liaison", "pupr-3604"))
