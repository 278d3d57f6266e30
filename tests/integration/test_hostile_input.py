"""Hostile bodies at every write endpoint of both services: never a 5xx, never a trace.

The endpoints come from the apps' url_maps (every rule with POST, PUT, PATCH or DELETE),
so a new endpoint is fuzzed without touching this file; path parameters get real ids
and requests carry a valid token (or page session + CSRF token) of a role allowed to
write. Bodies are mostly invalid on purpose: a valid skeleton with one value replaced by
a hostile one, random JSON, and raw bytes no JSON library should accept. Each answer must
be a 4xx with a JSON error (pages: an HTML error or a redirect back), or a success, and a
refused request must leave every table of both databases exactly as it found it.

The counts per endpoint are printed (-s) and written to .local/hostile-input-summary.json.
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from collections import Counter, defaultdict
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.serving import make_server

from followup_service.pages.staff import ACTIONS
from followup_service.tables import metadata as followup_tables
from intake_service.app import create_app as create_intake
from intake_service.tables import metadata as intake_tables
from shared.pages import csrf
from shared.pages.session import COOKIE as SESSION_COOKIE
from tests.integration.followup.conftest import Service, aspiration_recorded
from tests.integration.intake.conftest import UNIT, aspiration_body, meeting_body
from tests.support import REPO_ROOT, make_account

pytestmark = pytest.mark.integration

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
EXAMPLES_PER_ENDPOINT = 40  # generated bodies, on top of the fixed corpus below
CORPUS_TEXTS = ["abc\ud800", "a\x00b", " \t\n ", "x" * 20_000]
SUMMARY_PATH = os.path.join(REPO_ROOT, ".local", "hostile-input-summary.json")
SEED_CSRF = "hostile-input-csrf-seed"

# --- hostile values ----------------------------------------------------------------------

NASTY_STRINGS = [
    "abc\ud800",
    "\udfff",
    "a\x00b",
    "\x00",
    "",
    "   ",
    "\t\n\r",
    "\u200b\ufeff",
    "\x1b[31mred",
    "\x85next line",
    "\u202egnp.exe",
    "e\u0301\u0301\u0301",
    "😀" * 2000,
    "x" * 5001,
    "x" * 300_000,  # beyond MAX_BODY_BYTES: a 413
    "<script>alert(1)</script>",
    "'; DROP TABLE events; --",
    "%s%n%x",
    "../../etc/passwd",
    "00000000-0000-0000-0000-000000000000",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "KA-0000-00",
]
NASTY_VALUES = [
    10**400,
    -(10**400),
    2**63,
    -(2**63) - 1,
    2**31,
    -1,
    0,
    float("nan"),
    float("inf"),
    -float("inf"),
    1e308,
    -0.0,
    True,
    False,
    None,
    [],
    {},
    [None] * 1000,
    {"$ne": 1},
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
]
RAW_BODIES = [
    b"",
    b"{oops",
    b"null",
    b"[]",
    b'"just a string"',
    b"[" * 10_000 + b"]" * 10_000,
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e400}',
    b'{"a": ' + str(10**400).encode() + b"}",
    b'{"a": ' + b"9" * 5000 + b"}",
    b'{"a": "\xff\xfe"}',
    b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 (CESU)
    b'\xef\xbb\xbf{"a": 1}',
    b'{"a": 1, "a": 2}',
    b"\x00" * 64,
    b'{"a": "' + b"x" * 300_000 + b'"}',  # beyond MAX_BODY_BYTES: a 413
]

any_text = st.text(st.characters(exclude_categories=()), max_size=60)
hostile_scalar = st.one_of(
    st.sampled_from(NASTY_STRINGS),
    st.sampled_from(NASTY_VALUES),
    any_text,
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)
random_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | any_text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            any_text | st.sampled_from(["id", "reason", "text"]), children, max_size=4
        )
    ),
    max_leaves=12,
)


def _paths(value, prefix=()):
    """Every place inside a skeleton where a value can be replaced."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _replaced(skeleton, path, value):
    if not path:
        return value
    body = copy.deepcopy(skeleton)
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return body


def json_corpus(skeleton) -> list[bytes]:
    """Tried at every JSON endpoint: each raw body, and each skeleton leaf made hostile."""
    leaves = [p for p in _paths(skeleton) if p and not isinstance(_at(skeleton, p), dict | list)]
    bodies = [_replaced(skeleton, path, text) for path in leaves for text in CORPUS_TEXTS]
    return RAW_BODIES + [json.dumps(body).encode() for body in bodies]


