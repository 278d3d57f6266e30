"""Public tracking, the restricted lane and community disputes."""

import json

import pytest
from sqlalchemy import select

from followup_service.tables import cases
from followup_service.worker import sweep
from tests.integration.followup.conftest import aspiration_recorded, intake_event
from tests.support import wait_for

pytestmark = pytest.mark.integration

DESCRIPTION = "Dilaporkan Pak Otong (HP 0812-3456-7890): lampu mati, rawan begal."
SECRETS = ("Otong", "0812", "rawan begal", "catatan internal")


def test_tracking_never_leaks_description_or_internal_notes_and_is_fresh_after_update(followup):
    case = followup.open("street_lighting", description=DESCRIPTION)
    code = case["tracking_code"]
    first = followup.client.get(f"/api/v1/track/{code}")
    assert first.json["status"] == "routed"
    assert followup.fu.redis.exists(followup.settings.redis_key("track", code))

    liaison = followup.liaison("dishub-3604")
    followup.post(case["id"], "acknowledge", liaison)
    followup.post(case["id"], "progress", liaison, text="catatan internal: vendor telat")
    followup.post(case["id"], "progress", liaison, text="Tiang baru dipesan", public=True)
    tracked = followup.client.get(f"/api/v1/track/{code.lower().replace('-', '')}")

    assert tracked.status_code == 200
    assert tracked.json["status"] == "in_progress"  # not the cached "routed"
    assert tracked.json["agency"] == "Dinas Perhubungan Kabupaten Serang"
    assert tracked.json["category_label"]["en"] == "Street lighting"
    assert [e["event"] for e in tracked.json["timeline"]][-1] == "ProgressNoted"
    assert "Tiang baru dipesan" in tracked.json["timeline"][-1]["en"]
    body = json.dumps(tracked.json)
    assert not [s for s in SECRETS if s in body]
    anonymous = json.dumps(followup.client.get(f"/api/v1/cases/{case['id']}").json)
    assert not [s for s in SECRETS if s in anonymous]


def test_cache_refreshed_when_consumer_changes_the_case_outside_the_api(followup):
    case = followup.open("other", summary="Sampah menumpuk")
    code = case["tracking_code"]
    assert followup.client.get(f"/api/v1/track/{code}").json["status"] == "routed"
    aspiration_id = case["aspiration_id"]
    withdrawn = {
        "aspiration_id": aspiration_id,
        "meeting_id": None,
        "reason": "recorded_by_mistake",
        "withdrawn_by": "bhabin",
    }
    followup.record(intake_event("AspirationWithdrawn", 1, aspiration_id, withdrawn, seq=2))

    assert followup.client.get(f"/api/v1/track/{code}").json["outcome"] == "withdrawn"


def _read_model_view(followup, code: str) -> dict:
    with followup.fu.engine.connect() as conn:
        return conn.execute(
            select(cases.c.public_view).where(cases.c.tracking_code == code)
        ).scalar_one()


def test_cache_refreshed_when_kafka_consumer_changes_the_case(followup, pipeline):
    recorded = aspiration_recorded("other", summary="Sampah menumpuk")
    aspiration_id, code = recorded.payload["aspiration_id"], recorded.payload["tracking_code"]
    pipeline(recorded)
    first = wait_for(
        lambda: followup.client.get(f"/api/v1/track/{code}").json.get("status"), what="case"
    )
    assert first == "routed"
    assert followup.fu.tracking.get(code)["version"] == _read_model_view(followup, code)["version"]

    withdrawn = {
        "aspiration_id": aspiration_id,
        "meeting_id": None,
        "reason": "recorded_by_mistake",
        "withdrawn_by": "bhabin",
    }
    pipeline(intake_event("AspirationWithdrawn", 1, aspiration_id, withdrawn, seq=2))
    # The consumer refreshes the entry after its commit; nothing else would (TTL 300 s).
    wait_for(
        lambda: followup.client.get(f"/api/v1/track/{code}").json.get("outcome") == "withdrawn",
        timeout=20,
        what="the consumer to refresh the cached view",
    )
    assert followup.client.get(f"/api/v1/track/{code}").json == _read_model_view(followup, code)


