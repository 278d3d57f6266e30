"""Security headers on every response of both services, set by flask-talisman.

``install_security_headers(app)`` is called from each service's app factory. Every
response (pages, API, Open311, metrics, errors) gets:

- ``Content-Security-Policy``: scripts, styles, images and requests from the service's
  own origin only, no ``'unsafe-inline'`` (no page has an inline script, handler or style
  attribute: ``shared/pages/static/pages.js`` binds the print buttons), no plugins,
  ``base-uri 'none'``, forms posting to the service itself or a trusted origin (a
  sign-in returns to intake: ``FOLLOWUP_TRUSTED_ORIGINS``), and ``frame-ancestors 'none'``;
- ``X-Frame-Options: DENY`` (browsers without frame-ancestors), ``X-Content-Type-Options:
  nosniff``, ``Referrer-Policy: no-referrer`` (a tracking code in a URL never leaves
  in a Referer header);
- ``Permissions-Policy`` denying camera, microphone, geolocation, payment and USB; only
  views marked with :func:`allow_camera` (the officer's logging page) may use the camera;
- ``Strict-Transport-Security`` only when the request came over TLS (directly or
  ``X-Forwarded-Proto: https`` from the reverse proxy) and ``HSTS_MAX_AGE`` is above 0.

Talisman does not redirect to HTTPS here (``force_https=False``): TLS ends at the
reverse proxy, and the local run path and the tests speak plain HTTP. With ``PROXY_HOPS``
set (the reverse proxies in front), werkzeug's ProxyFix takes the client's address and
scheme from their X-Forwarded-For/-Proto, so per-address limits (tracking-code misses,
sign-in failures) count each resident, not the proxy; unset, those headers are ignored
and cannot be forged to dodge a limit.
"""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")
PERMISSIONS_POLICY = {feature: "()" for feature in DENIED_FEATURES}
CAMERA_PERMISSIONS_POLICY = {**PERMISSIONS_POLICY, "camera": "(self)"}
REFERRER_POLICY = "no-referrer"


def content_security_policy(trusted_origins: tuple[str, ...] = ()) -> dict[str, str]:
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": " ".join(("'self'", *trusted_origins)),
        "frame-ancestors": "'none'",
    }


def form_targets(settings) -> tuple[str, ...]:
    """Origins a form may post (or be redirected) to besides the service itself: the
    sign-in's trusted return origins (follow-up) and the sign-in service (intake)."""
    trusted = tuple(o.strip().rstrip("/") for o in settings.trusted_origins.split(",") if o.strip())
    if _origin(settings.sign_in_url):
        trusted += (_origin(settings.sign_in_url),)
    return trusted


def install_security_headers(app: Flask) -> Talisman:
    """Set the headers on every response of `app`; returns the Talisman instance."""
    settings = app.config["SETTINGS"]
    hsts_max_age = int(settings.hsts_max_age or 0)
    # One policy object, updated in place before each request from the settings then in
    # force (they may be replaced after the app is built): Chromium checks form-action on
    # the redirect a sign-in answers with, so it must name the origin the user returns to.
    policy = content_security_policy(form_targets(settings))
    talisman = Talisman(
        app,
        force_https=False,
        frame_options="DENY",
        content_security_policy=policy,
        referrer_policy=REFERRER_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        feature_policy={},
        document_policy={},
        strict_transport_security=hsts_max_age > 0,
        strict_transport_security_max_age=hsts_max_age,
        strict_transport_security_include_subdomains=False,
        session_cookie_secure=False,  # our session cookie is set by shared/pages/session.py
        session_cookie_http_only=False,
        x_content_type_options=True,
    )
    app.extensions["talisman"] = talisman
    hops = int(settings.proxy_hops or 0)
    if hops > 0:  # behind a reverse proxy: the client's address and scheme from its headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    @app.before_request
    def _current_form_targets():  # Talisman keeps its own copy of the policy: update that
        targets = form_targets(app.config["SETTINGS"])
        talisman.content_security_policy["form-action"] = content_security_policy(targets)[
            "form-action"
        ]

    return talisman


def allow_camera(view):
    """Mark a view whose page may use the camera (Permissions-Policy camera=(self))."""
    options = dict(getattr(view, "talisman_view_options", {}))
    options["permissions_policy"] = CAMERA_PERMISSIONS_POLICY
    view.talisman_view_options = options
    return view


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
