"""Intake pages: the officer's meeting log, made for a phone with a patchy connection.

GET  /catat                                  the logging page (officer login)
GET  /aspirasi/<id>                          one aspiration in the caller's scope; the
                                             reporter for those who may see them (each
                                             view recorded), and for the area's supervisor
                                             who saw the informant, when
GET  /lokasi                                 aspirations whose location is not verified
POST /lokasi/<id>                            amend one's location (a code or names)
POST /catat/api/meetings                     forwarded to POST /api/v1/meetings
POST /catat/api/meetings/<id>/aspirations    forwarded to the batch endpoint
POST /catat/api/photos                       a photo upload (multipart), as POST /api/v1/photos
GET  /catat/api/regions                      forwarded to GET /api/v1/regions (suggestions)
GET  /catat/api/regions/area                 forwarded to GET /api/v1/regions/area (the unit's
                                             kabupaten/kota, kept on the phone for offline)
The forwarders add the session's bearer token and pass the Idempotency-Key through,
after checking the CSRF header; every rule stays in the API.
"""

from __future__ import annotations

import uuid

from flask import (
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import NotFound

from shared.pages import install_pages, page_blueprint
from shared.pages.api_client import call_api
from shared.pages.notice import seal, unseal
from shared.pages.session import login_required, page_principal
from shared.regions.unit_area import unit_place
from shared.security_headers import allow_camera
from shared.taxonomy import load_categories

LOGGERS = ("officer", "supervisor", "admin")
PLACE_FIELDS = ("region_code", "kabupaten", "kecamatan", "kelurahan", "rw", "rt", "address")
MEETING_KINDS = (
    "ngopi_kamtibmas",
    "ngariung",
    "patroli_sambang",
    "patroli_stasioner",
    "jumat_curhat",
    "other",
)


def register_pages(app: Flask) -> None:
    """Add the officer logging page to `app`."""
    install_pages(app, nav=[("nav.log", "/catat", LOGGERS), ("nav.locations", "/lokasi", LOGGERS)])
    app.config.setdefault("TRACKING_BASE_URL", "")
    bp = page_blueprint("intake_pages", __name__)
    bp.static_folder = "static"
    bp.static_url_path = "/static/intake"

    @bp.get("/catat")
    @allow_camera  # the one page that may use the camera (photos of what is raised)
    @login_required(*LOGGERS)
    def log_meeting():
        settings = current_app.config["SETTINGS"]
        categories = sorted(
            load_categories(settings.routing_rules_path).values(),
            key=lambda c: (c.id == "other", c.label_id),
        )
        officer = page_principal()
        return render_template(
            "intake/log.html",
            kinds=MEETING_KINDS,
            categories=categories,
            officer=officer,
            place=unit_place(current_app.extensions["intake"].regions, officer.unit),
            tracking_base=current_app.config["TRACKING_BASE_URL"].rstrip("/"),
        )

    @bp.get("/lokasi")
    @login_required(*LOGGERS)
    def unverified_locations():
        """Open aspirations whose place did not match the official list ("lokasi belum
        terverifikasi"): each can be fixed here with an amendment (the API's rules)."""
        query = {"location_verified": "false", "status": "open", "per_page": 100}
        principal = page_principal()
        if principal.role == "officer":
            query["unit"] = principal.unit
        result = call_api("GET", "/api/v1/aspirations", query=query)
        items = result.data.get("items", []) if result.ok else []
        directory = current_app.extensions["intake"].regions
        for item in items:  # under a recognised kecamatan: its kelurahan/desa to choose from
            code = item.get("region_code")
            item["choices"] = directory.children(code) if code and code.count(".") == 2 else []
        return render_template(
            "intake/locations.html",
            items=items,
            total=result.data.get("total", 0) if result.ok else 0,
            ok=unseal(request.args.get("ok")),
            err=unseal(request.args.get("err")),
        )

    @bp.post("/lokasi/<uuid:aspiration_id>")
    @login_required(*LOGGERS)
    def amend_location(aspiration_id: uuid.UUID):
        form = {k: request.form.get(k, "").strip() or None for k in PLACE_FIELDS}
        location = {k: v for k, v in form.items() if v}
        reason = request.form.get("reason", "").strip() or "Lokasi diverifikasi"
        result = call_api(
            "POST",
            f"/api/v1/aspirations/{aspiration_id}/amendments",
            json={"changes": {"location": location}, "reason": reason},
        )
        code = request.form.get("code", "")
        if result.ok:
            return redirect(url_for(".unverified_locations", ok=seal(code)))
        problem = result.data.get("fields") or result.data.get("message") or result.status
        return redirect(url_for(".unverified_locations", err=seal(f"{code}: {problem}")))

    @bp.get("/aspirasi/<uuid:aspiration_id>")
    @login_required(*LOGGERS)
    def aspiration(aspiration_id: uuid.UUID):
        """The aspiration as the API gives it to the caller (out of scope: 404), and the
        list of who saw the informant for the supervisors of its area (issue 27)."""
        result = call_api("GET", f"/api/v1/aspirations/{aspiration_id}")
        if result.status == 404:
            raise NotFound()
        if not result.ok:
            abort(result.status if 400 <= result.status < 500 else 502)
        views = None
        if page_principal().role == "supervisor":
            seen = call_api("GET", f"/api/v1/aspirations/{aspiration_id}/identity-views")
            views = seen.data.get("items", []) if seen.ok else None
        return render_template("intake/aspiration.html", a=result.data, views=views)

    @bp.post("/catat/api/meetings")
    @login_required(*LOGGERS)
    def forward_meeting():
        return _forward("/api/v1/meetings")

    @bp.post("/catat/api/meetings/<uuid:meeting_id>/aspirations")
    @login_required(*LOGGERS)
    def forward_batch(meeting_id: uuid.UUID):
        return _forward(f"/api/v1/meetings/{meeting_id}/aspirations")

    @bp.post("/catat/api/photos")
    @login_required(*LOGGERS)
    def forward_photo():
        """The outbox's photos (issue 25): intake_service.photos, as the signed-in officer."""
        from intake_service.photos import upload_as

        return upload_as(page_principal())

    @bp.get("/catat/api/regions")
    @login_required(*LOGGERS)
    def forward_regions():
        result = call_api("GET", "/api/v1/regions", query=request.args.to_dict())
        response = jsonify(result.data)
        response.status_code = result.status
        return response

    @bp.get("/catat/api/regions/area")
    @login_required(*LOGGERS)
    def forward_unit_area():
        result = call_api("GET", "/api/v1/regions/area", query=request.args.to_dict())
        response = jsonify(result.data)
        response.status_code = result.status
        return response

    @app.get("/")
    def _home():
        return redirect(url_for("intake_pages.log_meeting"))

    app.register_blueprint(bp)


def _forward(path: str):
    headers = {}
    if request.headers.get("Idempotency-Key"):
        headers["Idempotency-Key"] = request.headers["Idempotency-Key"]
    result = call_api("POST", path, raw_body=request.get_data(), headers=headers)
    response = jsonify(result.data)
    response.status_code = result.status
    for name in ("Idempotent-Replayed", "Retry-After"):
        if name in result.headers:
            response.headers[name] = result.headers[name]
    return response
