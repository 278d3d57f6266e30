"""Public report cards: `/rapor`, `/rapor/<kode>` and their open data. No sign-in.

Every page reads one precomputed row of `report_cards` (store.read_card); the figures
are already suppressed for small numbers, so the page, the CSV and the JSON print the
same values. `/rapor/<kode>.csv` and `.json` carry the card under LICENCE;
`/rapor/<kode>/kasus.csv?halaman=N` pages through the area's public cases.
"""

from __future__ import annotations

import csv
import io
import time

from flask import Blueprint, abort, current_app, jsonify, make_response, render_template, request

from followup_service.report_cards import charts, store
from followup_service.report_cards.domain import FIGURES, NATIONAL, SMALL
from shared.pages import render_error
from shared.pages.i18n import current_lang, translate
from shared.pages.session import page_principal
from shared.regions.directory import is_region_code

LICENCE = {
    "name": "Creative Commons Attribution 4.0 International (CC BY 4.0)",
    "url": "https://creativecommons.org/licenses/by/4.0/",
    "attribution": "Kawal Aspirasi",
    "regions": "Nama dan kode wilayah: idn-area-data 4.0.1 (ODbL 1.0)",
}
CASES_PER_PAGE = 1000
MAX_PAGE = 10_000
CACHE = "public, max-age=60"


def build_blueprint() -> Blueprint:
    bp = Blueprint(
        "report_cards",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static/rapor",
    )
    bp.register_error_handler(Exception, render_error)

    @bp.get("/rapor")
    def national():
        return _cached(_shared_page(_national_page))

    @bp.get("/rapor/<code>")
    def area(code: str):
        for suffix, answer in ((".json", _json), (".csv", _csv)):
            if code.endswith(suffix):
                return answer(code.removesuffix(suffix))
        return _cached(_shared_page(lambda: _area_page(code)))

    @bp.get("/rapor/<code>/kasus.csv")
    def cases_csv(code: str):
        page = request.args.get("halaman", request.args.get("page", "1"))
        if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
            return jsonify(
                {"error": "bad request", "message": f"halaman must be 1 to {MAX_PAGE}"}
            ), 400
        _area_and_card(code, json_errors=True)
        with current_app.extensions["followup"].engine.connect() as conn:
            rows = store.public_cases(conn, code, int(page), CASES_PER_PAGE)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=store.PUBLIC_CASE_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
        response = _cached(make_response(out.getvalue()))
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
        response.headers["X-Licence"] = LICENCE["url"]
        if len(rows) == CASES_PER_PAGE:
            response.headers["Link"] = f'<{request.path}?halaman={int(page) + 1}>; rel="next"'
        return response

    return bp


def _national_page() -> str:
    card, computed_at = _card(NATIONAL) or (None, None)
    provinces = []
    for province in (card or {}).get("areas", []):
        prefix = province["key"] + "."
        kabupaten = [k for k in card.get("kabupaten", []) if k["key"].startswith(prefix)]
        provinces.append({**province, "kabupaten": kabupaten})
    return render_template(
        "rapor/index.html",
        card=card,
        computed_at=computed_at,
        provinces=provinces,
        fmt=_format,
        weekly_svg=_weekly_svg(card) if card else "",
    )


def _area_page(code: str) -> str:
    place, card, computed_at = _area_and_card(code)
    return render_template(
        "rapor/card.html",
        place=place,
        card=card,
        computed_at=computed_at,
        fmt=_format,
        weekly_svg=_weekly_svg(card) if card else "",
        agency_svg=_agency_svg(card) if card else "",
    )


PAGE_TTL = 10.0  # seconds an anonymous page is served from this process's memory
PAGE_CACHE_SIZE = 2048


def _shared_page(render) -> str:
    """The page for anonymous visitors from a short-lived per-process cache (key: path,
    query and language), so a busy card costs one render per process per PAGE_TTL. The
    cards change only when the worker recomputes them (every 30 s at most). A signed-in
    visitor's page carries their name and a sign-out form: rendered afresh, never kept."""
    if page_principal() is not None:
        return render()
    cache = current_app.extensions.setdefault("report_card_pages", {})
    key = (request.full_path, current_lang())
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] < PAGE_TTL:
        return hit[1]
    body = render()
    if len(cache) >= PAGE_CACHE_SIZE:
        cache.clear()
    cache[key] = (now, body)
    return body


