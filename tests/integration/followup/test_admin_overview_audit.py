"""An admin's reads over many cases are kept in admin_case_views, as their case reads are:
the dashboard, its CSV export and the stats once each (case_id "*"), the report back per
case listed. A supervisor reading their own area's cases leaves no row; neither does an
admin without the national area, who reads no case."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from followup_service.need_to_know import ALL_CASES
from followup_service.tables import admin_case_views
from shared.pages.session import COOKIE

pytestmark = pytest.mark.integration

READERS = {
    "admin, national": ("admin", {"area": "national"}),
    "admin": ("admin", {}),
    "supervisor, in area": ("supervisor", {"area": "36.04"}),  # Kabupaten Serang
}


def _views(followup) -> list[tuple[str, str, str]]:
    with followup.fu.engine.connect() as conn:
        rows = conn.execute(
            select(
                admin_case_views.c.case_id, admin_case_views.c.viewer, admin_case_views.c.via
            ).order_by(admin_case_views.c.id)
        ).all()
    return [(case_id, viewer.split(":")[0], via) for case_id, viewer, via in rows]


def _read_everything(followup, reader: str, code: str) -> str:
    """Every overview as the reader; the CSV export's text."""
    role, claims = READERS[reader]
    token = followup.tokens.issue(f"{role}-{uuid.uuid4().hex[:6]}", role, **claims)
    pages = followup.app.test_client()
    pages.set_cookie(COOKIE, token)
    answers = {}
    for path in ("/dasbor", "/dasbor/kasus.csv", f"/laporan?kode={code}"):
        answers[path] = pages.get(path)
        assert answers[path].status_code == 200, (reader, path)
    stats = followup.client.get("/api/v1/stats", headers={"Authorization": f"Bearer {token}"})
    assert stats.status_code == 200, reader
    return answers["/dasbor/kasus.csv"].get_data(as_text=True)


def test_an_admins_dashboard_csv_stats_and_report_are_kept(followup):
    case = followup.open()  # Cikande, Kabupaten Serang: in the supervisor's area
    exported = _read_everything(followup, "admin, national", case["tracking_code"])
    assert case["tracking_code"] in exported
    assert _views(followup) == [
        (ALL_CASES, "admin", "GET /dasbor"),
        (ALL_CASES, "admin", "GET /dasbor/kasus.csv"),
        (case["id"], "admin", "GET /laporan"),
        (ALL_CASES, "admin", "GET /api/v1/stats"),
    ]


@pytest.mark.parametrize("reader", ["supervisor, in area", "admin"])
def test_a_supervisor_in_scope_and_an_admin_without_the_national_area_leave_none(followup, reader):
    case = followup.open()
    exported = _read_everything(followup, reader, case["tracking_code"])
    # the supervisor read the case (their area); the admin without an area read nothing
    assert (case["tracking_code"] in exported) == (reader == "supervisor, in area")
    assert _views(followup) == []
