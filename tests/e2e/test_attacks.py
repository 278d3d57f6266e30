"""The attack suite of issue 23, over HTTP on the run path: scripts/run.sh is started (as
tests/e2e/test_run_path.py does), and the system is probed as an outsider and as staff of
the wrong unit or agency would probe it. Each test names the attack, how it is tried and
the answer it must get:

- stored and reflected XSS in every text field shown on a page; in Chromium, with the
  CSP in force, an inline script injected into a real page does not run (and does without
  the CSP: the check bites);
- CSRF on every form: no token, a token of another browser, a cross-site POST;
- open redirects through ``next=``;
- IDOR: an officer of another unit and a liaison of another agency on every route that
  takes an id, reading and acting on a confidential tawuran tip;
- session fixation: a planted session cookie is replaced at sign-in and never becomes
  the victim's;
- JWT tricks: alg none, an HS/RS swap, an expired token, a wrong issuer, an unknown kid;
- code enumeration: 1,000 random lookups from one address meet 429 after 10 misses;
  the right code answers 200 to any other address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection

import pytest

from shared.auth import Tokens
from shared.config import DEVELOPMENT_SECRET
from shared.tracking_code import new_tracking_code
from tests.e2e.test_run_path import (  # noqa: F401  (run_sh is a fixture)
    _demo_ids,
    _demo_password,
    _form_page,
    create_account,
    http,
    run_sh,
    sign_in,
)
from tests.support import wait_for

pytestmark = pytest.mark.e2e

ISSUER = "kawal-aspirasi"  # run.sh runs with the development secret and issuer
MARK = "__ka_pwned"
PAYLOADS = (
    f"<script>window.{MARK}=1</script>",
    f'<img src=x onerror="window.{MARK}=1">',
    f'"><svg onload="window.{MARK}=1">',
    f"'--></textarea><script>window.{MARK}=1</script>",
)
SECRET_TIP = "Rencana tawuran kelompok Gang Kenari Sabtu malam di jembatan"
REPORTER = "Ibu Sumiati Rahayu"


def _raw_payloads_in(text: str) -> list[str]:
    return [p for p in PAYLOADS if p in text]


@pytest.fixture(scope="module")
def world(run_sh):  # noqa: F811
    """Accounts of two units and two agencies, a hostile public aspiration of unit A and a
    confidential tawuran tip of unit A (both routed), and their case ids and codes."""
    base, intake = run_sh.followup, run_sh.intake
    password = _demo_password(run_sh.output)
    admin_cookie, _ = sign_in(base, "demo-admin", password)
    ids = _demo_ids()
    admin = _operator("probe-admin", "admin")
    meeting = http(
        "GET", f"{intake}/api/v1/meetings/{ids['meeting']}", headers=_bearer(admin)
    ).json()
    unit_a = meeting["unit"]
    people = {}
    for username, fields, new_password in (
        ("officer-a", {"role": "officer", "unit": unit_a}, "pasar-malam-cerah-41"),
        ("officer-b", {"role": "officer", "unit": "polsek-menteng"}, "sungai-bersih-jernih-52"),
        ("liaison-b", {"role": "liaison", "agency": "dishub-3275"}, "sawah-hijau-subur-63"),
    ):
        one_time = create_account(
            base, admin_cookie, username=username, display_name=username.title(), **fields
        )
        people[username] = sign_in(base, username, one_time, new_password=new_password)
    officer_a = people["officer-a"][1]

    public_id, tip_id = str(uuid.uuid4()), str(uuid.uuid4())
    items = [
        {
            "id": public_id,
            "category": "street_lighting",
            "summary": f"Lampu mati {PAYLOADS[0]}",
            "public_summary": f"Lampu jalan mati {PAYLOADS[1]}",
            "description": f"Gelap {PAYLOADS[2]}",
            "raised_by": {"name": f"{REPORTER} {PAYLOADS[3]}", "contact": "0812-7777-4242"},
        },
        {
            "id": tip_id,
            "category": "tawuran",
            "summary": SECRET_TIP,
            "description": f"Disampaikan {REPORTER}",
            "raised_by": {"name": REPORTER, "contact": "0812-1111-2222"},
            "confidential": True,
        },
    ]
    posted = http(
        "POST",
        f"{intake}/api/v1/meetings/{ids['meeting']}/aspirations",
        body={"aspirations": items},
        headers={**_bearer(officer_a), "Idempotency-Key": public_id},
    )
    assert posted.status == 201, posted.text
    codes = [item["tracking_code"] for item in posted.json()["items"]]
    for code in codes:
        wait_for(
            lambda code=code: http("GET", f"{base}/api/v1/track/{code}").status == 200,
            timeout=60,
            what="the aspirations to become cases",
        )
    supervisor = _bearer(_operator("probe-supervisor", "supervisor"))
    public_case = http("GET", f"{base}/api/v1/cases/case-{public_id}", headers=supervisor).json()
    tip_case = http("GET", f"{base}/api/v1/cases/case-{tip_id}", headers=supervisor).json()
    liaison_a = _operator("liaison-a", "liaison", agency=public_case["agency"]["id"])
    noted = http(
        "POST",
        f"{base}/api/v1/cases/case-{public_id}/acknowledge",
        body={},
        headers=_bearer(liaison_a),
    )
    assert noted.status == 200, noted.text
    noted = http(
        "POST",
        f"{base}/api/v1/cases/case-{public_id}/progress",
        body={"text": f"Tiang dipesan {PAYLOADS[0]}", "public": True},
        headers=_bearer(liaison_a),
    )
    assert noted.status == 200, noted.text
    return {
        "people": people,
        "admin_cookie": admin_cookie,
        "unit_a": unit_a,
        "public": {"id": f"case-{public_id}", "aspiration": public_id, "code": codes[0]},
        "tip": {
            "id": f"case-{tip_id}",
            "aspiration": tip_id,
            "code": codes[1],
            "version": tip_case["version"],
            "agency": tip_case["agency"]["id"],
        },
        "meeting": ids["meeting"],
        "liaison_a": liaison_a,
    }


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _operator(subject: str, role: str, **claims) -> str:
    if role in ("supervisor", "admin"):
        claims.setdefault("area", "national")  # headquarters: every unit's cases
    return Tokens(DEVELOPMENT_SECRET, ISSUER).issue(subject, role, **claims)


# --- XSS ----------------------------------------------------------------------------------


def test_stored_xss_is_escaped_on_every_page_that_shows_the_fields(run_sh, world):  # noqa: F811
    """Tried: markup in the summary, public summary, description, reporter name and a
    public progress note; every page showing them is fetched as the role that sees it.
    Answer: the markup is shown as text (escaped), never as markup."""
    base, code = run_sh.followup, world["public"]["code"]
    admin = {"Cookie": world["admin_cookie"]}
    pages = {
        f"{base}/lacak/{code}": {},
        f"{base}/lacak/{code}/cetak": {},
        f"{base}/kerja": admin,
        f"{base}/dasbor": admin,
        f"{base}/laporan?kode={code}": admin,
        f"{run_sh.intake}/lokasi": admin,
    }
    escaped = 0
    for url, headers in pages.items():
        response = http("GET", url, headers=headers)
        assert response.status == 200, url
        assert not _raw_payloads_in(response.text), url
        escaped += "&lt;script&gt;" in response.text or "&lt;img" in response.text
    assert escaped >= 2, "the stored markup is shown (escaped), so the check bites"


def test_reflected_xss_in_query_strings_and_paths_is_escaped(run_sh, world):  # noqa: F811
    """Tried: markup in ?kode=, ?next=, ?kelurahan=, ?lang= and in a tracking-code path.
    Answer: never echoed as markup (escaped, cut or refused)."""
    base = run_sh.followup
    admin = {"Cookie": world["admin_cookie"]}
    for payload in PAYLOADS:
        quoted = urllib.parse.quote(payload, safe="")
        for url, headers in (
            (f"{base}/lacak?kode={quoted}", {}),
            (f"{base}/masuk?next={quoted}", {}),
            (f"{base}/lacak?lang={quoted}", {}),
            (f"{base}/laporan?kelurahan={quoted}", admin),
            (f"{run_sh.intake}/masuk?next={quoted}", {}),
        ):
            response = http("GET", url, headers=headers)
            assert response.status < 500, url
            assert not _raw_payloads_in(response.text), url


def test_chromium_runs_no_stored_script_and_the_csp_stops_an_injected_one(
    run_sh,  # noqa: F811
    world,
    browser,
):
    """Tried: (1) the tracking page and the liaison's worklist with the stored markup, in
    Chromium; (2) the real tracking page with an inline script spliced into its HTML
    (as if escaping failed), served with the page's real headers; (3) the same without
    the CSP header. Answer: (1) and (2) run nothing (2 reports a CSP violation); (3)
    runs it, so the check bites."""
    base, code = run_sh.followup, world["public"]["code"]
    context = browser.new_context()
    session = world["admin_cookie"].split("ka_session=")[1]
    context.add_cookies([{"name": "ka_session", "value": session, "url": base}])
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in (f"/lacak/{code}", f"/lacak/{code}/cetak", "/kerja", f"/laporan?kode={code}"):
        page.goto(base + path)
        assert page.evaluate(f"window.{MARK}") is None, path
    assert not dialogs

    def spliced(keep_csp: bool):
        def handle(route):
            response = route.fetch()
            headers = dict(response.headers)
            if not keep_csp:
                headers.pop("content-security-policy", None)
            body = response.text().replace(
                "</main>", f"<script>window.{MARK}=1</script><p onclick=x>.</p></main>"
            )
            route.fulfill(response=response, body=body, headers=headers)

        return handle

    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    page.route(f"{base}/lacak/{code}", spliced(keep_csp=True))
    page.goto(f"{base}/lacak/{code}")
    assert page.evaluate(f"window.{MARK}") is None, "the CSP let an inline script run"
    assert violations, "Chromium reported the blocked inline script"
    page.unroute(f"{base}/lacak/{code}")
    page.route(f"{base}/lacak/{code}", spliced(keep_csp=False))
    page.goto(f"{base}/lacak/{code}")
    assert page.evaluate(f"window.{MARK}") == 1, "control: without the CSP it runs"
    context.close()


# --- CSRF ---------------------------------------------------------------------------------


def _page_posts(run_sh, world) -> list[tuple[str, str]]:  # noqa: F811
    """(service base, path) of every page form POST of both services, ids filled in."""
    values = {
        "case_id": world["public"]["id"],
        "action": "progress",
        "aspiration_id": world["public"]["aspiration"],
        "username": "officer-b",
        "change": "nonaktifkan",
        "token_id": "no-such-token",
        "code": world["public"]["code"],
        "meeting_id": world["meeting"],
        "photo_id": str(uuid.uuid4()),  # a photo the case does not hold
    }
    from followup_service.notifications.inbound import BLUEPRINT as WITHOUT_CSRF

    posts, without_csrf = [], set()
    for service, base in (("intake", run_sh.intake), ("followup", run_sh.followup)):
        for rule in _rules(service):
            if "POST" not in rule.methods or rule.rule.startswith(("/api/", "/open311/")):
                continue
            if rule.endpoint.startswith(f"{WITHOUT_CSRF}."):
                without_csrf.add(rule.rule)  # a mail client's or a provider's POST
                continue
            path = re.sub(
                r"<(?:[^>:]+:)?([^>]+)>",
                lambda m: values.get(m.group(1), "no-such-id"),  # a form added later
                rule.rule,
            )
            posts.append((base, path))
    # the only forms left without the check, each with its own credential: the URL's
    # unguessable token (RFC 8058 one-click), Meta's signature, the gateway's secret
    assert without_csrf == {
        "/kabar/<token>/berhenti",
        "/kabar/webhook/whatsapp",
        "/kabar/webhook/sms",
    }
    return posts


def _rules(service: str):
    from shared.config import Settings

    settings = Settings(service_name=service, database_url="postgresql+psycopg://x@127.0.0.1/x")
    if service == "intake":
        from intake_service.app import create_app
    else:
        from followup_service.app import create_app
    return list(create_app(settings).url_map.iter_rules())


def test_every_form_refuses_a_missing_or_foreign_csrf_token(run_sh, world):  # noqa: F811
    """Tried: every page form POST of both services, signed in as admin, with no token,
    with a token minted for another browser's CSRF cookie, and as a cross-site request
    (Origin of another site, no token). Answer: 400 every time, and nothing changes
    (the case's version stays)."""
    supervisor = _bearer(_operator("probe-supervisor", "supervisor"))
    before = http(
        "GET", f"{run_sh.followup}/api/v1/cases/{world['public']['id']}", headers=supervisor
    )
    _, foreign_token, _ = _form_page(f"{run_sh.followup}/masuk")  # another browser's
    posts = _page_posts(run_sh, world)
    assert len(posts) >= 14
    for base, path in posts:
        cookie = world["admin_cookie"]
        for form, extra in (
            ({}, {}),
            ({"csrf_token": foreign_token}, {}),
            ({}, {"Origin": "https://evil.example", "Referer": "https://evil.example/x"}),
        ):
            response = http(
                "POST",
                base + path,
                form={"text": "csrf", "username": "demo-admin", **form},
                headers={"Cookie": cookie, **extra},
            )
            assert response.status == 400, f"{path} {form or extra}: {response.status}"
    after = http(
        "GET", f"{run_sh.followup}/api/v1/cases/{world['public']['id']}", headers=supervisor
    )
    assert after.json()["version"] == before.json()["version"]


def test_a_cross_site_form_in_chromium_cannot_act_for_the_signed_in_liaison(
    run_sh,  # noqa: F811
    world,
    browser,
):
    """Tried: a page on another origin auto-submits a form to /kerja/<id>/progress and to
    /keluar in a browser where an admin is signed in. Answer: the session cookie is not
    sent cross-site (SameSite=Lax) and there is no token: nothing is recorded."""
    base = run_sh.followup
    supervisor = _bearer(_operator("probe-supervisor", "supervisor"))
    case_url = f"{base}/api/v1/cases/{world['public']['id']}"
    before = http("GET", case_url, headers=supervisor).json()["version"]
    context = browser.new_context()
    session = world["admin_cookie"].split("ka_session=")[1]
    context.add_cookies([{"name": "ka_session", "value": session, "url": base}])
    page = context.new_page()
    evil = "http://evil.test/"
    target = f"{base}/kerja/{world['public']['id']}/progress"
    page.route(
        evil,
        lambda route: route.fulfill(
            content_type="text/html",
            body=(
                f'<form id="f" method="post" action="{target}">'
                '<input name="text" value="dipalsukan"><input name="public" value="on">'
                '</form><script>document.getElementById("f").submit()</script>'
            ),
        ),
    )
    page.goto(evil)
    page.wait_for_load_state()
    assert http("GET", case_url, headers=supervisor).json()["version"] == before
    assert page.context.cookies(base), "the admin is still signed in (no logout by CSRF)"
    context.close()


# --- open redirects -----------------------------------------------------------------------

REDIRECTS = (
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "/\t/evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "http://127.0.0.1@evil.example/",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
)


def test_next_never_sends_a_signed_in_user_to_another_site(run_sh, world):  # noqa: F811
    """Tried: signing in at /masuk with each next= above (follow-up), and intake's /masuk
    with each (which sends the browser to follow-up's). Answer: the redirect stays on
    the service (a path) or goes to the trusted intake origin, never elsewhere."""
    base = run_sh.followup
    password = "sungai-bersih-jernih-52"
    allowed = (base, run_sh.intake)
    for target in REDIRECTS:
        _, csrf, cookie = _form_page(f"{base}/masuk")
        response = http(
            "POST",
            f"{base}/masuk",
            form={
                "username": "officer-b",
                "password": password,
                "csrf_token": csrf,
                "next": target,
            },
            headers={"Cookie": cookie},
        )
        assert response.status in (302, 303), target
        location = response.headers["Location"]
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(base + "/masuk", location))
        assert f"{parts.scheme}://{parts.netloc}" in allowed, f"{target!r} -> {location!r}"
        assert "evil" not in parts.netloc
        sent = http("GET", f"{run_sh.intake}/masuk?next={urllib.parse.quote(target)}")
        hop = urllib.parse.urlsplit(sent.headers.get("Location", ""))
        assert f"{hop.scheme}://{hop.netloc}" == base, target
        nxt = urllib.parse.parse_qs(hop.query).get("next", [run_sh.intake])[0]
        assert nxt.startswith(run_sh.intake + "/"), f"{target!r} -> {nxt!r}"


