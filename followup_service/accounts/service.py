"""Staff accounts: the follow-up service owns them (events in its log, never published).

Why here: the follow-up service already holds the routing directory that liaisons are
bound to, and its staff (liaisons, supervisors, admins) are the ones who manage
people; intake only needs to know that a signed-in officer is still allowed in, which
it reads from the AccountGate in Redis like every other request's check.

Each command loads the account's stream, lets the pure domain decide, appends the
events (publish=False) with optimistic concurrency, updates the `accounts` read
model and the credentials in the same transaction, then mirrors the account's
standing into Redis for both services.
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from collections.abc import Callable, Container
from dataclasses import dataclass, replace

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert

from followup_service.accounts import domain
from followup_service.accounts import events as account_events
from followup_service.accounts.domain import Account, Manager
from followup_service.bootstrap import system_clock
from followup_service.tables import (
    account_credentials,
    cases,
    integration_tokens,
    revoked_credentials,
)
from followup_service.tables import accounts as accounts_table
from shared.auth import INTEGRATION_TTL, AccountGate, Principal, RevocationList, Tokens
from shared.need_to_know import area_code
from shared.police import load_police_directory
from shared.regions.dataset import load_directory
from shared.regions.directory import is_region_code

log = logging.getLogger(__name__)
_REBUILD_LOCK = threading.Lock()
ACCOUNT_READ_MODELS = (accounts_table, integration_tokens)  # rebuilt by rebuild_accounts
# Not derivable from events, on purpose: hashes never enter the log. A restore from backup
# needs this table as well as the log.
CREDENTIALS = account_credentials
# unambiguous characters for one-time passwords read aloud or copied from a screen
OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
HASHER = PasswordHasher()  # argon2id with the library's current defaults
# verified when the username is unknown, so a miss costs what a hit costs
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Directory:
    """What accounts may be bound to: units (officers, supervisors) and agencies (liaisons).

    `agencies` lists the agencies cases have been routed to (and fixed ones); any
    region-scoped agency the routing rules can name ("satpolpp-3275") is known too, so a
    liaison can be bound before the first case: there are far too many to list.
    """

    units: dict[str, str]
    agencies: dict[str, str]
    find_agency: Callable[[str], object | None] = lambda agency_id: None

    @property
    def unit_ids(self) -> frozenset[str]:
        return frozenset(self.units)

    @property
    def agency_ids(self) -> Container[str]:
        return _KnownAgencies(self)


@dataclass(frozen=True)
class _KnownAgencies:
    directory: Directory

    def __contains__(self, agency_id: object) -> bool:
        return isinstance(agency_id, str) and (
            agency_id in self.directory.agencies
            or self.directory.find_agency(agency_id) is not None
        )


@dataclass(frozen=True)
class SignIn:
    """The outcome of a correct username and password."""

    account: Account

    @property
    def must_change_password(self) -> bool:
        return self.account.must_change_password


def manager_of(principal: Principal) -> Manager:
    """The acting account, its unit read as the police directory's id (old ids too)."""
    unit = load_police_directory().canonical(principal.unit)
    return Manager(username=principal.subject, role=principal.role, unit=unit)


@dataclass(frozen=True)
class _KnownAreas:
    """The areas a supervisor may be given: national, or a province, kabupaten/kota or
    kecamatan code of the region directory."""

    regions: object

    def __contains__(self, area: object) -> bool:
        if area == domain.NATIONAL:
            return True
        return (
            isinstance(area, str)
            and is_region_code(area)
            and area.count(".") <= 2
            and area in self.regions
        )


def _area(value: str | None) -> str | None:
    """An area as typed on the form or the CLI: "nasional"/"national" or a code."""
    area = area_code(value or None)
    return domain.NATIONAL if area == "" else (area or None)


