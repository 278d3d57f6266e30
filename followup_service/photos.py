"""Photos on the follow-up side (issue 25): who may see an aspiration's photos here.

Intake keeps the uploads; the AspirationRecorded event (v6) names them
(`photos: [{id, sha256, public}]`, never bytes). The consumer writes those references into
`case_photos` in the poll's transaction, beside the case it opens. Both services read the
same photo store (PHOTO_STORE...): this service reads the blob and answers it itself,
so every fetch meets the rules below (no presigned URL: shared/photos/store.py).

- **The public** (`/lacak/<code>/foto/<id>` and `.../thumbnail`, Open311 `media_url`):
  only a photo the officer marked public, of a case that is not status-only. Status-only
  is THE visibility rule (followup_service.domain.visibility.reveals_status_only: a
  sensitive category or a confidential aspiration); such a case's photos never leave staff.
  Anything else answers 404, as an unknown photo.
- **Staff** (`/api/v1/cases/<case_id>/photos[/<id>[/thumbnail]]`): by the scope rule
  (shared.need_to_know through followup_service.need_to_know): a liaison sees the photos of
  their agency's cases, officers their unit's, supervisors their area's. Out of scope: 404.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Flask, current_app, jsonify, request
from marshmallow import Schema, fields
from sqlalchemy import Boolean, Column, DateTime, MetaData, String, Table, false, select
from sqlalchemy.dialects.postgresql import insert

from followup_service.domain.visibility import reveals_status_only
from shared.auth import Principal
from shared.need_to_know import Holding, decide
from shared.photos import MAX_PHOTO_BYTES, PhotoRejected, StoreUnavailable, process_upload
from shared.photos.store import photo_key, store_from_env, thumb_key
from shared.police import load_police_directory
from shared.timeutil import utcnow
from shared.web_auth import current_principal, require_role

STAFF = ("officer", "liaison", "supervisor", "admin")


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


class CasePhotosOut(Schema):
    items = fields.List(fields.Nested(CasePhotoOut), required=True)


api = Blueprint("followup_photos_api", __name__, url_prefix="/api/v1/cases")
uploads = Blueprint("followup_photos_upload", __name__, url_prefix="/api/v1/photos")
public = Blueprint("followup_photos_public", __name__)
PROOF_ROLES = ("liaison", "officer", "supervisor")  # who may attach a proof photo (in scope)


def define_case_photos_table(metadata: MetaData) -> Table:
    return Table(
        "case_photos",
        metadata,
        Column("photo_id", String(36), primary_key=True),
        Column("case_id", String(60), nullable=False, index=True),
        Column("sha256", String(64), nullable=False),
        Column("public", Boolean, nullable=False, server_default=false()),
        Column("kind", String(10), nullable=False, server_default="before"),  # before | after
        Column("added_at", DateTime(timezone=True), nullable=False),
    )


def _tables():
    from followup_service.tables import case_photos, cases

    return case_photos, cases


def record_from_intake(conn, case_id: str, payload: dict) -> None:
    """The references an AspirationRecorded event carries, kept with the case it opens
    (inside the consumer's transaction; a redelivered event changes nothing)."""
    refs = payload.get("photos") or []
    if not refs:
        return
    case_photos, _ = _tables()
    now = utcnow()
    rows = [
        {
            "photo_id": str(ref["id"]),
            "case_id": case_id,
            "sha256": ref["sha256"],
            "public": bool(ref.get("public")),
            "kind": "before",
            "added_at": now,
        }
        for ref in refs
    ]
    conn.execute(insert(case_photos).values(rows).on_conflict_do_nothing())


def forget(conn, photo_ids: list[str]) -> None:
    """Photos intake removed (withdrawal, erasure): no route shows them any more."""
    if photo_ids:
        case_photos, _ = _tables()
        conn.execute(case_photos.delete().where(case_photos.c.photo_id.in_(photo_ids)))


def install_photos(app: Flask) -> None:
    app.extensions.setdefault("photo_store", store_from_env(prefix="FOLLOWUP_"))
    app.register_blueprint(api)
    app.register_blueprint(uploads)
    app.register_blueprint(public)

    @app.before_request
    def _photo_body_limit():
        """The worklist's resolve form may carry a proof photo: a photo's limit, not the
        1 MB JSON limit (set before the page's CSRF check reads the form)."""
        if (
            request.endpoint == "followup_staff.act"
            and (request.view_args or {}).get("action") == "resolve"
        ):
            request.max_content_length = MAX_PHOTO_BYTES + 256 * 1024

    @app.errorhandler(PhotoRejected)
    def _rejected(exc: PhotoRejected):
        return jsonify(exc.as_json()), exc.status

    @app.errorhandler(StoreUnavailable)
    def _store_away(exc: StoreUnavailable):
        response = jsonify({"error": "service unavailable", "unavailable": "photo store"})
        response.headers["Retry-After"] = "5"
        return response, 503


def _engine():
    return current_app.extensions["followup"].engine


def _not_found():
    return jsonify({"error": "not found", "message": "no such photo"}), 404


def _jpeg(sha256: str, thumbnail: bool, cache: str):
    key = thumb_key(sha256) if thumbnail else photo_key(sha256)
    data = current_app.extensions["photo_store"].get(key)
    if data is None:  # deleted (withdrawal, erasure)
        return _not_found()
    response = current_app.response_class(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = cache
    response.headers["Content-Disposition"] = "inline"
    return response


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


def _staff(case_id: str, photo_id, thumbnail: bool):
    case_photos, _ = _tables()
    with _engine().connect() as conn:
        if _case_in_scope(conn, case_id, current_principal()) is None:
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
    return _staff(case_id, photo_id, thumbnail=False)


@api.get("/<case_id>/photos/<uuid:photo_id>/thumbnail")
@require_role(*STAFF)
def staff_thumbnail(case_id: str, photo_id):
    return _staff(case_id, photo_id, thumbnail=True)


# --- proof photos (a liaison shows what was fixed) --------------------------------------


def store_proof(case_id: str, upload, public_flag: bool, who: Principal) -> dict:
    """Check, re-encode and keep a proof photo of a case in the caller's scope (kind
    "after"). Returns the answer; raises PhotoRejected (nothing kept) or LookupError when
    the case is not the caller's to act on."""
    data = upload.stream.read(MAX_PHOTO_BYTES + 1)
    photo = process_upload(data)  # before anything is looked up or kept
    case_photos, _ = _tables()
    with _engine().begin() as conn:
        if _case_in_scope(conn, case_id, who) is None:
            raise LookupError(case_id)
        store = current_app.extensions["photo_store"]
        store.put(photo_key(photo.sha256), photo.data, photo.content_type)
        store.put(thumb_key(photo.sha256), photo.thumbnail, photo.content_type)
        photo_id = str(uuid.uuid4())
        conn.execute(
            case_photos.insert().values(
                photo_id=photo_id,
                case_id=case_id,
                sha256=photo.sha256,
                public=public_flag,
                kind="after",
                added_at=utcnow(),
            )
        )
    base = f"/api/v1/cases/{case_id}/photos/{photo_id}"
    return {
        "id": photo_id,
        "sha256": photo.sha256,
        "url": base,
        "thumbnail_url": f"{base}/thumbnail",
        # what to put in the resolution's evidence_ref: the event carries the reference
        "evidence_ref": f"photo:{photo_id}",
    }


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "on", "yes")


@uploads.post("")
@require_role(*PROOF_ROLES)
def upload_proof():
    """A proof photo for a case (multipart: file, case_id, public)."""
    request.max_content_length = MAX_PHOTO_BYTES + 256 * 1024
    upload = request.files.get("file")
    case_id = (request.form.get("case_id") or "").strip()
    problems = {}
    if upload is None:
        problems["file"] = ["Send the photo as `file`."]
    if not case_id or len(case_id) > 60:
        problems["case_id"] = ["Name the case the photo shows."]
    if problems:
        return jsonify({"error": "validation failed", "fields": problems}), 400
    try:
        answer = store_proof(
            case_id, upload, _flag(request.form.get("public")), current_principal()
        )
    except LookupError:
        return _not_found()
    return jsonify(answer), 201


def photos_by_case(conn, case_ids: list[str]) -> dict[str, dict[str, list[dict]]]:
    """Before and after photos of the listed cases (the worklist lists only cases in the
    caller's scope), with the page routes that serve them to a signed-in browser."""
    if not case_ids:
        return {}
    case_photos, _ = _tables()
    rows = conn.execute(
        select(case_photos.c.case_id, case_photos.c.photo_id, case_photos.c.kind)
        .where(case_photos.c.case_id.in_(case_ids))
        .order_by(case_photos.c.added_at, case_photos.c.photo_id)
    ).all()
    out: dict[str, dict[str, list[dict]]] = {}
    for r in rows:
        entry = {
            "id": r.photo_id,
            "url": f"/kerja/foto/{r.case_id}/{r.photo_id}",
            "thumbnail_url": f"/kerja/foto/{r.case_id}/{r.photo_id}/thumbnail",
        }
        out.setdefault(r.case_id, {"before": [], "after": []})[
            "after" if r.kind == "after" else "before"
        ].append(entry)
    return out


def serve_to_staff(case_id: str, photo_id, thumbnail: bool, who: Principal):
    """The staff routes' rule, for a signed-in page (the worklist's images)."""
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
