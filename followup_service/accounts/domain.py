"""Staff accounts and integration tokens: who may act for which unit or agency.

Pure rules, no storage: an account is the fold of its events; commands check the
rules and return the events to append. Passwords never appear here, only the fact
that one was set or reset (the hash lives beside the log, not in it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container
from dataclasses import dataclass, replace
from datetime import datetime

ROLES = ("officer", "liaison", "supervisor", "admin")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
MIN_PASSWORD_LENGTH = 10
NATIONAL = "national"  # the area of headquarters: every region


class AccountRuleError(ValueError):
    """A command breaks an account rule; `messages` maps field -> list of message codes
    (pages and the CLI word them, in Bahasa Indonesia or English)."""

    def __init__(self, messages: dict[str, list[str]]):
        self.messages = messages
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in messages.items()))


class NotPermitted(Exception):
    """The acting account may not manage this account."""


# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AccountEvent:
    username: str
    occurred_at: datetime
    actor: str


@dataclass(frozen=True, kw_only=True)
class AccountCreated(AccountEvent):
    display_name: str
    role: str
    unit: str | None = None
    agency: str | None = None
    must_change_password: bool = True
    area: str | None = None  # a supervisor's area, an admin's "national" (older: none)


@dataclass(frozen=True, kw_only=True)
class AccountScopeChanged(AccountEvent):
    display_name: str
    role: str
    unit: str | None = None
    agency: str | None = None
    area: str | None = None


@dataclass(frozen=True, kw_only=True)
class PasswordReset(AccountEvent):
    """An administrator set a one-time password: the user must choose a new one."""


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(AccountEvent):
    """The user chose their own password."""


@dataclass(frozen=True, kw_only=True)
class AccountDeactivated(AccountEvent):
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class AccountReactivated(AccountEvent):
    pass


ACCOUNT_EVENTS = (
    AccountCreated,
    AccountScopeChanged,
    PasswordReset,
    PasswordChanged,
    AccountDeactivated,
    AccountReactivated,
)


# --- state --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    unit: str | None
    agency: str | None
    active: bool
    must_change_password: bool
    version: int
    created_at: datetime
    updated_at: datetime
    # sessions that began before this moment are over (reset, role change, deactivation)
    sessions_valid_after: datetime
    # a supervisor's area (a region code, "national"), an admin's "national": what they
    # may see beyond a unit (shared.need_to_know); None for accounts made before areas
    area: str | None = None

    @property
    def scope(self) -> str | None:
        return self.unit if self.role in ("officer", "supervisor") else self.agency


def fold(events: list[AccountEvent]) -> Account | None:
    account: Account | None = None
    for event in events:
        account = apply(account, event)
    return account


def apply(account: Account | None, event: AccountEvent) -> Account:
    at = event.occurred_at
    if isinstance(event, AccountCreated):
        return Account(
            username=event.username,
            display_name=event.display_name,
            role=event.role,
            unit=event.unit,
            agency=event.agency,
            area=event.area,
            active=True,
            must_change_password=event.must_change_password,
            version=1,
            created_at=at,
            updated_at=at,
            sessions_valid_after=at,
        )
    if account is None:
        raise ValueError(f"{type(event).__name__} before AccountCreated")
    changes: dict = {"version": account.version + 1, "updated_at": at}
    if isinstance(event, AccountScopeChanged):
        changes.update(
            display_name=event.display_name,
            role=event.role,
            unit=event.unit,
            agency=event.agency,
            area=event.area,
            sessions_valid_after=at,
        )
    elif isinstance(event, PasswordReset):
        changes.update(must_change_password=True, sessions_valid_after=at)
    elif isinstance(event, PasswordChanged):
        changes.update(must_change_password=False, sessions_valid_after=at)
    elif isinstance(event, AccountDeactivated):
        changes.update(active=False, sessions_valid_after=at)
    elif isinstance(event, AccountReactivated):
        changes.update(active=True, sessions_valid_after=at)
    else:
        raise ValueError(f"unknown account event {type(event).__name__}")
    return replace(account, **changes)


# --- who may manage whom ------------------------------------------------------------------


@dataclass(frozen=True)
class Manager:
    """The acting staff member, as the sign-in knows them."""

    username: str
    role: str
    unit: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.username}"


def may_manage(manager: Manager, role: str, unit: str | None) -> bool:
    """Admins manage every account; a supervisor manages the officers of their own unit."""
    if manager.role == "admin":
        return True
    return (
        manager.role == "supervisor"
        and bool(manager.unit)
        and role == "officer"
        and unit == manager.unit
    )


def _require(manager: Manager, role: str, unit: str | None) -> None:
    if not may_manage(manager, role, unit):
        raise NotPermitted(f"{manager.actor} may not manage a {role} of {unit or 'no unit'}")


# --- commands -----------------------------------------------------------------------------


def valid_username(username: str) -> bool:
    return bool(USERNAME_PATTERN.match(username))


def _name_problem(display_name: str) -> list[str] | None:
    if not display_name.strip():
        return ["required"]
    if len(display_name) > 200 or any(
        unicodedata.category(c) in ("Cc", "Cs") for c in display_name
    ):
        return ["invalid_characters"]
    return None


def check_scope(
    role: str,
    unit: str | None,
    agency: str | None,
    *,
    units: Container[str],
    agencies: Container[str],
    area: str | None = None,
    areas: Container[str] = (),
) -> dict[str, list[str]]:
    """Field messages for a role and the unit, agency or area it acts for (from the
    directories): a supervisor needs a unit or an area, an admin's only area is national."""
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors["role"] = ["role_unknown"]
        return errors
    if role == "officer" and not unit:
        errors["unit"] = ["unit_required"]
    if role == "liaison" and not agency:
        errors["agency"] = ["agency_required"]
    if unit and unit not in units:
        errors["unit"] = ["unit_unknown"]
    if agency and agency not in agencies:
        errors["agency"] = ["agency_unknown"]
    if role in ("officer", "admin") and agency:
        errors["agency"] = ["agency_not_for_role"]
    if role in ("liaison", "admin") and unit:
        errors["unit"] = ["unit_not_for_role"]
    if area and role not in ("supervisor", "admin"):
        errors["area"] = ["area_not_for_role"]
    elif area and area not in areas:
        errors["area"] = ["area_unknown"]
    elif area and role == "admin" and area != NATIONAL:
        errors["area"] = ["area_admin_national"]
    if role == "supervisor" and not (unit or area) and "unit" not in errors:
        errors["area"] = ["area_or_unit_required"]
    return errors


