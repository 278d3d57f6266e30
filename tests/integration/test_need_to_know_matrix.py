"""Need to know (issue 27): every route that takes an aspiration, case or meeting id, read
and act, for each kind of caller. A tawuran tip logged by Polsek Cikande (Kabupaten Serang,
Banten), with the reporter's name and number, routed to Polsek Cikande; beside it, an
aspiration and a case of Polsek Menteng (Jakarta Pusat) for the lists.

Rows: the officer of the same unit, an officer of another unit, a supervisor whose area
holds it (Kabupaten Serang), a supervisor outside it (Polsek Menteng), the liaison of the
agency holding the case, a liaison of another agency, an admin, an admin with the national
area, anonymous. The reporter's identity only reaches the same unit's officers and the
area's supervisors, each time recorded; lists and CSVs hold only rows in scope.
"""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import func, select

from followup_service.handlers import PERMISSIONS
from followup_service.tables import admin_case_views
from intake_service.app import create_app as create_intake
from intake_service.tables import identity_views
from shared.pages.session import COOKIE
from tests.integration.followup.conftest import Service, aspiration_recorded

pytestmark = pytest.mark.integration

NAME, CONTACT = "Ibu Ratna Sari", "0812-9911-2233"
CIKANDE = {"kabupaten": "Kab. Serang", "kecamatan": "Cikande", "kelurahan": "Cikande"}
MENTENG = {"kabupaten": "Jakarta Pusat", "kecamatan": "Menteng", "kelurahan": "Menteng"}

ROWS = {
    "officer, same unit": ("officer", {"unit": "Polsek Cikande"}),
    "officer, other unit": ("officer", {"unit": "Polsek Menteng"}),
    "supervisor, in area": ("supervisor", {"area": "36.04"}),
    "supervisor, outside": ("supervisor", {"unit": "Polsek Menteng"}),
    "liaison of the agency": ("liaison", {"agency": "polsek-360415"}),
    "liaison, other agency": ("liaison", {"agency": "dishub-3604"}),
    "admin": ("admin", {}),
    "admin, national": ("admin", {"area": "national"}),
    "anonymous": None,
}
# The Cikande tip's case is in scope for these rows (its unit's, its area's, its agency's,
# headquarters'); the identity for fewer still.
CASE_IN_SCOPE = {
    "officer, same unit",
    "supervisor, in area",
    "liaison of the agency",
    "admin, national",
}
IDENTITY = {"officer, same unit", "supervisor, in area"}
# intake (aspirations, meetings): liaisons are no readers or writers there at all
ASPIRATION_IN_SCOPE = {"officer, same unit", "supervisor, in area", "admin, national"}


