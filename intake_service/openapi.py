"""OpenAPI 3 description of the intake API, generated with apispec from the marshmallow schemas."""

from __future__ import annotations

from functools import cache

from intake_service import schemas as s
from shared import open311
from shared.openapi import (
    WRITE_ERRORS,
    build_document,
    document_blueprint,
    errors,
    json_content,
    operational_paths,
    path_param,
)

MEETING_ID = "0b7e7c1a-7d0f-4c39-9a3c-000000000001"
ASPIRATION_ID = "5d1f7c3e-0000-4000-8000-000000000011"
PLACE = {
    "polsek": "Polsek Bekasi Selatan",
    "kabupaten": "Kota Bekasi",
    "kecamatan": "Bekasi Selatan",
    "kelurahan": "Pekayon Jaya",
    "rw": "18",
    "address": "Pos Satkamling Sekretariat RW 18",
}
MEETING_EXAMPLE = {
    "id": MEETING_ID,
    "kind": "ngopi_kamtibmas",
    "held_at": "2024-10-06T20:00:00+07:00",
    "unit": "Polsek Bekasi Selatan",
    "place": PLACE,
    "host_officer": "Kompol Untung Riswaji",
    "partners": ["Camat Bekasi Selatan", "Lurah Pekayon Jaya", "Danramil 01 Kranji"],
    "attendee_count": 60,
    "notes": "Ngopi Kamtibmas jelang Pilkada.",
}
ASPIRATION_EXAMPLE = {
    "id": ASPIRATION_ID,
    "category": "tawuran",
    "summary": "Info rencana tawuran remaja",
    "public_summary": "Informasi potensi tawuran telah diteruskan ke Polsek.",
    "description": "Warga memberi info rencana tawuran di perbatasan RW.",
    "urgency": "high",
    "confidential": True,
    "raised_by": {"name": "Warga RW 18", "kind": "person", "contact": "+62 812-0000-0018"},
    "backing": {"count": 12, "groups": ["Karang Taruna RW 18"]},
}
WRITE_EXAMPLE = {"id": ASPIRATION_ID, "status": "created", "tracking_code": "KA-7GQ4-M2"}
READERS = "officer, supervisor, admin"
WRITERS = "officer (own unit only), supervisor, admin"


def _path_param(name: str) -> dict:
    return path_param(name, "uuid")


_json = json_content


def _errors(*codes: int) -> dict:
    return errors(*codes)


def _write(summary, roles, body, example, answer, answer_example, params=()) -> dict:
    return {
        "summary": summary,
        "description": f"Roles: {roles}. Send an Idempotency-Key header to make replays safe.",
        "parameters": [
            *params,
            {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}},
        ],
        "requestBody": {"required": True, **_json(body, example)},
        "responses": {
            "201": {"description": "recorded", **_json(answer, answer_example)},
            "200": {"description": "already recorded (replayed client id)", **_json(answer)},
            **_errors(401, 403, 404, 409, *WRITE_ERRORS),
        },
    }


def _read(summary, answer, params=(), query=None) -> dict:
    parameters = [*params]
    if query is not None:
        parameters.append({"in": "query", "schema": query})
    return {
        "summary": summary,
        "description": f"Roles: {READERS}. Reporter identities only for the unit's "
        "officers and supervisors.",
        "parameters": parameters,
        "responses": {
            "200": {"description": "ok", **_json(answer)},
            **_errors(400, 401, 403, 404, 422),
        },
    }


def _photo_upload() -> dict:
    return {
        "summary": "Upload a photo (JPEG, PNG, WebP or HEIC; at most 15 MB and 50 MP)",
        "description": f"Roles: {WRITERS}. Decoded to check it, re-encoded as JPEG with the "
        "orientation applied and every metadata field (EXIF GPS above all) removed, at most "
        "1600 px, with a thumbnail; stored by sha256. Name it in an aspiration's `photos`. "
        "Send your own `id` to make a resend safe.",
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "id": {"type": "string", "format": "uuid"},
                        },
                    }
                }
            },
        },
        "responses": {
            "201": {"description": "stored", **_json("PhotoUploadOut")},
            "200": {"description": "already stored (resent id)", **_json("PhotoUploadOut")},
            **_errors(400, 401, 403, 409, 413, 415, 422, 503),
        },
    }


def _photo_read(summary: str) -> dict:
    return {
        "summary": summary,
        "description": f"Roles: {READERS}, for aspirations in their scope (others: 404).",
        "parameters": [_path_param("photo_id")],
        "responses": {
            "200": {
                "description": "the JPEG",
                "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
            },
            **_errors(401, 403, 404, 503),
        },
    }


