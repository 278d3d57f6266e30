"""Photos as evidence on intake (issue 25): officers upload, aspirations refer to them.

- `POST /api/v1/photos` (multipart, field `file`; optional field `id`, a UUID the page
  makes so a resent upload is recognised): the upload is checked and re-encoded by
  shared.photos (nothing is stored when it is refused), the blobs go to the photo store
  under their sha256, and a row in `photos` records who uploaded it for which unit.
  Answer: `{id, sha256, url, thumbnail_url, width, height}`.
- An aspiration names up to 5 of them (`photos: [{id, public}]`, private by default); the
  AspirationRecorded event carries the references (`{id, sha256, public}`), never bytes,
  and the rows are bound to the aspiration in the same transaction.
- `GET /api/v1/photos/<id>` and `/thumbnail`: staff only, by the one scope rule
  (shared.need_to_know, the aspiration's holding): out of scope 404, as unknown. A photo
  not attached yet is its uploader's unit's. The service reads the blob and answers it
  (shared/photos/store.py says why no presigned URL).
"""

from __future__ import annotations

import logging
import uuid

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    false,
    select,
    update,
)

from intake_service.domain.access import READERS, WRITERS
from intake_service.domain.errors import InvalidError, NotFoundError
from shared.need_to_know import Holding, Scope, decide
from shared.photos import MAX_PHOTO_BYTES, StoreUnavailable, process_upload
from shared.photos.serving import PHOTO_FORM_LIMIT, blob_response, install_photo_answers
from shared.photos.store import delete_photo, photo_key, put_photo, store_from_env, thumb_key
from shared.police import load_police_directory
from shared.timeutil import utcnow
from shared.units import unit_id
from shared.web_auth import current_principal, require_role

MAX_PER_ASPIRATION = 5
log = logging.getLogger(__name__)

bp = Blueprint("intake_photos", __name__, url_prefix="/api/v1/photos")


def define_photos_table(metadata: MetaData) -> Table:
    return Table(
        "photos",
        metadata,
        Column("photo_id", String(36), primary_key=True),
        Column("sha256", String(64), nullable=False, index=True),
        Column("width", Integer, nullable=False),
        Column("height", Integer, nullable=False),
        Column("size", Integer, nullable=False),  # bytes of the stored JPEG
        Column("uploaded_by", String(120), nullable=False),  # role:subject
        Column("unit", String(200), index=True),  # the uploader's unit
        Column("uploaded_at", DateTime(timezone=True), nullable=False),
        Column("aspiration_id", String(36), index=True),  # None until an aspiration names it
        Column("public", Boolean, nullable=False, server_default=false()),
        Column("removed_at", DateTime(timezone=True)),  # blob deleted (withdrawal, erasure)
    )


def _table() -> Table:
    from intake_service.tables import photos

    return photos


def photo_store():
    return current_app.extensions["photo_store"]


def install_photos(app: Flask) -> None:
    """The photo routes and the store the environment names (tests may replace
    app.extensions["photo_store"] after create_app)."""
    app.extensions.setdefault("photo_store", store_from_env(prefix="INTAKE_"))
    app.register_blueprint(bp)

    # /catat's outbox sends photos through its page route
    install_photo_answers(app, lambda: request.endpoint == "intake_pages.forward_photo")


def links(photo_id: str) -> dict:
    return {
        "url": f"/api/v1/photos/{photo_id}",
        "thumbnail_url": f"/api/v1/photos/{photo_id}/thumbnail",
    }


def _answer(row) -> dict:
    return {
        "id": row.photo_id,
        "sha256": row.sha256,
        **links(row.photo_id),
        "width": row.width,
        "height": row.height,
    }


@bp.post("")
@require_role(*WRITERS)
def upload():
    return upload_as(current_principal())


