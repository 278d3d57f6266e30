"""Notices carried across a redirect (post/redirect/get) without being forgeable.

A page that acts and redirects puts the outcome in the query string (`?ok=` / `?err=`).
Shown as sent, that parameter would let anyone link a staff member to our page with a
message of their choosing ("your account is locked, call 0812..."). So the value is
signed with the service's secret and expires after a few minutes; a value that does not
open is not shown at all.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

SALT = "kawal-page-notice"
MAX_AGE_SECONDS = 300


def _serializer(key: str | None = None) -> URLSafeTimedSerializer:
    secret = key or current_app.config["SETTINGS"].jwt_secret
    return URLSafeTimedSerializer(secret, salt=SALT)


def seal(text: str) -> str:
    """The query-string value for a notice this service wrote."""
    return _serializer().dumps(text)


def unseal(value: str | None) -> str | None:
    """The notice behind `value`, or None when absent, forged, altered or expired. A
    notice sealed just before a key rotation still opens with a previous key."""
    if not value:
        return None
    previous = current_app.config["SETTINGS"].previous_secrets
    for key in (None, *previous):
        try:
            text = _serializer(key).loads(value, max_age=MAX_AGE_SECONDS)
        except BadData:
            continue
        return text if isinstance(text, str) else None
    return None
