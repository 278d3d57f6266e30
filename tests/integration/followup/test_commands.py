"""Liaison API rules: who may act, illegal transitions, stale updates, field errors."""

import threading
from datetime import datetime

import pytest

pytestmark = pytest.mark.integration

DISHUB = "dishub-3604"


def test_409_names_status_and_allowed_actions_when_transition_is_illegal(followup):
    case = followup.open()

    response = followup.post(case["id"], "confirm", followup.officer())

    assert response.status_code == 409
    assert response.json["current_status"] == "routed"
    assert response.json["action"] == "confirm_resolution"
    assert set(response.json["allowed_actions"]) >= {"acknowledge", "resolve", "decline"}
    assert "confirm_resolution" not in response.json["allowed_actions"]


def test_403_when_liaison_of_another_agency_acts_on_the_case(followup):
    case = followup.open()

    response = followup.post(case["id"], "acknowledge", followup.liaison("pupr-3604"))

    assert response.status_code == 403
    assert followup.post(case["id"], "acknowledge", followup.liaison(DISHUB)).status_code == 200


def test_403_when_role_may_not_run_the_command(followup):
    case = followup.open()
    officer_elsewhere = followup.officer("polsek-kibin")

    assert (
        followup.post(case["id"], "resolve", followup.officer(), resolution="x").status_code == 403
    )
    assert (
        followup.post(case["id"], "escalate", officer_elsewhere, reason="lama").status_code == 403
    )
    assert followup.client.post(f"/api/v1/cases/{case['id']}/acknowledge").status_code == 401


def test_one_update_wins_and_other_gets_409_when_two_liaisons_act_concurrently(followup):
    case = followup.open()
    liaison = followup.liaison(DISHUB)
    barrier, results = threading.Barrier(2), []

    def act(command, body):
        client = followup.app.test_client()
        barrier.wait()
        url = f"/api/v1/cases/{case['id']}/{command}"
        results.append(client.post(url, json=body, headers={**liaison, "If-Match": '"2"'}))

    threads = [
        threading.Thread(target=act, args=("acknowledge", {})),
        threading.Thread(target=act, args=("resolve", {"resolution": "Lampu diganti"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in results) == [200, 409]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.json["expected_version"] == 2 and loser.json["current_version"] > 2


def test_409_when_expected_version_is_stale(followup):
    case = followup.open()
    liaison = followup.liaison(DISHUB)
    first = followup.post(case["id"], "progress", liaison, text="Dicek", expected_version=2)
    assert (first.status_code, first.headers["ETag"]) == (200, '"3"')

    stale = followup.post(case["id"], "progress", liaison, text="Dicek lagi", expected_version=2)

    assert stale.status_code == 409
    assert (stale.json["expected_version"], stale.json["current_version"]) == (2, 3)


def test_422_with_field_errors_when_command_body_is_invalid(followup):
    case = followup.open()
    liaison = followup.liaison(DISHUB)

    missing = followup.post(case["id"], "resolve", liaison)
    bad_outcome = followup.post(case["id"], "close", followup.supervisor, outcome="closed")
    unknown_agency = followup.post(
        case["id"], "assign", followup.supervisor, agency_id="nowhere", reason="coba"
    )

    assert (missing.status_code, list(missing.json["fields"])) == (422, ["resolution"])
    assert (bad_outcome.status_code, list(bad_outcome.json["fields"])) == (422, ["outcome"])
    assert unknown_agency.status_code == 422


def test_every_command_records_actor_and_time_when_run_through_the_api(followup):
    case = followup.open("road_damage")
    followup.clock.advance(hours=5)
    supervisor = followup.supervisor

    moved = followup.post(
        case["id"], "assign", supervisor, agency_id="pupr-prov-36", reason="Jalan provinsi"
    )
    escalated = followup.post(case["id"], "escalate", followup.officer(), reason="Tidak ditanggapi")

    assert moved.json["agency"]["id"] == "pupr-prov-36"
    assert escalated.json["agency"]["id"] == "kadispupr-prov-36"
    last = escalated.json["timeline"][-1]
    assert last["actor"].startswith("officer:")
    assert datetime.fromisoformat(last["at"]) == followup.clock.now
    assert last["data"]["reason"] == "Tidak ditanggapi"


def test_list_filters_by_agency_status_and_overdue_when_supervisor_asks(followup):
    lighting = followup.open("street_lighting")
    road = followup.open("road_damage")
    followup.post(road["id"], "acknowledge", followup.liaison("pupr-3604"))
    followup.clock.advance(days=8)  # past street lighting's 5 working days to acknowledge

    def ids(query, headers=None):
        response = followup.client.get(
            f"/api/v1/cases?{query}", headers=headers or followup.supervisor
        )
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids(f"agency={DISHUB}") == [lighting["id"]]
    assert ids("status=acknowledged") == [road["id"]]
    assert ids("overdue=true") == [lighting["id"]]
    assert ids("overdue=false&category=road_damage&kelurahan=Cikande") == [road["id"]]
    assert ids("opened_from=2026-02-05&opened_to=2026-02-05&per_page=1&page=2") != []
    assert ids("opened_from=2026-02-06") == []
    assert ids("", followup.liaison(DISHUB)) == [lighting["id"]]
    bad = followup.client.get("/api/v1/cases?per_page=1000", headers=followup.supervisor)
    assert bad.status_code == 422
