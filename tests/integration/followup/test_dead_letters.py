"""Dead letters of the intake topic: listed, shown and, once the cause is fixed, replayed once.

The poison is what happens when intake is deployed ahead of follow-up: an
AspirationRecorded one version past this build's (NEXT) that it has no schema for. The
fix is the follow-up build that knows NEXT (a schema and the upcaster to it), as a
deploy would bring it.
"""

import json
import uuid
from dataclasses import replace

import pytest
from marshmallow import fields
from sqlalchemy import func, select

from followup_service.cli import main as cli_main
from followup_service.tables import cases, metadata
from shared.events import REGISTRY
from shared.events.topics import INTAKE_EVENTS
from shared.eventstore.dead_letters import read_dead_letters
from tests.integration.followup.conftest import aspiration_recorded
from tests.support import wait_for

pytestmark = pytest.mark.integration


NEXT = REGISTRY.latest_version("AspirationRecorded") + 1


def recorded_v_next():
    """An AspirationRecorded as a newer intake writes it: NEXT adds `reported_via`."""
    current = REGISTRY.upcast(
        aspiration_recorded("road_damage", summary="Jalan berlubang di depan SDN Cikande 2")
    )
    payload = {**current.payload, "unit": "polsek-cikande", "reported_via": "whatsapp"}
    return replace(current, schema_version=NEXT, payload=payload)


def deploy_follow_up_that_knows_v_next(monkeypatch) -> None:
    """The fix: register AspirationRecorded NEXT (undone at the end of the test)."""
    for name in ("_schemas", "_upcasters", "_latest"):
        monkeypatch.setattr(REGISTRY, name, dict(getattr(REGISTRY, name)))
    latest = type(REGISTRY.schema("AspirationRecorded", NEXT - 1))

    @REGISTRY.event("AspirationRecorded", version=NEXT)
    class AspirationRecordedNext(latest):
        reported_via = fields.String(load_default="meeting")

    @REGISTRY.upcaster("AspirationRecorded", from_version=NEXT - 1)
    def _to_next(payload: dict) -> dict:
        return {**payload, "reported_via": "meeting"}


def cli(capsys, *argv: str) -> tuple[int, str]:
    """Run the follow-up CLI in-process: (exit status, stdout)."""
    try:
        cli_main(list(argv))
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, capsys.readouterr().out


def snapshot(engine, aspiration_id: str) -> dict:
    events = metadata.tables["events"]
    with engine.connect() as conn:
        return {
            "events": conn.execute(select(func.count()).select_from(events)).scalar(),
            "cases": conn.execute(select(func.count()).select_from(cases)).scalar(),
            "its events": conn.execute(
                select(events.c.event_type).where(events.c.stream_id == f"case-{aspiration_id}")
            )
            .scalars()
            .all(),
        }


def case_exists(engine, aspiration_id: str) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                select(func.count()).where(cases.c.case_id == f"case-{aspiration_id}")
            ).scalar()
        )


@pytest.fixture
def cli_env(followup, monkeypatch):
    settings = followup.settings
    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FOLLOWUP_TOPIC_PREFIX", settings.topic_prefix)
    monkeypatch.setenv("FOLLOWUP_REDIS_KEY_PREFIX", settings.redis_key_prefix)
    monkeypatch.setenv("FOLLOWUP_KAFKA_BOOTSTRAP_SERVERS", settings.kafka_bootstrap_servers)
    monkeypatch.setenv("FOLLOWUP_REDIS_URL", settings.redis_url)


