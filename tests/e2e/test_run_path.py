"""The newcomer: starts scripts/run.sh itself, uses what it started as every kind of user,
then stops it with Ctrl-C (SIGINT) and checks that nothing it started is left behind.

What run.sh starts is what this proves: its own PostgreSQL, Kafka and Redis (on free
ports, data in a temporary folder), both APIs under gunicorn, both relays, the consumer,
the deadline worker and the demo data. The sweep requests every GET route of both
services' url_maps, with real ids filled in, as each role with a bearer token and with a
page session cookie obtained by signing in at /masuk.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from shared.auth import Tokens
from shared.config import Settings
from tests.support import REPO_ROOT, wait_for

pytestmark = pytest.mark.e2e

READY_LINE = "Kawal Aspirasi is running."
XSS = "<script>alert('ka')</script>"
REPORTER_NAME = "Ibu Sumiati Rahayu"
REPORTER_CONTACT = "0812-7777-4242"
ROLES = ("anonymous", "officer", "liaison", "supervisor", "admin")


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http(method: str, url: str, *, body=None, headers=None, form=None) -> Response:
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _OPENER.open(request, timeout=30) as resp:
            return Response(resp.status, resp.read(), dict(resp.headers))
    except urllib.error.HTTPError as err:
        return Response(err.code, err.read(), dict(err.headers))


def _cookie(headers_list, name: str) -> str | None:
    for value in headers_list:
        match = re.match(rf"{name}=([^;]*)", value)
        if match:
            return match.group(1)
    return None


def page_session(base: str, token: str) -> str:
    """Sign in at /masuk as a person would (CSRF cookie + form) and return the Cookie header."""
    request = urllib.request.Request(f"{base}/masuk")
    with _OPENER.open(request, timeout=30) as resp:
        csrf_cookie = _cookie(resp.headers.get_all("Set-Cookie") or [], "ka_csrf")
        form_token = re.search(r'name="csrf_token" value="([^"]+)"', resp.read().decode())
    assert csrf_cookie and form_token, "the sign-in page carries a CSRF token"
    request = urllib.request.Request(
        f"{base}/masuk",
        method="POST",
        data=urllib.parse.urlencode({"token": token, "csrf_token": form_token.group(1)}).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"ka_csrf={csrf_cookie}",
        },
    )
    try:
        _OPENER.open(request, timeout=30)
        raise AssertionError("signing in should redirect")
    except urllib.error.HTTPError as err:
        assert err.code in (302, 303), err.read()
        session = _cookie(err.headers.get_all("Set-Cookie") or [], "ka_session")
    assert session, "signing in sets the session cookie"
    return f"ka_csrf={csrf_cookie}; ka_session={session}"


@dataclass
class RunningSystem:
    process: subprocess.Popen
    ports: dict[str, int]
    intake: str
    followup: str
    output: list[str]


@pytest.fixture(scope="module")
def run_sh(tmp_path_factory, stack_env):
    names = ("INTAKE_PORT", "FOLLOWUP_PORT", "KAFKA_PORT", "KAFKA_CONTROLLER_PORT")
    names += ("REDIS_PORT", "PG_PORT")
    ports = dict(zip(names, _free_ports(len(names)), strict=True))
    data = tmp_path_factory.mktemp("run-sh")
    os.chmod(data, 0o755)  # the postgres user must reach its data folder
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith(("DATABASE_URL", "_DATA_DIR"))
        and key not in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "TOPIC_PREFIX", "REDIS_KEY_PREFIX")
    }
    env.update({k: str(v) for k, v in ports.items()})
    env["PG_DATA_DIR"] = str(data / "pg")
    env["KAFKA_DATA_DIR"] = str(data / "kafka")
    process = subprocess.Popen(
        [os.path.join(REPO_ROOT, "scripts", "run.sh"), "--fresh"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    deadline = time.monotonic() + 300
    try:
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            if line.strip() == READY_LINE:
                break
            if time.monotonic() > deadline:
                raise AssertionError("run.sh did not get ready in 300 s")
        else:
            raise AssertionError("run.sh exited before it was ready:\n" + "\n".join(output))
        # the greeting follows the ready line
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        system = RunningSystem(
            process,
            ports,
            f"http://127.0.0.1:{ports['INTAKE_PORT']}",
            f"http://127.0.0.1:{ports['FOLLOWUP_PORT']}",
            output,
        )
        yield system
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def tokens() -> Tokens:
    settings = Settings.from_env("tokens", default_database_url="")
    return Tokens(settings.jwt_secret, settings.jwt_issuer)


def _demo_ids() -> dict:
    with open(os.path.join(REPO_ROOT, "deploy", "demo", "meetings.json"), encoding="utf-8") as fh:
        meetings = json.load(fh)
    return {"meeting": meetings[0]["id"], "aspiration": meetings[0]["aspirations"][1]["id"]}


@pytest.fixture(scope="module")
def world(run_sh, tokens):
    """Real ids and a credential per role, plus a stored <script> and a reporter's identity."""
    supervisor = tokens.issue("newcomer-supervisor", "supervisor")
    auth = {"Authorization": f"Bearer {supervisor}"}
    cases = http("GET", f"{run_sh.followup}/api/v1/cases?per_page=100", headers=auth).json()
    routed = next(c for c in cases["items"] if c["agency"] and not c["sensitive"])
    case = http("GET", f"{run_sh.followup}/api/v1/cases/{routed['id']}", headers=auth).json()
    ids = _demo_ids()
    meeting = http("GET", f"{run_sh.intake}/api/v1/meetings/{ids['meeting']}", headers=auth).json()

    # An officer of the meeting's unit logs an aspiration with markup and a named reporter.
    officer_unit = meeting["unit"]
    officer = tokens.issue("newcomer-officer", "officer", unit=officer_unit)
    hostile_id = str(uuid.uuid4())
    posted = http(
        "POST",
        f"{run_sh.intake}/api/v1/meetings/{ids['meeting']}/aspirations",
        body={
            "aspirations": [
                {
                    "id": hostile_id,
                    "category": "street_lighting",
                    "summary": f"Lampu mati {XSS}",
                    "public_summary": f"Lampu jalan mati {XSS}",
                    "description": f"Gelap gulita {XSS}",
                    "raised_by": {"name": REPORTER_NAME, "contact": REPORTER_CONTACT},
                }
            ]
        },
        headers={"Authorization": f"Bearer {officer}", "Idempotency-Key": hostile_id},
    )
    assert posted.status == 201, posted.text
    hostile_code = posted.json()["items"][0]["tracking_code"]
    wait_for(
        lambda: http("GET", f"{run_sh.followup}/api/v1/track/{hostile_code}").status == 200,
        timeout=60,
        what="the hostile aspiration to become a case",
    )
    credentials = {
        "anonymous": None,
        "officer": officer,
        "liaison": tokens.issue("newcomer-liaison", "liaison", agency=case["agency"]["id"]),
        "supervisor": supervisor,
        "admin": tokens.issue("newcomer-admin", "admin"),
    }
    values = {
        "aspiration_id": ids["aspiration"],
        "meeting_id": ids["meeting"],
        "case_id": case["id"],
        "request_id": case["id"],
        "service_code": "street_lighting",  # an Open311 service definition
        "code": hostile_code,
        "fmt": "xml",  # Open311's required format (JSON is swept by the API tests)
    }
    return {"credentials": credentials, "values": values, "hostile_code": hostile_code}