# --- IDOR ---------------------------------------------------------------------------------


def test_staff_of_another_unit_or_agency_can_neither_read_nor_act_on_a_tip(run_sh, world):  # noqa: F811
    """Tried: an officer of another unit (Polsek Menteng) and a liaison of another agency
    (Dishub Kota Bekasi), by bearer token and by page session, on every route that takes
    a case, aspiration or meeting id, with the confidential tawuran tip of unit A.
    Answer: 403 or 404 (or a page redirect with an error), never the tip's text or its
    reporter, and the case's version does not move."""
    base, intake = run_sh.followup, run_sh.intake
    tip = world["tip"]
    outsiders = {
        "officer-b": world["people"]["officer-b"],
        "liaison-b": world["people"]["liaison-b"],
    }
    case_posts = (
        "acknowledge", "assign", "close", "confirm", "decline", "dispute",
        "escalate", "progress", "reopen", "resolve", "split",
    )  # fmt: skip
    body = {
        "reason": "idor",
        "text": "idor",
        "public": True,
        "resolution": "idor",
        "agency_id": tip["agency"],
        "outcome": "no_further_action",
        "sub_cases": [
            {"category": "tawuran", "public_summary": "a"},
            {"category": "other", "public_summary": "b"},
        ],
        "changes": {"public_summary": "idor"},
        "count": 1,
        "backing_id": "idor",
    }
    tried = 0
    for name, (cookie, token) in outsiders.items():
        for auth in (_bearer(token), {"Cookie": cookie}):
            reads = [
                f"{base}/api/v1/cases/{tip['id']}",
                f"{intake}/api/v1/aspirations/{tip['aspiration']}",
                f"{intake}/api/v1/aspirations/{tip['aspiration']}/history",
            ]
            for url in reads:
                response = http("GET", url, headers=auth)
                tried += 1
                assert response.status in (200, 401, 403, 404), f"{name} GET {url}"
                assert SECRET_TIP not in response.text and REPORTER not in response.text
            meeting = http("GET", f"{intake}/api/v1/meetings/{world['meeting']}", headers=auth)
            assert SECRET_TIP not in meeting.text and REPORTER not in meeting.text, name
            writes = [f"{base}/api/v1/cases/{tip['id']}/{c}" for c in case_posts]
            writes += [
                f"{intake}/api/v1/aspirations/{tip['aspiration']}/{c}"
                for c in ("amendments", "backing", "withdrawal")
            ]
            for url in writes:
                response = http(
                    "POST", url, body=body, headers={**auth, "Idempotency-Key": uuid.uuid4().hex}
                )
                tried += 1
                assert response.status in (401, 403, 404, 422), (
                    f"{name} POST {url}: {response.status}"
                )
                assert SECRET_TIP not in response.text
        # the page forms, with a valid CSRF token: the API behind them refuses
        for action in ("acknowledge", "progress", "resolve", "decline", "confirm", "dispute"):
            _, csrf, page_cookie = _form_page(f"{base}/akun/kata-sandi", cookie)
            response = http(
                "POST",
                f"{base}/kerja/{tip['id']}/{action}",
                form={"csrf_token": csrf, "text": "idor", "code": tip["code"]},
                headers={"Cookie": page_cookie},
            )
            tried += 1
            assert response.status in (302, 303, 403, 404), f"{name} /kerja {action}"
            assert "ok=" not in response.headers.get("Location", ""), f"{name} /kerja {action}"
        _, csrf, page_cookie = _form_page(
            f"{base}/akun/kata-sandi", cookie
        )  # one cookie jar per host
        response = http(
            "POST",
            f"{intake}/lokasi/{tip['aspiration']}",
            form={"csrf_token": csrf, "region_code": "31.71.06.1001"},
            headers={"Cookie": page_cookie},
        )
        tried += 1
        assert response.status in (302, 303, 400, 403, 404), f"{name} /lokasi"
    supervisor = _bearer(_operator("probe-supervisor", "supervisor"))
    after = http("GET", f"{base}/api/v1/cases/{tip['id']}", headers=supervisor).json()
    assert after["version"] == tip["version"] and after["status"] == "routed"
    print(f"IDOR: {tried} attempts, none read or changed the tip")


