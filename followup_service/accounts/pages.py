"""Account administration pages: admins manage every account and the integration tokens;
a supervisor manages the officers of their own unit.

One-time passwords and integration tokens appear once, in the response to the POST
that made them (never stored, never redirected through a URL, never cached).
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import Forbidden, NotFound

from followup_service.accounts.domain import ROLES, AccountRuleError, NotPermitted, may_manage
from followup_service.accounts.service import AccountService, manager_of
from shared.pages import page_blueprint, render_error
from shared.pages.i18n import translate
from shared.pages.session import login_required, page_principal

MANAGERS = ("supervisor", "admin")
NO_STORE = {"Cache-Control": "no-store"}


def build_blueprint():
    bp = page_blueprint("followup_admin", __name__)

    @bp.errorhandler(NotPermitted)
    def _not_permitted(exc):
        return render_error(Forbidden("error.403"))

    @bp.get("/admin/akun")
    @login_required(*MANAGERS)
    def accounts():
        return _accounts_page(200, ok=request.args.get("ok"))

    @bp.post("/admin/akun")
    @login_required(*MANAGERS)
    def create_account():
        form = _scope_form()
        try:
            account, one_time = _service().create(
                manager_of(page_principal()), username=request.form.get("username", ""), **form
            )
        except AccountRuleError as exc:
            return _accounts_page(400, errors=_worded(exc), form=request.form)
        return _accounts_page(201, created=account, one_time=one_time)

    @bp.get("/admin/akun/<username>")
    @login_required(*MANAGERS)
    def account(username: str):
        return _account_page(username, 200, ok=request.args.get("ok"))

    @bp.post("/admin/akun/<username>")
    @login_required(*MANAGERS)
    def change_account(username: str):
        try:
            _service().change_scope(manager_of(page_principal()), username, **_scope_form())
        except AccountRuleError as exc:
            return _account_page(username, 400, errors=_worded(exc), form=request.form)
        return redirect(url_for(".account", username=username, ok="saved"), 303)

    @bp.post("/admin/akun/<username>/atur-ulang")
    @login_required(*MANAGERS)
    def reset_password(username: str):
        try:
            one_time = _service().reset_password(manager_of(page_principal()), username)
        except AccountRuleError as exc:
            return _account_page(username, 400, errors=_worded(exc))
        return _account_page(username, 200, one_time=one_time)

    @bp.post("/admin/akun/<username>/<any(nonaktifkan, aktifkan):change>")
    @login_required(*MANAGERS)
    def set_active(username: str, change: str):
        try:
            _service().set_active(manager_of(page_principal()), username, change == "aktifkan")
        except AccountRuleError as exc:
            return _account_page(username, 400, errors=_worded(exc))
        return redirect(url_for(".account", username=username, ok=change), 303)

    @bp.get("/admin/integrasi")
    @login_required("admin")
    def integrations():
        return _integrations_page(200, ok=request.args.get("ok"))

    @bp.post("/admin/integrasi")
    @login_required("admin")
    def create_integration():
        try:
            token_id, token = _service().issue_integration_token(
                manager_of(page_principal()),
                request.form.get("name", ""),
                request.form.get("agency") or None,
                purpose=request.form.get("purpose", "liaison"),
            )
        except AccountRuleError as exc:
            return _integrations_page(400, errors=_worded(exc), form=request.form)
        return _integrations_page(201, new_token=token, new_token_id=token_id)

    @bp.post("/admin/integrasi/<token_id>/cabut")
    @login_required("admin")
    def revoke_integration(token_id: str):
        try:
            _service().revoke_integration_token(manager_of(page_principal()), token_id)
        except AccountRuleError as exc:
            if "token_id" in exc.messages:
                raise NotFound() from exc
            raise
        return redirect(url_for(".integrations", ok="revoked"), 303)

    return bp


def _service() -> AccountService:
    return current_app.extensions["accounts"]


def _scope_form() -> dict:
    form = request.form
    return {
        "display_name": form.get("display_name", ""),
        "role": form.get("role", ""),
        "unit": form.get("unit") or None,
        "agency": form.get("agency") or None,
        "area": form.get("area") or None,
    }


def _roles_for(principal) -> tuple[str, ...]:
    return ROLES if principal.role == "admin" else ("officer",)


def _accounts_page(status: int, **values):
    principal = page_principal()
    service = _service()
    with service.engine.connect() as conn:
        rows = service.listed(conn, manager_of(principal))
        directory = service.directory(conn)
    return (
        render_template(
            "followup/admin_accounts.html",
            accounts=rows,
            directory=directory,
            roles=_roles_for(principal),
            errors=values.pop("errors", {}),
            form=values.pop("form", {}),
            **values,
        ),
        status,
        NO_STORE,
    )


def _account_page(username: str, status: int, **values):
    principal = page_principal()
    service = _service()
    with service.engine.connect() as conn:
        account = service.load(conn, username)
        directory = service.directory(conn)
        history = service.history(conn, username)
    if account is None:
        raise NotFound()
    manager = manager_of(principal)
    if not may_manage(manager, account.role, account.unit):
        raise Forbidden("error.403")
    return (
        render_template(
            "followup/admin_account.html",
            account=account,
            directory=directory,
            roles=_roles_for(principal),
            errors=values.pop("errors", {}),
            form=values.pop("form", None),
            own=account.username == principal.subject,
            history=history,
            **values,
        ),
        status,
        NO_STORE,
    )


def _integrations_page(status: int, **values):
    service = _service()
    with service.engine.connect() as conn:
        tokens = service.integration_tokens(conn)
        directory = service.directory(conn)
    return (
        render_template(
            "followup/admin_integrations.html",
            tokens=tokens,
            directory=directory,
            errors=values.pop("errors", {}),
            form=values.pop("form", {}),
            **values,
        ),
        status,
        NO_STORE,
    )


def _worded(exc: AccountRuleError) -> dict[str, list[str]]:
    """Field -> messages in the page's language (codes without a wording pass through)."""
    return {
        field: [translate(f"account.err.{code}") for code in codes]
        for field, codes in exc.messages.items()
    }
