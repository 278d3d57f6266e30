"""Listing meetings and aspirations by unit, date range, category and kelurahan, paginated."""

import pytest

from tests.integration.intake.conftest import OTHER_UNIT, UNIT, aspiration_body, meeting_body

pytestmark = pytest.mark.integration


@pytest.fixture
def logged(intake):
    early = intake.meeting(held_at="2024-10-01T20:00:00+07:00")
    late = intake.meeting(held_at="2024-10-15T20:00:00+07:00")
    other = intake.post(
        "/api/v1/meetings",
        meeting_body(unit=OTHER_UNIT, place={"kelurahan": "Menteng"}),
        as_role="supervisor",
        as_unit=OTHER_UNIT,
    ).json["id"]
    for meeting_id, categories, role in [
        (early, ["street_lighting", "road_damage"], "officer"),
        (late, ["street_lighting"] * 3, "officer"),
        (other, ["money_politics"], "supervisor"),
    ]:
        batch = {"aspirations": [aspiration_body(i, category=c) for i, c in enumerate(categories)]}
        path = f"/api/v1/meetings/{meeting_id}/aspirations"
        unit = OTHER_UNIT if meeting_id == other else UNIT
        assert intake.post(path, batch, as_role=role, as_unit=unit).status_code == 201
    return National(intake), early, late, other


class National:
    """Reads as a supervisor with the national area (every unit's rows are in scope)."""

    def __init__(self, intake):
        self.intake = intake

    def get(self, path, **params):
        return self.intake.get(path, as_role="supervisor", as_unit=None, **params)


def test_lists_hold_only_the_callers_scope(logged):
    """Issue 27: the Bekasi Selatan officer lists their unit's five, not Menteng's."""
    national, *_ = logged
    mine = national.intake.get("/api/v1/aspirations").json
    assert mine["total"] == 5 and {a["unit"] for a in mine["items"]} == {"polsek-bekasi-selatan"}
    menteng = national.intake.get("/api/v1/aspirations", as_unit=OTHER_UNIT).json
    assert menteng["total"] == 1
    meetings = national.intake.get("/api/v1/meetings").json
    assert meetings["total"] == 2


def _ids(response):
    assert response.status_code == 200, response.json
    return response.json


def test_aspirations_are_filtered_when_unit_category_kelurahan_and_dates_are_given(logged):
    intake, early, late, _ = logged
    assert _ids(intake.get("/api/v1/aspirations"))["total"] == 6
    assert _ids(intake.get("/api/v1/aspirations", unit=OTHER_UNIT))["total"] == 1
    lights = _ids(intake.get("/api/v1/aspirations", category="street_lighting"))
    assert lights["total"] == 4
    assert _ids(intake.get("/api/v1/aspirations", kelurahan="Menteng"))["total"] == 1
    first_day = {"from": "2024-10-01", "to": "2024-10-01"}
    october_first = _ids(intake.get("/api/v1/aspirations", **first_day))
    assert {a["meeting_id"] for a in october_first["items"]} == {early}
    since_tenth = _ids(intake.get("/api/v1/aspirations", **{"from": "2024-10-10"}))
    assert since_tenth["total"] == 3
    assert _ids(intake.get("/api/v1/aspirations", meeting_id=late))["total"] == 3


def test_pages_do_not_overlap_when_listing_in_pages(logged):
    intake, *_ = logged
    pages = [_ids(intake.get("/api/v1/aspirations", per_page=4, page=p)) for p in (1, 2, 3)]
    ids = [a["id"] for page in pages for a in page["items"]]
    assert [len(p["items"]) for p in pages] == [4, 2, 0]
    assert len(set(ids)) == 6
    assert pages[0]["total"] == 6


def test_meetings_are_filtered_when_unit_and_dates_are_given(logged):
    intake, early, late, other = logged
    mine = _ids(intake.get("/api/v1/meetings", unit="Polsek Bekasi Selatan"))
    assert [m["id"] for m in mine["items"]] == [late, early]  # newest first
    assert mine["items"][0]["aspiration_count"] == 3
    window = _ids(intake.get("/api/v1/meetings", **{"from": "2024-10-02", "to": "2024-10-31"}))
    assert {m["id"] for m in window["items"]} == {late, other}
    meeting = _ids(intake.get(f"/api/v1/meetings/{early}"))
    assert [a["category"] for a in meeting["aspirations"]] == ["street_lighting", "road_damage"]


@pytest.mark.parametrize(
    "params", [{"page": 0}, {"per_page": 1000}, {"from": "yesterday"}, {"status": "lost"}]
)
def test_422_when_query_parameters_are_invalid(intake, params):
    response = intake.get("/api/v1/aspirations", **params)
    assert response.status_code == 422
    assert response.json["fields"]


def test_404_when_the_meeting_or_aspiration_is_unknown(intake):
    missing = "9d5ad0e4-33a5-4a7e-9b1e-7d5e2a0f3c11"
    assert intake.get(f"/api/v1/meetings/{missing}").status_code == 404
    assert intake.get(f"/api/v1/aspirations/{missing}").status_code == 404
    assert intake.get("/api/v1/aspirations/not-a-uuid").status_code == 404