def create(
    manager: Manager,
    *,
    username: str,
    display_name: str,
    role: str,
    unit: str | None,
    agency: str | None,
    units: Container[str],
    agencies: Container[str],
    existing: Account | None,
    now: datetime,
    area: str | None = None,
    areas: Container[str] = (),
) -> AccountCreated:
    errors = check_scope(role, unit, agency, units=units, agencies=agencies, area=area, areas=areas)
    if not valid_username(username):
        errors["username"] = ["username_format"]
    elif existing is not None:
        errors["username"] = ["username_taken"]
    if problem := _name_problem(display_name):
        errors["display_name"] = problem
    if errors:
        raise AccountRuleError(errors)
    _require(manager, role, unit)
    return AccountCreated(
        username=username,
        display_name=display_name.strip(),
        role=role,
        unit=unit or None,
        agency=agency or None,
        area=area or None,
        occurred_at=now,
        actor=manager.actor,
    )


def change_scope(
    manager: Manager,
    account: Account,
    *,
    display_name: str,
    role: str,
    unit: str | None,
    agency: str | None,
    units: Container[str],
    agencies: Container[str],
    now: datetime,
    area: str | None = None,
    areas: Container[str] = (),
) -> list[AccountScopeChanged]:
    _require(manager, account.role, account.unit)
    errors = check_scope(role, unit, agency, units=units, agencies=agencies, area=area, areas=areas)
    if problem := _name_problem(display_name):
        errors["display_name"] = problem
    if manager.username == account.username and role != account.role:
        errors["role"] = ["own_role"]
    if errors:
        raise AccountRuleError(errors)
    _require(manager, role, unit)
    new = (display_name.strip(), role, unit or None, agency or None, area or None)
    if new == (account.display_name, account.role, account.unit, account.agency, account.area):
        return []
    return [
        AccountScopeChanged(
            username=account.username,
            display_name=new[0],
            role=role,
            unit=new[2],
            agency=new[3],
            area=new[4],
            occurred_at=now,
            actor=manager.actor,
        )
    ]


