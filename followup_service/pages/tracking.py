"""Public tracking pages: type a code, see the case in plain words, print or share it.

No login. Data comes from the public tracking API (`GET /api/v1/track/<code>`,
cached in Redis), which never carries the reporter, contact, raw description or
internal notes. Unknown codes are rate limited per address to stop guessing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from flask import abort, current_app, make_response, redirect, render_template, request, url_for

from followup_service.metrics import TRACKING_MISSES
from followup_service.photos.api import public_photos_for_code
from followup_service.tracking import miss_key, miss_limit, miss_limit_breached, missed
from shared.pages import page_blueprint
from shared.pages.api_client import call_api
from shared.pages.format import parse_when
from shared.pages.i18n import pick, translate
from shared.pages.qr import qr_svg
from shared.tracking_code import is_valid, normalize

# Failed lookups (malformed or unknown codes) per client address, as on the API
# (followup_service.tracking.miss_limit); good codes do not count. LOOKUP_LIMIT caps every
# lookup of one address (a flood guard far above what a resident does).
GUESS_LIMIT = miss_limit  # the TRACKING_MISS_LIMIT setting (default MISS_LIMIT)
LOOKUP_LIMIT = "120/minute"


def build_blueprint(limiter):
    bp = page_blueprint("followup_tracking", __name__)
    guess_limit = limiter.limit(
        GUESS_LIMIT,
        deduct_when=missed,
        scope="track-guess",
        key_func=miss_key,
        on_breach=miss_limit_breached("page"),
    )
    lookup_limit = limiter.limit(LOOKUP_LIMIT, scope="track-lookup")

    @bp.get("/lacak")
    @guess_limit
    def track_form():
        typed = request.args.get("kode", "").strip()
        if not typed:
            return _cacheable(render_template("followup/track_form.html", typed="", error=None))
        code = normalize(typed)
        if is_valid(code):
            return redirect(url_for(".case_page", code=code))
        error = translate("track.invalid", code=typed[:20])
        return render_template("followup/track_form.html", typed=typed, error=error), 404

    @bp.get("/lacak/<code>")
    @guess_limit
    @lookup_limit
    def case_page(code: str):
        view, code = _lookup(code)
        if view is None:
            return _not_found(code)
        photos = public_photos_for_code(code)  # issue 25: none for a status-only case
        return _private(render_template("followup/case.html", **_page_data(view), photos=photos))

    @bp.post("/lacak/<code>/bantah")
    @guess_limit
    def dispute(code: str):
        code = normalize(code)
        if not is_valid(code):
            return _not_found(code)
        reason = request.form.get("reason", "").strip()
        result = call_api(
            "POST", f"/api/v1/track/{code}/dispute", json={"reason": reason}, as_user=False
        )
        if result.status == 404:
            return _not_found(code)
        outcome = "ok" if result.ok else ("limit" if result.status == 429 else "bad")
        return redirect(url_for(".case_page", code=code, bantah=outcome))

    @bp.get("/lacak/<code>/cetak")
    @guess_limit
    @lookup_limit
    def print_page(code: str):
        view, code = _lookup(code)
        if view is None:
            return _not_found(code)
        data = _page_data(view)
        data["qr"] = qr_svg(data["case_url"])
        data["printed_at"] = datetime.now(UTC)
        return _private(render_template("followup/case_print.html", **data))

    return bp


def _lookup(code: str) -> tuple[dict | None, str]:
    code = normalize(code)
    if not is_valid(code):
        return None, code
    result = call_api("GET", f"/api/v1/track/{code}", as_user=False)
    if result.status == 404:
        return None, code
    if not result.ok:
        abort(result.status if result.status >= 400 else 502)
    return result.data, code


def _not_found(code: str):
    TRACKING_MISSES.labels(surface="page").inc()
    key = "track.invalid" if not is_valid(code) else "track.unknown"
    error = translate(key, code=code[:20])
    return render_template("followup/track_form.html", typed=code[:20], error=error), 404


def public_case_url(code: str) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL") or request.url_root
    return base.rstrip("/") + url_for("followup_tracking.case_page", code=code)


def _page_data(view: dict) -> dict:
    code = view["tracking_code"]
    case_url = public_case_url(code)
    wa_text = translate("case.wa_text", code=code, url=case_url)
    now = datetime.now(UTC)
    deadlines = []
    for key in ("acknowledge_by", "resolve_by", "verify_by"):
        due = parse_when((view.get("deadlines") or {}).get(key))
        if due is not None and view.get("status") != "closed":
            deadlines.append((f"case.{key}", due, due < now))
    category = pick(view.get("category_label")) or view.get("category", "")
    return {
        "view": view,
        "code": code,
        "category": category,
        "status_label": pick(view.get("status_label")) or view.get("status", ""),
        "deadlines": deadlines,
        "timeline": list(reversed(view.get("timeline") or [])),
        "case_url": case_url,
        "wa_url": "https://wa.me/?text=" + quote(wa_text),
        "may_dispute": view.get("status") == "resolved_pending_verification",
        "disputed": request.args.get("bantah"),
    }


def _cacheable(body):
    response = make_response(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Vary"] = "Cookie"
    return response


def _private(body):
    response = make_response(body)
    # Status changes must show at once; a shared proxy must not keep a case page.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