def one_time_password() -> str:
    groups = ["".join(secrets.choice(OTP_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "-".join(groups)


class AccountService:
    def __init__(self, followup, tokens: Tokens | None = None):
        self.followup = followup
        self.engine = followup.engine
        self.store = followup.store
        self.gate = AccountGate(followup.redis, followup.settings.redis_key_prefix)
        self.tokens = tokens
        # Real time, not the follow-up clock that tests move: session tokens carry real
        # times, and "sessions before this moment are over" must compare like with like.
        self.clock = system_clock

    # --- reading ----------------------------------------------------------------------

    def directory(self, conn: Connection) -> Directory:
        """Units from the police unit directory (shared.police: every Polda, Polres and
        Polsek), agencies from the rules and the cases."""
        units = {uid: unit.name for uid, unit in load_police_directory().units.items()}
        agencies = dict(self.followup.rules.fixed_agencies())
        routed = select(cases.c.agency_id, cases.c.agency_name).distinct()
        for agency_id, name in conn.execute(routed.where(cases.c.agency_id.is_not(None))):
            agencies.setdefault(agency_id, name or agency_id)
        return Directory(
            dict(sorted(units.items())),
            dict(sorted(agencies.items())),
            find_agency=self.followup.rules.find_agency,
        )

    def load(self, conn: Connection, username: str) -> Account | None:
        if not domain.valid_username(username):
            return None  # no such account can exist; never send odd bytes to the database
        envelopes = self.store.read_stream(conn, account_events.account_stream(username))
        account = domain.fold([account_events.from_envelope(e) for e in envelopes])
        if account is not None and account.unit:  # an old unit id: its directory id
            account = replace(account, unit=load_police_directory().canonical(account.unit))
        return account

    def history(self, conn: Connection, username: str) -> list[dict]:
        """Who changed this account, when, and how: its events, newest first."""
        if not domain.valid_username(username):
            return []
        envelopes = self.store.read_stream(conn, account_events.account_stream(username))
        return [{"event": e.event_type, "at": e.occurred_at, "actor": e.actor} for e in envelopes][
            ::-1
        ]

    def listed(self, conn: Connection, manager: Manager) -> list[dict]:
        """The accounts this manager may see: all for admins, their unit's officers for a
        supervisor."""
        query = select(accounts_table).order_by(accounts_table.c.role, accounts_table.c.username)
        if manager.role != "admin":
            spellings = load_police_directory().spellings([manager.unit or ""])
            query = query.where(
                accounts_table.c.role == "officer", accounts_table.c.unit.in_(spellings)
            )
        return [dict(row._mapping) for row in conn.execute(query)]

    # --- commands ---------------------------------------------------------------------

    def create(
        self,
        manager: Manager,
        *,
        username: str,
        display_name: str,
        role: str,
        unit: str | None = None,
        agency: str | None = None,
        password: str | None = None,
        area: str | None = None,
    ) -> tuple[Account, str | None]:
        """Create an account; returns it and the one-time password to show once (None when
        a password was given, e.g. demo accounts and the first admin's chosen one)."""
        username = username.strip().lower()
        unit = load_police_directory().canonical(unit) if unit else None
        with self.engine.begin() as conn:
            directory = self.directory(conn)
            event = domain.create(
                manager,
                username=username,
                display_name=display_name,
                role=role,
                unit=unit,
                agency=agency or None,
                area=_area(area),
                areas=_KnownAreas(load_directory()),
                units=directory.unit_ids,
                agencies=directory.agency_ids,
                existing=self.load(conn, username),
                now=self.clock(),
            )
            secret = password or one_time_password()
            if password is not None:
                problems = domain.password_problems(password, username)
                if problems:
                    raise domain.AccountRuleError(problems)
                event = replace(event, must_change_password=False)
            account = self._record(conn, None, [event])
            self._set_password(conn, username, secret)
        self._publish(account)
        return account, (None if password is not None else secret)

    def change_scope(self, manager: Manager, username: str, **fields) -> Account:
        unit = fields.get("unit")
        fields["unit"] = load_police_directory().canonical(unit) if unit else None
        fields["agency"] = fields.get("agency") or None
        fields["area"] = _area(fields.get("area"))
        with self.engine.begin() as conn:
            account = self._existing(conn, username)
            directory = self.directory(conn)
            events = domain.change_scope(
                manager,
                account,
                areas=_KnownAreas(load_directory()),
                units=directory.unit_ids,
                agencies=directory.agency_ids,
                now=self.clock(),
                **fields,
            )
            account = self._record(conn, account, events)
        self._publish(account)
        return account

    def reset_password(self, manager: Manager, username: str) -> str:
        """A new one-time password (shown once); the account's sessions end."""
        secret = one_time_password()
        with self.engine.begin() as conn:
            account = self._existing(conn, username)
            event = domain.reset_password(manager, account, self.clock())
            account = self._record(conn, account, [event])
            self._set_password(conn, username, secret)
        self._publish(account)
        return secret

    def set_active(self, manager: Manager, username: str, active: bool) -> Account:
        with self.engine.begin() as conn:
            account = self._existing(conn, username)
            now = self.clock()
            events = (
                domain.reactivate(manager, account, now)
                if active
                else domain.deactivate(manager, account, now)
            )
            account = self._record(conn, account, events)
        self._publish(account)
        return account

    def change_password(self, username: str, current: str, new: str) -> Account:
        """The user's own change: proves the current (or one-time) password first."""
        with self.engine.begin() as conn:
            account = self._existing(conn, username)
            current_ok = self._verify(conn, username, current)
            event = domain.change_own_password(account, new, self.clock(), current_ok)
            account = self._record(conn, account, [event])
            self._set_password(conn, username, new)
        self._publish(account)
        return account

    def finish_password_reset(self, username: str, new: str) -> Account:
        """After signing in with a one-time password (the ticket proved it): set the
        user's own password. Refused once the account no longer awaits a change."""
        with self.engine.begin() as conn:
            account = self._existing(conn, username)
            if not account.must_change_password:
                raise domain.AccountRuleError({"ticket": ["no_change_pending"]})
            event = domain.change_own_password(account, new, self.clock(), True)
            account = self._record(conn, account, [event])
            self._set_password(conn, username, new)
        self._publish(account)
        return account

    def authenticate(self, username: str, password: str) -> SignIn | None:
        """The account for a correct username and password, else None (one argon2
        verification either way, so a wrong username and a wrong password cost the same)."""
        username = username.strip().lower()
        if not domain.valid_username(username):
            _verify_hash(_DUMMY_HASH, password)  # the same cost as any other miss
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(accounts_table.c.active, account_credentials.c.password_hash)
                .join(
                    account_credentials,
                    account_credentials.c.username == accounts_table.c.username,
                )
                .where(accounts_table.c.username == username)
            ).first()
            ok = _verify_hash(row.password_hash if row else _DUMMY_HASH, password)
            if not (row and ok and row.active):
                return None
            account = self.load(conn, username)
        return SignIn(account) if account else None

    # --- integration tokens -----------------------------------------------------------

    def issue_integration_token(
        self, manager: Manager, name: str, agency: str | None, purpose: str = "liaison"
    ) -> tuple[str, str]:
        """(token id, token): the token is shown once and never stored."""
        token_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            event = domain.issue_integration_token(
                manager,
                token_id=token_id,
                name=name,
                agency=agency,
                agencies=self.directory(conn).agency_ids,
                now=self.clock(),
                purpose=purpose,
            )
            self.store.append(
                conn,
                account_events.token_stream(token_id),
                0,
                [account_events.to_new_event(event)],
                publish=False,
            )
            _project_token(conn, event)
        token = self._tokens().issue_integration(
            token_id, event.agency, event.name, purpose=event.purpose
        )
        return token_id, token

    def revoke_integration_token(self, manager: Manager, token_id: str) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(integration_tokens).where(integration_tokens.c.token_id == token_id)
            ).first()
            if row is None:
                raise domain.AccountRuleError({"token_id": ["no_token"]})
            stream = account_events.token_stream(token_id)
            events = domain.revoke_integration_token(
                manager, token_id, row.revoked_at is not None, self.clock()
            )
            version = self.store.stream_version(conn, stream)
            self.store.append(
                conn,
                stream,
                version,
                [account_events.to_new_event(e) for e in events],
                publish=False,
            )
            for event in events:
                _project_token(conn, event)
        if events:  # integration_tokens is the durable record; Redis the copy requests read
            self._tokens().revocations.cache(token_id, row.created_at + INTEGRATION_TTL)

    def integration_tokens(self, conn: Connection) -> list[dict]:
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(integration_tokens).order_by(integration_tokens.c.created_at.desc())
            )
        ]
        used = self.gate.last_uses([r["token_id"] for r in rows])
        for row in rows:
            row["last_used_at"] = used.get(row["token_id"])
        return rows

    # --- the standing both services check ----------------------------------------------

    def record_revocation(self, token_id: str, expires_at) -> None:
        """A sign-out or an operator token's revocation, durably (before Redis hears of it):
        what the credential cache is rebuilt from (shared.auth.RevocationList)."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(revoked_credentials)
                .values(token_id=token_id, expires_at=expires_at, revoked_at=self.clock())
                .on_conflict_do_nothing(index_elements=["token_id"])
            )

    def publish_all(self) -> int:
        """Rebuild the credential cache in Redis from the durable record: every account's
        standing, every revocation not yet expired, and last the mark that the copy is
        complete, all in one MULTI/EXEC (start-up, worker sweeps, and whenever a request
        finds the mark missing). Expired revocations are pruned. Returns the accounts."""
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(delete(revoked_credentials).where(revoked_credentials.c.expires_at < now))
            rows = conn.execute(
                select(
                    accounts_table.c.username,
                    accounts_table.c.active,
                    accounts_table.c.sessions_valid_after,
                )
            ).all()
            revoked = [
                (token_id, created_at + INTEGRATION_TTL)
                for token_id, created_at in conn.execute(
                    select(integration_tokens.c.token_id, integration_tokens.c.created_at).where(
                        integration_tokens.c.revoked_at.is_not(None)
                    )
                )
            ]
            revoked += conn.execute(
                select(revoked_credentials.c.token_id, revoked_credentials.c.expires_at)
            ).all()
        revocations = RevocationList(self.followup.redis, self.followup.settings.redis_key_prefix)
        pipe = self.followup.redis.pipeline(transaction=True)
        for username, active, valid_after in rows:
            self.gate.publish(username, active, valid_after, client=pipe)
        for token_id, expires_at in revoked:
            if expires_at > now:
                revocations.cache(token_id, expires_at, client=pipe)
        revocations.mark_complete(client=pipe)
        pipe.execute()
        return len(rows)

    def rebuild_credentials(self) -> bool:
        """publish_all() once per process at a time (requests that find the cache
        incomplete at the same moment wait for one rebuild); True when it ran."""
        with _REBUILD_LOCK:
            if not RevocationList(
                self.followup.redis, self.followup.settings.redis_key_prefix
            ).is_complete():
                count = self.publish_all()
                log.warning("credential cache was incomplete; rebuilt (%d accounts)", count)
        return True

    # --- internals --------------------------------------------------------------------

    def _tokens(self) -> Tokens:
        if self.tokens is None:
            raise RuntimeError("AccountService needs the app's Tokens to issue tokens")
        return self.tokens

    def _existing(self, conn: Connection, username: str) -> Account:
        account = self.load(conn, username)
        if account is None:
            raise domain.AccountRuleError({"username": ["no_account"]})
        return account

    def _record(self, conn: Connection, account: Account | None, events: list) -> Account:
        if not events:
            return account
        stream = account_events.account_stream(events[0].username)
        expected = account.version if account else 0
        self.store.append(
            conn, stream, expected, [account_events.to_new_event(e) for e in events], publish=False
        )
        for event in events:
            account = domain.apply(account, event)
        _project_account(conn, account)
        return account

    def _set_password(self, conn: Connection, username: str, password: str) -> None:
        row = {
            "username": username,
            "password_hash": HASHER.hash(password),
            "updated_at": self.clock(),
        }
        stmt = insert(account_credentials).values(row)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["username"],
                set_={
                    "password_hash": stmt.excluded.password_hash,
                    "updated_at": row["updated_at"],
                },
            )
        )

    def _verify(self, conn: Connection, username: str, password: str) -> bool:
        stored = conn.execute(
            select(account_credentials.c.password_hash).where(
                account_credentials.c.username == username
            )
        ).scalar()
        return _verify_hash(stored or _DUMMY_HASH, password) and stored is not None

    def _publish(self, account: Account) -> None:
        self.gate.publish(account.username, account.active, account.sessions_valid_after)


def rebuild_accounts(conn: Connection, store) -> int:
    """Replace the account and integration-token read models by a replay of their events."""
    conn.execute(delete(accounts_table))
    conn.execute(delete(integration_tokens))
    folded: dict[str, Account] = {}
    count = 0
    for prefix in ("account-", "integration-"):
        for envelope in list(store.read_all(conn, stream_prefix=prefix)):  # few; no cursor
            event = account_events.from_envelope(envelope)
            count += 1
            if isinstance(event, domain.AccountEvent):
                folded[event.username] = domain.apply(folded.get(event.username), event)
            else:
                _project_token(conn, event)
    for account in folded.values():
        _project_account(conn, account)
    return count


def _project_account(conn: Connection, account: Account) -> None:
    row = {
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "unit": account.unit,
        "agency": account.agency,
        "area": account.area,
        "active": account.active,
        "must_change_password": account.must_change_password,
        "version": account.version,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
        "sessions_valid_after": account.sessions_valid_after,
    }
    stmt = insert(accounts_table).values(row)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["username"],
            set_={k: v for k, v in row.items() if k != "username"},
        )
    )


def _project_token(conn: Connection, event) -> None:
    if isinstance(event, domain.IntegrationTokenIssued):
        conn.execute(
            insert(integration_tokens).values(
                token_id=event.token_id,
                name=event.name,
                agency=event.agency,
                purpose=event.purpose,
                created_by=event.actor,
                created_at=event.occurred_at,
            )
        )
    else:
        conn.execute(
            integration_tokens.update()
            .where(integration_tokens.c.token_id == event.token_id)
            .values(revoked_at=event.occurred_at, revoked_by=event.actor)
        )


def _verify_hash(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
