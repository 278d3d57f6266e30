"""A reporter's request to hear about their case, kept here until the notifier takes it.

The officer (or the API client) gives `notify` with the aspiration: an email or a number,
a channel and a language. It is written **encrypted** (shared/contact_cipher.py) to
`notify_requests`, in the same transaction as the aspiration, and never enters an event:
intake's events are published to Kafka, and even a private event (private_events.py)
would keep the contact in an append-only log that cannot forget it.

The follow-up notifier, when it handles the case's CaseOpened, asks
`GET /internal/v1/notify-requests/<aspiration_id>` for it (proving it holds the contact
key), stores it in its own contact store and then `DELETE`s it here. The answer carries
the sealed contact only (a Fernet token): nothing readable crosses the wire or lands in
a log. A request the notifier never took (no case opened: an aspiration linked as
support, withdrawn at once) is erased by the notifier's erasure sweep through
`DELETE /internal/v1/stale-notify-requests?older_than_days=<retention>`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, current_app, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, delete, select
from sqlalchemy.dialects.postgresql import insert

from shared.contact_cipher import ContactCipher, ContactKeyError
from shared.fields import CleanText

CHANNELS = ("email", "whatsapp", "sms")
LANGUAGES = ("id", "en")
PHONE = validate.Regexp(r"^\+?[0-9][0-9 .\-]{6,22}$", error="Not a phone number.")


class NotifyIn(Schema):
    """Consent to be told of progress: where, how and in which language (kept private)."""

    email = CleanText(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=200), validate.Email()],
        metadata={"example": "warga@example.org"},
    )
    phone = CleanText(
        load_default=None, allow_none=True, validate=PHONE, metadata={"example": "+62 812 0000 18"}
    )
    channel = fields.String(
        load_default="email",
        validate=validate.OneOf(CHANNELS),
        metadata={"description": "email (needs email) or whatsapp/sms (need phone)"},
    )
    language = fields.String(
        load_default="id",
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "the messages' language: id (Bahasa Indonesia) or en"},
    )

    @validates_schema
    def _address_for_channel(self, data, **_):
        if data.get("channel", "email") == "email":
            if not data.get("email"):
                raise ValidationError("An email address is needed for channel email.", "email")
        elif not data.get("phone"):
            raise ValidationError("A phone number is needed for WhatsApp or SMS.", "phone")


def define_notify_requests_table(metadata: MetaData) -> Table:
    return Table(
        "notify_requests",
        metadata,
        Column("aspiration_id", String(36), primary_key=True),
        Column("sealed_contact", Text, nullable=False),  # Fernet token, never plain text
        Column("requested_at", DateTime(timezone=True), nullable=False),
    )


def keep_requests(conn, table: Table, cipher: ContactCipher, requests: dict[str, dict]) -> None:
    """Store each aspiration's notify request, sealed (in the aspiration's transaction)."""
    if not requests:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "aspiration_id": aspiration_id,
            "sealed_contact": cipher.seal(_contact(notify)),
            "requested_at": now,
        }
        for aspiration_id, notify in requests.items()
    ]
    conn.execute(insert(table).on_conflict_do_nothing(index_elements=["aspiration_id"]), rows)


def _contact(notify: dict) -> dict:
    channel = notify.get("channel") or "email"
    address = notify.get("email") if channel == "email" else notify.get("phone")
    return {"address": address, "channel": channel, "language": notify.get("language") or "id"}


def internal_blueprint(table: Table) -> Blueprint:
    """The notifier's private door: sealed contacts by aspiration id, then erased."""
    bp = Blueprint("intake_notify_requests", __name__, url_prefix="/internal/v1")

    @bp.before_request
    def _notifier_only():
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            cipher = contact_cipher()
        except ContactKeyError:
            abort(503)
        if scheme != "Notifier" or not cipher.check_proof(token.strip()):
            abort(401)

    def engine():
        return current_app.extensions["intake"].engine

    @bp.get("/notify-requests/<aspiration_id>")
    def take(aspiration_id: str):
        with engine().connect() as conn:
            sealed = conn.execute(
                select(table.c.sealed_contact).where(table.c.aspiration_id == aspiration_id[:36])
            ).scalar()
        if sealed is None:
            return jsonify({"error": "not found"}), 404
        return jsonify({"aspiration_id": aspiration_id, "sealed_contact": sealed})

    @bp.delete("/notify-requests/<aspiration_id>")
    def erase(aspiration_id: str):
        with engine().begin() as conn:
            conn.execute(delete(table).where(table.c.aspiration_id == aspiration_id[:36]))
        return "", 204

    @bp.delete("/stale-notify-requests")
    def erase_stale():
        """Requests no notifier took within the retention (no case opened for them)."""
        days = request.args.get("older_than_days", type=float)
        if days is None or days < 0:
            return jsonify({"error": "older_than_days: a number of days, 0 or more"}), 400
        before = datetime.now(UTC) - timedelta(days=days)
        with engine().begin() as conn:
            erased = erase_older_than(conn, table, before)
        return jsonify({"erased": erased})

    return bp


def erase_older_than(conn, table: Table, before: datetime) -> int:
    """Requests no notifier took (no case was opened): erased after the retention."""
    return conn.execute(delete(table).where(table.c.requested_at < before)).rowcount


_cipher: ContactCipher | None = None


def contact_cipher() -> ContactCipher:
    """The process's cipher, from NOTIFY_CONTACT_KEY (raises ContactKeyError if unset)."""
    global _cipher
    if _cipher is None:
        _cipher = ContactCipher.from_env()
    return _cipher
