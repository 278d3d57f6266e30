"""Follow-up pages: public tracking, Open311 read side, liaison worklist, supervisor
dashboard and the report back for the next meeting."""

from __future__ import annotations

from flask import Flask, redirect, url_for

from shared.pages import install_pages

STAFF = ("liaison", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")
REPORTERS = ("officer", "supervisor", "admin")


def register_pages(app: Flask) -> None:
    """Add the follow-up pages and Open311 endpoints to `app`."""
    from followup_service.accounts import pages as accounts_pages
    from followup_service.pages import open311, staff, tracking
    from followup_service.tracking import limit_misses

    limiter = install_pages(
        app,
        nav=[
            ("nav.track", "/lacak", ()),
            ("nav.rapor", "/rapor", ()),
            ("nav.worklist", "/kerja", ("liaison", "supervisor", "admin")),
            ("nav.dashboard", "/dasbor", SUPERVISORS),
            ("nav.report", "/laporan", REPORTERS),
            ("nav.accounts", "/admin/akun", SUPERVISORS),
        ],
    )
    app.register_blueprint(tracking.build_blueprint(limiter))
    limit_misses(app, limiter)  # the tracking API's misses, on the same limiter
    from followup_service.notifications import feeds
    from followup_service.notifications import pages as notifications

    # subscribe on /lacak, unsubscribe/confirm/dispute links, Atom feeds (issue 24)
    app.register_blueprint(notifications.build_blueprint(limiter, tracking.LOOKUP_LIMIT))
    app.register_blueprint(feeds.build_blueprint(limiter, tracking.LOOKUP_LIMIT))
    app.register_blueprint(notifications.build_admin_blueprint())  # /admin/kabar
    app.register_blueprint(open311.build_blueprint())
    app.register_blueprint(staff.build_blueprint())
    app.register_blueprint(accounts_pages.build_blueprint())
    from followup_service.report_cards import pages as report_cards

    app.register_blueprint(report_cards.build_blueprint())  # /rapor: public report cards

    @app.get("/")
    def _home():
        return redirect(url_for("followup_tracking.track_form"))
