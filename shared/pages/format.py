"""Dates and numbers the way residents read them: Asia/Jakarta time, Indonesian month names."""

from __future__ import annotations

from datetime import datetime

from shared.timeutil import JAKARTA

MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def parse_when(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def format_when(value, lang: str = "id", with_time: bool = True) -> str:
    """'25 Nov 2026, 14.00 WIB' (id) or '25 Nov 2026, 14:00 WIB' (en); '' for nothing."""
    moment = parse_when(value)
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=JAKARTA)
    local = moment.astimezone(JAKARTA)
    day = f"{local.day} {MONTHS.get(lang, MONTHS['id'])[local.month - 1]} {local.year}"
    if not with_time:
        return day
    sep = "." if lang == "id" else ":"
    return f"{day}, {local.hour:02d}{sep}{local.minute:02d} WIB"
