"""Bounded bookkeeping: processed event ids are forgotten once Kafka cannot redeliver
them (the topic's retention + segment roll, asked of the real broker), never sooner."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kafka.admin import KafkaAdminClient, NewTopic
from sqlalchemy import insert, select

from followup_service.bootstrap import bootstrap
from followup_service.tables import metadata
from followup_service.worker import prune_processed
from shared.events.topics import INTAKE_EVENTS
from shared.eventstore.consumer import OffsetStore
from shared.eventstore.kafka_io import ensure_topics, redelivery_horizon

pytestmark = pytest.mark.integration
GROUP = "followup.intake-events"


def _ids(fu) -> set[str]:
    processed = metadata.tables["processed_events"]
    with fu.engine.connect() as conn:
        return set(conn.execute(select(processed.c.event_id)).scalars())


def _processed(fu, age: timedelta) -> str:
    event_id = str(uuid.uuid4())
    with fu.engine.begin() as conn:
        conn.execute(
            insert(metadata.tables["processed_events"]).values(
                group_id=GROUP, event_id=event_id, processed_at=datetime.now(UTC) - age
            )
        )
    return event_id


def test_ids_older_than_the_topics_redelivery_horizon_are_pruned_and_recent_ones_stay(
    make_settings,
):
    fu = bootstrap(make_settings("followup"))
    topic = fu.settings.topic(INTAKE_EVENTS)
    admin = KafkaAdminClient(bootstrap_servers=fu.settings.kafka_bootstrap_servers)
    short = {"retention.ms": "4000", "segment.ms": "2000"}
    admin.create_topics([NewTopic(topic, 3, 1, topic_configs=short)])
    admin.close()
    assert redelivery_horizon(fu.settings.kafka_bootstrap_servers, [topic]) == timedelta(seconds=6)
    old = _processed(fu, timedelta(minutes=5))
    recent = _processed(fu, timedelta(seconds=1))
    other_group = str(uuid.uuid4())
    with fu.engine.begin() as conn:
        OffsetStore(metadata, "another-group").claim_unseen(conn, [other_group])
        conn.execute(
            metadata.tables["processed_events"]
            .update()
            .where(metadata.tables["processed_events"].c.event_id == other_group)
            .values(processed_at=datetime.now(UTC) - timedelta(hours=1))
        )

    assert prune_processed(fu, GROUP, margin=timedelta(seconds=10)) == 1
    assert _ids(fu) == {recent, other_group} and old not in _ids(fu)  # this group, old only

    # a redelivery of the recent event is still recognised: nothing is claimed twice
    with fu.engine.begin() as conn:
        assert OffsetStore(metadata, GROUP).claim_unseen(conn, [recent]) == set()
        fresh = str(uuid.uuid4())
        assert OffsetStore(metadata, GROUP).claim_unseen(conn, [recent, fresh]) == {fresh}


def test_with_the_brokers_default_retention_two_weeks_of_ids_are_kept(make_settings):
    fu = bootstrap(make_settings("followup"))
    ensure_topics(fu.settings.kafka_bootstrap_servers, [fu.settings.topic(INTAKE_EVENTS)])
    horizon = redelivery_horizon(
        fu.settings.kafka_bootstrap_servers, [fu.settings.topic(INTAKE_EVENTS)]
    )
    assert horizon >= timedelta(days=7)
    kept = _processed(fu, horizon - timedelta(hours=1))
    gone = _processed(fu, horizon + timedelta(days=2))
    assert prune_processed(fu, GROUP) == 1
    assert _ids(fu) == {kept} and gone not in _ids(fu)


def test_a_topic_that_keeps_records_forever_keeps_every_id(make_settings):
    fu = bootstrap(make_settings("followup"))
    topic = fu.settings.topic(INTAKE_EVENTS)
    admin = KafkaAdminClient(bootstrap_servers=fu.settings.kafka_bootstrap_servers)
    admin.create_topics([NewTopic(topic, 3, 1, topic_configs={"retention.ms": "-1"})])
    admin.close()
    ancient = _processed(fu, timedelta(days=400))
    assert prune_processed(fu, GROUP) == 0
    assert ancient in _ids(fu)
