"""Photos on the follow-up side (issue 25): who may see, attach and remove a case's photos.

Intake keeps the officers' uploads; the AspirationRecorded event (v6) names them
(`photos: [{id, sha256, public}]`, never bytes). Follow-up records those references in
the case's own stream as it opens the case (`PhotoAttached`, kind `before`), and a proof
photo a liaison attaches as `PhotoAttached` kind `after`. `case_photos` is the read model
of those events (followup_service/projections.py), so `rebuild-projections` restores it.
Both services read the same photo store (PHOTO_STORE...): this service reads the blob and
answers it itself, so every fetch meets the rules below (no presigned URL:
shared/photos/store.py).

- **The public** (`/lacak/<code>/foto/<id>` and `.../thumbnail`, Open311 `media_url`):
  only a photo marked public, of a case that is not status-only. Status-only is THE
  visibility rule (followup_service.domain.visibility.reveals_status_only: a sensitive
  category or a confidential aspiration); such a case's photos never leave staff.
  Anything else answers 404, as an unknown photo.
- **Staff** (`/api/v1/cases/<case_id>/photos[/<id>[/thumbnail]]`, `/kerja/foto/...`): by
  the scope rule (shared.need_to_know through followup_service.need_to_know): a liaison
  sees the photos of their agency's cases, officers their unit's, supervisors their
  area's. Out of scope: 404.
- **Proof photos** (`POST /api/v1/photos`, and the worklist's progress and resolve forms):
  checked and re-encoded like intake's uploads, kept, and attached to the case in scope
  (`PhotoAttached` kind `after`, private unless marked public); the answer's
  `evidence_ref` goes into the progress note or the resolution.

**Removing a photo (an erasure request).** `DELETE /api/v1/cases/<case_id>/photos/<id>`
(or `POST .../hapus`, and "Hapus foto" on `/kerja`) with a short reason: the case's
stream records `PhotoRemoved`, the projection drops the row (so `/lacak`, Open311 and the
staff views stop naming it), and after the commit the blob and its thumbnail are deleted
from the store unless another `case_photos` row still names the same sha256 (blobs are
content-addressed). Who: a liaison the proof photos their agency attached, the case's
unit's officers and the area's supervisors the aspiration's photos, an admin (national
area) any (domain.case.may_remove_photo, on top of the one need-to-know rule); out of
scope 403; a photo the case does not hold (removed already) 404, so a second removal
changes nothing. The removal is follow-up's own, even for an aspiration's photo whose
upload row is intake's: follow-up holds the case and its references, and the services
share the store; intake's row stays (its `GET /api/v1/photos/<id>` answers 404 once the
blob is gone). Intake's own removals (withdrawal, `intake_service.cli photos erase`)
arrive as PhotosRemoved and are recorded here as `PhotoRemoved` too. The blob to delete
is queued in the removal's own transaction (followup_service/photos/blobs.py): if the
store is away after the commit, or the process dies before asking it, the worker deletes
it later, so an erasure request is never forgotten.
"""

from __future__ import annotations

import logging
import uuid

from flask import Blueprint, Flask, current_app, jsonify, request
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from followup_service.domain.visibility import reveals_status_only
from followup_service.photos import blobs
from shared.auth import ForbiddenError, Principal
from shared.fields import CleanText
from shared.need_to_know import Holding, decide
from shared.photos import MAX_PHOTO_BYTES, process_upload
from shared.photos.serving import PHOTO_FORM_LIMIT, blob_response, install_photo_answers
from shared.photos.store import put_photo, store_from_env
from shared.police import load_police_directory
from shared.web import json_body
from shared.web_auth import current_principal, require_role

STAFF = ("officer", "liaison", "supervisor", "admin")
REMOVERS = ("officer", "liaison", "supervisor", "admin")
log = logging.getLogger(__name__)


class CasePhotoOut(Schema):
    id = fields.UUID(required=True)
    sha256 = fields.String(required=True)
    public = fields.Boolean(required=True)
    kind = fields.String(required=True, metadata={"description": "before | after"})
    url = fields.String(required=True)
    thumbnail_url = fields.String(required=True)


class ProofPhotoOut(Schema):
    id = fields.UUID(required=True)
    sha256 = fields.String(required=True)
    url = fields.String(required=True)
    thumbnail_url = fields.String(required=True)
    evidence_ref = fields.String(required=True, metadata={"description": "photo:<id>"})
    version = fields.Integer(
        required=True, metadata={"description": "the case's version after attaching it"}
    )


class CasePhotosOut(Schema):
    items = fields.List(fields.Nested(CasePhotoOut), required=True)


