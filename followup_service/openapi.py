"""OpenAPI 3 description of the follow-up API (liaison commands, supervisor reads, public
tracking, Open311), generated with apispec from marshmallow schemas.

Request schemas are the ones the endpoints validate with (followup_service/api.py,
tracking.py); the response schemas below describe the dicts those endpoints build, and
the contract test (schemathesis) holds the two together.
"""

from __future__ import annotations

from functools import cache

from marshmallow import Schema, fields, validate

from followup_service import api, tracking
from followup_service.photos.api import CasePhotosOut, PhotoRemovedOut, ProofPhotoOut, RemovePhotoIn
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
from shared.taxonomy import DATATYPES

STAFF = "liaison (own agency's cases), officer (own unit's cases), supervisor, admin"
CASE_ID = path_param("case_id", description="case id, e.g. case-5d1f7c3e-...")
CODE = path_param("code", description="public tracking code, e.g. KA-7GQ4-M2")
NULLABLE_TIME = {"allow_none": True, "required": True}


# --- response shapes ---------------------------------------------------------------------


class Labels(Schema):
    id = fields.String(required=True, metadata={"description": "Bahasa Indonesia"})
    en = fields.String(required=True)


class AgencyRef(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class Deadlines(Schema):
    acknowledge_by = fields.String(**NULLABLE_TIME)
    resolve_by = fields.String(**NULLABLE_TIME)
    verify_by = fields.String(**NULLABLE_TIME)


class PublicTimelineEntry(Schema):
    at = fields.String(required=True)
    event = fields.String(required=True)
    id = fields.String(required=True)
    en = fields.String(required=True)


class _PublicFields(Schema):
    tracking_code = fields.String(required=True)
    status = fields.String(required=True)
    outcome = fields.String(allow_none=True, required=True)
    status_label = fields.Nested(Labels, required=True)
    category = fields.String(required=True)
    category_label = fields.Nested(Labels, required=True)
    kelurahan = fields.String(allow_none=True, required=True)
    kecamatan = fields.String(allow_none=True, required=True)
    public_summary = fields.String(allow_none=True, required=True)
    public_summary_label = fields.Nested(Labels, required=True)
    status_only = fields.Boolean(required=True)
    duplicate_of = fields.String(allow_none=True, required=True)
    backing_count = fields.Integer(required=True)
    deadlines = fields.Nested(Deadlines, required=True)
    timeline = fields.List(fields.Nested(PublicTimelineEntry), required=True)
    id = fields.String(required=True)
    aspiration_id = fields.String(required=True)
    parent_id = fields.String(allow_none=True, required=True)
    version = fields.Integer(required=True)


class PublicCaseOut(_PublicFields):
    """What anyone with the tracking code sees: no reporter, description or notes."""

    agency = fields.String(allow_none=True, required=True)


class TimelineEntry(Schema):
    seq = fields.Integer(required=True)
    event = fields.String(required=True)
    at = fields.String(required=True)
    actor = fields.String(allow_none=True, required=True)
    public = fields.Boolean(required=True)
    data = fields.Dict(required=True)


class CaseOut(_PublicFields):
    """The case for those who may see its details (ETag: its version)."""

    agency = fields.Nested(AgencyRef, allow_none=True, required=True)
    region = fields.String(allow_none=True, required=True)
    location_verified = fields.Boolean(required=True)
    unit = fields.String(allow_none=True, required=True)
    urgency = fields.String(allow_none=True, required=True)
    sensitive = fields.Boolean(required=True)
    description = fields.String(allow_none=True, required=True)
    level = fields.Integer(required=True)
    ladder = fields.List(fields.Nested(AgencyRef), required=True)
    rule_version = fields.String(allow_none=True, required=True)
    declined_by = fields.List(fields.String(), required=True)
    sub_case_ids = fields.List(fields.String(), required=True)
    close_reason = fields.String(allow_none=True, required=True)
    next_deadline_at = fields.String(allow_none=True, required=True)
    overdue = fields.Boolean(required=True)
    allowed_actions = fields.List(fields.String(), required=True)
    subscriber_count = fields.Integer(
        required=True, metadata={"description": "residents following it (never who)"}
    )
    public_timeline = fields.List(fields.Nested(PublicTimelineEntry), required=True)
    timeline = fields.List(fields.Nested(TimelineEntry), required=True)


class MovedOnOut(Schema):
    """A command's answer when the caller may no longer see the (sensitive) case."""

    id = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)


