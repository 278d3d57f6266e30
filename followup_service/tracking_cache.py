"""Public tracking views cached in Redis, never older than the case version last written.

Writers put the view of the version they just committed; readers fill misses from the
read model. A compare-and-set on the case version keeps a slow reader from putting an
older view back over a newer one, so a case's own events refresh its entry at once.
"""

from __future__ import annotations

import json

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


class TrackingCache:
    def __init__(self, redis_client, settings: Settings, ttl_seconds: int = 300):
        self.redis = redis_client
        self.settings = settings
        self.ttl = ttl_seconds
        self._put = redis_client.register_script(_PUT_IF_NEWER)

    def key(self, tracking_code: str) -> str:
        return self.settings.redis_key("track", tracking_code)

    def get(self, tracking_code: str) -> dict | None:
        body = self.redis.hget(self.key(tracking_code), "body")
        (TRACKING_CACHE_HITS if body else TRACKING_CACHE_MISSES).inc()
        return json.loads(body) if body else None

    def put(self, tracking_code: str, version: int, view: dict) -> None:
        self._put(keys=[self.key(tracking_code)], args=[version, _body(view), self.ttl])

    def put_many(self, entries: list[tuple[str, int, dict]]) -> None:
        """put() each (tracking code, version, view), in one round trip."""
        if not entries:
            return
        pipe = self.redis.pipeline(transaction=False)
        for tracking_code, version, view in entries:
            self._put(
                keys=[self.key(tracking_code)], args=[version, _body(view), self.ttl], client=pipe
            )
        pipe.execute()

    def forget(self, tracking_codes: list[str]) -> None:
        if tracking_codes:
            self.redis.delete(*(self.key(code) for code in tracking_codes))


def _body(view: dict) -> str:
    return json.dumps(view, separators=(",", ":"), sort_keys=True)
