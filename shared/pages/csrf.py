"""CSRF protection for page forms: a signed double-submit token.

Each browser gets a random HttpOnly ``ka_csrf`` cookie; forms (and the offline
queue's fetch calls, in the ``X-CSRF-Token`` header) carry HMAC(secret, cookie).
A cross-site page can neither read the cookie nor compute the HMAC, and a value
planted in the cookie by a sibling subdomain is useless without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, g, request
from werkzeug.exceptions import BadRequest

COOKIE = "ka_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class CsrfError(BadRequest):
    description = "csrf.failed"


def _secret(key: str | None = None) -> bytes:
    settings = current_app.config["SETTINGS"]
    return hashlib.sha256(f"csrf:{key or settings.jwt_secret}".encode()).digest()


def _sign(seed: str, key: str | None = None) -> str:
    return hmac.new(_secret(key), seed.encode(), hashlib.sha256).hexdigest()


def _accepted(seed: str, sent: str) -> bool:
    """Signed with the current key, or (during a key rotation) with a previous one, so a
    form opened before the rotation still submits."""
    previous = current_app.config["SETTINGS"].previous_secrets
    return any(hmac.compare_digest(sent, _sign(seed, key)) for key in (None, *previous))


def _seed() -> str:
    if "csrf_seed" not in g:
        g.csrf_seed = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
    return g.csrf_seed


def csrf_token() -> str:
    """The token to put in a form's hidden field (sets the cookie if needed)."""
    g.csrf_used = True
    return _sign(_seed())


def check_csrf() -> None:
    """Raise CsrfError unless an unsafe request carries a token matching its cookie."""
    if request.method in SAFE_METHODS:
        return
    seed = request.cookies.get(COOKIE)
    sent = request.headers.get(HEADER) or request.form.get(FIELD, "")
    if not seed or not sent or not _accepted(seed, sent):
        raise CsrfError()


def set_csrf_cookie(response):
    """after_request: store the seed when a page used a token and the browser had none."""
    if g.get("csrf_used") and request.cookies.get(COOKIE) != _seed():
        response.set_cookie(
            COOKIE,
            _seed(),
            httponly=True,
            secure=not current_app.debug and current_app.config.get("SECURE_COOKIES", True),
            samesite="Lax",
        )
    return response