def reset_password(manager: Manager, account: Account, now: datetime) -> PasswordReset:
    _require(manager, account.role, account.unit)
    return PasswordReset(username=account.username, occurred_at=now, actor=manager.actor)


def change_own_password(
    account: Account, new_password: str, now: datetime, current_ok: bool
) -> PasswordChanged:
    """The user sets their password (after proving the current or one-time one)."""
    errors = password_problems(new_password, account.username)
    if not current_ok:
        errors["current_password"] = ["wrong_password"]
    if not account.active:
        errors["username"] = ["deactivated"]
    if errors:
        raise AccountRuleError(errors)
    return PasswordChanged(
        username=account.username, occurred_at=now, actor=f"{account.role}:{account.username}"
    )


def deactivate(
    manager: Manager, account: Account, now: datetime, reason: str = ""
) -> list[AccountDeactivated]:
    _require(manager, account.role, account.unit)
    if manager.username == account.username:
        raise AccountRuleError({"username": ["own_account"]})
    if not account.active:
        return []
    return [
        AccountDeactivated(
            username=account.username, occurred_at=now, actor=manager.actor, reason=reason
        )
    ]


def reactivate(manager: Manager, account: Account, now: datetime) -> list[AccountReactivated]:
    _require(manager, account.role, account.unit)
    if account.active:
        return []
    return [AccountReactivated(username=account.username, occurred_at=now, actor=manager.actor)]


def password_problems(password: str, username: str) -> dict[str, list[str]]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append("password_short")
    if username and username.lower() in password.lower():
        problems.append("password_has_username")
    if len(set(password)) < 4:
        problems.append("password_repetitive")
    return {"new_password": problems} if problems else {}


# --- integration tokens -------------------------------------------------------------------

# What another system's key may do:
#   liaison: an agency's system acting as that agency's liaison (status updates on its cases);
#   open311: an organisation's app filing new requests through Open311 (nothing else).
TOKEN_PURPOSES = ("liaison", "open311")


@dataclass(frozen=True, kw_only=True)
class IntegrationTokenIssued:
    token_id: str
    name: str
    agency: str | None
    occurred_at: datetime
    actor: str
    purpose: str = "liaison"


@dataclass(frozen=True, kw_only=True)
class IntegrationTokenRevoked:
    token_id: str
    occurred_at: datetime
    actor: str


def issue_integration_token(
    manager: Manager,
    *,
    token_id: str,
    name: str,
    agency: str | None,
    agencies: Container[str],
    now: datetime,
    purpose: str = "liaison",
) -> IntegrationTokenIssued:
    """Only admins bind another system to the platform: an agency's system (bound to that
    agency) or an organisation's Open311 app (named, bound to no agency)."""
    errors: dict[str, list[str]] = {}
    if problem := _name_problem(name):
        errors["name"] = problem
    elif len(name) > 120:
        errors["name"] = ["invalid_characters"]
    if purpose not in TOKEN_PURPOSES:
        errors["purpose"] = ["purpose_unknown"]
    elif purpose == "liaison" and agency not in agencies:
        errors["agency"] = ["agency_unknown"]
    if errors:
        raise AccountRuleError(errors)
    if manager.role != "admin":
        raise NotPermitted("only an admin issues integration tokens")
    return IntegrationTokenIssued(
        token_id=token_id,
        name=name.strip(),
        agency=agency if purpose == "liaison" else None,
        purpose=purpose,
        occurred_at=now,
        actor=manager.actor,
    )


def revoke_integration_token(
    manager: Manager, token_id: str, already_revoked: bool, now: datetime
) -> list[IntegrationTokenRevoked]:
    if manager.role != "admin":
        raise NotPermitted("only an admin revokes integration tokens")
    if already_revoked:
        return []
    return [IntegrationTokenRevoked(token_id=token_id, occurred_at=now, actor=manager.actor)]
