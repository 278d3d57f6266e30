"""Turns intake events from Kafka into case commands, inside the consumer's transaction.

Idempotent: the runner drops redelivered event ids, opening skips a case that exists,
and amendments or withdrawals of a case that can no longer change are ignored. A poll
is handled as one batch (see IntakeEventHandler.handle_batch).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from sqlalchemy import Connection, delete

from followup_service import handlers
from followup_service.bootstrap import Followup
from followup_service.domain.routing import Area
from followup_service.tables import metadata
from shared.events.envelope import EventEnvelope
from shared.eventstore.consumer import OffsetStore
from shared.regions.dataset import load_directory
from shared.regions.directory import RegionDirectory
from shared.units import unit_id

log = logging.getLogger(__name__)

# The intake events that change cases; others on the topic are skipped.
HANDLED = frozenset(
    {
        "AspirationRecorded",
        "AspirationAmended",
        "AspirationBacked",
        "AspirationWithdrawn",
        "PhotosRemoved",
    }
)
_REGION_PREFIXES = {"kab": "kab", "kabupaten": "kab", "kota": "kota", "kot": "kota"}


def slug(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")


def region_slug(kabupaten: str | None) -> str:
    """ "Kab. Serang" / "Kabupaten Serang" -> "kab-serang"; "Kota Serang" -> "kota-serang"."""
    words = slug(kabupaten).split("-")
    if words and words[0] in _REGION_PREFIXES:
        words[0] = _REGION_PREFIXES[words[0]]
    return "-".join(w for w in words if w)


def area_of(payload: dict, directory: RegionDirectory | None = None) -> Area:
    """The case's area: `region` is the Kemendagri code of the most specific region the
    location names unambiguously (a code the location carries wins); when the names match
    nothing, the typed names' path ("kab-x/kecamatan"), routed as "lokasi belum
    terverifikasi" until a person fixes it."""
    location = payload.get("location") or {}
    kecamatan = location.get("kecamatan") or ""
    kelurahan = location.get("kelurahan") or payload["kelurahan"]
    directory = directory if directory is not None else load_directory()
    code = location.get("region_code")
    if not (code and code in directory):
        code = directory.resolve(location.get("kabupaten"), kecamatan, kelurahan).code
    if code:
        return Area(code, kecamatan, kelurahan)
    region = region_slug(location.get("kabupaten"))
    if region and kecamatan:
        region = f"{region}/{slug(kecamatan)}"
    return Area(region, kecamatan, kelurahan)


def open_case_command(payload: dict) -> handlers.OpenCase:
    return handlers.OpenCase(
        aspiration_id=str(payload["aspiration_id"]),
        tracking_code=payload["tracking_code"],
        category=payload["category"],
        area=area_of(payload),
        # Only what the officer wrote for the public: the internal summary never goes
        # public (an empty one shows the category's neutral sentence).
        public_summary=(payload.get("public_summary") or "").strip(),
        description=payload.get("description") or "",
        urgency=payload.get("urgency") or "normal",
        confidential=bool(payload.get("confidential")),
        unit=unit_id(payload.get("unit")) or "",
        backing_count=payload.get("backing_count") or 0,
        backing_groups=tuple(payload.get("backing_groups") or ()),
        meeting_id=str(payload["meeting_id"]) if payload.get("meeting_id") else None,
        photos=tuple(payload.get("photos") or ()),
    )


class IntakeEventHandler:
    """The consumer's handler: intake events -> case commands, in the runner's transaction.

    handle_batch() takes a whole poll: it loads every case the poll names in one query,
    decides each event in memory in poll order (a case's later events see its earlier
    ones), and writes all new events and read-model rows in one flush. Calling the
    handler with one event is the same with a batch of one.

    Cases changed in the current transaction are collected; after_commit() puts their
    views in the tracking cache (the runner calls it once a poll has committed),
    after_rollback() forgets them. A transaction on a new connection starts afresh, so
    callers without the hooks never refresh from a transaction that did not commit.
    """

    def __init__(self, fu: Followup):
        self.fu = fu
        self.touched: handlers.Touched = {}
        self._conn: Connection | None = None

    def __call__(self, conn: Connection, event: EventEnvelope) -> None:
        self.handle_batch(conn, [event])

    def handle_batch(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        if conn is not self._conn:
            self.touched.clear()
            self._conn = conn
        work = handlers.Work(self.fu, conn, self.touched)
        work.preload(
            handlers.case_stream_id(str(e.payload["aspiration_id"]))
            for e in events
            if e.event_type in HANDLED
        )
        for event in events:
            self._decide(work, event)
        work.flush()

    @staticmethod
    def _decide(work: handlers.Work, event: EventEnvelope) -> None:
        p = event.payload
        if event.event_type == "AspirationRecorded":
            handlers.open_case(work, open_case_command(p), event)
        elif event.event_type == "AspirationAmended":
            location = p["changes"].get("location")
            area = area_of({"location": location, "kelurahan": ""}) if location else None
            handlers.amend_from_intake(
                work, str(p["aspiration_id"]), p["changes"], p.get("previous", {}), event, area
            )
        elif event.event_type == "AspirationBacked":
            handlers.back_from_intake(work, str(p["aspiration_id"]), p, event)
        elif event.event_type == "PhotosRemoved":  # withdrawn or erased at intake (issue 25)
            handlers.remove_photos_from_intake(
                work, str(p["aspiration_id"]), [str(i) for i in p["photo_ids"]], p["reason"], event
            )
        elif event.event_type == "AspirationWithdrawn":
            handlers.withdraw_from_intake(
                work,
                str(p["aspiration_id"]),
                p["reason"],
                p.get("duplicate_of"),
                p.get("note", ""),
                event,
            )

    def after_commit(self) -> None:
        touched, self.touched, self._conn = self.touched, {}, None
        handlers.refresh_cache(self.fu, touched)

    def after_rollback(self) -> None:
        self.touched, self._conn = {}, None


def make_intake_event_handler(fu: Followup) -> IntakeEventHandler:
    return IntakeEventHandler(fu)


def reset_offsets(conn: Connection, group_id: str) -> int:
    """Forget where `group_id` stands on every topic, so its next start reads from the beginning.

    The ids of processed events are kept: replayed records are recognised and skipped, and
    opening a case that exists is a no-op anyway, so a replay never duplicates a case or
    an event. Stop the group's consumers first (a running one would write its offsets back).
    """
    offsets = metadata.tables["consumer_offsets"]
    return conn.execute(delete(offsets).where(offsets.c.group_id == group_id)).rowcount


def move_offsets(conn: Connection, group_id: str, positions: dict) -> list[tuple]:
    """Store `positions` (topic partition -> offset, as kafka_io.positions_at answers) as
    where `group_id` reads next; returns (partition, before, after) per partition.

    Moving back re-reads records: processed ids make each a no-op unless its effects are
    missing (a database restored from an older backup), so nothing is doubled. Moving
    forward skips records for good. Stop the group's consumers first: a running one keeps
    its own position and would write it back.
    """
    store = OffsetStore(metadata, group_id)
    before = store.load(conn, positions)
    store.save(conn, positions)
    return [(tp, before.get(tp), offset) for tp, offset in sorted(positions.items())]
