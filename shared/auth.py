"""Signed bearer tokens (pyjwt, HS256) shared by both services, with a Redis revocation list.

Roles: officer (bound to a unit: Polsek/Polres), liaison (bound to an agency),
supervisor (everything), admin (routing rules, tokens).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from shared.units import unit_id

ROLES = ("officer", "liaison", "supervisor", "admin")


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

    @property
    def actor(self) -> str:
        """How events record who acted: role and subject."""
        return f"{self.role}:{self.subject}"

    def is_any(self, *roles: str) -> bool:
        return self.role in roles


class RevocationList:
    """Revoked token ids in Redis, each kept until the token would have expired anyway."""

    def __init__(self, redis_client, key_prefix: str):
        self.redis = redis_client
        self.key_prefix = key_prefix

    def _key(self, token_id: str) -> str:
        return f"{self.key_prefix}:revoked-token:{token_id}"

    def revoke(self, token_id: str, expires_at: datetime) -> None:
        ttl = max(int((expires_at - datetime.now(UTC)).total_seconds()), 1)
        self.redis.set(self._key(token_id), "1", ex=ttl)

    def is_revoked(self, token_id: str) -> bool:
        return bool(self.redis.exists(self._key(token_id)))


class Tokens:
    def __init__(self, secret: str, issuer: str, revocations: RevocationList | None = None):
        self.secret, self.issuer, self.revocations = secret, issuer, revocations

    def issue(
        self,
        subject: str,
        role: str,
        *,
        unit: str | None = None,
        agency: str | None = None,
        ttl: timedelta = timedelta(days=30),
    ) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
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
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def _decode(self, token: str, verify_exp: bool = True) -> dict:
        try:
            return jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                issuer=self.issuer,
                options={"require": ["exp", "sub", "jti", "iss"], "verify_exp": verify_exp},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc

    def verify(self, token: str) -> Principal:
        claims = self._decode(token)
        if claims.get("role") not in ROLES:
            raise AuthError("invalid token: unknown role")
        if self.revocations and self.revocations.is_revoked(claims["jti"]):
            raise AuthError("token revoked")
        return Principal(
            subject=claims["sub"],
            role=claims["role"],
            token_id=claims["jti"],
            # tokens minted before ids were canonical may carry a display name
            unit=unit_id(claims.get("unit")),
            agency=unit_id(claims.get("agency")),
        )

    def revoke(self, token: str) -> str:
        """Revoke a token (even an expired one is accepted); returns its id."""
        if self.revocations is None:
            raise RuntimeError("no revocation list configured")
        claims = self._decode(token, verify_exp=False)
        self.revocations.revoke(claims["jti"], datetime.fromtimestamp(claims["exp"], UTC))
        return claims["jti"]
