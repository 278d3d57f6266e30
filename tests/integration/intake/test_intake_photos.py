"""Photos on intake (issue 25): officers upload, aspirations refer to them, staff in scope
read them. Each test runs on the local filesystem store and on s3proxy."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image
from sqlalchemy import select

from intake_service.tables import metadata, photos
from shared.photos.store import photo_key, thumb_key
from tests import photo_fixtures as fx
from tests.integration.intake.conftest import OTHER_UNIT, UNIT, aspiration_body
from tests.integration.photos.conftest import photo_store, photo_store_env  # noqa: F401

pytestmark = pytest.mark.integration
events = metadata.tables["events"]


@pytest.fixture
def app(intake, photo_store):  # noqa: F811
    intake.app.extensions["photo_store"] = photo_store
    intake.store = photo_store
    return intake


def upload(app, data: bytes, name="foto.jpg", as_role="officer", as_unit=UNIT, **form):
    headers = app.headers(as_role, as_unit) if as_role else {}
    body = {"file": (io.BytesIO(data), name), **form}
    return app.client.post(
        "/api/v1/photos", data=body, headers=headers, content_type="multipart/form-data"
    )


def _rows(app) -> list:
    with app.engine.connect() as conn:
        return conn.execute(select(photos)).all()


def test_phone_photo_is_stored_clean_and_read_by_its_unit(app):
    response = upload(app, fx.phone_jpeg())
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) >= {"id", "sha256", "url", "thumbnail_url"}
    stored = app.store.get(photo_key(body["sha256"]))
    kept = Image.open(io.BytesIO(stored))
    assert max(kept.size) <= 1600 and len(kept.getexif()) == 0 and "exif" not in kept.info
    assert b"KawalPhone" not in stored
    assert app.store.get(thumb_key(body["sha256"]))
    got = app.client.get(body["url"], headers=app.headers())
    assert got.status_code == 200 and got.data == stored and got.mimetype == "image/jpeg"
    thumb = app.client.get(body["thumbnail_url"], headers=app.headers())
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    # not attached yet: its uploader's unit only
    assert app.client.get(body["url"], headers=app.headers(unit=OTHER_UNIT)).status_code == 404
    assert app.client.get(body["url"]).status_code == 401
    assert app.client.get(body["url"], headers=app.headers("liaison")).status_code == 403


@pytest.mark.parametrize("case", sorted(fx.BAD_UPLOADS))
def test_bad_upload_gets_a_clear_4xx_and_leaves_nothing(app, case):
    name, make, status = fx.BAD_UPLOADS[case]
    response = upload(app, make(), name=name)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.is_json and response.json["error"]
    assert _rows(app) == [] and app.store.keys() == []


def test_residents_and_liaisons_never_upload(app):
    assert upload(app, fx.small_png(), as_role=None).status_code == 401
    assert upload(app, fx.small_png(), as_role="liaison").status_code == 403
    assert _rows(app) == [] and app.store.keys() == []


def test_no_file_is_a_clear_400(app):
    response = app.client.post(
        "/api/v1/photos",
        data={"x": "1"},
        headers=app.headers(unit=UNIT),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and response.json["fields"]["file"]


def test_a_resent_upload_with_its_id_is_stored_once(app):
    photo_id, data = str(uuid.uuid4()), fx.phone_jpeg(800, 600)
    first = upload(app, data, id=photo_id)
    again = upload(app, data, id=photo_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json and len(_rows(app)) == 1
    other = upload(app, fx.small_png(), id=photo_id)
    assert other.status_code == 409


def test_confidential_aspiration_photo_stays_with_its_unit(app):
    photo = upload(app, fx.phone_jpeg(1000, 750)).json
    body = aspiration_body(confidential=True, photos=[{"id": photo["id"], "public": True}])
    meeting = app.meeting()
    response = app.post(f"/api/v1/meetings/{meeting}/aspirations", {"aspirations": [body]})
    assert response.status_code == 201, response.json
    aspiration_id = response.json["items"][0]["id"]
    read = app.get(f"/api/v1/aspirations/{aspiration_id}")
    assert [(p["id"], p["sha256"]) for p in read.json["photos"]] == [(photo["id"], photo["sha256"])]
    # the event carries the reference, never the bytes
    with app.engine.connect() as conn:
        recorded = conn.execute(
            select(events.c.payload).where(events.c.event_type == "AspirationRecorded")
        ).scalar_one()
    assert recorded["photos"] == [{"id": photo["id"], "sha256": photo["sha256"], "public": True}]
    for url in (photo["url"], photo["thumbnail_url"]):
        assert app.client.get(url, headers=app.headers()).status_code == 200
        assert app.client.get(url).status_code == 401  # anonymous
        assert app.client.get(url, headers=app.headers("liaison")).status_code == 403
        assert app.client.get(url, headers=app.headers(unit=OTHER_UNIT)).status_code == 404
        supervisor_elsewhere = app.headers("supervisor", unit=OTHER_UNIT)
        assert app.client.get(url, headers=supervisor_elsewhere).status_code == 404


def test_a_photo_is_attached_once_and_only_by_its_unit(app):
    photo = upload(app, fx.small_webp()).json
    meeting = app.meeting()
    mine = aspiration_body(photos=[{"id": photo["id"]}])
    theirs = aspiration_body(photos=[{"id": photo["id"]}])
    other_unit = app.post(
        f"/api/v1/meetings/{meeting}/aspirations", {"aspirations": [theirs]}, as_unit=OTHER_UNIT
    )
    assert other_unit.status_code in (403, 404, 422)
    ok = app.post(f"/api/v1/meetings/{meeting}/aspirations", {"aspirations": [mine]})
    assert ok.status_code == 201, ok.json
    again = aspiration_body(photos=[{"id": photo["id"]}])
    twice = app.post(f"/api/v1/meetings/{meeting}/aspirations", {"aspirations": [again]})
    assert twice.status_code == 422 and "photos" in str(twice.json)
    unknown = app.post(
        f"/api/v1/meetings/{meeting}/aspirations",
        {"aspirations": [aspiration_body(photos=[{"id": str(uuid.uuid4())}])]},
    )
    assert unknown.status_code == 422
    six = [{"id": str(uuid.uuid4())} for _ in range(6)]
    too_many = app.post(
        f"/api/v1/meetings/{meeting}/aspirations", {"aspirations": [aspiration_body(photos=six)]}
    )
    assert too_many.status_code == 422


def test_withdrawal_removes_the_photos_records_it_and_deletes_the_blobs(app):
    kept = upload(app, fx.phone_jpeg(900, 600)).json
    gone = upload(app, fx.small_png()).json
    meeting = app.meeting()
    items = [
        aspiration_body(photos=[{"id": gone["id"], "public": True}]),
        aspiration_body(photos=[{"id": kept["id"]}]),
    ]
    response = app.post(f"/api/v1/meetings/{meeting}/aspirations", {"aspirations": items})
    assert response.status_code == 201, response.json
    withdrawn = response.json["items"][0]["id"]
    answer = app.post(
        f"/api/v1/aspirations/{withdrawn}/withdrawal", {"reason": "recorded_by_mistake"}
    )
    assert answer.status_code == 201, answer.json
    assert app.store.get(photo_key(gone["sha256"])) is None
    assert app.store.get(thumb_key(gone["sha256"])) is None
    assert app.store.get(photo_key(kept["sha256"])) is not None
    assert app.client.get(gone["url"], headers=app.headers()).status_code == 404
    assert app.client.get(kept["url"], headers=app.headers()).status_code == 200
    assert app.get(f"/api/v1/aspirations/{withdrawn}").json["photos"] == []
    with app.engine.connect() as conn:
        removed = conn.execute(
            select(events.c.payload).where(events.c.event_type == "PhotosRemoved")
        ).scalar_one()
        outbox = conn.execute(select(metadata.tables["outbox"].c.event_type)).scalars().all()
        published = (
            conn.execute(
                select(metadata.tables["outbox"].c.value).where(
                    metadata.tables["outbox"].c.event_type == "PhotosRemoved"
                )
            )
            .scalars()
            .all()
        )
    assert removed == {
        "aspiration_id": withdrawn,
        "photo_ids": [gone["id"]],
        "reason": "withdrawn",
    }
    assert "PhotosRemoved" in outbox  # published: follow-up stops showing them
    assert published and all(b"sha256" not in value for value in published)  # ids only


def test_an_erasure_request_removes_the_photos_and_records_it(app):
    from intake_service.photos import erase_photos

    photo = upload(app, fx.phone_jpeg(700, 500)).json
    meeting = app.meeting()
    body = aspiration_body(photos=[{"id": photo["id"]}])
    response = app.post(f"/api/v1/meetings/{meeting}/aspirations", {"aspirations": [body]})
    aspiration_id = response.json["items"][0]["id"]
    intake = app.app.extensions["intake"]
    assert erase_photos(intake, app.store, aspiration_id, "operator:ayu") == [photo["id"]]
    assert app.store.keys() == []
    assert app.client.get(photo["url"], headers=app.headers()).status_code == 404
    assert app.get(f"/api/v1/aspirations/{aspiration_id}").json["photos"] == []
    with app.engine.connect() as conn:
        removed = conn.execute(
            select(events.c.payload, events.c.actor).where(events.c.event_type == "PhotosRemoved")
        ).one()
    assert removed.payload["reason"] == "erasure" and removed.actor == "operator:ayu"
    assert erase_photos(intake, app.store, aspiration_id, "operator:ayu") == []  # once


def test_blobs_a_store_outage_left_behind_are_pruned(app):
    from intake_service.photos import prune
    from shared.photos import StoreUnavailable

    photo = upload(app, fx.small_png()).json
    meeting = app.meeting()
    body = aspiration_body(photos=[{"id": photo["id"]}])
    response = app.post(f"/api/v1/meetings/{meeting}/aspirations", {"aspirations": [body]})
    aspiration_id = response.json["items"][0]["id"]
    real = app.store

    class Away:  # the store answers reads, but refuses the deletes
        kind = real.kind

        def __getattr__(self, name):
            return getattr(real, name)

        def delete(self, key):
            raise StoreUnavailable("away")

    app.app.extensions["photo_store"] = Away()
    answer = app.post(
        f"/api/v1/aspirations/{aspiration_id}/withdrawal", {"reason": "recorded_by_mistake"}
    )
    assert answer.status_code == 201, answer.json  # the withdrawal stands
    assert len(real.keys()) == 2  # the blobs are still there
    with app.engine.connect() as conn:
        assert prune(conn, real) == 1
    assert real.keys() == []
