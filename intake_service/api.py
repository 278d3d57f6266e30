"""Intake HTTP API: JSON in, command to a handler, JSON out."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, jsonify
from marshmallow import Schema, ValidationError, fields, validate, validates

from intake_service import handlers
from intake_service.domain.aspiration import RecordAspiration
from shared.taxonomy import load_categories
from shared.web import json_body

bp = Blueprint("intake_api", __name__, url_prefix="/api/v1")


class AspirationIn(Schema):
    id = fields.UUID(load_default=None, metadata={"description": "client-generated id"})
    category = fields.String(required=True)
    summary = fields.String(required=True, validate=validate.Length(min=3, max=300))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    kelurahan = fields.String(required=True, validate=validate.Length(min=2, max=200))

    @validates("category")
    def _known_category(self, value, **_):
        known = load_categories(current_app.config["SETTINGS"].routing_rules_path)
        if value not in known:
            raise ValidationError(f"Unknown category. Known: {', '.join(sorted(known))}.")


def intake():
    return current_app.extensions["intake"]


@bp.post("/aspirations")
def record_aspiration():
    data = AspirationIn().load(json_body())
    command = RecordAspiration(
        aspiration_id=str(data["id"] or uuid.uuid4()),
        category=data["category"],
        summary=data["summary"],
        description=data["description"],
        kelurahan=data["kelurahan"],
    )
    result = handlers.record_aspiration(intake(), command, actor=None)
    body = {"id": result.aspiration_id, "tracking_code": result.tracking_code}
    return jsonify(body), 201 if result.created else 200
