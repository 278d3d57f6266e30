"""Open311 GeoReport v2 on the wire, for both services: one serializer from one data shape.

The follow-up service serves the read side (followup_service/pages/open311.py); the
intake service takes new requests (intake_service/open311.py), since intake owns the
rules for recording an aspiration. Both answer in the spec's formats: ``.json`` as is,
``.xml`` with the declaration and UTF-8, element names and nesting as in the spec's
examples, errors as ``errors/error`` with ``code`` and ``description``.
"""

from __future__ import annotations

from xml.etree import ElementTree

from flask import Response, jsonify
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from shared.fields import CleanText

FORMATS = "<any(json, xml):fmt>"
# GeoReport v2 element names: the list's root and its items (as in the spec's examples)
XML_NAMES = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "updates": ("service_request_updates", "request_update"),
    "errors": ("errors", "error"),
}
XML_LIST_ITEMS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'  # as in the spec's examples
NAME = validate.Length(min=1, max=200)


def service_request_id(aspiration_id: str) -> str:
    """The Open311 id of an aspiration's request: its follow-up case's id, which the
    follow-up service derives from the aspiration id (followup_service.handlers
    .case_stream_id), so it is known the moment the aspiration is recorded."""
    return f"case-{aspiration_id}"


def error(code: int, description: str, fmt: str = "json"):
    """The spec's error answer: a list of errors, each with its HTTP code."""
    return respond(fmt, [{"code": code, "description": description}], XML_NAMES["errors"], code)


def respond(fmt: str, data, names: tuple[str, str] | None = None, status: int = 200, root=None):
    """One data shape, either format: JSON as is, or GeoReport v2 XML."""
    if fmt == "json":
        return jsonify(data), status
    if root is not None:  # one object (discovery, a service definition)
        element = _xml_element(root, data)
    else:
        element = ElementTree.Element(names[0])
        element.extend(_xml_element(names[1], item) for item in data)
    body = XML_DECLARATION + ElementTree.tostring(element, encoding="unicode")
    return Response(body.encode("utf-8"), status=status, content_type="text/xml; charset=utf-8")


def _xml_element(tag: str, value) -> ElementTree.Element:
    element = ElementTree.Element(tag)
    if isinstance(value, dict):
        element.extend(_xml_element(key, item) for key, item in value.items())
    elif isinstance(value, list):
        element.extend(_xml_element(XML_LIST_ITEMS.get(tag, "item"), item) for item in value)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