class RemovePhotoIn(Schema):
    reason = CleanText(required=True, validate=validate.Length(min=1, max=200))


class PhotoRemovedOut(Schema):
    id = fields.UUID(required=True)
    removed = fields.Boolean(required=True)
    version = fields.Integer(required=True)


api = Blueprint("followup_photos_api", __name__, url_prefix="/api/v1/cases")
uploads = Blueprint("followup_photos_upload", __name__, url_prefix="/api/v1/photos")
public = Blueprint("followup_photos_public", __name__)
PROOF_ROLES = ("liaison", "officer", "supervisor")  # who may attach a proof photo (in scope)
PHOTO_FORM_ACTIONS = ("progress", "resolve")  # worklist forms that may carry a proof photo


def _tables():
    from followup_service.tables import case_photos, cases

    return case_photos, cases


def install_photos(app: Flask) -> None:
    app.extensions.setdefault("photo_store", store_from_env(prefix="FOLLOWUP_"))
    app.register_blueprint(api)
    app.register_blueprint(uploads)
    app.register_blueprint(public)
    from followup_service.photos import pages as photo_pages  # "Hapus foto" on /kerja

    app.register_blueprint(photo_pages.build_blueprint())
    install_photo_answers(app, _carries_proof_photo)


def _carries_proof_photo() -> bool:
    """The worklist's progress and resolve forms may carry a proof photo."""
    return (
        request.endpoint == "followup_staff.act"
        and (request.view_args or {}).get("action") in PHOTO_FORM_ACTIONS
    )


def _engine():
    return current_app.extensions["followup"].engine


def _store():
    return current_app.extensions["photo_store"]


def _not_found():
    return jsonify({"error": "not found", "message": "no such photo"}), 404


def _jpeg(sha256: str, thumbnail: bool, cache: str):
    """The blob (shared.photos.serving); 404 when the store no longer holds it."""
    return blob_response(_store(), sha256, thumbnail=thumbnail, cache=cache) or _not_found()


# --- the public ------------------------------------------------------------------------


def public_photos(conn, case_row) -> list[dict]:
    """The photos a case shows the public: none for a status-only case (the one rule);
    otherwise those marked public."""
    if case_row is None or reveals_status_only(case_row.sensitive):
        return []
    case_photos, _ = _tables()
    rows = conn.execute(
        select(case_photos.c.photo_id, case_photos.c.kind)
        .where(case_photos.c.case_id == case_row.case_id, case_photos.c.public)
        .order_by(case_photos.c.added_at, case_photos.c.photo_id)
    ).all()
    code = case_row.tracking_code
    return [
        {
            "id": r.photo_id,
            "kind": r.kind,
            "url": f"/lacak/{code}/foto/{r.photo_id}",
            "thumbnail_url": f"/lacak/{code}/foto/{r.photo_id}/thumbnail",
        }
        for r in rows
    ]


def public_media_urls(conn, case_rows, base_url: str) -> dict[str, str]:
    """Open311 `media_url` per case: the first public photo of each case that is not
    status-only (one query for a page of requests)."""
    shown = {r.case_id: r.tracking_code for r in case_rows if not reveals_status_only(r.sensitive)}
    if not shown:
        return {}
    case_photos, _ = _tables()
    rows = conn.execute(
        select(case_photos.c.case_id, case_photos.c.photo_id)
        .where(case_photos.c.case_id.in_(list(shown)), case_photos.c.public)
        .order_by(case_photos.c.case_id, case_photos.c.added_at, case_photos.c.photo_id)
    ).all()
    urls: dict[str, str] = {}
    for r in rows:
        urls.setdefault(
            r.case_id, f"{base_url.rstrip('/')}/lacak/{shown[r.case_id]}/foto/{r.photo_id}"
        )
    return urls


def public_photos_for_code(code: str) -> list[dict]:
    _, cases = _tables()
    with _engine().connect() as conn:
        row = conn.execute(
            select(cases.c.case_id, cases.c.tracking_code, cases.c.sensitive).where(
                cases.c.tracking_code == code, cases.c.parent_id.is_(None)
            )
        ).first()
        return public_photos(conn, row)


def _public(code: str, photo_id, thumbnail: bool):
    case_photos, cases = _tables()
    with _engine().connect() as conn:
        row = conn.execute(
            select(case_photos.c.sha256, case_photos.c.public, cases.c.sensitive)
            .join(cases, cases.c.case_id == case_photos.c.case_id)
            .where(case_photos.c.photo_id == str(photo_id), cases.c.tracking_code == code)
        ).first()
    if row is None or not row.public or reveals_status_only(row.sensitive):
        return _not_found()
    return _jpeg(row.sha256, thumbnail, "public, max-age=300")


