"""Open311 GeoReport v2, read side, so civic-tech clients can follow public cases.

Endpoints (JSON only; ``jurisdiction_id`` is accepted and ignored, one jurisdiction):
    GET /open311/v2/discovery.json
    GET /open311/v2/services.json
    GET /open311/v2/requests.json   filters: service_request_id, service_code, start_date,
                                    end_date, status (open|closed, comma separated)
    GET /open311/v2/requests/<service_request_id>.json
    GET /open311/v2/servicerequestupdates.json   (status-update extension: the public
                                    timeline; filters start_date, end_date, service_request_id)

Only public fields leave: ``description`` is the officer's public summary, the address
goes down to kelurahan/kecamatan (no coordinates), and sensitive categories (tawuran,
narcotics, election violations...) never appear in requests or updates; services.json
lists every category but marks the sensitive ones ``"listed": false`` (a
non-standard field clients may ignore).

Status mapping (our case status -> GeoReport ``status``):
    triage, routed, acknowledged, in_progress, split,
    resolved_pending_verification (awaiting the officer's check)   -> open
    closed (any outcome: resolved_verified, not_responsible,
    duplicate, no_further_action, withdrawn)                        -> closed
``status_notes`` carries our plain-language status (or outcome) label.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy import and_, select

from followup_service.tables import cases
from shared.pages.format import parse_when
from shared.pages.i18n import pick
from shared.taxonomy import load_categories
from shared.timeutil import utc_iso

DEFAULT_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
OPEN311_STATUSES = ("open", "closed")


def open311_status(case_status: str) -> str:
    return "closed" if case_status == "closed" else "open"


def build_blueprint() -> Blueprint:
    bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

    @bp.get("/discovery.json")
    def discovery():
        base = request.url_root.rstrip("/") + "/open311/v2/"
        return jsonify(
            {
                "changeset": "2026-11-23",
                "contact": "Kawal Aspirasi",
                "key_service": "",
                "endpoints": [
                    {
                        "specification": "http://wiki.open311.org/GeoReport_v2",
                        "url": base,
                        "changeset": "2026-11-23",
                        "type": "production",
                        "formats": ["application/json"],
                    }
                ],
            }
        )

    @bp.get("/services.json")
    def services():
        lang = _lang()
        return jsonify(
            [
                {
                    "service_code": category.id,
                    "service_name": category.label_id if lang == "id" else category.label_en,
                    "description": category.label_en if lang == "id" else category.label_id,
                    "metadata": False,
                    "type": "realtime",
                    "keywords": category.id.replace("_", ","),
                    "group": "sensitive" if category.sensitive else "public",
                    "listed": not category.sensitive,
                }
                for category in _categories().values()
            ]
        )

    @bp.get("/requests.json")
    def requests_list():
        query = _public_cases()
        ids = _csv_arg("service_request_id")
        if ids:
            query = query.where(cases.c.case_id.in_(ids))
        else:
            codes = _csv_arg("service_code")
            if codes:
                query = query.where(cases.c.category.in_(codes))
            statuses = _csv_arg("status")
            if statuses:
                if any(s not in OPEN311_STATUSES for s in statuses):
                    return _error(400, "status must be open and/or closed")
                if statuses == ["closed"]:
                    query = query.where(cases.c.status == "closed")
                elif statuses == ["open"]:
                    query = query.where(cases.c.status != "closed")
            start, end = _date_arg("start_date"), _date_arg("end_date")
            if start is None and end is None:
                start = datetime.now(UTC) - DEFAULT_WINDOW
            if start is not None:
                query = query.where(cases.c.opened_at >= start)
            if end is not None:
                query = query.where(cases.c.opened_at <= end)
        query = query.order_by(cases.c.opened_at.desc()).limit(MAX_REQUESTS)
        with _engine().connect() as conn:
            rows = conn.execute(query).all()
        return jsonify([service_request(row) for row in rows])

    @bp.get("/requests/<request_id>.json")
    def request_one(request_id: str):
        with _engine().connect() as conn:
            row = conn.execute(_public_cases().where(cases.c.case_id == request_id)).first()
        if row is None:
            return _error(404, "service request not found")
        return jsonify([service_request(row)])

    @bp.get("/servicerequestupdates.json")
    def updates():
        start, end = _date_arg("start_date"), _date_arg("end_date")
        if start is None and end is None:
            start = datetime.now(UTC) - DEFAULT_WINDOW
        query = _public_cases()
        ids = _csv_arg("service_request_id")
        if ids:
            query = query.where(cases.c.case_id.in_(ids))
        if start is not None:
            query = query.where(cases.c.updated_at >= start)
        with _engine().connect() as conn:
            rows = conn.execute(query.order_by(cases.c.updated_at)).all()
        found = []
        for row in rows:
            for update in service_request_updates(row):
                at = parse_when(update["updated_datetime"])
                if (start is None or at >= start) and (end is None or at <= end):
                    found.append(update)
        found.sort(key=lambda u: u["updated_datetime"])
        return jsonify(found[:MAX_REQUESTS])

    @bp.errorhandler(400)
    def _bad_request(exc):
        return _error(400, str(exc.description))

    return bp


def service_request(row) -> dict:
    """One case as a GeoReport v2 service request: public fields only."""
    view = row.public_view or {}
    lang = _lang()
    category = _categories().get(row.category)
    service_name = row.category
    if category is not None:
        service_name = category.label_id if lang == "id" else category.label_en
    address = ", ".join(part for part in (row.kelurahan, row.kecamatan) if part)
    expected = row.resolve_by if row.status != "closed" else None
    return {
        "service_request_id": row.case_id,
        "status": open311_status(row.status),
        "status_notes": pick(view.get("status_label"), lang),
        "service_name": service_name,
        "service_code": row.category,
        "description": row.public_summary or "",
        "agency_responsible": row.agency_name or "",
        "service_notice": "",
        "requested_datetime": _w3c(row.opened_at),
        "updated_datetime": _w3c(row.updated_at),
        "expected_datetime": _w3c(expected),
        "address": address,
        "address_id": "",
        "zipcode": "",
        "lat": None,
        "long": None,
        "media_url": "",
    }


def service_request_updates(row) -> list[dict]:
    """The case's public timeline as servicerequestupdates entries."""
    view = row.public_view or {}
    lang = _lang()
    entries = view.get("timeline") or []
    status = open311_status(row.status)
    updates = []
    for index, entry in enumerate(entries, start=1):
        updates.append(
            {
                "update_id": f"{row.case_id}-{index}",
                "service_request_id": row.case_id,
                "status": status if index == len(entries) else "open",
                "updated_datetime": _w3c(parse_when(entry.get("at"))),
                "description": pick(entry, lang),
                "media_url": "",
                "external_status_code": entry.get("event", ""),
            }
        )
    return updates


def _public_cases():
    """Never sensitive cases, never sub-cases' hidden parents: only publicly listed rows."""
    return select(cases).where(and_(cases.c.sensitive.is_(False), cases.c.status != "new"))


def _engine():
    return current_app.extensions["followup"].engine


def _categories():
    return load_categories(current_app.config["SETTINGS"].routing_rules_path)


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "id"


def _csv_arg(name: str) -> list[str]:
    raw = request.args.get(name, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def _date_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = parse_when(raw)
    except ValueError:
        abort(400, f"{name} must be a W3C date-time, e.g. 2026-11-01T00:00:00+07:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _w3c(value) -> str | None:
    return utc_iso(value, timespec="seconds")


def _error(code: int, description: str):
    return jsonify([{"code": code, "description": description}]), code