class RequestIn(Schema):
    """A GeoReport v2 "POST Service Request" (form fields; JSON accepted too).

    `attribute[code]` answers are read apart (see intake_service/open311.py); the
    extension fields `kelurahan`, `kecamatan`, `kabupaten` name the place explicitly.
    """

    class Meta:
        unknown = EXCLUDE  # attribute[...] answers, and fields a client may add

    jurisdiction_id = fields.String(load_default=None, allow_none=True)
    service_code = fields.String(required=True, validate=validate.Length(min=1, max=60))
    lat = fields.Float(
        load_default=None, allow_none=True, allow_nan=False, validate=validate.Range(-90, 90)
    )
    long = fields.Float(
        load_default=None, allow_none=True, allow_nan=False, validate=validate.Range(-180, 180)
    )
    address_string = CleanText(
        load_default=None, allow_none=True, validate=validate.Length(max=300)
    )
    address_id = fields.String(load_default=None, allow_none=True)
    kelurahan = CleanText(load_default=None, allow_none=True, validate=NAME)
    kecamatan = CleanText(load_default=None, allow_none=True, validate=NAME)
    kabupaten = CleanText(load_default=None, allow_none=True, validate=NAME)
    description = CleanText(required=True, validate=validate.Length(min=3, max=4000))
    first_name = CleanText(load_default=None, allow_none=True, validate=validate.Length(max=100))
    last_name = CleanText(load_default=None, allow_none=True, validate=validate.Length(max=100))
    phone = CleanText(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={"description": "the requester's phone; where notify=whatsapp|sms writes"},
    )
    email = fields.Email(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "the requester's email; where notify=email writes"},
    )
    # extension (issue 24): the requester asks to hear of progress over this channel, at
    # the email (channel email) or phone (whatsapp, sms) given above; kept private
    notify = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(("email", "whatsapp", "sms")),
        metadata={
            "description": (
                "Extension (Kawal Aspirasi): the requester consents to hear of the request's "
                "progress over this channel: email (needs `email`), whatsapp or sms (need "
                "`phone`); otherwise a 400. The address is kept sealed, never published, and "
                "erased 30 days after the case closes. Absent: no messages."
            )
        },
    )
    notify_language = fields.String(
        load_default="id",
        validate=validate.OneOf(("id", "en")),
        metadata={
            "description": (
                "Extension: the language of those messages, id (Bahasa Indonesia, the "
                "default) or en; only read with `notify`."
            )
        },
    )
    device_id = fields.String(load_default=None, allow_none=True)
    account_id = fields.String(load_default=None, allow_none=True)
    media_url = fields.Url(load_default=None, allow_none=True, schemes={"http", "https"})

    @pre_load
    def _blank_is_absent(self, data, **_):
        """Form clients send empty fields for what they do not know."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v not in ("", None)}
        return data

    @validates_schema
    def _location(self, data, **_):
        if (data.get("lat") is None) != (data.get("long") is None):
            raise ValidationError("lat and long go together.", "lat")
        located = data.get("lat") is not None or data.get("address_string")
        if not located and not data.get("kelurahan"):
            if data.get("address_id"):
                raise ValidationError(
                    "address_id is not supported here: send lat and long or address_string.",
                    "address_id",
                )
            raise ValidationError(
                "A location is required: lat and long, or address_string.", "address_string"
            )


class Filed(Schema):
    """The answer to a filed request (one item of ``service_requests``)."""

    service_request_id = fields.String(required=True)
    service_notice = fields.String(required=True)
    account_id = fields.String(allow_none=True, required=True)
    tracking_code = fields.String(
        required=True, metadata={"description": "extension: the code residents track it by"}
    )


class Error(Schema):
    code = fields.Integer(required=True)
    description = fields.String(required=True)


SCHEMAS = {"Open311RequestIn": RequestIn, "Open311Filed": Filed, "Open311Error": Error}
FORMAT_PARAMETER = {
    "in": "path",
    "name": "fmt",
    "required": True,
    "schema": {"type": "string", "enum": ["xml", "json"]},
    "description": "xml (the spec's required format) or json",
}


def both_formats(schema: dict) -> dict:
    """An answer in either format (XML as the spec's examples show it)."""
    return {
        "content": {
            "application/json": {"schema": schema},
            "text/xml": {"schema": {"type": "string"}},
        }
    }


def filing_operation() -> dict:
    """The OpenAPI operation of POST requests.<fmt> (intake serves it; follow-up passes it on)."""
    listed = {"type": "array", "items": {"$ref": "#/components/schemas/Open311Filed"}}
    failed = {"type": "array", "items": {"$ref": "#/components/schemas/Open311Error"}}
    return {
        "summary": "File a new service request (an organisation's app, with its api_key)",
        "description": (
            "GeoReport v2 POST Service Request. The api_key is an integration token with the "
            "purpose open311 (issued at /admin/integrasi); no bearer token. attribute[code] "
            "answers (attribute[code][] for a multivaluelist) are checked against the "
            "service definition. An Idempotency-Key header makes a resend answer 200 with "
            "the same ids. The extension fields notify and notify_language ask for messages "
            "on the request's progress at the email or phone given."
        ),
        "security": [],
        "parameters": [FORMAT_PARAMETER],
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"$ref": "#/components/schemas/Open311RequestIn"},
                    "example": {
                        "api_key": "<the key shown once at /admin/integrasi>",
                        "service_code": "street_lighting",
                        "address_string": "Jl. Raya Cikande KM 3, Kel. Cikande, Kec. Cikande, "
                        "Kab. Serang",
                        "lat": -6.1857,
                        "long": 106.3447,
                        "description": "Tiga lampu PJU mati di depan pasar.",
                        "attribute[dead_lamps]": 3,
                        "email": "warga@example.org",
                        "notify": "email",
                        "notify_language": "id",
                    },
                }
            },
        },
        "responses": {
            "201": {"description": "filed", **both_formats(listed)},
            "200": {"description": "already filed (same Idempotency-Key)", **both_formats(listed)},
            "400": {"description": "a bad field", **both_formats(failed)},
            "403": {"description": "no valid Open311 api_key", **both_formats(failed)},
            "409": {"description": "a concurrent resend; retry", **both_formats(failed)},
            "503": {"description": "intake unavailable (retry later)", **both_formats(failed)},
        },
    }
