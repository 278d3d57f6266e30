"""Issue 11 item 2 on the pages: a place the directory could not match shows up for a
supervisor ("lokasi belum terverifikasi" on the follow-up dashboard and on intake's
/lokasi page), who fixes it by choosing the kelurahan; the case then leaves the list and
is with the region's agency."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from followup_service.tables import cases
from tests.e2e.conftest import PHONE, login, screenshot, staff
from tests.support import wait_for

pytestmark = pytest.mark.e2e


def _case(stack, code: str):
    with stack.followup.engine.connect() as conn:
        return conn.execute(
            select(cases.c.location_verified, cases.c.region, cases.c.agency_id).where(
                cases.c.tracking_code == code
            )
        ).first()


def test_a_supervisor_sees_an_unverified_location_and_fixes_it_on_the_pages(live_stack, browser):
    client = live_stack.intake_app.test_client()
    token = live_stack.token("budi", "officer", unit="polsek-cikande")
    answer = client.post(
        "/api/v1/aspirations",
        json={
            "id": str(uuid.uuid4()),
            "category": "public_order",
            "summary": "PKL menutup jalan kampung",
            "location": {
                "kabupaten": "Kab. Serang",
                "kecamatan": "Cikande",
                "kelurahan": "Kp. Entah",
            },
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.json
    code = answer.json["tracking_code"]
    assert tuple(wait_for(lambda: _case(live_stack, code), what="case opened"))[:2] == (
        False,
        "36.04.15",
    )
    supervisor = staff(live_stack, "sari", "supervisor")

    dashboard = browser.new_context(**PHONE, locale="id-ID")
    intake = browser.new_context(**PHONE, locale="id-ID")
    try:
        page = dashboard.new_page()
        login(page, live_stack.followup_url, supervisor, "/dasbor")
        assert code in page.inner_text("#unverified")
        screenshot(page, "12-supervisor-unverified-locations")

        fix = intake.new_page()
        login(fix, live_stack.intake_url, supervisor, "/lokasi")
        card = fix.locator(f"#a-{code}")
        assert "lokasi belum terverifikasi" in card.inner_text()
        card.locator("select").select_option("36.04.15.2005")  # Koper, under Cikande
        card.locator("button").click()
        fix.wait_for_selector(".ok")
        assert fix.locator(f"#a-{code}").count() == 0

        fixed = wait_for(lambda: (row := _case(live_stack, code)) and row[0] and row, what="fixed")
        assert fixed.region == "36.04.15.2005" and "3604" in fixed.agency_id
        page.reload()
        assert code not in page.inner_text("#unverified")
    finally:
        dashboard.close()
        intake.close()
