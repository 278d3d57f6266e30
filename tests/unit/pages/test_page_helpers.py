"""Page helpers that need no services: messages, dates, safe redirects, QR, chart, Open311."""

from __future__ import annotations

import pathlib
import re
from datetime import UTC, date, datetime

import pytest

from followup_service.pages.open311 import open311_status
from followup_service.pages.staff import weekly_svg
from shared.pages.format import format_when
from shared.pages.messages import MESSAGES
from shared.pages.qr import qr_svg
from shared.pages.session import safe_next

ROOT = pathlib.Path(__file__).resolve().parents[3]
TEMPLATE_DIRS = [
    ROOT / "shared/pages/templates",
    ROOT / "intake_service/pages/templates",
    ROOT / "followup_service/pages/templates",
]


def test_every_message_key_used_in_a_template_has_both_languages():
    used = set()
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            used |= set(re.findall(r"\bt\('([a-z0-9_.]+)'", path.read_text(encoding="utf-8")))
    assert used, "templates use the catalogue"
    missing = {key for key in used if key not in MESSAGES and not key.endswith(".")}
    assert not missing
    for key, pair in MESSAGES.items():
        assert len(pair) == 2 and all(pair), key


def test_dates_read_in_jakarta_time_with_indonesian_months():
    moment = datetime(2026, 8, 17, 3, 5, tzinfo=UTC)
    assert format_when(moment, "id") == "17 Agu 2026, 10.05 WIB"
    assert format_when(moment.isoformat(), "en") == "17 Aug 2026, 10:05 WIB"
    assert format_when(None) == ""


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/kerja?x=1", "/kerja?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("kerja", "/"),
        (None, "/"),
    ],
)
def test_login_redirects_only_to_local_paths(target, expected):
    assert safe_next(target) == expected


@pytest.mark.parametrize(
    "target,expected",
    [
        ("http://intake.example/catat", "http://intake.example/catat"),
        ("http://evil.example/catat", "/"),
        ("http://user@intake.example/catat", "/"),
        ("/\\evil.example/", "/"),
    ],
)
def test_sign_in_may_return_to_a_trusted_service_origin(target, expected):
    assert safe_next(target, trusted_origins=("http://intake.example",)) == expected


def test_qr_code_is_inline_svg():
    svg = qr_svg("https://kawal.example/lacak/KA-7GQ4-M2")
    assert svg.startswith("<svg") and "<path" in svg


def test_weekly_chart_draws_a_bar_pair_per_week_scaled_to_the_peak():
    series = [(date(2026, 11, 2), 4, 1), (date(2026, 11, 9), 2, 3), (date(2026, 11, 16), 0, 0)]
    svg = weekly_svg(series)
    assert svg.count("<rect") == 6
    assert 'data-o="4"' in svg and 'data-r="3"' in svg
    assert ">4<" in svg  # the axis names the peak


@pytest.mark.parametrize(
    "status,expected",
    [
        ("triage", "open"),
        ("routed", "open"),
        ("acknowledged", "open"),
        ("in_progress", "open"),
        ("split", "open"),
        ("resolved_pending_verification", "open"),
        ("closed", "closed"),
    ],
)
def test_open311_status_mapping(status, expected):
    assert open311_status(status) == expected
