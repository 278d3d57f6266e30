"""The pure intake domain: state folded from events, and the decisions taken on it."""

from datetime import UTC, datetime

import pytest

from intake_service.domain import aspiration as decide
from intake_service.domain.aspiration import Aspiration
from intake_service.domain.commands import (
    AmendAspiration,
    BackAspiration,
    RecordAspiration,
    RecordMeeting,
    Reporter,
    WithdrawAspiration,
)
from intake_service.domain.errors import ConflictError, InvalidError
from intake_service.domain.meeting import Meeting, meeting_recorded

A, B, M = "5d1f7c3e-0000-4000-8000-0000000000a1", "5d1f7c3e-0000-4000-8000-0000000000b2", "m-1"
PLACE = {"kecamatan": "Bekasi Selatan", "kelurahan": "Pekayon Jaya", "rw": "18"}
MEETING = Meeting(M, "Polsek Bekasi Selatan", "2024-10-06T20:00:00+07:00", PLACE)


def _record(**overrides) -> RecordAspiration:
    values = {"aspiration_id": A, "category": "tawuran", "summary": "Info tawuran"}
    return RecordAspiration(**{**values, **overrides})


def _state(*more_events, command=None) -> Aspiration:
    recorded = decide.recorded_event(command or _record(), "KA-7GQ4-M2", MEETING, MEETING.unit)
    return Aspiration.from_events([("AspirationRecorded", recorded), *more_events])


def test_location_defaults_to_the_meetings_place_when_none_is_given():
    payload = decide.recorded_event(_record(), "KA-7GQ4-M2", MEETING, MEETING.unit)
    assert payload["location"] == PLACE
    assert payload["kelurahan"] == "Pekayon Jaya"
    assert payload["raised_at"] == MEETING.held_at
    assert payload["meeting_id"] == M


def test_own_location_is_kept_when_the_aspiration_names_one():
    own = {"kelurahan": "Jaka Setia", "rt": "003"}
    payload = decide.recorded_event(_record(location=own), "KA-7GQ4-M2", MEETING, MEETING.unit)
    assert payload["location"] == own and payload["kelurahan"] == "Jaka Setia"


def test_kelurahan_is_required_when_there_is_no_meeting():
    with pytest.raises(InvalidError) as err:
        decide.recorded_event(_record(), "KA-7GQ4-M2", None, "Polsek X")
    assert err.value.field == "location"


def test_reporter_never_appears_in_the_public_payload_when_one_is_given():
    reporter = Reporter("Ibu Sri", "person", "+62 812")
    payload = decide.recorded_event(_record(raised_by=reporter), "KA-7GQ4-M2", MEETING, "u")
    assert "Ibu Sri" not in repr(payload) and "+62 812" not in repr(payload)
    private = decide.reporter_event(A, reporter)
    assert (private["name"], private["contact"]) == ("Ibu Sri", "+62 812")


def test_state_folds_backing_amendments_and_withdrawal_when_replayed():
    state = _state(
        ("AspirationBacked", {"backing_id": "b1", "total_count": 12}),
        ("AspirationAmended", {"changes": {"urgency": "high"}}),
        ("ReporterIdentified", {"name": "x"}),
        ("AspirationWithdrawn", {"reason": "recorded_by_mistake"}),
    )
    assert (state.backing_count, state.fields["urgency"], state.withdrawn) == (12, "high", True)
    assert state.version == 5
    assert state.message_key == f"meeting-{M}"


def test_no_state_when_the_stream_is_empty():
    assert Aspiration.from_events([]) is None
    assert Meeting.from_events([]) is None


def test_amendment_carries_only_real_changes_and_previous_values_when_amended():
    command = AmendAspiration(A, {"urgency": "high", "summary": "Info tawuran"}, reason="lebih")
    payload = decide.amended_event(_state(), command, "officer:budi")
    assert payload["changes"] == {"urgency": "high"}
    assert payload["previous"] == {"urgency": "normal"}
    assert (payload["reason"], payload["amended_by"]) == ("lebih", "officer:budi")


def test_amendment_is_refused_when_nothing_changes():
    with pytest.raises(ConflictError):
        decide.amended_event(_state(), AmendAspiration(A, {"urgency": "normal"}, reason="x"), "a")


def test_only_private_change_gives_no_public_event_when_just_the_reporter_changes():
    command = AmendAspiration(A, {}, raised_by=Reporter("Pak RT"), reason="salah nama")
    assert decide.amended_event(_state(), command, "officer:budi") is None


def test_withdrawn_aspiration_refuses_amendment_backing_and_second_withdrawal():
    state = _state(("AspirationWithdrawn", {}))
    with pytest.raises(ConflictError):
        decide.amended_event(state, AmendAspiration(A, {"urgency": "high"}, reason="x"), "a")
    with pytest.raises(ConflictError):
        decide.backed_event(state, BackAspiration(A, "b1", 3))
    with pytest.raises(ConflictError):
        decide.withdrawn_event(state, WithdrawAspiration(A, "recorded_by_mistake"), None, "a")


def test_duplicate_withdrawal_names_the_other_when_it_is_open():
    other = _state(command=_record(aspiration_id=B))
    payload = decide.withdrawn_event(_state(), WithdrawAspiration(A, "duplicate_of", B), other, "a")
    assert (payload["reason"], payload["duplicate_of"]) == ("duplicate_of", B)


@pytest.mark.parametrize("duplicate_of, other", [(A, None), (B, None), (B, "withdrawn")])
def test_duplicate_withdrawal_is_refused_when_the_other_is_itself_missing_or_withdrawn(
    duplicate_of, other
):
    target = None
    if other == "withdrawn":
        target = _state(("AspirationWithdrawn", {}), command=_record(aspiration_id=B))
    with pytest.raises(InvalidError) as err:
        decide.withdrawn_event(
            _state(), WithdrawAspiration(A, "duplicate_of", duplicate_of), target, "a"
        )
    assert err.value.field == "duplicate_of"


def test_backing_adds_to_the_total_when_residents_back_it():
    state = _state(("AspirationBacked", {"backing_id": "b1", "total_count": 10}))
    payload = decide.backed_event(state, BackAspiration(A, "b2", 5, ("APOC",), M))
    assert (payload["count"], payload["total_count"], payload["groups"]) == (5, 15, ["APOC"])


def test_link_counts_at_least_one_resident_when_a_repeat_is_linked():
    repeat = _record(aspiration_id=B, supports=A)
    payload = decide.linked_event(_state(), repeat, MEETING)
    assert (payload["backing_id"], payload["count"], payload["total_count"]) == (B, 1, 1)
    assert payload["linked_summary"] == "Info tawuran"


@pytest.mark.parametrize(
    "overrides", [{"category": "narcotics"}, {"location": {"kelurahan": "Jaka Setia"}}]
)
def test_link_is_refused_when_kelurahan_or_category_differ(overrides):
    with pytest.raises(InvalidError) as err:
        decide.linked_event(_state(), _record(aspiration_id=B, supports=A, **overrides), MEETING)
    assert err.value.field == "supports"


def test_meeting_payload_keeps_the_offset_when_recorded():
    held_at = datetime(2024, 10, 6, 13, 0, tzinfo=UTC)
    command = RecordMeeting(M, "ngopi_kamtibmas", held_at, "Polsek A", PLACE, "Kompol U")
    assert meeting_recorded(command)["held_at"] == "2024-10-06T13:00:00+00:00"
