"""GET /api/v1/stats: the supervisor's figures from the read models."""

import pytest

from followup_service.worker import sweep

pytestmark = pytest.mark.integration


def _by(items: list[dict], key: str) -> dict:
    return {item[key]: item for item in items}


def test_stats_count_open_overdue_medians_and_oldest_when_cases_are_in_several_states(followup):
    first = followup.open("street_lighting")
    followup.clock.advance(hours=2)
    road = followup.open("road_damage")
    followup.open("road_damage")
    done = followup.open("street_lighting")
    dishub = followup.liaison("dishub-3604")
    followup.clock.advance(hours=4)
    followup.post(done["id"], "acknowledge", dishub)
    followup.post(road["id"], "acknowledge", followup.liaison("pupr-3604"))
    followup.clock.advance(hours=6)
    followup.post(done["id"], "resolve", dishub, resolution="Lampu dipasang")
    followup.post(done["id"], "confirm", followup.officer())
    followup.clock.advance(days=8)  # every unacknowledged case missed its 5 working days

    body = followup.client.get("/api/v1/stats", headers=followup.supervisor)

    assert body.status_code == 200, body.json
    stats = body.json
    assert (stats["total_open"], stats["total_overdue"]) == (3, 2)
    agencies = _by(stats["by_agency"], "agency_id")
    assert agencies["dishub-3604"] == {
        "agency_id": "dishub-3604",
        "agency_name": "Dinas Perhubungan Kabupaten Serang",
        "open": 1,
        "overdue": 1,
    }
    assert (agencies["pupr-3604"]["open"], agencies["pupr-3604"]["overdue"]) == (2, 1)
    categories = _by(stats["by_category"], "category")
    assert {k: (v["open"], v["overdue"]) for k, v in categories.items()} == {
        "street_lighting": (1, 1),
        "road_damage": (2, 1),
    }
    assert stats["median_hours_to_acknowledge"] == 4.0  # both acknowledged 4 h after opening
    assert (stats["median_hours_to_resolve"], stats["resolved_cases"]) == (10.0, 1)
    oldest = stats["oldest_open"][0]
    assert (oldest["id"], oldest["tracking_code"]) == (first["id"], first["tracking_code"])
    assert oldest["agency"]["id"] == "dishub-3604"
    assert oldest["age_hours"] == 8 * 24 + 12 and oldest["overdue"] is True
    assert done["id"] not in [c["id"] for c in stats["oldest_open"]]


def test_stats_show_escalated_agency_when_the_deadline_worker_moved_the_case(followup):
    followup.open("street_lighting")
    followup.clock.advance(days=8)
    sweep(followup.fu)

    admin = followup.auth("admin", area="national")  # case figures: national area only
    stats = followup.client.get("/api/v1/stats", headers=admin).json

    assert [a["agency_id"] for a in stats["by_agency"]] == ["kadishub-3604"]
    unscoped = followup.client.get("/api/v1/stats", headers=followup.auth("admin")).json
    assert unscoped["total_open"] == 0 and unscoped["oldest_open"] == []
    assert stats["by_agency"][0]["overdue"] == 0  # fresh deadlines at the next rung


@pytest.mark.parametrize("role", ["liaison", "officer"])
def test_stats_are_forbidden_when_the_caller_is_not_a_supervisor_or_admin(followup, role):
    headers = followup.auth(role, agency="dishub-3604", unit="polsek-cikande")
    assert followup.client.get("/api/v1/stats", headers=headers).status_code == 403
    assert followup.client.get("/api/v1/stats").status_code == 401
