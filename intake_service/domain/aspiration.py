"""Aspiration: one thing residents raised at a meeting. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecordAspiration:
    aspiration_id: str
    category: str
    summary: str
    description: str
    kelurahan: str


class UnknownCategoryError(ValueError):
    def __init__(self, category: str, known: list[str]):
        self.category, self.known = category, known
        super().__init__(f"unknown category {category!r}")


def recorded_event(command: RecordAspiration, tracking_code: str) -> dict:
    """The AspirationRecorded payload for a new aspiration."""
    return {
        "aspiration_id": command.aspiration_id,
        "tracking_code": tracking_code,
        "category": command.category,
        "summary": command.summary,
        "description": command.description,
        "kelurahan": command.kelurahan,
    }
