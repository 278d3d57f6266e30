"""Liaison API: case list, case detail with timeline, one POST endpoint per command.

JSON in -> marshmallow -> handler -> JSON out. Errors: 422 field errors, 403 not your
case, 404 unknown case, 409 illegal transition (current status + allowed actions) or
a stale version (send `If-Match: "<version>"` or `expected_version` to guard updates).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate, validates
from sqlalchemy import and_, func, select, true

from followup_service import handlers, need_to_know, stats
from followup_service.domain.case import (
    CLOSE_OUTCOMES,
    WITH_AGENCY,
    Case,
    IllegalTransitionError,
    InvalidCommandError,
    is_overdue,
)
from followup_service.domain.deadlines import next_deadline
from followup_service.domain.routing import RoutingRulesError
from followup_service.notifications.store import subscriber_count
from followup_service.projections import tracking_view
from followup_service.tables import case_timeline, cases
from shared.auth import Principal
from shared.eventstore.store import ConcurrencyError
from shared.fields import CleanText
from shared.timeutil import JAKARTA
from shared.timeutil import utc_iso as _iso
from shared.web import ApiError, json_body
from shared.web_auth import current_principal, require_role

bp = Blueprint("followup_api", __name__, url_prefix="/api/v1")
STAFF = ("liaison", "officer", "supervisor", "admin")
TEXT = validate.Length(min=1, max=5000)


def followup():
    return current_app.extensions["followup"]


# --- errors ------------------------------------------------------------------------------


@bp.app_errorhandler(IllegalTransitionError)
def _illegal(error: IllegalTransitionError):
    body = {
        "error": str(error),
        "action": error.action,
        "current_status": error.current_status,
        "allowed_actions": error.allowed_actions,
    }
    return jsonify(body), 409


@bp.app_errorhandler(ConcurrencyError)
def _stale(error: ConcurrencyError):
    body = {
        "error": "the case was changed meanwhile; reload it and try again",
        "expected_version": error.expected,
        "current_version": error.actual,
    }
    return jsonify(body), 409


@bp.app_errorhandler(InvalidCommandError)
@bp.app_errorhandler(RoutingRulesError)
def _invalid(error: Exception):
    return jsonify({"error": "validation failed", "message": str(error)}), 422


@bp.app_errorhandler(handlers.CaseNotFoundError)
def _not_found(error: LookupError):
    return jsonify({"error": "case not found", "id": str(error.args[0])}), 404


# --- reads -------------------------------------------------------------------------------


class CaseQuery(Schema):
    agency = CleanText(validate=validate.Length(max=120))
    # one status or several, comma-separated
    status = CleanText(validate=validate.Length(max=500))
    overdue = fields.Boolean()
    category = CleanText(validate=validate.Length(max=120))
    kelurahan = CleanText(validate=validate.Length(max=200))
    # false: the cases whose location is not known to a kelurahan ("lokasi belum terverifikasi")
    location_verified = fields.Boolean()
    opened_from = fields.Date()
    opened_to = fields.Date()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def list_item(row, now: datetime) -> dict:
    return {
        "id": row.case_id,
        "parent_id": row.parent_id,
        "tracking_code": row.tracking_code,
        "category": row.category,
        "kecamatan": row.kecamatan,
        "kelurahan": row.kelurahan,
        "region": row.region,
        "location_verified": row.location_verified,
        "status": row.status,
        "outcome": row.outcome,
        "agency": {"id": row.agency_id, "name": row.agency_name} if row.agency_id else None,
        "level": row.level,
        "urgency": row.urgency,
        "sensitive": row.sensitive,
        "public_summary": row.public_summary,
        "next_deadline_at": _iso(row.next_deadline_at),
        "overdue": is_overdue(row.status, row.next_deadline_at, now),
        "escalations": row.escalations,
        "opened_at": _iso(row.opened_at),
        "updated_at": _iso(row.updated_at),
        "version": row.version,
    }


@bp.get("/cases")
@require_role(*STAFF)
def list_cases():
    q = CaseQuery().load(request.args)
    fu, now = followup(), followup().clock()
    who = current_principal()
    # need to know: liaisons their agency's queue, officers their unit's cases and the
    # cases their unit holds, supervisors their area's, admins only with the national area
    conditions = [need_to_know.in_scope(who)]
    if "agency" in q:
        conditions.append(cases.c.agency_id == q["agency"])
    if "status" in q:
        conditions.append(cases.c.status.in_(q["status"].split(",")))
    for name in ("category", "kelurahan"):
        if name in q:
            conditions.append(cases.c[name] == q[name])
    if "location_verified" in q:
        conditions.append(cases.c.location_verified == q["location_verified"])
    if "opened_from" in q:
        conditions.append(cases.c.opened_at >= datetime.combine(q["opened_from"], time(), JAKARTA))
    if "opened_to" in q:
        end = datetime.combine(q["opened_to"] + timedelta(days=1), time(), JAKARTA)
        conditions.append(cases.c.opened_at < end)
    if "overdue" in q:
        overdue = and_(cases.c.status.in_(WITH_AGENCY), cases.c.next_deadline_at <= now)
        conditions.append(overdue if q["overdue"] else ~overdue)
    where = and_(true(), *conditions)
    page, per_page = q["page"], q["per_page"]
    with fu.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(cases).where(where)).scalar_one()
        rows = conn.execute(
            select(cases)
            .where(where)
            .order_by(cases.c.next_deadline_at.asc().nulls_last(), cases.c.opened_at)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        need_to_know.record_admin_read(conn, who, [r.case_id for r in rows], _via())
        conn.commit()
    items = [list_item(row, now) for row in rows]
    return jsonify({"items": items, "page": page, "per_page": per_page, "total": total})


class StatsQuery(Schema):
    oldest = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


@bp.get("/stats")
@require_role("supervisor", "admin")
def supervisor_stats():
    """Open/overdue per agency and category, median hours, the oldest open cases."""
    q = StatsQuery().load(request.args)
    fu, who = followup(), current_principal()
    with fu.engine.connect() as conn:
        figures = stats.supervisor_stats(conn, fu.clock(), q["oldest"], need_to_know.in_scope(who))
    need_to_know.record_admin_overview(fu.engine, who, _via())
    return jsonify(figures)


def _optional_principal() -> Principal | None:
    if not request.headers.get("Authorization"):
        return None
    return current_principal()


def _via() -> str:
    return f"{request.method} {request.path}"


def case_detail(case: Case, conn) -> dict:
    """Everything about a case, for those who may see its details."""
    fu, now = followup(), followup().clock()
    due = next_deadline(case)
    timeline = conn.execute(
        select(case_timeline)
        .where(case_timeline.c.case_id == case.case_id)
        .order_by(case_timeline.c.seq)
    ).all()
    public = tracking_view(case, fu.rules)
    return {
        **public,
        "kelurahan": case.kelurahan,  # staff see the place even when the public does not
        "kecamatan": case.kecamatan,
        "region": case.region,
        "location_verified": case.area.verified,
        "unit": case.unit,
        "urgency": case.urgency,
        "sensitive": case.sensitive,
        "description": case.description,
        "agency": {"id": case.agency.id, "name": case.agency.name} if case.agency else None,
        "level": case.level,
        "ladder": [{"id": a.id, "name": a.name} for a in case.ladder],
        "rule_version": case.rule_version,
        "declined_by": list(case.declined_by),
        "sub_case_ids": list(case.sub_case_ids),
        "close_reason": case.close_reason,
        "next_deadline_at": _iso(due),
        "overdue": is_overdue(case.status, due, now),
        "allowed_actions": case.allowed_actions(),
        "subscriber_count": subscriber_count(conn, case.case_id),  # how many, never who
        "public_timeline": public["timeline"],
        "timeline": [
            {
                "seq": row.seq,
                "event": row.event_type,
                "at": _iso(row.occurred_at),
                "actor": row.actor,
                "public": row.public,
                "data": row.payload,
            }
            for row in timeline
        ],
    }


def _case_response(case: Case, who: Principal | None):
    """Details for those whose scope holds the case (shared.need_to_know); the public view
    for others, and for a sensitive case 404, as for an unknown one."""
    may_see = need_to_know.access(case, who).in_scope
    if not may_see and case.sensitive:
        raise handlers.CaseNotFoundError(case.case_id)
    if may_see:
        with followup().engine.begin() as conn:
            body = case_detail(case, conn)
            need_to_know.record_admin_read(conn, who, [case.case_id], _via())
    else:
        body = tracking_view(case, followup().rules)
    response = jsonify(body)
    response.headers["ETag"] = f'"{case.version}"'
    return response


@bp.get("/cases/<case_id>")
def get_case(case_id: str):
    who = _optional_principal()  # anonymous callers get the public view
    return _case_response(handlers.load_case(followup(), case_id), who)


# --- commands ----------------------------------------------------------------------------


VERSION = validate.Range(min=1, max=2**31 - 1)


class CommandIn(Schema):
    expected_version = fields.Integer(load_default=None, validate=VERSION)


class AssignIn(CommandIn):
    agency_id = CleanText(required=True, validate=validate.Length(min=1, max=120))
    reason = CleanText(required=True, validate=TEXT)


class ProgressIn(CommandIn):
    text = CleanText(required=True, validate=TEXT)
    public = fields.Boolean(load_default=False)
    # a proof photo attached first (POST /api/v1/photos answers it: "photo:<id>")
    evidence_ref = CleanText(load_default=None, validate=validate.Length(max=500))


class ReasonIn(CommandIn):
    reason = CleanText(required=True, validate=TEXT)


class ResolveIn(CommandIn):
    resolution = CleanText(required=True, validate=TEXT)
    evidence_ref = CleanText(load_default=None, validate=validate.Length(max=500))


class ConfirmIn(CommandIn):
    photo_ref = CleanText(load_default=None, validate=validate.Length(max=500))


class CloseIn(CommandIn):
    outcome = fields.String(required=True, validate=validate.OneOf(CLOSE_OUTCOMES))
    reason = CleanText(load_default="", validate=validate.Length(max=5000))
    duplicate_of = CleanText(load_default=None, validate=validate.Length(max=60))


class SubCaseIn(Schema):
    category = CleanText(required=True, validate=validate.Length(max=120))
    public_summary = CleanText(required=True, validate=validate.Length(min=1, max=500))

    @validates("category")
    def _known(self, value, **_):
        if value not in followup().rules.categories:
            raise ValidationError("Unknown category.")


class SplitIn(CommandIn):
    sub_cases = fields.List(
        fields.Nested(SubCaseIn), required=True, validate=validate.Length(min=2, max=10)
    )


def _expected_version(data: dict) -> int | None:
    """The body's expected_version, else an If-Match header ("3", W/"3" or 3)."""
    if data.get("expected_version") is not None:
        return data["expected_version"]
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    raw = header.removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit() and VERSION.min <= int(raw) <= VERSION.max):
        raise ApiError(400, 'If-Match must be a case version such as "3"')
    return int(raw)


