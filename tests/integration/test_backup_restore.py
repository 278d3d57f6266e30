"""The recovery drill (docs/OPERATIONS.md): back up both databases with scripts/backup.sh,
restore them into an empty PostgreSQL server with scripts/restore.sh (which rebuilds every
read model from the restored logs), and the public views answer byte for byte as before.
Real Kafka, Redis and two real PostgreSQL servers."""

from __future__ import annotations

import dataclasses
import io
import os
import socket
import subprocess
import uuid

import pytest
from sqlalchemy.engine import make_url

from followup_service.app import create_app as create_followup
from intake_service.app import create_app as create_intake
from shared.photos.store import LocalPhotoStore, photo_key
from tests import photo_fixtures as fx
from tests.support import REPO_ROOT, make_account, pipeline_running, wait_for

pytestmark = pytest.mark.integration
PLACES = (
    ("street_lighting", "Cikande", "Cikande", "Kab. Serang", "polsek-cikande"),
    ("road_damage", "Pekayon Jaya", "Bekasi Selatan", "Kota Bekasi", "polsek-bekasi-selatan"),
    ("tawuran", "Krangkeng", "Krangkeng", "Kab. Indramayu", "polsek-krangkeng"),
)


@pytest.fixture
def empty_server(tmp_path):
    """A second, empty PostgreSQL server started by the project's own script."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PG_PORT": str(port), "PG_DATA_DIR": f"/tmp/kawal-restore-pg-{port}"}
    script = os.path.join(REPO_ROOT, "deploy", "postgres", "pg.sh")
    subprocess.run([script, "start"], env=env, check=True, capture_output=True, timeout=120)
    try:
        yield port
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, timeout=60)
        subprocess.run(["rm", "-rf", env["PG_DATA_DIR"]], check=False)


def public_views(followup, codes: list[str], case_ids: list[str]) -> dict[str, bytes]:
    client = followup.test_client()
    paths = [f"/api/v1/track/{code}" for code in codes]
    paths += ["/api/v1/track?per_page=100", "/open311/v2/requests.json", "/open311/v2/requests.xml"]
    paths += [f"/open311/v2/servicerequestupdates.xml?service_request_id={c}" for c in case_ids]
    views = {}
    for path in paths:
        answer = client.get(path)
        assert answer.status_code in (200, 404), path
        views[path] = (answer.status_code, answer.get_data())
    return views


def test_a_backup_restored_into_an_empty_server_serves_the_same_public_views(
    make_settings, empty_server, tmp_path
):
    prefix = f"t{uuid.uuid4().hex[:10]}"
    settings = {s: make_settings(s, redis_key_prefix=prefix) for s in ("intake", "followup")}
    intake, followup = create_intake(settings["intake"]), create_followup(settings["followup"])
    make_account(followup, "lina", "liaison", agency="dishub-3604")
    officer = followup.extensions["tokens"].issue("pengawas", "supervisor", area="national")
    # the photo store is in the drill too (issue 25): one photo, attached to the first
    intake.extensions["photo_store"] = LocalPhotoStore(tmp_path / "photos-before")
    photo = intake.test_client().post(
        "/api/v1/photos",
        data={"file": (io.BytesIO(fx.phone_jpeg(800, 600)), "foto.jpg")},
        headers={"Authorization": f"Bearer {officer}"},
        content_type="multipart/form-data",
    )
    assert photo.status_code == 201, photo.json
    codes = []
    for category, kelurahan, kecamatan, kabupaten, unit in PLACES:
        photos = [] if codes else [{"id": photo.json["id"], "public": True}]
        posted = intake.test_client().post(
            "/api/v1/aspirations",
            json={
                "category": category,
                "summary": f"{category} di {kelurahan}",
                "location": {
                    "kelurahan": kelurahan,
                    "kecamatan": kecamatan,
                    "kabupaten": kabupaten,
                },
                "unit": unit,
                "raised_by": {"name": "Pak Otong", "contact": "0812-0000-0001"},
                "photos": photos,
            },
            headers={"Authorization": f"Bearer {officer}"},
        )
        assert posted.status_code == 201, posted.json
        codes.append(posted.json["tracking_code"])
    with pipeline_running(intake, followup):
        for code in codes[:2]:  # the tawuran one is sensitive: not public
            wait_for(
                lambda c=code: followup.test_client().get(f"/api/v1/track/{c}").status_code == 200
            )
    case_ids = [
        followup.test_client()
        .get("/api/v1/cases?per_page=100", headers={"Authorization": f"Bearer {officer}"})
        .json["items"][i]["id"]
        for i in range(3)
    ]
    before = public_views(followup, codes, case_ids)
    assert sum(status == 200 for status, _ in before.values()) >= 6

    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTO_")}
    env["PHOTO_DIR"] = str(tmp_path / "photos-before")
    for service, s in settings.items():
        env[f"{service.upper()}_DATABASE_URL"] = s.database_url
    backup = subprocess.run(
        [os.path.join(REPO_ROOT, "scripts", "backup.sh"), str(tmp_path / "backup")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert backup.returncode == 0, backup.stderr
    assert (tmp_path / "backup" / "intake.dump").stat().st_size > 0

    restored = {}
    for service, s in settings.items():
        url = make_url(s.database_url).set(port=empty_server, database=f"restored_{service}")
        restored[service] = url.render_as_string(hide_password=False)
        env[f"{service.upper()}_DATABASE_URL"] = restored[service]
    env["KAWAL_ENV"] = "development"
    env["PHOTO_DIR"] = str(tmp_path / "photos-after")  # an empty store
    result = subprocess.run(
        [os.path.join(REPO_ROOT, "scripts", "restore.sh"), str(tmp_path / "backup")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "replayed" in result.stdout  # read models rebuilt from the restored logs

    # The restored services, with a fresh Redis prefix (no cached answer can help).
    fresh = f"t{uuid.uuid4().hex[:10]}"
    again = create_followup(
        dataclasses.replace(
            settings["followup"], database_url=restored["followup"], redis_key_prefix=fresh
        )
    )
    after = public_views(again, codes, case_ids)
    assert after == before

    intake_again = create_intake(
        dataclasses.replace(settings["intake"], database_url=restored["intake"])
    )
    staff = {"Authorization": f"Bearer {officer}"}
    listing = [
        app.test_client().get("/api/v1/aspirations?per_page=100", headers=staff).get_data()
        for app in (intake, intake_again)
    ]
    assert listing[0] == listing[1]  # the staff view too, reporters included
    intake_again.extensions["photo_store"] = LocalPhotoStore(tmp_path / "photos-after")
    served = intake_again.test_client().get(photo.json["url"], headers=staff)
    assert served.status_code == 200
    assert served.data == intake.extensions["photo_store"].get(photo_key(photo.json["sha256"]))
    before_keys = LocalPhotoStore(tmp_path / "photos-before").keys()
    assert LocalPhotoStore(tmp_path / "photos-after").keys() == before_keys != []

    second = subprocess.run(
        [os.path.join(REPO_ROOT, "scripts", "restore.sh"), str(tmp_path / "backup")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert second.returncode != 0 and "not empty" in second.stderr  # never over live data
