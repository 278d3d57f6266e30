"""Who sees what in public: the tracking view, the restricted lane and plain-language labels
(what staff see and do is shared.need_to_know's rule, by scope)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC

from followup_service.domain.case import Case
from followup_service.domain.events import (
    CaseAcknowledged,
    CaseAmended,
    CaseBacked,
    CaseClosed,
    CaseDeclined,
    CaseEscalated,
    CaseEvent,
    CaseOpened,
    CaseRelocated,
    CaseReopened,
    CaseResolved,
    CaseRouted,
    CaseSplit,
    DeadlineMissed,
    ProgressNoted,
    ResolutionDisputed,
    VerificationConfirmed,
)

ROLES = ("liaison", "officer", "supervisor", "admin")

STATUS_LABELS = {
    "triage": ("Menunggu penerusan", "Awaiting routing"),
    "routed": ("Diteruskan, menunggu tanggapan instansi", "Forwarded, awaiting the agency"),
    "acknowledged": ("Diterima instansi", "Acknowledged by the agency"),
    "in_progress": ("Sedang ditangani", "In progress"),
    "resolved_pending_verification": (
        "Dinyatakan selesai, menunggu verifikasi",
        "Reported resolved, awaiting verification",
    ),
    "split": ("Ditangani beberapa instansi", "Handled by several agencies"),
    "closed": ("Ditutup", "Closed"),
}
OUTCOME_LABELS = {
    "resolved_verified": ("Selesai dan terverifikasi", "Resolved and verified"),
    "not_responsible": ("Tidak ada instansi yang berwenang", "No responsible agency found"),
    "duplicate": ("Sama dengan laporan lain", "Duplicate of another case"),
    "no_further_action": ("Tidak ada tindak lanjut", "No further action"),
    "withdrawn": ("Ditarik oleh pelapor", "Withdrawn"),
}
BREACH_LABELS = {
    "acknowledge": ("tanggapan", "response"),
    "resolve": ("penyelesaian", "resolution"),
}


# --- the one rule for every public surface ---------------------------------------------
#
# A case "reveals status only" when its category is sensitive (tawuran, narcotics, money
# politics...) or the aspiration was recorded confidential: both set `Case.sensitive`
# (the consumer opens a confidential aspiration as sensitive, the rules mark a sensitive
# category). Such a case is never listed (public lists, Open311, the report back, any
# export a non-staff user can reach), and tracking it by code shows its status, labels,
# dates and a timeline but no place names and no unit or agency name. Every public
# surface asks this module: the tracking API and pages (through public_view), Open311
# and the report back (through is_publicly_listed / LISTING, which
# followup_service.listing turns into SQL).

UNLISTED_STATUSES = ("new",)  # a case being opened is listed nowhere yet


@dataclass(frozen=True)
class Listing:
    """When a case may appear in a public list, as data a query can use."""

    sensitive: bool  # listed only when Case.sensitive has this value
    unlisted_statuses: tuple[str, ...]


LISTING = Listing(sensitive=False, unlisted_statuses=UNLISTED_STATUSES)


def reveals_status_only(sensitive: bool) -> bool:
    """Sensitive categories and confidential aspirations: status, labels, dates, timeline;
    no place, no unit or agency name, never listed."""
    return bool(sensitive)


def is_listed(sensitive: bool, status: str) -> bool:
    return sensitive == LISTING.sensitive and status not in LISTING.unlisted_statuses


def is_offered_publicly(category_sensitive: bool) -> bool:
    """Whether a category is offered to the public (Open311 services and definitions):
    a sensitive category is offered to staff only."""
    return not reveals_status_only(category_sensitive)


def is_publicly_listed(case: Case) -> bool:
    """Sensitive cases never appear in public lists or Open311; only their tracking code works."""
    return is_listed(case.sensitive, case.status)


# Neutral names for a status-only case's agency: police units are "Kepolisian", any other
# agency "instansi terkait" (neither names a place).
POLICE_NEUTRAL = ("Kepolisian", "the police")
AGENCY_NEUTRAL = ("instansi terkait", "the responsible agency")
_POLICE_NAME = re.compile(r"^\s*pol(da|res|sek)", re.IGNORECASE)


def public_agency(agency_id: str | None, name: str | None, status_only: bool) -> tuple[str, str]:
    """The agency as the public sees it, (Indonesian, English)."""
    if not status_only:
        return name or "", name or ""
    police = _POLICE_NAME.match(name or "") or _POLICE_NAME.match(agency_id or "")
    return POLICE_NEUTRAL if police else AGENCY_NEUTRAL


def neutral_summary(category_label: tuple[str, str] | None, category: str) -> tuple[str, str]:
    """The public sentence of a case whose officer wrote no public summary: it names the
    category only, never words of the internal summary or description."""
    label_id, label_en = category_label or (category, category)
    return (
        f"Aspirasi warga (kategori: {label_id}) telah dicatat dan diteruskan untuk "
        "ditindaklanjuti.",
        f"A residents' aspiration (category: {label_en}) was recorded and forwarded for follow-up.",
    )


def public_summary(case: Case, category_label: tuple[str, str] | None = None) -> tuple[str, str]:
    """What the officer wrote for the public, or the category's neutral sentence."""
    written = (case.public_summary or "").strip()
    if written:
        return written, written
    return neutral_summary(category_label, case.category)