def _command(schema: type[Schema], run):
    """Parse the body, run the handler as the caller, answer with the updated case."""
    data = schema().load(json_body() if request.content_length else {})
    expected = _expected_version(data)
    data.pop("expected_version", None)
    who = current_principal()
    case = run(who, expected, data)
    if case.sensitive and not need_to_know.access(case, who).in_scope:
        # e.g. a declined sensitive case: the decliner learns only that it moved on
        body = {"id": case.case_id, "status": case.status, "version": case.version}
        return jsonify(body), 200, {"ETag": f'"{case.version}"'}
    return _case_response(case, who)


def _endpoint(path: str, name: str, schema: type[Schema], handler, **fixed):
    def view(case_id: str):
        return _command(
            schema,
            lambda who, expected, data: handler(
                followup(), case_id, who, expected_version=expected, **data, **fixed
            ),
        )

    view.__name__ = name
    bp.post(f"/cases/<case_id>/{path}")(require_role(*STAFF)(view))


_endpoint("assign", "assign_case", AssignIn, handlers.assign)
_endpoint("acknowledge", "acknowledge_case", CommandIn, handlers.acknowledge)
_endpoint("progress", "note_progress", ProgressIn, handlers.note_progress)
_endpoint("escalate", "escalate_case", ReasonIn, handlers.escalate)
_endpoint("decline", "decline_case", ReasonIn, handlers.decline)
_endpoint("resolve", "resolve_case", ResolveIn, handlers.resolve)
_endpoint("confirm", "confirm_resolution", ConfirmIn, handlers.confirm_resolution)
_endpoint("dispute", "dispute_resolution", ReasonIn, handlers.dispute_resolution)
_endpoint("reopen", "reopen_case", ReasonIn, handlers.reopen)
_endpoint("close", "close_case", CloseIn, handlers.close)


@bp.post("/cases/<case_id>/split")
@require_role(*STAFF)
def split_case(case_id: str):
    data = SplitIn().load(json_body())
    who = current_principal()
    subs = handlers.split(
        followup(), case_id, who, parts=data["sub_cases"], expected_version=_expected_version(data)
    )
    parent = handlers.load_case(followup(), case_id)
    body = {"id": parent.case_id, "status": parent.status, "version": parent.version}
    body["sub_cases"] = [
        {
            "id": s.case_id,
            "tracking_code": s.tracking_code,
            "category": s.category,
            "agency": s.agency.name if s.agency else None,
            "status": s.status,
        }
        for s in subs
    ]
    return jsonify(body), 201
