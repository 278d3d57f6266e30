"""Public report cards on the system run.sh starts, with its demo data (issue 26).

`/rapor/36.04` (Kabupaten Serang) answers without sign-in, with an SVG chart and every
agency that holds a public demo case of Kabupaten Serang; its JSON carries the figures.
(The sweep in test_run_path.py requests every GET rule of the service, /rapor included.)
"""

from __future__ import annotations

import json
import os
from html import unescape

import pytest

from shared.auth import Tokens
from shared.config import DEVELOPMENT_SECRET
from tests.e2e.test_run_path import http, run_sh  # noqa: F401  (a fixture)
from tests.support import REPO_ROOT, wait_for

pytestmark = pytest.mark.e2e


def _serang_demo_cases(base: str) -> list[dict]:
    """The demo's cases in Kabupaten Serang, read by id as a national supervisor."""
    with open(os.path.join(REPO_ROOT, "deploy", "demo", "meetings.json"), encoding="utf-8") as fh:
        meetings = json.load(fh)
    token = Tokens(DEVELOPMENT_SECRET, "kawal-aspirasi").issue(
        "rapor-check", "supervisor", area="national"
    )
    found = []
    for meeting in meetings:
        for item in meeting["aspirations"]:
            response = http(
                "GET",
                f"{base}/api/v1/cases/case-{item['id']}",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status == 200, response.text
            case = response.json()
            if case["region"].startswith("36.04.") and not case["sensitive"]:
                found.append(case)
    return found


def test_serang_report_card_answers_without_sign_in_with_a_chart_and_every_agency(run_sh):  # noqa: F811
    base = run_sh.followup
    cases = wait_for(lambda: _serang_demo_cases(base) or None, timeout=60, what="the demo cases")
    agencies = {c["agency"]["name"] for c in cases if c.get("agency")}
    assert agencies, "the demo routes Kabupaten Serang's cases to agencies"

    def card_with_every_agency():
        response = http("GET", f"{base}/rapor/36.04.json")
        if response.status != 200 or not response.json()["card"]:
            return None
        names = {row["name"] for row in response.json()["card"]["by_agency"]}
        return response.json() if agencies <= names else None

    data = wait_for(card_with_every_agency, timeout=120, what="the worker's report cards")
    page = http("GET", f"{base}/rapor/36.04")
    assert page.status == 200
    html = unescape(page.text)
    assert "<svg" in html and "Kabupaten Serang" in html
    for name in agencies:
        assert name in html, name
    for row in data["card"]["by_agency"]:
        assert row["name"] in html
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    national = http("GET", f"{base}/rapor")
    assert national.status == 200 and 'href="/rapor/36.04"' in national.text
    assert http("GET", f"{base}/rapor/36.04.csv").status == 200
    assert http("GET", f"{base}/rapor/99.99").status == 404
