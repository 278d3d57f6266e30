"""Issue and revoke the bearer tokens both services accept.

python -m shared.tokens_cli issue --subject budi --role officer --unit "Polsek Cikande"
python -m shared.tokens_cli issue --subject rina --role liaison --agency dishub-3604
python -m shared.tokens_cli issue --subject sari --role supervisor --unit "Polres Serang"
python -m shared.tokens_cli issue --subject dedi --role supervisor --area 36.04  # or national
python -m shared.tokens_cli issue --subject ops --role admin --area national  # case content
python -m shared.tokens_cli revoke <token>     # needs FOLLOWUP_DATABASE_URL (kept durably)
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

import redis
from sqlalchemy import text

from shared.auth import ROLES, RevocationList, Tokens
from shared.config import Settings
from shared.db import make_engine
from shared.need_to_know import NATIONAL, area_code
from shared.police import load_police_directory
from shared.regions.dataset import load_directory
from shared.regions.directory import is_region_code
from shared.units import unit_id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tokens")
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue")
    issue.add_argument("--subject", required=True)
    issue.add_argument("--role", required=True, choices=ROLES)
    issue.add_argument("--unit")
    issue.add_argument("--agency")
    issue.add_argument(
        "--area",
        help="a supervisor's area: a kecamatan, kabupaten/kota or province code (36.04), or "
        "national; an admin's national opens case content (audited)",
    )
    issue.add_argument("--days", type=int, default=30)
    revoke = sub.add_parser("revoke")
    revoke.add_argument("token")
    args = parser.parse_args(argv)

    settings = Settings.from_env("tokens", default_database_url="")
    redis_client = redis.Redis.from_url(settings.redis_url)
    revocations = RevocationList(
        redis_client, settings.redis_key_prefix, durable=_durable_record(args.command)
    )
    tokens = Tokens(settings.jwt_secret, settings.jwt_issuer, revocations)
    if args.command == "issue":
        if args.unit:  # units are directory ids ("Polsek Cikande" -> polsek-360415)
            unit = load_police_directory().canonical(args.unit)
            if unit != args.unit:
                print(f"unit {args.unit!r} -> id {unit!r}", file=sys.stderr)
            args.unit = unit
        if args.agency and unit_id(args.agency) != args.agency:
            print(f"agency {args.agency!r} -> id {unit_id(args.agency)!r}", file=sys.stderr)
        if args.area is not None:
            args.area = _area(parser, args.role, args.area)
        if args.role == "supervisor" and not (args.unit or args.area):
            parser.error("a supervisor token needs --unit or --area")
        print(
            tokens.issue(
                args.subject,
                args.role,
                unit=args.unit,
                agency=args.agency,
                area=args.area,
                ttl=timedelta(days=args.days),
            )
        )
    else:
        print(f"revoked {tokens.revoke(args.token)}")


def _area(parser, role: str, value: str) -> str:
    """An area as tokens carry it: "national", or a region code the directory knows."""
    area = area_code(value)
    if role not in ("supervisor", "admin"):
        parser.error("--area is for a supervisor or an admin")
    if role == "admin" and area != "":
        parser.error("an admin's only area is national")
    if area == "":
        return NATIONAL
    if not is_region_code(area) or area.count(".") > 2 or area not in load_directory():
        parser.error(f"--area {value!r}: give a kecamatan, kabupaten/kota or province code")
    return area


def _durable_record(command: str):
    """Where a revocation is kept beyond Redis: the follow-up database's
    revoked_credentials (FOLLOWUP_DATABASE_URL), which the credential cache is rebuilt
    from after Redis lost its data. Without it the revocation would not survive that."""
    url = os.environ.get("FOLLOWUP_DATABASE_URL")
    if command != "revoke":
        return None
    if not url:
        sys.exit("FOLLOWUP_DATABASE_URL is not set: a revocation must be recorded durably")

    def record(token_id: str, expires_at) -> None:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO revoked_credentials (token_id, expires_at, revoked_at) "
                    "VALUES (:id, :exp, now()) ON CONFLICT (token_id) DO NOTHING"
                ),
                {"id": token_id, "exp": expires_at},
            )
        engine.dispose()

    return record


if __name__ == "__main__":
    main()