def form_corpus(skeleton: dict) -> list[dict]:
    texts = [t for t in CORPUS_TEXTS if _encodable(t)] + ["\x1b", "\x00"]
    return [{**skeleton, key: text} for key in sorted(skeleton) for text in texts]


def _at(value, path):
    for step in path:
        value = value[step]
    return value


def json_bodies(skeleton) -> st.SearchStrategy:
    """Bytes to send as application/json, biased towards invalid-in-one-place bodies."""
    paths = list(_paths(skeleton))
    one_replaced = st.builds(_replaced, st.just(skeleton), st.sampled_from(paths), hostile_scalar)
    extra_key = st.builds(
        lambda key, value: {**skeleton, key: value} if isinstance(skeleton, dict) else value,
        any_text,
        hostile_scalar,
    )
    as_json = st.one_of(one_replaced, one_replaced, one_replaced, extra_key, random_json).map(
        lambda body: json.dumps(body, allow_nan=True).encode()
    )
    return st.one_of(as_json, as_json, as_json, st.sampled_from(RAW_BODIES))


def _encodable(text: str) -> bool:
    """Form fields travel URL-encoded as UTF-8, which cannot carry a lone surrogate."""
    return not any("\ud800" <= char <= "\udfff" for char in text)


def form_bodies(skeleton: dict) -> st.SearchStrategy:
    """Form fields for page endpoints: the skeleton with one field made hostile."""
    text = st.one_of(st.sampled_from([s for s in NASTY_STRINGS if len(s) < 10_000]), any_text)
    return st.builds(
        lambda key, value: {**skeleton, key: value},
        st.sampled_from(sorted(skeleton) or ["field"]),
        text.filter(_encodable),
    )


# --- the two systems, with real ids ------------------------------------------------------


class Systems:
    def __init__(self, make_settings):
        self.intake_app = create_intake(make_settings("intake"))
        # intake over HTTP too: follow-up passes Open311 POSTs on to it, as under run.sh
        self.intake_server = make_server("127.0.0.1", 0, self.intake_app, threaded=True)
        threading.Thread(target=self.intake_server.serve_forever, daemon=True).start()
        intake_url = f"http://127.0.0.1:{self.intake_server.server_port}"
        self.followup = Service(make_settings("followup", intake_url=intake_url))
        self.followup.app.config["DISPUTE_RATE_LIMIT"] = (10**9, 3600)
        for app in (self.intake_app, self.followup.app):
            app.extensions["page_limiter"].enabled = False
        self.engines = [
            (self.intake_app.extensions["intake"].engine, intake_tables),
            (self.followup.fu.engine, followup_tables),
        ]
        tokens = self.intake_app.extensions["tokens"]
        self.officer = tokens.issue("fuzz-officer", "officer", unit=UNIT)
        self.open311_key = tokens.issue_integration("f" * 32, None, "Fuzz app", purpose="open311")
        # a supervisor of the officer's unit: manages that unit's officer accounts too
        self.supervisor = self.followup.tokens.issue("fuzz-supervisor", "supervisor", unit=UNIT)
        make_account(self.followup.app, "fuzz-akun", "officer", unit=UNIT)

        client = self.intake_app.test_client()
        auth = {"Authorization": f"Bearer {self.officer}"}
        meeting = client.post("/api/v1/meetings", json=meeting_body(), headers=auth).json["id"]
        aspiration = client.post(
            f"/api/v1/meetings/{meeting}/aspirations",
            json={"aspirations": [aspiration_body()]},
            headers=auth,
        ).json["items"][0]
        case_id = self.followup.record(aspiration_recorded())
        case = self.followup.client.get(
            f"/api/v1/cases/{case_id}", headers=self.followup.supervisor
        ).json
        self.ids = {
            "meeting_id": meeting,
            "aspiration_id": aspiration["id"],
            "case_id": case_id,
            "code": case["tracking_code"],
            "agency": case["agency"]["id"],
            "username": "fuzz-akun",
            "token_id": "0" * 32,
            "confirmation_id": "0" * 32,  # a subscription's one-time code (issue 24)
            "token": "no-such-token",  # an e-mailed link's token (issue 24)
            "change": "nonaktifkan",
            "open311_key": self.open311_key,
            "photo_id": "3f0c8a52-6f1e-4b8e-9a55-2d0f4c1b7e21",  # a photo no case holds
        }

    def row_counts(self) -> tuple[int, ...]:
        counts = []
        for engine, tables in self.engines:
            with engine.connect() as conn:
                for table in tables.sorted_tables:
                    counts.append(conn.execute(select(func.count()).select_from(table)).scalar())
        return tuple(counts)


