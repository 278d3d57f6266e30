"""A case's life through the API, opened and changed by real intake events on Kafka."""

import json

import pytest
from sqlalchemy import select

from shared.events.topics import CASE_EVENTS
from tests.integration.followup.conftest import aspiration_recorded, intake_event
from tests.support import read_topic, wait_for

pytestmark = pytest.mark.integration

DISHUB = "dishub-3604"


def _case_when_open(followup, case_id, status="routed"):
    def ready():
        response = followup.client.get(f"/api/v1/cases/{case_id}", headers=followup.supervisor)
        return response.status_code == 200 and response.json["status"] == status and response

    return wait_for(ready, what=f"{case_id} {status}").json


def test_case_closes_resolved_verified_when_walked_from_kafka_intake_event_to_verification(
    followup, pipeline
):
    recorded = aspiration_recorded("street_lighting")
    pipeline(recorded)
    case_id = f"case-{recorded.payload['aspiration_id']}"
    case = _case_when_open(followup, case_id)
    assert (case["agency"]["id"], case["rule_version"]) == (DISHUB, "2026-11-25.1")
    # 5 working days: 12 Feb 09:00 WIB, written in UTC
    assert case["deadlines"]["acknowledge_by"] == "2026-02-12T02:00:00+00:00"

    liaison = followup.liaison(DISHUB)
    followup.clock.advance(hours=2)
    assert followup.post(case_id, "acknowledge", liaison).json["status"] == "acknowledged"
    note = followup.post(case_id, "progress", liaison, text="Tim survei dijadwalkan", public=True)
    assert note.json["status"] == "in_progress"
    resolved = followup.post(case_id, "resolve", liaison, resolution="Lampu PJU diganti")
    assert resolved.json["status"] == "resolved_pending_verification"
    assert "confirm_resolution" in resolved.json["allowed_actions"]
    confirmed = followup.post(case_id, "confirm", followup.officer(), photo_ref="foto-pju-1.jpg")

    assert (confirmed.json["status"], confirmed.json["outcome"]) == ("closed", "resolved_verified")
    timeline = confirmed.json["timeline"]
    assert [e["event"] for e in timeline] == [
        "CaseOpened",
        "CaseRouted",
        "CaseAcknowledged",
        "ProgressNoted",
        "CaseResolved",
        "VerificationConfirmed",
        "CaseClosed",
    ]
    assert timeline[2]["actor"].startswith("liaison:") and timeline[2]["at"]
    published = read_topic(
        followup.settings.kafka_bootstrap_servers,
        followup.settings.topic(CASE_EVENTS),
        expected=7,
    )
    types = [json.loads(r.value)["event_type"] for r in published]
    assert types == [e["event"] for e in timeline]
    assert {r.key.decode() for r in published} == {case_id}


def test_case_amended_then_withdrawn_when_intake_publishes_amendment_and_withdrawal(
    followup, pipeline
):
    recorded = aspiration_recorded("other", summary="Sampah menumpuk di pasar")
    aspiration_id = recorded.payload["aspiration_id"]
    case_id = f"case-{aspiration_id}"
    pipeline(recorded)
    _case_when_open(followup, case_id)

    amended = {
        "aspiration_id": aspiration_id,
        "meeting_id": recorded.payload["meeting_id"],
        "changes": {"category": "road_damage", "public_summary": "Jalan berlubang di pasar"},
        "previous": {"category": "other", "public_summary": "Sampah menumpuk di pasar"},
        "reason": "salah kategori",
        "amended_by": "bhabin-cikande",
    }
    pipeline(intake_event("AspirationAmended", 1, aspiration_id, amended, seq=2))
    wait_for(
        lambda: followup.client.get(f"/api/v1/cases/{case_id}").json["category"] == "road_damage",
        what="amendment",
    )
    case = followup.client.get(f"/api/v1/cases/{case_id}", headers=followup.supervisor).json
    assert case["agency"]["id"] == "pupr-3604"  # re-routed by the new category
    assert case["public_summary"] == "Jalan berlubang di pasar"

    withdrawn = {
        "aspiration_id": aspiration_id,
        "meeting_id": recorded.payload["meeting_id"],
        "reason": "recorded_by_mistake",
        "withdrawn_by": "bhabin-cikande",
    }
    pipeline(intake_event("AspirationWithdrawn", 1, aspiration_id, withdrawn, seq=3))
    case = _case_when_open(followup, case_id, status="closed")
    assert case["outcome"] == "withdrawn"
    assert case["timeline"][-2]["event"] == "CaseWithdrawn"


def test_one_case_when_the_same_aspiration_is_delivered_twice(followup):
    recorded = aspiration_recorded()
    case_id = followup.record(recorded)
    followup.record(recorded)  # same aspiration, e.g. a re-sent upload under a new event id
    case = followup.client.get(f"/api/v1/cases/{case_id}", headers=followup.supervisor).json
    assert case["version"] == 2


def test_case_rerouted_to_next_candidate_when_money_politics_report_declined(followup):
    case = followup.open("money_politics", description="Tim sukses X membagikan amplop")
    assert case["agency"]["id"] == "panwascam-360415"

    declined = followup.post(
        case["id"], "decline", followup.liaison("panwascam-360415"), reason="Bukan wewenang kami"
    )

    assert declined.status_code == 200, declined.json
    assert declined.json == {"id": case["id"], "status": "routed", "version": 4}  # sensitive
    rerouted = followup.client.get(f"/api/v1/cases/{case['id']}", headers=followup.supervisor)
    assert rerouted.json["agency"]["id"] == "gakkumdu-3604"
    assert rerouted.json["declined_by"] == ["panwascam-360415"]
    wrong = followup.post(
        case["id"], "acknowledge", followup.liaison("panwascam-360415"), expected_version=4
    )
    assert wrong.status_code == 403


def test_parent_closes_when_every_sub_case_is_resolved_and_verified(followup):
    case = followup.open("road_damage", summary="Jalan rusak dan PJU mati")
    split = followup.client.post(
        f"/api/v1/cases/{case['id']}/split",
        json={
            "sub_cases": [
                {"category": "road_damage", "public_summary": "Jalan rusak"},
                {"category": "street_lighting", "public_summary": "PJU mati"},
            ]
        },
        headers=followup.officer(),
    )
    assert split.status_code == 201, split.json
    agencies = {s["agency"] for s in split.json["sub_cases"]}
    assert agencies == {
        "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Serang",
        "Dinas Perhubungan Kabupaten Serang",
    }

    for sub, agency in zip(split.json["sub_cases"], ["pupr-3604", DISHUB], strict=True):
        liaison = followup.liaison(agency)
        assert followup.post(sub["id"], "resolve", liaison, resolution="Selesai").status_code == 200
        assert followup.post(sub["id"], "confirm", followup.officer()).status_code == 200

    parent = followup.client.get(f"/api/v1/cases/{case['id']}", headers=followup.supervisor).json
    assert (parent["status"], parent["outcome"]) == ("closed", "resolved_verified")
    with followup.fu.engine.connect() as conn:
        from followup_service.tables import cases

        rows = conn.execute(select(cases.c.parent_id).where(cases.c.parent_id == case["id"]))
        assert len(rows.all()) == 2
