"""Security headers (issue 23): every GET rule of both services' url_maps answers with
the CSP (no inline scripts, no framing), X-Frame-Options, nosniff, a Referrer-Policy and
a Permissions-Policy, whatever its status; HSTS only over TLS and when configured; the
camera only on the officer's logging page; a favicon on both services."""

from __future__ import annotations

import re

import pytest

from followup_service.app import create_app as create_followup
from intake_service.app import create_app as create_intake
from shared.pages.session import COOKIE as SESSION_COOKIE

pytestmark = pytest.mark.integration

VALUES = {"fmt": "json", "filename": "pages.css"}


def _filled(rule) -> str:
    def value(match):
        name = match.group(1).split(":")[-1]
        converter = rule._converters.get(name)
        items = sorted(getattr(converter, "items", ()) or ())
        return items[0] if items else VALUES.get(name, "x")

    return re.sub(r"<([^>]+)>", value, rule.rule)


def _directives(policy: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {part[0]: (part[1] if len(part) > 1 else "") for part in parts}


def assert_security_headers(response, where: str, camera: bool = False) -> None:
    headers = response.headers
    csp = _directives(headers.get("Content-Security-Policy", ""))
    assert csp.get("frame-ancestors") == "'none'", where
    assert csp.get("script-src") == "'self'", where  # no 'unsafe-inline', no host but ours
    assert "unsafe-inline" not in headers["Content-Security-Policy"], where
    assert csp.get("object-src") == "'none'" and csp.get("base-uri") == "'none'", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "no-referrer", where
    permissions = headers.get("Permissions-Policy", "")
    assert ("camera=(self)" if camera else "camera=()") in permissions, where
    assert "microphone=()" in permissions and "geolocation=()" in permissions, where
    assert "Strict-Transport-Security" not in headers, where  # plain HTTP


@pytest.fixture
def apps(make_settings):
    return {
        "intake": create_intake(make_settings("intake")),
        "followup": create_followup(make_settings("followup")),
    }


def test_every_get_rule_of_both_services_carries_the_security_headers(apps):
    seen = 0
    for name, app in apps.items():
        client = app.test_client()
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            path = _filled(rule)
            response = client.get(path)
            camera = rule.endpoint == "intake_pages.log_meeting"  # its redirect too
            where = f"{name} GET {path} -> {response.status_code}"
            assert_security_headers(response, where, camera=camera)
            seen += 1
    assert seen > 40


def test_the_camera_is_allowed_on_the_officers_logging_page_only(apps):
    app = apps["intake"]
    officer = app.extensions["tokens"].issue("bhabin", "officer", unit="polsek-cikande")
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, officer)
    page = client.get("/catat")
    assert page.status_code == 200
    assert_security_headers(page, "/catat", camera=True)
    assert_security_headers(client.get("/lokasi"), "/lokasi")
    assert "<script>" not in page.get_data(as_text=True)  # only src= and JSON data blocks


def test_hsts_only_over_tls_and_when_configured(make_settings):
    plain = create_followup(make_settings("followup")).test_client()
    assert (
        "Strict-Transport-Security"
        not in plain.get("/lacak", headers={"X-Forwarded-Proto": "https"}).headers
    )
    behind_tls = create_followup(make_settings("followup", hsts_max_age=31536000))
    client = behind_tls.test_client()
    assert client.get("/lacak").headers.get("Strict-Transport-Security") is None
    over_tls = client.get("/lacak", headers={"X-Forwarded-Proto": "https"})
    assert over_tls.headers["Strict-Transport-Security"] == "max-age=31536000"
    secure = client.get("/lacak", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_both_services_have_a_favicon(apps):
    for name, app in apps.items():
        icon = app.test_client().get("/favicon.ico")
        assert icon.status_code == 200, name
        assert icon.data[:4] == b"\x00\x00\x01\x00", name  # an ICO file
        page = app.test_client().get("/masuk")
        assert "favicon.svg" in page.get_data(as_text=True), name