def upload_as(principal):
    """The upload, for a bearer token (the API) or a signed-in page (/catat's outbox)."""
    request.max_content_length = PHOTO_FORM_LIMIT
    upload = request.files.get("file")
    if upload is None:
        return jsonify(
            {"error": "validation failed", "fields": {"file": ["Send the photo as `file`."]}}
        ), 400
    raw_id = request.form.get("id")
    try:
        photo_id = str(uuid.UUID(raw_id)) if raw_id else str(uuid.uuid4())
    except ValueError:
        return jsonify({"error": "validation failed", "fields": {"id": ["Not a UUID."]}}), 422
    data = upload.stream.read(MAX_PHOTO_BYTES + 1)
    photo = process_upload(data)  # PhotoRejected -> 4xx, nothing stored
    photos = _table()
    engine = current_app.extensions["intake"].engine
    with engine.connect() as conn:
        existing = conn.execute(select(photos).where(photos.c.photo_id == photo_id)).first()
    if existing is not None:  # a resent upload: the same answer, nothing new
        if existing.uploaded_by != principal.actor or existing.sha256 != photo.sha256:
            return jsonify({"error": "conflict", "message": "This id names another photo."}), 409
        return jsonify(_answer(existing)), 200
    store = photo_store()
    put_photo(store, photo)
    row = {
        "photo_id": photo_id,
        "sha256": photo.sha256,
        "width": photo.width,
        "height": photo.height,
        "size": len(photo.data),
        "uploaded_by": principal.actor,
        "unit": unit_id(principal.unit) if principal.unit else None,
        "uploaded_at": utcnow(),
    }
    with engine.begin() as conn:
        conn.execute(photos.insert().values(**row))
        stored = conn.execute(select(photos).where(photos.c.photo_id == photo_id)).one()
    return jsonify(_answer(stored)), 201


def _serve(photo_id, thumbnail: bool):
    photos = _table()
    from intake_service.tables import aspirations

    engine = current_app.extensions["intake"].engine
    with engine.connect() as conn:
        row = conn.execute(
            select(photos).where(photos.c.photo_id == str(photo_id), photos.c.removed_at.is_(None))
        ).first()
        owner = None
        if row is not None and row.aspiration_id:
            owner = conn.execute(
                select(aspirations.c.region_code, aspirations.c.unit).where(
                    aspirations.c.aspiration_id == row.aspiration_id
                )
            ).first()
    if row is None or not _may_see(row, owner):
        raise NotFoundError(f"photo {photo_id}")
    response = blob_response(
        photo_store(), row.sha256, thumbnail=thumbnail, cache="private, max-age=3600"
    )
    if response is None:
        raise NotFoundError(f"photo {photo_id}")
    return response


def _may_see(row, owner) -> bool:
    """The aspiration's scope decides; a photo not attached yet is its uploader's (and
    their unit's)."""
    principal = current_principal()
    directory = load_police_directory()
    if row.aspiration_id is None:
        scope = Scope.of(principal, directory)
        if principal.actor == row.uploaded_by:
            return True
        return decide(scope, Holding(None, row.unit), directory).in_scope
    if owner is None:
        return False
    return decide(
        Scope.of(principal, directory), Holding(owner.region_code, owner.unit), directory
    ).in_scope


@bp.get("/<uuid:photo_id>")
@require_role(*READERS)
def get_photo(photo_id):
    return _serve(photo_id, thumbnail=False)


@bp.get("/<uuid:photo_id>/thumbnail")
@require_role(*READERS)
def get_thumbnail(photo_id):
    return _serve(photo_id, thumbnail=True)


# --- attaching to an aspiration (inside the recording transaction) ----------------------


def resolve_references(conn, refs: list[dict], principal) -> list[dict]:
    """The event's references for the photos an aspiration names: each one uploaded by
    the caller or their unit, not removed, not another aspiration's. InvalidError (422)
    otherwise; nothing is written here."""
    if not refs:
        return []
    if len(refs) > MAX_PER_ASPIRATION:
        raise InvalidError("photos", f"At most {MAX_PER_ASPIRATION} photos per aspiration.")
    ids = [str(r["id"]) for r in refs]
    if len(set(ids)) != len(ids):
        raise InvalidError("photos", "A photo is named twice.")
    photos = _table()
    rows = {
        r.photo_id: r
        for r in conn.execute(
            select(photos).where(photos.c.photo_id.in_(ids)).with_for_update()
        ).all()
    }
    unit = unit_id(principal.unit) if principal.unit else None
    out = []
    for ref, photo_id in zip(refs, ids, strict=True):
        row = rows.get(photo_id)
        mine = row is not None and (
            row.uploaded_by == principal.actor or (unit is not None and row.unit == unit)
        )
        if not mine or row.removed_at is not None or row.aspiration_id is not None:
            raise InvalidError("photos", f"Photo {photo_id} is not yours to attach.")
        out.append({"id": photo_id, "sha256": row.sha256, "public": bool(ref.get("public"))})
    return out