def public_view(case: Case, category_label: tuple[str, str] | None = None) -> dict:
    """What anyone holding the tracking code sees: never reporter, raw description or notes;
    for a status-only case (reveals_status_only) no place and no unit or agency name."""
    status_id, status_en = STATUS_LABELS[case.status]
    if case.outcome is not None:
        status_id, status_en = OUTCOME_LABELS[case.outcome]
    status_only = reveals_status_only(case.sensitive)
    agency = None
    if case.agency is not None:
        agency = public_agency(case.agency.id, case.agency.name, status_only)[0]
    summary_id, summary_en = public_summary(case, category_label)
    return {
        "tracking_code": case.tracking_code,
        "status": case.status,
        "outcome": case.outcome,
        "status_label": {"id": status_id, "en": status_en},
        "category": case.category,
        "kelurahan": None if status_only else case.kelurahan,
        "kecamatan": None if status_only else case.kecamatan,
        "agency": agency,
        "public_summary": summary_id,
        "public_summary_label": {"id": summary_id, "en": summary_en},
        "status_only": status_only,
        "duplicate_of": case.duplicate_of,
        "backing_count": case.backing_count,
        "deadlines": {
            "acknowledge_by": _iso(case.acknowledge_by) if case.status == "routed" else None,
            "resolve_by": _iso(case.resolve_by),
            "verify_by": _iso(case.verify_by),
        },
        "timeline": public_timeline(case.history, status_only=status_only),
    }


def public_timeline(events: list[CaseEvent], *, status_only: bool = False) -> list[dict]:
    """Public entries with Indonesian and English labels; internal notes are left out. For
    a status-only case agencies get their neutral names and free texts (progress notes,
    resolutions) are left out: they may name a place or a person."""
    entries = []
    agency = ("", "")
    for event in events:
        match event:
            case CaseRouted():
                agency = public_agency(event.agency_id, event.agency_name, status_only)
            case CaseEscalated():
                agency = public_agency(event.to_agency_id, event.to_agency_name, status_only)
        label = _label(event, agency, status_only)
        if label is not None:
            entries.append(
                {
                    "at": _iso(event.occurred_at),
                    "event": type(event).__name__,
                    "id": label[0],
                    "en": label[1],
                }
            )
    return entries


def is_public(event: CaseEvent) -> bool:
    """Whether the event has an entry in the public timeline."""
    return _label(event, ("", "")) is not None


def _label(
    event: CaseEvent, names: tuple[str, str], status_only: bool = False
) -> tuple[str, str] | None:
    agency, agency_en = names
    match event:
        case ProgressNoted(public=True) if status_only:
            return "Perkembangan dicatat", "Progress noted"
        case CaseResolved() if status_only:
            return f"Dinyatakan selesai oleh {agency}", f"Reported resolved by {agency_en}"
        case CaseOpened():
            return "Aspirasi dicatat", "Aspiration recorded"
        case CaseRouted():
            return f"Diteruskan ke {agency}", f"Forwarded to {agency_en}"
        case CaseAcknowledged():
            return f"Diterima oleh {agency}", f"Acknowledged by {agency_en}"
        case ProgressNoted(public=True):
            return f"Perkembangan: {event.text}", f"Progress: {event.text}"
        case CaseEscalated(breach=str(breach)):
            what_id, what_en = BREACH_LABELS[breach]
            return (
                f"Terlambat ({what_id}): dieskalasi ke {agency}",
                f"Overdue ({what_en}): escalated to {agency_en}",
            )
        case CaseEscalated():
            return f"Dieskalasi ke {agency}", f"Escalated to {agency_en}"
        case DeadlineMissed():
            what_id, what_en = BREACH_LABELS[event.breach]
            return (
                f"Terlambat ({what_id}) di tingkat tertinggi: {agency}",
                f"Overdue ({what_en}) at the top level: {agency_en}",
            )
        case CaseDeclined():
            return (
                f"{_first_upper(agency)} menyatakan bukan kewenangannya",
                f"{_first_upper(agency_en)} declined: not their responsibility",
            )
        case CaseResolved():
            return (
                f"Dinyatakan selesai oleh {agency}: {event.resolution}",
                f"Reported resolved by {agency_en}: {event.resolution}",
            )
        case VerificationConfirmed():
            return "Penyelesaian diverifikasi petugas", "Resolution verified by the officer"
        case ResolutionDisputed(by="community"):
            return "Penyelesaian dibantah warga", "Resolution disputed by residents"
        case ResolutionDisputed():
            return "Penyelesaian dibantah petugas", "Resolution disputed by the officer"
        case CaseReopened():
            return "Dibuka kembali", "Reopened"
        case CaseClosed():
            outcome_id, outcome_en = OUTCOME_LABELS[event.outcome]
            return f"Ditutup: {outcome_id}", f"Closed: {outcome_en}"
        case CaseSplit():
            count = len(event.sub_cases)
            return f"Dipecah menjadi {count} sub-kasus", f"Split into {count} sub-cases"
        case CaseAmended():
            return "Aspirasi diperbarui", "Aspiration amended"
        case CaseRelocated():
            return "Lokasi diperbarui", "Location amended"
        case CaseBacked():
            return (
                f"Didukung {event.count} warga (total {event.total_count})",
                f"Backed by {event.count} residents (total {event.total_count})",
            )
    return None


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _iso(value) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None
