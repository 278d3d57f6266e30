"""`followup_service.cli notifications dead-letters | replay`: what an admin sees and does
with messages the sender gave up on. No contact is ever printed."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from followup_service.notifications import store


def notifications_command(args, followup) -> int:
    if args.action == "stop":
        return stop_command(args, followup)
    if args.action == "dead-letters":
        with followup.engine.connect() as conn:
            letters = store.dead_letters(conn)
        for letter in letters:
            print(json.dumps(letter, default=str))
        if not letters:
            print("no dead letters", file=sys.stderr)
        return 0
    if bool(args.keys) == args.all:
        print("give EVENT_ID:SUBSCRIPTION_ID keys or --all", file=sys.stderr)
        return 2
    keys = None
    if args.keys:
        try:
            keys = [tuple(key.split(":", 1)) for key in args.keys]
            assert all(len(k) == 2 for k in keys)
        except AssertionError:
            print("keys are EVENT_ID:SUBSCRIPTION_ID", file=sys.stderr)
            return 2
    with followup.engine.begin() as conn:
        count = store.replay_dead(conn, datetime.now(UTC), keys)
    print(f"queued {count} dead letters again")
    return 0


def stop_command(args, followup) -> int:
    """STOP from a number (or an address): erase its subscriptions on that channel. The
    address is read from standard input, so it stays out of shell history and process lists."""
    from shared.contact_cipher import ContactCipher

    address = sys.stdin.readline().strip()
    if not address:
        print("give the address on standard input", file=sys.stderr)
        return 2
    digest = ContactCipher.from_env().digest(address)
    with followup.engine.begin() as conn:
        count = store.unsubscribe_address(conn, digest, args.channel)
    print(f"erased {count} subscriptions on {args.channel}")
    return 0
