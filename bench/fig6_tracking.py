"""Figure 6: public tracking lookups/s with the Redis cache vs without it (the same app
with the cache swapped for one that always misses), beside the server's no-op ceiling."""

from __future__ import annotations

import random
import uuid

from bench.core import Bench, Row, http
from bench.fig3_http import load_rows
from bench.fig5_rebuild import CaseLog
from bench.synthetic import tracking_code

MAX_CODES = 2000


def run(bench: Bench) -> None:
    p = bench.preset
    log = CaseLog(bench, p.tracking_cases * 2, "trk")  # about 2 events per case
    try:
        log.rebuild()
    finally:
        log.close()
    codes = [tracking_code(n) for n in random.sample(range(log.cases), min(log.cases, MAX_CODES))]
    spec = {
        "seconds": p.http_seconds,
        "connections": p.http_connections,
        "token": "",
        "mode": "track",
        "path": "/api/v1/track/",
        "codes": codes,
    }
    results = {}
    for label, app in (("cache", None), ("no_cache", "bench.apps:followup_without_cache()")):
        name = f"{log.settings.topic_prefix}-followup-api-{label}"
        with bench.gunicorn(log.settings, name, app=app) as url:
            status, body = http("GET", f"{url}/api/v1/track/{codes[0]}")
            if status != 200:
                raise RuntimeError(f"/track answers {status}: {body}")
            if label == "cache":  # fill the cache for every code the load will ask for
                for code in codes:
                    http("GET", f"{url}/api/v1/track/{code}")
                results["noop"] = load_rows(bench, url, {**spec, "mode": "get", "path": "/healthz"})
            results[label] = load_rows(bench, url, {**spec, "run": uuid.uuid4().hex[:8]})
    params = {
        "cases": log.cases,
        "codes_asked": len(codes),
        "connections": p.http_connections,
        "seconds_per_run": p.http_seconds,
    }
    c, n, noop = results["cache"], results["no_cache"], results["noop"]
    bench.add(
        Row(
            "6",
            "tracking lookups with Redis cache",
            "lookups/s",
            c["rps"],
            "same app, cache always misses",
            n["rps"],
            params=params,
        )
    )
    bench.add(
        Row(
            "6",
            "tracking p99 with Redis cache",
            "ms",
            c["p99"],
            "same app, cache always misses",
            n["p99"],
            higher_is_better=False,
            params=params,
        )
    )
    bench.add(
        Row(
            "6b",
            "tracking lookups with Redis cache",
            "lookups/s",
            c["rps"],
            "same server, GET /healthz (no-op)",
            noop["rps"],
            params=params,
        )
    )
