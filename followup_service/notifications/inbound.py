"""What comes back from residents' mail clients and phones: one-click unsubscribe (RFC 8058)
and STOP replies on WhatsApp and SMS.

    POST /kabar/<token>/berhenti    a mail client's one-click unsubscribe (the email's
                                    List-Unsubscribe-Post header): body
                                    `List-Unsubscribe=One-Click`, answered 200
    GET  /kabar/webhook/whatsapp    Meta's verification handshake: hub.mode=subscribe and
                                    hub.verify_token == WHATSAPP_WEBHOOK_VERIFY_TOKEN -> the
                                    hub.challenge echoed; else 403
    POST /kabar/webhook/whatsapp    WhatsApp Business Cloud API deliveries, signed
                                    X-Hub-Signature-256: sha256=HMAC(WHATSAPP_APP_SECRET, body)
    POST /kabar/webhook/sms         the SMS gateway's inbound messages (form or JSON `from`,
                                    `text`), with X-Gateway-Secret: SMS_WEBHOOK_SECRET

A text of STOP, BERHENTI or UNSUBSCRIBE (any case, trimmed) erases every subscription of
that number on that channel (store.unsubscribe_address, found by the contact digest: no
number is opened or logged). Every well-signed delivery is answered 200, STOP or not (Meta
retries anything else). A webhook whose secret is not set is off: 404.

These routes are on their own blueprint, without the page CSRF check: a mail client or a
provider has no cookie and no form token. The unguessable token in the URL, or the
signature or shared secret, is the credential; every other page route keeps its check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from flask import Blueprint, abort, jsonify, make_response, request
from werkzeug.exceptions import HTTPException

from followup_service.notifications import store
from followup_service.notifications.settings import NotifySettings
from shared.outage import RETRY_AFTER_SECONDS, unavailable_part
from shared.web import wants_json

log = logging.getLogger(__name__)

UNSUBSCRIBED = {
    "id": "Anda berhenti berlangganan kabar {code}.",
    "en": "You are unsubscribed from {code}.",
}

STOP_WORDS = frozenset({"stop", "berhenti", "unsubscribe"})
BLUEPRINT = "notifications_inbound"  # the only page routes without the CSRF check


class BadDelivery(ValueError):
    """A body that is not what the provider documents (answered 400)."""


def is_stop(text) -> bool:
    return isinstance(text, str) and text.strip().casefold() in STOP_WORDS


def same_secret(expected: str, given: str | None) -> bool:
    """Constant-time equality of a configured secret and what a request sent."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def signature_ok(app_secret: str, raw: bytes, header: str | None) -> bool:
    """Meta's X-Hub-Signature-256: `sha256=` and the hex HMAC-SHA256 of the raw body."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return same_secret(expected, header.removeprefix("sha256=").strip().lower())


def _parse_json(raw: bytes):
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadDelivery("the body is not JSON") from None


def _items(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def whatsapp_texts(payload) -> list[tuple[str, str]]:
    """(sender wa id, text) of each text message in a Cloud API webhook delivery
    (entry[].changes[].value.messages[]); status callbacks and other kinds are skipped."""
    if not isinstance(payload, dict):
        raise BadDelivery("a webhook delivery is a JSON object")
    found = []
    for entry in _items(payload.get("entry")):
        for change in _items(entry.get("changes")):
            value = change.get("value")
            for message in _items(value.get("messages") if isinstance(value, dict) else None):
                sender, text = message.get("from"), message.get("text")
                if message.get("type") == "text" and isinstance(sender, str):
                    body = text.get("body") if isinstance(text, dict) else None
                    if isinstance(body, str):
                        found.append((sender, body))
    return found


def sms_text(fields) -> tuple[str, str]:
    """(sender number, text) of the gateway's inbound message."""
    if not hasattr(fields, "get"):  # a dict, or the request's form
        raise BadDelivery("an inbound message is a JSON object or a form")
    sender, text = fields.get("from"), fields.get("text")
    if not isinstance(sender, str) or not sender.strip() or not isinstance(text, str):
        raise BadDelivery("an inbound message needs `from` and `text`")
    return sender, text


def build_blueprint() -> Blueprint:
    from followup_service.notifications.pages import (
        _cipher,
        _code_of_case,
        _engine,
        _page,
        _settings,
        _t,
    )

    bp = Blueprint(BLUEPRINT, __name__)
    for line in NotifySettings.from_env().inbound_stop_off():
        log.warning("inbound STOP off (%s)", line)

    def stop(channel: str, senders: list[str]) -> int:
        """Erase the subscriptions of these numbers on `channel` (one transaction)."""
        if not senders:
            return 0
        cipher = _cipher()
        with _engine().begin() as conn:
            erased = sum(
                store.unsubscribe_address(conn, cipher.digest(sender), channel)
                for sender in senders
            )
        log.info("inbound STOP on %s: %d subscriptions erased", channel, erased)
        return erased

    @bp.errorhandler(BadDelivery)
    def _bad(exc: BadDelivery):
        return jsonify({"error": "bad request", "message": str(exc)}), 400

    def _http_error(exc: HTTPException):
        return jsonify({"error": exc.name.lower(), "message": exc.description}), exc.code

    # by code too: the app's page error handlers are per code and would win over a class
    for code in (400, 403, 404, 405, 413, 429):
        bp.register_error_handler(code, _http_error)

    @bp.errorhandler(Exception)
    def _error(exc: Exception):
        """JSON for machines; 503 while the database is away, as everywhere else."""
        if isinstance(exc, HTTPException):
            return _http_error(exc)
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

    def whatsapp_secrets() -> NotifySettings:
        settings = _settings()
        if not (settings.whatsapp_app_secret and settings.whatsapp_webhook_verify_token):
            abort(404)  # inbound STOP on WhatsApp is off
        return settings

    @bp.get("/kabar/webhook/whatsapp")
    def whatsapp_verify():
        """Meta calls this once when the webhook is set up in the app's dashboard."""
        settings = whatsapp_secrets()
        args = request.args
        if args.get("hub.mode") != "subscribe" or not same_secret(
            settings.whatsapp_webhook_verify_token, args.get("hub.verify_token")
        ):
            abort(403)
        response = make_response(args.get("hub.challenge", ""), 200)
        response.mimetype = "text/plain"
        return response

    @bp.post("/kabar/webhook/whatsapp")
    def whatsapp_delivery():
        settings = whatsapp_secrets()
        raw = request.get_data(cache=True)
        if not signature_ok(
            settings.whatsapp_app_secret, raw, request.headers.get("X-Hub-Signature-256")
        ):
            abort(403)
        texts = whatsapp_texts(_parse_json(raw))
        stop("whatsapp", [sender for sender, text in texts if is_stop(text)])
        return jsonify({"ok": True})

    @bp.post("/kabar/webhook/sms")
    def sms_delivery():
        settings = _settings()
        if not settings.sms_webhook_secret:
            abort(404)  # inbound STOP on SMS is off
        if not same_secret(settings.sms_webhook_secret, request.headers.get("X-Gateway-Secret")):
            abort(403)
        if request.mimetype == "application/json":
            fields = _parse_json(request.get_data(cache=True))
        else:
            fields = request.form
        sender, text = sms_text(fields)
        stop("sms", [sender] if is_stop(text) else [])
        return jsonify({"ok": True})

    return bp
