"""Open311 GeoReport v2, write side: organisations' apps file new aspirations.

    POST /open311/v2/requests.<fmt>      (fmt: xml or json; the follow-up service's
                                          Open311 base passes the same request here)

Form fields as the spec lists them (a JSON object is accepted too): ``api_key`` (an
integration token whose purpose is "open311", issued on the follow-up admin page
/admin/integrasi), ``service_code`` (any category services.xml lists, ``listed`` true;
sensitive categories are not offered), a location (``lat`` and ``long``, or
``address_string``; we also need the kelurahan, see intake_service/domain/open311.py),
``description``, the private contact fields ``first_name``, ``last_name``, ``phone``,
``email``, and ``attribute[code]`` answers (``attribute[code][]`` for a
multivaluelist). ``device_id``, ``account_id`` and ``media_url`` are accepted and not
stored: a media URL cannot be checked for what it shows, and attachments here carry a
checksum the client does not send.

The answer is the spec's ``service_requests`` list with one request: its
``service_request_id`` (the follow-up case id, known at once because follow-up names a
case after its aspiration, so no ``token`` is ever needed), a ``service_notice``, and
the extension field ``tracking_code`` that residents use at /lacak. 201 when new, 200
for a resend with the same Idempotency-Key. Errors use the spec's error list: 400 for a
bad field, 403 for a missing, unknown, revoked or non-Open311 key.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, request
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from intake_service import handlers
from intake_service.domain import open311 as rules
from intake_service.domain.commands import RecordAspiration
from intake_service.domain.errors import ConflictError, InvalidError
from shared import logs
from shared.auth import AuthError
from shared.open311 import (
    FORMATS,
    XML_NAMES,
    RequestIn,
    error,
    respond,
    service_request_id,
)
from shared.taxonomy import load_categories, validate_attributes
from shared.web import ApiError, parse_json

ATTRIBUTE_FIELD = re.compile(r"^attribute\[(?P<code>[A-Za-z0-9_.-]{1,60})\](?P<many>\[\])?$")
SERVICE_NOTICE = (
    "Diterima. Lacak perkembangannya dengan kode {code}. / "
    "Received. Follow its progress with code {code}."
)


class Rejected(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


def build_blueprint() -> Blueprint:
    bp = Blueprint("open311_intake", __name__, url_prefix="/open311/v2")

    @bp.post(f"/requests.{FORMATS}")
    def create_request(fmt: str):
        try:
            fields = _submitted()
            principal = _caller(fields.get("api_key"))
            command = _command(fields, principal)
            outcome = handlers.file_open311_request(_intake(), command, principal)
        except Rejected as rejected:
            return error(rejected.status, rejected.description, fmt)
        except ValidationError as invalid:
            return _errors(invalid.normalized_messages(), fmt)
        except InvalidError as invalid:
            return error(400, f"{invalid.field}: {invalid.message}", fmt)
        except ConflictError as conflict:
            return error(409, str(conflict), fmt)
        logs.bind(aspiration_id=outcome.id)  # on the request's log line
        answer = {
            "service_request_id": service_request_id(outcome.id),
            "service_notice": SERVICE_NOTICE.format(code=outcome.tracking_code),
            "account_id": None,
            "tracking_code": outcome.tracking_code,
        }
        status = 201 if outcome.created else 200
        return respond(fmt, [answer], XML_NAMES["requests"], status)

    return bp


def _intake():
    return current_app.extensions["intake"]


def _submitted() -> MultiDict:
    """The request's fields: the form (the spec's encoding), or a JSON object."""
    if request.is_json:
        try:
            body = parse_json(request.get_data(cache=True))
        except ApiError as bad:
            raise Rejected(400, bad.message) from None
        if not isinstance(body, dict):
            raise Rejected(400, "expected a JSON object")
        flat = MultiDict()
        for key, value in body.items():
            for item in value if isinstance(value, list) else [value]:
                flat.add(key, item)
        return flat
    fields = MultiDict(request.form)
    for key, value in request.args.items(multi=True):  # api_key may come in the query
        if key not in fields:
            fields.add(key, value)
    return fields


def _caller(api_key: str | None):
    if not api_key:
        raise Rejected(403, "api_key is required to file a request")
    try:
        principal = current_app.extensions["tokens"].verify(api_key)
    except AuthError:
        raise Rejected(403, "api_key is not valid (unknown, expired or revoked)") from None
    if principal.kind != "integration" or principal.role != "open311_client":
        raise Rejected(403, "this api_key may not file Open311 requests")
    return principal


def _command(fields: MultiDict, principal) -> RecordAspiration:
    answers, plain = {}, {}
    for key in fields:
        match = ATTRIBUTE_FIELD.match(key)
        if match:
            values = fields.getlist(key)
            answers[match["code"]] = values if match["many"] else values[-1]
        elif not key.startswith("attribute["):
            plain[key] = fields.get(key)
    data = RequestIn().load(plain)
    category = _categories().get(data["service_code"])
    if category is None or category.sensitive:
        raise ValidationError(
            f"service_code {data['service_code']} is not offered for new requests "
            "(see services.xml)",
            "service_code",
        )
    try:
        attributes = validate_attributes(category.attributes, answers)
    except ValidationError as invalid:
        messages = {f"attribute[{code}]": m for code, m in invalid.messages.items()}
        raise ValidationError(messages) from None
    try:
        place = rules.place_of(
            address_string=data["address_string"],
            kelurahan=data["kelurahan"],
            kecamatan=data["kecamatan"],
            kabupaten=data["kabupaten"],
            lat=data["lat"],
            long=data["long"],
        )
    except rules.LocationMissing as missing:
        raise ValidationError(str(missing), "address_string") from None
    key_id = principal.token_id
    return RecordAspiration(
        aspiration_id=rules.aspiration_id_for(key_id, request.headers.get("Idempotency-Key")),
        category=category.id,
        summary=rules.summary_of(data["description"]),
        # GeoReport v2 publishes a request's description: its first line is written for
        # the public by the app's user, so it is the public summary, said explicitly
        public_summary=rules.summary_of(data["description"]),
        description=data["description"],
        location=place,
        raised_by=rules.reporter_of(
            data["first_name"], data["last_name"], data["phone"], data["email"]
        ),
        channel="open311",
        channel_client=principal.display_name or key_id,
        attributes=attributes,
        notify=_notify(data),
    )


def _notify(data: dict) -> dict | None:
    """The extension fields `notify` (a channel) and `notify_language`: the requester's
    consent to hear of progress, at the email or phone the request gives."""
    channel = data.get("notify")
    if not channel:
        return None
    address = data["email"] if channel == "email" else data["phone"]
    if not address:
        needed = "email" if channel == "email" else "phone"
        raise ValidationError(f"notify={channel} needs {needed}.", "notify")
    field = "email" if channel == "email" else "phone"
    return {field: address, "channel": channel, "language": data.get("notify_language") or "id"}


def _categories():
    return load_categories(current_app.config["SETTINGS"].routing_rules_path)


def _errors(messages, fmt: str):
    """Marshmallow's field messages as the spec's error list (one error per message)."""
    found = []
    for field, problems in sorted(messages.items()):
        if isinstance(problems, dict):  # nested: flatten one level
            problems = [f"{k}: {v}" for k, v in problems.items()]
        for problem in problems if isinstance(problems, list) else [problems]:
            found.append({"code": 400, "description": f"{field}: {problem}"})
    return respond(fmt, found, XML_NAMES["errors"], 400)
