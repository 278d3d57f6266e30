"""Staff login for pages: an HttpOnly cookie carrying the same signed token the APIs accept."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, url_for

from shared.auth import SESSION_TTL, AuthError, Principal, Tokens
from shared.redis_clients import credentials_client

COOKIE = "ka_session"


def tokens() -> Tokens:
    """The app's token verifier (the API's own when installed, else an equivalent one)."""
    app = current_app
    if "tokens" in app.extensions:
        return app.extensions["tokens"]
    if "page_tokens" not in app.extensions:
        settings = app.config["SETTINGS"]
        from shared.web_auth import make_tokens

        client = credentials_client(settings.redis_url)
        app.extensions["page_tokens"] = make_tokens(settings, client)
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
    response.set_cookie(
        COOKIE,
        token,
        expires=_expiry(token),
        httponly=True,
        secure=secure_cookies(),
        samesite="Lax",
        domain=current_app.config["SETTINGS"].session_cookie_domain or None,
    )


def clear_session(response) -> None:
    response.delete_cookie(
        COOKIE,
        httponly=True,
        secure=secure_cookies(),
        samesite="Lax",
        domain=current_app.config["SETTINGS"].session_cookie_domain or None,
    )


def renew_session(response):
    """after_request: a session past half its life gets a fresh token (same session id),
    so staff who keep working stay signed in and an idle session ends after SESSION_TTL."""
    principal = g.get("page_principal")
    if principal is None or principal.kind != "session" or principal.expires_at is None:
        return response
    if g.get("session_ended") or COOKIE in _cookies_set(response):
        return response
    if principal.expires_at - datetime.now(UTC) > SESSION_TTL / 2:
        return response
    token = tokens().renew(principal)
    if token:
        set_session(response, token)
    return response


def _cookies_set(response) -> set[str]:
    return {h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie")}


def secure_cookies() -> bool:
    return not current_app.debug and current_app.config.get("SECURE_COOKIES", True)


def safe_next(target: str | None, default: str = "/", trusted_origins: tuple[str, ...] = ()) -> str:
    """Same-site relative paths, or a URL on one of our own services' origins (the
    intake pages return there after signing in here): never an open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in trusted_origins and "\\" not in target and not parts.username:
            return target
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _expiry(token: str) -> datetime | None:
    import jwt

    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return datetime.fromtimestamp(exp, UTC) if exp else None
