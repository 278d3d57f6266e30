"""Follow-up service processes and admin commands.

python -m followup_service.cli migrate               # create/upgrade the database schema
python -m followup_service.cli api [--port 8002]
python -m followup_service.cli consumer [--reset]    # intake events -> cases
python -m followup_service.cli reset-consumer        # replay the intake topic from the start
python -m followup_service.cli relay                 # case events outbox -> Kafka
python -m followup_service.cli worker [--interval 30]  # deadlines: escalate, auto-close
python -m followup_service.cli rebuild-projections   # truncate read models, replay events
python -m followup_service.cli create-admin --username NAME --display-name "..."
python -m followup_service.cli demo-accounts         # development only: one account per role
python -m followup_service.cli prune-processed       # forget ids Kafka can't redeliver
"""

from __future__ import annotations

import argparse
import logging
import os
import time

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
    consumer = sub.add_parser("consumer")
    consumer.add_argument(
        "--reset", action="store_true", help="forget the stored offsets first: replay the topic"
    )
    sub.add_parser(
        "reset-consumer",
        help="delete the intake consumer group's stored offsets (stop the consumers first)",
    )
    sub.add_parser("relay")
    worker = sub.add_parser("worker")
    worker.add_argument("--interval", type=float, default=30.0, help="seconds between sweeps")
    sub.add_parser("rebuild-projections")
    admin = sub.add_parser(
        "create-admin", help="create an admin account; prints its one-time password"
    )
    admin.add_argument("--username", required=True)
    admin.add_argument("--display-name", required=True)
    sub.add_parser("demo-accounts", help="development only: demo accounts for every role")
    sub.add_parser(
        "prune-processed",
        help="forget processed intake event ids Kafka can no longer redeliver (the worker "
        "does this every 10 minutes)",
    )
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
    group = consumer_group(settings)
    if args.command == "reset-consumer" or getattr(args, "reset", False):
        from followup_service.consumers import reset_offsets

        with followup.engine.begin() as conn:
            count = reset_offsets(conn, group)
        print(f"consumer group {group}: forgot {count} stored offsets; next start replays")
        if args.command == "reset-consumer":
            return
    if args.command == "rebuild-projections":
        from followup_service.accounts import rebuild_accounts
        from followup_service.projections import rebuild

        started = time.monotonic()
        with followup.engine.begin() as conn:
            count = rebuild(conn, followup.store, followup.rules)
            count += rebuild_accounts(conn, followup.store)
        print(f"replayed {count} events in {time.monotonic() - started:.1f}s")
        return
    if args.command == "prune-processed":
        from followup_service.worker import prune_processed

        print(f"pruned {prune_processed(followup, group)} processed event ids")
        return
    if args.command in ("create-admin", "demo-accounts"):
        from followup_service import account_cli

        if args.command == "create-admin":
            account_cli.create_admin(followup, args.username, args.display_name)
        else:
            account_cli.demo_accounts(followup)
        return
    stop = stop_on_signals()
    if args.command == "consumer":
        from followup_service.consumers import make_intake_event_handler

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
    elif args.command == "worker":
        from followup_service.worker import run_worker

        run_worker(followup, stop, args.interval, group_id=group)


def consumer_group(settings) -> str:
    """The intake consumer's group: FOLLOWUP_CONSUMER_GROUP, else per topic prefix."""
    return settings.consumer_group or f"{settings.topic_prefix}.{CONSUMER_GROUP}"


if __name__ == "__main__":
    main()
