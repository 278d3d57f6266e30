"""Account rules, pure: scope from the directory, who may manage whom, the fold."""

from datetime import UTC, datetime, timedelta

import pytest

from followup_service.accounts import domain
from followup_service.accounts.domain import AccountRuleError, Manager, NotPermitted

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
UNITS = frozenset({"polsek-cikande", "polsek-krangkeng"})
AGENCIES = frozenset({"dishub-3604", "pln-up3"})
ADMIN = Manager("ayu", "admin")
SUPERVISOR = Manager("sari", "supervisor", unit="polsek-cikande")


def _create(manager=ADMIN, existing=None, **fields):
    values = {
        "username": "rina",
        "display_name": "Rina W.",
        "role": "liaison",
        "unit": None,
        "agency": "dishub-3604",
        **fields,
    }
    return domain.create(
        manager, units=UNITS, agencies=AGENCIES, existing=existing, now=T0, **values
    )


def test_a_created_account_must_change_its_one_time_password_and_records_the_manager():
    account = domain.fold([_create()])
    assert account.active and account.must_change_password and account.version == 1
    assert _create().actor == "admin:ayu"


@pytest.mark.parametrize(
    "fields,field,code",
    [
        ({"role": "officer", "agency": None}, "unit", "unit_required"),
        ({"agency": None}, "agency", "agency_required"),
        ({"agency": "dinas-karangan"}, "agency", "agency_unknown"),
        ({"role": "officer", "agency": None, "unit": "polsek-mars"}, "unit", "unit_unknown"),
        ({"role": "admin"}, "agency", "agency_not_for_role"),
        ({"role": "overlord"}, "role", "role_unknown"),
        ({"username": "Rina Spasi"}, "username", "username_format"),
        ({"display_name": "  "}, "display_name", "required"),
    ],
)
def test_bad_scope_or_names_give_field_codes(fields, field, code):
    with pytest.raises(AccountRuleError) as caught:
        _create(**fields)
    assert code in caught.value.messages[field]


def test_a_username_is_taken_once():
    existing = domain.fold([_create()])
    with pytest.raises(AccountRuleError) as caught:
        _create(existing=existing)
    assert caught.value.messages == {"username": ["username_taken"]}


def test_a_supervisor_manages_only_the_officers_of_their_own_unit():
    officer = {"role": "officer", "agency": None, "unit": "polsek-cikande", "username": "budi"}
    assert _create(SUPERVISOR, **officer).role == "officer"
    with pytest.raises(NotPermitted):
        _create(SUPERVISOR, **{**officer, "unit": "polsek-krangkeng"})
    with pytest.raises(NotPermitted):
        _create(SUPERVISOR)  # a liaison
    with pytest.raises(NotPermitted):
        _create(Manager("nounit", "supervisor"), **officer)
    liaison = domain.fold([_create()])
    with pytest.raises(NotPermitted):
        domain.deactivate(SUPERVISOR, liaison, T0)


def test_every_change_that_matters_ends_earlier_sessions():
    account = domain.fold([_create()])
    later = T0 + timedelta(minutes=5)
    for events in (
        domain.deactivate(ADMIN, account, later),
        [domain.reset_password(ADMIN, account, later)],
        domain.change_scope(
            ADMIN,
            account,
            display_name="Rina W.",
            role="liaison",
            unit=None,
            agency="pln-up3",
            units=UNITS,
            agencies=AGENCIES,
            now=later,
        ),
    ):
        assert domain.fold([_create(), *events]).sessions_valid_after == later


def test_deactivation_and_reactivation_are_idempotent_and_not_of_oneself():
    account = domain.fold([_create()])
    off = domain.apply(account, domain.deactivate(ADMIN, account, T0)[0])
    assert not off.active and domain.deactivate(ADMIN, off, T0) == []
    assert domain.reactivate(ADMIN, account, T0) == []
    me = domain.fold([_create(username="ayu", role="admin", agency=None)])
    with pytest.raises(AccountRuleError):
        domain.deactivate(ADMIN, me, T0)


def test_an_unchanged_scope_appends_nothing_and_nobody_changes_their_own_role():
    account = domain.fold([_create()])
    same = dict(display_name="Rina W.", role="liaison", unit=None, agency="dishub-3604")
    assert domain.change_scope(ADMIN, account, units=UNITS, agencies=AGENCIES, now=T0, **same) == []
    me = domain.fold([_create(username="ayu", role="admin", agency=None)])
    with pytest.raises(AccountRuleError) as caught:
        domain.change_scope(
            ADMIN,
            me,
            display_name="Ayu",
            role="supervisor",
            unit="polsek-cikande",
            agency=None,
            units=UNITS,
            agencies=AGENCIES,
            now=T0,
        )
    assert caught.value.messages == {"role": ["own_role"]}


