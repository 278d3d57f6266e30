"""Atom feeds anyone can follow without an account (feedgen).

GET /wilayah/<kode>.atom   public cases of a kelurahan/desa, kecamatan or kabupaten/kota
                           (a Kemendagri code, with or without dots): one entry per
                           case, newest first; only publicly listed cases (the listing
                           rule of followup_service.listing: no sensitive or
                           confidential case, ever)
GET /lacak/<code>.atom     one case's public timeline, as /lacak/<code> shows it (its
                           public view: status only for a sensitive case)
"""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from flask import Response, abort, current_app, request
from sqlalchemy import select

from followup_service.listing import publicly_listed
from followup_service.tables import cases
from shared.pages import page_blueprint
from shared.tracking_code import is_valid, normalize

MAX_ENTRIES = 100
ATOM = "application/atom+xml; charset=utf-8"


def _base() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or request.url_root).rstrip("/")


def _when(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _atom(feed: FeedGenerator) -> Response:
    response = Response(feed.atom_str(pretty=True), mimetype="application/atom+xml")
    response.headers["Content-Type"] = ATOM
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def build_blueprint(limiter, lookup_limit: str):
    bp = page_blueprint("notification_feeds", __name__)
    limited = limiter.limit(lookup_limit, scope="feeds")

    @bp.get("/wilayah/<kode>.atom")
    @limited
    def area_feed(kode: str):
        code = kode.replace(".", "").strip()
        if not code.isdigit() or len(code) not in (4, 6, 10):
            abort(404)
        engine = current_app.extensions["followup"].engine
        with engine.connect() as conn:
            rows = conn.execute(
                select(cases.c.tracking_code, cases.c.updated_at, cases.c.public_view)
                .where(publicly_listed(), cases.c.region.like(f"{_dotted(code)}%"))
                .order_by(cases.c.updated_at.desc())
                .limit(MAX_ENTRIES)
            ).all()
        base = _base()
        feed = FeedGenerator()
        feed.id(f"{base}/wilayah/{code}.atom")
        feed.title(f"Kawal Aspirasi: wilayah {_dotted(code)}")
        feed.link(href=f"{base}/wilayah/{code}.atom", rel="self")
        feed.language("id")
        feed.updated(rows[0].updated_at if rows else datetime.now(UTC))
        for row in reversed(rows):  # feedgen prepends: add oldest first
            view = row.public_view or {}
            entry = feed.add_entry()
            entry.id(f"{base}/lacak/{row.tracking_code}")
            label = (view.get("status_label") or {}).get("id") or view.get("status", "")
            entry.title(f"{row.tracking_code}: {label}")
            entry.link(href=f"{base}/lacak/{row.tracking_code}")
            entry.summary(view.get("public_summary") or "")
            entry.updated(row.updated_at)
        return _atom(feed)

    @bp.get("/lacak/<code>.atom")
    @limited
    def case_feed(code: str):
        code = normalize(code)
        if not is_valid(code):
            abort(404)
        engine = current_app.extensions["followup"].engine
        with engine.connect() as conn:
            row = conn.execute(
                select(cases.c.updated_at, cases.c.public_view).where(cases.c.tracking_code == code)
            ).first()
        if row is None:
            abort(404)
        view = row.public_view or {}
        base = _base()
        feed = FeedGenerator()
        feed.id(f"{base}/lacak/{code}.atom")
        feed.title(f"Kawal Aspirasi {code}")
        feed.link(href=f"{base}/lacak/{code}", rel="alternate")
        feed.link(href=f"{base}/lacak/{code}.atom", rel="self")
        feed.language("id")
        feed.updated(row.updated_at)
        for n, item in enumerate(view.get("timeline") or []):
            entry = feed.add_entry()
            entry.id(f"{base}/lacak/{code}#{n}")
            entry.title(item.get("id") or item.get("event", ""))
            entry.link(href=f"{base}/lacak/{code}")
            entry.updated(_when(item.get("at")))
            entry.summary(item.get("en") or "")
        return _atom(feed)

    return bp


def _dotted(code: str) -> str:
    """3604 -> 36.04; 360415 -> 36.04.15; 3604152001 -> 36.04.15.2001 (the region column)."""
    parts = [code[:2], code[2:4], code[4:6], code[6:]]
    return ".".join(p for p in parts if p)
