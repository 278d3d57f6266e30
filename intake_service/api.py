"""Intake HTTP API: JSON in, command to a handler, JSON out."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, time, timedelta

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, ValidationError
from sqlalchemy import func, select

from intake_service import handlers
from intake_service import schemas as s
from intake_service.domain.access import READERS, WRITERS
from intake_service.domain.commands import (
    AmendAspiration,
    BackAspiration,
    RecordAspiration,
    RecordMeeting,
    Reporter,
    WithdrawAspiration,
)
from intake_service.domain.errors import (
    ConflictError,
    InvalidError,
    ItemsRejectedError,
    NotFoundError,
)
from intake_service.photos import links as photo_links
from intake_service.private_events import PRIVATE_EVENT_TYPES
from intake_service.tables import aspirations, identity_views, meetings
from shared import logs
from shared.auth import ForbiddenError
from shared.idempotency import answer_from, idempotent
from shared.need_to_know import Access, Holding, Scope, decide
from shared.need_to_know_sql import in_scope_sql
from shared.police import load_police_directory
from shared.regions import store as region_store
from shared.regions.dataset import DATASET_NAME, DATASET_VERSION
from shared.regions.unit_area import unit_regency
from shared.units import unit_id, unit_name
from shared.web import json_body
from shared.web_auth import current_principal, require_role

bp = Blueprint("intake_api", __name__, url_prefix="/api/v1")


def intake():
    return current_app.extensions["intake"]


@functools.cache
def schema(cls: type[Schema]) -> Schema:
    """One shared instance per schema class: building a nested marshmallow schema (it
    deep-copies its fields) costs more than the load or dump it serves. load and dump
    keep no state on the instance, so requests on any thread can share it."""
    return cls()


def idempotent_post(view):
    """Idempotency-Key on a write (shared.idempotency): the view names its answer with
    `answer_from` before calling its handler, so the handler's transaction stores that
    answer with the key, in the same commit as the events."""
    return idempotent(lambda: intake().idempotency, lambda: current_principal().subject)(view)


@bp.app_errorhandler(NotFoundError)
def _not_found(exc):
    return jsonify({"error": "not found", "message": str(exc)}), 404


@bp.app_errorhandler(ConflictError)
def _conflict(exc):
    return jsonify({"error": "conflict", "message": str(exc)}), 409


@bp.app_errorhandler(InvalidError)
def _invalid(exc):
    return jsonify({"error": "validation failed", "fields": {exc.field: [exc.message]}}), 422


def _load(schema, data=None):
    return schema.load(json_body() if data is None else data)


def _written(outcomes, status_if_new=201):
    return status_if_new if any(o.created for o in outcomes) else 200


def _write_out(outcome) -> dict:
    return schema(s.WriteOut).dump(outcome.__dict__)


# --- meetings ---------------------------------------------------------------------


@bp.post("/meetings")
@require_role(*WRITERS)
@idempotent_post
def record_meeting():
    data = _load(schema(s.MeetingIn))
    principal = current_principal()
    command = RecordMeeting(
        meeting_id=str(data["id"] or uuid.uuid4()),
        kind=data["kind"],
        held_at=data["held_at"],
        unit=unit_id(data["unit"] or principal.unit) or "",
        place=schema(s.PlaceData).dump(data["place"]),
        host_officer=data["host_officer"],
        partners=tuple(data["partners"]),
        attendee_count=data["attendee_count"],
        notes=data["notes"],
    )
    if not command.unit:
        raise ValidationError({"unit": ["Name the unit that held the meeting."]})
    respond = answer_from(lambda outcome: (_write_out(outcome), _written([outcome])))
    return respond(handlers.record_meeting(intake(), command, principal))


@bp.get("/meetings")
@require_role(*READERS)
def list_meetings():
    q = schema(s.MeetingQuery).load(request.args)
    query = select(meetings).where(_in_scope(meetings))
    if "unit" in q:
        query = query.where(meetings.c.unit == unit_id(q["unit"]))
    for name in ("kelurahan", "kind"):
        if name in q:
            query = query.where(meetings.c[name] == q[name])
    query = _date_range(query, meetings.c.held_at, q)
    page = _page(query.order_by(meetings.c.held_at.desc(), meetings.c.meeting_id), q)
    page["items"] = [_meeting_out(row) for row in page["items"]]
    return jsonify(schema(s.MeetingPage).dump(page))


@bp.get("/meetings/<uuid:meeting_id>")
@require_role(*READERS)
def get_meeting(meeting_id):
    with intake().engine.connect() as conn:
        row = conn.execute(select(meetings).where(meetings.c.meeting_id == str(meeting_id))).first()
        if row is None or not _access(row).in_scope:  # out of scope: not confirmed
            raise NotFoundError(f"no meeting {meeting_id}")
        rows = conn.execute(
            select(aspirations)
            .where(aspirations.c.meeting_id == str(meeting_id), _in_scope(aspirations))
            .order_by(aspirations.c.position)
        ).all()
    meeting = _meeting_out(row)
    meeting["aspirations"] = [_aspiration_out(r) for r in rows]
    _identities_seen(meeting["aspirations"])
    return jsonify(schema(s.MeetingOut).dump(meeting))


@bp.post("/meetings/<uuid:meeting_id>/aspirations")
@require_role(*WRITERS)
@idempotent_post
def record_batch(meeting_id):
    data = _load(schema(s.BatchIn))
    commands = [_record_command(item) for item in data["aspirations"]]

    def answer(outcomes):
        body = {"meeting_id": meeting_id, "items": [o.__dict__ for o in outcomes]}
        return schema(s.BatchOut).dump(body), _written(outcomes)

    respond = answer_from(answer)
    try:
        outcomes = handlers.record_aspirations(
            intake(), str(meeting_id), commands, current_principal()
        )
    except ItemsRejectedError as exc:
        raise ValidationError({"aspirations": exc.errors}) from exc
    return respond(outcomes)


# --- aspirations ------------------------------------------------------------------


@bp.post("/aspirations")
@require_role(*WRITERS)
@idempotent_post
def record_aspiration():
    data = _load(schema(s.SingleAspirationIn))
    meeting_id = str(data["meeting_id"]) if data["meeting_id"] else None
    command = _record_command(data, unit=unit_id(data["unit"]))
    respond = answer_from(lambda outcomes: (_write_out(outcomes[0]), _written(outcomes)))
    try:
        outcomes = handlers.record_aspirations(intake(), meeting_id, [command], current_principal())
    except ItemsRejectedError as exc:
        raise ValidationError(exc.errors[0]) from exc
    logs.bind(aspiration_id=outcomes[0].id)  # on the request's log line; reset with the request
    return respond(outcomes)


@bp.get("/aspirations")
@require_role(*READERS)
def list_aspirations():
    q = schema(s.AspirationQuery).load(request.args)
    query = select(aspirations).where(_in_scope(aspirations))
    if "unit" in q:
        query = query.where(aspirations.c.unit == unit_id(q["unit"]))
    for name in ("kelurahan", "category", "status"):
        if name in q:
            query = query.where(aspirations.c[name] == q[name])
    if "meeting_id" in q:
        query = query.where(aspirations.c.meeting_id == str(q["meeting_id"]))
    if "location_verified" in q:
        query = query.where(aspirations.c.location_verified == q["location_verified"])
    query = _date_range(query, aspirations.c.raised_at, q)
    order = (aspirations.c.raised_at.desc(), aspirations.c.position)
    page = _page(query.order_by(*order), q)
    page["items"] = [_aspiration_out(row) for row in page["items"]]
    _identities_seen(page["items"])
    return jsonify(schema(s.AspirationPage).dump(page))


@bp.get("/aspirations/candidates")
@require_role(*READERS)
def support_candidates():
    """Open aspirations a new one in this kelurahan and category could support instead."""
    q = schema(s.CandidateQuery).load(request.args)
    with intake().engine.connect() as conn:
        rows = conn.execute(
            select(aspirations)
            .where(
                aspirations.c.kelurahan == q["kelurahan"],
                aspirations.c.category == q["category"],
                aspirations.c.status == "open",
                _in_scope(aspirations),
            )
            .order_by(aspirations.c.backing_count.desc(), aspirations.c.recorded_at.desc())
            .limit(20)
        ).all()
    items = [_aspiration_out(r) for r in rows]
    _identities_seen(items)
    return jsonify(schema(s.CandidatesOut).dump({"items": items}))


@bp.get("/regions")
@require_role(*READERS)
def suggest_regions():
    """Regions matching what the officer typed (kabupaten -> kecamatan -> kelurahan)."""
    q = schema(s.RegionQuery).load(request.args)
    with intake().engine.connect() as conn:
        items = region_store.suggest(conn, q["level"], q["q"], q.get("parent"), q["limit"])
    return jsonify(schema(s.RegionsOut).dump({"items": items}))


@bp.get("/regions/area")
@require_role(*READERS)
def unit_area():
    """The unit's kabupaten/kota with all its kecamatan and kelurahan/desa (one answer, a few
    dozen kB), which the officer page keeps for suggesting offline."""
    q = schema(s.AreaQuery).load(request.args)
    unit = unit_id(q.get("unit") or current_principal().unit)
    directory = intake().regions
    code = unit_regency(directory, unit)
    regency = directory.get(code) if code else None
    districts = directory.children(code) if code else []
    villages = [v for d in districts for v in directory.children(d.code)]
    body = {
        "unit": unit,
        "dataset": f"{DATASET_NAME} {DATASET_VERSION}",
        "regency": _region_out(regency) if regency else None,
        "districts": [_region_out(r) for r in districts],
        "villages": [_region_out(r) for r in villages],
    }
    return jsonify(schema(s.AreaOut).dump(body))


def _region_out(region) -> dict:
    return {"code": region.code, "name": region.name, "parent_code": region.parent_code}


@bp.get("/aspirations/<uuid:aspiration_id>")
@require_role(*READERS)
def get_aspiration(aspiration_id):
    out = _aspiration_out(_aspiration_row(aspiration_id))
    _identities_seen([out])
    return jsonify(schema(s.AspirationOut).dump(out))


@bp.get("/aspirations/<uuid:aspiration_id>/identity-views")
@require_role("supervisor")
def who_saw_the_informant(aspiration_id):
    """Who was shown the reporter's or a supporter's name or contact, and when: for the
    supervisors whose area holds the aspiration (those who may see the identity)."""
    row = _aspiration_row(aspiration_id)
    if not _access(row).identity:
        raise ForbiddenError("only the supervisors of the aspiration's area see this list")
    with intake().engine.connect() as conn:
        rows = conn.execute(
            select(identity_views)
            .where(identity_views.c.aspiration_id == str(aspiration_id))
            .order_by(identity_views.c.seen_at, identity_views.c.id)
        ).all()
    items = [
        {"viewer": r.viewer, "unit": r.unit, "area": r.area, "via": r.via, "seen_at": r.seen_at}
        for r in rows
    ]
    return jsonify(schema(s.IdentityViewsOut).dump({"items": items}))


@bp.get("/aspirations/<uuid:aspiration_id>/history")
@require_role(*READERS)
def aspiration_history(aspiration_id):
    """Every recorded change: what, when, by whom and why."""
    row = _aspiration_row(aspiration_id)
    private_ok = _access(row).identity
    with intake().engine.connect() as conn:
        events = intake().store.read_stream(conn, handlers.stream_id(str(aspiration_id)))
    items = [
        {
            "event_type": e.event_type,
            "occurred_at": e.occurred_at,
            "actor": e.actor,
            "payload": e.payload,
        }
        for e in events
        if private_ok or e.event_type not in PRIVATE_EVENT_TYPES
    ]
    if any(item["event_type"] in PRIVATE_EVENT_TYPES for item in items):
        _identities_seen([{"id": str(aspiration_id), "raised_by": True}])
    return jsonify(schema(s.HistoryOut).dump({"items": items}))


@bp.post("/aspirations/<uuid:aspiration_id>/backing")
@require_role(*WRITERS)
@idempotent_post
def back_aspiration(aspiration_id):
    data = _load(schema(s.BackingIn))
    command = BackAspiration(
        aspiration_id=str(aspiration_id),
        backing_id=str(data["id"] or uuid.uuid4()),
        count=data["count"],
        groups=tuple(data["groups"]),
        meeting_id=str(data["meeting_id"]) if data["meeting_id"] else None,
        note=data["note"],
    )
    respond = answer_from(lambda outcome: (_write_out(outcome), _written([outcome])))
    return respond(handlers.back_aspiration(intake(), command, current_principal()))


@bp.post("/aspirations/<uuid:aspiration_id>/amendments")
@require_role(*WRITERS)
@idempotent_post
def amend_aspiration(aspiration_id):
    data = _load(schema(s.AmendmentIn))
    changes = dict(data["changes"])
    reporter = changes.pop("raised_by", None)
    if "location" in changes:
        changes["location"] = schema(s.PlaceData).dump(changes["location"])
    command = AmendAspiration(
        aspiration_id=str(aspiration_id),
        changes=changes,
        raised_by=Reporter(**reporter) if reporter else None,
        reason=data["reason"],
    )
    respond = answer_from(lambda outcome: (_write_out(outcome), 201))
    return respond(handlers.amend_aspiration(intake(), command, current_principal()))


@bp.post("/aspirations/<uuid:aspiration_id>/withdrawal")
@require_role(*WRITERS)
@idempotent_post
def withdraw_aspiration(aspiration_id):
    data = _load(schema(s.WithdrawalIn))
    command = WithdrawAspiration(
        aspiration_id=str(aspiration_id),
        reason=data["reason"],
        duplicate_of=str(data["duplicate_of"]) if data["duplicate_of"] else None,
        note=data["note"],
    )
    respond = answer_from(lambda outcome: (_write_out(outcome), 201))
    store = current_app.extensions.get("photo_store")
    return respond(
        handlers.withdraw_aspiration(intake(), command, current_principal(), photo_store=store)
    )


# --- helpers ----------------------------------------------------------------------


def _record_command(item: dict, unit: str | None = None) -> RecordAspiration:
    backing = item["backing"] or {"count": 0, "groups": []}
    reporter = item["raised_by"]
    return RecordAspiration(
        aspiration_id=str(item["id"] or uuid.uuid4()),
        category=item["category"],
        summary=item["summary"],
        description=item["description"],
        public_summary=item["public_summary"],
        location=schema(s.PlaceData).dump(item["location"]) if item["location"] else None,
        urgency=item["urgency"],
        confidential=item["confidential"],
        raised_by=Reporter(**reporter) if reporter else None,
        attachments=tuple(item["attachments"]),
        backing_count=backing["count"],
        backing_groups=tuple(backing["groups"]),
        supports=str(item["supports"]) if item["supports"] else None,
        unit=unit,
        notify=item.get("notify"),
        photos=tuple({"id": str(p["id"]), "public": p["public"]} for p in item.get("photos", [])),
    )


def _date_range(query, column, q: dict):
    if "date_from" in q:
        query = query.where(column >= datetime.combine(q["date_from"], time(), s.JAKARTA))
    if "date_to" in q:
        end = datetime.combine(q["date_to"] + timedelta(days=1), time(), s.JAKARTA)
        query = query.where(column < end)
    return query


def _page(query, q: dict) -> dict:
    page, per_page = q["page"], q["per_page"]
    with intake().engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = conn.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": rows, "page": page, "per_page": per_page, "total": total}


def _aspiration_row(aspiration_id):
    with intake().engine.connect() as conn:
        row = conn.execute(
            select(aspirations).where(aspirations.c.aspiration_id == str(aspiration_id))
        ).first()
    if row is None or not _access(row).in_scope:  # out of scope: not confirmed
        raise NotFoundError(f"no aspiration {aspiration_id}")
    return row


# --- need to know (shared.need_to_know: the one rule) -------------------------------


def _scope() -> Scope:
    return Scope.of(current_principal(), load_police_directory())


def _access(row) -> Access:
    """What the caller may see of a meeting or aspiration row."""
    return decide(_scope(), Holding(row.region_code, row.unit), load_police_directory())


def _in_scope(table):
    """The rule as SQL, for every list of meetings or aspirations."""
    return in_scope_sql(_scope(), load_police_directory(), table.c.region_code, table.c.unit)


def _identities_seen(items: list[dict]) -> None:
    """Record who was shown a reporter's or supporter's name or contact (append-only)."""
    shown = [item["id"] for item in items if item.get("raised_by") or item.get("supporters")]
    if not shown:
        return
    principal, scope = current_principal(), _scope()
    area = principal.area if principal.role in ("supervisor", "admin") else None
    row = {"viewer": principal.actor, "unit": scope.unit, "area": area}
    via = f"{request.method} {request.path}"[:200]
    with intake().engine.begin() as conn:
        conn.execute(
            identity_views.insert(),
            [{**row, "aspiration_id": str(i), "via": via} for i in shown],
        )


def _meeting_out(row) -> dict:
    data = row.data
    return {
        **{k: data[k] for k in ("kind", "place", "host_officer", "partners", "attendee_count")},
        "id": row.meeting_id,
        "unit": row.unit,
        "unit_name": unit_name(row.unit),
        "held_at": datetime.fromisoformat(data["held_at"]),
        "notes": data["notes"],
        "aspiration_count": row.aspiration_count,
        "recorded_at": row.recorded_at,
    }


def _aspiration_out(row) -> dict:
    """An aspiration as the caller may see it: the reporter only for the roles allowed."""
    extra = row.extra or {}
    out = {
        "id": row.aspiration_id,
        **{
            name: getattr(row, name)
            for name in (
                "tracking_code",
                "meeting_id",
                "unit",
                "category",
                "summary",
                "public_summary",
                "description",
                "kelurahan",
                "location",
                "urgency",
                "confidential",
                "status",
                "backing_count",
                "backing_groups",
                "attachments",
                "channel",
                "channel_client",
                "region_code",
                "location_verified",
                "raised_at",
                "recorded_at",
            )
        },
        "attributes": row.attributes or {},
        "amendments": extra.get("amendments", 0),
        "withdrawal": extra.get("withdrawal"),
        "photos": [
            {**p, **photo_links(str(p["id"]))}
            for p in extra.get("photos", [])
            if str(p["id"]) not in extra.get("photos_removed", ())
        ],
    }
    out["unit_name"] = unit_name(row.unit)
    # Only aspirations in the caller's scope are answered (lists filter by the rule in
    # SQL, single reads answer 404); the identity goes to fewer still.
    if _access(row).identity:
        private = row.private or {}
        out["raised_by"] = private.get("raised_by")
        out["supporters"] = private.get("supporters", [])
    return out
