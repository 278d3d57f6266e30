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
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree import ElementTree

import pytest

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
    set_cookies: list = field(default_factory=list)

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
            cookies = resp.headers.get_all("Set-Cookie") or []
            return Response(resp.status, resp.read(), dict(resp.headers), cookies)
    except urllib.error.HTTPError as err:
        cookies = err.headers.get_all("Set-Cookie") or []
        return Response(err.code, err.read(), dict(err.headers), cookies)


def _cookie(headers_list, name: str) -> str | None:
    for value in headers_list:
        match = re.match(rf"{name}=([^;]*)", value)
        if match:
            return match.group(1)
    return None


def _form_page(url: str, cookie: str = "") -> tuple[str, str, str]:
    """GET a form page: (its HTML, the CSRF form token, the Cookie header to send back)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with _OPENER.open(request, timeout=30) as resp:
        html = resp.read().decode()
        csrf_cookie = _cookie(resp.headers.get_all("Set-Cookie") or [], "ka_csrf")
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert form_token, f"{url} carries a CSRF token"
    if csrf_cookie:
        cookie = "; ".join(c for c in (cookie, f"ka_csrf={csrf_cookie}") if c)
    return html, form_token.group(1), cookie


def sign_in(base: str, username: str, password: str, new_password: str | None = None):
    """Sign in at /masuk as a person would (CSRF cookie + form), choosing a new password
    when the account has a one-time one. Returns (Cookie header, session token)."""
    _, csrf, cookie = _form_page(f"{base}/masuk")
    form = {"username": username, "password": password, "csrf_token": csrf}
    response = http("POST", f"{base}/masuk", form=form, headers={"Cookie": cookie})
    if response.status == 200 and 'name="ticket"' in response.text:
        assert new_password, "a one-time password must be replaced"
        ticket = re.search(r'name="ticket" value="([^"]+)"', response.text).group(1)
        form = {
            "ticket": ticket,
            "new_password": new_password,
            "new_password2": new_password,
            "csrf_token": csrf,
        }
        response = http(
            "POST", f"{base}/masuk/kata-sandi-baru", form=form, headers={"Cookie": cookie}
        )
    assert response.status in (302, 303), response.text[:500]
    session = _cookie(response.set_cookies, "ka_session")
    assert session, "signing in sets the session cookie"
    return f"{cookie}; ka_session={session}", session


def create_account(base: str, admin_cookie: str, **fields) -> str:
    """An admin creates an account on the admin page; returns the one-time password."""
    _, csrf, cookie = _form_page(f"{base}/admin/akun", admin_cookie)
    response = http(
        "POST",
        f"{base}/admin/akun",
        form={**fields, "csrf_token": csrf},
        headers={"Cookie": cookie},
    )
    assert response.status == 201, response.text[:2000]
    return re.search(r'id="one-time-password">([^<]+)<', response.text).group(1)


@dataclass
class RunningSystem:
    process: subprocess.Popen
    ports: dict[str, int]
    intake: str
    followup: str
    output: list[str]
    run_dir: str = ""  # run.sh's RUN_DIR: the supervised processes' pid files


def _sigint_as_in_a_terminal() -> None:
    """Ctrl-C reaches run.sh as a terminal's foreground job, with SIGINT at its default.
    A suite started as a background job (`... &` without job control) hands SIGINT down
    ignored, and bash cannot trap a signal ignored at its start: reset it for run.sh."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def run_sh(tmp_path_factory, stack_env):
    names = ("INTAKE_PORT", "FOLLOWUP_PORT", "KAFKA_PORT", "KAFKA_CONTROLLER_PORT")
    names += ("REDIS_PORT", "PG_PORT")
    names += ("INTAKE_RELAY_METRICS_PORT", "FOLLOWUP_RELAY_METRICS_PORT")
    names += ("FOLLOWUP_CONSUMER_METRICS_PORT", "FOLLOWUP_WORKER_METRICS_PORT")
    names += ("FOLLOWUP_NOTIFIER_METRICS_PORT", "SMTP_PORT")  # the notifier, its mail sink
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
    env["RUN_DIR"] = str(data / "run")  # pid files and logs of this run only
    env["RUN_LOG_DIR"] = str(data / "logs")
    env["MAIL_DIR"] = str(data / "mail")  # the SMTP sink's messages
    process = subprocess.Popen(
        [os.path.join(REPO_ROOT, "scripts", "run.sh"), "--fresh"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_sigint_as_in_a_terminal,
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
            env["RUN_DIR"],
        )
        yield system
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _demo_ids() -> dict:
    with open(os.path.join(REPO_ROOT, "deploy", "demo", "meetings.json"), encoding="utf-8") as fh:
        meetings = json.load(fh)
    return {"meeting": meetings[0]["id"], "aspiration": meetings[0]["aspirations"][1]["id"]}


def _demo_password(output: list[str]) -> str:
    line = next(line for line in output if "password for all:" in line)
    return re.search(r"password for all: ([^)\s]+)", line).group(1)


@pytest.fixture(scope="module")
def world(run_sh):
    """Real ids and a signed-in session per role (demo accounts from the greeting, and two
    accounts an admin creates on the admin page), plus a stored <script> and a reporter."""
    password = _demo_password(run_sh.output)
    admin_cookie, admin = sign_in(run_sh.followup, "demo-admin", password)
    supervisor_cookie, supervisor = sign_in(run_sh.followup, "demo-supervisor", password)
    auth = {"Authorization": f"Bearer {supervisor}"}
    cases = http("GET", f"{run_sh.followup}/api/v1/cases?per_page=100", headers=auth).json()
    routed = next(c for c in cases["items"] if c["agency"] and not c["sensitive"])
    case = http("GET", f"{run_sh.followup}/api/v1/cases/{routed['id']}", headers=auth).json()
    ids = _demo_ids()
    meeting = http("GET", f"{run_sh.intake}/api/v1/meetings/{ids['meeting']}", headers=auth).json()

    # The admin creates an officer of the meeting's unit and a liaison of the case's agency.
    one_time = create_account(
        run_sh.followup,
        admin_cookie,
        username="newcomer-officer",
        display_name="Brigadir Newcomer",
        role="officer",
        unit=meeting["unit"],
    )
    officer_cookie, officer = sign_in(
        run_sh.followup, "newcomer-officer", one_time, new_password="lampu-jalan-terang-42"
    )
    one_time = create_account(
        run_sh.followup,
        admin_cookie,
        username="newcomer-liaison",
        display_name="Penghubung Newcomer",
        role="liaison",
        agency=case["agency"]["id"],
    )
    liaison_cookie, liaison = sign_in(
        run_sh.followup, "newcomer-liaison", one_time, new_password="jalan-mulus-sekali-7"
    )

    # The officer logs an aspiration with markup and a named reporter.
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
        "officer": (officer, officer_cookie),
        "liaison": (liaison, liaison_cookie),
        "supervisor": (supervisor, supervisor_cookie),
        "admin": (admin, admin_cookie),
    }
    values = {
        "aspiration_id": ids["aspiration"],
        "meeting_id": ids["meeting"],
        "case_id": case["id"],
        "request_id": case["id"],
        "service_code": "street_lighting",  # an Open311 service definition
        "code": hostile_code,
        "username": "newcomer-officer",
        "fmt": "xml",  # Open311's required format (JSON is swept by the API tests)
        "kode": "3604",  # Kab. Serang: a region's feed
        "token": "bukan-tautan-yang-ada",  # a message link that was never sent
        "photo_id": "00000000-0000-4000-8000-000000000025",  # no such photo (issue 25)
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
    greeting = next(line for line in run_sh.output if "/lacak/KA-" in line)
    link = re.search(r"(http://\S+/lacak/KA-\S+)\s+\(any code", greeting)
    assert link, f"greeting shows one demo code on its line: {greeting!r}"
    assert http("GET", link.group(1)).status == 200, "the greeting's demo code is tracked"
    assert any("/masuk" in line for line in run_sh.output), "greeting says how to sign in"
    server_errors, tried, escaped_seen = [], 0, 0
    for service, base in (("intake", run_sh.intake), ("followup", run_sh.followup)):
        for rule in _get_routes(service):
            url = base + _fill(rule, world["values"])
            for role, credential in world["credentials"].items():
                # one sign-in, at the follow-up service, serves both services (same host)
                kinds = {"none": {}} if credential is None else {
                    "bearer": {"Authorization": f"Bearer {credential[0]}"},
                    "cookie": {"Cookie": credential[1]},
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
                    csp = response.headers.get("Content-Security-Policy", "")
                    assert "frame-ancestors 'none'" in csp, f"no CSP: {where}"
                    assert "unsafe-inline" not in csp, where
                    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
                    assert response.headers.get("X-Frame-Options") == "DENY", where
                    if "text/html" in response.headers.get("Content-Type", ""):
                        assert XSS not in response.text, f"unescaped markup: {where}"
                        escaped_seen += "&lt;script&gt;" in response.text
    assert not server_errors, f"{len(server_errors)} of {tried} requests:\n" + "\n".join(
        server_errors
    )
    assert tried >= 2 * 5 * 20
    assert escaped_seen, "the stored markup is shown (escaped) somewhere, so the check bites"
    print(f"run.sh sweep: {tried} requests, 0 server errors")


def test_the_greeting_names_every_processs_metrics_and_each_answers(run_sh, world):
    urls = re.findall(r"(http://127\.0\.0\.1:\d+/metrics)", "\n".join(run_sh.output))
    ports = [run_sh.ports[name] for name in run_sh.ports if name.endswith("METRICS_PORT")]
    expected = [f"{run_sh.intake}/metrics", f"{run_sh.followup}/metrics"]
    expected += [f"http://127.0.0.1:{port}/metrics" for port in ports]
    assert sorted(urls) == sorted(expected)
    for url in urls:
        response = http("GET", url)
        assert response.status == 200, url
        assert "# TYPE kawal_" in response.text, url


def test_a_resident_who_left_an_email_finds_the_routed_message_in_the_mail_folder(run_sh, world):
    mail_dir = next(
        line.split()[-1].rstrip("/") for line in run_sh.output if "each message a file in" in line
    )
    officer = world["credentials"]["officer"][0]
    posted = http(
        "POST",
        f"{run_sh.intake}/api/v1/aspirations",
        body={
            "category": "street_lighting",
            "summary": "PJU mati di depan masjid",
            "kelurahan": "Cikande",
            "notify": {"email": "warga.runsh@example.org", "language": "id"},
        },
        headers={"Authorization": f"Bearer {officer}"},
    )
    assert posted.status == 201, posted.text
    code = posted.json()["tracking_code"]

    def mailed() -> list[str]:
        if not os.path.isdir(mail_dir):
            return []
        texts = []
        for name in os.listdir(mail_dir):
            with open(os.path.join(mail_dir, name), encoding="utf-8") as fh:
                texts.append(fh.read())
        return [t for t in texts if code in t and "diteruskan ke" in t]

    [message] = wait_for(mailed, timeout=60, what="the routed message in the sink's folder")
    assert "To: warga.runsh@example.org" in message and f"/lacak/{code}" in message


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


def test_intake_sends_staff_to_sign_in_at_follow_up_and_back(run_sh, world):
    asked = http("GET", f"{run_sh.intake}/catat")
    assert asked.status == 302 and "/masuk" in asked.headers["Location"]
    sent = http("GET", run_sh.intake + asked.headers["Location"])
    location = sent.headers["Location"]
    assert sent.status == 302 and location.startswith(f"{run_sh.followup}/masuk?next=")
    next_url = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["next"][0]
    assert next_url.startswith(f"{run_sh.intake}/catat")
    _, csrf, cookie = _form_page(location)
    password = _demo_password(run_sh.output)
    form = {"username": "demo-officer", "password": password, "csrf_token": csrf}
    form["next"] = next_url
    back = http("POST", f"{run_sh.followup}/masuk", form=form, headers={"Cookie": cookie})
    assert back.status == 302 and back.headers["Location"] == next_url
    session = _cookie(back.set_cookies, "ka_session")
    page = http("GET", next_url, headers={"Cookie": f"{cookie}; ka_session={session}"})
    assert page.status == 200 and "Bripka Demo" in page.text


def test_an_organisations_app_files_through_open311_with_a_key_an_admin_issued(run_sh, world):
    """A village app: its key comes from the admin page, its request goes to the one
    Open311 base (follow-up, which passes it to intake), and it becomes a routed case with
    a tracking code while the requester's contact stays out of every public answer."""
    admin_cookie = world["credentials"]["admin"][1]
    _, csrf, cookie = _form_page(f"{run_sh.followup}/admin/integrasi", admin_cookie)
    issued = http(
        "POST",
        f"{run_sh.followup}/admin/integrasi",
        form={"name": "Aplikasi Desa Cikande", "purpose": "open311", "csrf_token": csrf},
        headers={"Cookie": cookie},
    )
    assert issued.status == 201, issued.text[:2000]
    api_key = re.search(r'id="new-token-value">([^<]+)<', issued.text).group(1)

    form = {
        "api_key": api_key,
        "service_code": "street_lighting",
        "address_string": "Jl. Raya Cikande KM 3, Kel. Cikande, Kec. Cikande, Kab. Serang",
        "lat": "-6.1857",
        "long": "106.3447",
        "description": "Tiga lampu PJU mati di depan pasar, gelap sejak Senin.",
        "first_name": "Sumiyati",
        "last_name": "Open311",
        "email": "sumiyati.open311@example.org",
        "phone": "0813-3110-3110",
        "attribute[dead_lamps]": "3",
    }
    filed = http("POST", f"{run_sh.followup}/open311/v2/requests.xml", form=form)
    assert filed.status == 201, filed.text
    assert filed.headers["Content-Type"].startswith("text/xml")
    request_element = ElementTree.fromstring(filed.body).find("request")
    request_id = request_element.findtext("service_request_id")
    code = request_element.findtext("tracking_code")
    assert request_id.startswith("case-") and code.startswith("KA-")

    wait_for(
        lambda: http("GET", f"{run_sh.followup}/api/v1/track/{code}").status == 200,
        timeout=60,
        what="the Open311 request to become a case",
    )
    track = http("GET", f"{run_sh.followup}/api/v1/track/{code}").json()
    one = http("GET", f"{run_sh.followup}/open311/v2/requests/{request_id}.json").json()
    assert one[0]["service_code"] == "street_lighting"
    assert one[0]["agency_responsible"] == track["agency"] and "Serang" in track["agency"]
    for public in (track, one, http("GET", f"{run_sh.followup}/lacak/{code}").text):
        text = json.dumps(public) if not isinstance(public, str) else public
        for secret in ("Sumiyati", "example.org", "3110-3110"):
            assert secret not in text

    wrong = http(
        "POST", f"{run_sh.followup}/open311/v2/requests.json", form={**form, "api_key": "x"}
    )
    assert wrong.status == 403 and wrong.json()[0]["code"] == 403


def _code_of(run_sh, world, case_id: str) -> str:
    supervisor = world["credentials"]["supervisor"][0]
    url = f"{run_sh.followup}/api/v1/cases/{case_id}"
    return http("GET", url, headers={"Authorization": f"Bearer {supervisor}"}).json()[
        "tracking_code"
    ]


def _supervised_pid(run_sh, name: str, command: str) -> int | None:
    """The pid in run.sh's pid file for `name`, if it is a live process of this run.sh
    (its session) running `command` itself, not a wrapper."""
    try:
        with open(os.path.join(run_sh.run_dir, f"{name}.pid")) as fh:
            pid = int(fh.read())
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read().replace(b"\0", b" ").decode()
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    if state == "Z" or os.getsid(pid) != run_sh.process.pid:
        return None
    if command not in cmdline or "python" not in (cmdline.split() or [""])[0]:
        return None  # forked, not yet exec'ed: asked again (a wrapper never turns into it)
    return pid


def test_a_killed_consumer_and_relay_are_restarted_and_cases_still_open(run_sh, world):
    """run.sh supervises: SIGKILL the follow-up consumer and the intake relay (by their pid
    files); run.sh says so on its terminal and in their logs, starts them again, and a new
    aspiration still becomes a case. Runs before Ctrl-C, which must stop the new ones too."""
    killed = {
        "followup-consumer": "followup_service.cli consumer",
        "intake-relay": "intake_service.cli relay",
    }
    old = {name: _supervised_pid(run_sh, name, command) for name, command in killed.items()}
    assert all(old.values()), f"a pid file per supervised process: {old}"
    terminal: list[str] = []

    def read_terminal():  # run.sh's stdout, until it has said both are back
        for line in run_sh.process.stdout:
            terminal.append(line.rstrip("\n"))
            if all(any(f"{name} restarted" in ln for ln in terminal) for name in killed):
                return

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    started = time.monotonic()
    for pid in old.values():
        os.kill(pid, signal.SIGKILL)

    def new_pids():
        pids = {name: _supervised_pid(run_sh, name, command) for name, command in killed.items()}
        return pids if all(pids.values()) and not set(pids.values()) & set(old.values()) else None

    new = wait_for(new_pids, timeout=30, what="run.sh to restart both processes")
    back_after = time.monotonic() - started
    reader.join(timeout=10)
    run_sh.output.extend(terminal)
    said = "\n".join(terminal)
    for name, pid in old.items():
        died = f"{name} (pid {pid}) exited with status 137 (SIGKILL)"
        assert re.search(re.escape(died) + r" after \d+s; restarting it in 1s", said), said
        assert f"{name} restarted (pid {new[name]})" in said, said
        with open(os.path.join(os.path.dirname(run_sh.run_dir), "logs", f"{name}.log")) as fh:
            log = fh.read()
        assert died in log and f"{name} restarted (pid {new[name]})" in log
        assert "metrics at" in log.split(died, 1)[0], "the log of before the restart is kept"

    # the restarted relay publishes and the restarted consumer opens the case
    officer = world["credentials"]["officer"][0]
    aspiration_id = str(uuid.uuid4())
    posted = http(
        "POST",
        f"{run_sh.intake}/api/v1/meetings/{_demo_ids()['meeting']}/aspirations",
        body={
            "aspirations": [
                {
                    "id": aspiration_id,
                    "category": "street_lighting",
                    "summary": "Lampu jalan mati setelah proses dimulai ulang",
                    "public_summary": "Lampu jalan mati",
                }
            ]
        },
        headers={"Authorization": f"Bearer {officer}", "Idempotency-Key": aspiration_id},
    )
    assert posted.status == 201, posted.text
    code = posted.json()["items"][0]["tracking_code"]
    posted_at = time.monotonic()
    wait_for(
        lambda: http("GET", f"{run_sh.followup}/api/v1/track/{code}").status == 200,
        timeout=90,
        interval=7,  # each lookup before the case opens is a miss: 10 a minute are allowed
        what="an aspiration posted after the restarts to become a case",
    )
    print(
        f"run.sh supervision: both back {back_after:.1f} s after SIGKILL; a new aspiration "
        f"was a case {time.monotonic() - posted_at:.1f} s after it was posted"
    )


def test_ctrl_c_stops_every_process_and_frees_every_port(run_sh):
    # runs last in this module (pytest keeps file order): the fixture's system is shut down
    os.killpg(run_sh.process.pid, signal.SIGINT)
    rest = run_sh.process.communicate(timeout=150)[0]
    assert run_sh.process.returncode == 0, rest
    assert "stopped" in rest
    if "did not stop" in rest:  # run.sh killed a stuck process after its grace period
        warnings.warn(f"run.sh had to kill a process on Ctrl-C: {rest}", stacklevel=1)

    def nothing_left():
        try:
            os.killpg(run_sh.process.pid, 0)
            return False  # a process of run.sh's group is still alive
        except ProcessLookupError:
            return not [name for name, port in run_sh.ports.items() if _port_open(port)]

    wait_for(nothing_left, timeout=30, what="every process of run.sh to exit and free its port")