def _card(code: str):
    with current_app.extensions["followup"].engine.connect() as conn:
        return store.read_card(conn, code)


def _area_and_card(code: str, json_errors: bool = False):
    """(area, card or None, computed_at) for a code, or a 404 (JSON for open data)."""
    if code != NATIONAL and not (is_region_code(code) and code.count(".") <= 2):
        _not_found(code, json_errors)
    with current_app.extensions["followup"].engine.connect() as conn:
        place = store.area(conn, code)
        if place is None:
            _not_found(code, json_errors)
        found = store.read_card(conn, code)
    card, computed_at = found or (None, None)
    return place, card, computed_at


def _not_found(code: str, json_errors: bool):
    if json_errors:
        abort(make_response(jsonify({"error": "not found", "message": "unknown area code"}), 404))
    abort(404)


def _json(code: str):
    place, card, computed_at = _area_and_card(code, json_errors=True)
    body = {
        "area": place,
        "computed_at": computed_at.isoformat() if computed_at else None,
        "licence": LICENCE,
        "method": _method_texts(),
        "small_numbers": f'counts of 1-4 and figures over fewer than 5 cases are "{SMALL}"',
        "card": card,
    }
    response = _cached(jsonify(body))
    response.headers["X-Licence"] = LICENCE["url"]
    return response


CSV_COLUMNS = ("section", "key", "name", *FIGURES, "opened", "closed")


def card_csv_rows(card: dict | None) -> list[dict]:
    """The card as CSV rows: total, agencies, categories, sub-areas, then weeks."""
    if not card:
        return []
    rows = [{"section": "total", "key": card["code"], "name": card["name"], **card["total"]}]
    for section, items in (
        ("agency", card["by_agency"]),
        ("category", card["by_category"]),
        ("area", card["areas"]),
        ("kabupaten", card.get("kabupaten", [])),
    ):
        rows += [
            {"section": section, **{k: v for k, v in r.items() if k != "name_en"}} for r in items
        ]
    rows += [{"section": "week", "key": w["week"], **w} for w in card["weekly"]]
    return [{k: r.get(k) for k in CSV_COLUMNS} for r in rows]


def _csv(code: str):
    place, card, computed_at = _area_and_card(code, json_errors=True)
    out = io.StringIO()
    out.write(f"# {place['name']} ({place['code']}); computed {computed_at}; ")
    out.write(f"licence {LICENCE['name']} {LICENCE['url']}; {LICENCE['regions']}\n")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in card_csv_rows(card):
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    response = _cached(make_response(out.getvalue()))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["X-Licence"] = LICENCE["url"]
    return response


def _csv_value(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _format(value, unit: str = "") -> str:
    """A figure for the page: "–" for none, SMALL as is, decimals with the language's mark."""
    if value is None:
        return "–"
    if value == SMALL:
        return SMALL
    text = f"{value}"
    if current_lang() == "id":
        text = text.replace(".", ",")
    return f"{text}{unit}"


def _method_texts() -> dict:
    return {key: translate(f"rapor.method.{key}", "en") for key in METHOD_KEYS}


METHOD_KEYS = (
    "received",
    "ack",
    "median",
    "verified",
    "disputed",
    "open",
    "weekly",
    "small",
    "privacy",
)


def _weekly_svg(card: dict) -> str:
    weeks = card["weekly"]
    numbers = "; ".join(
        translate("rapor.chart.week_text", week=w["week"], opened=w["opened"], closed=w["closed"])
        for w in weeks
    )
    return charts.weekly_chart(
        weeks,
        translate("rapor.chart.weekly_title", name=card["name"]),
        numbers,
        (translate("rapor.opened"), translate("rapor.closed")),
    )


def _agency_svg(card: dict) -> str:
    rows = card["by_agency"]
    name_key = "name" if current_lang() == "id" else "name_en"
    numbers = "; ".join(
        f"{r[name_key]}: {_format(r['ack_within_deadline_pct'], '%')}" for r in rows[:12]
    )
    return charts.share_chart(
        rows,
        translate("rapor.chart.ack_title"),
        numbers,
        "ack_within_deadline_pct",
        name_key,
    )


def _cached(response):
    response = make_response(response)
    response.headers["Cache-Control"] = CACHE
    response.headers["Vary"] = "Cookie"
    return response
