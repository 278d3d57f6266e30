"""The worklist's photo actions (issue 25), beside followup_service/pages/staff.py:
"Hapus foto" (remove a photo on an erasure request) and the proof photo a progress note
or a resolution may carry. Both act through the follow-up API's rules as the signed-in
staff member (followup_service/photos/api.py says who may do what).
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from werkzeug.exceptions import NotFound

from followup_service.photos import api as case_photos
from shared.auth import ForbiddenError
from shared.eventstore.store import ConcurrencyError
from shared.pages import page_blueprint
from shared.pages.api_client import call_api
from shared.pages.i18n import pick
from shared.pages.notice import seal
from shared.pages.session import login_required, page_principal
from shared.photos import PhotoRejected

WORKLIST = "followup_staff.worklist"
STALE = {
    "id": "kasus sudah berubah; muat ulang halaman",
    "en": "the case changed meanwhile; reload the page",
}


def build_blueprint():
    bp = page_blueprint("followup_photo_pages", __name__)

    @bp.post("/kerja/foto/<case_id>/<uuid:photo_id>/hapus")
    @login_required("liaison", "officer", "supervisor", "admin")
    def remove_photo(case_id: str, photo_id):
        """ "Hapus foto": the API's removal (reason required) as the signed-in staff member;
        not theirs to remove 403, gone already 404."""
        code = request.form.get("code", "")
        body = {"reason": request.form.get("reason", "").strip()}
        result = call_api("POST", f"/api/v1/cases/{case_id}/photos/{photo_id}/hapus", json=body)
        if result.status in (403, 404):
            abort(result.status)
        if result.ok:
            return redirect(url_for(WORKLIST, ok=seal(code)) + f"#c-{code}")
        problems = (result.data or {}).get("fields") or {}
        message = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in problems.items())
        return redirect(url_for(WORKLIST, err=seal(f"{code}: {message or result.message}")))

    return bp


def attach_from_form(case_id: str, action: str, body: dict):
    """The progress or resolve form's proof photo, kept and attached (PhotoAttached) before
    the note or resolution naming it in `body["evidence_ref"]`. The attach is one more
    event, so a form's expected version moves on by one. Returns a response when refused
    (a redirect with the reason, 403, 404), None otherwise (also when there is no photo,
    or no text: the API refuses such a note, so no photo is attached for it)."""
    proof = request.files.get("photo")
    if action not in case_photos.PHOTO_FORM_ACTIONS or proof is None or not proof.filename:
        return None
    if not request.form.get("text", "").strip():
        return None
    code = request.form.get("code", "")
    expected = body.get("expected_version")
    try:
        kept = case_photos.store_proof(
            case_id, proof, request.form.get("photo_public") == "on", page_principal(), expected
        )
    except PhotoRejected as exc:
        return redirect(url_for(WORKLIST, err=seal(f"{code}: {exc.message}")))
    except LookupError:
        raise NotFound() from None
    except ForbiddenError:
        abort(403)
    except ConcurrencyError:
        return redirect(url_for(WORKLIST, err=seal(f"{code}: {pick(STALE)}")))
    body["evidence_ref"] = kept["evidence_ref"]
    if expected is not None:
        body["expected_version"] = kept["version"]
    return None
