"""What every page of both services shares: layout, i18n, staff login, CSRF, rate limits.

``install_pages(app)`` is called by each service's ``register_pages``; it adds the
``ka_pages`` blueprint (login/logout, the CSS) and HTML error pages for non-API paths.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException, InternalServerError

from shared.auth import AuthError
from shared.outage import unavailable_part
from shared.pages import csrf, i18n
from shared.pages.format import format_when
from shared.pages.messages import MESSAGES
from shared.pages.session import page_principal, renew_session
from shared.web import unavailable_response, wants_json

log = logging.getLogger(__name__)
HERE = os.path.dirname(os.path.abspath(__file__))


def install_pages(app: Flask, *, nav: list[tuple[str, str, tuple[str, ...]]]) -> Limiter:
    """Set up shared page machinery on `app`; returns the page rate limiter (Redis storage).

    `nav` lists (message key, URL, roles allowed; empty = everyone) for the header.
    """
    settings = app.config["SETTINGS"]
    app.config["HTML_ERRORS"] = True
    app.config.setdefault("SECURE_COOKIES", True)
    app.config["PAGES_NAV"] = nav
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.redis_url,
        key_prefix=f"{settings.redis_key_prefix}:pages-limit",
        strategy="moving-window",
        headers_enabled=True,
        # Redis away or slow: the same limits per process, never a failed request
        # (flask-limiter checks Redis again in the background and goes back to it).
        in_memory_fallback_enabled=True,
        storage_options={"socket_timeout": 0.1, "socket_connect_timeout": 0.1},
        # A request that was already waiting on Redis when another one switched to the
        # fallback would otherwise raise: let it through unlimited, once, rather than fail.
        swallow_errors=True,
    )
    app.extensions["page_limiter"] = limiter
    app.register_blueprint(_shared_blueprint(limiter, settings.sign_in_failure_limit))
    app.after_request(i18n.remember_lang)
    app.after_request(csrf.set_csrf_cookie)
    app.after_request(renew_session)

    app.add_template_filter(
        lambda value, with_time=True: format_when(value, i18n.current_lang(), with_time), "when"
    )

    @app.context_processor
    def _page_helpers():
        return {
            "t": i18n.translate,
            "pick": i18n.pick,
            "lang": i18n.current_lang(),
            "other_lang": "en" if i18n.current_lang() == "id" else "id",
            "csrf_token": csrf.csrf_token,
            "principal": page_principal(),
            "nav": _visible_nav(),
            "switch_lang_url": _switch_lang_url(),
        }

    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, _app_http_error)
    return limiter


def page_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint for a service's pages: CSRF on unsafe methods, HTML errors, no caching
    of staff pages by shared proxies."""
    bp = Blueprint(name, import_name, template_folder="templates")
    bp.before_request(csrf.check_csrf)
    bp.register_error_handler(Exception, render_error)
    return bp


def render_error(exc: Exception):
    """An HTML error page in the visitor's language (JSON for API callers)."""
    if not isinstance(exc, HTTPException):
        if isinstance(exc, AuthError):
            return redirect(url_for("ka_pages.login", next=request.full_path.rstrip("?")))
        part = unavailable_part(exc)
        if part:
            return unavailable_response(part, exc)
        log.exception("unhandled error in a page")
        exc = InternalServerError()
    if wants_json():
        return jsonify({"error": exc.name.lower(), "message": exc.description}), exc.code
    key = exc.description if exc.description in MESSAGES else f"error.{exc.code}"
    if key not in MESSAGES:
        key = "error.500" if (exc.code or 500) >= 500 else "error.400"
    response = make_response(
        render_template("ka/error.html", code=exc.code, message=i18n.translate(key)), exc.code
    )
    if exc.code == 429 and getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def render_unavailable():
    """The short page shown while a part is away (shared.web.unavailable_response sets the
    status and Retry-After). It names no user: the credential check may be what failed."""
    g.page_principal = None
    return make_response(
        render_template("ka/error.html", code=503, message=i18n.translate("error.503"))
    )


def _app_http_error(exc: HTTPException):
    if request.path.startswith("/open311/"):  # GeoReport v2 error format
        return jsonify([{"code": exc.code, "description": exc.description}]), exc.code
    if wants_json():
        return jsonify({"error": exc.name.lower(), "message": exc.description}), exc.code
    return render_error(exc)


def _switch_lang_url() -> str:
    args = request.args.to_dict()
    args["lang"] = "en" if i18n.current_lang() == "id" else "id"
    return request.path + "?" + urlencode(args)


def _visible_nav() -> list[tuple[str, str]]:
    principal = page_principal()
    items = []
    for key, url, roles in current_app.config.get("PAGES_NAV", []):
        if not roles or (principal is not None and principal.role in roles):
            items.append((key, url))
    return items


def _shared_blueprint(limiter: Limiter, failure_limit: str) -> Blueprint:
    from shared.pages import sign_in

    bp = Blueprint(
        "ka_pages",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static/ka",
    )
    bp.before_request(csrf.check_csrf)
    bp.register_error_handler(Exception, render_error)
    sign_in.add_routes(bp, limiter, failure_limit)
    bp.add_url_rule("/favicon.ico", "favicon", _favicon)
    return bp


def _favicon():
    """The site icon browsers ask for on every first page (a 404 otherwise)."""
    response = send_from_directory(os.path.join(HERE, "static"), "favicon.ico")
    response.cache_control.public, response.cache_control.max_age = True, 86400
    return response
