"""Issue 10 on the real stack, in Chromium: an admin creates a liaison for one agency on
the admin page; the liaison signs in on a phone, chooses a password, sees only that
agency's cases and acts on one; the admin deactivates the liaison, whose next click
lands on the sign-in page, on the follow-up service and on intake."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.conftest import PHONE, screenshot, staff
from tests.e2e.test_one_officer_identity import _call, _meeting
from tests.support import STAFF_PASSWORD, wait_for

pytestmark = pytest.mark.e2e


def _log_two_cases(stack) -> tuple[dict, dict]:
    """Street lighting (to PLN/Pemda) and a hoax (to the police): two agencies."""
    officer = stack.token("darsono", "officer", unit="Polsek Krangkeng")
    meeting = _meeting("Polsek Krangkeng")
    assert _call("POST", f"{stack.intake_url}/api/v1/meetings", officer, meeting)[0] == 201
    items = [
        {"id": str(uuid.uuid4()), "category": "street_lighting", "summary": "PJU mati di pasar"},
        {"id": str(uuid.uuid4()), "category": "road_damage", "summary": "Jalan desa berlubang"},
    ]
    url = f"{stack.intake_url}/api/v1/meetings/{meeting['id']}/aspirations"
    assert _call("POST", url, officer, {"aspirations": items})[0] == 201
    supervisor = stack.token("spv", "supervisor")

    def case(item):
        status, body = _call(
            "GET", f"{stack.followup_url}/api/v1/cases/case-{item['id']}", supervisor
        )
        return body if status == 200 and body.get("agency") else None

    cases = [wait_for(lambda i=i: case(i), what="a routed case") for i in items]
    assert cases[0]["agency"]["id"] != cases[1]["agency"]["id"]
    return cases[0], cases[1]


def test_admin_creates_a_liaison_who_works_on_a_phone_until_deactivated(live_stack, browser):
    mine, theirs = _log_two_cases(live_stack)
    agency = mine["agency"]["id"]
    staff(live_stack, "ayu", "admin", display_name="Ayu (admin Polres)")
    followup, intake = live_stack.followup_url, live_stack.intake_url

    desk = browser.new_context(locale="id-ID")
    admin = desk.new_page()
    admin.goto(f"{followup}/admin/akun")
    admin.fill("#username", "ayu")
    admin.fill("#password", STAFF_PASSWORD)
    admin.click("button[type=submit]")
    admin.wait_for_url(f"{followup}/admin/akun")
    admin.fill("#new-account #username", "lina")
    admin.fill("#new-account #display_name", "Lina Marlina")
    admin.select_option("#new-account #role", "liaison")
    admin.fill("#new-account #agency", agency)
    admin.click("#new-account button[type=submit]")
    one_time = admin.inner_text("#one-time-password").strip()
    screenshot(admin, "20-admin-created-liaison")
    admin.reload()
    assert one_time not in admin.content()  # shown once

    phone = browser.new_context(**PHONE, locale="id-ID")
    page = phone.new_page()
    page.goto(f"{followup}/kerja")
    page.fill("#username", "lina")
    page.fill("#password", one_time)
    page.click("button[type=submit]")
    page.wait_for_selector("#new_password")
    screenshot(page, "21-liaison-chooses-password")
    page.fill("#new_password", "pasar-terang-2026")
    page.fill("#new_password2", "pasar-terang-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{followup}/kerja")
    assert page.locator(f"#c-{mine['tracking_code']}").count() == 1
    assert page.locator(f"#c-{theirs['tracking_code']}").count() == 0  # another agency's
    page.locator(f"#c-{mine['tracking_code']} button[value=acknowledge]").click()
    page.wait_for_selector(".ok")
    card = page.locator(f"#c-{mine['tracking_code']}")
    assert card.get_attribute("data-status") == "acknowledged"
    screenshot(page, "22-liaison-acknowledged-on-phone")
    status, body = _call(
        "GET", f"{followup}/api/v1/cases/{mine['id']}", live_stack.token("spv", "supervisor")
    )
    assert status == 200 and body["status"] == "acknowledged"
    acts = [row["actor"] for row in body["timeline"] if row["event"] == "CaseAcknowledged"]
    assert acts == ["liaison:lina"]  # the event records the acting account

    admin.goto(f"{followup}/admin/akun/lina")
    admin.click("#deactivate")
    admin.wait_for_selector(".ok")
    assert "Nonaktif" in admin.inner_text("#state")
    screenshot(admin, "23-admin-deactivated-liaison")

    page.click("nav a[href='/kerja']")  # the next click...
    page.wait_for_selector("#password")  # ...lands on the sign-in page
    assert "/masuk" in page.url
    page.goto(f"{intake}/catat")
    page.wait_for_selector("#password")
    assert page.url.startswith(f"{followup}/masuk")  # intake sends them to sign in too
    screenshot(page, "24-deactivated-liaison-signed-out")
    page.fill("#username", "lina")
    page.fill("#password", "pasar-terang-2026")
    page.click("button[type=submit]")
    assert "Nama pengguna atau kata sandi salah" in page.inner_text("[role=alert]")
    desk.close()
    phone.close()