@public.get("/lacak/<code>/foto/<uuid:photo_id>")
def public_photo(code: str, photo_id):
    return _public(code, photo_id, thumbnail=False)


@public.get("/lacak/<code>/foto/<uuid:photo_id>/thumbnail")
def public_thumbnail(code: str, photo_id):
    return _public(code, photo_id, thumbnail=True)


# --- staff -----------------------------------------------------------------------------


def _case_in_scope(conn, case_id: str, who: Principal):
    _, cases = _tables()
    row = conn.execute(
        select(cases.c.case_id, cases.c.region, cases.c.unit, cases.c.agency_id).where(
            cases.c.case_id == case_id
        )
    ).first()
    if row is None:
        return None
    from followup_service.need_to_know import scope_of

    holding = Holding(row.region or None, row.unit or None, row.agency_id)
    return row if decide(scope_of(who), holding, load_police_directory()).in_scope else None


@api.get("/<case_id>/photos")
@require_role(*STAFF)
def list_photos(case_id: str):
    case_photos, _ = _tables()
    with _engine().connect() as conn:
        if _case_in_scope(conn, case_id, current_principal()) is None:
            return _not_found()
        rows = conn.execute(
            select(case_photos)
            .where(case_photos.c.case_id == case_id)
            .order_by(case_photos.c.added_at, case_photos.c.photo_id)
        ).all()
    base = f"/api/v1/cases/{case_id}/photos"
    items = [
        {
            "id": r.photo_id,
            "sha256": r.sha256,
            "public": r.public,
            "kind": r.kind,
            "url": f"{base}/{r.photo_id}",
            "thumbnail_url": f"{base}/{r.photo_id}/thumbnail",
        }
        for r in rows
    ]
    return jsonify({"items": items})


def serve_to_staff(case_id: str, photo_id, thumbnail: bool, who: Principal):
    """A case's photo for staff in its scope (the API's bearer token or, for the
    worklist's images, the signed-in page); anything else 404."""
    case_photos, _ = _tables()
    with _engine().connect() as conn:
        if _case_in_scope(conn, case_id, who) is None:
            return _not_found()
        sha = conn.execute(
            select(case_photos.c.sha256).where(
                case_photos.c.case_id == case_id, case_photos.c.photo_id == str(photo_id)
            )
        ).scalar()
    if sha is None:
        return _not_found()
    return _jpeg(sha, thumbnail, "private, max-age=3600")


@api.get("/<case_id>/photos/<uuid:photo_id>")
@require_role(*STAFF)
def staff_photo(case_id: str, photo_id):
    return serve_to_staff(case_id, photo_id, False, current_principal())


@api.get("/<case_id>/photos/<uuid:photo_id>/thumbnail")
@require_role(*STAFF)
def staff_thumbnail(case_id: str, photo_id):
    return serve_to_staff(case_id, photo_id, True, current_principal())


# --- proof photos (a liaison shows what was fixed) --------------------------------------


def store_proof(
    case_id: str, upload, public_flag: bool, who: Principal, expected_version: int | None = None
) -> dict:
    """Check, re-encode and keep a proof photo, and attach it to a case in the caller's
    scope (PhotoAttached, kind "after"). Returns the answer; raises PhotoRejected (nothing
    kept), LookupError when the case is not the caller's to see, ForbiddenError when it is
    not theirs to act on, ConcurrencyError when `expected_version` is stale."""
    from followup_service import handlers

    data = upload.stream.read(MAX_PHOTO_BYTES + 1)
    photo = process_upload(data)  # before anything is looked up or kept
    with _engine().connect() as conn:
        if _case_in_scope(conn, case_id, who) is None:
            raise LookupError(case_id)
    # The blob first: an event must never name a blob that is not kept. A failed attach
    # leaves an unnamed blob (the same bytes again reuse it), never a dangling reference.
    put_photo(_store(), photo)
    photo_id = str(uuid.uuid4())
    case = handlers.attach_proof_photo(
        current_app.extensions["followup"],
        case_id,
        who,
        photo_id=photo_id,
        sha256=photo.sha256,
        public=public_flag,
        expected_version=expected_version,
    )
    base = f"/api/v1/cases/{case_id}/photos/{photo_id}"
    return {
        "id": photo_id,
        "sha256": photo.sha256,
        "url": base,
        "thumbnail_url": f"{base}/thumbnail",
        # what to put in the progress note's or resolution's evidence_ref
        "evidence_ref": f"photo:{photo_id}",
        "version": case.version,
    }


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "on", "yes")


