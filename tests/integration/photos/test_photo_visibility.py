"""Who sees an aspiration's photos (issue 25), intake to follow-up through Kafka, on the
local store and on s3proxy: a public photo of a public case shows on /lacak; a private one
and every photo of a confidential case never leave staff; a liaison sees their agency's
cases' photos and no other agency's."""

from __future__ import annotations

import io

import pytest

from followup_service.app import create_app as create_followup
from intake_service.app import create_app as create_intake
from tests import photo_fixtures as fx
from tests.integration.photos.conftest import photo_store, photo_store_env  # noqa: F401
from tests.support import make_account, pipeline_running, sign_in, wait_for

pytestmark = pytest.mark.integration

UNIT = "Polsek Cikande"
ASPIRATION = {
    "category": "street_lighting",
    "summary": "PJU mati di Jalan Raya Cikande",
    "kelurahan": "Cikande",
    "public_summary": "Lampu jalan mati di Jalan Raya Cikande.",
}


class Two:
    def __init__(self, intake_app, followup_app, store):
        self.followup_app, self.store, self.intake_app = followup_app, store, intake_app
        self.intake = intake_app.test_client()
        self.followup = followup_app.test_client()
        self.tokens = intake_app.extensions["tokens"]

    def auth(self, role="officer", **scope) -> dict:
        if role == "officer":
            scope.setdefault("unit", UNIT)
        token = self.tokens.issue(f"{role}-{sorted(scope.items())}", role, **scope)
        return {"Authorization": f"Bearer {token}"}

    def upload(self, data: bytes) -> dict:
        body = {"file": (io.BytesIO(data), "foto.jpg")}
        response = self.intake.post(
            "/api/v1/photos", data=body, headers=self.auth(), content_type="multipart/form-data"
        )
        assert response.status_code == 201, response.json
        return response.json

    def record(self, photos: list[dict], **overrides) -> tuple[str, str]:
        body = {**ASPIRATION, "photos": photos, **overrides}
        posted = self.intake.post("/api/v1/aspirations", json=body, headers=self.auth())
        assert posted.status_code == 201, posted.json
        code = posted.json["tracking_code"]
        tracked = wait_for(
            lambda: (r := self.followup.get(f"/api/v1/track/{code}")).status_code == 200 and r,
            what="case at followup",
        )
        return code, tracked.json["id"]

    def agency_of(self, case_id: str) -> str:
        case = self.followup.get(
            f"/api/v1/cases/{case_id}", headers=self.auth("supervisor", area="national")
        )
        assert case.status_code == 200, case.json
        return case.json["agency"]["id"]


@pytest.fixture
def two(make_settings, photo_store):  # noqa: F811
    intake_settings = make_settings("intake")
    followup_settings = make_settings("followup", topic_prefix=intake_settings.topic_prefix)
    intake_app, followup_app = create_intake(intake_settings), create_followup(followup_settings)
    for app in (intake_app, followup_app):
        app.extensions["photo_store"] = photo_store
    with pipeline_running(intake_app, followup_app):
        yield Two(intake_app, followup_app, photo_store)


@pytest.fixture
def make_account_for():
    return make_account


