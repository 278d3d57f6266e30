"""What a subscriber is told, when, and how often a failed send is tried (pure Python).

A message is short, in the subscriber's language, names the tracking code and links to
/lacak. A case that reveals status only (followup_service.domain.visibility: sensitive
category or confidential aspiration) gets status-only messages by the same rule as the
public view: neutral agency names, no progress or resolution text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from followup_service.domain.visibility import (
    BREACH_LABELS,
    OUTCOME_LABELS,
    public_agency,
    reveals_status_only,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
CHANNELS = ("email", "whatsapp", "sms")  # the only values of the `channel` metric label
LANGUAGES = ("id", "en")
# the case events a subscriber hears of
NOTIFIED = (
    "CaseRouted",
    "CaseAcknowledged",
    "ProgressNoted",
    "CaseEscalated",
    "DeadlineMissed",
    "CaseResolved",
    "CaseReopened",
    "CaseClosed",
)


@dataclass(frozen=True)
class CaseFacts:
    """What the notifier knows of the case when it handles an event."""

    tracking_code: str
    sensitive: bool
    agency_id: str | None = None
    agency_name: str | None = None


@dataclass(frozen=True)
class Links:
    case: str  # /lacak/<code>
    unsubscribe: str | None = None  # email only
    confirm: str | None = None  # resolved only
    dispute: str | None = None  # resolved only


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def message_for(
    event_type: str, payload: dict, case: CaseFacts, language: str, links: Links, channel: str
) -> Message | None:
    """The message for one event, or None when subscribers are not told of it."""
    en = language == "en"
    status_only = reveals_status_only(case.sensitive)
    code = case.tracking_code
    line = _line(event_type, payload, case, status_only, en)
    if line is None:
        return None
    headline, text = line
    parts = [text]
    if event_type == "CaseResolved" and links.confirm and links.dispute:
        if en:
            parts.append(f"Fixed? Confirm: {links.confirm}\nNot fixed? Dispute: {links.dispute}")
        else:
            parts.append(
                f"Sudah beres? Konfirmasi: {links.confirm}\nBelum beres? Bantah: {links.dispute}"
            )
    parts.append(("Track: " if en else "Lacak: ") + links.case)
    if channel == "email" and links.unsubscribe:
        parts.append(("Unsubscribe: " if en else "Berhenti berlangganan: ") + links.unsubscribe)
    elif channel != "email":
        parts.append("Reply STOP to unsubscribe." if en else "Balas STOP untuk berhenti.")
    subject = f"[{code}] {headline}"
    return Message(subject=subject, body="\n\n".join(parts))


def _agency(case: CaseFacts, agency_id, name, status_only: bool, en: bool) -> str:
    shown_id, shown_en = public_agency(agency_id, name or agency_id, status_only)
    return shown_en if en else shown_id


def _line(event_type, p, case: CaseFacts, status_only, en) -> tuple[str, str] | None:
    code = case.tracking_code
    match event_type:
        case "CaseRouted":
            agency = _agency(case, p.get("agency_id"), p.get("agency_name"), status_only, en)
            if en:
                return "Forwarded", f"Your aspiration {code} was forwarded to {agency}."
            return "Diteruskan", f"Aspirasi Anda {code} diteruskan ke {agency}."
        case "CaseAcknowledged":
            name = case.agency_name if case.agency_id == p.get("agency_id") else None
            agency = _agency(case, p.get("agency_id"), name, status_only, en)
            if en:
                return "Acknowledged", f"{agency} acknowledged your aspiration {code}."
            return "Diterima", f"Aspirasi Anda {code} diterima oleh {agency}."
        case "ProgressNoted":
            if not p.get("public"):
                return None  # an internal note: nobody outside is told
            if status_only:
                if en:
                    return "Progress", f"There is progress on your aspiration {code}."
                return "Perkembangan", f"Ada perkembangan pada aspirasi Anda {code}."
            if en:
                return "Progress", f"Progress on {code}: {p.get('text', '')}"
            return "Perkembangan", f"Perkembangan aspirasi {code}: {p.get('text', '')}"
        case "CaseEscalated":
            agency = _agency(case, p.get("to_agency_id"), p.get("to_agency_name"), status_only, en)
            breach = p.get("breach")
            if breach in BREACH_LABELS:
                what_id, what_en = BREACH_LABELS[breach]
                if en:
                    return "Overdue", f"{code} is overdue ({what_en}) and escalated to {agency}."
                return (
                    "Terlambat",
                    f"Aspirasi {code} terlambat ({what_id}), dieskalasi ke {agency}.",
                )
            if en:
                return "Escalated", f"Your aspiration {code} was escalated to {agency}."
            return "Dieskalasi", f"Aspirasi Anda {code} dieskalasi ke {agency}."
        case "DeadlineMissed":
            what_id, what_en = BREACH_LABELS.get(p.get("breach"), ("tenggat", "deadline"))
            if en:
                return "Overdue", f"{code} is overdue ({what_en}) at the highest level."
            return "Terlambat", f"Aspirasi {code} terlambat ({what_id}) di tingkat tertinggi."
        case "CaseResolved":
            agency = _agency(case, p.get("agency_id"), case.agency_name, status_only, en)
            said = "" if status_only else f": {p.get('resolution', '')}"
            if en:
                return "Resolved?", f"{agency} reported your aspiration {code} resolved{said}."
            return "Selesai?", f"{agency} menyatakan aspirasi Anda {code} selesai{said}."
        case "CaseReopened":
            if en:
                return "Reopened", f"Your aspiration {code} was reopened."
            return "Dibuka kembali", f"Aspirasi Anda {code} dibuka kembali."
        case "CaseClosed":
            outcome_id, outcome_en = OUTCOME_LABELS.get(p.get("outcome"), ("Ditutup", "Closed"))
            if en:
                return "Closed", f"Your aspiration {code} was closed: {outcome_en}."
            return "Ditutup", f"Aspirasi Anda {code} ditutup: {outcome_id}."
    return None


# --- quiet hours (WhatsApp and SMS only) ------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """ "21:00-06:00" (Asia/Jakarta); "" or "off" for none."""
        text = (text or "").strip()
        if not text or text.lower() == "off":
            return None
        start, _, end = text.partition("-")
        return cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))

    def is_quiet(self, moment: datetime) -> bool:
        local = moment.astimezone(JAKARTA).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # across midnight

    def ends_after(self, moment: datetime) -> datetime:
        """The first moment at or after `moment` that is not quiet."""
        if not self.is_quiet(moment):
            return moment
        local = moment.astimezone(JAKARTA)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end


def quiet_channel(channel: str) -> bool:
    """Email goes any time; WhatsApp and SMS keep quiet hours."""
    return channel in ("whatsapp", "sms")


# --- retries ---------------------------------------------------------------------------


def retry_delay(
    attempt: int, base: float, cap: float, retry_after: float | None = None, rand=random.random
) -> float:
    """Seconds before attempt `attempt + 1`: exponential with full jitter in its upper
    half, never below a provider's Retry-After."""
    exponential = min(cap, base * (2 ** max(0, attempt - 1)))
    delay = exponential * (0.5 + rand() / 2)
    return max(delay, retry_after or 0.0)
