"""Account commands for operators: the first admin of a deployment, and demo accounts.

The acting manager is recorded as `admin:cli` in the account events: whoever runs
these commands has the database and the server, which is more than an admin has.
"""

from __future__ import annotations

import os
import sys

from sqlalchemy import select

from followup_service.accounts.domain import AccountRuleError, Manager
from followup_service.accounts.service import AccountService
from followup_service.tables import cases
from shared.web_auth import make_tokens

CLI = Manager(username="cli", role="admin")
DEMO_PASSWORD = "kawal-aspirasi-demo"


def _service(followup) -> AccountService:
    return AccountService(followup, make_tokens(followup.settings, followup.redis))


def create_admin(followup, username: str, display_name: str) -> None:
    try:
        account, one_time = _service(followup).create(
            CLI, username=username, display_name=display_name, role="admin"
        )
    except AccountRuleError as exc:
        sys.exit(f"not created: {exc}")
    print(f"admin {account.username} created; one-time password (change at first sign-in):")
    print(one_time)


def demo_accounts(followup) -> None:
    """One account per role, bound to the first routed demo case's unit and agency, with
    the same known password. Only on a development machine; existing ones are kept."""
    if os.environ.get("KAWAL_ENV") != "development":
        sys.exit("demo accounts are for KAWAL_ENV=development only")
    service = _service(followup)
    with followup.engine.connect() as conn:
        case = conn.execute(
            select(cases.c.unit, cases.c.agency_id, cases.c.agency_name, cases.c.tracking_code)
            .where(cases.c.agency_id.is_not(None), cases.c.sensitive.is_(False))
            .order_by(cases.c.opened_at, cases.c.case_id)
            .limit(1)
        ).first()
    if case is None:
        sys.exit("no routed demo case yet: load the demo meetings first")
    wanted = [
        ("demo-officer", "Bripka Demo (petugas)", "officer", case.unit, None),
        ("demo-liaison", "Demo Penghubung", "liaison", None, case.agency_id),
        ("demo-supervisor", "Kompol Demo (atasan)", "supervisor", case.unit, None),
        ("demo-admin", "Admin Demo", "admin", None, None),
    ]
    print(f"# Demo accounts (password for all: {DEMO_PASSWORD}). Case {case.tracking_code}")
    print(f"# is with {case.agency_name} ({case.agency_id}), unit {case.unit}.")
    for username, name, role, unit, agency in wanted:
        with followup.engine.connect() as conn:
            exists = service.load(conn, username) is not None
        if not exists:
            service.create(
                CLI,
                username=username,
                display_name=name,
                role=role,
                unit=unit,
                agency=agency,
                password=DEMO_PASSWORD,
            )
        print(f"{role:<10} {username:<16} {agency or unit or ''}")