def test_a_poisoned_record_is_listed_shown_and_after_the_fix_replayed_exactly_once(
    followup, pipeline, cli_env, monkeypatch, capsys
):
    settings, engine = followup.settings, followup.fu.engine
    topic = settings.topic(INTAKE_EVENTS)
    poisoned, good = recorded_v_next(), aspiration_recorded()
    poisoned_id = poisoned.payload["aspiration_id"]
    pipeline(poisoned)
    pipeline(good)

    # Dead-lettered: the consumer moved on past it (the good event made its case).
    wait_for(lambda: case_exists(engine, good.payload["aspiration_id"]), 60, what="good case")
    letters = wait_for(
        lambda: read_dead_letters(settings.kafka_bootstrap_servers, topic), 60, what="dead letter"
    )
    assert [letter.key for letter in letters] == [poisoned.stream_id.encode()]
    position = f"{letters[0].partition}:{letters[0].offset}"
    assert not case_exists(engine, poisoned_id)

    status, out = cli(capsys, "dead-letters", "list")
    assert status == 0
    assert f"{topic}.dead-letter" in out
    (line,) = [row for row in out.splitlines() if row.startswith(position)]
    for expected in (
        poisoned.stream_id,
        f"AspirationRecorded v{NEXT}",
        "EventSchemaError",
        "pending",
    ):
        assert expected in line

    status, out = cli(capsys, "dead-letters", "list", "--json")
    (listed,) = [json.loads(row) for row in out.splitlines()]
    assert listed["position"] == position and listed["event_id"] == poisoned.event_id
    assert listed["event_type"] == "AspirationRecorded" and listed["schema_version"] == NEXT
    assert listed["error"] == "EventSchemaError" and listed["status"] == "pending"
    assert "Unknown event type" in listed["reason"]

    status, out = cli(capsys, "dead-letters", "show", position)
    assert status == 0
    assert f"original_topic: {topic}" in out
    assert "dead_letter_error: EventSchemaError" in out
    assert '"Unknown event type."' in out  # the reason header, pretty-printed
    assert f'"tracking_code": "{poisoned.payload["tracking_code"]}"' in out  # the value
    assert '"reported_via": "whatsapp"' in out
    assert cli(capsys, "dead-letters", "show", "7:9999")[0] == 1  # no such record

    # Before the fix a replay fails and leaves everything as it was.
    before = snapshot(engine, poisoned_id)
    status, out = cli(capsys, "dead-letters", "replay", "--all")
    assert status == 1 and f"{position}  failed  EventSchemaError" in out
    assert snapshot(engine, poisoned_id) == before
    assert json.loads(cli(capsys, "dead-letters", "list", "--json")[1])["status"] == "pending"

    deploy_follow_up_that_knows_v_next(monkeypatch)
    status, out = cli(capsys, "dead-letters", "replay", "--all")
    assert status == 0 and f"{position}  replayed  AspirationRecorded {poisoned.event_id}" in out
    after = snapshot(engine, poisoned_id)
    assert after["cases"] == before["cases"] + 1
    assert after["its events"] == ["CaseOpened", "CaseRouted"]
    assert after["events"] == before["events"] + len(after["its events"])
    tracked = followup.client.get(f"/api/v1/track/{poisoned.payload['tracking_code']}")
    assert tracked.status_code == 200

    # Again, by position or --all, and the event redelivered on the topic: nothing more.
    status, out = cli(capsys, "dead-letters", "replay", position)
    assert status == 0 and f"{position}  already replayed" in out
    status, out = cli(capsys, "dead-letters", "replay", "--all")
    assert status == 0 and out.strip() == "nothing to replay"
    pipeline(poisoned)  # the producer resends it; the fixed consumer decodes it now
    marker = aspiration_recorded()
    pipeline(marker)
    wait_for(lambda: case_exists(engine, marker.payload["aspiration_id"]), 60, what="marker")
    final = snapshot(engine, poisoned_id)
    assert final["its events"] == after["its events"]
    assert final["cases"] == after["cases"] + 1  # the marker's case only

    listed = json.loads(cli(capsys, "dead-letters", "list", "--json")[1])
    assert listed["status"] == "replayed" and listed["replayed_at"]


def test_replay_arguments_are_checked(cli_env, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["dead-letters", "replay"])  # neither positions nor --all
    assert exc.value.code == 2
    assert cli(capsys, "dead-letters", "show", f"not-a-position-{uuid.uuid4().hex[:4]}")[0] == 2
    status, out = cli(capsys, "dead-letters", "list")
    assert status == 0 and "no dead letters" in out