def skeletons(ids: dict) -> dict[str, object]:
    """A valid body per endpoint (by Flask endpoint name); unknown endpoints get {}."""
    reason = {"reason": "Alasan yang cukup jelas"}
    aspiration = {k: v for k, v in aspiration_body().items() if k != "id"}
    open311_request = {
        "api_key": ids["open311_key"],
        "service_code": "road_damage",
        "address_string": "Jl. Raya, Kel. Pekayon Jaya, Kec. Bekasi Selatan, Kota Bekasi",
        "description": "Jalan berlubang di depan sekolah",
        "attribute[damage_size]": "medium",
        "email": "warga@example.org",
    }
    return {
        "open311_intake.create_request": open311_request,
        "open311.requests_create": open311_request,
        "intake_api.record_meeting": {k: v for k, v in meeting_body().items() if k != "id"},
        "intake_api.record_batch": {"aspirations": [aspiration]},
        "intake_api.record_aspiration": {**aspiration, "kelurahan": "Pekayon Jaya"},
        "intake_api.back_aspiration": {"count": 3, "groups": ["RW 18"], "note": "ikut"},
        "intake_api.amend_aspiration": {
            "changes": {"summary": "PJU mati dua titik", "location": {"kelurahan": "Jaka"}},
            "reason": "Salah ketik",
        },
        "intake_api.withdraw_aspiration": {"reason": "recorded_by_mistake", "note": "keliru"},
        "intake_pages.forward_meeting": {k: v for k, v in meeting_body().items() if k != "id"},
        "intake_pages.forward_batch": {"aspirations": [aspiration]},
        "followup_api.assign_case": {"agency_id": ids["agency"], **reason},
        "followup_api.acknowledge_case": {"expected_version": 1},
        "followup_api.note_progress": {"text": "Sedang dikerjakan", "public": True},
        "followup_api.escalate_case": reason,
        "followup_api.decline_case": reason,
        "followup_api.resolve_case": {"resolution": "Sudah diperbaiki", "evidence_ref": "f-1"},
        "followup_api.confirm_resolution": {"photo_ref": "foto-1"},
        "followup_api.dispute_resolution": reason,
        "followup_api.reopen_case": reason,
        "followup_api.close_case": {"outcome": "duplicate", "duplicate_of": "case-x", **reason},
        "followup_api.split_case": {
            "sub_cases": [
                {"category": "street_lighting", "public_summary": "Lampu"},
                {"category": "road_damage", "public_summary": "Jalan"},
            ]
        },
        "followup_public_api.community_dispute": reason,
        # pages posting forms
        "ka_pages.login": {"username": "fuzz-akun", "password": "salah", "next": "/kerja"},
        "ka_pages.finish_password_reset": {
            "ticket": "x",
            "new_password": "jalan-mulus-7",
            "new_password2": "jalan-mulus-7",
        },
        "ka_pages.change_password": {
            "current_password": "x",
            "new_password": "jalan-mulus-7",
            "new_password2": "jalan-mulus-7",
        },
        "ka_pages.logout": {},
        "followup_admin.create_account": {
            "username": "fuzz-baru",
            "display_name": "Baru",
            "role": "officer",
            "unit": "polsek-cikande",
        },
        "followup_admin.change_account": {
            "display_name": "Fuzz",
            "role": "officer",
            "unit": "polsek-cikande",
        },
        "followup_admin.create_integration": {"name": "SIPD", "agency": "pln-up3"},
        "followup_staff.act": {"version": "1", "text": "Dikerjakan", "public": "on", "code": "K"},
        "followup_tracking.dispute": {"reason": "Belum beres"},
        # removing a photo (issue 25): JSON {reason} on the API, a form on /kerja
        "followup_photos_api.delete_photo_route": {"reason": "Permintaan penghapusan"},
        "followup_photos_api.remove_photo_route": {"reason": "Permintaan penghapusan"},
        "followup_photo_pages.remove_photo": {"reason": "Permintaan penghapusan", "code": "K"},
    }


