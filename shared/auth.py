"""Signed bearer tokens (pyjwt, HS256) shared by both services, checked against Redis.

Roles: officer (bound to a unit: Polsek/Polres), liaison (bound to an agency),
supervisor (bound to a unit, or to an area: a region code or national; manages the
officers of their unit), admin (accounts, tokens; case content only with the national
area). What each may see and do is shared.need_to_know's rule.

Kinds of token:
- ``session``: made by signing in with an account (follow-up owns the accounts). Short
  lived, renewed while in use, never older than MAX_SESSION since the sign-in, and
  refused as soon as the account is deactivated, reset or changes role (AccountGate).
- ``integration``: another system's key, revocable, last use kept: an agency's system
  (role liaison, bound to one agency) or an organisation's Open311 app (role
  open311_client, bound to no agency, allowed only to file Open311 requests).
- ``operator``: minted with the secret by ``shared.tokens_cli`` (tests, break-glass); an
  account of the same name that is deactivated still stops it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import redis.exceptions

from shared.outage import CACHE, DependencyUnavailable
from shared.units import unit_id

log = logging.getLogger(__name__)
ROLES = ("officer", "liaison", "supervisor", "admin")
# An organisation's app with an Open311 key: it files new requests and does nothing else.
OPEN311_CLIENT = "open311_client"
TOKEN_ROLES = (*ROLES, OPEN311_CLIENT)
KINDS = ("session", "integration", "operator")
SESSION_TTL = timedelta(hours=2)  # renewed while in use (see shared.pages.session)
MAX_SESSION = timedelta(hours=12)  # from the sign-in, renewals included
PASSWORD_CHANGE_TTL = timedelta(minutes=15)
CACHE_PAUSE_SECONDS = 1.0  # after a Redis failure, credential checks answer 503 at once
INTEGRATION_TTL = timedelta(days=366)


class AuthError(Exception):
    """Missing, invalid, expired or revoked credentials (HTTP 401)."""


class ForbiddenError(Exception):
    """Valid credentials without the right to do this (HTTP 403)."""


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    token_id: str
    unit: str | None = None
    agency: str | None = None
    kind: str = "operator"
    # a supervisor's area (a region code, or "national"); an admin's "national" opens case
    # content (audited). None: the unit's area (shared.need_to_know)
    area: str | None = None
    session_id: str | None = None
    auth_time: datetime | None = None
    expires_at: datetime | None = None
    display_name: str | None = None

    @property
    def actor(self) -> str:
        """How events record who acted: role and subject."""
        return f"{self.role}:{self.subject}"

    def is_any(self, *roles: str) -> bool:
        return self.role in roles


class RevocationList:
    """Revoked token ids in Redis, each kept until the token would have expired anyway.

    Redis is the copy every request reads, never the only one: the follow-up service
    records each revocation durably first (`durable`, its `revoked_credentials` table; an
    integration token's in `integration_tokens`, an account's standing in `accounts`)
    and rebuilds all of it into Redis after Redis lost its data. Whether the copy is whole
    is a key of its own, COMPLETE, written last by each rebuild: Redis that restarted empty
    has none, and until a rebuild writes it every credential check is undecidable (503),
    never a pass (README, "When a part blinks").
    """

    COMPLETE = "credentials-complete"

    def __init__(self, redis_client, key_prefix: str, durable=None):
        self.redis = redis_client
        self.key_prefix = key_prefix
        self.durable = durable  # callable(token_id, expires_at), set by the follow-up service

    def _key(self, token_id: str) -> str:
        return f"{self.key_prefix}:revoked-token:{token_id}"

    @property
    def complete_key(self) -> str:
        return f"{self.key_prefix}:{self.COMPLETE}"

    def revoke(self, token_id: str, expires_at: datetime) -> None:
        """Record durably (where this process can), then in the copy every request reads.
        Once durable, a Redis that cannot answer does not fail the sign-out: the worker's
        next full rewrite of the copy (every sweep) carries it."""
        if self.durable is None:
            self.cache(token_id, expires_at)
            return
        self.durable(token_id, expires_at)
        try:
            self.cache(token_id, expires_at)
        except redis.exceptions.RedisError as exc:
            log.warning("revocation %s kept durably; Redis copy deferred (%s)", token_id, exc)

    def cache(self, token_id: str, expires_at: datetime, client=None) -> None:
        ttl = max(int((expires_at - datetime.now(UTC)).total_seconds()), 1)
        (client or self.redis).set(self._key(token_id), "1", ex=ttl)

    def mark_complete(self, client=None) -> None:
        """Say the copy holds every revocation and standing (the last write of a rebuild)."""
        (client or self.redis).set(self.complete_key, int(datetime.now(UTC).timestamp()))

    def is_complete(self) -> bool:
        return bool(self.redis.exists(self.complete_key))

    def is_revoked(self, *token_ids: str) -> bool:
        """Whether any of these ids (a token's own, its session's) is revoked: one round trip
        that also asks whether the copy is complete (CredentialsIncomplete if not)."""
        ids = [i for i in token_ids if i]
        pipe = self.redis.pipeline(transaction=False)
        pipe.exists(self.complete_key)
        if ids:
            pipe.exists(*map(self._key, ids))
        complete, *revoked = pipe.execute()
        if not complete:
            raise CredentialsIncomplete()
        return bool(revoked) and revoked[0] > 0


class CredentialsIncomplete(DependencyUnavailable):
    """Redis lost the revocations (restarted empty) and no rebuild has run since: no
    credential can be accepted until one has (answered 503, Retry-After)."""

    def __init__(self):
        super().__init__(CACHE, "the credential cache is being rebuilt; retry shortly")


class AccountGate:
    """Each account's standing, mirrored into Redis by the service that owns accounts.

    Both services read it on every request, so a deactivation, password reset or role
    change ends the account's sessions at their next request, without waiting for
    expiry. The owner writes it on every account change and rewrites all of it at
    start-up and on every worker sweep, so a Redis that lost its data heals itself.
    """

    def __init__(self, redis_client, key_prefix: str):
        self.redis = redis_client
        self.key_prefix = key_prefix

    def _key(self, username: str) -> str:
        return f"{self.key_prefix}:account:{username}"

    def publish(
        self, username: str, active: bool, sessions_valid_after: datetime, client=None
    ) -> None:
        value = {"active": active, "valid_after": round(sessions_valid_after.timestamp(), 3)}
        (client or self.redis).set(self._key(username), json.dumps(value))

    def standing(self, username: str) -> dict | None:
        raw = self.redis.get(self._key(username))
        return json.loads(raw) if raw else None

    def note_use(self, token_id: str, at: datetime) -> None:
        self.redis.set(f"{self.key_prefix}:integration-used:{token_id}", int(at.timestamp()))

    def last_uses(self, token_ids: list[str]) -> dict[str, datetime]:
        if not token_ids:
            return {}
        keys = [f"{self.key_prefix}:integration-used:{t}" for t in token_ids]
        return {
            token_id: datetime.fromtimestamp(int(raw), UTC)
            for token_id, raw in zip(token_ids, self.redis.mget(keys), strict=True)
            if raw
        }


def key_id(secret: str) -> str:
    """A signing key's public name (the JWT ``kid``): says which key signed a token without
    revealing anything usable about it."""
    return hashlib.sha256(f"kawal-aspirasi key id:{secret}".encode()).hexdigest()[:12]


class Tokens:
    """Signs with `secret`; verifies with it and with `previous_secrets` too, so the signing
    key can be rotated without signing everyone out at once (README, Operations): during the
    overlap old tokens still verify, sessions are renewed under the new key as they are used,
    and once the old key is dropped every token it signed is refused."""

    def __init__(
        self,
        secret: str,
        issuer: str,
        revocations: RevocationList | None = None,
        accounts: AccountGate | None = None,
        previous_secrets: tuple[str, ...] = (),
    ):
        self.secret, self.issuer, self.revocations = secret, issuer, revocations
        self.accounts = accounts
        self.kid = key_id(secret)
        self._keys = {key_id(k): k for k in (*previous_secrets, secret) if k}
        # callable() -> bool: rebuild the credential cache from the durable record (the
        # follow-up service sets it; see RevocationList)
        self.rebuild_credentials = None
        self._cache_paused_until = 0.0

    def _sign(self, claims: dict) -> str:
        return jwt.encode(claims, self.secret, algorithm="HS256", headers={"kid": self.kid})

    def issue(
        self,
        subject: str,
        role: str,
        *,
        unit: str | None = None,
        agency: str | None = None,
        area: str | None = None,
        ttl: timedelta = timedelta(days=30),
    ) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        if area and role not in ("supervisor", "admin"):
            raise ValueError("only a supervisor or an admin token has an area")
        if role == "officer" and not unit:
            raise ValueError("an officer token needs a unit")
        if role == "liaison" and not agency:
            raise ValueError("a liaison token needs an agency")
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "role": role,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + ttl,
        }
        if unit:
            claims["unit"] = unit_id(unit)  # the canonical id, whatever spelling was given
        if agency:
            claims["agency"] = unit_id(agency)
        if area:
            claims["area"] = area
        return self._sign(claims)

    def issue_session(
        self,
        subject: str,
        role: str,
        *,
        display_name: str,
        unit: str | None = None,
        agency: str | None = None,
        session_id: str | None = None,
        auth_time: datetime | None = None,
        area: str | None = None,
    ) -> str:
        """A sign-in session token; renewing passes the same session id and auth_time."""
        now = datetime.now(UTC)
        auth_time = auth_time or now
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "role": role,
            "kind": "session",
            "name": display_name,
            "sid": session_id or uuid.uuid4().hex,
            "auth_time": round(auth_time.timestamp(), 3),  # ms: a change in the same second
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": min(now + SESSION_TTL, auth_time + MAX_SESSION),
        }
        if unit:
            claims["unit"] = unit
        if agency:
            claims["agency"] = agency
        if area:
            claims["area"] = area
        return self._sign(claims)

    def renew(self, principal: Principal) -> str | None:
        """A fresh token for the same session, or None once MAX_SESSION is reached."""
        if principal.kind != "session" or principal.auth_time is None:
            return None
        if datetime.now(UTC) >= principal.auth_time + MAX_SESSION - timedelta(minutes=1):
            return None
        return self.issue_session(
            principal.subject,
            principal.role,
            display_name=principal.display_name or principal.subject,
            unit=principal.unit,
            agency=principal.agency,
            area=principal.area,
            session_id=principal.session_id,
            auth_time=principal.auth_time,
        )

    def issue_integration(
        self, token_id: str, agency: str | None, name: str, purpose: str = "liaison"
    ) -> str:
        """Another system's key, revocable by id: an agency's system acts as a liaison of
        that agency; an Open311 app (purpose "open311") only files requests."""
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "sub": f"integration:{token_id}",
            "role": "liaison" if purpose == "liaison" else OPEN311_CLIENT,
            "kind": "integration",
            "name": name,
            "agency": agency,
            "jti": token_id,
            "iat": now,
            "exp": now + INTEGRATION_TTL,
        }
        return self._sign(claims)

    def issue_password_change(self, subject: str) -> str:
        """A ticket that only lets its holder choose a new password (after a reset)."""
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "kind": "password-change",
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + PASSWORD_CHANGE_TTL,
        }
        return self._sign(claims)

    def verify_password_change(self, ticket: str) -> str:
        claims = self._decode(ticket)
        if claims.get("kind") != "password-change":
            raise AuthError("invalid token: not a password-change ticket")
        return claims["sub"]

    def _decode(self, token: str, verify_exp: bool = True) -> dict:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        if kid is None:  # signed before tokens named their key: any accepted key may fit
            candidates = [self.secret, *(k for k in self._keys.values() if k != self.secret)]
        elif kid in self._keys:
            candidates = [self._keys[kid]]
        else:
            raise AuthError("invalid token: signed with a key that is no longer accepted")
        for secret in candidates[:-1]:
            try:
                return self._decode_with(token, secret, verify_exp)
            except AuthError as exc:
                if not isinstance(exc.__cause__, jwt.InvalidSignatureError):
                    raise
        return self._decode_with(token, candidates[-1], verify_exp)

    def _decode_with(self, token: str, secret: str, verify_exp: bool) -> dict:
        try:
            return jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                issuer=self.issuer,
                options={"require": ["exp", "sub", "jti", "iss"], "verify_exp": verify_exp},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc

    def verify(self, token: str) -> Principal:
        claims = self._decode(token)
        kind = claims.get("kind", "operator")
        role = claims.get("role")
        if kind not in KINDS or role not in (TOKEN_ROLES if kind == "integration" else ROLES):
            raise AuthError("invalid token: unknown role or kind")
        session_id = claims.get("sid")
        if kind == "session" and not (session_id and claims.get("auth_time")):
            raise AuthError("invalid token: incomplete session")
        if self.revocations and self._cached(lambda: self._revoked(claims["jti"], session_id)):
            raise AuthError("token revoked")
        auth_time = claims.get("auth_time")
        issued = datetime.fromtimestamp(auth_time or claims.get("iat") or 0, UTC)
        if kind == "session" and datetime.now(UTC) > issued + MAX_SESSION:
            raise AuthError("session too old: sign in again")
        if self.accounts is not None and kind != "integration":
            standing = self._cached(lambda: self.accounts.standing(claims["sub"]))
            if standing is None and kind == "session":
                raise AuthError("unknown account")
            if standing is not None and (
                not standing["active"] or issued.timestamp() < standing["valid_after"]
            ):
                raise AuthError("session ended: sign in again")
        if kind == "integration" and self.accounts is not None:
            with contextlib.suppress(redis.exceptions.RedisError):  # a last-use note only
                self.accounts.note_use(claims["jti"], datetime.now(UTC))
        return Principal(
            subject=claims["sub"],
            role=claims["role"],
            token_id=claims["jti"],
            # tokens minted before ids were canonical may carry a display name
            unit=unit_id(claims.get("unit")),
            agency=unit_id(claims.get("agency")),
            kind=kind,
            session_id=session_id,
            auth_time=datetime.fromtimestamp(auth_time, UTC) if auth_time else None,
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            display_name=claims.get("name"),
            area=claims.get("area"),
        )

    def _cached(self, read):
        """A read of the credential cache. After a Redis failure every check fails at once
        (503) for CACHE_PAUSE_SECONDS, instead of each request waiting on a hung Redis."""
        if time.monotonic() < self._cache_paused_until:
            raise DependencyUnavailable(CACHE, "the credential cache is not answering")
        try:
            return read()
        except redis.exceptions.RedisError:
            self._cache_paused_until = time.monotonic() + CACHE_PAUSE_SECONDS
            raise

    def _revoked(self, *token_ids) -> bool:
        try:
            return self.revocations.is_revoked(*token_ids)
        except CredentialsIncomplete:
            # The service that holds the durable record rebuilds the copy at once; any
            # other (intake) waits for it, answering 503 meanwhile.
            if self.rebuild_credentials is None or not self.rebuild_credentials():
                raise
            return self.revocations.is_revoked(*token_ids)

    def end_session(self, principal: Principal) -> None:
        """Sign-out: the session id is refused from now on, on both services. (Operator and
        integration tokens are revoked on purpose: tokens_cli revoke, the admin page.)"""
        if principal.kind != "session":
            return
        if self.revocations is not None and principal.expires_at is not None:
            self.revocations.revoke(
                principal.session_id or principal.token_id,
                (principal.auth_time or principal.expires_at) + MAX_SESSION,
            )

    def revoke(self, token: str) -> str:
        """Revoke a token (even an expired one is accepted); returns its id."""
        if self.revocations is None:
            raise RuntimeError("no revocation list configured")
        claims = self._decode(token, verify_exp=False)
        self.revocations.revoke(claims["jti"], datetime.fromtimestamp(claims["exp"], UTC))
        return claims["jti"]