def headers(tokens, row: str) -> dict:
    if ROWS[row] is None:
        return {}
    role, claims = ROWS[row]
    token = tokens.issue(f"{row.replace(', ', '-').replace(' ', '-')}", role, **claims)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(make_settings):
    intake_settings = make_settings("intake")
    intake = create_intake(intake_settings)
    followup = Service(make_settings("followup"))
    client, tokens = intake.test_client(), intake.extensions["tokens"]

    def log(unit: str, place: dict, raised_by: dict | None) -> tuple[str, str]:
        auth = {"Authorization": f"Bearer {tokens.issue('logger', 'officer', unit=unit)}"}
        meeting = {
            "kind": "ngopi_kamtibmas",
            "held_at": "2026-02-04T20:00:00+07:00",
            "unit": unit,
            "place": place,
            "host_officer": "Iptu Andi",
            "attendee_count": 20,
        }
        response = client.post("/api/v1/meetings", json=meeting, headers=auth)
        assert response.status_code == 201, response.json
        meeting_id = response.json["id"]
        tip = {
            "category": "tawuran",
            "summary": "Rencana tawuran Sabtu malam",
            "public_summary": "Potensi tawuran dilaporkan warga.",
            "description": "Dua kelompok pemuda berjanji bertemu di lapangan.",
            "confidential": True,
            "raised_by": raised_by,
        }
        batch = client.post(
            f"/api/v1/meetings/{meeting_id}/aspirations",
            json={"aspirations": [tip]},
            headers=auth,
        )
        assert batch.status_code == 201, batch.json
        return meeting_id, batch.json["items"][0]["id"]

    meeting, aspiration = log("Polsek Cikande", CIKANDE, {"name": NAME, "contact": CONTACT})
    _, menteng_aspiration = log("Polsek Menteng", MENTENG, {"name": "Pak Joko"})

    def open_case(place: dict, unit: str) -> str:
        event = aspiration_recorded("tawuran", confidential=True, **place)
        event.payload["unit"] = unit
        return followup.record(event)

    return {
        "intake": intake,
        "client": client,
        "tokens": tokens,
        "followup": followup,
        "meeting": meeting,
        "aspiration": aspiration,
        "menteng_aspiration": menteng_aspiration,
        "case": open_case(CIKANDE, "Polsek Cikande"),
        "menteng_case": open_case(MENTENG, "Polsek Menteng"),
        "open_case": lambda: open_case(CIKANDE, "Polsek Cikande"),
    }


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_reads_answer_by_scope_and_the_identity_goes_only_to_the_unit_and_the_area(world):
    client, tokens, fu = world["client"], world["tokens"], world["followup"]
    aspiration, meeting = world["aspiration"], world["meeting"]
    intake_engine = world["intake"].extensions["intake"].engine
    before = _count(intake_engine, identity_views)
    identity_answers = 0
    for row in ROWS:
        auth = headers(tokens, row)
        anonymous = ROWS[row] is None
        liaison = not anonymous and ROWS[row][0] == "liaison"
        expected = 401 if anonymous else 403 if liaison else 200
        if expected == 200 and row not in ASPIRATION_IN_SCOPE:
            expected = 404  # not confirmed
        reads = [
            f"/api/v1/aspirations/{aspiration}",
            f"/api/v1/aspirations/{aspiration}/history",
            f"/api/v1/meetings/{meeting}",
        ]
        for path in reads:
            response = client.get(path, headers=auth)
            assert response.status_code == expected, (row, path, response.json)
            body = response.get_data(as_text=True)
            shows = NAME in body or CONTACT in body
            assert shows == (row in IDENTITY), (row, path)
            identity_answers += shows
        views = client.get(f"/api/v1/aspirations/{aspiration}/identity-views", headers=auth)
        views_expected = {"supervisor, in area": 200, "supervisor, outside": 404}.get(
            row, 401 if anonymous else 403
        )
        assert views.status_code == views_expected, (row, views.json)

        # the case: its detail in scope; a sensitive case out of scope is 404, as unknown
        case = fu.client.get(f"/api/v1/cases/{world['case']}", headers=headers(fu.tokens, row))
        wanted = 200 if row in CASE_IN_SCOPE else 404
        assert case.status_code == wanted, (row, case.json)
        if wanted == 200:
            assert case.json["description"] and case.json["timeline"]
        for secret in (NAME, CONTACT):  # follow-up never holds the identity
            assert secret not in case.get_data(as_text=True)

    after = _count(intake_engine, identity_views)
    assert identity_answers == 2 * 3 and after - before == identity_answers
    supervisor = headers(tokens, "supervisor, in area")
    seen = client.get(f"/api/v1/aspirations/{aspiration}/identity-views", headers=supervisor)
    viewers = {v["viewer"].split(":")[0] for v in seen.json["items"]}
    assert viewers == {"officer", "supervisor"} and len(seen.json["items"]) == 6
    # the admin's read of case content (national area) is kept
    with fu.fu.engine.connect() as conn:
        kept = conn.execute(select(admin_case_views.c.case_id, admin_case_views.c.viewer)).all()
    assert [(c, v.split(":")[0]) for c, v in kept] == [(world["case"], "admin")]


CASE_ACTIONS = {
    "assign": ("assign", {"agency_id": "polres-samapta-3604", "reason": "ke Polres"}),
    "acknowledge": ("acknowledge", {}),
    "progress": ("note_progress", {"text": "Patroli dijadwalkan"}),
    "escalate": ("escalate", {"reason": "Perlu Polres"}),
    "decline": ("decline", {"reason": "Bukan wilayah kami"}),
    "resolve": ("resolve", {"resolution": "Patroli malam dilakukan"}),
    "confirm": ("confirm_resolution", {}),
    "dispute": ("dispute_resolution", {"reason": "Masih ada kumpul-kumpul"}),
    "reopen": ("reopen", {"reason": "Terulang"}),
    "close": ("close", {"outcome": "no_further_action", "reason": "Selesai"}),
    "split": (
        "split",
        {
            "sub_cases": [
                {"category": "tawuran", "public_summary": "Sisi barat"},
                {"category": "tawuran", "public_summary": "Sisi timur"},
            ]
        },
    ),
}


@pytest.mark.parametrize("route", sorted(CASE_ACTIONS))
def test_case_actions_out_of_scope_are_403_and_in_scope_reach_the_case(world, route):
    """Each row on a fresh copy of the Cikande case: 401 without a token, 403 for a role
    without the permission or a case out of scope; in scope the case decides (200, 201,
    or 409 when its status does not allow the action)."""
    fu = world["followup"]
    action, body = CASE_ACTIONS[route]
    for row in ROWS:
        case_id = world["open_case"]()
        response = fu.client.post(
            f"/api/v1/cases/{case_id}/{route}", json=body, headers=headers(fu.tokens, row)
        )
        if ROWS[row] is None:
            assert response.status_code == 401, row
            continue
        role = ROWS[row][0]
        if role not in PERMISSIONS[action] or row not in CASE_IN_SCOPE:
            assert response.status_code == 403, (row, response.json)
        else:
            assert response.status_code in (200, 201, 409), (row, response.json)