def test_a_liaison_cannot_act_on_another_agencys_public_case(run_sh, world):  # noqa: F811
    """Tried: the liaison of another agency notes progress on and resolves a public case
    by id. Answer: 403; the case does not move."""
    base = run_sh.followup
    _, token = world["people"]["liaison-b"]
    case_url = f"{base}/api/v1/cases/{world['public']['id']}"
    supervisor = _bearer(_operator("probe-supervisor", "supervisor"))
    before = http("GET", case_url, headers=supervisor).json()["version"]
    for command, body in (
        ("progress", {"text": "x", "public": True}),
        ("resolve", {"resolution": "x"}),
    ):
        response = http("POST", f"{case_url}/{command}", body=body, headers=_bearer(token))
        assert response.status == 403, (command, response.status)
    assert http("GET", case_url, headers=supervisor).json()["version"] == before


# --- session fixation ---------------------------------------------------------------------


def test_a_planted_session_cookie_never_becomes_the_victims_session(run_sh, world):  # noqa: F811
    """Tried: (1) an attacker-chosen value planted as ka_session before the victim signs
    in; (2) the attacker's own valid session planted likewise. Answer: signing in sets a
    new session token, the planted one is not it; (1) is no session at all and (2) stays
    the attacker's (liaison-b), never the victim's."""
    base = run_sh.followup
    attacker_cookie, attacker_token = world["people"]["liaison-b"]
    for planted in ("attacker-chosen-session-id", attacker_token):
        _, csrf, cookie = _form_page(f"{base}/masuk", f"ka_session={planted}")
        response = http(
            "POST",
            f"{base}/masuk",
            form={
                "username": "officer-b",
                "password": "sungai-bersih-jernih-52",
                "csrf_token": csrf,
            },
            headers={"Cookie": cookie},
        )
        issued = re.search(r"ka_session=([^;]*)", " ".join(response.set_cookies))
        assert issued and issued.group(1) not in ("", planted)
        victim = http("GET", f"{base}/kerja", headers={"Cookie": f"ka_session={issued.group(1)}"})
        assert victim.status == 200 and "officer-b" in victim.text.lower()
        planted_now = http("GET", f"{base}/kerja", headers={"Cookie": f"ka_session={planted}"})
        if planted == attacker_token:
            assert planted_now.status == 200 and "Officer-B" not in planted_now.text
        else:
            assert planted_now.status in (302, 303)
    # and a session ended by signing out is refused afterwards
    _, csrf, cookie = _form_page(f"{base}/akun/kata-sandi", attacker_cookie)
    http("POST", f"{base}/keluar", form={"csrf_token": csrf}, headers={"Cookie": cookie})
    assert http("GET", f"{base}/kerja", headers={"Cookie": attacker_cookie}).status in (302, 303)
    assert http("GET", f"{base}/api/v1/cases", headers=_bearer(attacker_token)).status == 401