AREAS = frozenset({"national", "36", "36.04", "36.04.15"})


@pytest.mark.parametrize(
    "role, unit, agency, area, problem",
    [
        ("supervisor", None, None, "36.04", None),  # an area instead of a unit
        ("supervisor", "polsek-cikande", None, None, None),  # the unit's area
        ("supervisor", None, None, None, ("area", "area_or_unit_required")),
        ("supervisor", None, None, "99.99", ("area", "area_unknown")),
        ("admin", None, None, "national", None),
        ("admin", None, None, "36", ("area", "area_admin_national")),
        ("officer", "polsek-cikande", None, "36", ("area", "area_not_for_role")),
        ("liaison", None, "dishub-3604", "national", ("area", "area_not_for_role")),
    ],
)
def test_a_supervisor_has_a_unit_or_an_area_and_an_admins_only_area_is_national(
    role, unit, agency, area, problem
):
    """Issue 27: the scope an admin sets on an account, kept in its events."""
    fields = dict(role=role, unit=unit, agency=agency, area=area, areas=AREAS)
    if problem is None:
        assert domain.fold([_create(**fields)]).area == area
    else:
        with pytest.raises(AccountRuleError) as caught:
            _create(**fields)
        assert caught.value.messages == {problem[0]: [problem[1]]}


def test_accounts_made_before_areas_fold_with_none_and_a_change_sets_one():
    old = domain.AccountCreated(
        username="sari", display_name="Sari", role="supervisor", unit="polsek-cikande",
        occurred_at=T0, actor="admin:ayu",
    )  # fmt: skip
    account = domain.fold([old])
    assert account.area is None and account.unit == "polsek-cikande"
    [changed] = domain.change_scope(
        ADMIN, account, display_name="Sari", role="supervisor", unit=None, agency=None,
        area="36.04", areas=AREAS, units=UNITS, agencies=AGENCIES, now=T0,
    )  # fmt: skip
    assert domain.apply(account, changed).area == "36.04"


@pytest.mark.parametrize(
    "password,code",
    [
        ("pendek", "password_short"),
        ("rina-rahasia-1", "password_has_username"),
        ("a" * 12, "password_repetitive"),
    ],
)
def test_passwords_follow_the_rules(password, code):
    account = domain.fold([_create()])
    with pytest.raises(AccountRuleError) as caught:
        domain.change_own_password(account, password, T0, current_ok=True)
    assert code in caught.value.messages["new_password"]
    changed = domain.change_own_password(account, "jalan-mulus-7", T0, current_ok=True)
    assert not domain.apply(account, changed).must_change_password


def test_only_admins_issue_and_revoke_integration_tokens():
    issued = domain.issue_integration_token(
        ADMIN, token_id="t" * 32, name="SIPD", agency="pln-up3", agencies=AGENCIES, now=T0
    )
    assert issued.agency == "pln-up3"
    with pytest.raises(NotPermitted):
        domain.issue_integration_token(
            SUPERVISOR, token_id="t" * 32, name="SIPD", agency="pln-up3", agencies=AGENCIES, now=T0
        )
    with pytest.raises(AccountRuleError):
        domain.issue_integration_token(
            ADMIN, token_id="t" * 32, name="SIPD", agency="dinas-x", agencies=AGENCIES, now=T0
        )
    assert domain.revoke_integration_token(ADMIN, "t" * 32, already_revoked=True, now=T0) == []


def test_an_open311_key_is_bound_to_no_agency_and_a_liaison_key_needs_one():
    issued = domain.issue_integration_token(
        ADMIN,
        token_id="t" * 32,
        name="Aplikasi Desa",
        agency="pln-up3",  # ignored: an Open311 app acts for no agency
        agencies=AGENCIES,
        now=T0,
        purpose="open311",
    )
    assert (issued.purpose, issued.agency) == ("open311", None)
    with pytest.raises(AccountRuleError) as caught:
        domain.issue_integration_token(
            ADMIN, token_id="t" * 32, name="SIPD", agency=None, agencies=AGENCIES, now=T0
        )
    assert caught.value.messages == {"agency": ["agency_unknown"]}
    with pytest.raises(AccountRuleError) as caught:
        domain.issue_integration_token(
            ADMIN, token_id="t" * 32, name="X", agency=None, agencies=AGENCIES, now=T0, purpose="y"
        )
    assert caught.value.messages == {"purpose": ["purpose_unknown"]}