def test_public_photo_on_lacak_private_one_staff_only(two):
    shown, kept = two.upload(fx.phone_jpeg(1200, 900)), two.upload(fx.small_png())
    code, case_id = two.record([{"id": shown["id"], "public": True}, {"id": kept["id"]}])
    page = two.followup.get(f"/lacak/{code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/lacak/{code}/foto/{shown['id']}/thumbnail" in html and kept["id"] not in html
    thumb = two.followup.get(f"/lacak/{code}/foto/{shown['id']}/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    full = two.followup.get(f"/lacak/{code}/foto/{shown['id']}")
    assert full.status_code == 200 and full.data != thumb.data
    for path in (f"/lacak/{code}/foto/{kept['id']}", f"/lacak/{code}/foto/{kept['id']}/thumbnail"):
        assert two.followup.get(path).status_code == 404
    assert two.followup.get(f"/lacak/KA-AAAA-AA/foto/{shown['id']}").status_code == 404
    # Open311: the first public photo as media_url
    request = two.followup.get(f"/open311/v2/requests/{case_id}.json")
    assert request.status_code == 200, request.get_data(as_text=True)[:300]
    assert request.json[0]["media_url"].endswith(f"/lacak/{code}/foto/{shown['id']}")
    # the liaison of the holding agency sees both; another agency's sees none
    agency = two.agency_of(case_id)
    listed = two.followup.get(
        f"/api/v1/cases/{case_id}/photos", headers=two.auth("liaison", agency=agency)
    )
    assert listed.status_code == 200
    assert {p["id"]: p["public"] for p in listed.json["items"]} == {
        shown["id"]: True,
        kept["id"]: False,
    }
    private = two.followup.get(
        f"/api/v1/cases/{case_id}/photos/{kept['id']}", headers=two.auth("liaison", agency=agency)
    )
    assert private.status_code == 200 and private.mimetype == "image/jpeg"
    other = two.auth("liaison", agency="dinas-lain-9999")
    assert two.followup.get(f"/api/v1/cases/{case_id}/photos", headers=other).status_code == 404
    assert (
        two.followup.get(f"/api/v1/cases/{case_id}/photos/{kept['id']}", headers=other).status_code
        == 404
    )


def test_confidential_aspiration_photo_is_refused_on_every_route(two):
    photo = two.upload(fx.phone_jpeg(800, 600))
    code, case_id = two.record(
        [{"id": photo["id"], "public": True}],  # marked public, yet the case is confidential
        confidential=True,
    )
    agency = two.agency_of(case_id)
    assert photo["id"] not in two.followup.get(f"/lacak/{code}").get_data(as_text=True)
    other_liaison = two.auth("liaison", agency="dinas-lain-9999")
    other_officer = two.auth("officer", unit="Polsek Menteng")
    routes = {
        two.followup: [
            f"/open311/v2/requests/{case_id}.json",
            f"/lacak/{code}/foto/{photo['id']}",
            f"/lacak/{code}/foto/{photo['id']}/thumbnail",
            f"/api/v1/cases/{case_id}/photos",
            f"/api/v1/cases/{case_id}/photos/{photo['id']}",
            f"/api/v1/cases/{case_id}/photos/{photo['id']}/thumbnail",
        ],
        two.intake: [photo["url"], photo["thumbnail_url"]],
    }
    for client, paths in routes.items():
        for path in paths:
            for who in ({}, other_liaison, other_officer):
                status = client.get(path, headers=who).status_code
                assert status in (401, 403, 404), (path, who, status)
    # staff in scope still see it
    mine = two.auth("liaison", agency=agency)
    assert (
        two.followup.get(f"/api/v1/cases/{case_id}/photos/{photo['id']}", headers=mine).status_code
        == 200
    )
    assert two.intake.get(photo["url"], headers=two.auth()).status_code == 200


def test_liaison_resolves_with_a_proof_photo_and_the_officer_sees_both(two, make_account_for):
    before = two.upload(fx.phone_jpeg(900, 600))
    code, case_id = two.record([{"id": before["id"], "public": True}])
    agency = two.agency_of(case_id)
    liaison = two.auth("liaison", agency=agency)
    # another agency's liaison cannot attach a proof to it, and nothing is kept
    keys = two.store.keys()
    refused = two.followup.post(
        "/api/v1/photos",
        data={"file": (io.BytesIO(fx.small_png()), "x.png"), "case_id": case_id},
        headers=two.auth("liaison", agency="dinas-lain-9999"),
        content_type="multipart/form-data",
    )
    assert refused.status_code == 404 and two.store.keys() == keys
    bad = two.followup.post(
        "/api/v1/photos",
        data={"file": (io.BytesIO(fx.pdf_bytes()), "bukti.jpg"), "case_id": case_id},
        headers=liaison,
        content_type="multipart/form-data",
    )
    assert bad.status_code == 415 and two.store.keys() == keys
    proof = two.followup.post(
        "/api/v1/photos",
        data={
            "file": (io.BytesIO(fx.phone_jpeg()), "bukti.jpg"),
            "case_id": case_id,
            "public": "on",
        },
        headers=liaison,
        content_type="multipart/form-data",
    )
    assert proof.status_code == 201, proof.json
    after = proof.json
    assert (
        two.followup.post(
            f"/api/v1/cases/{case_id}/acknowledge", json={}, headers=liaison
        ).status_code
        == 200
    )
    resolved = two.followup.post(
        f"/api/v1/cases/{case_id}/resolve",
        json={"resolution": "Lampu sudah diganti.", "evidence_ref": after["evidence_ref"]},
        headers=liaison,
    )
    assert resolved.status_code == 200, resolved.json
    listed = two.followup.get(f"/api/v1/cases/{case_id}/photos", headers=liaison).json["items"]
    assert [(p["id"], p["kind"]) for p in listed] == [
        (before["id"], "before"),
        (after["id"], "after"),
    ]
    # the resident sees both public photos
    html = two.followup.get(f"/lacak/{code}").get_data(as_text=True)
    assert before["id"] in html and after["id"] in html
    # the verifying officer's /kerja shows before and after side by side
    officer = two.followup_app.test_client()
    make_account_for(two.followup_app, "verifikator", "officer", unit="polsek-cikande")
    assert sign_in(officer, "verifikator").status_code == 302
    page = officer.get("/kerja").get_data(as_text=True)
    block = page.split(f'id="photos-{code}"', 1)[1].split("</div>", 1)[0]
    assert f"/kerja/foto/{case_id}/{before['id']}/thumbnail" in block.split('class="after"')[0]
    assert f"/kerja/foto/{case_id}/{after['id']}/thumbnail" in block.split('class="after"')[1]
    thumb = officer.get(f"/kerja/foto/{case_id}/{after['id']}/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert two.followup.get(f"/kerja/foto/{case_id}/{after['id']}/thumbnail").status_code in (
        302,
        401,
    )


def test_an_erased_photo_leaves_lacak_and_every_follow_up_route(two):
    from intake_service.photos import erase_photos

    photo = two.upload(fx.small_webp())
    code, case_id = two.record([{"id": photo["id"], "public": True}])
    assert photo["id"] in two.followup.get(f"/lacak/{code}").get_data(as_text=True)
    aspiration_id = case_id.removeprefix("case-")
    assert erase_photos(
        two.intake_app.extensions["intake"], two.store, aspiration_id, "operator:ayu"
    )
    wait_for(
        lambda: photo["id"] not in two.followup.get(f"/lacak/{code}").get_data(as_text=True),
        what="the erased photo gone from /lacak",
    )
    agency = two.auth("liaison", agency=two.agency_of(case_id))
    assert two.followup.get(f"/api/v1/cases/{case_id}/photos", headers=agency).json["items"] == []
    assert two.followup.get(f"/lacak/{code}/foto/{photo['id']}/thumbnail").status_code == 404
    assert two.store.keys() == []