class CaseListItem(Schema):
    id = fields.String(required=True)
    parent_id = fields.String(allow_none=True, required=True)
    tracking_code = fields.String(required=True)
    category = fields.String(required=True)
    kecamatan = fields.String(allow_none=True, required=True)
    kelurahan = fields.String(allow_none=True, required=True)
    region = fields.String(
        required=True, metadata={"description": "Kemendagri code (or the typed names' path)"}
    )
    location_verified = fields.Boolean(
        required=True, metadata={"description": "false: lokasi belum terverifikasi"}
    )
    status = fields.String(required=True)
    outcome = fields.String(allow_none=True, required=True)
    agency = fields.Nested(AgencyRef, allow_none=True, required=True)
    level = fields.Integer(required=True)
    urgency = fields.String(allow_none=True, required=True)
    sensitive = fields.Boolean(required=True)
    public_summary = fields.String(allow_none=True, required=True)
    next_deadline_at = fields.String(allow_none=True, required=True)
    overdue = fields.Boolean(required=True)
    escalations = fields.Integer(required=True)
    opened_at = fields.String(required=True)
    updated_at = fields.String(required=True)
    version = fields.Integer(required=True)


class CasePage(Schema):
    items = fields.List(fields.Nested(CaseListItem), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class IllegalTransitionOut(Schema):
    """409: the action is not allowed in the case's current status."""

    error = fields.String(required=True)
    action = fields.String(required=True)
    current_status = fields.String(required=True)
    allowed_actions = fields.List(fields.String(), required=True)


class StaleVersionOut(Schema):
    """409: the case changed since the caller read it (If-Match / expected_version)."""

    error = fields.String(required=True)
    expected_version = fields.Integer(required=True)
    current_version = fields.Integer(required=True)


class SubCaseOut(Schema):
    id = fields.String(required=True)
    tracking_code = fields.String(required=True)
    category = fields.String(required=True)
    agency = fields.String(allow_none=True, required=True)
    status = fields.String(required=True)


class SplitOut(MovedOnOut):
    sub_cases = fields.List(fields.Nested(SubCaseOut), required=True)


class AgencyCount(Schema):
    agency_id = fields.String(allow_none=True, required=True)
    agency_name = fields.String(allow_none=True, required=True)
    open = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class CategoryCount(Schema):
    category = fields.String(required=True)
    open = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class OldestCase(Schema):
    id = fields.String(required=True)
    tracking_code = fields.String(required=True)
    category = fields.String(required=True)
    status = fields.String(required=True)
    agency = fields.Nested(AgencyRef, allow_none=True, required=True)
    opened_at = fields.String(required=True)
    age_hours = fields.Float(required=True)
    age_days = fields.Float(required=True)
    overdue = fields.Boolean(required=True)


class StatsOut(Schema):
    as_of = fields.String(required=True)
    by_agency = fields.List(fields.Nested(AgencyCount), required=True)
    by_category = fields.List(fields.Nested(CategoryCount), required=True)
    total_open = fields.Integer(required=True)
    total_overdue = fields.Integer(required=True)
    median_hours_to_acknowledge = fields.Float(allow_none=True, required=True)
    median_hours_to_resolve = fields.Float(allow_none=True, required=True)
    acknowledged_cases = fields.Integer(required=True)
    resolved_cases = fields.Integer(required=True)
    oldest_open = fields.List(fields.Nested(OldestCase), required=True)


class DisputeOut(Schema):
    tracking_code = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)


class PublicListItem(Schema):
    id = fields.String(required=True)
    category = fields.String(required=True)
    category_label = fields.Nested(Labels, required=True)
    kelurahan = fields.String(allow_none=True, required=True)
    kecamatan = fields.String(allow_none=True, required=True)
    status = fields.String(required=True)
    status_label = fields.Nested(Labels, required=True)
    outcome = fields.String(allow_none=True, required=True)
    agency = fields.String(allow_none=True, required=True)
    public_summary = fields.String(allow_none=True, required=True)
    deadlines = fields.Nested(Deadlines, required=True)
    backing_count = fields.Integer(required=True)


