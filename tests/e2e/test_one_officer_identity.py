"""Issue 15: one officer token works on both services, because a unit is one id.

Over real HTTP (both services served, relay and consumer running): the officer of
Polsek Krangkeng, with a token minted with the unit's display name as the README shows,
logs a meeting and an aspiration at intake; the agency's liaison acknowledges and
resolves at follow-up; the same officer confirms; the case closes and the public
timeline says so. The same officer's token for another unit gets 403 on both services.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest

from tests.e2e.conftest import PHONE, login, screenshot, staff
from tests.support import wait_for

pytestmark = pytest.mark.e2e


def _call(method: str, url: str, token: str | None = None, body: dict | None = None):
    request = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body is not None else None
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _meeting(unit: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "kind": "ngariung",
        "held_at": "2026-02-10T19:30:00+07:00",
        "unit": unit,
        "place": {
            "kabupaten": "Kab. Indramayu",
            "kecamatan": "Krangkeng",
            "kelurahan": "Krangkeng",
        },
        "host_officer": "Aiptu Darsono",
    }


def test_one_officer_token_logs_at_intake_and_confirms_at_followup(live_stack):
    officer = live_stack.token("darsono", "officer", unit="Polsek Krangkeng")
    intake, followup = live_stack.intake_url, live_stack.followup_url

    meeting = _meeting("Polsek Krangkeng")
    status, answer = _call("POST", f"{intake}/api/v1/meetings", officer, meeting)
    assert status == 201, answer
    aspiration = {
        "id": str(uuid.uuid4()),
        "category": "street_lighting",
        "summary": "PJU mati di depan balai desa",
        "public_summary": "Lampu jalan mati di depan balai desa.",
    }
    status, answer = _call(
        "POST", f"{intake}/api/v1/meetings/{meeting['id']}/aspirations", officer,
        {"aspirations": [aspiration]},
    )  # fmt: skip
    assert status == 201, answer
    code = answer["items"][0]["tracking_code"]

    supervisor = live_stack.token("spv", "supervisor")
    case_id = f"case-{aspiration['id']}"
    case = wait_for(
        lambda: (
            (r := _call("GET", f"{followup}/api/v1/cases/{case_id}", supervisor))[0] == 200 and r[1]
        ),
        what="the case at follow-up",
    )
    assert case["unit"] == "polsek-krangkeng"
    liaison = live_stack.token("pemda", "liaison", agency=case["agency"]["id"])
    for action, body in (("acknowledge", {}), ("resolve", {"resolution": "Lampu diganti."})):
        status, answer = _call("POST", f"{followup}/api/v1/cases/{case_id}/{action}", liaison, body)
        assert status == 200, answer

    status, closed = _call("POST", f"{followup}/api/v1/cases/{case_id}/confirm", officer, {})
    assert status == 200, closed
    assert (closed["status"], closed["outcome"]) == ("closed", "resolved_verified")
    status, tracked = _call("GET", f"{followup}/api/v1/track/{code}")
    assert status == 200 and tracked["status"] == "closed"
    assert tracked["timeline"][-1]["id"] == closed["public_timeline"][-1]["id"]
    assert tracked["status_label"]["en"] == "Resolved and verified"


def test_the_same_officer_for_another_unit_is_refused_on_both_services(live_stack):
    intake, followup = live_stack.intake_url, live_stack.followup_url
    krangkeng = live_stack.token("darsono", "officer", unit="polsek-krangkeng")
    elsewhere = live_stack.token("darsono", "officer", unit="Polsek Cikande")

    meeting = _meeting("Polsek Krangkeng")
    status, _ = _call("POST", f"{intake}/api/v1/meetings", elsewhere, meeting)
    assert status == 403
    status, answer = _call("POST", f"{intake}/api/v1/meetings", krangkeng, meeting)
    assert status == 201, answer
    aspiration = {"id": str(uuid.uuid4()), "category": "street_lighting", "summary": "PJU mati"}
    path = f"{intake}/api/v1/meetings/{meeting['id']}/aspirations"
    status, _ = _call("POST", path, elsewhere, {"aspirations": [aspiration]})
    assert status == 403
    status, answer = _call("POST", path, krangkeng, {"aspirations": [aspiration]})
    assert status == 201, answer

    supervisor = live_stack.token("spv", "supervisor")
    case_id = f"case-{aspiration['id']}"
    case = wait_for(
        lambda: (
            (r := _call("GET", f"{followup}/api/v1/cases/{case_id}", supervisor))[0] == 200 and r[1]
        ),
        what="the case at follow-up",
    )
    liaison = live_stack.token("pemda", "liaison", agency=case["agency"]["id"])
    for action, body in (("acknowledge", {}), ("resolve", {"resolution": "Lampu diganti."})):
        assert _call("POST", f"{followup}/api/v1/cases/{case_id}/{action}", liaison, body)[0] == 200
    status, _ = _call("POST", f"{followup}/api/v1/cases/{case_id}/confirm", elsewhere, {})
    assert status == 403


def test_the_officer_signed_in_once_confirms_from_the_followup_pages(live_stack, browser):
    officer = live_stack.token("darsono", "officer", unit="Polsek Krangkeng")
    intake, followup = live_stack.intake_url, live_stack.followup_url
    meeting = _meeting("Polsek Krangkeng")
    assert _call("POST", f"{intake}/api/v1/meetings", officer, meeting)[0] == 201
    aspiration = {"id": str(uuid.uuid4()), "category": "street_lighting", "summary": "PJU mati"}
    status, answer = _call(
        "POST", f"{intake}/api/v1/meetings/{meeting['id']}/aspirations", officer,
        {"aspirations": [aspiration]},
    )  # fmt: skip
    assert status == 201, answer
    code = answer["items"][0]["tracking_code"]
    case_id = f"case-{aspiration['id']}"
    supervisor = live_stack.token("spv", "supervisor")
    case = wait_for(
        lambda: (
            (r := _call("GET", f"{followup}/api/v1/cases/{case_id}", supervisor))[0] == 200 and r[1]
        ),
        what="the case at follow-up",
    )
    liaison = live_stack.token("pemda", "liaison", agency=case["agency"]["id"])
    for action, body in (("acknowledge", {}), ("resolve", {"resolution": "Lampu diganti."})):
        assert _call("POST", f"{followup}/api/v1/cases/{case_id}/{action}", liaison, body)[0] == 200

    context = browser.new_context(**PHONE, locale="id-ID")
    page = context.new_page()
    # the officer's own account, of the unit spelled as the README shows
    login(page, followup, staff(live_stack, "budi", "officer", unit="Polsek Krangkeng"), "/kerja")
    assert "Verifikasi penyelesaian" in page.inner_text("h1")
    card = page.locator(f"#c-{code}")
    assert card.get_attribute("data-status") == "resolved_pending_verification"
    screenshot(page, "15-officer-verifies")
    card.locator("button[value=confirm]").click()
    page.wait_for_selector(".ok")
    assert page.locator(f"#c-{code}").count() == 0  # verified: off the officer's list
    page.goto(f"{followup}/lacak/{code}?lang=en")
    assert "Resolved and verified" in page.inner_text("#case-status")
    context.close()