def test_cache_refreshed_when_deadline_worker_escalates_the_case(followup):
    case = followup.open("street_lighting")
    code = case["tracking_code"]
    before = followup.client.get(f"/api/v1/track/{code}").json
    followup.clock.advance(days=30)

    assert sweep(followup.fu) > 0
    tracked = followup.client.get(f"/api/v1/track/{code}").json
    assert tracked["version"] > before["version"]
    assert tracked == _read_model_view(followup, code)


def test_older_view_never_overwrites_newer_cached_one(followup):
    case = followup.open("street_lighting")
    code = case["tracking_code"]
    old = followup.client.get(f"/api/v1/track/{code}").json
    followup.post(case["id"], "acknowledge", followup.liaison("dishub-3604"))
    followup.fu.tracking.put(code, old["version"], old)  # a slow reader's late miss fill

    assert followup.client.get(f"/api/v1/track/{code}").json["status"] != old["status"]


def test_sensitive_case_absent_from_public_lists_and_details_when_tawuran_tip(followup):
    tip = followup.open("tawuran", description="Info dari Budi (0813-1111): tawuran Sabtu malam")
    ordinary = followup.open("street_lighting")

    listed = followup.client.get("/api/v1/public/cases").json["items"]
    assert [item["id"] for item in listed] == [ordinary["id"]]
    assert followup.client.get(f"/api/v1/cases/{tip['id']}").status_code == 404
    other_unit = followup.client.get(
        f"/api/v1/cases/{tip['id']}", headers=followup.officer("polsek-kibin")
    )
    assert other_unit.status_code == 404  # out of scope: not confirmed (issue 27)
    other_agency = followup.liaison("dishub-3604")
    assert (
        followup.client.get(f"/api/v1/cases/{tip['id']}", headers=other_agency).status_code == 404
    )
    assigned = followup.client.get(f"/api/v1/cases/{tip['id']}", headers=followup.officer())
    assert "Budi" in assigned.json["description"]
    tracked = followup.client.get(f"/api/v1/track/{tip['tracking_code']}")
    assert tracked.status_code == 200 and "Budi" not in json.dumps(tracked.json)
    mine = followup.client.get("/api/v1/cases", headers=followup.liaison("dishub-3604"))
    assert [item["id"] for item in mine.json["items"]] == [ordinary["id"]]


def test_community_dispute_reopens_case_and_is_rate_limited_when_repeated(followup):
    followup.app.config["DISPUTE_RATE_LIMIT"] = (2, 3600)
    case = followup.open("road_damage")
    liaison = followup.liaison("pupr-3604")
    followup.post(case["id"], "resolve", liaison, resolution="Jalan ditambal")
    url = f"/api/v1/track/{case['tracking_code']}/dispute"

    disputed = followup.client.post(url, json={"reason": "Lubang masih ada"})
    again = followup.client.post(url, json={"reason": "Masih ada"})
    limited = followup.client.post(url, json={"reason": "Masih ada!"})

    assert (disputed.status_code, disputed.json["status"]) == (200, "in_progress")
    assert again.status_code == 409  # nothing to dispute any more
    assert limited.status_code == 429 and limited.json["retry_after"] > 0
    tracked = followup.client.get(f"/api/v1/track/{case['tracking_code']}").json
    assert tracked["timeline"][-2]["en"] == "Resolution disputed by residents"


def test_no_cache_entry_for_a_case_whose_transaction_rolled_back(followup):
    from followup_service.consumers import make_intake_event_handler

    handler = make_intake_event_handler(followup.fu)
    lost, kept = aspiration_recorded(), aspiration_recorded()
    with pytest.raises(RuntimeError), followup.fu.engine.begin() as conn:
        handler(conn, lost)
        raise RuntimeError("poll failed")  # the runner would call after_rollback; a caller may not
    with followup.fu.engine.begin() as conn:
        handler(conn, kept)
    handler.after_commit()

    assert followup.fu.tracking.get(lost.payload["tracking_code"]) is None
    assert followup.fu.tracking.get(kept.payload["tracking_code"])["status"] == "routed"
    assert followup.client.get(f"/api/v1/track/{lost.payload['tracking_code']}").status_code == 404
