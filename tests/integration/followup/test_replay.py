"""Read models rebuilt from the event store equal the ones kept live."""

import pytest
from sqlalchemy import select

from followup_service.cli import main as cli_main
from followup_service.tables import case_timeline, cases
from followup_service.worker import sweep

pytestmark = pytest.mark.integration


def _dump(engine) -> tuple[list, list]:
    with engine.connect() as conn:
        return (
            [tuple(r) for r in conn.execute(select(cases).order_by(cases.c.case_id))],
            [
                tuple(r)
                for r in conn.execute(
                    select(case_timeline).order_by(case_timeline.c.case_id, case_timeline.c.seq)
                )
            ],
        )


def test_rebuilt_read_models_equal_live_ones_when_replayed_from_the_event_store(
    followup, monkeypatch
):
    lighting = followup.open("street_lighting")
    followup.open("tawuran")
    politics = followup.open("money_politics")
    liaison = followup.liaison("dishub-kab-serang")
    followup.post(lighting["id"], "acknowledge", liaison)
    followup.post(lighting["id"], "progress", liaison, text="internal", public=False)
    followup.post(politics["id"], "decline", followup.liaison("panwascam-cikande"), reason="Bukan")
    followup.clock.advance(days=9)
    sweep(followup.fu)
    live = _dump(followup.fu.engine)
    assert len(live[0]) == 3 and len(live[1]) > 10

    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", followup.settings.database_url)
    cli_main(["rebuild-projections"])

    assert _dump(followup.fu.engine) == live
