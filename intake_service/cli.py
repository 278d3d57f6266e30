"""Intake service processes and admin commands.

python -m intake_service.cli migrate      # create/upgrade the database schema
python -m intake_service.cli api [--port 8001]
python -m intake_service.cli relay        # outbox -> Kafka
python -m intake_service.cli rebuild-projections   # truncate read models, replay events
python -m intake_service.cli tokens issue --subject budi --role officer --unit "Polsek Cikande"
python -m intake_service.cli tokens revoke <token>
python -m intake_service.cli demo [--token T]   # the seed meetings, through the API
python -m intake_service.cli photos erase ASPIRATION_ID --by NAME   # an erasure request
python -m intake_service.cli photos prune   # blobs of removed photos a store outage left
"""

from __future__ import annotations

import argparse
import os

from intake_service.config import load_settings
from shared import logs

SERVICE_DIR = os.path.dirname(os.path.abspath(__file__))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="intake")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate")
    api = sub.add_parser("api")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=int(os.environ.get("INTAKE_PORT", 8001)))
    sub.add_parser("relay")
    sub.add_parser("rebuild-projections")
    demo = sub.add_parser("demo", help="load the demo meetings through the API")
    demo.add_argument("--intake-url", default="http://127.0.0.1:8001")
    demo.add_argument("--followup-url", default="http://127.0.0.1:8002")
    demo.add_argument("--token", help="bearer token (default: a one-hour supervisor token)")
    photos = sub.add_parser("photos", help="photos as evidence (docs/PHOTOS.md)")
    photo_sub = photos.add_subparsers(dest="photo_command", required=True)
    erase = photo_sub.add_parser("erase", help="remove an aspiration's photos (erasure request)")
    erase.add_argument("aspiration_id")
    erase.add_argument("--by", required=True, help="who asked (recorded in the event)")
    photo_sub.add_parser("prune", help="delete blobs of removed photos no live photo names")
    tokens = sub.add_parser("tokens", help="issue or revoke bearer tokens (see shared.tokens_cli)")
    tokens.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "tokens":
        from shared.tokens_cli import main as tokens_main

        return tokens_main(args.args)
    logs.configure_once("intake", args.command)
    settings = load_settings()

    if args.command == "migrate":
        from shared.migrations import upgrade

        upgrade(SERVICE_DIR, settings.database_url)
    elif args.command == "api":
        from intake_service.app import create_app

        create_app(settings).run(host=args.host, port=args.port, threaded=True)
    elif args.command == "demo":
        from intake_service.demo import load_demo

        token = args.token or _demo_token(settings)
        print("Demo aspirations (tracking codes to look up at the follow-up service):")
        for summary, code in load_demo(args.intake_url, args.followup_url, token):
            print(f"  {code}  {summary}  ->  {args.followup_url}/api/v1/track/{code}")
    elif args.command == "rebuild-projections":
        import time

        from intake_service.bootstrap import bootstrap
        from intake_service.projections import rebuild

        intake = bootstrap(settings)
        started = time.monotonic()
        with intake.engine.begin() as conn:
            count = rebuild(conn, intake.store)
        print(f"replayed {count} events in {time.monotonic() - started:.1f}s")
    elif args.command == "photos":
        from intake_service.bootstrap import bootstrap
        from intake_service.photos import erase_photos, prune
        from shared.photos.store import store_from_env

        intake, store = bootstrap(settings), store_from_env(prefix="INTAKE_")
        if args.photo_command == "erase":
            ids = erase_photos(intake, store, args.aspiration_id, f"operator:{args.by}")
            print(f"removed {len(ids)} photo(s) of {args.aspiration_id}")
        else:
            with intake.engine.connect() as conn:
                print(f"deleted the blobs of {prune(conn, store)} removed photo(s)")
    elif args.command == "relay":
        from intake_service.bootstrap import bootstrap
        from intake_service.tables import metadata
        from shared.events.topics import INTAKE_EVENTS
        from shared.processes import run_relay, stop_on_signals

        intake = bootstrap(settings)
        topic = settings.topic(INTAKE_EVENTS)
        run_relay(settings, intake.engine, metadata, topic, stop_on_signals())


def _demo_token(settings) -> str:
    from datetime import timedelta

    from shared.auth import Tokens

    tokens = Tokens(settings.jwt_secret, settings.jwt_issuer)
    # headquarters (the national area): a supervisor's token needs a unit or an area
    return tokens.issue("demo-loader", "supervisor", area="national", ttl=timedelta(hours=1))


if __name__ == "__main__":
    main()
