"""The deadline worker with a moved clock, alone and as two replicas."""

import threading

import pytest
from sqlalchemy import select

from followup_service.bootstrap import bootstrap
from followup_service.tables import metadata
from followup_service.worker import sweep

pytestmark = pytest.mark.integration


def _escalations(fu) -> list:
    events = metadata.tables["events"]
    with fu.engine.connect() as conn:
        return conn.execute(
            select(events.c.stream_id, events.c.payload).where(
                events.c.event_type == "CaseEscalated"
            )
        ).all()


def test_one_escalation_per_breach_when_two_workers_sweep_the_same_overdue_cases(followup):
    opened = [followup.open("street_lighting") for _ in range(6)]
    replica = bootstrap(followup.settings, clock=followup.clock)  # a second worker process
    followup.clock.advance(days=8)  # the 5 working days to acknowledge have passed
    barrier = threading.Barrier(2)

    def work(fu):
        barrier.wait()
        sweep(fu)

    threads = [threading.Thread(target=work, args=(fu,)) for fu in (followup.fu, replica)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sweep(followup.fu)  # a later sweep finds nothing new at the same time
    sweep(replica)

    escalations = _escalations(followup.fu)
    assert sorted(stream for stream, _ in escalations) == sorted(c["id"] for c in opened)
    assert {p["breach"] for _, p in escalations} == {"acknowledge"}
    case = followup.client.get(f"/api/v1/cases/{opened[0]['id']}", headers=followup.supervisor)
    assert case.json["agency"]["id"] == "kadishub-3604"
    assert case.json["public_timeline"][-1]["en"].startswith("Overdue (response)")


def test_case_climbs_ladder_once_per_breach_when_time_keeps_moving(followup):
    case = followup.open("tawuran")  # acknowledge within 1 working day, Polsek -> Polres
    followup.clock.advance(days=1, hours=1)
    assert sweep(followup.fu) == 1
    followup.clock.advance(days=3)
    assert sweep(followup.fu) == 1  # top of the ladder: the miss is recorded, not escalated
    assert sweep(followup.fu) == 0

    detail = followup.client.get(f"/api/v1/cases/{case['id']}", headers=followup.supervisor).json
    assert [e["event"] for e in detail["timeline"]][-2:] == ["CaseEscalated", "DeadlineMissed"]
    assert detail["agency"]["id"] == "polres-samapta-3604"


def test_case_closes_resolved_verified_when_quiet_period_passes_without_dispute(followup):
    case = followup.open("street_lighting")
    followup.post(case["id"], "resolve", followup.liaison("dishub-3604"), resolution="Beres")
    followup.clock.advance(days=3)
    assert sweep(followup.fu) == 0

    followup.clock.advance(days=7)  # 5 working days after the resolution
    assert sweep(followup.fu) == 1

    tracked = followup.client.get(f"/api/v1/track/{case['tracking_code']}").json
    assert (tracked["status"], tracked["outcome"]) == ("closed", "resolved_verified")


def _deadline_counts() -> dict:
    from prometheus_client import REGISTRY

    return {
        (name, deadline): REGISTRY.get_sample_value(name, {"deadline": deadline})
        for name in ("kawal_deadline_breaches_total", "kawal_deadline_escalations_total")
        for deadline in ("acknowledge", "resolve")
    }


def test_breaches_and_escalations_are_counted_once_each_as_the_worker_commits_them(followup):
    followup.open("tawuran")  # acknowledge within 1 working day, Polsek -> Polres
    before = _deadline_counts()
    followup.clock.advance(days=1, hours=1)
    assert sweep(followup.fu) == 1  # escalated to Polres
    followup.clock.advance(days=3)
    assert sweep(followup.fu) == 1  # top of the ladder: the miss is a breach, no escalation
    assert sweep(followup.fu) == 0  # nothing new: nothing counted
    moved = {key: count - before[key] for key, count in _deadline_counts().items()}
    assert moved == {
        ("kawal_deadline_breaches_total", "acknowledge"): 2,
        ("kawal_deadline_breaches_total", "resolve"): 0,
        ("kawal_deadline_escalations_total", "acknowledge"): 1,
        ("kawal_deadline_escalations_total", "resolve"): 0,
    }