def bind(conn, aspiration_id: str, references: list[dict]) -> None:
    """Mark the rows as the aspiration's (same transaction as its event)."""
    photos = _table()
    for ref in references:
        conn.execute(
            update(photos)
            .where(photos.c.photo_id == ref["id"])
            .values(aspiration_id=aspiration_id, public=ref["public"])
        )


def remove_for(conn, aspiration_id: str) -> tuple[list[str], list[str]]:
    """Mark an aspiration's photos removed: (their ids, the sha256 whose blobs no live row
    still names; the caller deletes those blobs once the transaction committed)."""
    photos = _table()
    removed = conn.execute(
        update(photos)
        .where(photos.c.aspiration_id == aspiration_id, photos.c.removed_at.is_(None))
        .values(removed_at=utcnow())
        .returning(photos.c.photo_id, photos.c.sha256)
    ).all()
    ids, shas = sorted(r.photo_id for r in removed), {r.sha256 for r in removed}
    if not shas:
        return [], []
    still = set(
        conn.execute(
            select(photos.c.sha256).where(photos.c.sha256.in_(shas), photos.c.removed_at.is_(None))
        ).scalars()
    )
    return ids, sorted(shas - still)


# PhotosRemoved (the event a removal records) is in shared/events/intake.py: it is
# published, so follow-up stops showing the photos too.


def delete_blobs(store, shas: list[str]) -> bool:
    """Delete the blobs of photos no live row names; False (logged) when the store is
    away: the rows already say removed, and `photos prune` deletes them later."""
    try:
        for sha in shas:
            delete_photo(store, sha)
    except StoreUnavailable as exc:
        log.warning("photo blobs not deleted yet (%s): %d left for prune", exc, len(shas))
        return False
    return True


def prune(conn, store) -> int:
    """Delete the blobs of removed photos that no live row names (after a store outage
    during a removal). Returns how many photos' blobs were deleted."""
    photos = _table()
    live = select(photos.c.sha256).where(photos.c.removed_at.is_(None))
    shas = sorted(
        set(
            conn.execute(
                select(photos.c.sha256).where(
                    photos.c.removed_at.is_not(None), photos.c.sha256.not_in(live)
                )
            ).scalars()
        )
    )
    shas = [s for s in shas if store.get(thumb_key(s)) is not None or store.get(photo_key(s))]
    delete_blobs(store, shas)
    return len(shas)


# --- an erasure request (operators: python -m intake_service.cli photos erase ...) ------


def erase_photos(intake, store, aspiration_id: str, actor: str) -> list[str]:
    """Remove an aspiration's photos on an erasure request: a private PhotosRemoved event
    (reason "erasure") in the aspiration's stream, the rows marked removed, then the blobs
    no live row names deleted. Returns the removed photo ids (none: nothing recorded)."""
    from intake_service.handlers import load_aspiration, stream_id
    from shared.events.envelope import NewEvent

    orphans: list[str] = []
    with intake.engine.begin() as conn:
        target = load_aspiration(intake, conn, aspiration_id)
        if target is None:
            raise NotFoundError(f"no aspiration {aspiration_id}")
        ids, orphans = remove_for(conn, aspiration_id)
        if ids:
            payload = {"aspiration_id": aspiration_id, "photo_ids": ids, "reason": "erasure"}
            event = NewEvent("PhotosRemoved", payload, actor=actor)
            stored = intake.store.append(
                conn,
                stream_id(aspiration_id),
                target.version,
                [event],
                message_key=target.message_key,
            )
            from intake_service.projections import apply

            for envelope in stored:
                apply(conn, envelope)
    if orphans:
        delete_blobs(store, orphans)
    return ids
