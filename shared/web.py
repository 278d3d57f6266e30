"""Flask pieces both services share: JSON errors, health and readiness endpoints."""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
from collections.abc import Callable

from flask import Blueprint, Flask, abort, current_app, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from shared import logs, metrics
from shared.fields import text_problem
from shared.outage import RETRY_AFTER_SECONDS, unavailable_part

log = logging.getLogger(__name__)
REQUEST_ID_HEADER = "X-Request-ID"
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,64}$")  # fits correlation_id


class ApiError(Exception):
    """An error with an HTTP status and a JSON body."""

    def __init__(self, status: int, message: str, **details):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


JSON_PATHS = ("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/open311/")


def wants_json() -> bool:
    """Machine endpoints, and callers that sent or asked for JSON, get JSON errors; pages
    (forms, browsers) may get HTML ones."""
    return (
        request.path.startswith(JSON_PATHS)
        or request.mimetype == "application/json"
        or request.accept_mimetypes.best == "application/json"
    )


def install_request_ids(app: Flask) -> None:
    """Every request gets an id: the caller's X-Request-ID when it is a safe token (at most
    64 characters), else a new one. It is echoed on the response, bound to every log
    record of the request and stored as the correlation id of the events it appends
    (shared.eventstore.store). One line per request is logged with route and status, and
    its duration observed in the request histogram (shared/metrics.py) by the same."""

    @app.before_request
    def _bind_request_id():
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = sent if SAFE_REQUEST_ID.match(sent) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        g.log_context = logs.bind(request_id=g.request_id, correlation_id=g.request_id)

    @app.after_request
    def _echo_request_id(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
            took = time.perf_counter() - g.request_started
            route = request.url_rule.rule if request.url_rule else metrics.NO_ROUTE
            status = response.status_code
            metrics.observe_request(request.method, route, status, took)
            log.info("%s %s -> %s in %.1f ms", request.method, route, status, took * 1000)
        return response

    @app.teardown_request
    def _unbind(_exc):
        token = g.pop("log_context", None)
        if token is not None:
            logs.unbind(token)


def install_json_errors(app: Flask) -> None:
    """Every API error is JSON with a status-appropriate code; never an HTML traceback."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return jsonify({"error": exc.message, **exc.details}), exc.status

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError):
        return jsonify({"error": "validation failed", "fields": exc.messages}), 422

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not wants_json() and app.config.get("HTML_ERRORS"):
            return exc
        return jsonify({"error": exc.name.lower(), "message": exc.description}), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        part = unavailable_part(exc)
        if part:
            return unavailable_response(part, exc)
        log.exception("unhandled error")
        return jsonify({"error": "internal server error"}), 500


def unavailable_response(part: str, exc: BaseException):
    """503 with Retry-After while `part` (database, redis) is away: JSON (Open311's error
    list under /open311/), or the visitor's language on pages (shared.pages)."""
    log.warning("%s unavailable: %s: %s", part, type(exc).__name__, str(exc)[:200])
    message = f"the {part} is unavailable for a moment; retry shortly"
    if request.path.startswith("/open311/"):
        response = jsonify([{"code": 503, "description": message}])
    elif not wants_json() and "ka_pages" in current_app.blueprints:
        from shared.pages import render_unavailable

        response = render_unavailable()
    else:
        response = jsonify(
            {"error": "service unavailable", "unavailable": part, "message": message}
        )
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def install_url_checks(app: Flask) -> None:
    """Refuse, before any view runs, a path or query string carrying what no stored text
    holds (NUL and other control characters; PostgreSQL cannot even compare with NUL).

    A path is then a 404 (nothing is stored under such a name), a query parameter a 400
    naming it; each error handler answers in its area's format (JSON, Open311, HTML).
    """

    @app.before_request
    def _check_url():
        if text_problem(request.path):
            abort(404)
        for name, value in request.args.items(multi=True):
            problem = text_problem(name) or text_problem(value)
            if problem:
                abort(400, f"query parameter {name[:40]!r}: {problem}")


def health_blueprint(checks: dict[str, Callable[[], None]]) -> Blueprint:
    """/healthz says the process is up; /readyz runs each dependency check."""
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @bp.get("/readyz")
    def readyz():
        results, ok = {}, True
        for name, check in checks.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                results[name] = f"unavailable: {type(exc).__name__}"
                ok = False
        return jsonify({"status": "ok" if ok else "unavailable", "checks": results}), (
            200 if ok else 503
        )

    return bp


MAX_JSON_DEPTH = 32
MAX_JSON_INTEGER = 2**63 - 1  # PostgreSQL's bigint: no stored number is larger


class _JsonRejected(ValueError):
    """The body is JSON, but not JSON this service will read (the message says why)."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JsonRejected(f"number {text[:40]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    value = int(text)  # over 4300 digits Python itself refuses (ValueError)
    if abs(value) > MAX_JSON_INTEGER:
        raise _JsonRejected(f"integer {text[:40]}... is out of range")
    return value


def _no_constant(name: str):
    raise _JsonRejected(f"{name} is not a JSON number")


def _depth(value) -> int:
    """How deeply arrays and objects nest (iteratively: no recursion on hostile input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, level + 1) for child in children)
    return deepest


def parse_json(raw: bytes):
    """The body as JSON, or an ApiError(400) saying why not.

    Stricter than `json.loads`: no NaN/Infinity, no number PostgreSQL could not hold,
    at most MAX_JSON_DEPTH levels of nesting (deeper input is refused before it can
    exhaust the parser's recursion limit).
    """
    try:
        data = json.loads(
            raw,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            parse_constant=_no_constant,
        )
    except _JsonRejected as exc:
        raise ApiError(400, "malformed JSON body", detail=str(exc)) from None
    except RecursionError:
        raise ApiError(400, "malformed JSON body", detail="nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int digit limit
        raise ApiError(400, "malformed JSON body", detail=str(exc)[:200]) from None
    if _depth(data) > MAX_JSON_DEPTH:
        message = f"nested deeper than {MAX_JSON_DEPTH} levels"
        raise ApiError(400, "malformed JSON body", detail=message)
    return data


def json_body() -> dict | list:
    """Parse the request body as JSON (see parse_json) or raise a 4xx that says why."""
    if not request.is_json:
        raise ApiError(415, "expected a JSON body (Content-Type: application/json)")
    if "parsed_json" not in g:
        g.parsed_json = parse_json(request.get_data(cache=True))
    return g.parsed_json
