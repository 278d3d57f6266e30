"""Proof photos with a progress note, and removing a photo (an erasure request), issue 25:
through the API and the /kerja page, intake to follow-up through Kafka, on the local store
and on s3proxy."""

from __future__ import annotations

import io
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from followup_service.photos import blobs
from followup_service.tables import photo_blob_deletions
from shared.photos.store import S3PhotoStore
from tests import photo_fixtures as fx
from tests.integration.photos.conftest import photo_store, photo_store_env  # noqa: F401
from tests.integration.photos.test_photo_visibility import two  # noqa: F401
from tests.support import csrf_of, make_account, sign_in, wait_for

pytestmark = pytest.mark.integration


def _proof(pair, case_id: str, headers: dict, public: bool = False, **form):
    data = {"file": (io.BytesIO(fx.phone_jpeg(900, 600)), "bukti.jpg"), "case_id": case_id}
    if public:
        data["public"] = "on"
    return pair.followup.post(
        "/api/v1/photos", data={**data, **form}, headers=headers, content_type="multipart/form-data"
    )


def _listed(pair, case_id: str) -> dict[str, tuple[str, bool]]:
    items = pair.followup.get(
        f"/api/v1/cases/{case_id}/photos", headers=pair.auth("supervisor", area="national")
    ).json["items"]
    return {p["id"]: (p["kind"], p["public"]) for p in items}


