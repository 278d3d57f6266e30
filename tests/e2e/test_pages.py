"""The pages people use, driven in a real browser (headless Debian Chromium) against both
services served over HTTP with the relay and the consumer running."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime

import pytest
from sqlalchemy import func, select

from followup_service.tables import cases
from intake_service.tables import aspirations
from intake_service.tables import metadata as intake_metadata
from tests.e2e.conftest import PHONE, login, screenshot, staff
from tests.support import wait_for

pytestmark = pytest.mark.e2e
OFFICER_UNIT = "Polsek Cikande"

ASPIRATIONS = [
    {
        "category": "street_lighting",
        "summary": "PJU mati di Jalan Raya Cikande dekat pasar",
        "public": "Lampu jalan (PJU) mati di Jalan Raya Cikande",
        "description": "Disampaikan Pak Ahmad Suryana, rumahnya di samping tiang PJU nomor 12",
        "by": "Pak Ahmad Suryana",
        "contact": "0812-3456-7890",
        "confidential": False,
    },
    {
        "category": "road_damage",
        "summary": "Jalan rusak berlubang di Kp. Sukamaju",
        "public": "Jalan berlubang di Kp. Sukamaju",
        "description": "Ibu Siti Rahmawati jatuh dari motor di lubang ini",
        "by": "Ibu Siti Rahmawati",
        "contact": "0813-1111-2222",
        "confidential": False,
    },
    {
        "category": "public_order",
        "summary": "PKL menutup trotoar depan stasiun",
        "public": "Pedagang kaki lima menutup trotoar",
        "description": "Pak Darmawan melihat oknum yang memungut uang lapak",
        "by": "Ketua RW 05 Pak Darmawan",
        "contact": "0857-9999-0000",
        "confidential": True,
    },
]


def _fill_meeting(page):
    page.select_option("#m-kind", "ngopi_kamtibmas")
    page.fill("#m-kab", "Kab. Serang")
    page.fill("#m-kec", "Cikande")
    page.fill("#m-kel", "Cikande")
    page.fill("#m-rw", "05")
    page.fill("#m-partners", "Lurah Cikande, Babinsa")
    page.fill("#m-att", "35")
    page.click("#m-start")
    page.wait_for_selector("#asp-form:not([hidden])")


def _add(page, item):
    page.select_option("#a-cat", item["category"])
    page.fill("#a-sum", item["summary"])
    page.fill("#a-pub", item["public"])
    page.fill("#a-desc", item["description"])
    page.fill("#a-by", item["by"])
    page.fill("#a-contact", item["contact"])
    page.set_checked("#a-conf", item["confidential"])
    page.click("#a-add")


def _count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _recorded_events(stack) -> int:
    events = intake_metadata.tables["events"]
    return _count(stack.intake.engine, events, events.c.event_type == "AspirationRecorded")


def log_three_aspirations(stack, phone) -> list[str]:
    """Log a meeting and three aspirations on a phone, losing the network after the first
    and the answer to one batch; returns the tracking codes shown to the officer."""
    page = phone.new_page()
    login(page, stack.intake_url, staff(stack, "budi", "officer", unit=OFFICER_UNIT), "/catat")
    screenshot(page, "01-officer-log-meeting")
    _fill_meeting(page)
    _add(page, ASPIRATIONS[0])
    page.wait_for_selector("#codes li")
    screenshot(page, "02-officer-first-aspiration-sent")

    phone.set_offline(True)
    page.wait_for_selector("#net.status-offline")
    _add(page, ASPIRATIONS[1])
    _add(page, ASPIRATIONS[2])
    page.click("#send-now")  # a failed attempt while offline must lose nothing
    assert page.locator("#queue li.item-pending, #queue li.item-batched").count() == 2
    stored = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('ka-log'))")
    assert stored, "unsent entries are kept in localStorage"
    screenshot(page, "03-officer-offline-queue")

    # Back online, the first batch reaches the server but its answer is lost on the way
    # back: the retry with the same Idempotency-Key must not record anything twice.
    lost = {"count": 0}

    def lose_first_answer(route):
        if lost["count"] == 0:
            route.fetch()
            lost["count"] += 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/catat/api/meetings/*/aspirations", lose_first_answer)
    phone.set_offline(False)
    for _ in range(200):  # playwright runs route handlers only while it is called
        if lost["count"]:
            break
        page.wait_for_timeout(100)
    assert lost["count"] == 1, "the batch was sent once back online"
    page.wait_for_timeout(300)
    page.click("#send-now")
    page.wait_for_function("document.querySelectorAll('#codes li').length === 3", timeout=15000)
    screenshot(page, "04-officer-tracking-codes")
    codes = page.locator("#codes a.code").all_inner_texts()
    assert len(set(codes)) == 3
    assert _recorded_events(stack) == 3
    assert _count(stack.intake.engine, aspirations) == 3
    wait_for(
        lambda: _count(stack.followup.engine, cases, cases.c.tracking_code.in_(codes)) == 3,
        what="three cases at follow-up",
        diagnose=stack.pipeline.describe,
    )
    page.close()
    return codes


@pytest.fixture(scope="module")
def logged(live_stack, browser):
    """The officer's meeting, logged once per module through the page. bypass_csp: the
    pages' CSP forbids eval, which Playwright's wait_for_function uses for its predicate
    (the CSP itself is tried in test_attacks.py and test_security_headers.py)."""
    context = browser.new_context(**PHONE, locale="id-ID", bypass_csp=True)
    try:
        codes = log_three_aspirations(live_stack, context)
    finally:
        context.close()
    return dict(zip((a["category"] for a in ASPIRATIONS), codes, strict=True))


def test_three_aspirations_logged_once_when_the_network_drops_midway(live_stack, logged):
    assert sorted(logged) == sorted(a["category"] for a in ASPIRATIONS)
    assert _recorded_events(live_stack) == 3


def _case(stack, code):
    with stack.followup.engine.connect() as conn:
        return conn.execute(select(cases).where(cases.c.tracking_code == code)).first()


def test_resident_sees_the_case_move_when_the_liaison_resolves_it(live_stack, logged, browser):
    code = logged["street_lighting"]
    wait_for(lambda: (row := _case(live_stack, code)) and row.agency_id, what="case routed")
    agency = _case(live_stack, code).agency_id

    resident = browser.new_context(**PHONE, locale="id-ID")
    page = resident.new_page()
    page.goto(f"{live_stack.followup_url}/lacak")
    screenshot(page, "05-resident-track-form")
    page.fill("#kode", code.lower().replace("-", " "))  # typed loosely from paper
    page.click("button[type=submit]")
    page.wait_for_url(f"**/lacak/{code}")
    assert "menunggu tanggapan" in page.inner_text("#case-status")
    assert "Dinas Perhubungan Kabupaten Serang" in page.inner_text("#case-agency")
    assert "Diteruskan ke Dinas Perhubungan Kabupaten Serang" in page.inner_text("#timeline")
    screenshot(page, "06-resident-case-routed")

    page.click("text=Cetak / bagikan")
    assert page.locator(".qr svg").count() == 1
    wa = page.locator("a[href^='https://wa.me/?text=']").first.get_attribute("href")
    assert code in wa
    screenshot(page, "07-resident-case-print")

    page.goto(f"{live_stack.followup_url}/lacak?kode=KA-0000-00")
    assert "tidak sesuai format" in page.inner_text("#track-error")
    screenshot(page, "08-resident-wrong-code")

    liaison = browser.new_context(**PHONE, locale="id-ID")
    work = liaison.new_page()
    login(
        work, live_stack.followup_url, staff(live_stack, "rina", "liaison", agency=agency), "/kerja"
    )
    card = work.locator(f"#c-{code}")
    assert card.get_attribute("data-status") == "routed"
    screenshot(work, "09-liaison-worklist")
    card.locator("button[value=acknowledge]").click()
    work.wait_for_selector(".ok")
    card = work.locator(f"#c-{code}")
    assert card.get_attribute("data-status") == "acknowledged"
    card.locator("summary", has_text="Nyatakan selesai").click()
    card.locator(f"#resolve-{code}").fill("Lampu PJU sudah diganti dan menyala.")
    card.locator("form button", has_text="Nyatakan selesai").click()
    work.wait_for_selector(".ok")
    assert work.locator(f"#c-{code}").count() == 0  # left the queue
    screenshot(work, "10-liaison-after-resolve")

    page.goto(f"{live_stack.followup_url}/lacak/{code}")
    assert "Dinyatakan selesai" in page.inner_text("#case-status")
    assert "Lampu PJU sudah diganti" in page.inner_text("#timeline")
    screenshot(page, "11-resident-case-resolved")
    page.goto(f"{live_stack.followup_url}/lacak/{code}?lang=en")
    assert "Reported resolved" in page.inner_text("#case-status")
    screenshot(page, "12-resident-case-english")
    resident.close()
    liaison.close()


def test_supervisor_opens_the_dashboard_and_downloads_the_csv(live_stack, logged, browser):
    wait_for(
        lambda: all(_case(live_stack, c) for c in logged.values()),
        what="cases",
        diagnose=live_stack.pipeline.describe,
    )
    context = browser.new_context(**PHONE, locale="id-ID", accept_downloads=True)
    page = context.new_page()
    login(page, live_stack.followup_url, staff(live_stack, "sari", "supervisor"), "/dasbor")
    assert int(page.inner_text("#total-open")) >= 2
    assert page.locator("svg.chart rect").count() == 24  # 12 weeks x opened/resolved
    assert page.locator("#by-agency tbody tr").count() >= 2
    screenshot(page, "13-supervisor-dashboard")
    with page.expect_download() as download:
        page.click("#csv")
    with open(download.value.path(), encoding="utf-8") as fh:
        text = fh.read()
    header, *rows = text.strip().splitlines()
    assert header.startswith("tracking_code,category,")
    assert {row.split(",")[0] for row in rows} >= set(logged.values())

    page.goto(f"{live_stack.followup_url}/laporan?kelurahan=Cikande")
    assert page.locator("#report tbody tr").count() == 2  # the confidential one is not read out
    assert "1 laporan rahasia" in page.inner_text("main")
    screenshot(page, "14-report-back-kelurahan")
    pdf_url = live_stack.followup_url + page.locator("#pdf").get_attribute("href")
    pdf = page.request.get(pdf_url)  # with the page's session cookie
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    context.close()


def fetch(url: str, token: str | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Cookie", f"ka_session={token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (
                response.status,
                response.headers.get("Content-Type", ""),
                response.read().decode(),
            )
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read().decode()


def test_no_page_shows_a_reporter_or_raw_description_to_roles_that_may_not_see_it(
    live_stack, logged
):
    wait_for(
        lambda: all(_case(live_stack, c) for c in logged.values()),
        what="cases",
        diagnose=live_stack.pipeline.describe,
    )
    secrets = []
    for item in ASPIRATIONS:
        secrets += [item["by"], item["contact"], item["description"]]
    fu = live_stack.followup_url
    agency = _case(live_stack, logged["road_damage"]).agency_id
    liaison = live_stack.token("rina", "liaison", agency=agency)
    supervisor = live_stack.token("sari", "supervisor")
    pages = [(f"{fu}/lacak/{code}", None) for code in logged.values()]
    pages += [(f"{fu}/lacak/{code}/cetak", None) for code in logged.values()]
    pages += [
        (f"{fu}/open311/v2/requests.json", None),
        (f"{fu}/open311/v2/servicerequestupdates.json", None),
        (f"{fu}/kerja", liaison),
        (f"{fu}/kerja", supervisor),
        (f"{fu}/dasbor", supervisor),
        (f"{fu}/dasbor/kasus.csv", supervisor),
        (f"{fu}/laporan?kelurahan=Cikande", supervisor),
        (f"{live_stack.intake_url}/catat", live_stack.token("andi", "officer", unit="Polsek Lain")),
    ]
    for url, token in pages:
        status, _, body = fetch(url, token)
        assert status == 200, url
        for secret in secrets:
            assert secret not in body, f"{secret!r} leaked on {url}"
    # a case page shows the public summary, so the check above is not vacuous
    assert ASPIRATIONS[1]["public"] in fetch(f"{fu}/lacak/{logged['road_damage']}")[2]


# GeoReport v2 field lists (http://wiki.open311.org/GeoReport_v2)
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "jurisdiction_id",  # extension (issue 11): the kabupaten/kota code
    "zipcode",
    "lat",
    "long",
    "media_url",
}
UPDATE_FIELDS = {
    "update_id",
    "service_request_id",
    "status",
    "updated_datetime",
    "description",
    "media_url",
}


def _json(url):
    status, content_type, body = fetch(url)
    assert content_type.startswith("application/json"), url
    return status, json.loads(body)


def _w3c(value):
    return datetime.fromisoformat(value).tzinfo is not None


def test_open311_answers_carry_the_georeport_v2_fields_and_no_sensitive_case(live_stack, logged):
    wait_for(
        lambda: all(_case(live_stack, c) for c in logged.values()),
        what="cases",
        diagnose=live_stack.pipeline.describe,
    )
    base = f"{live_stack.followup_url}/open311/v2"
    status, services = _json(f"{base}/services.json")
    assert status == 200 and services
    for service in services:
        assert set(service) >= SERVICE_FIELDS
        assert service["type"] in ("realtime", "batch", "blackbox")
        assert isinstance(service["metadata"], bool)
    listed = {s["service_code"]: s["listed"] for s in services}
    # sensitive services are absent for an app (issue 23); staff still get them
    assert "tawuran" not in listed and listed["street_lighting"] is True

    status, requests = _json(f"{base}/requests.json")
    assert status == 200
    hidden = _case(live_stack, logged["public_order"])  # confidential reporter: restricted lane
    assert hidden.sensitive
    ids = {r["service_request_id"] for r in requests}
    assert hidden.case_id not in ids
    assert {_case(live_stack, logged[c]).case_id for c in ("street_lighting", "road_damage")} <= ids
    for item in requests:
        assert set(item) == REQUEST_FIELDS
        assert item["status"] in ("open", "closed")
        assert _w3c(item["requested_datetime"]) and _w3c(item["updated_datetime"])
        assert item["lat"] is None and item["long"] is None  # area only, no coordinates

    road = _case(live_stack, logged["road_damage"])
    status, one = _json(f"{base}/requests/{road.case_id}.json")
    assert status == 200 and len(one) == 1
    assert one[0]["description"] == ASPIRATIONS[1]["public"]
    assert one[0]["agency_responsible"] == road.agency_name
    status, missing = _json(f"{base}/requests/{hidden.case_id}.json")
    assert status == 404 and set(missing[0]) == {"code", "description"}

    _, only_roads = _json(f"{base}/requests.json?service_code=road_damage")
    assert {r["service_code"] for r in only_roads} == {"road_damage"}
    _, closed = _json(f"{base}/requests.json?status=closed")
    assert road.case_id not in {r["service_request_id"] for r in closed}
    _, future = _json(f"{base}/requests.json?start_date=2999-01-01T00:00:00Z")
    assert future == []
    status, error = _json(f"{base}/requests.json?status=pending")
    assert status == 400 and error[0]["code"] == 400

    _, updates = _json(f"{base}/servicerequestupdates.json?service_request_id={road.case_id}")
    assert updates and all(set(u) >= UPDATE_FIELDS for u in updates)
    assert any("Diteruskan ke" in u["description"] for u in updates)
    _, all_updates = _json(f"{base}/servicerequestupdates.json")
    assert hidden.case_id not in {u["service_request_id"] for u in all_updates}


def test_tracking_page_is_light_and_quick(live_stack, logged):
    """Page weight (HTML + CSS + JS) and server time of the tracking page, written to
    test-artifacts/page-metrics.json for the closing note."""
    import os
    import statistics
    import time

    from tests.e2e.conftest import SCREENSHOTS

    code = logged["road_damage"]
    fu = live_stack.followup_url
    css = len(fetch(f"{fu}/static/ka/pages.css")[2].encode())
    js = len(fetch(f"{live_stack.intake_url}/static/intake/log.js")[2].encode())
    timings = []
    for _ in range(60):  # under the 120/minute lookup limit
        started = time.perf_counter()
        status, _, html = fetch(f"{fu}/lacak/{code}")
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 200
    officer = live_stack.token("budi", "officer", unit=OFFICER_UNIT)
    log_html = len(fetch(f"{live_stack.intake_url}/catat", officer)[2].encode())
    metrics = {
        "tracking_page_bytes": {"html": len(html.encode()), "css": css, "js": 0},
        "log_page_bytes": {"html": log_html, "css": css, "js": js},
        "tracking_page_ms": {
            "median": round(statistics.median(timings), 2),
            "p95": round(sorted(timings)[int(len(timings) * 0.95) - 1], 2),
            "samples": len(timings),
        },
    }
    path = os.path.join(os.path.dirname(SCREENSHOTS), "page-metrics.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=2)
    print(json.dumps(metrics))
    assert len(html.encode()) + css < 20_000  # a cheap phone on a slow link
    assert metrics["tracking_page_ms"]["median"] < 200


def test_the_logging_page_asks_for_a_public_summary_for_a_tip_or_a_confidential_one(
    live_stack, browser
):
    """Issue 23: a sensitive category or the confidential box makes "Ringkasan untuk
    publik" required (the internal summary is never shown to the public)."""
    context = browser.new_context(**PHONE, locale="id-ID")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(
        page,
        live_stack.intake_url,
        staff(live_stack, "budi", "officer", unit=OFFICER_UNIT),
        "/catat",
    )
    _fill_meeting(page)
    required = lambda: page.eval_on_selector("#a-pub", "e => e.required")  # noqa: E731
    page.select_option("#a-cat", "street_lighting")
    assert not required()
    page.select_option("#a-cat", "tawuran")
    assert required() and "Wajib" in page.inner_text("#a-pub-hint")
    page.select_option("#a-cat", "street_lighting")
    page.check("#a-conf")
    assert required()
    page.uncheck("#a-conf")
    assert not required()
    assert not errors
    context.close()
