"""Issue 25's "Done when" in a real browser (Debian Chromium, a 390x844 phone): the officer
attaches a 12-megapixel JPEG carrying GPS EXIF while offline, goes online (the first
photo answer is lost on the way back); the aspiration arrives once with one photo; the
stored file has no EXIF, is at most 1600 px and has a thumbnail; the resident's /lacak
shows the public photo; the liaison resolves with a proof photo on /kerja; the verifying
officer's /kerja shows both, before and after. With the pages' real CSP."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from followup_service.tables import cases
from intake_service.tables import aspirations, photos
from shared.photos.store import photo_key, thumb_key
from tests import photo_fixtures as fx
from tests.e2e.conftest import PHONE, login, screenshot, staff
from tests.integration.photos.conftest import photo_store, photo_store_env  # noqa: F401
from tests.support import wait_for

pytestmark = pytest.mark.e2e
UNIT = "Polsek Cikande"
PHOTOS_IN_IDB = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("ka-photos-v1", 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const count = open.result.transaction("photos").objectStore("photos").count();
    count.onsuccess = () => { open.result.close(); resolve(count.result); };
  };
})"""
IMAGE_LOADED = "img => img.complete && img.naturalWidth > 0"


def _fill_meeting(page):
    page.select_option("#m-kind", "ngopi_kamtibmas")
    page.fill("#m-kab", "Kab. Serang")
    page.fill("#m-kec", "Cikande")
    page.fill("#m-kel", "Cikande")
    page.fill("#m-att", "20")
    page.click("#m-start")
    page.wait_for_selector("#asp-form:not([hidden])")


def _count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_offline_phone_photo_arrives_once_clean_and_shows_before_and_after(
    live_stack,
    phone,
    browser,
    photo_store,  # noqa: F811 (the local store, then s3proxy)
):
    store = photo_store
    for app in (live_stack.intake_app, live_stack.followup_app):
        app.extensions["photo_store"] = store
    page = phone.new_page()
    login(page, live_stack.intake_url, staff(live_stack, "budi", "officer", unit=UNIT), "/catat")
    _fill_meeting(page)

    phone.set_offline(True)
    page.wait_for_selector("#net.status-offline")
    page.select_option("#a-cat", "street_lighting")
    page.fill("#a-sum", "PJU mati di depan pasar Cikande")
    page.fill("#a-pub", "Lampu jalan mati di depan pasar Cikande")
    original = fx.phone_jpeg()  # 4000 x 3000, GPS in its EXIF
    page.set_input_files(
        "#a-photo", files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": original}]
    )
    page.check("#a-photo-public")
    page.click("#a-add")
    page.wait_for_selector("#queue li.item-pending", timeout=20000)
    assert page.evaluate(PHOTOS_IN_IDB) == 1  # kept on the phone, with the aspiration
    screenshot(page, "25-officer-photo-offline")

    lost = {"count": 0}

    def lose_first_answer(route):  # the upload reaches the server, its answer does not
        if lost["count"] == 0:
            route.fetch()
            lost["count"] += 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/catat/api/photos", lose_first_answer)
    phone.set_offline(False)
    page.wait_for_selector("#codes li", timeout=30000)
    code = page.inner_text("#codes li").split()[0].strip()
    assert lost["count"] == 1
    assert page.evaluate(PHOTOS_IN_IDB) == 0  # sent, then dropped from the phone

    engine = live_stack.intake_app.extensions["intake"].engine  # (shared by the module)
    assert _count(engine, aspirations, aspirations.c.tracking_code == code) == 1
    with engine.connect() as conn:
        aspiration = conn.execute(
            select(aspirations.c.aspiration_id, aspirations.c.extra).where(
                aspirations.c.tracking_code == code
            )
        ).one()
        # the resent upload was recognised by its id: one row, bound to this aspiration
        row = conn.execute(
            select(photos).where(photos.c.aspiration_id == aspiration.aspiration_id)
        ).one()
        strays = conn.execute(
            select(func.count()).select_from(photos).where(photos.c.aspiration_id.is_(None))
        ).scalar_one()
    assert strays == 0  # no second, unattached copy of the resent upload
    extra = aspiration.extra
    assert [p["id"] for p in extra["photos"]] == [row.photo_id]
    assert store.keys() == [photo_key(row.sha256), thumb_key(row.sha256)]
    kept = Image.open(io.BytesIO(store.get(photo_key(row.sha256))))
    assert max(kept.size) <= 1600 and len(kept.getexif()) == 0 and "exif" not in kept.info
    assert max(Image.open(io.BytesIO(store.get(thumb_key(row.sha256)))).size) <= 320

    # the resident (no sign-in) sees the public photo on /lacak
    case = wait_for(lambda: _case(live_stack, code), timeout=30, what="the case at follow-up")
    resident = browser.new_context(**PHONE, locale="id-ID")
    lacak = resident.new_page()
    lacak.goto(f"{live_stack.followup_url}/lacak/{code}")
    thumb = lacak.wait_for_selector("#case-photos img")
    assert thumb.evaluate(IMAGE_LOADED)
    screenshot(lacak, "25-resident-lacak-photo")
    resident.close()

    # the liaison acknowledges and resolves with a proof photo on /kerja
    liaison_name = staff(live_stack, "lina-pju", "liaison", agency=case.agency_id)
    liaison = browser.new_context(**PHONE, locale="id-ID")
    work = liaison.new_page()
    login(work, live_stack.followup_url, liaison_name, "/kerja")
    work.click(f"#c-{code} button[value=acknowledge]")
    work.wait_for_url("**/kerja?ok=*")
    work.click(f"#c-{code} details:has(#resolve-{code}) summary")
    work.fill(f"#resolve-{code}", "Lampu sudah diganti dan menyala.")
    proof = fx.phone_jpeg(2000, 1500)
    work.set_input_files(
        f"#photo-{code}", files=[{"name": "bukti.jpg", "mimeType": "image/jpeg", "buffer": proof}]
    )
    work.click(f"#c-{code} form:has(#resolve-{code}) button")
    work.wait_for_url("**/kerja?ok=*")
    liaison.close()

    # the verifying officer sees before and after side by side
    page.goto(f"{live_stack.followup_url}/kerja")
    before = page.wait_for_selector(f"#photos-{code} .before img")
    after = page.wait_for_selector(f"#photos-{code} .after img")
    assert before.evaluate(IMAGE_LOADED) and after.evaluate(IMAGE_LOADED)
    screenshot(page, "25-officer-kerja-before-after")
    assert len(store.keys()) == 4  # one photo and one proof, each with its thumbnail


def _case(stack, code):
    with stack.followup_app.extensions["followup"].engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.tracking_code == code)).first()
    return row if row is not None and row.agency_id else None
