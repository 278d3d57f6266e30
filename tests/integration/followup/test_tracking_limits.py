"""Harvesting tracking codes (issue 23): misses are limited per address on the API and
the /lacak pages with flask-limiter (10 a minute, 60 an hour; then 429 with
Retry-After), hits never count, a metric and a log line show the misses rising."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY as METRICS

from shared.tracking_code import new_tracking_code

pytestmark = pytest.mark.integration

HARVESTER = {"REMOTE_ADDR": "203.0.113.7"}
RESIDENT = {"REMOTE_ADDR": "198.51.100.23"}


def _sample(name: str, surface: str) -> float:
    return METRICS.get_sample_value(name, {"surface": surface}) or 0.0


def test_a_thousand_random_lookups_meet_429s_after_ten_misses(followup, caplog):
    case = followup.open("street_lighting")
    code = case["tracking_code"]
    client = followup.client
    limited_before = _sample("kawal_tracking_miss_limited_total", "api")

    with caplog.at_level(logging.WARNING, logger="followup_service.tracking"):
        answers = [
            client.get(f"/api/v1/track/{new_tracking_code()}", environ_base=HARVESTER)
            for _ in range(1000)
        ]
    statuses = [a.status_code for a in answers]
    first_429 = statuses.index(429)

    assert statuses[:first_429] == [404] * 10 and first_429 == 10
    assert set(statuses[first_429:]) == {429}  # the harvester learns nothing more
    assert answers[-1].is_json and int(answers[-1].headers["Retry-After"]) > 0
    # a blocked address gets 429 for the right code too: answering it would be an oracle
    assert client.get(f"/api/v1/track/{code}", environ_base=HARVESTER).status_code == 429
    # the right code still answers 200 to everyone else, and so does the page
    assert client.get(f"/api/v1/track/{code}", environ_base=RESIDENT).status_code == 200
    assert client.get(f"/lacak/{code}", environ_base=RESIDENT).status_code == 200
    # 990 random codes and the right one, refused
    assert _sample("kawal_tracking_miss_limited_total", "api") - limited_before == 991
    warnings = [r for r in caplog.records if "tracking lookups limited" in r.getMessage()]
    assert len(warnings) == 1 and "203.0.113.7" in warnings[0].getMessage()


def test_hits_never_count_and_a_resident_who_mistypes_is_not_blocked(followup):
    code = followup.open("street_lighting")["tracking_code"]
    client = followup.client
    for _ in range(60):  # more hits than the whole hourly miss allowance
        assert client.get(f"/api/v1/track/{code}", environ_base=RESIDENT).status_code == 200
    typo = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert client.get(f"/api/v1/track/{typo}", environ_base=RESIDENT).status_code == 404
    assert client.get(f"/api/v1/track/{code}", environ_base=RESIDENT).status_code == 200


def test_misses_on_the_pages_and_the_api_count_against_one_address(followup):
    client = followup.client
    misses_before = _sample("kawal_tracking_misses_total", "page")
    pages = [
        client.get(f"/lacak/{new_tracking_code()}", environ_base=HARVESTER).status_code
        for _ in range(11)
    ]
    assert pages == [404] * 10 + [429]
    assert _sample("kawal_tracking_misses_total", "page") - misses_before == 10
    # each page miss asked the API too: the API is spent for this address as well
    api = client.get(f"/api/v1/track/{new_tracking_code()}", environ_base=HARVESTER)
    assert api.status_code == 429 and api.is_json and "Retry-After" in api.headers


def test_behind_a_proxy_each_client_has_its_own_allowance_and_xff_is_ignored_otherwise(
    make_settings,
):
    from followup_service.app import create_app

    def misses(client, forwarded_for: str) -> list[int]:
        headers = {"X-Forwarded-For": forwarded_for}
        return [
            client.get(f"/api/v1/track/{new_tracking_code()}", headers=headers).status_code
            for _ in range(11)
        ]

    proxied = create_app(make_settings("followup", proxy_hops=1)).test_client()
    assert misses(proxied, "198.51.100.1") == [404] * 10 + [429]
    assert misses(proxied, "198.51.100.2") == [404] * 10 + [429]  # another resident
    direct = create_app(make_settings("followup")).test_client()
    assert misses(direct, "198.51.100.3")[-1] == 429
    assert misses(direct, "198.51.100.4") == [429] * 11  # a forged header changes nothing


def test_an_ipv6_harvester_cannot_rotate_addresses_within_its_64(followup):
    from followup_service.tracking import client_network

    assert client_network("2001:db8:1:2::1") == client_network("2001:db8:1:2:ffff::9")
    assert client_network("2001:db8:1:2::1") != client_network("2001:db8:1:3::1")
    assert client_network("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_network("203.0.113.7") == "203.0.113.7"
    client = followup.client
    answers = [
        client.get(
            f"/api/v1/track/{new_tracking_code()}",
            environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{n:x}"},
        ).status_code
        for n in range(1, 12)
    ]
    assert answers == [404] * 10 + [429]  # eleven addresses of one /64: one allowance