class PublicPage(Schema):
    items = fields.List(fields.Nested(PublicListItem), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class Open311Endpoint(Schema):
    specification = fields.String(required=True)
    url = fields.String(required=True)
    changeset = fields.String(required=True)
    type = fields.String(required=True)
    formats = fields.List(fields.String(), required=True)


class Open311Discovery(Schema):
    changeset = fields.String(required=True)
    contact = fields.String(required=True)
    key_service = fields.String(required=True)
    endpoints = fields.List(fields.Nested(Open311Endpoint), required=True)


class Open311Service(Schema):
    service_code = fields.String(required=True)
    service_name = fields.String(required=True)
    description = fields.String(required=True)
    metadata = fields.Boolean(required=True)
    type = fields.String(required=True)
    keywords = fields.String(required=True)
    group = fields.String(required=True)
    listed = fields.Boolean(required=True)


class Open311AttributeValue(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)


class Open311Attribute(Schema):
    variable = fields.Boolean(
        required=True, metadata={"description": "false: a notice that takes no answer"}
    )
    code = fields.String(required=True)
    datatype = fields.String(required=True, validate=validate.OneOf(DATATYPES))
    required = fields.Boolean(required=True)
    datatype_description = fields.String(allow_none=True, required=True)
    order = fields.Integer(required=True, validate=validate.Range(min=1))
    description = fields.String(required=True)
    values = fields.List(
        fields.Nested(Open311AttributeValue),
        required=True,
        metadata={"description": "the choices of a singlevaluelist or multivaluelist"},
    )


class Open311ServiceDefinition(Schema):
    """GeoReport v2 service definition: the extra answers a category asks for."""

    service_code = fields.String(required=True)
    attributes = fields.List(fields.Nested(Open311Attribute), required=True)


class Open311Request(Schema):
    service_request_id = fields.String(required=True)
    status = fields.String(required=True)
    status_notes = fields.String(allow_none=True, required=True)
    service_name = fields.String(required=True)
    service_code = fields.String(required=True)
    description = fields.String(required=True)
    agency_responsible = fields.String(required=True)
    service_notice = fields.String(required=True)
    requested_datetime = fields.String(allow_none=True, required=True)
    updated_datetime = fields.String(allow_none=True, required=True)
    expected_datetime = fields.String(allow_none=True, required=True)
    address = fields.String(required=True)
    address_id = fields.String(required=True)
    jurisdiction_id = fields.String(
        allow_none=True, required=True, metadata={"description": "kabupaten/kota code"}
    )
    zipcode = fields.String(required=True)
    lat = fields.Float(allow_none=True, required=True)
    long = fields.Float(allow_none=True, required=True)
    media_url = fields.String(required=True)


class Open311Update(Schema):
    update_id = fields.String(required=True)
    service_request_id = fields.String(required=True)
    status = fields.String(required=True)
    updated_datetime = fields.String(allow_none=True, required=True)
    description = fields.String(allow_none=True, required=True)
    media_url = fields.String(required=True)
    external_status_code = fields.String(required=True)


# --- operations --------------------------------------------------------------------------


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str) -> dict:
    return {"type": "array", "items": _ref(name)}


def _read(summary: str, answer, params=(), query=None, roles=STAFF, codes=(401, 403)) -> dict:
    parameters = [*params]
    if query is not None:
        parameters.append({"in": "query", "schema": query})
    operation = {
        "summary": summary,
        "description": f"Roles: {roles}.",
        "parameters": parameters,
        "responses": {
            "200": {"description": "ok", **json_content(answer)},
            **errors(400, *codes, 422),
        },
    }
    if roles is None:
        operation["security"] = []
        operation["description"] = "Public, no sign-in."
    return operation


def _command(summary: str, body: type[Schema], example: dict) -> dict:
    return {
        "summary": summary,
        "description": f'Roles: {STAFF}. Guard with `If-Match: "<version>"` or '
        "`expected_version`; a stale version or an action the status does not allow "
        "answers 409 naming the current status and the allowed actions.",
        "parameters": [
            CASE_ID,
            {"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"}},
        ],
        "requestBody": {"required": False, **json_content(body, example)},
        "responses": {
            "200": {
                "description": "the case after the command",
                **json_content({"oneOf": [_ref("CaseOut"), _ref("MovedOnOut")]}),
            },
            "409": {
                "description": "illegal transition or stale version",
                **json_content({"oneOf": [_ref("IllegalTransitionOut"), _ref("StaleVersionOut")]}),
            },
            **errors(*WRITE_ERRORS, 401, 403, 404),
        },
    }


COMMANDS = {
    "assign": ("Route to an agency", api.AssignIn, {"agency_id": "dishub-3604", "reason": "PJU"}),
    "acknowledge": ("Acknowledge receipt", api.CommandIn, {"expected_version": 3}),
    "progress": ("Note progress", api.ProgressIn, {"text": "Survei dijadwalkan.", "public": True}),
    "escalate": ("Escalate to the next level", api.ReasonIn, {"reason": "Tidak ada tanggapan."}),
    "decline": ("Decline: not this agency's job", api.ReasonIn, {"reason": "Bukan kewenangan."}),
    "resolve": ("Report it resolved", api.ResolveIn, {"resolution": "Lampu diganti."}),
    "confirm": ("Officer confirms the resolution", api.ConfirmIn, {}),
    "dispute": ("Officer disputes the resolution", api.ReasonIn, {"reason": "Masih mati."}),
    "reopen": ("Reopen a closed case", api.ReasonIn, {"reason": "Rusak lagi."}),
    "close": ("Close with an outcome", api.CloseIn, {"outcome": "no_further_action"}),
}  # fmt: skip


