"""What comes back from residents' mail clients: one-click unsubscribe (RFC 8058).

    POST /kabar/<token>/berhenti    a mail client's one-click unsubscribe (the email's
                                    List-Unsubscribe-Post header): body
                                    `List-Unsubscribe=One-Click`, answered 200

These routes are on their own blueprint, without the page CSRF check: a mail client has
no cookie and no form token. The unguessable token in the URL is the credential, as it is
for the GET link in the body; every other page route keeps its check.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, make_response
from werkzeug.exceptions import HTTPException

from followup_service.notifications import store
from shared.outage import RETRY_AFTER_SECONDS, unavailable_part
from shared.web import wants_json

log = logging.getLogger(__name__)

UNSUBSCRIBED = {
    "id": "Anda berhenti berlangganan kabar {code}.",
    "en": "You are unsubscribed from {code}.",
}


def build_blueprint() -> Blueprint:
    from followup_service.notifications.pages import _code_of_case, _engine, _page, _t

    bp = Blueprint("notifications_inbound", __name__)

    @bp.errorhandler(Exception)
    def _error(exc: Exception):
        """JSON for machines; 503 while the database is away, as everywhere else."""
        if isinstance(exc, HTTPException):
            return jsonify({"error": exc.name.lower(), "message": exc.description}), exc.code
        part = unavailable_part(exc)
        if part is None:
            log.exception("unhandled error in an inbound notification route")
            return jsonify({"error": "internal server error"}), 500
        log.warning("%s unavailable: %s", part, type(exc).__name__)
        response = jsonify(
            {
                "error": "service unavailable",
                "unavailable": part,
                "message": f"the {part} is unavailable for a moment; retry shortly",
            }
        )
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @bp.post("/kabar/<token>/berhenti")
    def one_click_unsubscribe(token: str):
        """RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` to the
        List-Unsubscribe URL. Any body is accepted: the token decides."""
        with _engine().begin() as conn:
            sub = store.by_token(conn, token)
            code = _code_of_case(conn, sub.case_id) if sub else None
            gone = store.unsubscribe(conn, token)
        if not gone:
            if wants_json():
                return jsonify({"error": "not found", "message": "unknown or used link"}), 404
            return _page(404, message=_t("unknown_link"))
        language = sub.language if sub.language in UNSUBSCRIBED else "id"
        response = make_response(UNSUBSCRIBED[language].format(code=code) + "\n", 200)
        response.mimetype = "text/plain"
        return response

    return bp
