"""Follow-up service processes and admin commands.

python -m followup_service.cli migrate    # create/upgrade the database schema
python -m followup_service.cli api [--port 8002]
python -m followup_service.cli consumer   # intake events -> cases
python -m followup_service.cli relay      # case events outbox -> Kafka
"""

from __future__ import annotations

import argparse
import logging
import os

from followup_service.config import load_settings

SERVICE_DIR = os.path.dirname(os.path.abspath(__file__))
CONSUMER_GROUP = "followup.intake-events"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="followup")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate")
    api = sub.add_parser("api")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=int(os.environ.get("FOLLOWUP_PORT", 8002)))
    sub.add_parser("consumer")
    sub.add_parser("relay")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s followup %(levelname)s %(message)s")
    settings = load_settings()

    if args.command == "migrate":
        from shared.migrations import upgrade

        upgrade(SERVICE_DIR, settings.database_url)
        return
    if args.command == "api":
        from followup_service.app import create_app

        create_app(settings).run(host=args.host, port=args.port, threaded=True)
        return

    from followup_service.bootstrap import bootstrap
    from followup_service.tables import metadata
    from shared.events.topics import CASE_EVENTS, INTAKE_EVENTS
    from shared.processes import run_consumer, run_relay, stop_on_signals

    followup = bootstrap(settings)
    stop = stop_on_signals()
    if args.command == "consumer":
        from followup_service.consumers import make_intake_event_handler

        group = settings.consumer_group or f"{settings.topic_prefix}.{CONSUMER_GROUP}"
        run_consumer(
            settings,
            followup.engine,
            metadata,
            [settings.topic(INTAKE_EVENTS)],
            group,
            make_intake_event_handler(followup),
            stop,
        )
    elif args.command == "relay":
        run_relay(settings, followup.engine, metadata, settings.topic(CASE_EVENTS), stop)


if __name__ == "__main__":
    main()
