"""Public tracking views cached in Redis, never older than the case version last written.

Writers put the view of the version they just committed; readers fill misses from the
read model. A compare-and-set on the case version keeps a slow reader from putting an
older view back over a newer one, so a case's own events refresh its entry at once.

Redis is only a cache here: the cache has its own client with timeouts of tens of
milliseconds, and any Redis error (down, stalled, restarting) is a miss, so residents are
answered from PostgreSQL. After an error the cache is skipped for `pause` seconds (no
request waits on a hung Redis more than once per pause). Entries a writer could not
refresh are remembered and deleted at the cache's next successful use, so a stale view
outlives an outage by no more than that (and never more than the entry's TTL).
"""

from __future__ import annotations

import json
import logging
import threading
import time

import redis as redis_lib

from followup_service.metrics import TRACKING_CACHE_HITS, TRACKING_CACHE_MISSES
from shared.config import Settings

# KEYS[1] = entry; ARGV = version, body, ttl seconds
_PUT_IF_NEWER = """
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'body', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


log = logging.getLogger(__name__)


class TrackingCache:
    def __init__(self, redis_client, settings: Settings, ttl_seconds: int = 300, pause=1.0):
        self.redis = redis_client
        self.settings = settings
        self.ttl = ttl_seconds
        self.pause = pause
        self._put = redis_client.register_script(_PUT_IF_NEWER)
        self._skip_until = 0.0
        self._unrefreshed: set[str] = set()  # codes whose entry may be stale (see module doc)
        self._lock = threading.Lock()

    def key(self, tracking_code: str) -> str:
        return self.settings.redis_key("track", tracking_code)

    def get(self, tracking_code: str) -> dict | None:
        """The cached view, or None on a miss or when Redis cannot answer at once."""
        body = self._use(lambda: self.redis.hget(self.key(tracking_code), "body"))
        (TRACKING_CACHE_HITS if body else TRACKING_CACHE_MISSES).inc()
        return json.loads(body) if body else None

    def put(self, tracking_code: str, version: int, view: dict) -> None:
        self.put_many([(tracking_code, version, view)])

    def put_many(self, entries: list[tuple[str, int, dict]]) -> None:
        """put() each (tracking code, version, view), in one round trip."""
        if not entries:
            return

        def write():
            pipe = self.redis.pipeline(transaction=False)
            for tracking_code, version, view in entries:
                self._put(
                    keys=[self.key(tracking_code)],
                    args=[version, _body(view), self.ttl],
                    client=pipe,
                )
            pipe.execute()
            return True

        if not self._use(write):
            self._remember_unrefreshed(code for code, _, _ in entries)

    def forget(self, tracking_codes: list[str]) -> None:
        if tracking_codes and not self._use(
            lambda: self.redis.delete(*(self.key(code) for code in tracking_codes)) or True
        ):
            self._remember_unrefreshed(tracking_codes)

    def _remember_unrefreshed(self, codes) -> None:
        with self._lock:
            self._unrefreshed.update(codes)

    def _use(self, operation):
        """Run a Redis operation; None if Redis is paused or fails (then pause it)."""
        if time.monotonic() < self._skip_until:
            return None
        try:
            self._delete_unrefreshed()
            return operation()
        except redis_lib.RedisError as exc:
            self._skip_until = time.monotonic() + self.pause
            log.warning("tracking cache unavailable (%s); reading PostgreSQL", exc)
            return None

    def _delete_unrefreshed(self) -> None:
        with self._lock:
            codes, self._unrefreshed = self._unrefreshed, set()
        if not codes:
            return
        try:
            self.redis.delete(*(self.key(code) for code in codes))
        except redis_lib.RedisError:
            self._remember_unrefreshed(codes)
            raise


def _body(view: dict) -> str:
    return json.dumps(view, separators=(",", ":"), sort_keys=True)
