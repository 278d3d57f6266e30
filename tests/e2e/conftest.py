"""Both services served for real over HTTP (werkzeug threads) with the relay and the
intake-event consumer running, plus a headless Debian Chromium for the page tests."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace

import pytest
from werkzeug.serving import make_server

from followup_service.app import create_app as create_followup
from intake_service.app import create_app as create_intake
from shared.auth import Tokens
from tests.conftest import _service_settings
from tests.support import REPO_ROOT, STAFF_PASSWORD, make_account, pipeline_running

SCREENSHOTS = os.path.join(REPO_ROOT, "test-artifacts", "screenshots")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}


@dataclass
class LiveStack:
    intake_url: str
    followup_url: str
    intake_app: object
    followup_app: object
    tokens: Tokens
    pipeline: object = None  # tests.support.Pipeline: describe() says where records are

    @property
    def intake(self):
        return self.intake_app.extensions["intake"]

    @property
    def followup(self):
        return self.followup_app.extensions["followup"]

    def token(self, subject: str, role: str, **claims) -> str:
        """A supervisor named with no unit or area is headquarters' (the national area)."""
        if role == "supervisor" and not (claims.get("unit") or claims.get("area")):
            claims["area"] = "national"
        return self.tokens.issue(subject, role, **claims)


class _Server(threading.Thread):
    def __init__(self, app):
        super().__init__(daemon=True)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def run(self):
        self.server.serve_forever()

    def stop(self):
        self.server.shutdown()


def paired_apps(create_database, stack_env, migrated_template):
    """Intake and follow-up apps on databases of their own, follow-up reading intake's
    topics and sharing its Redis prefix (one account standing), as run.sh."""
    intake_settings = _service_settings("intake", create_database, stack_env, migrated_template)
    followup_settings = _service_settings(
        "followup",
        create_database,
        stack_env,
        migrated_template,
        topic_prefix=intake_settings.topic_prefix,
        redis_key_prefix=intake_settings.redis_key_prefix,
    )
    return create_intake(intake_settings), create_followup(followup_settings)


@pytest.fixture(scope="module")
def live_stack(create_database, stack_env, migrated_template):
    intake_app, followup_app = paired_apps(create_database, stack_env, migrated_template)
    intake_settings = intake_app.config["SETTINGS"]
    followup_settings = followup_app.config["SETTINGS"]
    # Cookies marked Secure are kept by Chromium on http://127.0.0.1 (a trustworthy origin).
    servers = [_Server(intake_app), _Server(followup_app)]
    intake_app.config["TRACKING_BASE_URL"] = servers[1].url
    # accounts live at follow-up: intake's /masuk sends staff there and back (as run.sh)
    intake_app.config["SETTINGS"] = replace(intake_settings, sign_in_url=f"{servers[1].url}/masuk")
    followup_app.config["SETTINGS"] = replace(followup_settings, trusted_origins=servers[0].url)
    for server in servers:
        server.start()
    with pipeline_running(intake_app, followup_app) as pipeline:
        yield LiveStack(
            intake_url=servers[0].url,
            followup_url=servers[1].url,
            intake_app=intake_app,
            followup_app=followup_app,
            tokens=Tokens(intake_settings.jwt_secret, intake_settings.jwt_issuer),
            pipeline=pipeline,
        )
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian chromium missing: run scripts/install.sh --browser")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser context (its own cookies and localStorage)."""
    context = browser.new_context(**PHONE, locale="id-ID")
    yield context
    context.close()


def screenshot(page, name: str) -> str:
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, f"{name}.png")
    page.screenshot(path=path, full_page=True)
    return path


def staff(stack: LiveStack, username: str, role: str, **scope) -> str:
    """An account on the live follow-up service (made once per module); returns its name."""
    accounts = stack.followup_app.extensions["accounts"]
    with stack.followup.engine.connect() as conn:
        exists = accounts.load(conn, username) is not None
    if not exists:
        if role == "supervisor" and not scope:
            scope = {"area": "national"}  # headquarters (a supervisor needs a unit or area)
        make_account(stack.followup_app, username, role, **scope)
    return username


def login(page, base_url: str, username: str, next_path: str) -> None:
    """Open `next_path` on either service and sign in as a person would: intake sends the
    browser to the follow-up service's form and back."""
    page.goto(f"{base_url}{next_path}")
    page.wait_for_selector("#username")
    page.fill("#username", username)
    page.fill("#password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{next_path}*")
