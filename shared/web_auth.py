"""Flask side of the tokens: read the bearer token, require roles, map errors to 401/403."""

from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, g, jsonify, request

from shared.auth import (
    AccountGate,
    AuthError,
    ForbiddenError,
    Principal,
    RevocationList,
    Tokens,
)
from shared.config import Settings, require_safe_secret


def make_tokens(settings: Settings, redis_client) -> Tokens:
    """The token checker both services use: revocations and account standing in Redis."""
    return Tokens(
        settings.jwt_secret,
        settings.jwt_issuer,
        RevocationList(redis_client, settings.redis_key_prefix),
        AccountGate(redis_client, settings.redis_key_prefix),
        previous_secrets=settings.previous_secrets,
    )


def install_auth(app: Flask, settings: Settings, redis_client) -> Tokens:
    require_safe_secret(settings)
    tokens = make_tokens(settings, redis_client)
    app.extensions["tokens"] = tokens

    @app.errorhandler(AuthError)
    def _unauthorized(exc: AuthError):
        response = jsonify({"error": "unauthorized", "message": str(exc)})
        response.headers["WWW-Authenticate"] = 'Bearer realm="kawal-aspirasi"'
        return response, 401

    @app.errorhandler(ForbiddenError)
    def _forbidden(exc: ForbiddenError):
        return jsonify({"error": "forbidden", "message": str(exc)}), 403

    return tokens


def current_principal() -> Principal:
    """The caller, from the `Authorization: Bearer` header (cached per request)."""
    if "principal" not in g:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("missing bearer token")
        g.principal = current_app.extensions["tokens"].verify(token.strip())
    return g.principal


def require_role(*roles: str):
    """View decorator: 401 without a valid token, 403 for a role not in `roles`."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if roles and principal.role not in roles:
                raise ForbiddenError(f"role {principal.role!r} may not do this")
            return view(*args, **kwargs)

        return wrapper

    return decorate
