"""Account and integration-token events: stored in the follow-up log, never published.

They are appended with publish=False, so they reach no Kafka topic. No password,
hash or one-time password is ever part of an event: the hash lives in
`account_credentials`, beside the log.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from marshmallow import Schema, fields, validate

from followup_service.accounts import domain
from shared.events.envelope import EventEnvelope, NewEvent
from shared.events.registry import REGISTRY

ROLE = validate.OneOf(domain.ROLES)


@REGISTRY.event("AccountCreated", version=1)
class AccountCreatedV1(Schema):
    username = fields.String(required=True, validate=validate.Regexp(domain.USERNAME_PATTERN))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=ROLE)
    unit = fields.String(load_default=None, allow_none=True)
    agency = fields.String(load_default=None, allow_none=True)
    must_change_password = fields.Boolean(load_default=True)
    # a supervisor's or admin's area (issue 27); events written before have none
    area = fields.String(load_default=None, allow_none=True)


@REGISTRY.event("AccountScopeChanged", version=1)
class AccountScopeChangedV1(Schema):
    username = fields.String(required=True)
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=ROLE)
    unit = fields.String(load_default=None, allow_none=True)
    agency = fields.String(load_default=None, allow_none=True)
    area = fields.String(load_default=None, allow_none=True)


@REGISTRY.event("PasswordReset", version=1)
class PasswordResetV1(Schema):
    username = fields.String(required=True)


@REGISTRY.event("PasswordChanged", version=1)
class PasswordChangedV1(Schema):
    username = fields.String(required=True)


@REGISTRY.event("AccountDeactivated", version=1)
class AccountDeactivatedV1(Schema):
    username = fields.String(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=500))


@REGISTRY.event("AccountReactivated", version=1)
class AccountReactivatedV1(Schema):
    username = fields.String(required=True)


@REGISTRY.event("IntegrationTokenIssued", version=1)
class IntegrationTokenIssuedV1(Schema):
    token_id = fields.String(required=True, validate=validate.Length(min=8, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    agency = fields.String(required=True)


@REGISTRY.event("IntegrationTokenIssued", version=2)
class IntegrationTokenIssuedV2(IntegrationTokenIssuedV1):
    """v2: a `purpose` (an agency's liaison system, or an Open311 app bound to no agency)."""

    agency = fields.String(load_default=None, allow_none=True)
    purpose = fields.String(required=True, validate=validate.OneOf(domain.TOKEN_PURPOSES))


@REGISTRY.upcaster("IntegrationTokenIssued", from_version=1)
def _token_issued_v1_to_v2(payload: dict) -> dict:
    return {**payload, "purpose": "liaison"}


@REGISTRY.event("IntegrationTokenRevoked", version=1)
class IntegrationTokenRevokedV1(Schema):
    token_id = fields.String(required=True)


ACCOUNT_CLASSES = {cls.__name__: cls for cls in domain.ACCOUNT_EVENTS}
TOKEN_CLASSES = {
    cls.__name__: cls for cls in (domain.IntegrationTokenIssued, domain.IntegrationTokenRevoked)
}
EVENT_TYPES = tuple(ACCOUNT_CLASSES) + tuple(TOKEN_CLASSES)


def account_stream(username: str) -> str:
    return f"account-{username}"


def token_stream(token_id: str) -> str:
    return f"integration-{token_id}"


def to_new_event(event) -> NewEvent:
    payload = {
        f.name: getattr(event, f.name)
        for f in dataclasses.fields(event)
        if f.name not in ("occurred_at", "actor")
    }
    return NewEvent(
        event_type=type(event).__name__,
        payload=payload,
        occurred_at=event.occurred_at,
        actor=event.actor,
    )


def from_envelope(envelope: EventEnvelope):
    cls = ACCOUNT_CLASSES.get(envelope.event_type) or TOKEN_CLASSES[envelope.event_type]
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in envelope.payload.items() if k in names}
    occurred_at: datetime = envelope.occurred_at
    return cls(**values, occurred_at=occurred_at, actor=envelope.actor or "")
