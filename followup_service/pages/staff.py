"""Staff pages: the liaison worklist, the supervisor dashboard and the report back.

The worklist lists and acts through the follow-up API (`GET /api/v1/cases`,
`POST /api/v1/cases/<id>/<action>`) as the logged-in staff member, so the API's
rules (agency scope, allowed transitions, optimistic concurrency) apply unchanged.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import (
    Response,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from werkzeug.exceptions import NotFound

from followup_service import need_to_know
from followup_service.domain.case import TRANSITIONS
from followup_service.domain.visibility import OUTCOME_LABELS, STATUS_LABELS
from followup_service.notifications.store import subscriber_counts
from followup_service.pages import queries
from followup_service.pages.report_pdf import report_pdf
from followup_service.photos import api as case_photos
from followup_service.photos import pages as photo_pages
from shared.pages import page_blueprint
from shared.pages.api_client import call_api
from shared.pages.i18n import current_lang, pick
from shared.pages.notice import seal, unseal
from shared.pages.session import login_required, page_principal
from shared.taxonomy import load_categories

WORKLIST_ROLES = ("liaison", "officer", "supervisor", "admin")
DASHBOARD_ROLES = ("supervisor", "admin")
REPORT_ROLES = ("officer", "supervisor", "admin")
QUEUE_STATUSES = "routed,acknowledged,in_progress"
# an officer's worklist: their unit's cases an agency reported resolved, to verify on site
VERIFY_STATUSES = "resolved_pending_verification"
# page action -> (API path, command name in the domain's TRANSITIONS)
ACTIONS = {
    "acknowledge": ("acknowledge", "acknowledge"),
    "progress": ("progress", "note_progress"),
    "resolve": ("resolve", "resolve"),
    "decline": ("decline", "decline"),
    "confirm": ("confirm", "confirm_resolution"),
    "dispute": ("dispute", "dispute_resolution"),
}
OFFICER_ACTIONS = ("confirm", "dispute")


def build_blueprint():
    bp = page_blueprint("followup_staff", __name__)

    @bp.get("/kerja")
    @login_required(*WORKLIST_ROLES)
    def worklist():
        officer = page_principal().role == "officer"
        query = {"status": VERIFY_STATUSES if officer else QUEUE_STATUSES, "per_page": 100}
        if request.args.get("agency"):
            query["agency"] = request.args["agency"]
        if request.args.get("lokasi") == "belum":  # lokasi belum terverifikasi only
            query["location_verified"] = "false"
        result = call_api("GET", "/api/v1/cases", query=query)
        if not result.ok:
            return _api_failure(result)
        items = [_decorate(item, officer) for item in result.data["items"]]
        with _engine().connect() as conn:  # before and after photos, side by side (issue 25)
            photos = case_photos.photos_by_case(conn, [i["id"] for i in items], page_principal())
        for item in items:
            item["photos"] = photos.get(item["id"])
        with _engine().connect() as conn:  # how many follow each case, never who (issue 24)
            followers = subscriber_counts(conn, [item["id"] for item in items])
        for item in items:
            item["subscriber_count"] = followers.get(item["id"], 0)
        return render_template(
            "followup/worklist.html",
            verifying=officer,
            items=items,
            total=result.data["total"],
            ok=unseal(request.args.get("ok")),
            err=unseal(request.args.get("err")),
        )

    @bp.post("/kerja/<case_id>/<action>")
    @login_required(*WORKLIST_ROLES)
    def act(case_id: str, action: str):
        if action not in ACTIONS:
            raise NotFound()
        path, _ = ACTIONS[action]
        body: dict = {}
        version = request.form.get("version", "")
        if version.isascii() and version.isdigit() and len(version) < 10:
            body["expected_version"] = int(version)
        text = request.form.get("text", "").strip()
        if action == "progress":
            body.update(text=text, public=request.form.get("public") == "on")
        elif action == "resolve":
            body["resolution"] = text
        elif action in ("decline", "dispute"):
            body["reason"] = text
        refused = photo_pages.attach_from_form(case_id, action, body)  # a proof photo (25)
        if refused is not None:
            return refused
        result = call_api("POST", f"/api/v1/cases/{case_id}/{path}", json=body)
        code = request.form.get("code", "")
        if result.ok:
            return redirect(url_for(".worklist", ok=seal(code)) + f"#c-{code}")
        return redirect(url_for(".worklist", err=seal(f"{code}: {_problem(result)}")))

    @bp.get("/kerja/foto/<case_id>/<uuid:photo_id>")
    @login_required(*WORKLIST_ROLES)
    def case_photo(case_id: str, photo_id):
        return case_photos.serve_to_staff(case_id, photo_id, False, page_principal())

    @bp.get("/kerja/foto/<case_id>/<uuid:photo_id>/thumbnail")
    @login_required(*WORKLIST_ROLES)
    def case_photo_thumbnail(case_id: str, photo_id):
        return case_photos.serve_to_staff(case_id, photo_id, True, page_principal())

    @bp.get("/dasbor")
    @login_required(*DASHBOARD_ROLES)
    def dashboard():
        now = datetime.now(UTC)
        data = queries.dashboard(_engine(), now, scope=_in_scope())
        need_to_know.record_admin_overview(_engine(), page_principal(), _via())
        return render_template(
            "followup/dashboard.html",
            data=data,
            chart=weekly_svg(data["weekly"]),
            category_label=_category_label,
        )

    @bp.get("/dasbor/kasus.csv")
    @login_required(*DASHBOARD_ROLES)
    def cases_csv():
        now = datetime.now(UTC)
        engine, scope = _engine(), _in_scope()
        # kept when the export is asked for: a download cut short was still a read
        need_to_know.record_admin_overview(engine, page_principal(), _via())

        def generate():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(queries.CSV_COLUMNS)
            for row in queries.csv_rows(engine, now, scope):
                writer.writerow(row)
                if buffer.tell() > 8192:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        stamp = now.strftime("%Y%m%d")
        return Response(
            stream_with_context(generate()),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="kasus-{stamp}.csv"'},
        )

    @bp.get("/laporan")
    @login_required(*REPORT_ROLES)
    def report():
        data = _report_data()
        return render_template("followup/report.html", **data)

    @bp.get("/laporan.pdf")
    @login_required(*REPORT_ROLES)
    def report_as_pdf():
        data = _report_data()
        if not data["rows"] and not data["hidden"]:
            raise NotFound()
        pdf = report_pdf(data, current_lang())
        name = (data["kelurahan"] or "pertemuan").replace(" ", "-").lower()
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'inline; filename="laporan-{name}.pdf"'},
        )

    return bp


def _in_scope():
    """The signed-in person's scope as a condition on the cases (shared.need_to_know)."""
    return need_to_know.in_scope(page_principal())