def _get_routes(service: str) -> list[str]:
    """Every GET rule of a service's url_map (the apps are built only to read their maps)."""
    settings = Settings(service_name=service, database_url="postgresql+psycopg://x@127.0.0.1/x")
    if service == "intake":
        from intake_service.app import create_app
    else:
        from followup_service.app import create_app
    app = create_app(settings)
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.rule.startswith("/static")
    )


def _fill(rule: str, values: dict) -> str:
    def value(match):
        name = match.group(1).split(":")[-1]
        return values[name]

    return re.sub(r"<([^>]+)>", value, rule)


def test_a_newcomer_uses_every_page_and_api_of_run_sh_as_every_role(run_sh, world):
    assert any("/lacak/KA-" in line for line in run_sh.output), "greeting shows a demo code"
    assert any("/masuk" in line for line in run_sh.output), "greeting says how to sign in"
    sessions = {
        (service, role): page_session(base, token)
        for service, base in (("intake", run_sh.intake), ("followup", run_sh.followup))
        for role, token in world["credentials"].items()
        if token
    }
    server_errors, tried, escaped_seen = [], 0, 0
    for service, base in (("intake", run_sh.intake), ("followup", run_sh.followup)):
        for rule in _get_routes(service):
            url = base + _fill(rule, world["values"])
            for role, token in world["credentials"].items():
                kinds = {"none": {}} if token is None else {
                    "bearer": {"Authorization": f"Bearer {token}"},
                    "cookie": {"Cookie": sessions[(service, role)]},
                }  # fmt: skip
                for kind, headers in kinds.items():
                    response = http("GET", url, headers=headers)
                    tried += 1
                    where = f"{service} GET {rule} as {role} ({kind}): {response.status}"
                    if response.status >= 500:
                        server_errors.append(where)
                    if role == "anonymous":
                        assert REPORTER_NAME not in response.text, where
                        assert REPORTER_CONTACT not in response.text, where
                    if "text/html" in response.headers.get("Content-Type", ""):
                        assert XSS not in response.text, f"unescaped markup: {where}"
                        escaped_seen += "&lt;script&gt;" in response.text
    assert not server_errors, f"{len(server_errors)} of {tried} requests:\n" + "\n".join(
        server_errors
    )
    assert tried >= 2 * 5 * 20
    assert escaped_seen, "the stored markup is shown (escaped) somewhere, so the check bites"
    print(f"run.sh sweep: {tried} requests, 0 server errors")


