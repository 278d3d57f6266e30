"""Follow-up HTTP API: case reads and public tracking."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import select

from followup_service.tables import cases
from shared.tracking_code import is_valid, normalize
from shared.web import ApiError

bp = Blueprint("followup_api", __name__, url_prefix="/api/v1")


def followup():
    return current_app.extensions["followup"]


def _case_json(row) -> dict:
    return {
        "id": row.case_id,
        "aspiration_id": row.aspiration_id,
        "tracking_code": row.tracking_code,
        "category": row.category,
        "kelurahan": row.kelurahan,
        "status": row.status,
        "summary": row.summary,
        "opened_at": row.opened_at.isoformat(),
    }


@bp.get("/cases/<case_id>")
def get_case(case_id: str):
    with followup().engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.case_id == case_id)).first()
    if row is None:
        raise ApiError(404, "case not found", id=case_id)
    return jsonify(_case_json(row))


@bp.get("/track/<code>")
def track(code: str):
    code = normalize(code)
    if not is_valid(code):
        raise ApiError(404, "tracking code not recognised", tracking_code=code)
    with followup().engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.tracking_code == code)).first()
    if row is None:
        raise ApiError(404, "tracking code not found", tracking_code=code)
    return jsonify(_case_json(row))
