import json
from datetime import datetime, timedelta

from followup_service.domain.deadlines import JAKARTA
from followup_service.domain.visibility import is_publicly_listed, public_view
from followup_service.need_to_know import access
from shared.auth import Principal

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


def _who(role, **scope):
    return Principal("x", role, "t", **scope)


def test_sensitive_case_restricted_to_its_unit_and_area_when_tawuran_tip(open_case):
    """Details by shared.need_to_know (issue 27): no longer every supervisor."""
    case = open_case("tawuran")

    assert case.sensitive and not is_publicly_listed(case)
    assert access(case, _who("officer", unit="polsek-cikande")).in_scope
    assert access(case, _who("supervisor", area="36.04")).in_scope
    assert not access(case, _who("supervisor", unit="polsek-menteng")).in_scope
    assert not access(case, _who("officer", unit="polsek-kibin")).in_scope
    assert not access(case, _who("liaison", agency="dishub-3604")).in_scope
    assert not access(case, _who("admin")).in_scope
    assert "Otong" not in json.dumps(public_view(case))


def test_the_assigned_liaison_sees_details_and_other_units_officers_do_not(open_case):
    """Another unit's officer gets the public view of a case that is not sensitive, as
    anyone else (issue 27: officers no longer see every unit's cases)."""
    case = open_case("street_lighting")

    assert is_publicly_listed(case)
    assert not access(case, _who("officer", unit="polsek-kibin")).in_scope
    assert access(case, _who("liaison", agency="dishub-3604")).in_scope
    assert not access(case, _who("liaison", agency="pupr-3604")).in_scope


# --- status-only cases (sensitive categories, confidential aspirations) -------------------

TIP = "Rencana tawuran kelompok Gang Kenari Sabtu malam di jembatan"


def _tip(rules, open_case, category="tawuran"):
    case = open_case(category)
    case.acknowledge(now=T0, actor="liaison:polsek-cikande")
    case.note_progress("Patroli di jembatan Gang Kenari", public=True, now=T0, actor="liaison:x")
    case.resolve(rules, resolution="Kelompok Gang Kenari dibubarkan", now=T0, actor="liaison:x")
    case.public_summary = ""  # as the consumer opens a tip without a public summary
    return case


def test_status_only_view_names_no_place_and_no_unit_when_tawuran_tip(rules, open_case):
    case = _tip(rules, open_case)
    view = public_view(case)
    text = json.dumps(view)

    assert view["status_only"] is True
    assert (view["kelurahan"], view["kecamatan"]) == (None, None)
    assert view["agency"] == "Kepolisian"
    for word in ("Cikande", "Polsek", "Kenari", "jembatan", "Otong"):
        assert word not in text, word
    assert view["status"] == "resolved_pending_verification"
    assert [e["event"] for e in view["timeline"]] == [
        "CaseOpened",
        "CaseRouted",
        "CaseAcknowledged",
        "ProgressNoted",
        "CaseResolved",
    ]
    assert view["timeline"][1]["id"] == "Diteruskan ke Kepolisian"
    assert view["timeline"][1]["en"] == "Forwarded to the police"


def test_status_only_view_says_instansi_terkait_when_agency_is_not_police(rules, open_case):
    case = open_case("money_politics")
    case.public_summary = ""
    view = public_view(case)

    assert view["agency"] == "instansi terkait"
    assert view["timeline"][1]["en"] == "Forwarded to the responsible agency"
    assert "Panwaslu" not in json.dumps(view) and "Cikande" not in json.dumps(view)


def test_confidential_case_is_status_only_when_category_is_not_sensitive(rules):
    from followup_service.domain.case import Case
    from followup_service.domain.routing import Area

    case = Case()
    case.open(
        rules,
        case_id="case-c",
        aspiration_id="asp-c",
        tracking_code="KA-7Q2N",
        category="street_lighting",
        area=Area(region="kab-serang", kecamatan="Cikande", kelurahan="Cikande"),
        public_summary="",
        sensitive=True,  # confidential
        now=T0,
        actor="officer:x",
    )
    case.route(rules, now=T0, actor="router")
    view = public_view(case, ("Penerangan jalan umum", "Street lighting"))

    assert view["kelurahan"] is None and view["agency"] == "instansi terkait"
    assert not is_publicly_listed(case)
    assert view["public_summary_label"]["en"].startswith("A residents' aspiration (category")


def test_neutral_sentence_when_officer_wrote_no_public_summary(rules, open_case):
    case = open_case("street_lighting")
    case.public_summary = ""

    view = public_view(case, ("Penerangan jalan umum", "Street lighting"))

    assert view["public_summary"] == (
        "Aspirasi warga (kategori: Penerangan jalan umum) telah dicatat dan diteruskan "
        "untuk ditindaklanjuti."
    )
    assert "Street lighting" in view["public_summary_label"]["en"]
    assert view["kelurahan"] == "Cikande"  # a public case keeps its place


def test_listing_rule_as_data_matches_the_case_rule(open_case):
    from followup_service.domain.visibility import LISTING, is_listed

    assert LISTING.sensitive is False and "new" in LISTING.unlisted_statuses
    assert is_listed(False, "routed") and not is_listed(True, "routed")
    assert not is_listed(False, "new")


def _stored_v1(event_type: str, payload: dict):
    from shared.events.envelope import EventEnvelope

    base = {"case_id": "case-1", "occurred_at": T0.isoformat(), "actor": "system:x"}
    return EventEnvelope(
        event_id="e-1",
        event_type=event_type,
        schema_version=1,
        stream_id="case-1",
        stream_version=1,
        occurred_at=T0,
        recorded_at=T0,
        payload={**base, **payload},
    )


OPENED_V1 = {
    "aspiration_id": "asp-1",
    "tracking_code": "KA-7Q2M",
    "category": "tawuran",
    "region": "36.04.15.2001",
    "kelurahan": "Cikande",
    "public_summary": TIP,  # the consumer copied the internal summary in, before v2
}


def test_upcasters_clear_public_summary_of_sensitive_v1_events_only():
    from shared.events.registry import REGISTRY

    sensitive = REGISTRY.upcast(_stored_v1("CaseOpened", {**OPENED_V1, "sensitive": True}))
    public = REGISTRY.upcast(_stored_v1("CaseOpened", {**OPENED_V1, "sensitive": False}))
    amended = REGISTRY.upcast(_stored_v1("CaseAmended", {"public_summary": TIP, "sensitive": True}))

    assert sensitive.schema_version == 2 and sensitive.payload["public_summary"] == ""
    assert public.payload["public_summary"] == TIP  # not told apart from an officer's text
    assert amended.schema_version == 2 and amended.payload["public_summary"] == ""