def _page_client(pair, username: str, role: str, **scope):
    make_account(pair.followup_app, username, role, **scope)
    client = pair.followup_app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def test_liaison_notes_progress_with_a_proof_photo_through_the_api_and_the_page(two):  # noqa: F811
    code, case_id = two.record([])
    agency = two.agency_of(case_id)
    liaison = two.auth("liaison", agency=agency)
    # API: the proof (private by default) first, then the note naming it
    kept = _proof(two, case_id, liaison)
    assert kept.status_code == 201, kept.json
    noted = two.followup.post(
        f"/api/v1/cases/{case_id}/progress",
        json={
            "text": "Tiang sudah dicek.",
            "public": True,
            "evidence_ref": kept.json["evidence_ref"],
            "expected_version": kept.json["version"],
        },
        headers=liaison,
    )
    assert noted.status_code == 200, noted.json
    last = [e for e in noted.json["timeline"] if e["event"] == "ProgressNoted"][-1]
    assert last["data"]["evidence_ref"] == f"photo:{kept.json['id']}"
    assert _listed(two, case_id) == {kept.json["id"]: ("after", False)}
    assert kept.json["id"] not in two.followup.get(f"/lacak/{code}").get_data(as_text=True)
    assert two.followup.get(f"/lacak/{code}/foto/{kept.json['id']}").status_code == 404
    # the page: the progress form takes a photo too, marked public here
    page = _page_client(two, "liaison-pju", "liaison", agency=agency)
    version = two.followup.get(f"/api/v1/cases/{case_id}", headers=liaison).json["version"]
    form = {
        "csrf_token": csrf_of(page, "/kerja"),
        "version": str(version),
        "code": code,
        "text": "Lampu baru dipasang sebagian.",
        "public": "on",
        "photo_public": "on",
        "photo": (io.BytesIO(fx.small_png(320, 240)), "bukti.png"),
    }
    posted = page.post(f"/kerja/{case_id}/progress", data=form, content_type="multipart/form-data")
    assert posted.status_code == 302 and "err=" not in posted.headers["Location"], posted.headers
    listed = _listed(two, case_id)
    (page_photo,) = set(listed) - {kept.json["id"]}
    assert listed[page_photo] == ("after", True)
    html = two.followup.get(f"/lacak/{code}").get_data(as_text=True)
    assert f"/lacak/{code}/foto/{page_photo}/thumbnail" in html
    assert two.followup.get(f"/lacak/{code}/foto/{page_photo}/thumbnail").status_code == 200
    worklist = page.get("/kerja").get_data(as_text=True)
    assert f"/kerja/foto/{case_id}/{page_photo}/thumbnail" in worklist
    # a file that is no photo: the form says why; another agency's liaison: 404 (never 500)
    refused = page.post(
        f"/kerja/{case_id}/progress",
        data={
            **form,
            "csrf_token": csrf_of(page, "/kerja"),
            "photo": (io.BytesIO(b"%PDF-1.4"), "x.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 302 and "err=" in refused.headers["Location"], refused.headers
    stranger = _page_client(two, "liaison-lain", "liaison", agency="dishub-3604")
    foreign = stranger.post(
        f"/kerja/{case_id}/progress",
        data={
            **form,
            "csrf_token": csrf_of(stranger, "/kerja"),
            "photo": (io.BytesIO(fx.small_png()), "b.png"),
        },
        content_type="multipart/form-data",
    )
    assert foreign.status_code in (403, 404), foreign.status_code
    assert set(_listed(two, case_id)) == {kept.json["id"], page_photo}
    # a photo with no text attaches nothing (the note is refused)
    form.update(
        text="", photo=(io.BytesIO(fx.small_png()), "x.png"), csrf_token=csrf_of(page, "/kerja")
    )
    page.post(f"/kerja/{case_id}/progress", data=form, content_type="multipart/form-data")
    assert len(_listed(two, case_id)) == 2


def test_a_confidential_cases_progress_photo_marked_public_stays_with_staff(two):  # noqa: F811
    code, case_id = two.record([], confidential=True)
    liaison = two.auth("liaison", agency=two.agency_of(case_id))
    kept = _proof(two, case_id, liaison, public=True)
    assert kept.status_code == 201, kept.json
    noted = two.followup.post(
        f"/api/v1/cases/{case_id}/progress",
        json={"text": "Patroli.", "public": True, "evidence_ref": kept.json["evidence_ref"]},
        headers=liaison,
    )
    assert noted.status_code == 200, noted.json
    assert kept.json["id"] not in two.followup.get(f"/lacak/{code}").get_data(as_text=True)
    for path in (
        f"/lacak/{code}/foto/{kept.json['id']}",
        f"/lacak/{code}/foto/{kept.json['id']}/thumbnail",
    ):
        assert two.followup.get(path).status_code == 404
    request = two.followup.get(f"/open311/v2/requests/{case_id}.json")
    assert request.status_code == 404 or not request.json[0].get("media_url")


def test_removing_a_photo_through_the_api_records_it_and_deletes_the_blob_once(two):  # noqa: F811
    before = two.upload(fx.phone_jpeg(800, 600))
    code, case_id = two.record([{"id": before["id"], "public": True}])
    agency = two.agency_of(case_id)
    liaison = two.auth("liaison", agency=agency)
    proof = _proof(two, case_id, liaison, public=True).json
    path = f"/api/v1/cases/{case_id}/photos/{before['id']}"
    reason = {"reason": "Permintaan penghapusan dari warga di foto"}
    # who may not: anonymous, another agency's liaison, the holding agency's liaison (an
    # aspiration's photo is not their agency's), an officer of another unit
    for who, status in (
        ({}, 401),
        (two.auth("liaison", agency="dinas-lain-9999"), 403),
        (liaison, 403),
        (two.auth("officer", unit="Polsek Menteng"), 403),
    ):
        refused = two.followup.delete(path, json=reason, headers=who)
        assert refused.status_code == status, (who, refused.json)
    # bad input: clear field errors, nothing removed
    officer = two.auth()
    for body, field in (
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 201}, "reason"),
    ):
        bad = two.followup.delete(path, json=body, headers=officer)
        assert bad.status_code in (400, 422) and field in bad.json["fields"], bad.json
    not_json = two.followup.delete(
        path, data="reason", headers={**officer, "Content-Type": "text/plain"}
    )
    assert 400 <= not_json.status_code < 500
    assert set(_listed(two, case_id)) == {before["id"], proof["id"]}
    # the case's unit's officer removes the aspiration's photo
    removed = two.followup.delete(path, json=reason, headers=officer)
    assert removed.status_code == 200, removed.json
    assert removed.json["removed"] is True
    assert set(_listed(two, case_id)) == {proof["id"]}
    sha = before["sha256"]
    kept_keys = set(two.store.keys())
    assert f"photos/{sha}.jpg" not in kept_keys and f"thumbs/{sha}.jpg" not in kept_keys
    html = two.followup.get(f"/lacak/{code}").get_data(as_text=True)
    assert before["id"] not in html and proof["id"] in html
    assert two.followup.get(f"/lacak/{code}/foto/{before['id']}/thumbnail").status_code == 404
    assert two.followup.get(path, headers=officer).status_code == 404
    media = two.followup.get(f"/open311/v2/requests/{case_id}.json").json[0]["media_url"]
    assert media.endswith(proof["id"])
    timeline = two.followup.get(f"/api/v1/cases/{case_id}", headers=officer).json["timeline"]
    event = [e for e in timeline if e["event"] == "PhotoRemoved"][-1]
    assert event["data"]["reason"] == reason["reason"] and not event["public"]
    # a second time: 404, nothing new
    again = two.followup.delete(path, json=reason, headers=officer)
    assert again.status_code == 404
    assert (
        two.followup.get(f"/api/v1/cases/{case_id}", headers=officer).json["version"]
        == (removed.json["version"])
    )
    # the liaison removes their agency's proof (POST .../hapus); an officer may not
    hapus = f"/api/v1/cases/{case_id}/photos/{proof['id']}/hapus"
    assert two.followup.post(hapus, json=reason, headers=officer).status_code == 403
    gone = two.followup.post(hapus, json=reason, headers=liaison)
    assert gone.status_code == 200, gone.json
    assert _listed(two, case_id) == {}
    assert not [k for k in list(two.store.keys()) if proof["sha256"] in k]
    assert two.followup.post(hapus, json=reason, headers=liaison).status_code == 404
    wait_for(
        lambda: (
            not two.followup.get(f"/open311/v2/requests/{case_id}.json").json[0].get("media_url")
        ),
        what="no media_url",
    )


def _nothing_listens() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_a_removal_while_the_store_is_away_is_kept_and_the_worker_deletes_the_blob(two):  # noqa: F811
    """An erasure request must not be forgotten because the store blinked: the removal
    commits with its blob queued, and the worker deletes it once the store answers."""
    before = two.upload(fx.small_png())
    code, case_id = two.record([{"id": before["id"], "public": True}])
    sha, officer = before["sha256"], two.auth()
    fu = two.followup_app.extensions["followup"]
    store = two.followup_app.extensions["photo_store"]
    # the store is away: a real S3 client whose endpoint refuses connections
    two.followup_app.extensions["photo_store"] = S3PhotoStore(
        endpoint=_nothing_listens(), bucket="away", access_key="k", secret_key="s"
    )
    try:
        # an upload meanwhile: 503 with Retry-After, naming the part (never a 500)
        refused = _proof(two, case_id, two.auth("liaison", agency=two.agency_of(case_id)))
        assert refused.status_code == 503 and refused.headers["Retry-After"], refused.data
        assert refused.json["unavailable"] == "photo store"
        removed = two.followup.delete(
            f"/api/v1/cases/{case_id}/photos/{before['id']}",
            json={"reason": "Permintaan penghapusan"},
            headers=officer,
        )
    finally:
        two.followup_app.extensions["photo_store"] = store
    assert removed.status_code == 200, removed.json
    assert _listed(two, case_id) == {}
    assert f"photos/{sha}.jpg" in set(two.store.keys())  # not deleted yet, not forgotten
    with fu.engine.connect() as conn:
        queued = conn.execute(select(photo_blob_deletions)).all()
    assert [(q.sha256, q.attempts) for q in queued] == [(sha, 1)]
    assert "s3 photo store" in queued[0].last_error
    # the worker before the backoff is over: nothing; after it: the blob and thumbnail go
    assert blobs.delete_due(fu.engine, store, fu.clock()) == 0
    assert blobs.delete_due(fu.engine, store, fu.clock() + timedelta(minutes=1)) == 1
    assert not [key for key in list(two.store.keys()) if sha in key]
    with fu.engine.connect() as conn:
        assert blobs.pending(conn) == 0
    assert two.followup.get(f"/lacak/{code}/foto/{before['id']}").status_code == 404


def test_hapus_foto_on_the_worklist_and_an_admin_removing_any_photo(two):  # noqa: F811
    first, second = two.upload(fx.small_png()), two.upload(fx.small_webp())
    code, case_id = two.record([{"id": first["id"], "public": True}, {"id": second["id"]}])
    agency = two.agency_of(case_id)
    liaison_page = _page_client(two, "liaison-hapus", "liaison", agency=agency)
    html = liaison_page.get("/kerja").get_data(as_text=True)
    assert f"/kerja/foto/{case_id}/{first['id']}/thumbnail" in html
    assert f"/kerja/foto/{case_id}/{first['id']}/hapus" not in html  # not the agency's photo
    forbidden = liaison_page.post(
        f"/kerja/foto/{case_id}/{first['id']}/hapus",
        data={"csrf_token": csrf_of(liaison_page, "/kerja"), "code": code, "reason": "x"},
    )
    assert forbidden.status_code == 403
    # a supervisor of the area sees "Hapus foto" and removes it with a reason
    supervisor = _page_client(two, "spv-serang", "supervisor", area="36.04")
    html = supervisor.get("/kerja").get_data(as_text=True)
    assert f"/kerja/foto/{case_id}/{first['id']}/hapus" in html and "Hapus foto" in html
    csrf = csrf_of(supervisor, "/kerja")
    empty = supervisor.post(
        f"/kerja/foto/{case_id}/{first['id']}/hapus",
        data={"csrf_token": csrf, "code": code, "reason": ""},
    )
    assert empty.status_code == 302 and "err=" in empty.headers["Location"]
    # the refusal shows after the redirect; a notice written by someone else never does
    shown = supervisor.get(empty.headers["Location"]).get_data(as_text=True)
    assert 'role="alert"' in shown and f"{code}: reason" in shown, shown
    forged = supervisor.get("/kerja?err=Akun+Anda+dikunci,+hubungi+0812&ok=0812").get_data(
        as_text=True
    )  # (the language link keeps the query, URL-encoded: shown nowhere)
    assert "hubungi 0812" not in forged and ">0812<" not in forged
    assert 'role="alert"' not in forged and 'class="ok"' not in forged
    assert first["id"] in _listed(two, case_id)
    done = supervisor.post(
        f"/kerja/foto/{case_id}/{first['id']}/hapus",
        data={"csrf_token": csrf, "code": code, "reason": "Permintaan penghapusan"},
    )
    assert done.status_code == 302 and "err=" not in done.headers["Location"]
    assert set(_listed(two, case_id)) == {second["id"]}
    assert first["id"] not in two.followup.get(f"/lacak/{code}").get_data(as_text=True)
    assert f"/kerja/foto/{case_id}/{first['id']}/" not in supervisor.get("/kerja").get_data(
        as_text=True
    )
    # a second removal from the page: 404, never 500
    again = supervisor.post(
        f"/kerja/foto/{case_id}/{first['id']}/hapus",
        data={"csrf_token": csrf, "code": code, "reason": "lagi"},
    )
    assert again.status_code == 404
    # an admin: only with the national area
    path = f"/api/v1/cases/{case_id}/photos/{second['id']}"
    assert (
        two.followup.delete(path, json={"reason": "x"}, headers=two.auth("admin")).status_code
        == 403
    )
    national = two.auth("admin", area="national")
    assert (
        two.followup.delete(path, json={"reason": "erasure"}, headers=national).status_code == 200
    )
    assert _listed(two, case_id) == {}
    assert two.intake.get(second["url"], headers=two.auth()).status_code == 404