def _via() -> str:
    return f"{request.method} {request.path}"


def _engine():
    return current_app.extensions["followup"].engine


def _category_label(category: str) -> str:
    found = load_categories(current_app.config["SETTINGS"].routing_rules_path).get(category)
    if found is None:
        return category
    return found.label_id if current_lang() == "id" else found.label_en


def status_label(status: str, outcome: str | None = None) -> str:
    labels = OUTCOME_LABELS.get(outcome) if outcome else None
    return pick(labels or STATUS_LABELS.get(status) or (status, status))


def _decorate(item: dict, officer: bool = False) -> dict:
    """A list item plus its labels and the page actions its status allows (an officer
    verifies; the agency's staff work the case)."""
    status = item["status"]
    allowed = [a for a, (_, cmd) in ACTIONS.items() if status in TRANSITIONS[cmd]]
    return {
        **item,
        "category_label": _category_label(item["category"]),
        "status_label": status_label(status, item.get("outcome")),
        "actions": [a for a in allowed if (a in OFFICER_ACTIONS) == officer],
    }


def _problem(result) -> str:
    data = result.data if isinstance(result.data, dict) else {}
    if data.get("fields"):
        return "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in data["fields"].items())
    return result.message


def _api_failure(result):
    """The API refused: the visitor's own mistake (e.g. a bad filter) is theirs, a 4xx."""
    from werkzeug.exceptions import InternalServerError, abort

    if 400 <= result.status < 500:
        abort(result.status)
    raise InternalServerError()


def _report_data() -> dict:
    kelurahan = request.args.get("kelurahan", "").strip()
    codes = [c.strip().upper() for c in request.args.get("kode", "").split(",") if c.strip()]
    rows, hidden = queries.report_rows(
        _engine(), kelurahan=kelurahan, codes=codes[:200], scope=_in_scope()
    )
    if rows and need_to_know.reads_beyond_scope(page_principal()):
        with _engine().begin() as conn:
            need_to_know.record_admin_read(
                conn, page_principal(), [row.case_id for row in rows], _via()
            )
    items = []
    for row in rows:
        view = row.public_view or {}
        timeline = view.get("timeline") or []
        items.append(
            {
                "code": row.tracking_code,
                "category": _category_label(row.category),
                "summary": view.get("public_summary") or row.public_summary,
                "kelurahan": row.kelurahan,
                "agency": row.agency_name or "",
                "status": pick(view.get("status_label")) or status_label(row.status, row.outcome),
                "last": pick(timeline[-1]) if timeline else "",
                "last_at": timeline[-1]["at"] if timeline else None,
                "opened_at": row.opened_at,
            }
        )
    return {
        "kelurahan": kelurahan,
        "codes": ",".join(codes),
        "rows": items,
        "hidden": hidden,
        "generated_at": datetime.now(UTC),
    }


def weekly_svg(series, width: int = 640, height: int = 220) -> str:
    """Opened (dark) and resolved (light) cases per week as paired bars, in plain SVG."""
    pad_left, pad_bottom, pad_top = 28, 34, 10
    peak = max([1, *(max(o, r) for _, o, r in series)])
    slot = (width - pad_left) / max(len(series), 1)
    bar = max(slot / 2 - 3, 2)
    plot_h = height - pad_bottom - pad_top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" class="chart" preserveAspectRatio="xMinYMin meet">',
        f'<line x1="{pad_left}" y1="{pad_top + plot_h}" x2="{width}" y2="{pad_top + plot_h}" '
        'stroke="#9aa5b1"/>',
        f'<text x="2" y="{pad_top + 10}" font-size="11" fill="#56616d">{peak}</text>',
        f'<text x="2" y="{pad_top + plot_h}" font-size="11" fill="#56616d">0</text>',
    ]
    for index, (week, opened, resolved) in enumerate(series):
        x = pad_left + index * slot + 2
        bars = ((0, opened, "#0d3b66", "o"), (bar, resolved, "#7fb3e0", "r"))
        for offset, value, color, kind in bars:
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{pad_top + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{color}" data-{kind}="{value}">'
                f"<title>{week.isoformat()}: {value}</title></rect>"
            )
        if index % 2 == 0 or len(series) <= 6:
            label = f"{week.day}/{week.month}"
            parts.append(
                f'<text x="{x:.1f}" y="{height - 18}" font-size="11" fill="#56616d">{label}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
