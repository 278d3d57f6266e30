"""Loads the demo meetings (drawn from the field reports) through the intake API."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

from shared.config import REPO_ROOT

DEMO_FILE = os.path.join(REPO_ROOT, "deploy", "demo", "meetings.json")


def _request(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def wait_until_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _request("GET", f"{url}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not come up")


def load_demo(intake_url: str, followup_url: str, token: str) -> list[tuple[str, str]]:
    """Post every demo meeting and its aspirations as one batch; return (summary, code)."""
    wait_until_ready(intake_url)
    wait_until_ready(followup_url)
    with open(DEMO_FILE, encoding="utf-8") as fh:
        meetings = json.load(fh)
    codes = []
    for meeting in meetings:
        headers = {"Authorization": f"Bearer {token}"}
        stored = _stored_codes(intake_url, meeting, headers)
        if stored is not None:  # loaded by an earlier run (run.sh keeps its data)
            codes.extend(stored)
            continue
        body = {k: v for k, v in meeting.items() if k != "aspirations"}
        status, answer = _request(
            "POST", f"{intake_url}/api/v1/meetings", body,
            {**headers, "Idempotency-Key": f"demo-meeting-{meeting['id']}"},
        )  # fmt: skip
        if status not in (200, 201):
            raise RuntimeError(f"demo meeting refused: {status} {answer}")
        status, answer = _request(
            "POST",
            f"{intake_url}/api/v1/meetings/{meeting['id']}/aspirations",
            {"aspirations": meeting["aspirations"]},
            {**headers, "Idempotency-Key": f"demo-aspirations-{meeting['id']}"},
        )
        if status not in (200, 201):
            raise RuntimeError(f"demo aspirations refused: {status} {answer}")
        for aspiration, item in zip(meeting["aspirations"], answer["items"], strict=True):
            codes.append((aspiration["summary"], item["tracking_code"]))
    deadline = time.monotonic() + 60
    for _, code in codes:
        while _request("GET", f"{followup_url}/api/v1/track/{code}")[0] != 200:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{code} never reached the follow-up service")
            time.sleep(0.2)
    return codes


def _stored_codes(intake_url: str, meeting: dict, headers: dict) -> list[tuple[str, str]] | None:
    """(summary, code) of a demo meeting already in intake, or None when it is not there."""
    status, answer = _request("GET", f"{intake_url}/api/v1/meetings/{meeting['id']}", None, headers)
    if status == 404:
        return None
    if status != 200:
        raise RuntimeError(f"demo meeting lookup failed: {status} {answer}")
    by_id = {item["id"]: item["tracking_code"] for item in answer.get("aspirations", [])}
    return [(a["summary"], by_id[a["id"]]) for a in meeting["aspirations"] if a["id"] in by_id]
