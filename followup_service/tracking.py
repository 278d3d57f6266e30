"""Public side: tracking by code, community dispute (rate limited), the public case list.

Nothing here needs a token and nothing here shows the reporter, contact, raw
description or internal notes; sensitive cases never appear in the public list.
"""

from __future__ import annotations

import ipaddress
import logging
import time

import redis as redis_lib
from flask import Blueprint, current_app, jsonify, request
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from followup_service import handlers
from followup_service.listing import publicly_listed
from followup_service.metrics import TRACKING_MISS_LIMITED, TRACKING_MISSES
from followup_service.tables import cases
from shared.fields import CleanText
from shared.tracking_code import is_valid, normalize
from shared.web import ApiError, json_body

log = logging.getLogger(__name__)
bp = Blueprint("followup_public_api", __name__, url_prefix="/api/v1")
DISPUTE_LIMIT = (5, 3600)  # per client address and tracking code: 5 an hour
# Misses (malformed or unknown codes) per client address, on the API and the /lacak pages
# alike: a resident who mistypes a few times is never stopped, a harvester is. Hits do not
# count. Once over, every lookup from the address answers 429 with Retry-After until the
# window moves on: answering hits then would tell a harvester which guesses are right.
MISS_LIMIT = "10/minute;60/hour"  # the default of the TRACKING_MISS_LIMIT setting
MISS_LOG_SECONDS = 60  # one warning per address and minute while it is limited


def followup():
    return current_app.extensions["followup"]


def _valid_code(code: str) -> str:
    code = normalize(code)
    if not is_valid(code):
        TRACKING_MISSES.labels(surface="api").inc()
        raise ApiError(404, "tracking code not recognised", tracking_code=code)
    return code


def client_network(address: str | None) -> str:
    """Whom a miss counts against: the IPv4 address, or the IPv6 /64 (one subscriber's
    network: a harvester with a /64 has 2^64 addresses to rotate through)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def miss_key() -> str:
    """flask-limiter's key_func for the miss limits."""
    return client_network(request.remote_addr)


def missed(response) -> bool:
    """flask-limiter's deduct_when: only a miss (404) counts against the address."""
    return response.status_code == 404


def miss_limit_breached(surface: str):
    """flask-limiter's on_breach for the miss limits: count the refused lookup, and log a
    warning once a minute per address while it is limited (so a rise in misses shows)."""

    def on_breach(limit) -> None:
        TRACKING_MISS_LIMITED.labels(surface=surface).inc()
        address = miss_key()  # the IPv4 address or IPv6 /64 the limit counts
        try:
            fu = followup()
            key = fu.settings.redis_key("track-miss-logged", surface, address)
            first = fu.redis.set(key, "1", nx=True, ex=MISS_LOG_SECONDS)
        except Exception:  # a Redis hiccup must not turn a 429 into a 500
            first = True
        if first:
            log.warning(
                "tracking lookups limited: %s missed more than %s codes (%s)",
                address,
                limit.limit,
                surface,
                extra={"client_address": address, "surface": surface},
            )

    return on_breach


def miss_limit() -> str:
    """The miss limit in force (the TRACKING_MISS_LIMIT setting), read per request."""
    return getattr(current_app.config["SETTINGS"], "tracking_miss_limit", "") or MISS_LIMIT


def limit_misses(app, limiter) -> None:
    """Put the miss limit on GET /api/v1/track/<code>, with the pages' limiter (Redis
    storage, moving window); called once that limiter exists (register_pages)."""
    endpoint = f"{bp.name}.track"
    app.view_functions[endpoint] = limiter.limit(
        miss_limit,
        deduct_when=missed,
        scope="track-api-miss",
        key_func=miss_key,
        on_breach=miss_limit_breached("api"),
    )(app.view_functions[endpoint])


@bp.get("/track/<code>")
def track(code: str):
    """The public view: from Redis on a hit, else from the read model (and then cached).

    Every writer of a case (API commands, the intake consumer, the deadline worker) puts
    the new view after its commit, so a cached entry is the case's latest committed one;
    the cache's compare-and-set keeps this miss fill from overwriting a newer entry.
    """
    code, fu = _valid_code(code), followup()
    cached = fu.tracking.get(code)
    if cached is not None:
        return jsonify(cached)
    with fu.engine.connect() as conn:
        row = conn.execute(
            select(cases.c.version, cases.c.public_view).where(cases.c.tracking_code == code)
        ).one_or_none()
    if row is None:
        TRACKING_MISSES.labels(surface="api").inc()
        raise ApiError(404, "tracking code not found", tracking_code=code)
    fu.tracking.put(code, row.version, row.public_view)
    return jsonify(row.public_view)


class DisputeIn(Schema):
    reason = CleanText(required=True, validate=validate.Length(min=3, max=2000))


_LOCAL_LIMITS = FixedWindowRateLimiter(MemoryStorage())  # while Redis cannot answer


def _rate_limit(bucket: str) -> None:
    """Fixed window in Redis, shared by every API replica; while Redis cannot answer, the
    same window per process (a limit that still holds beats refusing the resident)."""
    fu = followup()
    limit, window = current_app.config.get("DISPUTE_RATE_LIMIT", DISPUTE_LIMIT)
    key = fu.settings.redis_key("ratelimit", bucket, request.remote_addr or "unknown")
    try:
        count = fu.redis.incr(key)
        if count == 1:
            fu.redis.expire(key, window)
        retry_after = max(int(fu.redis.ttl(key)), 1) if count > limit else 0
    except redis_lib.RedisError:
        item = RateLimitItemPerSecond(limit, window)
        allowed = _LOCAL_LIMITS.hit(item, key)
        reset = _LOCAL_LIMITS.get_window_stats(item, key).reset_time
        retry_after = 0 if allowed else max(int(reset - time.time()), 1)
    if retry_after:
        raise ApiError(429, "too many disputes; try again later", retry_after=retry_after)


@bp.post("/track/<code>/dispute")
def community_dispute(code: str):
    """A resident disputes a reported resolution: the case goes back to the agency."""
    code = _valid_code(code)
    _rate_limit(f"dispute:{code}")
    data = DisputeIn().load(json_body())
    case = handlers.community_dispute(followup(), code, reason=data["reason"])
    return jsonify({"tracking_code": code, "status": case.status, "version": case.version})


class PublicQuery(Schema):
    category = CleanText(validate=validate.Length(max=120))
    kelurahan = CleanText(validate=validate.Length(max=200))
    status = CleanText(validate=validate.Length(max=60))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


@bp.get("/public/cases")
def public_cases():
    """Publicly listed cases (never sensitive ones), newest first."""
    q = PublicQuery().load(request.args)
    query = select(cases.c.public_view).where(publicly_listed())
    for name in ("category", "kelurahan", "status"):
        if name in q:
            query = query.where(cases.c[name] == q[name])
    query = query.order_by(cases.c.opened_at.desc(), cases.c.case_id)
    query = query.limit(q["per_page"]).offset((q["page"] - 1) * q["per_page"])
    with followup().engine.connect() as conn:
        views = conn.execute(query).scalars().all()
    keep = (
        "id",
        "category",
        "category_label",
        "kelurahan",
        "kecamatan",
        "status",
        "status_label",
        "outcome",
        "agency",
        "public_summary",
        "deadlines",
        "backing_count",
    )
    items = [{k: view.get(k) for k in keep} for view in views]
    return jsonify({"items": items, "page": q["page"], "per_page": q["per_page"]})
