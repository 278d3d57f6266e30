"""Staff sign-in, sign-out and password changes, on both services' pages.

The service that owns accounts (follow-up) registers a sign-in backend as
``app.extensions["sign_in"]`` (authenticate, finish_password_reset, change_password);
a service without one (intake) sends people to ``settings.sign_in_url`` and back, and
the session cookie it gets there is accepted here because both services check the
same signed token and the same account standing in Redis.

Failures are throttled per address and per account name (flask-limiter, Redis):
only failed attempts count, so a person who finally types the right password is not
punished, and after the window the right password works again.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import NotFound

from shared.auth import AuthError
from shared.pages import i18n
from shared.pages.session import (
    clear_session,
    login_required,
    page_principal,
    safe_next,
    set_session,
    tokens,
)

NO_STORE = {"Cache-Control": "no-store"}


def add_routes(bp: Blueprint, limiter: Limiter, failure_limit: str) -> None:
    failed = lambda response: response.status_code == 401  # noqa: E731 - a predicate
    per_address = limiter.limit(
        failure_limit,
        key_func=get_remote_address,
        deduct_when=failed,
        methods=["POST"],
        scope="sign-in-address",
    )
    per_account = limiter.limit(
        failure_limit,
        key_func=_account_key,
        deduct_when=failed,
        methods=["POST"],
        scope="sign-in-account",
    )

    @bp.route("/masuk", methods=["GET", "POST"])
    @per_address
    @per_account
    def login():
        backend = current_app.extensions.get("sign_in")
        next_url = safe_next(request.values.get("next"), trusted_origins=_trusted_origins())
        if backend is None:
            return _elsewhere("/masuk", next_url)
        if request.method == "GET":
            return _form("ka/login.html", 200, next_url=next_url)
        username = request.form.get("username", "").strip().lower()[:80]
        password = request.form.get("password", "")[:200]
        result = backend.authenticate(username, password) if username and password else None
        if result is None:  # one message for every failure: no hint which part was wrong
            return _form(
                "ka/login.html",
                401,
                next_url=next_url,
                username=username,
                error=i18n.translate("login.invalid"),
            )
        if result.account.must_change_password:
            ticket = tokens().issue_password_change(result.account.username)
            return _form("ka/password_change.html", 200, next_url=next_url, ticket=ticket)
        return _signed_in(result.account, next_url)

    @bp.post("/masuk/kata-sandi-baru")
    @per_address
    def finish_password_reset():
        backend = current_app.extensions.get("sign_in")
        if backend is None:
            raise NotFound()
        next_url = safe_next(request.form.get("next"), trusted_origins=_trusted_origins())
        ticket = request.form.get("ticket", "")
        try:
            username = tokens().verify_password_change(ticket)
        except AuthError:
            return _form(
                "ka/login.html", 401, next_url=next_url, error=i18n.translate("login.expired")
            )
        new, again = request.form.get("new_password", ""), request.form.get("new_password2", "")
        error = _password_error(new, again)
        if error is None:
            try:
                account = backend.finish_password_reset(username, new)
            except ValueError as exc:
                error = _rule_error(exc)
            else:
                return _signed_in(account, next_url)
        return _form("ka/password_change.html", 400, next_url=next_url, ticket=ticket, error=error)

    @bp.route("/akun/kata-sandi", methods=["GET", "POST"])
    @login_required()
    def change_password():
        backend = current_app.extensions.get("sign_in")
        if backend is None:
            return _elsewhere("/akun/kata-sandi", None)
        principal = page_principal()
        if principal.kind != "session":
            raise NotFound()
        if request.method == "GET":
            return _form("ka/password_own.html", 200, done=request.args.get("ok"))
        new, again = request.form.get("new_password", ""), request.form.get("new_password2", "")
        error = _password_error(new, again)
        if error is None:
            try:
                account = backend.change_password(
                    principal.subject, request.form.get("current_password", ""), new
                )
            except ValueError as exc:
                error = _rule_error(exc)
            else:  # every other session of the account ended; this one starts afresh
                response = _signed_in(account, url_for("ka_pages.change_password", ok=1))
                return response
        return _form("ka/password_own.html", 400, error=error)

    @bp.post("/keluar")
    def logout():
        sign_in_url = current_app.config["SETTINGS"].sign_in_url
        if current_app.extensions.get("sign_in") is None and sign_in_url:
            # The service that keeps accounts records the sign-out durably (it outlives a
            # Redis restart there); 307 keeps the POST and its CSRF token. The session
            # cookie is left for it to end: cookies do not tell ports apart.
            parts = urlsplit(sign_in_url)
            return redirect(f"{parts.scheme}://{parts.netloc}/keluar", 307)
        principal = page_principal()
        if principal is not None:
            tokens().end_session(principal)
        response = redirect(url_for("ka_pages.login"))
        clear_session(response)
        g.page_principal = None
        g.session_ended = True
        return response


def _signed_in(account, next_url: str):
    token = tokens().issue_session(
        account.username,
        account.role,
        display_name=account.display_name,
        unit=account.unit,
        agency=account.agency,
        area=getattr(account, "area", None),  # a supervisor's area, an admin's national
    )
    response = redirect(next_url)
    set_session(response, token)
    response.headers.update(NO_STORE)
    return response


def _form(template: str, status: int, **values):
    return render_template(template, **values), status, NO_STORE


def _elsewhere(path: str, next_url: str | None):
    """This service keeps no accounts: sign in where they are, then come back here."""
    target = current_app.config["SETTINGS"].sign_in_url
    if not target:
        raise NotFound()
    parts = urlsplit(target)
    query = {}
    if next_url is not None:
        query["next"] = request.host_url.rstrip("/") + next_url
    suffix = "?" + urlencode(query) if query else ""
    return redirect(f"{parts.scheme}://{parts.netloc}{path}{suffix}")


def _trusted_origins() -> tuple[str, ...]:
    raw = current_app.config["SETTINGS"].trusted_origins
    return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())


def _account_key() -> str:
    return "account:" + request.form.get("username", "").strip().lower()[:80]


def _password_error(new: str, again: str) -> str | None:
    if new != again:
        return i18n.translate("password.mismatch")
    return None


def _rule_error(exc: ValueError) -> str:
    messages = getattr(exc, "messages", None)
    if not isinstance(messages, dict):
        raise exc
    if "current_password" in messages:
        return i18n.translate("password.wrong_current")
    if "new_password" in messages:
        return i18n.translate("password.rules")
    return i18n.translate("login.invalid")