@uploads.post("")
@require_role(*PROOF_ROLES)
def upload_proof():
    """A proof photo for a case (multipart: file, case_id, public, expected_version)."""
    request.max_content_length = PHOTO_FORM_LIMIT
    upload = request.files.get("file")
    case_id = (request.form.get("case_id") or "").strip()
    raw_version = (request.form.get("expected_version") or "").strip()
    problems = {}
    if upload is None:
        problems["file"] = ["Send the photo as `file`."]
    if not case_id or len(case_id) > 60:
        problems["case_id"] = ["Name the case the photo shows."]
    if raw_version and not (
        raw_version.isascii() and raw_version.isdigit() and len(raw_version) < 10
    ):
        problems["expected_version"] = ["A case version such as 3."]
    if problems:
        return jsonify({"error": "validation failed", "fields": problems}), 400
    try:
        answer = store_proof(
            case_id,
            upload,
            _flag(request.form.get("public")),
            current_principal(),
            int(raw_version) if raw_version else None,
        )
    except LookupError:
        return _not_found()
    return jsonify(answer), 201


def photos_by_case(conn, case_ids: list[str], who: Principal | None = None):
    """Before and after photos of the listed cases (the worklist lists only cases in the
    caller's scope), with the page routes that serve and remove them for a signed-in
    browser; `removable` says whether `who` may remove each."""
    from followup_service.domain.case import CasePhoto, may_remove_photo

    if not case_ids:
        return {}
    case_photos, _ = _tables()
    rows = conn.execute(
        select(case_photos)
        .where(case_photos.c.case_id.in_(case_ids))
        .order_by(case_photos.c.added_at, case_photos.c.photo_id)
    ).all()
    out: dict[str, dict[str, list[dict]]] = {}
    for r in rows:
        held = CasePhoto(r.photo_id, r.sha256, r.public, r.kind, r.agency_id, "", r.added_at)
        entry = {
            "id": r.photo_id,
            "url": f"/kerja/foto/{r.case_id}/{r.photo_id}",
            "thumbnail_url": f"/kerja/foto/{r.case_id}/{r.photo_id}/thumbnail",
            "removable": who is not None
            and may_remove_photo(held, who.role, getattr(who, "agency", None)),
        }
        out.setdefault(r.case_id, {"before": [], "after": []})[
            "after" if r.kind == "after" else "before"
        ].append(entry)
    return out


# --- removing a photo (an erasure request; see the module) -------------------------------


def remove_photo(case_id: str, photo_id: str, reason: str, who: Principal) -> int:
    """Record PhotoRemoved with its blob queued, then ask the store to delete the blob
    (photos.blobs: unless another case photo names it; later by the worker if the store is
    away). Returns the
    case's version. ForbiddenError (403), handlers.CaseNotFoundError or
    domain.case.PhotoNotFoundError (404) as the handler raises them."""
    from followup_service import handlers

    followup = current_app.extensions["followup"]
    case, photo = handlers.remove_photo(followup, case_id, who, photo_id=photo_id, reason=reason)
    # the removal is committed with its blob queued: a store that is away now leaves the
    # deletion to the worker (photos.blobs), never forgotten
    blobs.delete_due(_engine(), _store(), followup.clock(), only=photo.sha256)
    return case.version


def _remove(case_id: str, photo_id):
    from followup_service.domain.case import PhotoNotFoundError
    from followup_service.handlers import CaseNotFoundError

    data = RemovePhotoIn().load(json_body() if request.content_length else {})
    try:
        version = remove_photo(case_id, str(photo_id), data["reason"], current_principal())
    except (PhotoNotFoundError, CaseNotFoundError):
        return _not_found()
    except ForbiddenError as exc:
        return jsonify({"error": "forbidden", "message": str(exc)}), 403
    return jsonify({"id": str(photo_id), "removed": True, "version": version})


@api.delete("/<case_id>/photos/<uuid:photo_id>")
@require_role(*REMOVERS)
def delete_photo_route(case_id: str, photo_id):
    """Remove a photo (JSON `{"reason": ...}`, required, at most 200 characters)."""
    return _remove(case_id, photo_id)


@api.post("/<case_id>/photos/<uuid:photo_id>/hapus")
@require_role(*REMOVERS)
def remove_photo_route(case_id: str, photo_id):
    """The same as DELETE, for clients that cannot send a body with DELETE."""
    return _remove(case_id, photo_id)