def write_targets(app, ids: dict) -> list[tuple[str, str, str]]:
    """(endpoint, method, concrete URL) for every write rule; path parameters filled in."""
    choices = {
        **{k: [v] for k, v in ids.items()},
        "action": sorted(ACTIONS),
        "fmt": ["json", "xml"],
    }
    targets = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & WRITE_METHODS):
            missing = set(rule.arguments) - set(choices)
            assert not missing, f"teach this test a value for {missing} in {rule.rule}"
            fills = [{}]
            for name in sorted(rule.arguments):
                fills = [{**f, name: v} for f in fills for v in choices[name]]
            for fill in fills:
                url = rule.rule
                for name, value in fill.items():  # <name>, <uuid:name>, <any(a, b):name>
                    url = re.sub(rf"<(?:[^<>]*:)?{name}>", value, url)
                assert "<" not in url, f"a path parameter left unfilled: {url}"
                targets.append((rule.endpoint, method, url))
    return targets


def _is_json_endpoint(url: str) -> bool:
    return "/api/" in url


def _accepted(response) -> bool:
    """A success: 2xx, or a page redirect that reports success."""
    if 200 <= response.status_code < 300:
        return True
    if 300 <= response.status_code < 400:
        query = parse_qs(urlsplit(response.headers.get("Location", "")).query)
        return "ok" in query or query.get("bantah") == ["ok"]
    return False


@pytest.fixture
def systems(make_settings):
    systems = Systems(make_settings)
    yield systems
    systems.intake_server.shutdown()