INTAKE_ACTIONS = {
    "backing": lambda row: {"count": 3, "note": row},
    "amendments": lambda row: {"changes": {"description": f"Dicek: {row}"}, "reason": "dicek"},
    "withdrawal": lambda row: {"reason": "recorded_by_mistake"},
}


def test_aspiration_and_meeting_actions_answer_by_scope(world):
    client, tokens = world["client"], world["tokens"]
    for row in ROWS:
        auth = headers(tokens, row)
        expected = 401 if ROWS[row] is None else 201 if row in ASPIRATION_IN_SCOPE else 403
        batch = {"aspirations": [{"category": "street_lighting", "summary": f"PJU {row}"}]}
        response = client.post(
            f"/api/v1/meetings/{world['meeting']}/aspirations", json=batch, headers=auth
        )
        assert response.status_code == expected, (row, response.json)
        for route, body in INTAKE_ACTIONS.items():
            if route == "withdrawal" and expected == 201:
                continue  # once, below: it ends the aspiration
            path = f"/api/v1/aspirations/{world['aspiration']}/{route}"
            response = client.post(path, json=body(row), headers=auth)
            assert response.status_code == expected, (row, route, response.json)
    withdrawn = client.post(
        f"/api/v1/aspirations/{world['aspiration']}/withdrawal",
        json=INTAKE_ACTIONS["withdrawal"]("x"),
        headers=headers(tokens, "officer, same unit"),
    )
    assert withdrawn.status_code == 201, withdrawn.json


def test_lists_and_csv_hold_only_rows_in_scope(world):
    client, tokens, fu = world["client"], world["tokens"], world["followup"]
    cikande, menteng = world["aspiration"], world["menteng_aspiration"]
    expected_aspirations = {
        "officer, same unit": {cikande},
        "officer, other unit": {menteng},
        "supervisor, in area": {cikande},
        "supervisor, outside": {menteng},
        "admin": set(),
        "admin, national": {cikande, menteng},
    }
    for row, ids in expected_aspirations.items():
        for path in ("/api/v1/aspirations", "/api/v1/meetings"):
            listed = client.get(path, headers=headers(tokens, row))
            assert listed.status_code == 200, (row, path)
            items = listed.json["items"]
            got = {i["id"] for i in items} if "aspirations" in path else {
                a for m in items for a in _meeting_aspirations(client, tokens, row, m["id"])
            }  # fmt: skip
            assert got == ids, (row, path)
    case, other = world["case"], world["menteng_case"]
    expected_cases = {
        "officer, same unit": {case},
        "officer, other unit": {other},
        "supervisor, in area": {case},
        "supervisor, outside": {other},
        "liaison of the agency": {case},
        "liaison, other agency": set(),
        "admin": set(),
        "admin, national": {case, other},
    }
    codes = {}
    for row, ids in expected_cases.items():
        listed = fu.client.get("/api/v1/cases", headers=headers(fu.tokens, row)).json["items"]
        assert {i["id"] for i in listed} == ids, row
        codes.update({i["id"]: i["tracking_code"] for i in listed})
    for row in ("supervisor, in area", "supervisor, outside", "admin", "admin, national"):
        role, claims = ROWS[row]
        page = fu.app.test_client()
        page.set_cookie(COOKIE, fu.tokens.issue(f"csv-{uuid.uuid4().hex[:6]}", role, **claims))
        exported = page.get("/dasbor/kasus.csv")
        assert exported.status_code == 200, row
        rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))[1:]
        assert {r[0] for r in rows} == {codes[c] for c in expected_cases[row]}, row
        stats = fu.client.get("/api/v1/stats", headers=headers(fu.tokens, row)).json
        assert stats["total_open"] == len(expected_cases[row]), row


def _meeting_aspirations(client, tokens, row, meeting_id) -> set[str]:
    meeting = client.get(f"/api/v1/meetings/{meeting_id}", headers=headers(tokens, row)).json
    return {a["id"] for a in meeting["aspirations"] if a["category"] == "tawuran"}


# --- photos (issue 25): every route that could serve, list, attach or remove one --------


PHOTO_REMOVERS = {"officer, same unit", "supervisor, in area", "admin, national"}
PROOF_ATTACHERS = {"officer", "liaison", "supervisor"}


