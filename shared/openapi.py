"""What both services' OpenAPI 3 documents share: the builder, security, errors, helpers.

Each service keeps only its own path table (intake_service/openapi.py,
followup_service/openapi.py); the documents are generated with apispec from the same
marshmallow schemas the endpoints validate with, and served at /openapi.json.
"""

from __future__ import annotations

from collections.abc import Callable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, jsonify
from marshmallow import INCLUDE, Schema, fields

ERROR_TEXT = {
    400: "malformed request (bad JSON, bad header or query value)",
    401: "missing, invalid, expired or revoked token",
    403: "role, unit or agency may not do this",
    404: "not found",
    409: "a conflicting state",
    413: "request body too large",
    415: "the body must be application/json",
    422: "validation failed, with per-field (and per-item) messages",
    429: "too many requests; see retry_after",
    503: "a part (database, Redis, photo store) is away for a moment; see Retry-After",
}


class ErrorOut(Schema):
    """Every error body; some carry more context (e.g. tracking_code, retry_after)."""

    class Meta:
        unknown = INCLUDE  # documented as additionalProperties: true

    error = fields.String(required=True)
    message = fields.String()
    detail = fields.String()
    fields_ = fields.Dict(
        data_key="fields", metadata={"description": "per-field (per-item) messages"}
    )


def json_content(schema, example=None) -> dict:
    """A JSON body: `schema` is a component name, or an inline JSON Schema dict."""
    body = {"schema": schema}
    if example is not None:
        body["example"] = example
    return {"content": {"application/json": body}}


WRITE_ERRORS = (400, 413, 415, 422)  # what any JSON body can earn


def errors(*codes: int, schema="ErrorOut") -> dict:
    return {str(c): {"description": ERROR_TEXT[c], **json_content(schema)} for c in codes}


def path_param(name: str, fmt: str | None = None, description: str | None = None) -> dict:
    schema = {"type": "string", **({"format": fmt} if fmt else {})}
    param = {"in": "path", "name": name, "required": True, "schema": schema}
    if description:
        param["description"] = description
    return param


def operational_paths() -> dict[str, dict]:
    """/openapi.json, /healthz, /readyz and /metrics, served by both services."""
    return {
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3 document"}},
            }
        },
        "/healthz": {
            "get": {
                "summary": "Process up",
                "security": [],
                "responses": {"200": {"description": "up"}},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Database, Kafka and Redis reachable",
                "security": [],
                "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics of every worker of this API (README, Metrics)",
                "security": [],
                "responses": {
                    "200": {
                        "description": "Prometheus text format 0.0.4",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
    }


def build_document(
    title: str, description: str, schemas: dict[str, type[Schema]], paths: dict[str, dict]
) -> dict:
    """The OpenAPI 3 document as a dict (bearer JWT security unless an operation says [])."""
    spec = APISpec(
        title=title,
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": description},
        security=[{"bearer": []}],
    )
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for name, schema in {"ErrorOut": ErrorOut, **schemas}.items():
        if name not in spec.components.schemas:  # nested ones register themselves
            spec.components.schema(name, schema=schema)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def document_blueprint(name: str, build: Callable[[], dict]) -> Blueprint:
    """A blueprint serving build() at /openapi.json."""
    bp = Blueprint(name, __name__)

    @bp.get("/openapi.json")
    def openapi_json():
        return jsonify(build())

    return bp
