"""Answering a kept photo's bytes (both services): the one place that reads a blob for a
response, so the headers and the "gone from the store" case are the same everywhere.

The callers decide first whether the caller may see the photo (intake: the aspiration's
scope; follow-up: the case's scope or the public rule); this only serves the bytes.
"""

from __future__ import annotations

from flask import current_app

from shared.photos.store import photo_key, thumb_key


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
