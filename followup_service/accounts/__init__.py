"""Staff accounts: who may sign in, for which unit, agency or area, and the integration
tokens of agencies' own systems.

    domain.py    pure rules: an account is the fold of its events (no storage)
    events.py    the account and token events and their schemas (never published)
    tables.py    the accounts, credentials, revocations and integration-token tables
    service.py   AccountService: load, decide, append, project, mirror to Redis
    pages.py     /admin/akun and /admin/integrasi (admins, and supervisors for their unit)
    cli.py       create-admin and the demo accounts

Kept import-free: followup_service.tables imports tables.py from here.
"""
