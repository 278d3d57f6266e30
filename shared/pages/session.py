"""Staff login for pages: an HttpOnly cookie carrying the same signed token the APIs accept."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import wraps
from urllib.parse import urlsplit

import redis as redis_lib
from flask import current_app, g, redirect, request, url_for

from shared.auth import AuthError, Principal, RevocationList, Tokens

COOKIE = "ka_session"


def tokens() -> Tokens:
    """The app's token verifier (the API's own when installed, else an equivalent one)."""
    app = current_app
    if "tokens" in app.extensions:
        return app.extensions["tokens"]
    if "page_tokens" not in app.extensions:
        settings = app.config["SETTINGS"]
        client = redis_lib.Redis.from_url(settings.redis_url, socket_timeout=2)
        app.extensions["page_tokens"] = Tokens(
            settings.jwt_secret,
            settings.jwt_issuer,
            RevocationList(client, settings.redis_key_prefix),
        )
    return app.extensions["page_tokens"]


def session_token() -> str | None:
    return request.cookies.get(COOKIE) or None


def page_principal() -> Principal | None:
    """The logged-in staff member, or None (a bad, expired or revoked token counts as none)."""
    if "page_principal" not in g:
        token = session_token()
        principal = None
        if token:
            try:
                principal = tokens().verify(token)
            except AuthError:
                principal = None
        g.page_principal = principal
    return g.page_principal


def login_required(*roles: str):
    """Page decorator: redirect to the login form without a session; 403 page for other roles."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = page_principal()
            if principal is None:
                return redirect(url_for("ka_pages.login", next=request.full_path.rstrip("?")))
            if roles and principal.role not in roles:
                from werkzeug.exceptions import Forbidden

                raise Forbidden("login.wrong_role")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def set_session(response, token: str) -> None:
    claims_exp = _expiry(token)
    response.set_cookie(
        COOKIE,
        token,
        expires=claims_exp,
        httponly=True,
        secure=secure_cookies(),
        samesite="Lax",
    )


def clear_session(response) -> None:
    response.delete_cookie(COOKIE, httponly=True, secure=secure_cookies(), samesite="Lax")


def secure_cookies() -> bool:
    return not current_app.debug and current_app.config.get("SECURE_COOKIES", True)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _expiry(token: str) -> datetime | None:
    import jwt

    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return datetime.fromtimestamp(exp, UTC) if exp else None