def _open311(summary: str, answer, params: list) -> dict:
    """An Open311 read: public, both formats from one data shape, errors in the spec's form."""
    failed = open311.both_formats(_array("Open311Error"))
    return {
        "get": {
            "summary": summary,
            "description": "Public, no sign-in. GeoReport v2; datetimes carry an offset.",
            "security": [],
            "parameters": [open311.FORMAT_PARAMETER, *params],
            "responses": {
                "200": {"description": "ok", **open311.both_formats(answer)},
                "400": {"description": "bad filter", **failed},
                "404": {"description": "not found", **failed},
            },
        }
    }


def _paths() -> dict[str, dict]:
    open311_query = [
        {
            "in": "query",
            "name": name,
            "required": False,
            "schema": {"type": "string"},
            "description": about,
        }
        for name, about in (
            ("service_request_id", "comma separated; overrides every other filter"),
            ("jurisdiction_id", "a kabupaten/kota code (e.g. 32.75): its requests only"),
            ("service_code", "comma separated"),
            (
                "start_date",
                "W3C date-time with an offset; a window spans at most 90 days "
                "(default: the last 90 days)",
            ),
            ("end_date", "W3C date-time with an offset, not before start_date"),
            ("status", "open, closed or both, comma separated"),
        )
    ]
    paging = [
        {"in": "query", "name": name, "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": highest}}
        for name, highest in (("page", 10**6), ("page_size", 1000))
    ]  # fmt: skip
    paths = {
        "/api/v1/cases": {
            "get": _read("Cases in the caller's scope, nearest deadline first", "CasePage",
                         query=api.CaseQuery),
        },
        "/api/v1/cases/{case_id}": {
            "get": {
                **_read("One case: details for those who may see them, else the public view",
                        {"oneOf": [_ref("CaseOut"), _ref("PublicCaseOut")]}, [CASE_ID],
                        codes=(401, 403, 404)),
                "security": [{}, {"bearer": []}],
            },
        },
        "/api/v1/cases/{case_id}/split": {
            "post": {
                **_command("Split into sub-cases for different agencies", api.SplitIn,
                           {"sub_cases": [{"category": "road_damage", "public_summary": "Jalan"},
                                          {"category": "drainage", "public_summary": "Got"}]}),
                "responses": {
                    "201": {"description": "split", **json_content("SplitOut")},
                    **_command("", api.SplitIn, {})["responses"],
                },
            },
        },
        "/api/v1/stats": {
            "get": _read("Open and overdue per agency and category, medians, oldest open",
                         "StatsOut", query=api.StatsQuery, roles="supervisor, admin"),
        },
        "/api/v1/track/{code}": {
            "get": _read("Progress of an aspiration by its tracking code", "PublicCaseOut",
                         [CODE], roles=None, codes=(404, 429)),
        },
        "/api/v1/track/{code}/dispute": {
            "post": {
                "summary": "A resident disputes a reported resolution",
                "description": "Public, no sign-in; rate limited per code and address.",
                "security": [],
                "parameters": [CODE],
                "requestBody": {"required": True, **json_content(
                    tracking.DisputeIn, {"reason": "Lampu masih mati."})},
                "responses": {
                    "200": {"description": "back with the agency", **json_content("DisputeOut")},
                    "409": {"description": "not awaiting verification",
                            **json_content("IllegalTransitionOut")},
                    **errors(*WRITE_ERRORS, 404, 429),
                },
            },
        },
        "/api/v1/public/cases": {
            "get": _read("Publicly listed cases (never sensitive ones)", "PublicPage",
                         query=tracking.PublicQuery, roles=None, codes=()),
        },
        "/open311/v2/discovery.{fmt}": _open311(
            "Open311 GeoReport v2 discovery", "Open311Discovery", []),
        "/open311/v2/services.{fmt}": _open311(
            "Open311 services (categories)", _array("Open311Service"), []),
        "/open311/v2/services/{service_code}.{fmt}": _open311(
            "Open311 service definition: the attributes a category asks for (404 for an "
            "unknown or sensitive code)", "Open311ServiceDefinition",
            [path_param("service_code", description="e.g. street_lighting")]),
        "/open311/v2/requests.{fmt}": {
            **_open311("Open311 service requests (public cases)", _array("Open311Request"),
                       open311_query + paging),
            "post": open311.filing_operation(),
        },
        "/open311/v2/requests/{request_id}.{fmt}": _open311(
            "One Open311 service request", _array("Open311Request"),
            [path_param("request_id")]),
        "/open311/v2/servicerequestupdates.{fmt}": _open311(
            "Open311 status updates (the public timelines)", _array("Open311Update"),
            open311_query[:1] + open311_query[3:5]),
        **operational_paths(),
    }  # fmt: skip
    for action, (summary, body, example) in COMMANDS.items():
        paths[f"/api/v1/cases/{{case_id}}/{action}"] = {"post": _command(summary, body, example)}
    paths.update(_photo_paths())
    return paths


