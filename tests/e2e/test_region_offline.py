"""Issue 11 item 3 in a real browser: the officer page keeps the unit's kabupaten/kota
(every kecamatan and kelurahan/desa) on the phone, so the place fields still suggest with
the network off; case, diacritics and "Kab."/"Kabupaten"/"Kota" are ignored, and the place
chosen from the suggestions is recorded with its code once the phone is back online."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake_service.tables import meetings
from tests.e2e.conftest import PHONE, login, screenshot, staff
from tests.support import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def phone(browser):
    """A phone as conftest's, whose pages let Playwright's wait_for_function evaluate its
    predicate (a string eval the pages' CSP forbids; the CSP is tried in test_attacks.py)."""
    context = browser.new_context(**PHONE, locale="id-ID", bypass_csp=True)
    yield context
    context.close()


def _options(page, list_id: str) -> list[str]:
    return page.eval_on_selector_all(f"#{list_id} option", "els => els.map(e => e.value)")


def _suggests(page, field: str, typed: str, list_id: str, expected: str) -> list[str]:
    page.fill(f"#{field}", typed)
    page.wait_for_function(
        "([id, name]) => Array.from(document.querySelectorAll('#' + id + ' option'))"
        ".some(o => o.value === name)",
        arg=[list_id, expected],
        timeout=10000,
    )
    return _options(page, list_id)


def test_place_fields_suggest_the_units_area_offline_and_the_code_is_recorded(live_stack, phone):
    page = phone.new_page()
    login(
        page,
        live_stack.intake_url,
        staff(live_stack, "rina", "officer", unit="Polsek Cikande"),
        "/catat",
    )
    # the page starts from the unit's own place, by its official names
    assert page.input_value("#m-kab") == "Kabupaten Serang"
    assert page.input_value("#m-kec") == "Cikande"
    assert page.input_value("#m-host") == "Rina"  # the display name, not the username
    page.wait_for_function(
        "Object.keys(localStorage).some(k => k.startsWith('ka-area-v1:'))", timeout=15000
    )
    area = page.evaluate(
        "JSON.parse(localStorage.getItem("
        "Object.keys(localStorage).find(k => k.startsWith('ka-area-v1:'))))"
    )
    assert area["regency"]["code"] == "36.04" and len(area["villages"]) > 300

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    phone.set_offline(True)
    page.wait_for_selector("#net.status-offline")

    for typed in ("KAB. SÉRANG", "kabupaten serang", "serang"):
        assert _suggests(page, "m-kab", typed, "kab-list", "Kabupaten Serang") == [
            "Kabupaten Serang"
        ]
    page.fill("#m-kab", "Kab. Serang")
    page.wait_for_function("document.getElementById('m-kab').getAttribute('data-code') === '36.04'")
    kecamatan = _suggests(page, "m-kec", "cikan", "kec-list", "Cikande")
    assert all("cikan" in name.lower() for name in kecamatan)
    page.fill("#m-kec", "CIKANDE")
    page.wait_for_function(
        "document.getElementById('m-kec').getAttribute('data-code') === '36.04.15'"
    )
    kelurahan = _suggests(page, "m-kel", "kop", "kel-list", "Koper")
    assert kelurahan == ["Koper"]  # only under the chosen kecamatan
    page.fill("#m-kel", "koper")
    page.wait_for_function(
        "document.getElementById('m-kel').getAttribute('data-code') === '36.04.15.2005'"
    )
    page.fill("#m-kec", "Kibin")  # another kecamatan: the kelurahan chosen is stale
    assert page.get_attribute("#m-kel", "data-code") is None
    page.fill("#m-kec", "CIKANDE")
    page.wait_for_function(
        "document.getElementById('m-kec').getAttribute('data-code') === '36.04.15'"
    )
    page.fill("#m-kel", "koper")
    page.wait_for_function(
        "document.getElementById('m-kel').getAttribute('data-code') === '36.04.15.2005'"
    )
    screenshot(page, "11-officer-offline-region-suggestions")
    assert not [url for url in requests if "/catat/api/regions" in url]  # all from the phone

    page.fill("#m-host", "Aipda Rina")
    page.click("#m-start")
    page.wait_for_selector("#asp-form:not([hidden])")
    phone.set_offline(False)

    def recorded():
        with live_stack.intake.engine.connect() as conn:
            return conn.execute(
                select(meetings.c.region_code, meetings.c.kelurahan).where(
                    meetings.c.kelurahan == "koper"
                )
            ).first()

    assert tuple(wait_for(recorded, timeout=30, what="meeting sent")) == (
        "36.04.15.2005",
        "koper",
    )
    page.close()


def test_a_kabupaten_typed_as_kota_is_not_the_units_kabupaten_offline(live_stack, phone):
    page = phone.new_page()
    login(
        page,
        live_stack.intake_url,
        staff(live_stack, "rina", "officer", unit="Polsek Cikande"),
        "/catat",
    )
    # the page starts from the unit's own place, by its official names
    assert page.input_value("#m-kab") == "Kabupaten Serang"
    assert page.input_value("#m-kec") == "Cikande"
    assert page.input_value("#m-host") == "Rina"  # the display name, not the username
    page.wait_for_function(
        "Object.keys(localStorage).some(k => k.startsWith('ka-area-v1:'))", timeout=15000
    )
    phone.set_offline(True)
    page.wait_for_selector("#net.status-offline")
    _suggests(page, "m-kab", "Kab Serang", "kab-list", "Kabupaten Serang")
    page.fill("#m-kab", "Kota Serang")
    page.wait_for_function("document.querySelectorAll('#kab-list option').length === 0")
    assert page.get_attribute("#m-kab", "data-code") is None
    page.close()