class Fuzz:
    """Sends bodies to one service's write endpoints and keeps the tally and the problems."""

    def __init__(self, systems: Systems):
        self.systems = systems
        self.tally: dict[str, Counter] = defaultdict(Counter)
        self.problems: list[str] = []

    def client_for(self, app, token: str):
        """A fresh client per endpoint (POST /keluar drops the session of the one it used)."""
        client = app.test_client()
        with app.test_request_context(headers={"Cookie": f"{csrf.COOKIE}={SEED_CSRF}"}):
            csrf_header = csrf.csrf_token()
        client.set_cookie(csrf.COOKIE, SEED_CSRF)
        client.set_cookie(SESSION_COOKIE, token)
        headers = {"Authorization": f"Bearer {token}", "X-CSRF-Token": csrf_header}
        return client, headers

    def send(self, client, headers, label: str, method: str, url: str, body) -> None:
        is_json = _is_json_endpoint(url)
        before = self.systems.row_counts()
        if is_json:
            kind = {"content_type": "application/json"}
            response = client.open(url, method=method, data=body, headers=headers, **kind)
        else:
            response = client.open(url, method=method, data=body, headers=headers)
        counts, status = self.tally[label], response.status_code
        counts["requests"] += 1
        if status >= 500:
            counts["server_errors"] += 1
            self.problems.append(f"{label}: {status} for {body!r:.300}")
            return
        if _accepted(response):
            counts["accepted"] += 1
            return
        counts["refused"] += 1
        counts[f"status_{status}"] += 1
        if urlsplit(response.headers.get("Location", "")).path == "/masuk" and "/keluar" not in url:
            self.problems.append(f"{label}: sent to the login page; the fuzz never got past it")
        if is_json and not (400 <= status < 500 and response.is_json):
            self.problems.append(f"{label}: {status} without a JSON error for {body!r:.300}")
        if self.systems.row_counts() != before:
            self.problems.append(f"{label}: refused ({status}) but rows changed: {body!r:.300}")

    def endpoint(self, app, token, label: str, method: str, url: str, skeleton) -> None:
        client, headers = self.client_for(app, token)
        is_json = _is_json_endpoint(url)
        for body in json_corpus(skeleton) if is_json else form_corpus(skeleton):
            self.send(client, headers, label, method, url, body)
        strategy = json_bodies(skeleton) if is_json else form_bodies(skeleton)

        @settings(
            max_examples=EXAMPLES_PER_ENDPOINT,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(body=strategy)
        def probe(body):
            self.send(client, headers, label, method, url, body)

        probe()


def test_no_write_endpoint_answers_a_server_error_or_keeps_a_refused_request(systems):
    fuzz = Fuzz(systems)
    apps = {
        "intake": (systems.intake_app, systems.officer),
        "followup": (systems.followup.app, systems.supervisor),
    }
    bodies = skeletons(systems.ids)
    for service, (app, token) in apps.items():
        for endpoint, method, url in write_targets(app, systems.ids):
            label = f"{service} {method} {url}"
            fuzz.endpoint(app, token, label, method, url, bodies.get(endpoint, {}))

    _report(fuzz.tally)
    assert not fuzz.problems, "\n".join(fuzz.problems[:40])
    for label, counts in fuzz.tally.items():
        # the fuzz reached field validation, not only the JSON parser or the auth check
        # (photo uploads take multipart, not JSON: their bad uploads are tests/integration/
        # photos/, here they must only never fail or keep anything)
        multipart = label.endswith("/photos")
        if "/api/" in label and not multipart and "status_422" not in counts:
            fuzz.problems.append(f"{label}: no 422 among {dict(counts)}")
    assert not fuzz.problems, "\n".join(fuzz.problems)


def _report(tally: dict[str, Counter]) -> None:
    total = sum(c["requests"] for c in tally.values())
    errors = sum(c["server_errors"] for c in tally.values())
    summary = {
        "endpoints": len(tally),
        "requests": total,
        "server_errors": errors,
        "accepted": sum(c["accepted"] for c in tally.values()),
        "per_endpoint": {label: dict(counts) for label, counts in sorted(tally.items())},
    }
    os.makedirs(os.path.dirname(SUMMARY_PATH), exist_ok=True)
    with open(SUMMARY_PATH, "w") as out:
        json.dump(summary, out, indent=2)
    print(f"\nhostile input: {total} requests to {len(tally)} write endpoints, {errors} 5xx")
    for label, counts in sorted(tally.items()):
        print(f"  {label}: {dict(counts)}")


QUERY_NAMES = [
    "page",
    "per_page",
    "unit",
    "kelurahan",
    "category",
    "status",
    "agency",
    "overdue",
    "from",
    "to",
    "opened_from",
    "opened_to",
    "kind",
    "meeting_id",
    "oldest",
    "lang",
    "kode",
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "next",
]
QUERY_VALUES = [
    "a\x00b",
    "%00",
    "\x1b",
    "",
    " ",
    "-1",
    "0",
    "10" * 12,
    "9" * 400,
    "1e400",
    "nan",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "99999-01-01",
    "\ufeff",
    "x" * 5000,
]

ONE_AT_A_TIME = ["a\x00b", "10" * 12, "x" * 5000]


def test_no_read_endpoint_answers_a_server_error_for_hostile_query_strings(systems):
    """Every GET rule of both url_maps, with each hostile value in every known parameter,
    and with a NUL in each path parameter."""
    apps = {
        "intake": (systems.intake_app, systems.officer),
        "followup": (systems.followup.app, systems.supervisor),
    }
    ids = {**systems.ids, "filename": "style.css", "lang": "id"}
    tried, problems = 0, []
    for app, token in apps.values():
        client, headers = Fuzz(systems).client_for(app, token)
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.rule.startswith("/static"):
                continue
            variants = [dict(ids)] + [{**ids, name: "a\x00b"} for name in rule.arguments]
            for fill in variants:
                path = rule.rule
                for name in rule.arguments:
                    path = re.sub(rf"<(?:[a-z]+:)?{name}>", fill.get(name, "x"), path)
                queries = [{name: value for name in QUERY_NAMES} for value in QUERY_VALUES]
                queries += [{name: value} for name in QUERY_NAMES for value in ONE_AT_A_TIME]
                for query in queries:
                    response = client.get(path, query_string=query, headers=headers)
                    response.close()  # streamed answers (the CSV export) end their context
                    tried += 1
                    if response.status_code >= 500:
                        problems.append(f"GET {path} {query!r:.80}: {response.status_code}")
    print(f"\nhostile query strings: {tried} GET requests, {len(problems)} 5xx")
    with open(SUMMARY_PATH.replace("summary", "query-summary"), "w") as out:
        json.dump({"get_requests": tried, "server_errors": len(problems)}, out)
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize(
    "held_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00"]
)
def test_a_meeting_time_at_the_calendar_edges_never_breaks_a_later_read(systems, held_at):
    client = systems.intake_app.test_client()
    auth = {"Authorization": f"Bearer {systems.officer}"}
    response = client.post("/api/v1/meetings", json=meeting_body(held_at=held_at), headers=auth)
    assert response.status_code < 500
    for path in ("/api/v1/meetings", "/api/v1/aspirations"):
        assert client.get(path, headers=auth).status_code == 200
