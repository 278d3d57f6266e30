"""Open311 GeoReport v2, read side, so civic-tech clients can follow public cases.

Endpoints, each as ``.xml`` (the spec's required format: declaration, UTF-8, element
names and nesting as in its examples) and ``.json``, both from one data shape
(each request names its ``jurisdiction_id``: the code of its kabupaten/kota, e.g. 32.75
for Kota Bekasi; ``requests`` takes it as a filter, and ignores a value that is not a
region code; the service list is the same for every jurisdiction):
    GET /open311/v2/discovery.<fmt>
    GET /open311/v2/services.<fmt>
    GET /open311/v2/services/<service_code>.<fmt>  the service definition: the category's
                                    attributes (deploy/routing/rules.yaml), 404 for an
                                    unknown or sensitive code
    GET /open311/v2/requests.<fmt>  filters: service_request_id (overrides the others),
                                    service_code, start_date, end_date, status
                                    (open|closed; lists comma separated); at most 1000
                                    per page, newest first; pagination extension: page,
                                    page_size (<= 1000)
    GET /open311/v2/requests/<service_request_id>.<fmt>
    GET /open311/v2/servicerequestupdates.<fmt>   (status-update extension: the public
                                    timeline; filters start_date, end_date, service_request_id)

Only public fields leave: ``description`` is the officer's public summary, the address
is the official hierarchy down to the kelurahan/desa (no street, no coordinates: the
region dataset has none, and a reporter's own are not published), and sensitive categories (tawuran,
narcotics, election violations...) never appear in requests or updates; ``services``
omits them for the public (an app cannot request them) and serves no definition for
them; staff (a session or a staff token) get every category, the sensitive ones marked
``"listed": false`` (a non-standard field).

Query window (``requests`` and ``servicerequestupdates``), as the spec's response volume:
a window spans at most 90 days; without dates it is the last 90 days (by the service's
clock), with only ``start_date`` the 90 days after it, with only ``end_date`` the 90 days
before it. Dates are W3C date-times with an offset (Z or +07:00); anything else, an end
before the start or a longer span answers 400 in the spec's error format.

Status mapping (our case status -> GeoReport ``status``):
    triage, routed, acknowledged, in_progress, split,
    resolved_pending_verification (awaiting the officer's check)   -> open
    closed (any outcome: resolved_verified, not_responsible,
    duplicate, no_further_action, withdrawn)                        -> closed
``status_notes`` carries our plain-language status (or outcome) label.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import select

from followup_service.domain.visibility import ROLES as STAFF_ROLES
from followup_service.domain.visibility import is_offered_publicly
from followup_service.listing import publicly_listed
from followup_service.photos.api import public_media_urls
from followup_service.tables import cases
from shared.auth import AuthError
from shared.open311 import FORMATS, XML_NAMES, error, respond
from shared.pages.format import parse_when
from shared.pages.i18n import pick
from shared.pages.session import page_principal
from shared.regions.dataset import load_directory
from shared.regions.directory import is_region_code
from shared.taxonomy import Attribute, Category, load_categories
from shared.timeutil import utc_iso
from shared.web_auth import current_principal

DEFAULT_WINDOW = timedelta(days=90)
PASSED_HEADERS = ("Content-Type", "Idempotency-Key", "X-Request-ID", "Accept-Language")
INTAKE_TIMEOUT_SECONDS = 15
UNENCODED_PLUS = re.compile(r" (\d{2}:?\d{2})$")
MAX_REQUESTS = 1000
OPEN311_STATUSES = ("open", "closed")


def open311_status(case_status: str) -> str:
    return "closed" if case_status == "closed" else "open"


class Window(NamedTuple):
    start: datetime
    end: datetime | None  # None: up to now


def query_window(start: datetime | None, end: datetime | None, now: datetime) -> Window:
    """The spec's query window: at most 90 days; the last 90 days when no date is given.

    Raises ValueError (a client error) when end is before start, the span is longer,
    or the window runs off the calendar.
    """
    try:
        if start is None and end is None:
            return Window(now - DEFAULT_WINDOW, None)
        if start is None:
            return Window(end - DEFAULT_WINDOW, end)
        if end is None:
            return Window(start, start + DEFAULT_WINDOW)
    except OverflowError:
        raise ValueError("start_date or end_date is too far off the calendar") from None
    if end < start:
        raise ValueError("end_date must not be before start_date")
    if end - start > DEFAULT_WINDOW:
        raise ValueError(f"start_date and end_date may span at most {DEFAULT_WINDOW.days} days")
    return Window(start, end)


def service_definition(category: Category, lang: str) -> dict:
    """A category as a GeoReport v2 service definition (its attributes, in their order)."""
    return {
        "service_code": category.id,
        "attributes": [_definition_attribute(a, lang) for a in category.attributes],
    }


def _definition_attribute(attribute: Attribute, lang: str) -> dict:
    about = attribute.datatype_description
    return {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": None if about is None else about.pick(lang),
        "order": attribute.order,
        "description": attribute.description.pick(lang),
        "values": [{"key": v.key, "name": v.name.pick(lang)} for v in attribute.values],
    }


def publishes_definition(category: Category) -> bool:
    """Whether Open311 serves a definition with attributes (its ``metadata`` flag):
    a sensitive category keeps its attributes for our own channels but shows none."""
    return bool(category.attributes) and is_offered_publicly(category.sensitive)


def build_blueprint() -> Blueprint:
    bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

    @bp.get(f"/discovery.{FORMATS}")
    def discovery(fmt: str):
        base = request.url_root.rstrip("/") + "/open311/v2/"
        return respond(
            fmt,
            {
                "changeset": "2026-11-25",
                "contact": "Kawal Aspirasi",
                "key_service": "An admin issues an Open311 key at /admin/integrasi",
                "endpoints": [
                    {
                        "specification": "http://wiki.open311.org/GeoReport_v2",
                        "url": base,
                        "changeset": "2026-11-25",
                        "type": "production",
                        "formats": ["text/xml", "application/json"],
                    }
                ],
            },
            root="discovery",
        )

    @bp.get(f"/services.{FORMATS}")
    def services(fmt: str):
        """The categories an app can request; staff (a session or a staff bearer token)
        also get the sensitive ones, marked ``"listed": false``."""
        lang, staff = _lang(), _staff_caller()
        return respond(
            fmt,
            [
                {
                    "service_code": category.id,
                    "service_name": category.label_id if lang == "id" else category.label_en,
                    "description": category.label_en if lang == "id" else category.label_id,
                    "metadata": publishes_definition(category),
                    "type": "realtime",
                    "keywords": category.id.replace("_", ","),
                    "group": "sensitive" if category.sensitive else "public",
                    "listed": is_offered_publicly(category.sensitive),
                }
                for category in _categories().values()
                if staff or is_offered_publicly(category.sensitive)
            ],
            names=XML_NAMES["services"],
        )

    @bp.get(f"/services/<service_code>.{FORMATS}")
    def service_definition_one(service_code: str, fmt: str):
        category = _categories().get(service_code)
        if category is None or not is_offered_publicly(category.sensitive):
            return error(404, f"service_code {service_code} not found", fmt)
        return respond(fmt, service_definition(category, _lang()), root="service_definition")

    @bp.get(f"/requests.{FORMATS}")
    def requests_list(fmt: str):
        query = _public_cases()
        ids = _csv_arg("service_request_id")
        if ids:
            query = query.where(cases.c.case_id.in_(ids))
        else:
            jurisdiction = request.args.get("jurisdiction_id", "").strip()
            if is_region_code(jurisdiction):  # a kabupaten/kota (or any region) code
                query = query.where(
                    (cases.c.region == jurisdiction) | cases.c.region.like(f"{jurisdiction}.%")
                )
            codes = _csv_arg("service_code")
            if codes:
                query = query.where(cases.c.category.in_(codes))
            statuses = _csv_arg("status")
            if statuses:
                if any(s not in OPEN311_STATUSES for s in statuses):
                    return error(400, "status must be open and/or closed", fmt)
                if statuses == ["closed"]:
                    query = query.where(cases.c.status == "closed")
                elif statuses == ["open"]:
                    query = query.where(cases.c.status != "closed")
            start, end = _window()
            query = query.where(cases.c.opened_at >= start)
            if end is not None:
                query = query.where(cases.c.opened_at <= end)
        page, page_size = (
            _int_arg("page", 1, 10**6),
            _int_arg("page_size", MAX_REQUESTS, MAX_REQUESTS),
        )
        query = query.order_by(cases.c.opened_at.desc(), cases.c.case_id)
        query = query.limit(page_size).offset((page - 1) * page_size)
        with _engine().connect() as conn:
            rows = conn.execute(query).all()
            media = public_media_urls(conn, rows, request.host_url)
        answer = [service_request(row, media.get(row.case_id, "")) for row in rows]
        return respond(fmt, answer, names=XML_NAMES["requests"])

    @bp.get(f"/requests/<request_id>.{FORMATS}")
    def request_one(request_id: str, fmt: str):
        with _engine().connect() as conn:
            row = conn.execute(_public_cases().where(cases.c.case_id == request_id)).first()
            media = public_media_urls(conn, [row] if row else [], request.host_url)
        if row is None:
            return error(404, "service request not found", fmt)
        answer = [service_request(row, media.get(row.case_id, ""))]
        return respond(fmt, answer, names=XML_NAMES["requests"])

    @bp.get(f"/servicerequestupdates.{FORMATS}")
    def updates(fmt: str):
        start, end = _window()
        query = _public_cases()
        ids = _csv_arg("service_request_id")
        if ids:
            query = query.where(cases.c.case_id.in_(ids))
        query = query.where(cases.c.updated_at >= start)
        with _engine().connect() as conn:
            rows = conn.execute(query.order_by(cases.c.updated_at)).all()
        found = []
        for row in rows:
            for update in service_request_updates(row):
                at = parse_when(update["updated_datetime"])
                if at >= start and (end is None or at <= end):
                    found.append(update)
        found.sort(key=lambda u: u["updated_datetime"])
        return respond(fmt, found[:MAX_REQUESTS], names=XML_NAMES["updates"])

    @bp.post(f"/requests.{FORMATS}")
    def requests_create(fmt: str):
        """New requests belong to the intake service, which owns the rules for recording an
        aspiration: pass the request on, so clients keep one Open311 base URL."""
        return _pass_to_intake(fmt)

    @bp.errorhandler(400)
    def _bad_request(exc):
        return error(400, str(exc.description), request.view_args.get("fmt", "json"))

    return bp


def _pass_to_intake(fmt: str):
    intake_url = current_app.config["SETTINGS"].intake_url.rstrip("/")
    if not intake_url:
        return error(503, "filing requests is not configured on this server", fmt)
    headers = {name: request.headers[name] for name in PASSED_HEADERS if name in request.headers}
    headers["X-Forwarded-For"] = request.remote_addr or ""
    url = f"{intake_url}/open311/v2/requests.{fmt}"
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    sent = urllib.request.Request(url, data=request.get_data(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(sent, timeout=INTAKE_TIMEOUT_SECONDS) as answer:
            return _relayed(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as answer:  # the intake's 4xx/5xx, in the spec's format
        return _relayed(answer.code, answer.headers, answer.read())
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return error(503, "the intake service is unavailable; retry later", fmt)


def _relayed(status: int, headers, body: bytes) -> Response:
    return Response(body, status=status, content_type=headers.get("Content-Type"))


def service_request(row, media_url: str = "") -> dict:
    """One case as a GeoReport v2 service request: public fields only (`media_url`: its
    first public photo, followup_service.photos.api.public_media_urls)."""
    view = row.public_view or {}
    lang = _lang()
    category = _categories().get(row.category)
    service_name = row.category
    if category is not None:
        service_name = category.label_id if lang == "id" else category.label_en
    address, jurisdiction = official_address(row.region, row.kelurahan, row.kecamatan)
    expected = row.resolve_by if row.status != "closed" else None
    return {
        "service_request_id": row.case_id,
        "status": open311_status(row.status),
        "status_notes": pick(view.get("status_label"), lang),
        "service_name": service_name,
        "service_code": row.category,
        "description": view.get("public_summary") or row.public_summary or "",
        "agency_responsible": row.agency_name or "",
        "service_notice": "",
        "requested_datetime": _w3c(row.opened_at),
        "updated_datetime": _w3c(row.updated_at),
        "expected_datetime": _w3c(expected),
        "address": address,
        "address_id": "",
        "jurisdiction_id": jurisdiction,
        "zipcode": "",
        "lat": None,
        "long": None,
        "media_url": media_url,
    }


def official_address(region: str, kelurahan: str, kecamatan: str) -> tuple[str, str | None]:
    """The case's place as the official hierarchy names it ("Kelurahan Pekayonjaya,
    Kecamatan Bekasi Selatan, Kota Bekasi, Jawa Barat") and its kabupaten/kota code as
    the jurisdiction; the typed names, and no jurisdiction, for a place not yet located."""
    place = load_directory().place(region) if is_region_code(region or "") else None
    if place is None:
        return ", ".join(part for part in (kelurahan, kecamatan) if part), None
    parts = []
    if place.village is not None:
        parts.append(f"{place.village.kind.title()} {place.village.name}")
    if place.district is not None:
        parts.append(f"Kecamatan {place.district.name}")
    parts += [r.name for r in (place.regency, place.province) if r is not None]
    return ", ".join(parts), place.regency.code if place.regency else place.province.code


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
    """Only publicly listed rows (the domain's one rule: never sensitive or confidential)."""
    return select(cases).where(publicly_listed())


def _staff_caller() -> bool:
    """Whether the caller is staff: a staff role's bearer token or page session. A bad
    or missing token is an anonymous caller here (the list is public)."""
    principal = None
    if request.headers.get("Authorization"):
        try:
            principal = current_principal()
        except AuthError:
            principal = None
    else:
        principal = page_principal()
    return principal is not None and principal.role in STAFF_ROLES


def _engine():
    return current_app.extensions["followup"].engine


def _categories():
    return load_categories(current_app.config["SETTINGS"].routing_rules_path)


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "id"


def _csv_arg(name: str) -> list[str]:
    raw = request.args.get(name, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def _window() -> Window:
    """The query window from start_date/end_date (400 in the spec's format when bad)."""
    start, end = _date_arg("start_date"), _date_arg("end_date")
    try:
        return query_window(start, end, current_app.extensions["followup"].clock())
    except ValueError as error:
        abort(400, str(error))


def _date_arg(name: str) -> datetime | None:
    """A W3C date-time with its offset, as UTC (the spec: timezone information must be
    included)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    raw = UNENCODED_PLUS.sub(r"+\1", raw)  # "+07:00" sent unencoded arrives as " 07:00"
    try:
        moment = parse_when(raw)
        if moment.utcoffset() is None:
            raise ValueError("no offset")
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        abort(400, f"{name} must be a W3C date-time with an offset, e.g. 2026-11-01T00:00:00+07:00")


def _w3c(value) -> str | None:
    return utc_iso(value, timespec="seconds")


def _int_arg(name: str, default: int, highest: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= highest):
        abort(400, f"{name} must be a whole number from 1 to {highest}")
    return int(raw)
