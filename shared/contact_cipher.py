"""Residents' contacts (email, phone) encrypted at rest, and the notifier's handshake.

One key, NOTIFY_CONTACT_KEY (a Fernet key: 32 url-safe base64 bytes), is held by the two
processes that touch contacts: the intake API (which keeps an aspiration's `notify`
request until the follow-up notifier has taken it) and the follow-up notifier and API
(the contact store, followup_service/notifications). Like JWT_SECRET, a built-in key
is accepted only under KAWAL_ENV=development.

The same key authenticates the notifier to intake's private endpoint: it sends a fresh
Fernet token of NOTIFIER_PROOF, which intake accepts for 60 seconds. Whoever can make
one could decrypt the contacts anyway, so no second secret is needed.

A contact's *digest* (HMAC-SHA256 under a key derived from the same key) lets the stores
count and deduplicate per address without decrypting anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from cryptography.fernet import Fernet, InvalidToken

# a fixed, public development key: refused outside KAWAL_ENV=development
DEVELOPMENT_CONTACT_KEY = base64.urlsafe_b64encode(b"kawal-dev-only-contact-key-32byt").decode()
NOTIFIER_PROOF = b"kawal-notifier"
PROOF_TTL_SECONDS = 60


class ContactKeyError(RuntimeError):
    """The contact key is missing, malformed or the development key outside development."""


def contact_key_from_env(env=None) -> str:
    """NOTIFY_CONTACT_KEY (or FOLLOWUP_/INTAKE_ prefixed); the development key only when
    KAWAL_ENV=development."""
    env = os.environ if env is None else env
    key = (
        env.get("FOLLOWUP_NOTIFY_CONTACT_KEY")
        or env.get("INTAKE_NOTIFY_CONTACT_KEY")
        or env.get("NOTIFY_CONTACT_KEY")
    )
    development = env.get("KAWAL_ENV") == "development"
    if not key:
        if development:
            return DEVELOPMENT_CONTACT_KEY
        raise ContactKeyError(
            "NOTIFY_CONTACT_KEY is not set: generate one with "
            '`python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`'
        )
    if key == DEVELOPMENT_CONTACT_KEY and not development:
        raise ContactKeyError("the built-in contact key is for KAWAL_ENV=development only")
    try:
        Fernet(key.encode())
    except (ValueError, TypeError) as exc:
        raise ContactKeyError("NOTIFY_CONTACT_KEY is not a Fernet key") from exc
    return key


class ContactCipher:
    def __init__(self, key: str):
        self._fernet = Fernet(key.encode())
        self._digest_key = hashlib.sha256(b"kawal-contact-digest:" + key.encode()).digest()

    @classmethod
    def from_env(cls, env=None) -> ContactCipher:
        return cls(contact_key_from_env(env))

    def seal(self, contact: dict) -> str:
        """A contact (a dict: email/phone/channel/language) as an opaque token."""
        return self._fernet.encrypt(json.dumps(contact, sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict:
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ValueError("contact token does not open with this key") from exc

    def digest(self, address: str) -> str:
        """A keyed hash of one address (lowercased email, or phone digits)."""
        return hmac.new(self._digest_key, normalize_address(address).encode(), "sha256").hexdigest()

    def proof(self) -> str:
        """A token proving the notifier holds the key (Authorization: Notifier <proof>)."""
        return self._fernet.encrypt(NOTIFIER_PROOF).decode()

    def check_proof(self, token: str) -> bool:
        try:
            return self._fernet.decrypt(token.encode(), ttl=PROOF_TTL_SECONDS) == NOTIFIER_PROOF
        except (InvalidToken, ValueError, TypeError):
            return False


def normalize_address(address: str) -> str:
    address = address.strip()
    if "@" in address:
        return address.lower()
    digits = "".join(ch for ch in address if ch.isdigit())
    if digits.startswith("0"):
        digits = "62" + digits[1:]  # Indonesian numbers: 0812... is +62 812...
    return digits
