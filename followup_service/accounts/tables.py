"""The follow-up database's account tables (defined on the service's metadata).

- accounts: a projection of the account events, rebuilt from the log.
- account_credentials: the argon2 hash of each account's password, beside the log and
  never in an event.
- revoked_credentials: signed-out sessions and revoked operator tokens (ids only) until
  they would have expired anyway. Redis holds the copy every request checks; this is what
  it is rebuilt from after it lost its data (shared.auth.CredentialCache). Integration
  tokens' revocations are in integration_tokens, account standing in accounts.
- integration_tokens: agencies' own systems and Open311 apps (a projection; the secret
  is never stored).
"""

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, Text


def define_account_tables(metadata: MetaData) -> dict[str, Table]:
    accounts = Table(
        "accounts",
        metadata,
        Column("username", String(40), primary_key=True),
        Column("display_name", String(200), nullable=False),
        Column("role", String(20), nullable=False, index=True),
        Column("unit", String(120), index=True),
        Column("agency", String(120), index=True),
        Column("active", Boolean, nullable=False),
        Column("must_change_password", Boolean, nullable=False),
        Column("version", Integer, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Column("sessions_valid_after", DateTime(timezone=True), nullable=False),
        # a supervisor's area (region code or "national"), an admin's "national" (issue 27)
        Column("area", String(20)),
    )
    account_credentials = Table(
        "account_credentials",
        metadata,
        Column("username", String(40), primary_key=True),
        Column("password_hash", Text, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )
    revoked_credentials = Table(
        "revoked_credentials",
        metadata,
        Column("token_id", String(64), primary_key=True),
        Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
        Column("revoked_at", DateTime(timezone=True), nullable=False),
    )
    integration_tokens = Table(
        "integration_tokens",
        metadata,
        Column("token_id", String(64), primary_key=True),
        Column("name", String(120), nullable=False),
        Column("agency", String(120), index=True),  # None for an Open311 app
        Column("purpose", String(20), nullable=False, server_default="liaison"),
        Column("created_by", String(120), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("revoked_at", DateTime(timezone=True)),
        Column("revoked_by", String(120)),
    )
    return {
        "accounts": accounts,
        "account_credentials": account_credentials,
        "revoked_credentials": revoked_credentials,
        "integration_tokens": integration_tokens,
    }
