"""Idempotency-Key support for POSTs from flaky connections, remembered in Redis.

The first request with a key claims it (SET NX, short lock); its successful answer is
stored for `ttl` (at least 24 h). A replay with the same key and the same request gets
that answer again without running the handler; the same key with a different request
is refused (409), as is a replay while the first is still running. Failed answers are
not remembered, so a corrected retry may reuse the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from flask import jsonify, make_response, request

from shared.web import ApiError, json_body

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


class IdempotencyConflictError(Exception):
    """The key was used for a different request, or its first request is still running."""


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: object


def fingerprint(*parts) -> str:
    """A stable hash of the request: method, path and the body in canonical JSON."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyStore:
    def __init__(
        self,
        redis_client,
        key_prefix: str,
        ttl: timedelta = timedelta(hours=24),
        lock_ttl: timedelta = timedelta(seconds=60),
    ):
        if ttl < timedelta(hours=24):
            raise ValueError("idempotency keys must be remembered for at least 24 hours")
        self.redis, self.key_prefix = redis_client, key_prefix
        self.ttl, self.lock_ttl = int(ttl.total_seconds()), int(lock_ttl.total_seconds())

    def _key(self, scope: str, key: str) -> str:
        return f"{self.key_prefix}:idempotency:{scope}:{key}"

    def begin(self, scope: str, key: str, request_hash: str) -> StoredResponse | None:
        """Claim the key (None: go ahead) or return the remembered answer."""
        redis_key = self._key(scope, key)
        pending = json.dumps({"state": "pending", "fingerprint": request_hash})
        for _ in range(3):
            if self.redis.set(redis_key, pending, nx=True, ex=self.lock_ttl):
                return None
            raw = self.redis.get(redis_key)
            if raw is None:
                continue  # expired between SET and GET: claim again
            record = json.loads(raw)
            if record["fingerprint"] != request_hash:
                raise IdempotencyConflictError("this Idempotency-Key was used for another request")
            if record["state"] == "pending":
                raise IdempotencyConflictError("a request with this Idempotency-Key is running")
            return StoredResponse(record["status"], record["body"])
        raise IdempotencyConflictError("could not claim the Idempotency-Key")

    def complete(self, scope: str, key: str, request_hash: str, status: int, body) -> None:
        record = {"state": "done", "fingerprint": request_hash, "status": status, "body": body}
        self.redis.set(self._key(scope, key), json.dumps(record), ex=self.ttl)

    def release(self, scope: str, key: str) -> None:
        self.redis.delete(self._key(scope, key))


def idempotent(store: Callable[[], IdempotencyStore], scope: Callable[[], str]):
    """Flask view decorator honouring the Idempotency-Key header (place after auth checks).

    `scope` names whose keys these are (e.g. the caller's subject), so callers never collide.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            key = key.strip()
            if not key or len(key) > MAX_KEY_LENGTH:
                raise ApiError(400, f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters")
            try:
                body = json_body()
            except ApiError:
                body = None  # the view answers the 4xx; the raw bytes still fingerprint it
            request_hash = fingerprint(
                request.method, request.full_path, body if body is not None else request.data
            )
            who, remembered = scope(), store()
            try:
                replay = remembered.begin(who, key, request_hash)
            except IdempotencyConflictError as exc:
                raise ApiError(409, str(exc)) from exc
            if replay is not None:
                response = make_response(jsonify(replay.body), replay.status)
                response.headers["Idempotent-Replayed"] = "true"
                return response
            try:
                response = make_response(view(*args, **kwargs))
            except BaseException:
                remembered.release(who, key)
                raise
            if 200 <= response.status_code < 300 and response.is_json:
                remembered.complete(
                    who, key, request_hash, response.status_code, response.get_json()
                )
            else:
                remembered.release(who, key)
            return response

        return wrapper

    return decorate
