"""Photos over HTTP in both services: the one place that reads a blob for a response
(so the headers and the "gone from the store" case are the same everywhere), and the
answers every photo route shares (`install_photo_answers`).

The callers decide first whether the caller may see the photo (intake: the aspiration's
scope; follow-up: the case's scope or the public rule); this only serves the bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, jsonify, request

from shared.photos.processing import MAX_PHOTO_BYTES, PhotoRejected
from shared.photos.store import StoreUnavailable, photo_key, thumb_key
from shared.web import unavailable_response

PHOTO_FORM_LIMIT = MAX_PHOTO_BYTES + 256 * 1024  # one photo and the form's other fields


def install_photo_answers(app: Flask, carries_photo: Callable[[], bool]) -> None:
    """A request `carries_photo` says may bring a photo gets a photo's body limit instead
    of the 1 MB JSON one (set before a page's CSRF check reads the form); a refused upload
    answers its 4xx with field messages; a photo store that is away answers 503."""

    @app.before_request
    def _photo_body_limit():
        if carries_photo():
            request.max_content_length = PHOTO_FORM_LIMIT

    @app.errorhandler(PhotoRejected)
    def _rejected(exc: PhotoRejected):
        return jsonify(exc.as_json()), exc.status

    @app.errorhandler(StoreUnavailable)
    def _store_away(exc: StoreUnavailable):
        return unavailable_response("photo store", exc)


def blob_response(store, sha256: str, *, thumbnail: bool, cache: str):
    """The JPEG (or its thumbnail) as a response, or None when the store no longer holds
    it (removed: withdrawal, erasure). StoreUnavailable propagates (503)."""
    data = store.get(thumb_key(sha256) if thumbnail else photo_key(sha256))
    if data is None:
        return None
    response = current_app.response_class(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = cache
    response.headers["Content-Disposition"] = "inline"
    return response