def test_open311_and_tracking_give_every_demo_deadline_as_the_same_instant(run_sh, world):
    requests = http("GET", f"{run_sh.followup}/open311/v2/requests.json").json()
    assert requests
    compared = 0
    for item in requests:
        code = item.get("tracking_code") or _code_of(run_sh, world, item["service_request_id"])
        track = http("GET", f"{run_sh.followup}/api/v1/track/{code}").json()
        expected, resolve_by = item["expected_datetime"], track["deadlines"]["resolve_by"]
        if expected is None and resolve_by is None:
            continue
        # Open311 writes whole seconds (W3C date-time); the instant is the same
        resolve_at = datetime.fromisoformat(resolve_by).replace(microsecond=0)
        assert datetime.fromisoformat(expected) == resolve_at, code
        assert datetime.fromisoformat(expected).utcoffset() is not None
        compared += 1
    assert compared >= 5


def _code_of(run_sh, world, case_id: str) -> str:
    supervisor = world["credentials"]["supervisor"]
    url = f"{run_sh.followup}/api/v1/cases/{case_id}"
    return http("GET", url, headers={"Authorization": f"Bearer {supervisor}"}).json()[
        "tracking_code"
    ]


def test_ctrl_c_stops_every_process_and_frees_every_port(run_sh):
    # runs last in this module (pytest keeps file order): the fixture's system is shut down
    os.killpg(run_sh.process.pid, signal.SIGINT)
    rest = run_sh.process.communicate(timeout=120)[0]
    assert run_sh.process.returncode == 0, rest
    assert "stopped" in rest

    def nothing_left():
        try:
            os.killpg(run_sh.process.pid, 0)
            return False  # a process of run.sh's group is still alive
        except ProcessLookupError:
            return not [name for name, port in run_sh.ports.items() if _port_open(port)]

    wait_for(nothing_left, timeout=30, what="every process of run.sh to exit and free its port")
