"""Follow-up service processes and admin commands.

python -m followup_service.cli migrate               # create/upgrade the database schema
python -m followup_service.cli api [--port 8002]
python -m followup_service.cli consumer [--reset]    # intake events -> cases
python -m followup_service.cli reset-consumer        # replay the intake topic from the start
python -m followup_service.cli move-consumer --to-time 2026-11-24T18:00+07:00 | --to-beginning
                                             | --to-end  [--dry-run]   # consumers stopped
python -m followup_service.cli relay                 # case events outbox -> Kafka
python -m followup_service.cli notifier              # case events -> residents' messages
python -m followup_service.cli notifications dead-letters | replay (KEY ... | --all)
python -m followup_service.cli worker [--interval 30]  # deadlines: escalate, auto-close
python -m followup_service.cli rebuild-projections   # replay into fresh read models, swap in
python -m followup_service.cli create-admin --username NAME --display-name "..."
python -m followup_service.cli demo-accounts         # development only: one account per role
python -m followup_service.cli prune-processed       # forget ids Kafka can't redeliver
python -m followup_service.cli dead-letters list|show P:O|replay (P:O ... | --all)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime

from followup_service.config import load_settings
from shared import logs

SERVICE_DIR = os.path.dirname(os.path.abspath(__file__))
CONSUMER_GROUP = "followup.intake-events"


def _instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset (a time without one is ambiguous here)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            "an ISO 8601 instant, e.g. 2026-11-24T18:00+07:00"
        ) from None
    if moment.utcoffset() is None:
        raise argparse.ArgumentTypeError("give the offset too, e.g. +07:00 or Z")
    return moment


def move_consumer(args, followup, group: str) -> None:
    from followup_service.consumers import move_offsets
    from shared.events.topics import INTAKE_EVENTS
    from shared.eventstore.kafka_io import positions_at

    settings = followup.settings
    when = args.to_time or ("beginning" if args.to_beginning else "end")
    positions = positions_at(settings.kafka_bootstrap_servers, settings.topic(INTAKE_EVENTS), when)
    with followup.engine.begin() as conn:
        moves = move_offsets(conn, group, positions)
        if args.dry_run:
            conn.rollback()
    for tp, before, after in moves:
        shown = "start" if before is None else before
        change = "" if before is None else f" ({after - before:+d})"
        print(f"{tp.topic}[{tp.partition}]: {shown} -> {after}{change}")
    verb = "would move" if args.dry_run else "moved"
    print(f"consumer group {group}: {verb} to {when}; restart the consumers to read from there")


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
    move = sub.add_parser(
        "move-consumer",
        help="set where the intake consumer group reads next (stop the consumers first)",
    )
    where = move.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--to-time", type=_instant, help="the first record at or after this ISO 8601 instant"
    )
    where.add_argument("--to-beginning", action="store_true")
    where.add_argument("--to-end", action="store_true", help="skip every unread record")
    move.add_argument("--dry-run", action="store_true", help="show the move, store nothing")
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
    letters = sub.add_parser(
        "dead-letters", help="intake records the consumer could not decode: list, show, replay"
    ).add_subparsers(dest="action", required=True)
    listing = letters.add_parser("list", help="every dead letter, with its reason and status")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    show = letters.add_parser("show", help="one dead letter whole: headers and value")
    show.add_argument("position", help="PARTITION:OFFSET on the dead-letter topic, as listed")
    replay = letters.add_parser(
        "replay", help="decode again and handle, once each (after the cause is fixed)"
    )
    replay.add_argument("positions", nargs="*", metavar="PARTITION:OFFSET")
    replay.add_argument("--all", action="store_true", help="every dead letter not replayed yet")
    report = sub.add_parser(
        "routing-report",
        help="where a case in sampled kelurahan of every province would go, per category; "
        "exit 1 if any route is generic or unnamed",
    )
    report.add_argument("--per-province", type=int, default=3, metavar="N")
    report.add_argument("--codes", nargs="*", metavar="CODE", help="these kelurahan instead")
    sub.add_parser("notifier", help="tell subscribers when their case moves (issue 24)")
    notes = sub.add_parser(
        "notifications", help="notification dead letters: list, replay"
    ).add_subparsers(dest="action", required=True)
    notes.add_parser("dead-letters", help="messages given up on (no contacts shown)")
    replay_notes = notes.add_parser("replay", help="queue dead letters again")
    replay_notes.add_argument("keys", nargs="*", metavar="EVENT_ID:SUBSCRIPTION_ID")
    replay_notes.add_argument("--all", action="store_true")
    stop_notes = notes.add_parser("stop", help="STOP: the address on stdin, erased on a channel")
    stop_notes.add_argument("--channel", required=True, choices=("email", "whatsapp", "sms"))
    sub.add_parser(
        "police-directory",
        help="write deploy/routing/police-units.json.gz from the routing rules and police.yaml",
    )
    args = parser.parse_args(argv)
    replaying = args.command == "dead-letters" and args.action == "replay"
    if replaying and bool(args.positions) == args.all:
        parser.error("dead-letters replay: give PARTITION:OFFSET positions or --all")
    logs.configure_once("followup", args.command)
    settings = load_settings()

    if args.command == "migrate":
        from shared.migrations import upgrade

        upgrade(SERVICE_DIR, settings.database_url)
        from followup_service.bootstrap import bootstrap
        from followup_service.handlers import record_legacy_photos

        upgraded = record_legacy_photos(bootstrap(settings))
        if upgraded:
            print(f"recorded {upgraded} photos kept before the cases' events named them")
        return
    if args.command == "routing-report":
        sys.exit(routing_report_command(args, settings))
    if args.command == "police-directory":
        from followup_service import police_directory

        print(json.dumps(police_directory.write(settings.routing_rules_path)))
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
    if args.command == "move-consumer":
        move_consumer(args, followup, group)
        return
    if args.command == "rebuild-projections":
        from followup_service.accounts.service import rebuild_accounts
        from followup_service.projections import rebuild
        from followup_service.report_cards.store import refresh as refresh_report_cards

        started = time.monotonic()
        with followup.engine.begin() as conn:
            count = rebuild(conn, followup.store, followup.rules)
            count += rebuild_accounts(conn, followup.store)
            refresh_report_cards(conn, followup.rules, followup.clock())
        forget_cached_views(followup)
        print(f"replayed {count} events in {time.monotonic() - started:.1f}s")
        return
    if args.command == "dead-letters":
        status = dead_letters_command(args, followup, group)
        if status:
            sys.exit(status)
        return
    if args.command == "prune-processed":
        from followup_service.worker import prune_processed

        print(f"pruned {prune_processed(followup, group)} processed event ids")
        return
    if args.command in ("create-admin", "demo-accounts"):
        from followup_service.accounts import cli as account_cli

        if args.command == "create-admin":
            account_cli.create_admin(followup, args.username, args.display_name)
        else:
            account_cli.demo_accounts(followup)
        return
    if args.command == "notifications":
        from followup_service.notifications.admin_cli import notifications_command

        sys.exit(notifications_command(args, followup))
    stop = stop_on_signals()
    if args.command == "notifier":
        from followup_service.notifications.notifier import main as notifier_main

        notifier_main(followup, stop)
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
        from followup_service.metrics import WORKER_METRICS
        from followup_service.worker import run_worker
        from shared.metrics import serve_process_metrics

        serve_process_metrics(settings, *WORKER_METRICS)
        run_worker(followup, stop, args.interval, group_id=group)


def forget_cached_views(followup) -> None:
    """After a rebuild the read model's views may differ at the same case version (an
    upcaster changed an old event): drop every cached tracking view so none outlives it."""
    from sqlalchemy import select

    from followup_service.tables import cases

    with followup.engine.connect() as conn:
        codes = conn.execute(select(cases.c.tracking_code)).scalars().all()
    for start in range(0, len(codes), 1000):
        followup.tracking.forget(list(codes[start : start + 1000]))


def dead_letters_command(args, followup, group: str) -> int:
    """list / show / replay the intake topic's dead letters; returns the exit status."""
    from followup_service.consumers import make_intake_event_handler
    from followup_service.tables import metadata
    from shared.events import REGISTRY
    from shared.events.topics import INTAKE_EVENTS, dead_letter
    from shared.eventstore import dead_letters as dl

    settings = followup.settings
    topic = settings.topic(INTAKE_EVENTS)
    replayer = dl.DeadLetterReplayer(
        engine=followup.engine,
        metadata=metadata,
        registry=REGISTRY,
        group_id=group,
        handler=make_intake_event_handler(followup),
    )
    replayed = replayer.replayed(dead_letter(topic))
    try:
        positions = [dl.parse_position(p) for p in getattr(args, "positions", [])]
        if args.action == "show":
            positions = [dl.parse_position(args.position)]
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    letters = dl.read_dead_letters(
        settings.kafka_bootstrap_servers, topic, positions if positions else None
    )
    if args.action == "list":
        if args.json:
            for letter in letters:
                print(json.dumps(dl.summary(letter, replayed.get(letter.position))))
        else:
            print(f"{dead_letter(topic)} (consumer group {group})")
            print(dl.describe_listing(letters, replayed))
        return 0
    missing = sorted(set(positions) - {letter.position for letter in letters})
    if missing:
        where = ", ".join(map(dl.format_position, missing))
        print(f"no dead letter at {where} on {dead_letter(topic)}", file=sys.stderr)
        return 1
    if args.action == "show":
        print(dl.describe_letter(letters[0], replayed.get(letters[0].position)))
        return 0
    if args.all:
        letters = [letter for letter in letters if letter.position not in replayed]
    results = replayer.replay(letters)
    print(dl.describe_replays(results))
    return 1 if any(r.outcome in (dl.Replay.FAILED, dl.Replay.WAITING) for r in results) else 0


def routing_report_command(args, settings) -> int:
    from followup_service import routing_report as report
    from followup_service.rules import load_routing_rules
    from shared.regions.dataset import load_directory

    directory = load_directory()
    rules = load_routing_rules(settings.routing_rules_path, directory)
    if args.codes:
        unknown = [code for code in args.codes if directory.get(code) is None]
        if unknown:
            print(f"unknown kelurahan codes: {', '.join(unknown)}", file=sys.stderr)
            return 2
        villages = [directory.get(code) for code in args.codes]
    else:
        villages = report.sample_villages(directory, args.per_province)
    routes = report.route_report(rules, directory, villages)
    print(report.format_report(routes))
    return 1 if any(route.problems for route in routes) else 0


def consumer_group(settings) -> str:
    """The intake consumer's group: FOLLOWUP_CONSUMER_GROUP, else per topic prefix."""
    return settings.consumer_group or f"{settings.topic_prefix}.{CONSUMER_GROUP}"


if __name__ == "__main__":
    main()