def _paths() -> dict[str, dict]:
    meeting, aspiration = _path_param("meeting_id"), _path_param("aspiration_id")
    withdrawal = {"reason": "duplicate_of", "duplicate_of": "5d1f7c3e-0000-4000-8000-000000000012"}
    amendment = {"changes": {"urgency": "high"}, "reason": "Jadwal tawuran maju ke malam ini."}
    batch_answer = {"meeting_id": MEETING_ID, "items": [WRITE_EXAMPLE]}
    return {
        "/api/v1/meetings": {
            "post": _write(
                "Record a meeting",
                WRITERS,
                "MeetingIn",
                MEETING_EXAMPLE,
                "WriteOut",
                {"id": MEETING_ID, "status": "created"},
            ),
            "get": _read("List meetings", "MeetingPage", query=s.MeetingQuery),
        },
        "/api/v1/meetings/{meeting_id}": {
            "get": _read("A meeting with its aspirations", "MeetingOut", [meeting]),
        },
        "/api/v1/meetings/{meeting_id}/aspirations": {
            "post": _write(
                "Record a meeting's aspirations (all or nothing)",
                WRITERS,
                "BatchIn",
                {"aspirations": [ASPIRATION_EXAMPLE]},
                "BatchOut",
                batch_answer,
                [meeting],
            ),
        },
        "/api/v1/aspirations": {
            "post": _write(
                "Record one aspiration",
                WRITERS,
                "SingleAspirationIn",
                {**ASPIRATION_EXAMPLE, "meeting_id": MEETING_ID},
                "WriteOut",
                WRITE_EXAMPLE,
            ),
            "get": _read("List aspirations", "AspirationPage", query=s.AspirationQuery),
        },
        "/api/v1/aspirations/candidates": {
            "get": _read(
                "Open aspirations a new one could support (same kelurahan and category)",
                "CandidatesOut",
                query=s.CandidateQuery,
            ),
        },
        "/api/v1/regions": {
            "get": _read(
                "Regions to suggest as the officer types a location (official Kemendagri "
                "codes and names; prefix or word match)",
                "RegionsOut",
                query=s.RegionQuery,
            ),
        },
        "/api/v1/regions/area": {
            "get": _read(
                "Every kecamatan and kelurahan/desa of a unit's kabupaten/kota (the officer "
                "page keeps it on the phone to suggest places offline)",
                "AreaOut",
                query=s.AreaQuery,
            ),
        },
        "/api/v1/aspirations/{aspiration_id}": {
            "get": _read("One aspiration", "AspirationOut", [aspiration]),
        },
        "/api/v1/aspirations/{aspiration_id}/history": {
            "get": _read("What changed, when, by whom and why", "HistoryOut", [aspiration]),
        },
        "/api/v1/aspirations/{aspiration_id}/identity-views": {
            "get": _read(
                "Who was shown the reporter's or a supporter's identity, and when "
                "(supervisors of the aspiration's area)",
                "IdentityViewsOut",
                [aspiration],
            ),
        },
        "/api/v1/aspirations/{aspiration_id}/backing": {
            "post": _write(
                "Record residents backing an aspiration",
                WRITERS,
                "BackingIn",
                {"count": 25, "groups": ["APOC"], "meeting_id": MEETING_ID},
                "WriteOut",
                WRITE_EXAMPLE,
                [aspiration],
            ),
        },
        "/api/v1/aspirations/{aspiration_id}/amendments": {
            "post": _write(
                "Amend an aspiration (what changed and why)",
                WRITERS,
                "AmendmentIn",
                amendment,
                "WriteOut",
                WRITE_EXAMPLE,
                [aspiration],
            ),
        },
        "/api/v1/aspirations/{aspiration_id}/withdrawal": {
            "post": _write(
                "Withdraw an aspiration",
                WRITERS,
                "WithdrawalIn",
                withdrawal,
                "WriteOut",
                WRITE_EXAMPLE,
                [aspiration],
            ),
        },
        "/api/v1/photos": {"post": _photo_upload()},
        "/api/v1/photos/{photo_id}": {"get": _photo_read("The photo (JPEG, long side <= 1600 px)")},
        "/api/v1/photos/{photo_id}/thumbnail": {
            "get": _photo_read("The photo's thumbnail (JPEG, long side <= 320 px)")
        },
        "/open311/v2/requests.{fmt}": {"post": open311.filing_operation()},
        **operational_paths(),
    }


SCHEMAS = (
    "MeetingIn", "SingleAspirationIn", "BatchIn", "BackingIn", "AmendmentIn", "WithdrawalIn",
    "WriteOut", "BatchOut", "MeetingOut", "AspirationOut", "MeetingPage", "AspirationPage",
    "CandidatesOut", "HistoryOut", "RegionsOut", "AreaOut", "IdentityViewsOut", "PhotoUploadOut",
)  # fmt: skip


@cache
def build_spec() -> dict:
    """The OpenAPI 3 document as a dict."""
    return build_document(
        "Kawal Aspirasi: intake",
        "Officers record community meetings and the aspirations raised.",
        {name: getattr(s, name) for name in SCHEMAS} | open311.SCHEMAS,
        _paths(),
    )


bp = document_blueprint("intake_openapi", build_spec)
