from datetime import datetime, timedelta

import pytest

import shared.events.case  # noqa: F401 - registers the case event schemas
from followup_service.consumers import area_of, region_slug
from followup_service.domain.deadlines import JAKARTA, next_deadline
from followup_service.domain.events import (
    EVENT_TYPES,
    SubCase,
    event_type,
    from_payload,
    to_payload,
)
from followup_service.domain.routing import Area
from shared.events import REGISTRY

T0 = datetime(2026, 2, 5, 9, 0, tzinfo=JAKARTA)
T1 = T0 + timedelta(hours=3)


def _every_event(rules, open_case) -> list:
    case = open_case("street_lighting")
    events = list(case.history)
    events += case.acknowledge(now=T1, actor="liaison:a")
    events += case.note_progress("x", public=False, now=T1, actor="liaison:a")
    proof, sha = "0f8fad5b-d9cb-469f-a165-70867728950e", "ab" * 32
    events += case.attach_photo(
        photo_id=proof, sha256=sha, public=True, kind="after", agency_id="a", now=T1, actor="l"
    )
    events += case.note_progress("y", public=True, evidence_ref=f"photo:{proof}", now=T1, actor="l")
    events += case.remove_photo(proof, reason="permintaan penghapusan", now=T1, actor="l")
    events += case.escalate_overdue(rules, now=T0 + timedelta(days=30))
    events += case.resolve(rules, resolution="done", evidence_ref="e", now=T1, actor="l")
    events += case.dispute_resolution(rules, by="community", reason="no", now=T1, actor="p")
    events += case.decline(rules, reason="not ours", now=T1, actor="l")
    events += case.amend(rules, category="road_damage", description="d", now=T1, actor="s")
    events += case.relocate(
        rules, Area("32.75.04.1001", "Bekasi Selatan", "Pekayonjaya"), now=T1, actor="s"
    )
    events += case.close(outcome="duplicate", duplicate_of="case-2", now=T1, actor="s")
    events += case.reopen(rules, reason="again", now=T1, actor="o")
    events += case.withdraw(reason="mistake", now=T1, actor="s")
    other = open_case("road_damage", route=False, case_id="case-3")
    events += other.split(
        [SubCase("a", "other", "A"), SubCase("b", "other", "B")], now=T1, actor="o"
    )
    routed = open_case(case_id="case-4")
    events += routed.resolve(rules, resolution="ok", now=T1, actor="l")
    events += routed.confirm_resolution(photo_ref=None, now=T1, actor="o")
    events += routed.back(
        backing_id="b-1", count=3, total_count=15, groups=["APOC"], now=T1, actor="system"
    )
    tip = open_case("tawuran", case_id="case-5")
    events += tip.escalate_overdue(rules, now=T0 + timedelta(days=10))
    events += tip.escalate_overdue(rules, now=T0 + timedelta(days=20))  # top: DeadlineMissed
    return events


def test_every_case_event_type_validates_and_round_trips_when_sent_through_the_registry(
    rules, open_case
):
    events = _every_event(rules, open_case)
    assert {event_type(e) for e in events} == set(EVENT_TYPES)
    for event in events:
        name = event_type(event)
        wire = REGISTRY.validate(name, REGISTRY.latest_version(name), to_payload(event))
        assert from_payload(name, wire) == event


def test_registry_refuses_case_event_when_a_field_is_unknown_or_missing(rules, open_case):
    opened = to_payload(open_case().history[0])
    with pytest.raises(ValueError):
        REGISTRY.validate("CaseOpened", 1, {**opened, "reporter_phone": "0812"})
    with pytest.raises(ValueError):
        REGISTRY.validate("CaseOpened", 1, {k: v for k, v in opened.items() if k != "category"})


@pytest.mark.parametrize(
    ("kabupaten", "slug"),
    [
        ("Kab. Serang", "kab-serang"),
        ("Kabupaten Serang", "kab-serang"),
        ("Kota Serang", "kota-serang"),
        (None, ""),
    ],
)
def test_region_slug_matches_rules_when_kabupaten_is_written_in_different_ways(kabupaten, slug):
    assert region_slug(kabupaten) == slug


def test_area_falls_back_to_top_level_kelurahan_when_event_is_v1():
    assert area_of({"kelurahan": "Cikande"}).kelurahan == "Cikande"
    v2 = area_of(
        {
            "kelurahan": "x",
            "location": {
                "kabupaten": "Kab. Serang",
                "kecamatan": "Cikande",
                "kelurahan": "Cikande",
            },
        }
    )
    assert (v2.region, v2.kecamatan) == ("36.04.15.2001", "Cikande")


@pytest.mark.parametrize(
    ("kabupaten", "kecamatan", "kelurahan", "region"),
    [
        ("Kota Bekasi", "Bekasi Selatan", "Pekayon Jaya", "32.75.04.1001"),
        ("Kota Jakarta Barat", "Tambora", "Kalianyar", "31.73.04.1002"),
        ("Kab. Indramayu", "Krangkeng", "Krangkeng", "32.12.09.2010"),
        ("Serang", "Cikande", "", "36.04.15"),  # the kecamatan says which Serang
        ("Kota Lain", "Tengah", "Suka Maju", "kota-lain/tengah"),  # not in the directory
    ],
)
def test_area_carries_the_region_code_the_names_determine(kabupaten, kecamatan, kelurahan, region):
    location = {"kabupaten": kabupaten, "kecamatan": kecamatan, "kelurahan": kelurahan}
    assert area_of({"kelurahan": kelurahan, "location": location}).region == region


def test_next_deadline_moves_on_when_breach_is_handled(rules, open_case):
    case = open_case()
    assert next_deadline(case) == case.acknowledge_by
    case.escalate_overdue(rules, now=case.acknowledge_by)
    assert next_deadline(case) == case.acknowledge_by > T0 + timedelta(days=5)
    case.resolve(rules, resolution="ok", now=T1, actor="l")
    assert next_deadline(case) == case.verify_by
