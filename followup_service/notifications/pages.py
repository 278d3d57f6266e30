"""Public pages of notifications: subscribe on /lacak with a one-time code, and the links
every message carries (unsubscribe in one step, confirm, dispute).

    GET  /lacak/<code>/langganan                form: email or number, channel, language
    POST /lacak/<code>/langganan                sends a 6-digit code to that address
    POST /lacak/<code>/langganan/<id>           the code: the subscription exists from now
    GET  /kabar/<token>/berhenti                unsubscribes at once (the contact is erased)
    POST /kabar/<token>/berhenti                the same, RFC 8058 one-click (inbound.py: no
                                                CSRF check, the token is the credential)
    GET  /kabar/<token>/selesai                 "fixed": thanks (the officer verifies)
    GET|POST /kabar/<token>/bantah              dispute: the same API call as /lacak/<code>/bantah

A code is sent only to the address typed, so nobody is subscribed without its owner; codes
are limited per address (NOTIFY confirm_limit_per_contact a day) and per client
(confirm_limit_per_client a day), expire after 30 minutes and allow 5 tries.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from flask import abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from followup_service.notifications import inbound, store
from followup_service.notifications.domain import CHANNELS, LANGUAGES
from followup_service.notifications.settings import NotifySettings
from followup_service.tables import cases
from shared.contact_cipher import ContactCipher, ContactKeyError, normalize_address
from shared.pages import page_blueprint
from shared.pages.api_client import call_api
from shared.pages.i18n import current_lang
from shared.tracking_code import is_valid, normalize

CODE_TTL = timedelta(minutes=30)
CODE_TRIES = 5

TEXT = {
    "subscribe": ("Kabari saya", "Keep me posted"),
    "subscribe_help": (
        "Kami kirim kabar setiap kali aspirasi ini bergerak. Alamat Anda tidak ditampilkan "
        "kepada siapa pun dan dihapus 30 hari setelah kasus ditutup.",
        "We send word whenever this aspiration moves. Your address is shown to nobody and "
        "erased 30 days after the case closes.",
    ),
    "email": ("Email", "Email"),
    "phone": ("Nomor WhatsApp/SMS", "WhatsApp/SMS number"),
    "channel": ("Lewat", "Via"),
    "language": ("Bahasa", "Language"),
    "send_code": ("Kirim kode", "Send code"),
    "code_sent": (
        "Kode 6 angka telah dikirim ke alamat itu. Masukkan di sini:",
        "A 6-digit code was sent to that address. Enter it here:",
    ),
    "code": ("Kode", "Code"),
    "confirm": ("Konfirmasi", "Confirm"),
    "subscribed": ("Anda akan dikabari.", "You will be kept posted."),
    "bad_code": ("Kode salah atau kedaluwarsa.", "Wrong or expired code."),
    "bad_address": ("Alamat tidak sah untuk saluran itu.", "Not a valid address for that channel."),
    "limit": (
        "Terlalu banyak permintaan kode; coba lagi besok.",
        "Too many code requests; try again tomorrow.",
    ),
    "unsubscribed": ("Anda berhenti berlangganan kabar", "You are unsubscribed from"),
    "unknown_link": ("Tautan tidak berlaku lagi.", "This link is no longer valid."),
    "thanks": (
        "Terima kasih. Petugas akan memverifikasi penyelesaiannya.",
        "Thank you. An officer will verify the resolution.",
    ),
    "dispute": ("Belum beres? Bantah penyelesaian", "Not fixed? Dispute the resolution"),
    "reason": ("Alasan", "Reason"),
    "send": ("Kirim", "Send"),
    "off": ("Layanan kabar belum aktif.", "Notifications are not available."),
    "confirm_subject": ("Kode konfirmasi Kawal Aspirasi", "Kawal Aspirasi confirmation code"),
}


def _t(key: str) -> str:
    pair = TEXT[key]
    return pair[1] if current_lang() == "en" else pair[0]


def _cipher() -> ContactCipher:
    cipher = current_app.extensions.get("contact_cipher")
    if cipher is None:
        try:
            cipher = ContactCipher.from_env()
        except ContactKeyError:
            abort(503)
        current_app.extensions["contact_cipher"] = cipher
    return cipher


def _settings() -> NotifySettings:
    if "notify_settings" not in current_app.extensions:
        current_app.extensions["notify_settings"] = NotifySettings.from_env()
    return current_app.extensions["notify_settings"]


def _engine():
    return current_app.extensions["followup"].engine


def _now():
    return current_app.extensions["followup"].clock()


def _page(status: int = 200, **values):
    return render_template("notifications/kabar.html", tx=_t, **values), status


def _case_of_code(code: str):
    code = normalize(code)
    if not is_valid(code):
        abort(404)
    with _engine().connect() as conn:
        row = conn.execute(
            select(cases.c.case_id, cases.c.tracking_code).where(cases.c.tracking_code == code)
        ).first()
    if row is None:
        abort(404)
    return row


def build_blueprint(limiter, guess_limit: str):
    bp = page_blueprint("notifications", __name__)
    limited = limiter.limit(guess_limit, scope="notify-subscribe")
    # what mail clients and providers send back (one-click unsubscribe) comes with no CSRF
    # token: its routes are a blueprint of their own, registered along with this one
    bp.record_once(lambda state: state.app.register_blueprint(inbound.build_blueprint()))

    @bp.get("/lacak/<code>/langganan")
    @limited
    def subscribe_form(code: str):
        case = _case_of_code(code)
        return _page(form="subscribe", code=case.tracking_code)

    @bp.post("/lacak/<code>/langganan")
    @limited
    def subscribe(code: str):
        case = _case_of_code(code)
        channel = request.form.get("channel", "email")
        language = request.form.get("language", "id")
        field = "email" if channel == "email" else "phone"
        address = (request.form.get(field) or "").strip()[:200]
        if channel not in CHANNELS or language not in LANGUAGES or not _plausible(field, address):
            return _page(400, form="subscribe", code=case.tracking_code, error=_t("bad_address"))
        cipher, settings, now = _cipher(), _settings(), _now()
        contact_digest = cipher.digest(address)
        client = request.remote_addr or "?"
        client_digest = hashlib.sha256(f"client:{client}".encode()).hexdigest()
        since = now - timedelta(days=1)
        one_time = f"{secrets.randbelow(10**6):06d}"
        confirmation_id = str(uuid.uuid4())
        contact = {"address": address, "channel": channel, "language": language}
        with _engine().begin() as conn:
            per_contact = store.recent_confirmations(
                conn, contact_digest=contact_digest, since=since
            )
            per_client = store.recent_confirmations(conn, client_digest=client_digest, since=since)
            if (
                per_contact >= settings.confirm_limit_per_contact
                or per_client >= settings.confirm_limit_per_client
            ):
                return _page(429, form="subscribe", code=case.tracking_code, error=_t("limit"))
            sealed = cipher.seal(contact)
            store.add_confirmation(
                conn,
                {
                    "confirmation_id": confirmation_id,
                    "case_id": case.case_id,
                    "channel": channel,
                    "language": language,
                    "sealed_contact": sealed,
                    "contact_digest": contact_digest,
                    "client_digest": client_digest,
                    "code_digest": store.code_digest(one_time),
                    "attempts": 0,
                    "created_at": now,
                    "expires_at": now + CODE_TTL,
                },
            )
            en = language == "en"
            text = (
                f"Your code to follow {case.tracking_code}: {one_time} (valid 30 minutes). "
                "Ignore this message if you did not ask for it."
                if en
                else f"Kode Anda untuk mengikuti {case.tracking_code}: {one_time} (berlaku "
                "30 menit). Abaikan pesan ini jika Anda tidak memintanya."
            )
            subject = TEXT["confirm_subject"][1 if en else 0]
            store.enqueue(
                conn,
                [
                    {
                        "event_id": f"confirm:{confirmation_id}",
                        "subscription_id": store.CODE_MESSAGE,
                        "case_id": case.case_id,
                        "channel": channel,
                        "language": language,
                        "event_type": "SubscriptionCode",
                        "subject": f"[{case.tracking_code}] {subject}",
                        "body": text,
                        "sealed_contact": sealed,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "sent_at": None,
                        "last_error": None,
                    }
                ],
            )
        return _page(
            form="code", code=case.tracking_code, confirmation_id=confirmation_id, status_text=""
        )

    @bp.post("/lacak/<code>/langganan/<confirmation_id>")
    @limited
    def confirm(code: str, confirmation_id: str):
        case = _case_of_code(code)
        typed = (request.form.get("code") or "").strip()[:12]
        cipher, now = _cipher(), _now()
        with _engine().begin() as conn:
            row = store.take_confirmation(conn, confirmation_id, typed, now, CODE_TRIES)
            if row is None or row.case_id != case.case_id:
                conn.commit()  # keep the counted try
                return _page(
                    400,
                    form="code",
                    code=case.tracking_code,
                    confirmation_id=confirmation_id,
                    error=_t("bad_code"),
                )
            store.subscribe(
                conn,
                case_id=row.case_id,
                channel=row.channel,
                language=row.language,
                sealed_contact=row.sealed_contact,
                contact_digest=row.contact_digest,
                source="lacak",
                now=now,
            )
        del cipher
        return _page(message=_t("subscribed"), code=case.tracking_code)

    @bp.get("/kabar/<token>/berhenti")
    def unsubscribe(token: str):
        with _engine().begin() as conn:
            sub = store.by_token(conn, token)
            code = _code_of_case(conn, sub.case_id) if sub else None
            gone = store.unsubscribe(conn, token)
        if not gone:
            return _page(404, message=_t("unknown_link"))
        return _page(message=f"{_t('unsubscribed')} {code}.", code=code)

    @bp.get("/kabar/<token>/selesai")
    def confirmed(token: str):
        with _engine().connect() as conn:
            sub = store.by_token(conn, token)
            code = _code_of_case(conn, sub.case_id) if sub else None
        if sub is None:
            return _page(404, message=_t("unknown_link"))
        return _page(message=_t("thanks"), code=code)

    @bp.route("/kabar/<token>/bantah", methods=["GET", "POST"])
    def dispute(token: str):
        with _engine().connect() as conn:
            sub = store.by_token(conn, token)
            code = _code_of_case(conn, sub.case_id) if sub else None
        if sub is None:
            return _page(404, message=_t("unknown_link"))
        if request.method == "GET":
            return _page(form="dispute", code=code, token=token)
        reason = request.form.get("reason", "").strip()
        result = call_api(
            "POST", f"/api/v1/track/{code}/dispute", json={"reason": reason}, as_user=False
        )
        outcome = "ok" if result.ok else ("limit" if result.status == 429 else "bad")
        return redirect(url_for("followup_tracking.case_page", code=code, bantah=outcome))

    return bp


def _code_of_case(conn, case_id: str) -> str | None:
    return conn.execute(select(cases.c.tracking_code).where(cases.c.case_id == case_id)).scalar()


def _plausible(field: str, address: str) -> bool:
    if field == "email":
        local, _, domain = address.partition("@")
        return bool(local) and "." in domain and " " not in address
    return 8 <= len(normalize_address(address)) <= 15


def build_admin_blueprint():
    """/admin/kabar (admins): messages the sender gave up on, and replaying them. Shows
    which case, channel, event, attempts and the last error: never the address."""
    from datetime import UTC, datetime

    from shared.pages.session import login_required

    bp = page_blueprint("notification_admin", __name__)

    @bp.get("/admin/kabar")
    @login_required("admin")
    def dead_letters():
        with _engine().connect() as conn:
            letters = store.dead_letters(conn)
        replayed = request.args.get("diulang")
        return render_template(
            "notifications/dead_letters.html", tx=_t, letters=letters, replayed=replayed
        )

    @bp.post("/admin/kabar")
    @login_required("admin")
    def replay():
        keys = request.form.getlist("key")
        pairs = [tuple(key.split(":", 1)) for key in keys if key.count(":") >= 1]
        wanted = None if request.form.get("all") else [p for p in pairs if len(p) == 2]
        if wanted == []:
            return redirect(url_for(".dead_letters"))
        with _engine().begin() as conn:
            count = store.replay_dead(conn, datetime.now(UTC), wanted)
        return redirect(url_for(".dead_letters", diulang=count))

    return bp