def _photo_paths() -> dict[str, dict]:
    """Issue 25: a case's photos for staff in scope (followup_service/photos/api.py)."""
    photo = path_param("photo_id", "uuid")
    jpeg = {
        "200": {
            "description": "the JPEG",
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
        },
        **errors(401, 403, 404, 503),
    }

    def read(summary: str) -> dict:
        return {
            "summary": summary,
            "description": f"Roles: {STAFF}, for cases in their scope (others: 404).",
            "parameters": [CASE_ID, photo],
            "responses": jpeg,
        }

    upload = {
        "summary": "Attach a proof photo to a case (what was fixed)",
        "description": "Roles: liaison, officer, supervisor, for cases in their scope (others: "
        "404). Checked and re-encoded like intake's uploads (no metadata, <= 1600 px), and "
        "attached to the case (PhotoAttached: the case's version moves on by one; send "
        "expected_version to guard it). Put the answer's evidence_ref in the progress note "
        "or the resolution.",
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "case_id"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "case_id": {"type": "string"},
                            "public": {"type": "boolean"},
                            "expected_version": {"type": "integer"},
                        },
                    }
                }
            },
        },
        "responses": {
            "201": {"description": "kept", **json_content("ProofPhotoOut")},
            **errors(400, 401, 403, 404, 413, 415, 422, 503),
        },
    }
    remove = {
        "summary": "Remove a photo on an erasure request",
        "description": "Roles: a liaison the proof photos their agency attached; the case's "
        "unit's officers and the area's supervisors the aspiration's photos; an admin with "
        "the national area any; always for a case in scope (others: 403). Records "
        "PhotoRemoved with the reason and deletes the blob and thumbnail from the store. A "
        "photo the case does not hold (removed already): 404.",
        "parameters": [CASE_ID, photo],
        "requestBody": {"required": True, **json_content("RemovePhotoIn")},
        "responses": {
            "200": {"description": "removed", **json_content("PhotoRemovedOut")},
            **errors(*WRITE_ERRORS, 401, 403, 404, 503),
        },
    }
    return {
        "/api/v1/photos": {"post": upload},
        "/api/v1/cases/{case_id}/photos": {
            "get": _read("The photos the aspiration names (before) and proof photos (after)",
                         "CasePhotosOut", [CASE_ID], codes=(401, 403, 404)),
        },
        "/api/v1/cases/{case_id}/photos/{photo_id}": {
            "get": read("A case's photo"),
            "delete": remove,
        },
        "/api/v1/cases/{case_id}/photos/{photo_id}/hapus": {
            "post": {**remove, "summary": "Remove a photo (the same as DELETE, for clients "
                     "that cannot send a body with DELETE)"},
        },
        "/api/v1/cases/{case_id}/photos/{photo_id}/thumbnail": {
            "get": read("A case's photo as a thumbnail (long side <= 320 px)")
        },
    }  # fmt: skip


SCHEMAS = {
    schema.__name__: schema
    for schema in (
        PublicCaseOut, CaseOut, MovedOnOut, CasePage, IllegalTransitionOut, StaleVersionOut,
        SplitOut, StatsOut, DisputeOut, PublicPage, Open311Discovery, Open311Service,
        Open311ServiceDefinition, Open311Request, Open311Update, CasePhotosOut, ProofPhotoOut,
        RemovePhotoIn, PhotoRemovedOut,
    )
} | open311.SCHEMAS  # fmt: skip


@cache
def build_spec() -> dict:
    """The OpenAPI 3 document as a dict."""
    return build_document(
        "Kawal Aspirasi: follow-up",
        "Agency liaisons work their cases; supervisors watch deadlines; residents follow "
        "progress by tracking code; Open311 GeoReport v2 for civic-tech clients.",
        SCHEMAS,
        _paths(),
    )


bp = document_blueprint("followup_openapi", build_spec)
