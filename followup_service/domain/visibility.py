"""Who sees what: the public tracking view, the restricted lane and plain-language labels."""

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
from followup_service.domain.routing import Agency

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


@dataclass(frozen=True)
class Viewer:
    role: str  # one of ROLES
    agency_id: str | None = None  # a liaison's agency, or an officer's unit (e.g. polsek-cikande)


def is_publicly_listed(case: Case) -> bool:
    """Sensitive cases never appear in public lists or Open311; only their tracking code works."""
    return not case.sensitive and case.status != "new"


def may_see_details(case: Case, viewer: Viewer) -> bool:
    """Details (raw description, internal notes) go to the assigned unit and supervisors;
    officers also see non-sensitive cases."""
    if viewer.role == "supervisor":
        return True
    assigned = _assigned(case, viewer)
    if case.sensitive:
        return viewer.role in ("liaison", "officer") and assigned
    return viewer.role == "officer" or (viewer.role == "liaison" and assigned)


def _assigned(case: Case, viewer: Viewer) -> bool:
    if case.agency is None or viewer.agency_id is None:
        return False
    if viewer.role == "officer":
        return unit_is_agency(viewer.agency_id, case.agency)
    return viewer.agency_id == case.agency.id


def unit_is_agency(unit: str | None, agency: Agency | None) -> bool:
    """Whether a police unit (an officer's, by id) is this agency: the officers of Polsek
    Cikande (unit polsek-cikande) are the agency named "Polsek Cikande", whose id is scoped
    by its kecamatan's code (polsek-360415)."""
    if not unit or agency is None:
        return False
    named = re.sub(r"[^a-z0-9]+", "-", agency.name.lower()).strip("-")
    return unit in (agency.id, named)


def public_view(case: Case) -> dict:
    """What anyone holding the tracking code sees: never reporter, raw description or notes."""
    status_id, status_en = STATUS_LABELS[case.status]
    if case.outcome is not None:
        status_id, status_en = OUTCOME_LABELS[case.outcome]
    return {
        "tracking_code": case.tracking_code,
        "status": case.status,
        "outcome": case.outcome,
        "status_label": {"id": status_id, "en": status_en},
        "category": case.category,
        "kelurahan": case.kelurahan,
        "kecamatan": case.kecamatan,
        "agency": case.agency.name if case.agency else None,
        "public_summary": case.public_summary,
        "duplicate_of": case.duplicate_of,
        "backing_count": case.backing_count,
        "deadlines": {
            "acknowledge_by": _iso(case.acknowledge_by) if case.status == "routed" else None,
            "resolve_by": _iso(case.resolve_by),
            "verify_by": _iso(case.verify_by),
        },
        "timeline": public_timeline(case.history),
    }


def public_timeline(events: list[CaseEvent]) -> list[dict]:
    """Public entries with Indonesian and English labels; internal notes are left out."""
    entries = []
    agency = ""
    for event in events:
        match event:
            case CaseRouted():
                agency = event.agency_name
            case CaseEscalated():
                agency = event.to_agency_name
        label = _label(event, agency)
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
    return _label(event, "") is not None


def _label(event: CaseEvent, agency: str) -> tuple[str, str] | None:
    match event:
        case CaseOpened():
            return "Aspirasi dicatat", "Aspiration recorded"
        case CaseRouted():
            return f"Diteruskan ke {agency}", f"Forwarded to {agency}"
        case CaseAcknowledged():
            return f"Diterima oleh {agency}", f"Acknowledged by {agency}"
        case ProgressNoted(public=True):
            return f"Perkembangan: {event.text}", f"Progress: {event.text}"
        case CaseEscalated(breach=str(breach)):
            what_id, what_en = BREACH_LABELS[breach]
            return (
                f"Terlambat ({what_id}): dieskalasi ke {agency}",
                f"Overdue ({what_en}): escalated to {agency}",
            )
        case CaseEscalated():
            return f"Dieskalasi ke {agency}", f"Escalated to {agency}"
        case DeadlineMissed():
            what_id, what_en = BREACH_LABELS[event.breach]
            return (
                f"Terlambat ({what_id}) di tingkat tertinggi: {agency}",
                f"Overdue ({what_en}) at the top level: {agency}",
            )
        case CaseDeclined():
            return (
                f"{agency} menyatakan bukan kewenangannya",
                f"{agency} declined: not their responsibility",
            )
        case CaseResolved():
            return (
                f"Dinyatakan selesai oleh {agency}: {event.resolution}",
                f"Reported resolved by {agency}: {event.resolution}",
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


def _iso(value) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None
