"""The Redis clients, with timeouts that fit what each waits for.

Redis is never the only thing between a user and the service (README, "When a part
blinks"): a cache read gives up within tens of milliseconds and PostgreSQL answers; a
credential check gives up within half a second and the request gets a 503 (it cannot
decide without the revocation cache, see shared.auth.CredentialCache).
"""

from __future__ import annotations

import redis as redis_lib

CACHE_TIMEOUT_SECONDS = 0.05  # a cache slower than this is not worth waiting for
CREDENTIALS_TIMEOUT_SECONDS = 0.5


def cache_client(redis_url: str, timeout: float = CACHE_TIMEOUT_SECONDS) -> redis_lib.Redis:
    return redis_lib.Redis.from_url(
        redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )


def credentials_client(
    redis_url: str, timeout: float = CREDENTIALS_TIMEOUT_SECONDS
) -> redis_lib.Redis:
    return redis_lib.Redis.from_url(
        redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )
