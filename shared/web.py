"""Flask pieces both services share: JSON errors, health and readiness endpoints."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Flask, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status and a JSON body."""

    def __init__(self, status: int, message: str, **details):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


JSON_PATHS = ("/api/", "/healthz", "/readyz", "/openapi.json", "/open311/")


def wants_json() -> bool:
    """Machine endpoints always answer JSON; pages may answer HTML errors."""
    return (
        request.path.startswith(JSON_PATHS) or request.accept_mimetypes.best == "application/json"
    )


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
        log.exception("unhandled error")
        return jsonify({"error": "internal server error"}), 500


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


def json_body() -> dict | list:
    """Parse the request body as JSON or raise a 400 that says why."""
    if not request.is_json:
        raise ApiError(415, "expected a JSON body (Content-Type: application/json)")
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "malformed JSON body")
    return data