def test_photo_routes_refuse_a_confidential_aspirations_photo_out_of_scope(world, tmp_path):
    """A confidential tawuran tip's photo, marked public by the officer: no public route
    serves it to anyone; staff routes only in scope (others 401/403/404); a proof photo
    only by the roles that may attach one, in scope; removal only by who may remove it."""
    from shared.photos import process_upload
    from shared.photos.store import LocalPhotoStore, put_photo
    from tests.photo_fixtures import phone_jpeg, small_png

    fu, client, tokens = world["followup"], world["client"], world["tokens"]
    store = LocalPhotoStore(tmp_path / "photos")
    for app in (fu.app, world["intake"]):
        app.extensions["photo_store"] = store
    photo = process_upload(phone_jpeg(640, 480))
    put_photo(store, photo)

    def pictured_case() -> tuple[str, str, str]:
        """A fresh copy of the Cikande tip whose aspiration names a photo (as v6 does)."""
        event = aspiration_recorded("tawuran", confidential=True, **CIKANDE)
        event.payload["unit"] = "Polsek Cikande"
        photo_id = str(uuid.uuid4())
        event.payload["photos"] = [{"id": photo_id, "sha256": photo.sha256, "public": True}]
        case_id = fu.record(event)
        code = fu.client.get(f"/api/v1/cases/{case_id}", headers=fu.supervisor).json[
            "tracking_code"
        ]
        return case_id, code, photo_id

    case_id, code, photo_id = pictured_case()
    # intake's own copy: an upload by the unit's officer, named by a confidential tip
    officer = headers(tokens, "officer, same unit")
    uploaded = client.post(
        "/api/v1/photos",
        data={"file": (io.BytesIO(small_png()), "foto.png")},
        headers=officer,
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201, uploaded.json
    tip = {
        "category": "tawuran",
        "summary": "Rencana tawuran, foto lokasi",
        "confidential": True,
        "photos": [{"id": uploaded.json["id"], "public": True}],
    }
    batch = client.post(
        f"/api/v1/meetings/{world['meeting']}/aspirations",
        json={"aspirations": [tip]},
        headers=officer,
    )
    assert batch.status_code == 201, batch.json
    public_routes = [
        f"/lacak/{code}/foto/{photo_id}",
        f"/lacak/{code}/foto/{photo_id}/thumbnail",
        f"/kerja/foto/{case_id}/{photo_id}",  # the page route: a session, never a token
        f"/kerja/foto/{case_id}/{photo_id}/thumbnail",
    ]
    staff_routes = [
        f"/api/v1/cases/{case_id}/photos",
        f"/api/v1/cases/{case_id}/photos/{photo_id}",
        f"/api/v1/cases/{case_id}/photos/{photo_id}/thumbnail",
    ]
    intake_routes = [uploaded.json["url"], uploaded.json["thumbnail_url"]]
    for row in ROWS:
        fu_auth, intake_auth = headers(fu.tokens, row), headers(tokens, row)
        for path in public_routes:
            status = fu.client.get(path, headers=fu_auth).status_code
            assert status in (302, 401, 403, 404), (row, path, status)
        for path in (f"/lacak/{code}", f"/open311/v2/requests/{case_id}.json"):
            assert photo_id not in fu.client.get(path, headers=fu_auth).get_data(as_text=True)
        for path in staff_routes:
            response = fu.client.get(path, headers=fu_auth)
            if row in CASE_IN_SCOPE:
                assert response.status_code == 200, (row, path, response.status_code)
            else:
                assert response.status_code in (401, 403, 404), (row, path, response.status_code)
                assert photo.sha256 not in response.get_data(as_text=True)
        for path in intake_routes:
            status = client.get(path, headers=intake_auth).status_code
            wanted = (200,) if row in ASPIRATION_IN_SCOPE else (401, 403, 404)
            assert status in wanted, (row, path, status)
        # a proof photo: only the roles that attach one, and only in scope
        proof = fu.client.post(
            "/api/v1/photos",
            data={"file": (io.BytesIO(small_png()), "bukti.png"), "case_id": case_id},
            headers=fu_auth,
            content_type="multipart/form-data",
        )
        if ROWS[row] is None:
            assert proof.status_code == 401, row
        elif ROWS[row][0] not in PROOF_ATTACHERS:
            assert proof.status_code == 403, (row, proof.json)
        elif row not in CASE_IN_SCOPE:
            assert proof.status_code in (403, 404), (row, proof.json)
        else:
            assert proof.status_code == 201, (row, proof.json)
        # removal of the aspiration's photo, on a fresh copy each time (it succeeds once)
        fresh_case, _, fresh_photo = pictured_case()
        removed = fu.client.delete(
            f"/api/v1/cases/{fresh_case}/photos/{fresh_photo}",
            json={"reason": "permintaan penghapusan"},
            headers=fu_auth,
        )
        wanted = 401 if ROWS[row] is None else 200 if row in PHOTO_REMOVERS else 403
        assert removed.status_code == wanted, (row, removed.json)
