"""The officer page (/catat) records a reporter's consent to hear of progress: the address
reaches intake's private notify_requests sealed, and no event carries it (issue 24)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.contact_cipher import ContactCipher
from tests.e2e.conftest import login, staff
from tests.e2e.test_pages import _fill_meeting
from tests.support import wait_for

pytestmark = pytest.mark.e2e
ADDRESS = "warga.catat-6619@example.org"


def test_officer_page_sends_the_reporters_consent_sealed_when_the_box_is_ticked(live_stack, phone):
    page = phone.new_page()
    login(
        page,
        live_stack.intake_url,
        staff(live_stack, "sari", "officer", unit="Polsek Cikande"),
        "/catat",
    )
    _fill_meeting(page)
    page.select_option("#a-cat", "street_lighting")
    page.fill("#a-sum", "PJU mati di depan balai desa")
    page.fill("#a-pub", "Lampu jalan mati di depan balai desa")
    page.check("#a-notify")
    page.select_option("#a-notify-channel", "email")
    page.fill("#a-notify-address", ADDRESS)
    page.select_option("#a-notify-lang", "en")
    page.click("#a-add")
    page.wait_for_selector("#codes li")
    page.close()
    engine = live_stack.intake_app.extensions["intake"].engine

    def requests() -> list:
        with engine.connect() as conn:
            return conn.execute(text("SELECT sealed_contact FROM notify_requests")).scalars().all()

    [sealed] = wait_for(requests, what="the notify request")
    assert ADDRESS not in sealed
    contact = ContactCipher.from_env().open(sealed)
    assert contact == {"address": ADDRESS, "channel": "email", "language": "en"}
    with engine.connect() as conn:
        events = conn.execute(text("SELECT payload::text FROM events")).scalars().all()
    assert events and not any(ADDRESS in payload for payload in events)
