"""Issue 11 item 2 over HTTP: places are recorded with their region code. A code chosen
from the suggestions is accepted, an unknown code is refused (422, field message), names
the directory cannot match are recorded unverified and show up for a supervisor, and an
amendment with the right code fixes the case, which then goes to that region's agency.

Both services run in this process on the real PostgreSQL, Kafka and Redis (the intake
relay and the follow-up consumer in threads).
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import paired_apps
from tests.e2e.test_seed_stories import Stack
from tests.support import pipeline_running, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture(scope="module")
def stack(create_database, stack_env, migrated_template):
    intake_app, followup_app = paired_apps(create_database, stack_env, migrated_template)
    with pipeline_running(intake_app, followup_app):
        yield Stack(intake_app, followup_app, clock=None)


def _officer(stack, unit="polsek-cikande") -> dict:
    return {"Authorization": f"Bearer {stack.intake_tokens.issue('budi', 'officer', unit=unit)}"}


def _record(stack, location: dict, headers=None, category="street_lighting"):
    return stack.intake.post(
        "/api/v1/aspirations",
        json={
            "id": str(uuid.uuid4()),
            "category": category,
            "summary": "PJU mati di jalan desa",
            "public_summary": "Lampu jalan mati",
            "location": location,
        },
        headers=headers or _officer(stack),
    )


def _aspiration(stack, aspiration_id: str) -> dict:
    answer = stack.intake.get(f"/api/v1/aspirations/{aspiration_id}", headers=_officer(stack))
    assert answer.status_code == 200, answer.json
    return answer.json


def test_a_code_chosen_from_the_suggestions_is_recorded_and_routes_by_it(stack):
    answer = _record(stack, {"region_code": "36.04.15.2001", "rw": "05"})
    assert answer.status_code == 201, answer.json
    recorded = _aspiration(stack, answer.json["id"])
    assert (recorded["region_code"], recorded["location_verified"]) == ("36.04.15.2001", True)
    assert recorded["location"]["kelurahan"] == "Cikande"  # the official name filled in
    assert recorded["location"]["rw"] == "05"  # free text kept
    case = stack.case(answer.json["id"])
    assert (case["region"], case["location_verified"]) == ("36.04.15.2001", True)
    assert case["agency"]["id"] == "dishub-3604"


def test_typed_names_are_matched_to_the_kelurahan_code_at_record_time(stack):
    answer = _record(
        stack, {"kabupaten": "KAB. SERANG", "kecamatan": "cikande", "kelurahan": "Cikande"}
    )
    assert answer.status_code == 201, answer.json
    recorded = _aspiration(stack, answer.json["id"])
    assert (recorded["region_code"], recorded["location_verified"]) == ("36.04.15.2001", True)
    assert recorded["kelurahan"] == "Cikande"


@pytest.mark.parametrize("code", ["36.04.99.9999", "99", "36.04.15.2001.1", "abc"])
def test_an_unknown_or_malformed_code_is_refused_with_a_field_message(stack, code):
    answer = _record(stack, {"region_code": code, "kelurahan": "Cikande"})
    assert answer.status_code == 422
    assert list(answer.json["fields"]["location"]) == ["region_code"], answer.json


def test_an_unknown_code_in_a_batch_names_the_item(stack):
    token = stack.intake_tokens.issue("budi", "supervisor", area="national")
    headers = {"Authorization": f"Bearer {token}"}
    meeting_id = str(uuid.uuid4())
    meeting = stack.intake.post(
        "/api/v1/meetings",
        json={
            "id": meeting_id,
            "kind": "ngopi_kamtibmas",
            "held_at": "2026-02-04T19:30:00+07:00",
            "unit": "polsek-cikande",
            "place": {"region_code": "36.04.15", "kelurahan": "Cikande"},
            "host_officer": "Iptu Budi",
        },
        headers=headers,
    )
    assert meeting.status_code == 201, meeting.json
    shown = stack.intake.get(f"/api/v1/meetings/{meeting_id}", headers=headers).json
    assert shown["place"]["region_code"] == "36.04.15.2001"  # the kelurahan under the kecamatan
    batch = stack.intake.post(
        f"/api/v1/meetings/{meeting_id}/aspirations",
        json={
            "aspirations": [
                {"category": "other", "summary": "Baik baik saja"},
                {
                    "category": "other",
                    "summary": "Salah kode",
                    "location": {"region_code": "36.04.99"},
                },
            ]
        },
        headers=headers,
    )
    assert batch.status_code == 422
    assert "region_code" in batch.json["fields"]["aspirations"]["1"]["location"], batch.json


def test_unmatched_names_are_recorded_unverified_listed_and_fixed_by_an_amendment(stack):
    typed = {"kabupaten": "Kab. Serang", "kecamatan": "Cikandé", "kelurahan": "Kampung Entah"}
    answer = _record(stack, typed, category="public_order")
    assert answer.status_code == 201, answer.json  # never refused
    aspiration_id = answer.json["id"]
    recorded = _aspiration(stack, aspiration_id)
    assert recorded["location_verified"] is False
    assert recorded["region_code"] == "36.04.15"  # as deep as the names go
    assert recorded["location"]["kelurahan"] == "Kampung Entah"  # kept as typed
    unverified = stack.intake.get(
        "/api/v1/aspirations",
        query_string={"location_verified": "false", "per_page": 100},
        headers=_officer(stack),
    ).json
    assert aspiration_id in [item["id"] for item in unverified["items"]]

    case = stack.case(aspiration_id)
    assert case["location_verified"] is False
    supervisor = stack.auth("supervisor")
    listed = stack.followup.get(
        "/api/v1/cases", query_string={"location_verified": "false"}, headers=supervisor
    ).json
    assert case["id"] in [item["id"] for item in listed["items"]]
    verified = stack.followup.get(
        "/api/v1/cases", query_string={"location_verified": "true"}, headers=supervisor
    ).json
    assert case["id"] not in [item["id"] for item in verified["items"]]

    # The supervisor checks the place and amends the location with the kelurahan's code.
    headquarters = stack.intake_tokens.issue("sri", "supervisor", area="national")
    fixed = stack.intake.post(
        f"/api/v1/aspirations/{aspiration_id}/amendments",
        json={
            "changes": {"location": {"region_code": "36.04.15.2005", "rw": "02"}},
            "reason": "Kelurahan dicek dengan Bhabinkamtibmas",
        },
        headers={"Authorization": f"Bearer {headquarters}"},
    )
    assert fixed.status_code == 201, fixed.json
    assert _aspiration(stack, aspiration_id)["location_verified"] is True

    def relocated():
        answer = stack.followup.get(f"/api/v1/cases/{case['id']}", headers=supervisor).json
        return answer["location_verified"] and answer

    moved = wait_for(relocated, timeout=60, what="case relocated")
    assert moved["region"] == "36.04.15.2005"
    assert moved["kelurahan"] == stack.fu.rules.locator.by_code("36.04.15.2005").village
    assert "3604" in moved["agency"]["id"], moved["agency"]  # a Kabupaten Serang agency
    listed = stack.followup.get(
        "/api/v1/cases", query_string={"location_verified": "false"}, headers=supervisor
    ).json
    assert case["id"] not in [item["id"] for item in listed["items"]]
    assert "CaseRelocated" in [entry["event"] for entry in moved["timeline"]]


def test_the_unit_area_lists_every_kecamatan_and_kelurahan_of_its_kabupaten(stack):
    answer = stack.intake.get("/api/v1/regions/area", headers=_officer(stack))
    assert answer.status_code == 200, answer.json
    area = answer.json
    assert area["regency"] == {"code": "36.04", "name": "Kabupaten Serang", "parent_code": "36"}
    assert {"code": "36.04.15", "name": "Cikande", "parent_code": "36.04"} in area["districts"]
    directory = stack.fu.rules.locator.directory
    assert len(area["districts"]) == len(directory.children("36.04"))
    assert len(area["villages"]) == sum(
        len(directory.children(d.code)) for d in directory.children("36.04")
    )
    other = stack.intake.get(
        "/api/v1/regions/area",
        query_string={"unit": "polres-metro-bekasi-kota"},
        headers=_officer(stack),
    ).json
    assert other["regency"]["name"] == "Kota Bekasi"


def test_a_code_above_the_kelurahan_needs_the_kelurahan_named(stack):
    answer = _record(stack, {"region_code": "36.04.15"})
    assert answer.status_code == 422
    assert list(answer.json["fields"]["location"]) == ["kelurahan"], answer.json
    named = _record(stack, {"region_code": "36.04.15", "kelurahan": "Kamurang"})
    assert named.status_code == 201, named.json
    assert _aspiration(stack, named.json["id"])["region_code"] == "36.04.15.2010"
