"""Photo references in the case's own stream (issue 25): attach, remove, who may remove."""

from datetime import datetime, timedelta

import pytest

from followup_service.domain.case import (
    MAX_PROOF_PHOTOS,
    Case,
    InvalidCommandError,
    PhotoNotFoundError,
    may_remove_photo,
)
from followup_service.domain.deadlines import JAKARTA

T0 = datetime(2026, 2, 5, 9, 0, tzinfo=JAKARTA)
T1 = T0 + timedelta(hours=1)
SHA = "cd" * 32


def _attach(case, photo_id, kind="after", agency="dishub-3604"):
    return case.attach_photo(
        photo_id=photo_id, sha256=SHA, public=False, kind=kind, agency_id=agency, now=T1, actor="l"
    )


def test_a_photo_attached_then_removed_folds_back_to_the_same_state_from_its_events(open_case):
    case = open_case("street_lighting")
    before = case.version
    events = _attach(case, "p1") + _attach(case, "p2", kind="before", agency=None)
    assert [p.photo_id for p in case.photos] == ["p1", "p2"]
    assert case.version == before + 2 and case.status == "routed"
    assert _attach(case, "p1") == []  # the same id again: nothing new
    events += case.remove_photo("p1", reason="permintaan penghapusan", now=T1, actor="l")
    assert [p.photo_id for p in case.photos] == ["p2"]
    folded = Case.from_events(case.history)
    assert folded.photos == case.photos and len(events) == 3
    assert folded.photos[0].added_at == T1 and folded.photos[0].added_by == "l"


def test_removing_a_photo_twice_or_without_a_reason_is_refused(open_case):
    case = open_case("street_lighting")
    _attach(case, "p1")
    with pytest.raises(InvalidCommandError):
        case.remove_photo("p1", reason="  ", now=T1, actor="l")
    case.remove_photo("p1", reason="erasure", now=T1, actor="l")
    with pytest.raises(PhotoNotFoundError):
        case.remove_photo("p1", reason="erasure", now=T1, actor="l")


def test_proof_photos_are_bounded_per_case(open_case):
    case = open_case("street_lighting")
    for i in range(MAX_PROOF_PHOTOS):
        _attach(case, f"p{i}")
    with pytest.raises(InvalidCommandError):
        _attach(case, "one-more")
    assert _attach(case, "b", kind="before") != []  # the aspiration's photos are not proof


def test_who_may_remove_which_photo(open_case):
    case = open_case("street_lighting")
    _attach(case, "proof", agency="dishub-3604")
    _attach(case, "aspiration", kind="before", agency=None)
    proof, aspiration = case.photo("proof"), case.photo("aspiration")
    assert may_remove_photo(proof, "liaison", "dishub-3604")
    assert not may_remove_photo(proof, "liaison", "pln-3604")  # not their agency's
    assert not may_remove_photo(aspiration, "liaison", "dishub-3604")
    assert may_remove_photo(aspiration, "officer", None)
    assert may_remove_photo(aspiration, "supervisor", None)
    assert not may_remove_photo(proof, "officer", None)
    assert may_remove_photo(proof, "admin", None) and may_remove_photo(aspiration, "admin", None)
    assert not may_remove_photo(aspiration, "resident", None)