# --- JWT tricks ---------------------------------------------------------------------------


def _b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(**overrides) -> dict:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": "probe-jwt",
        "role": "supervisor",
        "jti": uuid.uuid4().hex,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    claims.update(overrides)
    return claims


def _hs256(header: dict, claims: dict, key: bytes) -> str:
    signing = f"{_b64(header)}.{_b64(claims)}"
    signature = hmac.new(key, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{_b64(signature)}"


def test_forged_and_stale_tokens_are_refused_by_both_apis_and_the_pages(run_sh, world):  # noqa: F811
    """Tried, as a supervisor's bearer token on both APIs and as a page session cookie:
    alg none; alg RS256 with a made-up signature; HS256 keyed with an "RSA public key"
    (the HS/RS swap); HS512 with the right key; an expired token; a wrong issuer; an
    unknown kid; no kid with a wrong key. A correctly signed token is the control.
    Answer: 401 on the APIs (a redirect to sign in on pages) for every trick; 200 for
    the control."""
    secret = DEVELOPMENT_SECRET.encode()
    kid = Tokens(DEVELOPMENT_SECRET, ISSUER).kid
    good = {"alg": "HS256", "typ": "JWT", "kid": kid}
    public_pem = (  # what an attacker would try as the HMAC key in an RS->HS swap
        b"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
        b"-----END PUBLIC KEY-----\n"
    )
    tricks = {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
        "alg None, kid": f"{_b64({'alg': 'None', 'kid': kid})}.{_b64(_claims())}.",
        "RS256 made up": (
            f"{_b64({'alg': 'RS256', 'kid': kid})}.{_b64(_claims())}.{_b64(b'x' * 256)}"
        ),
        "HS/RS swap": _hs256({"alg": "HS256", "kid": kid}, _claims(), public_pem),
        "HS512": _hs512(good, _claims(), secret),
        "expired": _hs256(good, _claims(exp=int(datetime.now(UTC).timestamp()) - 60), secret),
        "wrong issuer": _hs256(good, _claims(iss="someone-else"), secret),
        "unknown kid": _hs256({**good, "kid": "k-unknown"}, _claims(), secret),
        "no kid, wrong key": _hs256({"alg": "HS256"}, _claims(), b"guessed-secret"),
        "no exp": _hs256(good, {k: v for k, v in _claims().items() if k != "exp"}, secret),
    }
    control = _hs256(good, _claims(), secret)
    assert http("GET", f"{run_sh.followup}/api/v1/cases", headers=_bearer(control)).status == 200
    for name, token in tricks.items():
        for url in (f"{run_sh.followup}/api/v1/cases", f"{run_sh.intake}/api/v1/aspirations"):
            response = http("GET", url, headers=_bearer(token))
            assert response.status == 401, f"{name} {url}: {response.status}"
        page = http("GET", f"{run_sh.followup}/dasbor", headers={"Cookie": f"ka_session={token}"})
        assert page.status in (302, 303), f"{name} as a page session: {page.status}"


def _hs512(header: dict, claims: dict, key: bytes) -> str:
    header = {**header, "alg": "HS512"}
    signing = f"{_b64(header)}.{_b64(claims)}"
    return f"{signing}.{_b64(hmac.new(key, signing.encode(), hashlib.sha512).digest())}"


# --- code enumeration (last: it spends this address's miss allowance) ---------------------


def _get_from(address: str, port: int, path: str) -> tuple[int, dict]:
    connection = HTTPConnection("127.0.0.1", port, timeout=30, source_address=(address, 0))
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


def test_zz_a_thousand_random_lookups_meet_429s_while_the_right_code_answers(run_sh, world):  # noqa: F811
    """Tried: 1,000 random codes on GET /api/v1/track/<code> from one address (127.0.0.3),
    then the right code from it and from another address (127.0.0.4), and /lacak/<code>.
    Answer: 404 for the first 10, then 429 with Retry-After for every one after; the
    right code answers 429 to the blocked address (answering it would tell a harvester
    which guess was right) and 200 to every other address, on the API and the page."""
    port = run_sh.ports["FOLLOWUP_PORT"]
    code = world["public"]["code"]
    started = datetime.now(UTC)
    answers = [
        _get_from("127.0.0.3", port, f"/api/v1/track/{new_tracking_code()}") for _ in range(1000)
    ]
    seconds = (datetime.now(UTC) - started).total_seconds()
    statuses = [status for status, _ in answers]
    first = statuses.index(429)
    assert statuses[:first] == [404] * first and first == 10
    assert set(statuses[first:]) == {429}
    assert int(answers[-1][1]["Retry-After"]) > 0
    assert _get_from("127.0.0.3", port, f"/api/v1/track/{code}")[0] == 429
    assert _get_from("127.0.0.4", port, f"/api/v1/track/{code}")[0] == 200
    assert _get_from("127.0.0.4", port, f"/lacak/{code}")[0] == 200
    print(f"enumeration: 1,000 lookups in {seconds:.1f} s: {first} x 404, {1000 - first} x 429")
